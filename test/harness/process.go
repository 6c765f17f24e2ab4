package harness

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Process is a running program of a test (bin/coredns, a DNS server playing a secondary), its
// files and its log in Dir.
type Process struct {
	Dir     string
	Started time.Time // just before the process was started

	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error // read only after done is closed
}

// ProcessOptions are how a coredns Process runs beyond its Corefile.
type ProcessOptions struct {
	CPUs string   // a taskset CPU list such as "0"; the Go runtime sizes GOMAXPROCS to it
	Env  []string // added to the test's environment
	// Binary is the coredns to run, a path under bin/ such as "coredns-bench"; empty means
	// bin/coredns.
	Binary string
}

// StartProcess writes corefile into dir and starts bin/coredns (or o.Binary) on it. It returns
// once the process runs.
func StartProcess(dir, corefile string, o ProcessOptions) (*Process, error) {
	bin, err := BinaryNamed(cmp.Or(o.Binary, "coredns"))
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "Corefile")
	if err := os.WriteFile(conf, []byte(corefile), 0o644); err != nil {
		return nil, fmt.Errorf("write Corefile: %w", err)
	}
	cmd := exec.Command(bin, "-conf", conf)
	if o.CPUs != "" {
		// taskset execs coredns in its own process, so the PID stays coredns's.
		cmd = exec.Command("taskset", "-c", o.CPUs, bin, "-conf", conf)
	}
	if len(o.Env) > 0 {
		cmd.Env = append(os.Environ(), o.Env...)
	}
	return Run(dir, "coredns", cmd)
}

// Run starts cmd with its output in dir/NAME.log, in a process group of its own that dies with
// the test. It returns once the process runs.
func Run(dir, name string, cmd *exec.Cmd) (*Process, error) {
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create %s log: %w", name, err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &Process{Dir: dir, logPath: logPath, cmd: cmd, done: make(chan struct{}), Started: time.Now()}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// PID is the process's ID, for what the process holds (/proc/PID).
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Log returns what the process has printed so far.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// ExitError is how the process ended, once it has.
func (p *Process) ExitError() error {
	if !p.Exited() {
		return nil
	}
	return p.waitErr
}

// Stop ends the process (SIGTERM, then SIGKILL after 10 s) and waits for it. It is safe to
// call more than once.
func (p *Process) Stop() error {
	if p.Exited() {
		return nil
	}
	if err := syscall.Kill(-p.PID(), syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s: %w", p.cmd.Path, err)
	}
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		p.Kill()
	}
	var exit *exec.ExitError
	if p.waitErr != nil && !errors.As(p.waitErr, &exit) {
		return fmt.Errorf("stop %s: %w", p.cmd.Path, p.waitErr)
	}
	return nil
}

// Kill ends the process with SIGKILL and waits for it.
func (p *Process) Kill() {
	if !p.Exited() {
		_ = syscall.Kill(-p.PID(), syscall.SIGKILL)
		<-p.done
	}
}
