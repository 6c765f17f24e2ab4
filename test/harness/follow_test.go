package harness

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// answers is a DNS server on loopback that answers A queries from a table the test changes:
// a name's address, or NXDOMAIN for a name not in it.
type answers struct {
	mu  sync.Mutex
	ips map[string]string
}

func (s *answers) set(name, ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ip == "" {
		delete(s.ips, name)
	} else {
		s.ips[name] = ip
	}
}

func (s *answers) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg).SetReply(r)
	s.mu.Lock()
	ip, ok := s.ips[r.Question[0].Name]
	s.mu.Unlock()
	if ok {
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: net.ParseIP(ip)}}
	} else {
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}

// TestFollower follows three pods through a fake API server and a DNS server the test drives:
// one answered, then wrong while it lives, then gone; one deleted before it answered; one that
// never answers. Each timeline says so.
func TestFollower(t *testing.T) {
	srv := &answers{ips: map[string]string{}}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := &dns.Server{PacketConn: conn, Handler: srv}
	go func() { _ = server.ActivateAndServe() }()
	t.Cleanup(func() { _ = server.Shutdown() })

	pod := func(name, ip string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
			Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip}}
	}
	client := fake.NewClientset(pod("right", "10.0.0.1"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := Follow(ctx, client, "ns", FollowOptions{
		Servers: []FollowServer{{Name: "s", Addr: conn.LocalAddr().String(), First: time.Millisecond, Most: 2 * time.Millisecond}},
		Name:    func(pod string) string { return pod + ".zone." }, LivePoll: time.Millisecond, Limit: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	pods := client.CoreV1().Pods("ns")
	for _, p := range []*corev1.Pod{pod("unshown", "10.0.0.2"), pod("silent", "10.0.0.3")} {
		if _, err := pods.Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	wait := func(what string, cond func() (bool, error)) {
		t.Helper()
		if err := Poll(ctx, what, cond); err != nil {
			t.Fatal(err)
		}
	}
	wait("every pod followed", func() (bool, error) { return len(f.Timelines()) == 3, nil })
	if err := pods.Delete(ctx, "unshown", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	srv.set("right.zone.", "10.0.0.1")
	wait("the first answer", func() (bool, error) { return f.Settled([]string{"right"}, nil) })
	srv.set("right.zone.", "10.0.0.9")
	wait("a wrong answer", func() (bool, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.timelines["right"][0].Wrong) > 0, nil
	})
	srv.set("right.zone.", "")
	if err := pods.Delete(ctx, "right", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	wait("the deleted pods' timelines to end", func() (bool, error) { return f.Settled([]string{"silent"}, []string{"right", "unshown"}) })
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	f.Stop()

	byPod := map[string]*Timeline{}
	for _, tl := range f.Timelines() {
		byPod[tl.Pod] = tl
	}
	right, unshown, silent := byPod["right"], byPod["unshown"], byPod["silent"]
	switch {
	case !right.Listed || right.Right.IsZero() || right.Gone.Before(right.Deleted) || right.Deleted.IsZero() || len(right.Wrong) == 0 || right.Unshown:
		t.Errorf("right: %+v, want listed, answered, wrong while it lived, then gone after its deletion", right)
	case unshown.Listed || !unshown.Right.IsZero() || !unshown.Unshown || unshown.Gone.IsZero() || unshown.TimedOut != nil:
		t.Errorf("unshown: %+v, want never answered, deleted, then gone", unshown)
	case silent.TimedOut == nil || *silent.TimedOut != Appear || !silent.Right.IsZero() || len(silent.Wrong) != 0:
		t.Errorf("silent: %+v, want its Appear phase past the limit, nothing wrong", silent)
	}
	if h := f.History()["right"]; len(h.Spans) != 1 || h.Spans[0].IP != "10.0.0.1" || h.Spans[0].To.IsZero() || h.Deleted.IsZero() {
		t.Errorf("history of right: %+v, want one span of 10.0.0.1, closed at its deletion", h)
	}
}
