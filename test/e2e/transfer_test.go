package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/harness"

	corev1 "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// reverseZone is the reverse zone of the test cluster's pod CIDR, 10.244.0.0/24.
const reverseZone = "0.244.10.in-addr.arpa."

// xfrCorefile is a primary for zone and reverseZone that answers pods of ns, transfers to and
// notifies the secondaries at to, and, with key set, wants every transfer signed with it.
func xfrCorefile(ns string, key *harness.TSIGKey, to ...string) string {
	tsig := ""
	if key != nil {
		tsig = fmt.Sprintf("    tsig {\n        secret %s %s\n        require AXFR IXFR\n    }\n", key.Name, key.Secret)
	}
	return fmt.Sprintf(`.:53 {
    errors
    ready
    prometheus :9153
%s    transfer %s %s {
        to %s
    }
    podname %s %s {
        namespaces %s
    }
}
`, tsig, zone, reverseZone, strings.Join(to, " "), zone, reverseZone, ns)
}

// startSecondaries starts BIND and Knot on free loopback ports, each a secondary of primary for
// zone and reverseZone, and stops them when t ends.
func startSecondaries(t *testing.T, primary string, key *harness.TSIGKey, addrs [2]string) []*harness.Secondary {
	t.Helper()
	var out []*harness.Secondary
	for i, start := range []func(string, harness.SecondaryOptions) (*harness.Secondary, error){harness.StartBIND, harness.StartKnot} {
		s, err := start(t.TempDir(), harness.SecondaryOptions{Addr: addrs[i], Primary: primary, Zones: []string{zone, reverseZone}, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Stop(); err != nil {
				t.Errorf("stop %s: %v", s.Kind, err)
			}
			if t.Failed() {
				t.Logf("%s log:\n%s", s.Kind, s.Log())
			}
		})
		out = append(out, s)
	}
	return out
}

// secondaryAddrs picks two free loopback addresses for BIND and Knot.
func secondaryAddrs(t *testing.T) [2]string {
	t.Helper()
	ports, err := harness.FreePorts("127.0.0.1", 2)
	if err != nil {
		t.Fatal(err)
	}
	return [2]string{fmt.Sprintf("127.0.0.1:%d", ports[0]), fmt.Sprintf("127.0.0.1:%d", ports[1])}
}

