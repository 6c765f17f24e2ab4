package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/harness"

	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestReverse asks, on the two examples that own reverse zones, for the PTR
// of every pod IP (the pod's name in mgmt.pix.yun.com, which resolves back
// to the IP), AAAA of an IPv4-only pod (NODATA), an unknown name
// (NXDOMAIN), the PTR of a Service's ClusterIP (the kubernetes plugin's
// name for it), and the PTR of an IP in podname's reverse zone that no pod
// holds (passed on to the next plugin, never podname's NXDOMAIN).
func TestReverse(t *testing.T) {
	ns := harness.Namespace(t, kube.Client(), "reverse")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	svc, err := kube.Client().CoreV1().Services(ns).Create(ctx, harness.WSService(ns), meta.CreateOptions{})
	if err != nil {
		t.Fatalf("create service %s/ws: %v", ns, err)
	}
	if ip, err := netip.ParseAddr(svc.Spec.ClusterIP); err != nil || !ip.Is4() {
		t.Fatalf("service %s/ws has ClusterIP %q, want an IPv4 address", ns, svc.Spec.ClusterIP)
	}
	if _, err := kube.Client().AppsV1().Deployments(ns).Create(ctx, harness.WSDeployment(ns, 3), meta.CreateOptions{}); err != nil {
		t.Fatalf("create deployment %s/ws: %v", ns, err)
	}
	pods := harness.Running(ctx, t, kube.Client(), ns, "app=ws", 3)
	unheld := unheldPodIP(t)

	// The zone podname owns the PTRs in: in-addr.arpa. in the Corefile
	// example, the pod CIDR's 10.244.0.0/16 in reverse.Corefile.
	for _, tc := range []struct{ example, reverseZone string }{
		{"reverse.Corefile", "244.10.in-addr.arpa."},
		{"Corefile", "in-addr.arpa."},
	} {
		t.Run(tc.example, func(t *testing.T) {
			c := harness.StartExample(t, tc.example, kube.Kubeconfig())
			harness.Serving(ctx, t, c, zone)

			for _, p := range pods {
				arpa := mustReverse(t, p.Status.PodIP)
				host := p.Name + "." + zone + "."
				if err := ask(c.Addr(), arpa, dns.TypePTR, pointer(host)); err != nil {
					t.Errorf("PTR of pod %s: %v", p.Name, err)
				}
				if err := ask(c.Addr(), host, dns.TypeA, addresses(p.Status.PodIP)); err != nil {
					t.Errorf("A of pod %s, the PTR's target: %v", p.Name, err)
				}
				if err := ask(c.Addr(), host, dns.TypeAAAA, nodata(zone)); err != nil {
					t.Errorf("AAAA of IPv4-only pod %s: %v", p.Name, err)
				}
			}
			if err := ask(c.Addr(), "no-such-pod."+zone, dns.TypeA, nxdomain(zone)); err != nil {
				t.Errorf("unknown name: %v", err)
			}

			svcName := fmt.Sprintf("ws.%s.svc.cluster.local.", ns)
			if err := ask(c.Addr(), mustReverse(t, svc.Spec.ClusterIP), dns.TypePTR, pointer(svcName)); err != nil {
				t.Errorf("PTR of service %s/ws's ClusterIP %s: %v", ns, svc.Spec.ClusterIP, err)
			}

			// An IP no pod holds in podname's reverse zone: podname passes
			// it on (counted as fallthrough), and nothing after it has a
			// name for it; the upstream forward uses is a closed loopback
			// port, so the reply is not podname's NXDOMAIN but SERVFAIL.
			before := fallthroughs(ctx, t, c, tc.reverseZone)
			if err := ask(c.Addr(), mustReverse(t, unheld), dns.TypePTR, rcodeIs(dns.RcodeServerFailure)); err != nil {
				t.Errorf("PTR of %s, which no pod holds: %v", unheld, err)
			}
			// The Go client's question passes podname; dig's may be
			// answered by the cache plugin in front of it.
			if after := fallthroughs(ctx, t, c, tc.reverseZone); after < before+1 {
				t.Errorf("PTR of %s, which no pod holds: podname's fallthrough count in %s went from %v to %v, want it to grow",
					unheld, tc.reverseZone, before, after)
			}
		})
	}
}

// unheldPodIP returns an address inside 10.244.0.0/16, the reverse zone
// reverse.Corefile gives podname, but outside the node's pod CIDR, so no pod
// holds it now or while the test runs.
func unheldPodIP(t *testing.T) string {
	t.Helper()
	cidr, err := netip.ParsePrefix(kube.PodCIDR())
	if err != nil {
		t.Fatalf("pod CIDR %q: %v", kube.PodCIDR(), err)
	}
	zone := netip.MustParsePrefix("10.244.0.0/16")
	for _, ip := range []string{"10.244.255.254", "10.244.254.254"} {
		a := netip.MustParseAddr(ip)
		if zone.Contains(a) && !cidr.Contains(a) {
			return ip
		}
	}
	t.Fatalf("pod CIDR %s leaves no address of %s free for the test", cidr, zone)
	return ""
}

// fallthroughs is podname's count of questions in reverseZone it passed to
// the next plugin.
func fallthroughs(ctx context.Context, t *testing.T, c *harness.CoreDNS, reverseZone string) float64 {
	t.Helper()
	n, _, err := c.Metric(ctx, "coredns_podname_requests_total", map[string]string{"zone": reverseZone, "result": "fallthrough"})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustReverse(t *testing.T, ip string) string {
	t.Helper()
	arpa, err := dns.ReverseAddr(ip)
	if err != nil {
		t.Fatalf("reverse name of %q: %v", ip, err)
	}
	return arpa
}
