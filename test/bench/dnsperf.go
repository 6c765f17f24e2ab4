package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// ErrNoDnsperf is what a run without dnsperf fails with; make deps installs it.
var ErrNoDnsperf = errors.New("dnsperf missing: run make deps")

// CheckDnsperf returns ErrNoDnsperf unless dnsperf is on PATH.
func CheckDnsperf() error {
	if _, err := exec.LookPath("dnsperf"); err != nil {
		return ErrNoDnsperf
	}
	return nil
}

// WriteQueries writes a dnsperf data file asking A for each name, in an order shuffled with a
// fixed seed, so every plugin sees its names in the same order and no cache line stays warm by
// accident of the order.
func WriteQueries(path string, names []string) error {
	order := rand.New(rand.NewPCG(1, 2)).Perm(len(names))
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write dnsperf queries: %w", err)
	}
	w := bufio.NewWriter(f)
	for _, i := range order {
		fmt.Fprintf(w, "%s A\n", names[i])
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write dnsperf queries: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write dnsperf queries: %w", err)
	}
	return nil
}

// Perf is one dnsperf run's settings.
type Perf struct {
	Seconds     int // -l
	Clients     int // -c: clients, each its own socket
	Outstanding int // -q: queries in flight at most; with QPS 0 this is what saturates
	QPS         int // -Q: the fixed rate; 0 for as fast as the server answers
	Verbose     bool
	// CPUs, if not empty, binds dnsperf to these CPUs (a taskset list).
	CPUs string
}

// PerfResult is what dnsperf reported.
type PerfResult struct {
	Command   string
	Sent      int
	Completed int
	Lost      int
	QPS       float64
	RunTime   float64 // seconds dnsperf sent queries for
	Rcodes    map[string]int
	// Latencies are the seconds of each answered query, with Verbose only.
	Latencies []float64
	// ClientCPU is the CPU time dnsperf used over its wall time: near 1 (or its thread
	// count) means dnsperf, not the server, set the pace.
	ClientCPU float64
}

// args is the dnsperf command line for server addr and the query file.
func (p Perf) args(addr, queries string) ([]string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dnsperf server %q: %w", addr, err)
	}
	args := []string{"-s", host, "-p", port, "-d", queries, "-l", strconv.Itoa(p.Seconds),
		"-c", strconv.Itoa(p.Clients), "-q", strconv.Itoa(p.Outstanding), "-t", "2"}
	if p.QPS > 0 {
		args = append(args, "-Q", strconv.Itoa(p.QPS))
	}
	if p.Verbose {
		args = append(args, "-v")
	}
	return args, nil
}

// Run runs dnsperf against addr with the query file queries, writing its output to out.
func (p Perf) Run(ctx context.Context, addr, queries, out string) (PerfResult, error) {
	args, err := p.args(addr, queries)
	if err != nil {
		return PerfResult{}, err
	}
	args = append([]string{"dnsperf"}, args...)
	if p.CPUs != "" {
		args = append([]string{"taskset", "-c", p.CPUs}, args...)
	}
	command := strings.Join(args, " ")
	f, err := os.Create(out)
	if err != nil {
		return PerfResult{}, fmt.Errorf("%s: %w", command, err)
	}
	defer f.Close()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = f, f
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return PerfResult{}, fmt.Errorf("%s: %w (output in %s)", command, err, out)
	}
	wall := time.Since(start)
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return PerfResult{}, fmt.Errorf("%s: %w", command, err)
	}
	r, err := ParsePerf(f)
	if err != nil {
		return PerfResult{}, fmt.Errorf("%s: %w (output in %s)", command, err, out)
	}
	r.Command = command
	// Over dnsperf's sending time, not the process's life: after sending it only waits for
	// the last answers.
	r.ClientCPU = cpu.Seconds() / min(r.RunTime, wall.Seconds())
	return r, nil
}

// ParsePerf reads dnsperf's output: its statistics, and with -v the latency of every answer
// (lines "> RCODE name type seconds"; a timed-out query shows "T" for its RCODE).
func ParsePerf(r io.Reader) (PerfResult, error) {
	res := PerfResult{Rcodes: map[string]int{}}
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "> "); ok {
			f := strings.Fields(rest)
			if len(f) >= 4 && f[0] != "T" {
				if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
					res.Latencies = append(res.Latencies, v)
				}
			}
			continue
		}
		key, val, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		var err error
		switch key {
		case "Queries sent":
			res.Sent, err = leadingInt(val)
		case "Queries completed":
			res.Completed, err = leadingInt(val)
		case "Queries lost":
			res.Lost, err = leadingInt(val)
		case "Queries per second":
			res.QPS, err = strconv.ParseFloat(val, 64)
		case "Run time (s)":
			res.RunTime, err = strconv.ParseFloat(val, 64)
		case "Response codes":
			err = parseRcodes(val, res.Rcodes)
		default:
			continue
		}
		if err != nil {
			return res, fmt.Errorf("dnsperf output %q: %w", line, err)
		}
		seen[key] = true
	}
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("read dnsperf output: %w", err)
	}
	for _, key := range []string{"Queries sent", "Queries completed", "Queries lost", "Queries per second", "Run time (s)"} {
		if !seen[key] {
			return res, fmt.Errorf("dnsperf output has no %q", key)
		}
	}
	return res, nil
}

func leadingInt(s string) (int, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return 0, errors.New("no number")
	}
	return strconv.Atoi(f[0])
}

// parseRcodes reads "NOERROR 10 (50.00%), NXDOMAIN 10 (50.00%)" into m.
func parseRcodes(s string, m map[string]int) error {
	for part := range strings.SplitSeq(s, ",") {
		f := strings.Fields(part)
		if len(f) < 2 {
			return fmt.Errorf("response codes %q", s)
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			return fmt.Errorf("response codes %q: %w", s, err)
		}
		m[f[0]] += n
	}
	return nil
}

// Unexpected counts the answers whose RCODE is not want.
func (r PerfResult) Unexpected(want string) int {
	n := 0
	for code, c := range r.Rcodes {
		if code != want {
			n += c
		}
	}
	return n
}
