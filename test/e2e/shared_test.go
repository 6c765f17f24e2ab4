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
)

// companyZone is the company DNS's own copy of the zone: hosts, and one (shared-0) whose name a
// pod also has.
const companyZone = `$ORIGIN mgmt.pix.yun.com.
$TTL 300
@        IN SOA ns1 hostmaster.pix.yun.com. 2026112801 3600 600 86400 60
@        IN NS  ns1
ns1      IN A   10.1.0.53
zk1      IN A   10.1.0.11
zk1      IN TXT "zookeeper"
shared-0 IN A   10.1.0.99
`

// TestSharedZone runs corefile-examples/shared-zone.Corefile with BIND as the company DNS that
// owns the rest of the zone: a host, an absent name and a host's missing type get exactly what
// BIND answers (answer and authority, the SOA included), pod names come from podname, and a pod
// that shares a host's name answers with its own IP.
func TestSharedZone(t *testing.T) {
	ns := harness.Namespace(t, kube.Client(), "shared")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pod := harness.CreatePod(t, kube.Client(), ns, "shared-0")

	ports, err := harness.FreePorts("127.0.0.1", 1)
	if err != nil {
		t.Fatal(err)
	}
	company, err := harness.StartBIND(t.TempDir(), harness.SecondaryOptions{
		Addr: fmt.Sprintf("127.0.0.1:%d", ports[0]), Own: map[string]string{zone: companyZone}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = company.Stop()
		if t.Failed() {
			t.Logf("bind log:\n%s", company.Log())
		}
	})
	if _, err := harness.WaitAnswer(ctx, company.Addr, "zk1."+zone, dns.TypeA, func(r *dns.Msg) bool { return len(r.Answer) == 1 }); err != nil {
		t.Fatal(err)
	}

	text := harness.ReadExample(t, "shared-zone.Corefile")
	if n := strings.Count(text, "forward . 10.1.0.53"); n != 1 {
		t.Fatalf("shared-zone.Corefile has %d lines forward . 10.1.0.53, want 1", n)
	}
	c := harness.Start(t, strings.Replace(text, "forward . 10.1.0.53", "forward . "+company.Addr, 1), harness.Loopback(t, kube.Kubeconfig()))
	harness.Serving(ctx, t, c, zone)

	for _, q := range []struct {
		name  string
		qtype uint16
	}{
		{"zk1", dns.TypeA}, {"zk1", dns.TypeTXT}, {"zk1", dns.TypeAAAA}, {"absent", dns.TypeA}, {"ns1", dns.TypeA},
	} {
		name := q.name + "." + zone
		want, err := harness.Query(company.Addr, name, q.qtype)
		if err != nil {
			t.Fatal(err)
		}
		if err := ask(c.Addr(), name, q.qtype, sameAs(want)); err != nil {
			t.Errorf("through podname's CoreDNS: %v", err)
		}
	}
	if err := ask(c.Addr(), pod.Name+"."+zone, dns.TypeA, addresses(pod.Status.PodIP)); err != nil {
		t.Errorf("a pod that shares a host's name: %v", err)
	}
}

// sameAs wants the rcode, answer and authority of want.
func sameAs(want *dns.Msg) check {
	return func(r *dns.Msg) error {
		if r.Rcode != want.Rcode || !sameRRs(r.Answer, want.Answer) || !sameRRs(r.Ns, want.Ns) {
			return fmt.Errorf("got %s %v authority %v, want %s %v authority %v", dns.RcodeToString[r.Rcode], r.Answer, r.Ns,
				dns.RcodeToString[want.Rcode], want.Answer, want.Ns)
		}
		return nil
	}
}

func sameRRs(a, b []dns.RR) bool {
	text := func(rrs []dns.RR) []string {
		var out []string
		for _, rr := range rrs {
			out = append(out, strings.ToLower(rr.String()))
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(text(a), text(b))
}
