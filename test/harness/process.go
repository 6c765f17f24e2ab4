package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// Process is a running bin/coredns, its Corefile and its log (coredns.log) in Dir.
type Process struct {
	Dir     string
	Started time.Time // just before the process was started

	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error // read only after done is closed
}

// ProcessOptions are how a Process runs beyond its Corefile.
type ProcessOptions struct {
	CPUs string   // a taskset CPU list such as "0"; the Go runtime sizes GOMAXPROCS to it
	Env  []string // added to the test's environment
}

// StartProcess writes corefile into dir and starts bin/coredns on it. It returns once the
// process runs.
func StartProcess(dir, corefile string, o ProcessOptions) (*Process, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "Corefile")
	if err := os.WriteFile(conf, []byte(corefile), 0o644); err != nil {
		return nil, fmt.Errorf("write Corefile: %w", err)
	}
	logf, err := os.Create(filepath.Join(dir, "coredns.log"))
	if err != nil {
		return nil, fmt.Errorf("create coredns log: %w", err)
	}
	cmd := exec.Command(bin, "-conf", conf)
	if o.CPUs != "" {
		// taskset execs coredns in its own process, so the PID stays coredns's.
		cmd = exec.Command("taskset", "-c", o.CPUs, bin, "-conf", conf)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if len(o.Env) > 0 {
		cmd.Env = append(os.Environ(), o.Env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &Process{Dir: dir, cmd: cmd, done: make(chan struct{}), Started: time.Now()}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start coredns: %w", err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// PID is the coredns process's ID, for what the process holds (/proc/PID).
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Log returns what coredns has printed so far.
func (p *Process) Log() string {
	b, _ := os.ReadFile(filepath.Join(p.Dir, "coredns.log"))
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
		return fmt.Errorf("stop coredns: %w", err)
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
		return fmt.Errorf("stop coredns: %w", p.waitErr)
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
