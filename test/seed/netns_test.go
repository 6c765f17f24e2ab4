package seed

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podname/podname/test/harness"
)

// Environment of the test binary re-executed inside the network namespace.
const (
	netnsEnv  = "PODNAME_SEED_NETNS"  // the namespace's name; set means "inside"
	pythonEnv = "PODNAME_SEED_PYTHON" // the Python 3 interpreter the outside found
)

// netnsPrefix starts the name of every namespace this test makes; the creator's PID follows,
// so a later run can tell a namespace whose creator died (and left it behind) from a live one.
const netnsPrefix = "podname-seed-"

var staleNetns = regexp.MustCompile(`^` + netnsPrefix + `(\d+)-[0-9a-f]+$`)

// runOutside checks what the scenario needs, makes the network namespace, and runs this
// test again inside it, streaming its output; the namespace goes when the test ends.
func runOutside(t *testing.T) {
	// Built outside: the namespace has no route to a module proxy.
	harness.Require(t, "e2e", harness.NeedRoot, harness.NeedCoreDNS, harness.NeedCluster,
		harness.NeedCommand("ip", "iproute2"), harness.NeedCommand("unshare", "util-linux"),
		harness.NeedCommand("mount", "mount"), harness.NeedCommand("python3", "python3"))
	python := needPython(t)
	sweepStaleNetns(t)
	ns := newNetns(t)

	args := []string{"netns", "exec", ns, os.Args[0], "-test.run=^TestSeedScenario$", "-test.v", "-test.count=1"}
	// The inside ends first so that its failure, not the outside's timeout, is reported.
	if deadline, ok := t.Deadline(); ok {
		args = append(args, "-test.timeout="+max(time.Until(deadline)-30*time.Second, time.Minute).String())
	}
	cmd := exec.Command("ip", args...)
	cmd.Env = append(os.Environ(), netnsEnv+"="+ns, pythonEnv+"="+python)
	out := &lineLog{t: t, prefix: "[netns] "}
	cmd.Stdout, cmd.Stderr = out, out
	// ip execs the test binary, which keeps this; its own children die with it in turn.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	out.flush()
	if err != nil {
		t.Fatalf("TestSeedScenario inside network namespace %s failed: %v", ns, err)
	}
	// A -test.run that matched nothing would exit 0 too.
	if !out.passed {
		t.Fatalf("TestSeedScenario inside network namespace %s exited 0 without reporting PASS", ns)
	}
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

// newNetns creates a network namespace with lo up and the cluster DNS address on it, and
// deletes it, with whatever still runs inside, when t ends.
func newNetns(t *testing.T) string {
	t.Helper()
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatalf("name the network namespace: %v", err)
	}
	ns := fmt.Sprintf("%s%d-%s", netnsPrefix, os.Getpid(), hex.EncodeToString(suffix))
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		harness.Require(t, "e2e", func() string {
			return fmt.Sprintf("network namespaces (ip netns add %s: %v: %s)", ns, err, bytes.TrimSpace(out))
		})
	}
	t.Cleanup(func() {
		if err := deleteNetns(ns); err != nil {
			t.Error(err)
		}
	})
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"addr", "add", dnsIP + "/32", "dev", "lo"},
	} {
		if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip -n %s %s: %v: %s", ns, strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
	}
	return ns
}

// deleteNetns kills the processes still inside ns (all started by this test) and deletes it.
func deleteNetns(ns string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := harness.Poll(ctx, "processes in network namespace "+ns+" to exit", func() (bool, error) {
		pids, err := netnsPIDs(ns)
		if err != nil {
			return false, err
		}
		for _, pid := range pids {
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				return false, fmt.Errorf("kill %d: %w", pid, err)
			}
		}
		return len(pids) == 0, nil
	})
	if out, derr := exec.Command("ip", "netns", "del", ns).CombinedOutput(); derr != nil {
		err = errors.Join(err, fmt.Errorf("ip netns del %s: %w: %s", ns, derr, bytes.TrimSpace(out)))
	}
	return err
}

// netnsPIDs lists the processes inside ns.
func netnsPIDs(ns string) ([]int, error) {
	out, err := exec.Command("ip", "netns", "pids", ns).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("ip netns pids %s: %w: %s", ns, err, bytes.TrimSpace(out))
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("ip netns pids %s: %q is not a PID", ns, f)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// sweepStaleNetns deletes the namespaces earlier runs left behind when they were killed before
// their cleanup: ours by name, and their creator is gone.
func sweepStaleNetns(t *testing.T) {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, bytes.TrimSpace(out))
	}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		m := staleNetns.FindStringSubmatch(fields[0])
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			continue // its creator runs: another test's namespace
		}
		if err := deleteNetns(fields[0]); err != nil {
			t.Fatalf("remove stale network namespace: %v", err)
		}
		t.Logf("removed network namespace %s left behind by an earlier run (pid %d)", fields[0], pid)
	}
}

// lineLog writes each line of the inside test's output to t.Log as it arrives.
type lineLog struct {
	t       *testing.T
	prefix  string
	partial []byte
	passed  bool
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			return len(p), nil
		}
		l.line(string(l.partial[:i]))
		l.partial = l.partial[i+1:]
	}
}

func (l *lineLog) line(s string) {
	if strings.HasPrefix(s, "--- PASS: TestSeedScenario ") {
		l.passed = true
	}
	l.t.Log(l.prefix + s)
}

func (l *lineLog) flush() {
	if len(l.partial) > 0 {
		l.line(string(l.partial))
		l.partial = nil
	}
}
