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
	// Every Python 3 imports sys; none imports a module of that name.
	if got := missing([]Need{NeedPythonModule("sys", "python3")}); got != "" {
		t.Errorf("NeedPythonModule(sys) = %q, want nothing", got)
	}
	got = missing([]Need{NeedPythonModule("podname_no_such_module", "pkg-b")})
	if want := "Python module podname_no_such_module (Debian package pkg-b: make deps)"; got != want {
		t.Errorf("NeedPythonModule(podname_no_such_module) = %q, want %q", got, want)
	}
	// An empty cache has no cluster binaries: the need says so and names the make target.
	t.Setenv("PODNAME_CACHE", t.TempDir())
	if m := NeedCluster(); !strings.Contains(m, "(make tools)") {
		t.Errorf("NeedCluster with an empty cache = %q, want it to name make tools", m)
	}
}
