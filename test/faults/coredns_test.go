package faults

import (
	"context"
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

// isReady reports whether /ready answers 200.
func isReady(ctx context.Context, c *harness.CoreDNS) (bool, error) {
	code, err := c.Ready(ctx)
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
