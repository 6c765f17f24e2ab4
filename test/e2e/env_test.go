package e2e

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/harness"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// startCoreDNS runs an example Corefile with loopback ports and the test
// cluster's kubeconfig, stops it when t ends, and keeps its log if t fails.
func startCoreDNS(t *testing.T, example string) *harness.CoreDNS {
	t.Helper()
	text, err := harness.Example(example)
	if err != nil {
		t.Fatal(err)
	}
	a, err := harness.LoopbackAdjust(kube.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	return startCorefile(t, harness.AdjustCorefile(text, a), a)
}

func startCorefile(t *testing.T, corefile string, a harness.Adjust) *harness.CoreDNS {
	t.Helper()
	c, err := harness.StartCoreDNS(t.TempDir(), corefile, a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("coredns log:\n%s", c.Log())
		}
	})
	return c
}

// namespace creates a namespace for t and deletes it when t ends.
func namespace(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: meta.ObjectMeta{Name: name}}
	if _, err := kube.Client().CoreV1().Namespaces().Create(ctx, ns, meta.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = kube.Client().CoreV1().Namespaces().Delete(context.Background(), name, meta.DeleteOptions{})
	})
	return name
}

// runningPods waits until ns has exactly n Running pods with IPs matching
// selector and returns them.
func runningPods(t *testing.T, ns, selector string, n int) []corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pods, err := harness.RunningPods(ctx, kube.Client(), ns, selector, n)
	if err != nil {
		t.Fatal(err)
	}
	return pods
}

// needDig fails t in one line when dig is missing; make deps installs it.
func needDig(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("dig"); err != nil {
		t.Fatal("dig missing: run make deps (Debian package bind9-dnsutils)")
	}
}

