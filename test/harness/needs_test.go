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
	for _, need := range []Need{NeedCoreDNS, NeedCluster} {
		if m := need(); m != "" && !strings.Contains(m, "(make ") {
			t.Errorf("%q does not name the make target that builds it", m)
		}
	}
}
