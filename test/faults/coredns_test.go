package faults

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/harness"
)

// zone is the forward zone of every example Corefile.
const zone = "mgmt.pix.yun.com"

// registerLabel is the label labels.Corefile selects pods by.
const registerLabel = "podname.pix.yun.com/register"

// example reads corefile-examples/NAME and adjusts it to loopback ports and kubeconfig.
func example(t *testing.T, name, kubeconfig string) (string, harness.Adjust) {
	t.Helper()
	text, err := harness.Example(name)
	if err != nil {
		t.Fatalf("read example %s: %v", name, err)
	}
	a, err := harness.LoopbackAdjust(kubeconfig)
	if err != nil {
		t.Fatalf("ports for %s: %v", name, err)
	}
	return harness.AdjustCorefile(text, a), a
}

// startExample runs an example Corefile against api.
func (api *apiServer) startExample(t *testing.T, name string) *harness.CoreDNS {
	t.Helper()
	text, a := example(t, name, api.kubeconfig)
	return startCorefile(t, name, text, a)
}

// startCorefile runs coredns on corefile in a directory of its own, stops it when t ends, and
// prints its log if t failed. label names it in that output.
func startCorefile(t *testing.T, label, corefile string, a harness.Adjust) *harness.CoreDNS {
	t.Helper()
	c, err := harness.StartCoreDNS(t.TempDir(), corefile, a)
	if err != nil {
		t.Fatalf("start coredns (%s): %v", label, err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop coredns (%s): %v", label, err)
		}
		if t.Failed() {
			t.Logf("coredns log (%s):\n%s", label, c.Log())
		}
	})
	return c
}

// waitServing waits for /ready and then for the apex SOA of the zone: /ready answers 200 once
// the plugins have synced, a moment before the DNS listener opens.
func waitServing(ctx context.Context, t *testing.T, c *harness.CoreDNS) {
	t.Helper()
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := harness.WaitAnswer(ctx, c.Addr(), zone, dns.TypeSOA, func(r *dns.Msg) bool {
		return r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1
	})
	if err != nil {
		t.Fatalf("coredns at %s: %v", c.Addr(), err)
	}
}

// readyStatus is /ready's HTTP status, or an error naming the server.
func readyStatus(ctx context.Context, c *harness.CoreDNS) (int, error) {
	code, err := c.Ready(ctx)
	if err != nil {
		return 0, fmt.Errorf("GET /ready of coredns at %s: %w", c.Addr(), err)
	}
	return code, nil
}

// isReady reports whether /ready answers 200.
func isReady(ctx context.Context, c *harness.CoreDNS) (bool, error) {
	code, err := readyStatus(ctx, c)
	return code == http.StatusOK, err
}

// fqdn is name in the zone, absolute.
func fqdn(name string) string { return dns.Fqdn(name + "." + zone) }

// replaceOnce replaces the one occurrence of old in s, failing t when there is not exactly one:
// a Corefile example that changed shape must not silently turn a test into a no-op.
func replaceOnce(t *testing.T, s, old, replacement string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("Corefile has %d occurrences of %q, want 1:\n%s", n, old, s)
	}
	return strings.Replace(s, old, replacement, 1)
}
