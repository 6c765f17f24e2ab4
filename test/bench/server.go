package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/podname/podname/test/harness"
)

// Server is a running bin/coredns on a bench Corefile, which names its ready, metrics and pprof
// addresses (for the sync time, heap figures, a forced GC and a CPU profile).
type Server struct {
	*harness.CoreDNS
	Conf Corefile
}

// StartServer writes conf into dir and starts bin/coredns on it.
func StartServer(dir string, conf Corefile) (*Server, error) {
	return StartServerOn(dir, conf, "")
}

// StartServerOn is StartServer with the process bound to cpus (a taskset list such as "0"),
// unless cpus is empty, and with env added to its environment. An env that sets one of the
// bench's switches (PODNAME_BENCH_*) runs bin/coredns-bench, the build that reads them.
func StartServerOn(dir string, conf Corefile, cpus string, env ...string) (*Server, error) {
	o := harness.ProcessOptions{CPUs: cpus, Env: env}
	if slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, benchSwitchPrefix) }) {
		o.Binary = benchBinary
	}
	c, err := harness.StartCoreDNS(dir, conf.Text, conf.Endpoints, o)
	if err != nil {
		return nil, err
	}
	return &Server{CoreDNS: c, Conf: conf}, nil
}

// metric is the sum of the samples of metric name, read from /metrics; a metric absent is an
// error.
func (s *Server) metric(ctx context.Context, name string) (float64, error) {
	v, found, err := s.Metric(ctx, name, nil)
	if err == nil && !found {
		err = fmt.Errorf("coredns /metrics has no %s", name)
	}
	return v, err
}

// HeapInuse is go_memstats_heap_inuse_bytes from /metrics.
func (s *Server) HeapInuse(ctx context.Context) (float64, error) {
	return s.metric(ctx, "go_memstats_heap_inuse_bytes")
}

// ForceGC makes coredns collect garbage now, through the pprof plugin's heap profile (?gc=1),
// so a heap figure holds live data rather than wherever the GC cycle happened to be.
func (s *Server) ForceGC(ctx context.Context) error {
	if s.PprofAddr == "" {
		return errors.New("force GC: the Corefile has no pprof plugin")
	}
	url := "http://" + s.PprofAddr + "/debug/pprof/heap?gc=1"
	code, err := harness.Get(ctx, url, io.Discard)
	if err != nil {
		return fmt.Errorf("force GC: %w", err)
	}
	if code != http.StatusOK {
		return fmt.Errorf("force GC: GET %s: status %d", url, code)
	}
	return nil
}

// liveHeap is the median of three reads of HeapInuse, each after a forced GC.
func (s *Server) liveHeap(ctx context.Context) (float64, error) {
	var reads []float64
	for range 3 {
		if err := s.ForceGC(ctx); err != nil {
			return 0, err
		}
		h, err := s.HeapInuse(ctx)
		if err != nil {
			return 0, err
		}
		reads = append(reads, h)
	}
	return Median(reads), nil
}

// CPUProfile records a CPU profile of seconds into path.
func (s *Server) CPUProfile(ctx context.Context, seconds int, path string) error {
	if s.PprofAddr == "" {
		return errors.New("CPU profile: the Corefile has no pprof plugin")
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("CPU profile: %w", err)
	}
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.PprofAddr, seconds)
	code, err := harness.Get(ctx, url, f)
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

// ReadBytes is rchar of /proc/PID/io: the bytes the process has read so far through read(2)
// and its kin, from files and sockets alike.
func (s *Server) ReadBytes() (float64, error) {
	path := fmt.Sprintf("/proc/%d/io", s.PID())
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("coredns bytes read: %w", err)
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "rchar:"); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", path, err)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("%s has no rchar", path)
}
