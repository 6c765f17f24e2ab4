package faults

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/harness"
)

// TestIPReuse hands an IP from one pod to another while coredns is cut off from the API
// server (a proxy in between; the API server keeps serving everyone else): pod old-owner in
// one namespace is deleted and pod new-owner in another namespace gets its IP. While cut off,
// coredns keeps its last index (old-owner answers, the PTR names it). Once reconnected, the
// PTR must name new-owner, old-owner must be NXDOMAIN and new-owner must answer; on the way,
// the PTR never names anything but those two.
func TestIPReuse(t *testing.T) {
	t.Parallel()
	api := replicaAPI(t)
	nsOld, nsNew := api.namespace(t, "reuse-old"), api.namespace(t, "reuse-new")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ip := staticIP(t)
	if _, err := api.createStaticPod(ctx, nsOld, "old-owner", ip, nil); err != nil {
		t.Fatal(err)
	}
	px := api.proxy(t)
	c := harness.StartExample(t, "Corefile", px.Kubeconfig(t))
	servers := []*harness.CoreDNS{c}
	harness.Serving(ctx, t, c, zone)
	reverse, err := dns.ReverseAddr(ip)
	if err != nil {
		t.Fatalf("reverse name of %s: %v", ip, err)
	}
	oldName, newName := fqdn("old-owner"), fqdn("new-owner")
	waitAnswers(ctx, t, servers, map[string]string{oldName: ip, newName: gone})
	if err := waitPTR(ctx, c, reverse, oldName, nil); err != nil {
		t.Fatal(err)
	}

	cut := time.Now()
	px.Cut(t)
	if err := api.deleteNow(ctx, nsOld, "old-owner"); err != nil {
		t.Fatal(err)
	}
	if _, err := api.createStaticPod(ctx, nsNew, "new-owner", ip, nil); err != nil {
		t.Fatal(err)
	}
	// Cut off, coredns answers from its last index, unchanged.
	if err := ask(c, oldName, ip); err != nil {
		t.Fatalf("cut off, after the IP changed hands: %v", err)
	}
	if err := ask(c, newName, gone); err != nil {
		t.Fatalf("cut off, after the IP changed hands: %v", err)
	}
	if err := askPTR(c, reverse, oldName); err != nil {
		t.Fatalf("cut off, after the IP changed hands: %v", err)
	}

	if err := px.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	if err := waitPTR(ctx, c, reverse, newName, []string{oldName}); err != nil {
		t.Fatal(err)
	}
	ptrMoved := time.Since(resumed)
	waitAnswers(ctx, t, servers, map[string]string{oldName: gone, newName: ip})
	if err := askPTR(c, reverse, newName); err != nil {
		t.Fatalf("after reconnecting: %v", err)
	}
	t.Logf("IP reuse: %s moved from %s/old-owner to %s/new-owner while coredns was cut off for %s; after reconnecting the PTR named new-owner within %s, old-owner NXDOMAIN",
		ip, nsOld, nsNew, resumed.Sub(cut).Round(time.Millisecond), ptrMoved.Round(time.Millisecond))
}

// waitPTR polls the PTR of reverse until it is exactly target; until then, a reply may only be
// a single PTR to one of before.
func waitPTR(ctx context.Context, c *harness.CoreDNS, reverse, target string, before []string) error {
	var last []string
	err := harness.Poll(ctx, fmt.Sprintf("PTR %s to name %s", reverse, target), func() (bool, error) {
		r, err := harness.Query(c.Addr(), reverse, dns.TypePTR)
		if err != nil {
			return false, err
		}
		last = ptrTargets(r)
		if r.Rcode == dns.RcodeSuccess && slices.Equal(last, []string{target}) {
			return true, nil
		}
		if r.Rcode != dns.RcodeSuccess || len(last) != 1 || !slices.Contains(before, last[0]) {
			return false, fmt.Errorf("PTR %s at %s: %s %v, want %s or, before it, one of %v", reverse, c.Addr(), dns.RcodeToString[r.Rcode], last, target, before)
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("%w (last: %v)", err, last)
	}
	return nil
}
