package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/podname/podname/test/harness"
)

// Server is a running bin/coredns on a bench Corefile, which names its ready, metrics and pprof
// addresses (for the sync time, heap figures, a forced GC and a CPU profile).
type Server struct {
	*harness.Process
	Conf Corefile
}

// StartServer writes conf into dir and starts bin/coredns on it.
func StartServer(dir string, conf Corefile) (*Server, error) {
	return StartServerOn(dir, conf, "")
}

// StartServerOn is StartServer with the process bound to cpus (a taskset list such as "0"),
// unless cpus is empty, and with env added to its environment.
func StartServerOn(dir string, conf Corefile, cpus string, env ...string) (*Server, error) {
	p, err := harness.StartProcess(dir, conf.Text, harness.ProcessOptions{CPUs: cpus, Env: env})
	if err != nil {
		return nil, err
	}
	return &Server{Process: p, Conf: conf}, nil
}

// exited says how coredns ended, with the end of its log, or nil while it runs.
func (s *Server) exited() error {
	if !s.Exited() {
		return nil
	}
	return fmt.Errorf("coredns exited: %v\n%s", s.ExitError(), lastLines(s.Log(), 20))
}

// readyPoll is how often WaitReady asks /ready; it is the resolution of the sync time.
const readyPoll = 10 * time.Millisecond

// WaitReady polls /ready until it answers 200 and returns the time since the process started.
func (s *Server) WaitReady(ctx context.Context) (time.Duration, error) {
	if s.Conf.Ready == "" {
		return 0, errors.New("coredns /ready: the Corefile has no ready plugin")
	}
	url := "http://" + s.Conf.Ready + "/ready"
	t := time.NewTicker(readyPoll)
	defer t.Stop()
	for {
		if err := s.exited(); err != nil {
			return 0, fmt.Errorf("wait for coredns /ready: %w", err)
		}
		if code, err := httpGet(ctx, url, io.Discard); err == nil && code == http.StatusOK {
			return time.Since(s.Started), nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("wait for coredns /ready: %w\n%s", ctx.Err(), lastLines(s.Log(), 20))
		case <-t.C:
		}
	}
}

// Metrics returns the text of /metrics.
func (s *Server) Metrics(ctx context.Context) (string, error) {
	if s.Conf.Metrics == "" {
		return "", errors.New("coredns /metrics: the Corefile has no prometheus plugin")
	}
	var b strings.Builder
	url := "http://" + s.Conf.Metrics + "/metrics"
	code, err := httpGet(ctx, url, &b)
	if err != nil {
		return "", err
	}
	if code != http.StatusOK {
		return "", fmt.Errorf("GET %s: status %d", url, code)
	}
	return b.String(), nil
}

// Metric is the sum of the samples of metric name, read from /metrics.
func (s *Server) Metric(ctx context.Context, name string) (float64, error) {
	text, err := s.Metrics(ctx)
	if err != nil {
		return 0, err
	}
	v, found, err := harness.MetricSum(text, name, nil)
	if err != nil {
		return 0, fmt.Errorf("coredns /metrics: %w", err)
	}
	if !found {
		return 0, fmt.Errorf("coredns /metrics has no %s", name)
	}
	return v, nil
}

// HeapInuse is go_memstats_heap_inuse_bytes from /metrics.
func (s *Server) HeapInuse(ctx context.Context) (float64, error) {
	return s.Metric(ctx, "go_memstats_heap_inuse_bytes")
}

// ForceGC makes coredns collect garbage now, through the pprof plugin's heap profile (?gc=1),
// so a heap figure holds live data rather than wherever the GC cycle happened to be.
func (s *Server) ForceGC(ctx context.Context) error {
	if s.Conf.Pprof == "" {
		return errors.New("force GC: the Corefile has no pprof plugin")
	}
	url := "http://" + s.Conf.Pprof + "/debug/pprof/heap?gc=1"
	code, err := httpGet(ctx, url, io.Discard)
	if err != nil {
		return fmt.Errorf("force GC: %w", err)
	}
	if code != http.StatusOK {
		return fmt.Errorf("force GC: GET %s: status %d", url, code)
	}
	return nil
}

// CPUProfile records a CPU profile of seconds into path.
func (s *Server) CPUProfile(ctx context.Context, seconds int, path string) error {
	if s.Conf.Pprof == "" {
		return errors.New("CPU profile: the Corefile has no pprof plugin")
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("CPU profile: %w", err)
	}
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.Conf.Pprof, seconds)
	code, err := httpGet(ctx, url, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && code != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d", url, code)
	}
	if err != nil {
		return fmt.Errorf("CPU profile: %w", err)
	}
	return nil
}

// Memory is what /proc/PID/status says of the process: resident set now and at its peak.
type Memory struct {
	RSS, PeakRSS float64 // bytes
}

// ProcMemory reads VmRSS and VmHWM of the process.
func (s *Server) ProcMemory() (Memory, error) {
	return procMemory(s.PID())
}

// procMemory reads VmRSS and VmHWM of process pid.
func procMemory(pid int) (Memory, error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	f, err := os.Open(path)
	if err != nil {
		return Memory{}, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	defer f.Close()
	var m Memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *float64
		switch key {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.PeakRSS
		default:
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 64)
		if err != nil {
			return Memory{}, fmt.Errorf("%s: %s: %w", path, key, err)
		}
		*dst = kb * 1024
	}
	if err := sc.Err(); err != nil {
		return Memory{}, fmt.Errorf("read %s: %w", path, err)
	}
	if m.RSS == 0 {
		return Memory{}, fmt.Errorf("%s has no VmRSS", path)
	}
	return m, nil
}

// CPUTime is the user and system CPU time the process has used so far.
func (s *Server) CPUTime() (time.Duration, error) {
	t, err := procTicks(s.PID())
	if err != nil {
		return 0, fmt.Errorf("coredns CPU time: %w", err)
	}
	return time.Duration(t) * clockTick, nil
}

// httpClient is for loopback requests to coredns; a CPU profile takes its full duration.
var httpClient = &http.Client{Timeout: 2 * time.Minute}

// httpGet copies the body of url into w and returns the status code.
func httpGet(ctx context.Context, url string, w io.Writer) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return 0, fmt.Errorf("read %s: %w", url, err)
	}
	return resp.StatusCode, nil
}

// lastLines is the last n lines of text.
func lastLines(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
