// Cluster runs the local test cluster of package cluster outside go test, for make
// cluster-up and make cluster-down and for trying the plugin by hand.
//
//	cluster up   [-dir DIR] [-pod-cidr CIDR]         start it, then run until SIGINT or SIGTERM
//	cluster wait [-dir DIR] [-pid PID] [-timeout D]  wait until the cluster of "up" is ready
//	cluster down [-dir DIR] [-timeout D]             SIGTERM "up" and wait for its teardown
//
// DIR defaults to $PODNAME_CACHE/cluster ($HOME/.cache/podname/cluster). "up" keeps the
// cluster's etcd data and credentials in DIR/run and the component logs in DIR/logs. Once the
// cluster is ready it writes DIR/kubeconfig, DIR/pids (a "component pid" line each) and, last,
// DIR/pid holding its own PID: "wait" watches for that file and "down" signals that PID. On
// teardown "up" removes them all but the logs. It is meant to run in the background:
//
//	nohup cluster up >cluster.out 2>&1 & cluster wait -pid $!
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/podname/podname/test/cluster"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: cluster up|wait|down [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "up":
		err = up(os.Args[2:])
	case "wait":
		err = waitReady(os.Args[2:])
	case "down":
		err = down(os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "cluster: unknown command %q; want up, wait or down\n", os.Args[1])
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "cluster %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// Files in the state dir.
const (
	markerFile     = ".podname-cluster" // says the dir is ours to clear
	runDir         = "run"
	logDir         = "logs"
	kubeconfigFile = "kubeconfig"
	pidsFile       = "pids"
	pidFile        = "pid"
)

// dirFlag adds -dir to fs.
func dirFlag(fs *flag.FlagSet) *string {
	return fs.String("dir", filepath.Join(cluster.CacheDir(), "cluster"), "state directory")
}

// up starts the cluster in the state dir and tears it down on SIGINT or SIGTERM.
func up(args []string) error {
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	dir := dirFlag(fs)
	podCIDR := fs.String("pod-cidr", "", "the fake node's pod CIDR (default 10.244.0.0/24)")
	fs.Parse(args)

	if err := claimDir(*dir); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cluster.CheckBinaries(); err != nil {
		return err
	}
	begin := time.Now()
	c, err := cluster.Start(ctx, cluster.Options{
		Dir:     filepath.Join(*dir, runDir),
		LogDir:  filepath.Join(*dir, logDir),
		PodCIDR: *podCIDR,
	})
	if err != nil {
		return err
	}
	if err := publish(*dir, c); err != nil {
		return errors.Join(err, teardown(*dir, c))
	}
	fmt.Printf("cluster ready in %s: KUBECONFIG=%s, API server %s, logs in %s\n",
		time.Since(begin).Round(time.Millisecond), filepath.Join(*dir, kubeconfigFile), c.APIServerURL(), c.Logs())
	<-ctx.Done()
	fmt.Println("cluster: stopping")
	return teardown(*dir, c)
}

// claimDir prepares dir for a new cluster: it refuses a dir whose "up" still runs or that
// holds files it did not write, and clears what an earlier "up" left there.
func claimDir(dir string) error {
	if pid, err := readPID(filepath.Join(dir, pidFile)); err == nil && alive(pid) {
		return fmt.Errorf("a cluster is already running in %s (pid %d); run cluster down first", dir, pid)
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("read state dir: %w", err)
	}
	if len(entries) != 0 && !fileExists(filepath.Join(dir, markerFile)) {
		return fmt.Errorf("state dir %s is not empty and not a cluster's; choose another -dir", dir)
	}
	for _, name := range []string{runDir, logDir, kubeconfigFile, pidsFile, pidFile} {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("clear state dir: %w", err)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create state dir: %w", err)
	}
	return writeFile(filepath.Join(dir, markerFile), nil)
}

