package harness

import (
	"strings"
	"testing"
)

func TestMissing(t *testing.T) {
	present := func() string { return "" }
	if got := missing([]Need{present, NeedCommand("sh", "dash")}); got != "" {
		t.Errorf("missing(present, sh) = %q, want nothing", got)
	}
	got := missing([]Need{present, NeedCommand("podname-no-such-command", "pkg-a"), func() string { return "root" }})
	want := "podname-no-such-command (Debian package pkg-a: make deps), root"
	if got != want {
		t.Errorf("missing = %q, want %q", got, want)
	}
	// An empty cache has no cluster binaries: the need says so and names the make target.
	t.Setenv("PODNAME_CACHE", t.TempDir())
	if m := NeedCluster(); !strings.Contains(m, "(make tools)") {
		t.Errorf("NeedCluster with an empty cache = %q, want it to name make tools", m)
	}
}
