package harness

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
)

// NetnsEnv is set, in a test that RunInNetns runs again inside a network namespace, to that
// namespace's name; set means "inside".
const NetnsEnv = "PODNAME_NETNS"

// Netns creates a network namespace named PREFIX<pid>-<random> with lo up and addrs (IPv4) on
// it, and deletes it, with whatever still runs inside, when t ends. The creator's PID in the
// name lets a later run with the same prefix remove what a killed run left behind, which it
// does first. Where namespaces cannot be made it skips t (make target runs it), or fails
// under CI=true.
func Netns(t *testing.T, prefix, target string, addrs ...string) string {
	t.Helper()
	sweepStaleNetns(t, prefix)
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatalf("name the network namespace: %v", err)
	}
	ns := fmt.Sprintf("%s%d-%s", prefix, os.Getpid(), hex.EncodeToString(suffix))
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		Require(t, target, func() string {
			return fmt.Sprintf("network namespaces (ip netns add %s: %v: %s)", ns, err, bytes.TrimSpace(out))
		})
	}
	t.Cleanup(func() {
		if err := deleteNetns(ns); err != nil {
			t.Error(err)
		}
	})
	cmds := [][]string{{"link", "set", "lo", "up"}}
	for _, a := range addrs {
		cmds = append(cmds, []string{"addr", "add", a + "/32", "dev", "lo"})
	}
	for _, args := range cmds {
		if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip -n %s %s: %v: %s", ns, strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
	}
	return ns
}

// RunInNetns runs test, a top-level test of this test binary, again inside network namespace
// ns with NetnsEnv and env set, and streams its output into t's log. It fails t unless the
// inside run passed.
func RunInNetns(t *testing.T, ns, test string, env ...string) {
	t.Helper()
	args := []string{"netns", "exec", ns, os.Args[0], "-test.run=^" + test + "$", "-test.v", "-test.count=1"}
	// The inside ends first so that its failure, not the outside's timeout, is reported.
	if deadline, ok := t.Deadline(); ok {
		args = append(args, "-test.timeout="+max(time.Until(deadline)-30*time.Second, time.Minute).String())
	}
	cmd := exec.Command("ip", args...)
	cmd.Env = append(append(os.Environ(), NetnsEnv+"="+ns), env...)
	out := &lineLog{t: t, prefix: "[netns] ", pass: "--- PASS: " + test + " "}
	cmd.Stdout, cmd.Stderr = out, out
	// ip execs the test binary, which keeps this; its own children die with it in turn.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 10 * time.Second
	err := cmd.Run()
	out.flush()
	if err != nil {
		t.Fatalf("%s inside network namespace %s failed: %v", test, ns, err)
	}
	// A -test.run that matched nothing would exit 0 too.
	if !out.passed {
		t.Fatalf("%s inside network namespace %s exited 0 without reporting PASS", test, ns)
	}
}

// RequireInNetns fails t unless this process is in network namespace ns.
func RequireInNetns(t testing.TB, ns string) {
	t.Helper()
	var self, want syscall.Stat_t
	if err := syscall.Stat("/proc/self/ns/net", &self); err != nil {
		t.Fatalf("stat /proc/self/ns/net: %v", err)
	}
	if err := syscall.Stat("/run/netns/"+ns, &want); err != nil {
		t.Fatalf("stat /run/netns/%s: %v", ns, err)
	}
	if self.Dev != want.Dev || self.Ino != want.Ino {
		t.Fatalf("%s=%s but this process is not in that network namespace", NetnsEnv, ns)
	}
}

// deleteNetns kills the processes still inside ns (all started by its test) and deletes it.
func deleteNetns(ns string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err := Poll(ctx, "processes in network namespace "+ns+" to exit", func() (bool, error) {
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

// sweepStaleNetns deletes the namespaces named by prefix that earlier runs left behind when
// they were killed before their cleanup: their creator is gone.
func sweepStaleNetns(t *testing.T, prefix string) {
	t.Helper()
	stale := regexp.MustCompile(`^` + regexp.QuoteMeta(prefix) + `(\d+)-[0-9a-f]+$`)
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatalf("ip netns list: %v: %s", err, bytes.TrimSpace(out))
	}
	for _, line := range strings.Split(string(out), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		m := stale.FindStringSubmatch(fields[0])
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

// lineLog writes each line of the inside test's output to t.Log as it arrives, and notes the
// line pass.
type lineLog struct {
	t       *testing.T
	prefix  string
	pass    string
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
	if strings.HasPrefix(s, l.pass) {
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
