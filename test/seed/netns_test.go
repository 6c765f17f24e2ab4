package seed

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/podname/podname/test/harness"
)

// pythonEnv is the Python 3 interpreter the outside found, for the test run again inside the
// network namespace.
const pythonEnv = "PODNAME_SEED_PYTHON"

// runOutside checks what the scenario needs, makes the network namespace, and runs this
// test again inside it, streaming its output; the namespace goes when the test ends.
func runOutside(t *testing.T) {
	// Built outside: the namespace has no route to a module proxy.
	harness.Require(t, "e2e", harness.NeedRoot, harness.NeedCoreDNS, harness.NeedCluster,
		harness.NeedCommand("ip", "iproute2"), harness.NeedCommand("unshare", "util-linux"),
		harness.NeedCommand("mount", "mount"), harness.NeedCommand("python3", "python3"))
	python := needPython(t)
	ns := harness.Netns(t, "podname-seed-", "e2e", dnsIP)
	harness.RunInNetns(t, ns, "TestSeedScenario", pythonEnv+"="+python)
}

// needPython returns the path of a Python 3 interpreter, failing t in one line if there is none.
func needPython(t *testing.T) string {
	t.Helper()
	// The real interpreter, not a version manager's shim, so each pod process starts fast.
	out, err := exec.Command("python3", "-c", "import sys; assert sys.version_info >= (3, 6); print(sys.executable)").Output()
	path := strings.TrimSpace(string(out))
	if err != nil || path == "" {
		t.Fatalf("python3 (3.6 or later) missing: install it (Debian package python3): %v", err)
	}
	return path
}
