package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Roles in the order the report lists them.
var ThroughputRoles = []string{RolePodname, RoleKubernetes, RoleFile, RoleWhoami}

// PerfRun is one dnsperf run against one server block.
type PerfRun struct {
	Role      string
	Command   string
	QPS       float64
	Sent      int
	Completed int
	Lost      int
	// Unexpected counts answers with an RCODE other than NOERROR; every name asked exists.
	Unexpected int
	// P50, P99 and Max are latencies in seconds, from runs with -v only.
	P50, P99, Max float64
	// ClientCPU and ServerCPU are the CPU dnsperf and coredns used over the run, in cores:
	// whichever is at its limit set the pace.
	ClientCPU, ServerCPU float64
}

func perfRun(role string, r PerfResult, server time.Duration) PerfRun {
	p := PerfRun{Role: role, Command: r.Command, QPS: r.QPS, Sent: r.Sent, Completed: r.Completed,
		Lost: r.Lost, Unexpected: r.Unexpected("NOERROR"), ClientCPU: r.ClientCPU}
	if r.RunTime > 0 {
		p.ServerCPU = server.Seconds() / r.RunTime
	}
	if len(r.Latencies) > 0 {
		p.P50, p.P99, p.Max = Percentile(r.Latencies, 50), Percentile(r.Latencies, 99), Max(r.Latencies)
	}
	return p
}

// ThroughputResult holds sections 1 (saturated QPS) and 2 (latency at a fixed rate).
type ThroughputResult struct {
	Pods      int
	Corefile  string
	Verified  map[string]Verified
	Saturated [][]PerfRun // by run, then role
	// LatencyQPS is the fixed rate of the latency runs: the configured one, or half the
	// lowest saturated rate if that is lower.
	LatencyQPS int
	Latency    [][]PerfRun
	// Profile is `go tool pprof -top` of coredns while dnsperf saturated podname.
	Profile        string
	ProfileCommand string
}

// Throughput measures podname, the kubernetes plugin, the file plugin and whoami in one
// coredns at pods pods, which must exist already.
func (b *Bench) Throughput(ctx context.Context, pods int) (*ThroughputResult, error) {
	res := &ThroughputResult{Pods: pods, Verified: map[string]Verified{}}
	dir := filepath.Join(b.work, "throughput")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("throughput: %w", err)
	}
	b.logf("throughput: headless Services over %d pods, waiting for their EndpointSlices", pods)
	if err := CreateServices(ctx, b.client, pods); err != nil {
		return nil, fmt.Errorf("throughput: %w", err)
	}
	if err := WaitEndpoints(ctx, b.client, pods); err != nil {
		return nil, fmt.Errorf("throughput: %w", err)
	}
	zonefile := filepath.Join(dir, "zone.db")
	if err := WriteZone(zonefile, pods); err != nil {
		return nil, fmt.Errorf("throughput: %w", err)
	}
	podnameWant, kubeWant := make([]Expect, pods), make([]Expect, pods)
	podnameNames, kubeNames := make([]string, pods), make([]string, pods)
	for i := range pods {
		podnameNames[i], kubeNames[i] = PodName(i)+"."+Zone, KubernetesName(i)
		podnameWant[i] = Expect{Name: podnameNames[i], IP: PodIP(i)}
		kubeWant[i] = Expect{Name: kubeNames[i], IP: PodIP(i)}
	}
	queries := map[string]string{}
	for role, names := range map[string][]string{RolePodname: podnameNames, RoleKubernetes: kubeNames} {
		queries[role] = filepath.Join(dir, role+".queries")
		if err := WriteQueries(queries[role], names); err != nil {
			return nil, fmt.Errorf("throughput: %w", err)
		}
	}
	// file and whoami answer the very names podname does.
	queries[RoleFile], queries[RoleWhoami] = queries[RolePodname], queries[RolePodname]

	conf, err := ThroughputCorefile(b.kubeconfig, zonefile)
	if err != nil {
		return nil, fmt.Errorf("throughput: %w", err)
	}
	res.Corefile = conf.Text
	srv, err := StartServerOn(dir, conf, b.cfg.ServerCPUs)
	if err != nil {
		return nil, fmt.Errorf("throughput: %w", err)
	}
	defer srv.Stop()
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := srv.WaitReady(wctx); err != nil {
		return nil, fmt.Errorf("throughput: %w", err)
	}
	for role, want := range map[string][]Expect{RolePodname: podnameWant, RoleKubernetes: kubeWant, RoleFile: podnameWant} {
		v, err := AwaitAnswers(wctx, conf.DNS[role], want, 8)
		res.Verified[role] = v
		if err != nil {
			return nil, fmt.Errorf("throughput: %s: %w", role, err)
		}
	}
	if a, err := AskA(wctx, conf.DNS[RoleWhoami], podnameNames[0]); err != nil || a.Rcode != dns.RcodeSuccess {
		return nil, fmt.Errorf("throughput: whoami does not answer NOERROR: %v %v", a, err)
	}
	b.logf("throughput: every name answers right; %d runs of dnsperf -l %d per plugin", b.cfg.Runs, b.cfg.Perf.Seconds)

	// The order rotates from run to run, so no plugin always runs first (or last, after the
	// others warmed the CPU caches and the GC).
	run := func(p Perf, run int) ([]PerfRun, error) {
		out := make([]PerfRun, len(ThroughputRoles))
		for j := range ThroughputRoles {
			k := (j + run) % len(ThroughputRoles)
			role := ThroughputRoles[k]
			kind := "saturated"
			if p.QPS > 0 {
				kind = "latency"
			}
			before, err := srv.CPUTime()
			if err != nil {
				return nil, fmt.Errorf("throughput: %w", err)
			}
			outFile := filepath.Join(dir, fmt.Sprintf("%s-%d-%s.out", kind, run, role))
			r, err := p.Run(ctx, conf.DNS[role], queries[role], outFile)
			if err != nil {
				return nil, fmt.Errorf("throughput: %s: %w", role, err)
			}
			after, err := srv.CPUTime()
			if err != nil {
				return nil, fmt.Errorf("throughput: %w", err)
			}
			if p.Verbose {
				// A line per query: tens of MB once read.
				if err := os.Remove(outFile); err != nil {
					return nil, fmt.Errorf("throughput: %w", err)
				}
			}
			out[k] = perfRun(role, r, after-before)
			b.logf("  %s run %d %-10s %8.0f QPS  lost %d  p50 %.3f ms  p99 %.3f ms  CPU dnsperf %.2f coredns %.2f",
				kind, run+1, role, r.QPS, r.Lost, out[k].P50*1e3, out[k].P99*1e3, out[k].ClientCPU, out[k].ServerCPU)
		}
		return out, nil
	}
	for r := range b.cfg.Runs {
		runs, err := run(b.cfg.Perf, r)
		if err != nil {
			return nil, err
		}
		res.Saturated = append(res.Saturated, runs)
	}

	res.LatencyQPS = b.cfg.LatencyQPS
	lowest := math.Inf(1)
	for _, role := range ThroughputRoles {
		lowest = min(lowest, Median(res.SaturatedQPS(role)))
	}
	if half := int(lowest/2/1000) * 1000; half < res.LatencyQPS && half > 0 {
		res.LatencyQPS = half
	}
	lat := b.cfg.Perf
	lat.QPS, lat.Verbose = res.LatencyQPS, true
	for r := range b.cfg.Runs {
		runs, err := run(lat, r)
		if err != nil {
			return nil, err
		}
		res.Latency = append(res.Latency, runs)
	}

	if err := b.profile(ctx, srv, conf.DNS[RolePodname], queries[RolePodname], dir, res); err != nil {
		return nil, err
	}
	if err := srv.Stop(); err != nil {
		return nil, fmt.Errorf("throughput: %w", err)
	}
	b.logf("throughput: deleting the Services and waiting for their EndpointSlices to go")
	if err := DeleteServices(ctx, b.client, pods); err != nil {
		return nil, fmt.Errorf("throughput: %w", err)
	}
	return res, nil
}