// publish writes the kubeconfig, the component PIDs and, last, the PID of this process.
func publish(dir string, c *cluster.Cluster) error {
	kubeconfig, err := os.ReadFile(c.Kubeconfig())
	if err != nil {
		return fmt.Errorf("read kubeconfig: %w", err)
	}
	if err := writeFile(filepath.Join(dir, kubeconfigFile), kubeconfig); err != nil {
		return err
	}
	var pids []string
	for name, pid := range c.PIDs() {
		pids = append(pids, fmt.Sprintf("%s %d\n", name, pid))
	}
	sort.Strings(pids)
	if err := writeFile(filepath.Join(dir, pidsFile), []byte(strings.Join(pids, ""))); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, pidFile), []byte(strconv.Itoa(os.Getpid())+"\n"))
}

// teardown stops the cluster and removes its files but the logs; the pid file goes last,
// which tells "down" that teardown is over.
func teardown(dir string, c *cluster.Cluster) error {
	errs := []error{os.Remove(filepath.Join(dir, kubeconfigFile)), c.Stop()}
	for _, name := range []string{runDir, pidsFile, pidFile} {
		errs = append(errs, os.RemoveAll(filepath.Join(dir, name)))
	}
	for i, err := range errs {
		if errors.Is(err, os.ErrNotExist) {
			errs[i] = nil
		}
	}
	return errors.Join(errs...)
}

// waitReady waits until "up" has published its pid file, or fails early if -pid has exited.
func waitReady(args []string) error {
	fs := flag.NewFlagSet("wait", flag.ExitOnError)
	dir := dirFlag(fs)
	upPID := fs.Int("pid", 0, `PID of "cluster up", to fail as soon as it exits (0: wait for any)`)
	timeout := fs.Duration("timeout", 3*time.Minute, "how long to wait")
	fs.Parse(args)

	path := filepath.Join(*dir, pidFile)
	err := poll(*timeout, func() (bool, error) {
		pid, err := readPID(path)
		switch {
		case err == nil && (*upPID == 0 || pid == *upPID):
			return true, nil
		case *upPID != 0 && !alive(*upPID):
			return false, fmt.Errorf("cluster up (pid %d) exited before the cluster was ready; see its output and %s", *upPID, filepath.Join(*dir, logDir))
		default:
			return false, nil
		}
	})
	if err != nil {
		return err
	}
	fmt.Printf("cluster ready: KUBECONFIG=%s\n", filepath.Join(*dir, kubeconfigFile))
	return nil
}

// down sends SIGTERM to "up" and waits until it has removed its pid file or exited.
func down(args []string) error {
	fs := flag.NewFlagSet("down", flag.ExitOnError)
	dir := dirFlag(fs)
	timeout := fs.Duration("timeout", time.Minute, "how long to wait for the teardown")
	fs.Parse(args)

	path := filepath.Join(*dir, pidFile)
	pid, err := readPID(path)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Printf("no cluster running in %s\n", *dir)
		return nil
	}
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal cluster up (pid %d): %w", pid, err)
	}
	// The pid file disappearing is the signal, since "up" is not our child to wait for and
	// may linger as a zombie of a parent that does not reap it.
	if err := poll(*timeout, func() (bool, error) {
		return !fileExists(path) || !alive(pid), nil
	}); err != nil {
		return fmt.Errorf("wait for cluster up (pid %d) to tear down: %w", pid, err)
	}
	// "up" gone with its pid file still there died before its teardown; its components died
	// with it (Pdeathsig), so only the file is left to clear.
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove stale pid file: %w", err)
	}
	return nil
}

// poll calls cond every 100ms until it returns true or an error, or timeout passes.
func poll(timeout time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		done, err := cond()
		if err != nil || done {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", timeout)
		}
		<-ticker.C
	}
}

// readPID reads a PID written by publish.
func readPID(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0, fmt.Errorf("pid file %s: %w", path, err)
	}
	return pid, nil
}

// alive reports whether a process with that PID exists (signal 0 checks without sending).
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// writeFile writes data to path through a temporary file, so readers never see half of it.
func writeFile(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
