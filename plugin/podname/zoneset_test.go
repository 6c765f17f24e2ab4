package podname

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	"github.com/podname/podname/plugin/podname/internal/kube"
	"github.com/podname/podname/plugin/podname/internal/podtest"
	api "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSerialNewer(t *testing.T) {
	for _, tc := range []struct {
		a, b uint32
		want bool
	}{
		{1, 0, true},
		{0, 1, false},
		{7, 7, false},
		{0x7fffffff, 0, true},
		{0x80000000, 0, false}, // exactly half way: undefined, never newer
		{0, 0x80000000, false},
		{0, 0xffffffff, true}, // across the wrap
		{5, 0xfffffffb, true},
		{0xfffffffb, 5, false},
	} {
		if got := serialNewer(tc.a, tc.b); got != tc.want {
			t.Errorf("serialNewer(%d, %d) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// serials returns each zone's serial, by zone.
func serials(p *PodName) map[string]uint32 {
	out := map[string]uint32{}
	for _, z := range p.Zones {
		out[z] = p.serial(z)
	}
	return out
}

// soaSerial is the serial ServeDNS gives in zone's SOA.
func soaSerial(t *testing.T, p *PodName, zone string) uint32 {
	t.Helper()
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	if _, err := p.ServeDNS(context.Background(), rec, new(dns.Msg).SetQuestion(zone, dns.TypeSOA)); err != nil {
		t.Fatal(err)
	}
	return rec.Msg.Answer[0].(*dns.SOA).Serial
}

// TestSerialStepsPerZone: a zone's serial moves to the version of an event
// that changes its records, and only then; zones of one stanza move apart.
func TestSerialStepsPerZone(t *testing.T) {
	p := newTestPlugin(t, seedStanza, seedPods(), nil)
	const fwd, v4, v6 = zone, "in-addr.arpa.", "ip6.arpa."
	ws := func(ips []string, opts ...podtest.PodOpt) *kube.Pod {
		return kube.Project(podtest.Pod("default", "n-1", ips, opts...))
	}
	var held *kube.Pod
	pod := func(cur *kube.Pod) {
		p.onPod(held, cur)
		held = cur
	}
	svc := func(rv uint64, sel map[string]string) {
		p.onService(nil, serviceAt("default", "ws", sel, rv))
	}
	steps := []struct {
		what   string
		change func()
		want   map[string]uint32
	}{
		{"a pod with an IPv4 address", func() { pod(ws([]string{"10.36.0.100"}, podtest.ResourceVersion(10))) },
			map[string]uint32{fwd: 10, v4: 10, v6: 0}},
		{"an update that changes no record", func() {
			pod(ws([]string{"10.36.0.100"}, podtest.ResourceVersion(11), func(p *api.Pod) { p.Annotations = map[string]string{"a": "b"} }))
		}, map[string]uint32{fwd: 10, v4: 10, v6: 0}},
		{"its address moves to IPv6", func() { pod(ws([]string{"fd00::100"}, podtest.ResourceVersion(12))) },
			map[string]uint32{fwd: 12, v4: 12, v6: 12}},
		{"a Service selects it: only names change", func() { svc(13, map[string]string{"app": "ws"}) },
			map[string]uint32{fwd: 13, v4: 12, v6: 12}},
		{"a Service change that selects the same", func() { svc(14, map[string]string{"app": "ws"}) },
			map[string]uint32{fwd: 13, v4: 12, v6: 12}},
		{"new labels leave the Service", func() {
			pod(ws([]string{"fd00::100"}, podtest.ResourceVersion(15), podtest.Labels(map[string]string{"app": "other"})))
		}, map[string]uint32{fwd: 15, v4: 12, v6: 12}},
		{"another pod comes and goes", func() {
			p.onPod(nil, kube.Project(podtest.Pod("kube-system", "x", []string{"10.99.0.1"}, podtest.ResourceVersion(16))))
			p.onPod(kube.Project(podtest.Pod("kube-system", "x", []string{"10.99.0.1"}, podtest.ResourceVersion(17))), nil)
		}, map[string]uint32{fwd: 17, v4: 17, v6: 12}},
		{"deleted", func() { pod(nil) }, map[string]uint32{fwd: 17, v4: 17, v6: 17}},
	}
	for _, s := range steps {
		s.change()
		if got := serials(p); fmt.Sprint(got) != fmt.Sprint(s.want) {
			t.Fatalf("%s: serials %v, want %v", s.what, got, s.want)
		}
		for z, want := range s.want {
			if got := soaSerial(t, p, z); got != want {
				t.Fatalf("%s: SOA of %s has serial %d, want %d", s.what, z, got, want)
			}
		}
	}
}

// TestSerialOlderEvents: an event no newer than one seen was replayed by a
// list: it stands for the version the informer synced to, keeps a serial
// no transfer has given out, and takes the next one otherwise.
func TestSerialOlderEvents(t *testing.T) {
	p := newTestPlugin(t, `podname mgmt.pix.yun.com`, nil, nil)
	synced := uint64(50)
	p.zs.podsSynced = func() uint64 { return synced }
	held := map[string]*kube.Pod{}
	add := func(name string, rv int) {
		held[name] = kube.Project(podtest.Pod("default", name, []string{"10.0.0.1"}, podtest.ResourceVersion(rv)))
		p.onPod(nil, held[name])
	} // podtest.ResourceVersion(0) gives "0", which is malformed
	add("a", 40)
	if got := p.serial(zone); got != 40 {
		t.Fatalf("serial %d after a watch event at 40", got)
	}
	synced = 45
	p.onPod(held["a"], held["a"]) // a relist replays a pod unchanged
	if got := p.serial(zone); got != 40 {
		t.Fatalf("serial %d after a relist that changed nothing", got)
	}
	synced = 50
	add("b", 30) // a relist's: older than what the watch gave
	if got := p.serial(zone); got != 50 {
		t.Fatalf("serial %d after a relisted change, want the synced version 50", got)
	}
	add("c", 35)
	if got := p.serial(zone); got != 50 {
		t.Fatalf("serial %d: a second change of the same relist moved it from 50", got)
	}
	p.zs.byName[zone].served.Store(true)
	add("d", 36)
	if got := p.serial(zone); got != 51 {
		t.Fatalf("serial %d: a change after serial 50 was given out must take 51", got)
	}
	add("e", 60)
	if got := p.serial(zone); got != 60 {
		t.Fatalf("serial %d after a watch event at 60", got)
	}
	synced = 70
	p.onPod(held["b"], nil) // a relist without b: the store hands over b as held, at 30
	if got := p.serial(zone); got != 70 {
		t.Fatalf("serial %d after a relist's deletion, want the synced version 70", got)
	}
	add("f", 0) // malformed: no version
	if got := p.serial(zone); got != 70 {
		t.Fatalf("serial %d after a change without a version, want 70 (no transfer gave it out)", got)
	}
	p.zs.byName[zone].served.Store(true)
	add("g", 0)
	if got := p.serial(zone); got != 71 {
		t.Fatalf("serial %d after a change without a version once 70 was given out, want 71", got)
	}
}

// TestSerialAfterRestart: a stanza that lists a cluster afresh starts at
// the list's version, never below the serial a running stanza reached from
// the same cluster's events; having seen the same, they agree.
func TestSerialAfterRestart(t *testing.T) {
	client, podWatches := watchedClient()
	version := 1 // the fake's own counter: each create or update adds one
	pods := client.CoreV1().Pods("default")
	write := func(pod *api.Pod, create bool) {
		t.Helper()
		version++
		pod.ResourceVersion = strconv.Itoa(version)
		var err error
		if create {
			_, err = pods.Create(context.Background(), pod, meta.CreateOptions{})
		} else {
			_, err = pods.Update(context.Background(), pod, meta.UpdateOptions{})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	running := startedPlugin(t, client, podWatches)
	write(podtest.Pod("default", "ws-1", []string{"10.36.0.1"}), true)
	write(podtest.Pod("default", "ws-2", []string{"10.36.0.2"}), true)
	write(podtest.Pod("default", "ws-1", []string{"10.36.0.3"}), false)
	write(podtest.Pod("default", "ws-2", []string{"10.36.0.2"}, podtest.Labels(map[string]string{"app": "db"})), false)
	podtest.WaitFor(t, "the running stanza's serial", func() bool { return running.serial(zone) == uint32(version-1) })
	restarted := startedPlugin(t, client, podWatches, func(p *PodName) { p.conn.Endpoint = "http://fake-restarted" })
	if got, was := restarted.serial(zone), running.serial(zone); serialNewer(was, got) || got != uint32(version) {
		t.Fatalf("restarted serial %d, running %d: want the list's version %d, not older", got, was, version)
	}
}