// serial is the serial of zone's SOA at server.
func serial(t *testing.T, server, zone string) uint32 {
	t.Helper()
	n, err := harness.Serial(server, zone)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitInSync waits until every secondary serves both zones at the primary's serials.
func waitInSync(ctx context.Context, t *testing.T, primary string, secs []*harness.Secondary) {
	t.Helper()
	for _, z := range []string{zone, reverseZone} {
		want := serial(t, primary, z)
		for _, s := range secs {
			if err := s.WaitSerial(ctx, z, want); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// samePTRs wants every secondary to give each pod IP the PTR the primary gives it.
func samePTRs(t *testing.T, primary string, secs []*harness.Secondary, ips []string) {
	t.Helper()
	for _, ip := range ips {
		name, err := dns.ReverseAddr(ip)
		if err != nil {
			t.Fatal(err)
		}
		want, err := harness.Query(primary, name, dns.TypePTR)
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Answer) != 1 {
			t.Fatalf("PTR %s at podname: %s %v", ip, dns.RcodeToString[want.Rcode], want.Answer)
		}
		target := want.Answer[0].(*dns.PTR).Ptr
		for _, s := range secs {
			if err := ask(s.Addr, name, dns.TypePTR, pointer(target)); err != nil {
				t.Errorf("%s: %v", s.Kind, err)
			}
		}
	}
}

// allIPs are the IPs of pods.
func allIPs(pods []corev1.Pod) []string {
	var ips []string
	for _, p := range pods {
		ips = append(ips, harness.PodIPs(p)...)
	}
	return ips
}

// TestSecondaries runs BIND and Knot as secondaries of podname for the forward zone and the
// pod CIDR's reverse zone, and follows every pod of a Deployment on both from the moment the
// API shows its IP until its name is NXDOMAIN after it is gone (followPods), through a rollout,
// a scale-up, a restart of podname, and a scale-down: a secondary may answer late, never wrong.
// After the first full transfer of each zone, small changes must come as incremental transfers
// (the secondaries' logs say which). The lag from the pod's IP in the API to the right answer
// at each secondary is logged, never asserted (make bench measures it under churn).
//
// Then a second replica: BIND, restarted with its copy on disk and the replica as its only
// primary, must come to the replica's records, and follow it.
func TestSecondaries(t *testing.T) {
	ns := harness.Namespace(t, kube.Client(), "xfr")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	deployments := kube.Client().AppsV1().Deployments(ns)
	if _, err := deployments.Create(ctx, harness.WSDeployment(ns, 2), meta.CreateOptions{}); err != nil {
		t.Fatalf("create deployment %s/ws: %v", ns, err)
	}
	harness.Running(ctx, t, kube.Client(), ns, "app=ws", 2)

	addrs := secondaryAddrs(t)
	corefile := xfrCorefile(ns, nil, addrs[0], addrs[1])
	a := harness.Loopback(t, kube.Kubeconfig())
	primary := harness.Start(t, corefile, a)
	harness.Serving(ctx, t, primary, zone)
	secs := startSecondaries(t, primary.Addr(), nil, addrs)
	waitInSync(ctx, t, primary.Addr(), secs)
	f := followPods(ctx, t, ns, []dnsServer{{"bind", addrs[0]}, {"knot", addrs[1]}})

	rollOut(ctx, t, ns, 2)
	waitSettled(ctx, t, f, harness.Running(ctx, t, kube.Client(), ns, "app=ws", 2), nil)
	scale(ctx, t, ns, 6)
	waitRolledOut(ctx, t, ns, 6)
	live := harness.Running(ctx, t, kube.Client(), ns, "app=ws", 6)
	waitSettled(ctx, t, f, live, nil)
	waitInSync(ctx, t, primary.Addr(), secs)
	samePTRs(t, primary.Addr(), secs, allIPs(live))

	// A restart starts from a new list: its serials must not fall behind the secondaries'.
	before := map[string]uint32{zone: serial(t, primary.Addr(), zone), reverseZone: serial(t, primary.Addr(), reverseZone)}
	if err := primary.Stop(); err != nil {
		t.Fatal(err)
	}
	primary = harness.Start(t, corefile, a)
	harness.Serving(ctx, t, primary, zone)
	for z, old := range before {
		if now := serial(t, primary.Addr(), z); int32(now-old) < 0 {
			t.Errorf("%s: serial %d after the restart, %d before: it went backwards", z, now, old)
		}
	}
	scale(ctx, t, ns, 3)
	waitRolledOut(ctx, t, ns, 3)
	live = harness.Running(ctx, t, kube.Client(), ns, "app=ws", 3)
	waitSettled(ctx, t, f, live, nil)
	waitInSync(ctx, t, primary.Addr(), secs)
	samePTRs(t, primary.Addr(), secs, allIPs(live))
	scale(ctx, t, ns, 0)
	harness.Running(ctx, t, kube.Client(), ns, "app=ws", 0)
	delays, _ := finish(ctx, t, f)
	for _, s := range []string{"bind", "knot"} {
		d := slices.Sorted(slices.Values(delays[s]))
		if len(d) == 0 {
			t.Fatalf("%s: no pod followed", s)
		}
		t.Logf("%s: %d pods, from the IP in the API to the right answer: p50 %s, p99 %s, max %s",
			s, len(d), quantile(d, 0.5).Round(time.Millisecond), quantile(d, 0.99).Round(time.Millisecond), d[len(d)-1].Round(time.Millisecond))
	}
	for _, s := range secs {
		checkIncremental(t, s)
	}

	// A second replica, reached by BIND alone, with BIND's copy from the first.
	replica := harness.Start(t, corefile, harness.Loopback(t, kube.Kubeconfig()))
	harness.Serving(ctx, t, replica, zone)
	bind := secs[0]
	if err := bind.Stop(); err != nil {
		t.Fatal(err)
	}
	moved, err := harness.StartBIND(bind.Dir, harness.SecondaryOptions{Addr: bind.Addr, Primary: replica.Addr(), Zones: []string{zone, reverseZone}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = moved.Stop() })
	scale(ctx, t, ns, 2)
	waitRolledOut(ctx, t, ns, 2)
	live = harness.Running(ctx, t, kube.Client(), ns, "app=ws", 2)
	for _, p := range live {
		if _, err := harness.WaitAnswer(ctx, moved.Addr, p.Name+"."+zone, dns.TypeA, func(r *dns.Msg) bool {
			return addresses(p.Status.PodIP)(r) == nil
		}); err != nil {
			t.Fatalf("BIND following the second replica: %v\n%s", err, moved.Log())
		}
	}
	waitInSync(ctx, t, replica.Addr(), []*harness.Secondary{moved})
}

// checkIncremental wants every transfer of s but the first of each zone, and the first after
// the primary's restart, to be incremental; and one incremental transfer at least.
func checkIncremental(t *testing.T, s *harness.Secondary) {
	t.Helper()
	full, incremental := map[string]int{}, 0
	for _, tr := range s.Transfers() {
		if tr.Incremental {
			incremental++
		} else {
			full[tr.Zone]++
		}
	}
	t.Logf("%s: %d incremental transfers, full ones by zone %v", s.Kind, incremental, full)
	if incremental == 0 {
		t.Errorf("%s logged no incremental transfer", s.Kind)
	}
	for z, n := range full {
		if n > 2 {
			t.Errorf("%s: %d full transfers of %s, want at most 2 (the first, and the first after the restart)", s.Kind, n, z)
		}
	}
}

// TestTransferAccess: with tsig requiring signed transfers, a signed AXFR from an address the
// transfer plugin lists gets the zone, SOA first and last; an unsigned one, and a signed one
// from an unlisted address, get REFUSED; and BIND, signing with the key, follows the zone.
func TestTransferAccess(t *testing.T) {
	ns := harness.Namespace(t, kube.Client(), "xfr-access")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pod := harness.CreatePod(t, kube.Client(), ns, "signed-0")
	key := &harness.TSIGKey{Name: "xfr.podname.", Secret: "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI="}
	addrs := secondaryAddrs(t)
	c := harness.Start(t, xfrCorefile(ns, key, addrs[0]), harness.Loopback(t, kube.Kubeconfig()))
	harness.Serving(ctx, t, c, zone)

	for _, tc := range []struct {
		name   string
		source string
		key    *harness.TSIGKey
		rcode  int
	}{
		{"signed, listed address", "127.0.0.1", key, dns.RcodeSuccess},
		{"unsigned, listed address", "127.0.0.1", nil, dns.RcodeRefused},
		{"signed, unlisted address", "127.0.0.2", key, dns.RcodeRefused},
	} {
		r, err := harness.XFR(c.Addr(), new(dns.Msg).SetAxfr(dns.Fqdn(zone)), harness.XFROptions{Source: tc.source, Key: tc.key})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if r.Rcode != tc.rcode {
			t.Errorf("%s: AXFR got %s, want %s", tc.name, dns.RcodeToString[r.Rcode], dns.RcodeToString[tc.rcode])
			continue
		}
		if r.Rcode != dns.RcodeSuccess {
			continue
		}
		rrs := r.RRs
		if len(rrs) < 2 || rrs[0].Header().Rrtype != dns.TypeSOA || rrs[len(rrs)-1].Header().Rrtype != dns.TypeSOA {
			t.Errorf("%s: AXFR does not start and end with the SOA: %v", tc.name, rrs)
		}
		if !slices.ContainsFunc(rrs, func(rr dns.RR) bool {
			a, ok := rr.(*dns.A)
			return ok && a.Hdr.Name == pod.Name+"."+zone+"." && a.A.String() == pod.Status.PodIP
		}) {
			t.Errorf("%s: AXFR has no A %s for %s: %v", tc.name, pod.Status.PodIP, pod.Name, rrs)
		}
	}

	bind, err := harness.StartBIND(t.TempDir(), harness.SecondaryOptions{Addr: addrs[0], Primary: c.Addr(), Zones: []string{zone}, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = bind.Stop()
		if t.Failed() {
			t.Logf("bind log:\n%s", bind.Log())
		}
	})
	if err := bind.WaitSerial(ctx, zone, serial(t, c.Addr(), zone)); err != nil {
		t.Fatal(err)
	}
	if err := ask(bind.Addr, pod.Name+"."+zone, dns.TypeA, addresses(pod.Status.PodIP)); err != nil {
		t.Errorf("BIND with the key: %v", err)
	}
}
