package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// logTailLines is how much of a component's log an error about it quotes.
const logTailLines = 20

// stopGrace is how long a component gets to exit after SIGTERM before its group is killed.
const stopGrace = 5 * time.Second

// process is one running component, the leader of its own process group.
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{} // closed once cmd has exited and been reaped
	waitErr error         // cmd.Wait's result; read it only after done is closed
}

// startProcess starts path with args as component name, appending its output to logPath.
func startProcess(name, path string, args []string, logPath string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: open log: %w", name, err)
	}
	// The child has its own descriptor once started; ours only served to hand it over.
	defer logFile.Close()
	// A restart appends to the same log; the banner shows where each run begins.
	fmt.Fprintf(logFile, "=== %s %s %s\n", time.Now().Format(time.RFC3339Nano), path, strings.Join(args, " "))

	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// A group of its own lets Stop signal the component without touching the test binary.
		Setpgid: true,
		// A test that crashes or is killed must not leave a control plane behind. The kernel
		// sends this when the thread that forked exits; Go ends a thread only when a goroutine
		// exits locked to it (runtime.LockOSThread), which nothing here does.
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// pid is the process's ID, which is also its process group's ID.
func (p *process) pid() int {
	return p.cmd.Process.Pid
}

// exitError is nil while the process runs, and afterwards an *exitedError saying how it ended.
func (p *process) exitError() error {
	select {
	case <-p.done:
		return &exitedError{component: p.name, err: p.waitErr}
	default:
		return nil
	}
}

// exitedError is a component that has exited, with cmd.Wait's result.
type exitedError struct {
	component string
	err       error
}

func (e *exitedError) Error() string {
	if e.err == nil {
		return e.component + " exited with status 0"
	}
	return e.component + " exited: " + e.err.Error()
}

func (e *exitedError) Unwrap() error { return e.err }

// stop sends SIGTERM to the process group, then SIGKILL if the process has not exited within
// stopGrace, and returns once it has been reaped. It is a no-op on an exited process.
func (p *process) stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := syscall.Kill(-p.pid(), syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s: SIGTERM process group %d: %w", p.name, p.pid(), err)
	}
	timer := time.NewTimer(stopGrace)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
	}
	if err := syscall.Kill(-p.pid(), syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s: SIGKILL process group %d: %w", p.name, p.pid(), err)
	}
	<-p.done
	return nil
}

// fileTail returns the last n lines of the file at path, reading at most its last 64 KiB.
func fileTail(path string, n int) string {
	const maxRead = 64 << 10
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	if info, err := f.Stat(); err == nil && info.Size() > maxRead {
		if _, err := f.Seek(-maxRead, io.SeekEnd); err != nil {
			return fmt.Sprintf("(log unreadable: %v)", err)
		}
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(log unreadable: %v)", err)
	}
	lines := bytes.Split(bytes.TrimRight(data, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
