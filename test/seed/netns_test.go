package seed

import (
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
		harness.NeedCommand("mount", "mount"), harness.NeedCommand("python3", "python3"),
		harness.NeedPythonModule("kazoo", "python3-kazoo"), harness.NeedZooKeeper)
	// The interpreter that imports kazoo: with a version manager's python3 first on PATH,
	// Debian's /usr/bin/python3, where python3-kazoo lives.
	python, err := harness.Python("kazoo")
	if err != nil {
		t.Fatal(err)
	}
	ns := harness.Netns(t, "podname-seed-", "e2e", dnsIP)
	harness.RunInNetns(t, ns, "TestSeedScenario", pythonEnv+"="+python)
}