// profile records a CPU profile of coredns during an extra saturated run against podname (not
// counted: profiling costs a few per cent) and keeps the top of it.
func (b *Bench) profile(ctx context.Context, srv *Server, addr, queries, dir string, res *ThroughputResult) error {
	path := filepath.Join(dir, "podname.cpu.pprof")
	seconds := max(b.cfg.Perf.Seconds-1, 1)
	errc := make(chan error, 1)
	go func() { errc <- srv.CPUProfile(ctx, seconds, path) }()
	perf, err := b.cfg.Perf.Run(ctx, addr, queries, filepath.Join(dir, "profiled-podname.out"))
	if err != nil {
		<-errc
		return fmt.Errorf("throughput: profiled run: %w", err)
	}
	if err := <-errc; err != nil {
		return fmt.Errorf("throughput: %w", err)
	}
	args := []string{"tool", "pprof", "-top", "-nodecount=25", path}
	out, err := exec.CommandContext(ctx, "go", args...).Output()
	if err != nil {
		return fmt.Errorf("throughput: go %s: %w", strings.Join(args, " "), err)
	}
	res.Profile = string(out)
	res.ProfileCommand = fmt.Sprintf("`GET http://%s/debug/pprof/profile?seconds=%d` (the pprof plugin) during `%s` (%.0f QPS), then `go tool pprof -top -nodecount=25`",
		srv.PprofAddr, seconds, perf.Command, perf.QPS)
	return nil
}

// SaturatedQPS is the QPS of role in each saturated run.
func (r *ThroughputResult) SaturatedQPS(role string) []float64 {
	return PerfField(r.Saturated, role, func(p PerfRun) float64 { return p.QPS })
}

// PerfField collects f of role's run from each run.
func PerfField(runs [][]PerfRun, role string, f func(PerfRun) float64) []float64 {
	var out []float64
	for _, run := range runs {
		for _, p := range run {
			if p.Role == role {
				out = append(out, f(p))
			}
		}
	}
	return out
}

// Ratios is a/b within each run, for roles a and b.
func Ratios(runs [][]PerfRun, a, b string, f func(PerfRun) float64) []float64 {
	xs, ys := PerfField(runs, a, f), PerfField(runs, b, f)
	out := make([]float64, 0, len(xs))
	for i := range min(len(xs), len(ys)) {
		out = append(out, xs[i]/ys[i])
	}
	return out
}
