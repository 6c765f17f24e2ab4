package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/podname/podname/test/cluster"
)

// Need is a prerequisite of a suite beyond Go: it says what is missing, or "" when nothing is.
type Need func() string

var (
	// NeedCoreDNS wants bin/coredns from `make build`.
	NeedCoreDNS Need = func() string {
		if _, err := Binary(); err != nil {
			return "bin/coredns (make build)"
		}
		return ""
	}
	// NeedCluster wants the cluster binaries from `make tools`.
	NeedCluster Need = func() string {
		if err := cluster.CheckBinaries(); err != nil {
			return "the cluster binaries (make tools)"
		}
		return ""
	}
	// NeedRoot wants root, for network namespaces.
	NeedRoot Need = func() string {
		if os.Geteuid() != 0 {
			return "root"
		}
		return ""
	}
)

// NeedCommand wants command on PATH, from Debian package pkg (make deps installs it).
func NeedCommand(command, pkg string) Need {
	return func() string {
		if _, err := exec.LookPath(command); err != nil {
			return fmt.Sprintf("%s (Debian package %s: make deps)", command, pkg)
		}
		return ""
	}
}

// missing is what needs lack, joined, or "".
func missing(needs []Need) string {
	var out []string
	for _, n := range needs {
		if m := n(); m != "" {
			out = append(out, m)
		}
	}
	return strings.Join(out, ", ")
}

// inCI is whether CI runs the tests (CI=true), where every suite must run.
func inCI() bool { return os.Getenv("CI") == "true" }

// Require skips t in one line naming the make target that runs it when a need is missing;
// under CI=true that is a failure instead.
func Require(t testing.TB, target string, needs ...Need) {
	t.Helper()
	m := missing(needs)
	switch {
	case m == "":
	case inCI():
		t.Fatalf("needs %s, and CI=true", m)
	default:
		t.Skipf("SKIPPED: needs %s; make %s runs it", m, target)
	}
}

// Main is the TestMain of a suite in package pkg that make target runs. When a need is missing it
// prints one line saying so and runs nothing (a failure under CI=true). With kube non-nil the
// tests share one cluster, started first and stopped last, whose component logs are kept when a
// test failed. It returns the exit code.
func Main(m *testing.M, pkg, target string, kube **cluster.Cluster, needs ...Need) int {
	if kube != nil {
		needs = append(needs, NeedCluster)
	}
	if miss := missing(needs); miss != "" {
		if inCI() {
			fmt.Fprintf(os.Stderr, "%s: needs %s, and CI=true\n", pkg, miss)
			return 1
		}
		fmt.Printf("%s: SKIPPED: needs %s; make %s runs it\n", pkg, miss, target)
		return 0
	}
	if kube == nil {
		return m.Run()
	}
	logs, err := os.MkdirTemp("", "podname-"+pkg+"-cluster-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", pkg, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	start := time.Now()
	*kube, err = cluster.Start(ctx, cluster.Options{LogDir: logs})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: start cluster: %v\nlogs in %s\n", pkg, err, logs)
		return 1
	}
	fmt.Printf("%s: cluster up in %s\n", pkg, time.Since(start).Round(time.Millisecond))
	code := m.Run()
	if err := (*kube).Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: stop cluster: %v\n", pkg, err)
		code = 1
	}
	if code == 0 {
		os.RemoveAll(logs)
	} else {
		fmt.Fprintf(os.Stderr, "%s: cluster logs kept in %s\n", pkg, logs)
	}
	return code
}

// Cluster starts a cluster for t alone and stops it when t ends. The component logs go to a
// directory that is removed if t passed and kept, with its path logged, if it failed.
func Cluster(t testing.TB, opts cluster.Options) *cluster.Cluster {
	t.Helper()
	if err := cluster.CheckBinaries(); err != nil {
		t.Fatal(err)
	}
	if opts.LogDir == "" {
		dir, err := os.MkdirTemp("", "podname-cluster-logs-")
		if err != nil {
			t.Fatalf("create cluster log dir: %v", err)
		}
		opts.LogDir = dir
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("cluster logs kept in %s", dir)
				return
			}
			if err := os.RemoveAll(dir); err != nil {
				t.Errorf("remove cluster log dir: %v", err)
			}
		})
	}
	start := time.Now()
	c, err := cluster.Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	t.Logf("cluster up in %s", time.Since(start).Round(time.Millisecond))
	// Registered after the log dir's cleanup, so it runs first: logs are complete when judged.
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop cluster: %v", err)
		}
	})
	return c
}

// NeedPythonModule wants a Python 3 that imports module, from Debian package pkg (make deps
// installs it); Python finds that interpreter.
func NeedPythonModule(module, pkg string) Need {
	return func() string {
		if _, err := Python(module); err != nil {
			return fmt.Sprintf("Python module %s (Debian package %s: make deps)", module, pkg)
		}
		return ""
	}
}

// Python is the path of a Python 3.6 or later that imports every one of modules: python3 on
// PATH, else Debian's /usr/bin/python3. A version manager's python3 (pyenv's shim) may come
// first on PATH and lack the modules Debian's packages put in /usr/lib/python3/dist-packages.
// The path is the real interpreter, not a shim, so each process of a test starts fast.
func Python(modules ...string) (string, error) {
	check := "import sys; assert sys.version_info >= (3, 6); print(sys.executable)"
	for _, m := range modules {
		check = "import " + m + "; " + check
	}
	var last error
	for _, python := range []string{"python3", "/usr/bin/python3"} {
		out, err := exec.Command(python, "-c", check).Output()
		if path := strings.TrimSpace(string(out)); err == nil && path != "" {
			return path, nil
		}
		last = fmt.Errorf("%s: %v", python, err)
	}
	return "", fmt.Errorf("no python3 (3.6 or later) imports %s: %w", strings.Join(modules, ", "), last)
}