// createPod creates a bare pod ns/name labelled app=NAME, with no controller,
// and returns it once it runs with an IP. The API server refuses pods in a
// namespace until its default ServiceAccount exists, so it waits for that
// first.
func createPod(t *testing.T, ns, name string) *corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := harness.Poll(ctx, "ServiceAccount default in "+ns, func() (bool, error) {
		_, err := kube.Client().CoreV1().ServiceAccounts(ns).Get(ctx, "default", meta.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "ws", Image: "registry.example/ws:1",
			Ports: []corev1.ContainerPort{{ContainerPort: 9999}},
		}}},
	}
	if _, err := kube.Client().CoreV1().Pods(ns).Create(ctx, pod, meta.CreateOptions{}); err != nil {
		t.Fatalf("create pod %s/%s: %v", ns, name, err)
	}
	err = harness.Poll(ctx, fmt.Sprintf("pod %s/%s running with an IP", ns, name), func() (bool, error) {
		pod, err = kube.Client().CoreV1().Pods(ns).Get(ctx, name, meta.GetOptions{})
		if err != nil {
			return false, err
		}
		return pod.Status.Phase == corev1.PodRunning && pod.Status.PodIP != "" && pod.DeletionTimestamp == nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pod
}

// deletePod deletes ns/name and waits until the API server no longer has it.
func deletePod(t *testing.T, ns, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := kube.Client().CoreV1().Pods(ns).Delete(ctx, name, meta.DeleteOptions{}); err != nil {
		t.Fatalf("delete pod %s/%s: %v", ns, name, err)
	}
	err := harness.Poll(ctx, fmt.Sprintf("pod %s/%s gone", ns, name), func() (bool, error) {
		_, err := kube.Client().CoreV1().Pods(ns).Get(ctx, name, meta.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ask sends one question to server with both clients, the Go client and the
// real dig, and returns the first failure of want on either reply.
func ask(server, name string, qtype uint16, want check) error {
	r, err := harness.Query(server, name, qtype)
	if err != nil {
		return err
	}
	if err := want(r); err != nil {
		return fmt.Errorf("%s %s (Go client): %w", dns.TypeToString[qtype], name, err)
	}
	r, err = digMsg(server, name, dns.TypeToString[qtype])
	if err != nil {
		return err
	}
	if err := want(r); err != nil {
		return fmt.Errorf("%s %s (dig): %w", dns.TypeToString[qtype], name, err)
	}
	return nil
}

// digMsg runs the real dig against server and rebuilds its reply as a
// dns.Msg (rcode, AA, answer and authority), so one check serves both clients.
func digMsg(server, name, qtype string) (*dns.Msg, error) {
	host, port, err := net.SplitHostPort(server)
	if err != nil {
		return nil, fmt.Errorf("dig %s %s: server %q: %w", name, qtype, server, err)
	}
	out, err := exec.Command("dig", "@"+host, "-p", port, "+noall", "+comments", "+answer", "+authority",
		"+tries=1", "+time=2", name, qtype).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("dig %s %s: %w: %s", name, qtype, err, out)
	}
	m, err := parseDig(string(out))
	if err != nil {
		return nil, fmt.Errorf("dig %s %s: %w\n%s", name, qtype, err, out)
	}
	return m, nil
}

func parseDig(out string) (*dns.Msg, error) {
	m := new(dns.Msg)
	header, section := false, ""
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, ";; ->>HEADER<<-"):
			_, status, ok := strings.Cut(line, "status: ")
			status, _, _ = strings.Cut(status, ",")
			rcode, known := dns.StringToRcode[status]
			if !ok || !known {
				return nil, fmt.Errorf("no status in %q", line)
			}
			m.Rcode, header = rcode, true
		case strings.HasPrefix(line, ";; flags:"):
			flags, _, _ := strings.Cut(strings.TrimPrefix(line, ";; flags:"), ";")
			m.Authoritative = slices.Contains(strings.Fields(flags), "aa")
		case strings.HasPrefix(line, ";; ") && strings.HasSuffix(line, " SECTION:"):
			section = strings.TrimSuffix(strings.TrimPrefix(line, ";; "), " SECTION:")
		case line == "" || strings.HasPrefix(line, ";"):
		default:
			rr, err := dns.NewRR(line)
			if err != nil {
				return nil, fmt.Errorf("record %q: %w", line, err)
			}
			switch section {
			case "ANSWER":
				m.Answer = append(m.Answer, rr)
			case "AUTHORITY":
				m.Ns = append(m.Ns, rr)
			default:
				return nil, fmt.Errorf("record %q outside the answer and authority sections", line)
			}
		}
	}
	if !header {
		return nil, errors.New("no header in dig's output")
	}
	return m, nil
}

// check judges a reply; its error says what is wrong with it.
type check func(*dns.Msg) error

// addresses wants NOERROR with exactly these A or AAAA addresses.
func addresses(ips ...string) check {
	return func(r *dns.Msg) error {
		got := harness.Addresses(r)
		slices.Sort(got)
		want := slices.Sorted(slices.Values(ips))
		if r.Rcode != dns.RcodeSuccess || !slices.Equal(got, want) {
			return fmt.Errorf("got %s %v, want NOERROR %v", dns.RcodeToString[r.Rcode], got, want)
		}
		return nil
	}
}

// pointer wants NOERROR with exactly one PTR to target.
func pointer(target string) check {
	return func(r *dns.Msg) error {
		var got []string
		for _, rr := range r.Answer {
			if p, ok := rr.(*dns.PTR); ok {
				got = append(got, p.Ptr)
			}
		}
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || !slices.Equal(got, []string{target}) {
			return fmt.Errorf("got %s %v, want NOERROR PTR %s", dns.RcodeToString[r.Rcode], r.Answer, target)
		}
		return nil
	}
}

// nxdomain wants NXDOMAIN, no answer, and zone's SOA in authority.
func nxdomain(zone string) check { return negative(dns.RcodeNameError, zone) }

// nodata wants NOERROR, no answer, and zone's SOA in authority.
func nodata(zone string) check { return negative(dns.RcodeSuccess, zone) }

func negative(rcode int, zone string) check {
	return func(r *dns.Msg) error {
		want := fmt.Sprintf("%s, no answer, SOA %s in authority", dns.RcodeToString[rcode], dns.Fqdn(zone))
		if r.Rcode != rcode || len(r.Answer) != 0 || len(r.Ns) != 1 {
			return fmt.Errorf("got %s answer %v authority %v, want %s", dns.RcodeToString[r.Rcode], r.Answer, r.Ns, want)
		}
		if soa, ok := r.Ns[0].(*dns.SOA); !ok || !strings.EqualFold(soa.Hdr.Name, dns.Fqdn(zone)) {
			return fmt.Errorf("got authority %v, want %s", r.Ns, want)
		}
		return nil
	}
}

// rcodeIs wants the rcode alone.
func rcodeIs(rcode int) check {
	return func(r *dns.Msg) error {
		if r.Rcode != rcode {
			return fmt.Errorf("got %s %v, want %s", dns.RcodeToString[r.Rcode], r.Answer, dns.RcodeToString[rcode])
		}
		return nil
	}
}

// waitServing waits for /ready, for the DNS listener, and for the apex SOA
// of zone: /ready answers 200 once the plugins have synced, a moment before
// the DNS listener opens.
func waitServing(ctx context.Context, t *testing.T, c *harness.CoreDNS, zone string) {
	t.Helper()
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	waitListening(ctx, t, c)
	_, err := harness.WaitAnswer(ctx, c.Addr(), zone, dns.TypeSOA, func(r *dns.Msg) bool {
		return r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitListening waits until coredns logs that it serves DNS on its port
// (`.:PORT on ADDR`). Until then a reply on the port would come from some
// other process that took the port between FreePorts and coredns, and no
// reply at all is no sign of what coredns would answer.
func waitListening(ctx context.Context, t *testing.T, c *harness.CoreDNS) {
	t.Helper()
	line := fmt.Sprintf(":%d on %s", c.Adjust.DNSPort, c.Adjust.Bind)
	err := harness.Poll(ctx, "coredns log line "+line, func() (bool, error) {
		if c.Exited() {
			return false, errors.New("coredns exited")
		}
		return strings.Contains(c.Log(), line), nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, c.Log())
	}
}
