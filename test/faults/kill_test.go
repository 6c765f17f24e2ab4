package faults

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/harness"
)

// beforeSyncChecks is how many rounds of questions TestKill9 asks while coredns serves
// unsynced, one per beforeSyncPeriod.
const (
	beforeSyncChecks = 40
	beforeSyncPeriod = 50 * time.Millisecond
)

// TestKill9 kills coredns with SIGKILL and starts it again on the same Corefile: answers come
// back once it has synced. Then it kills it again and starts it while the API server is down,
// so that it serves before its first sync: a live pod's name gets SERVFAIL, never NXDOMAIN (the
// index is empty, not the cluster), the apex still answers, and /ready is not 200. Once the API
// server is back, every reply is SERVFAIL until the right answer, and /ready turns 200.
//
// coredns talks to an API server of its own, the one this test stops, so the test runs beside
// the others.
func TestKill9(t *testing.T) {
	t.Parallel()
	api := ownAPI(t)
	ns := api.namespace(t, "kill")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ips := api.staticPods(ctx, t, ns, nil, "k-0", "k-1", "k-2")
	want := fqdns(ips)
	text, a := harness.ReadExample(t, "Corefile"), harness.Loopback(t, api.kubeconfig)
	first := harness.Start(t, text, a)
	harness.Serving(ctx, t, first, zone)
	waitAnswers(ctx, t, []*harness.CoreDNS{first}, want)

	kill9(t, first)
	second := harness.Start(t, text, a)
	restarted := time.Now()
	harness.Serving(ctx, t, second, zone)
	waitAnswers(ctx, t, []*harness.CoreDNS{second}, want)
	t.Logf("kill -9: every name answers again %s after the new process started", time.Since(restarted).Round(time.Millisecond))

	// Killed again, and started with no API server: it serves before its first sync.
	kill9(t, second)
	if err := api.extra.Stop(); err != nil {
		t.Fatalf("stop %s: %v", api.name, err)
	}
	third := harness.Start(t, text, a)
	started := time.Now()
	live, liveIP, missing := fqdn("k-0"), ips["k-0"], fqdn("no-such-pod")
	// The DNS listener opens once the plugins' startup waits are over.
	r, err := harness.WaitAnswer(ctx, third.Addr(), live, dns.TypeA, func(*dns.Msg) bool { return true })
	if err != nil {
		t.Fatalf("coredns started without an API server never answered: %v", err)
	}
	opened := time.Since(started)
	if r.Rcode != dns.RcodeServerFailure {
		t.Fatalf("first reply for %s before the first sync: %s %v, want SERVFAIL", live, dns.RcodeToString[r.Rcode], harness.Addresses(r))
	}
	if !strings.Contains(third.Log(), "starting server with unsynced Kubernetes API") {
		t.Errorf("coredns serves unsynced but its log does not say so")
	}
	tick := time.NewTicker(beforeSyncPeriod)
	defer tick.Stop()
	for i := range beforeSyncChecks {
		for _, q := range []struct {
			name  string
			qtype uint16
			rcode int
		}{{live, dns.TypeA, dns.RcodeServerFailure}, {missing, dns.TypeA, dns.RcodeServerFailure}, {zone, dns.TypeSOA, dns.RcodeSuccess}} {
			r, err := harness.Query(third.Addr(), q.name, q.qtype)
			if err != nil {
				t.Fatalf("before the first sync, round %d: %v", i, err)
			}
			if r.Rcode != q.rcode {
				t.Fatalf("before the first sync, round %d: %s %s: %s %v, want %s", i, dns.TypeToString[q.qtype], q.name,
					dns.RcodeToString[r.Rcode], r.Answer, dns.RcodeToString[q.rcode])
			}
		}
		code, err := third.Ready(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if code == http.StatusOK {
			t.Fatalf("before the first sync, round %d: /ready is 200", i)
		}
		<-tick.C
	}

	if err := api.extra.Start(ctx); err != nil {
		t.Fatalf("start %s again: %v", api.name, err)
	}
	back := time.Now()
	servfails := 0
	err = harness.Poll(ctx, "the first correct answer after the API server came back", func() (bool, error) {
		r, err := harness.Query(third.Addr(), live, dns.TypeA)
		if err != nil {
			return false, err
		}
		if judge(r, liveIP) == nil {
			return true, nil
		}
		if r.Rcode != dns.RcodeServerFailure {
			return false, fmt.Errorf("A %s before the first sync: %s %v, want SERVFAIL until %s", live, dns.RcodeToString[r.Rcode], harness.Addresses(r), liveIP)
		}
		servfails++
		return false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	synced := time.Since(back)
	if err := third.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	want[missing] = gone
	waitAnswers(ctx, t, []*harness.CoreDNS{third}, want)
	t.Logf("before the first sync: DNS open %s after the start, %d rounds of SERVFAIL for a live and a missing name, apex answered, /ready not 200; API server back: %d more SERVFAIL, then the right answer %s later",
		opened.Round(time.Millisecond), beforeSyncChecks, servfails, synced.Round(time.Millisecond))
}

// kill9 kills c with SIGKILL and fails t unless that signal is what ended it: a coredns that
// had already exited would leave nothing for the test to kill.
func kill9(t *testing.T, c *harness.CoreDNS) {
	t.Helper()
	c.Kill()
	err := c.ExitError()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return
		}
	}
	t.Fatalf("coredns at %s ended with %v, want killed by SIGKILL", c.Addr(), err)
}
