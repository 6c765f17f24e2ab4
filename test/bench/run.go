package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/podname/podname/test/cluster"
	"github.com/podname/podname/test/harness"

	"k8s.io/client-go/kubernetes"
)

// Config says what a run measures and how hard.
type Config struct {
	// Sizes are the pod counts of the memory and sync figures, ascending.
	Sizes []int
	// ThroughputPods is the pod count of the throughput and latency figures.
	ThroughputPods int
	// Runs is how many times each figure is measured; reports give the median.
	Runs int
	// LargestRuns, if set, is how many times the memory and sync figures are measured at the
	// largest size when it is above ThroughputPods and RelistPods: 1 keeps Kubernetes'
	// per-cluster limit in the run at the cost of its pods' creation alone.
	LargestRuns int
	// LargestRelist restarts the API server under podname at the largest size too (if the
	// budget leaves time for it).
	LargestRelist bool
	// Perf is the saturated dnsperf run; LatencyQPS the rate of the latency runs, lowered to
	// half the slowest plugin's saturated rate if that is less.
	Perf       Perf
	LatencyQPS int
	// Churn: creations (and as many deletions) per second, for how long, on a pool of pods.
	ChurnRate, ChurnSeconds, ChurnPool int
	// RelistPods is the pod count at which the API server is restarted, then churn runs.
	RelistPods                 int
	RelistSteady, RelistWindow time.Duration
	// XfrChanges are the pod changes (creations and deletions) each IXFR figure follows, at
	// ThroughputPods and RelistPods, where the AXFR figures are taken.
	XfrChanges []int
	// SecondaryEvery is how often BIND, following podname under churn, is asked for a pod: for
	// every SecondaryEvery-th, to keep its questions from taking the CPUs the churn needs.
	SecondaryEvery int
	// ServerCPUs and Perf.CPUs, if set, bind the throughput coredns and dnsperf to CPUs of
	// their own (taskset lists), so that the server, not the client, sets the pace and the
	// ratios compare the plugins' own cost.
	ServerCPUs string
	// Workers is how many clients create pods at once.
	Workers int
	// MicroArgs are the arguments of `go test` for the Go benchmarks; none skips them.
	MicroArgs []string
	// Budget, if set, bounds the run's length: a size above ThroughputPods and RelistPods,
	// other than the largest, is skipped if creating its pods and measuring it would, at the
	// rates seen so far, end the run later than Budget after its start; so is the relist at
	// the largest size.
	Budget time.Duration
}

// FullConfig is what `make bench` measures.
func FullConfig() Config {
	return Config{
		Sizes:          []int{1_000, 10_000, 50_000, 100_000, 150_000},
		ThroughputPods: 10_000,
		Runs:           3,
		LargestRuns:    1,
		LargestRelist:  true,
		Perf:           Perf{Seconds: 10, Clients: 20, Outstanding: 200, CPUs: clientCPUs()},
		ServerCPUs:     serverCPUs(),
		LatencyQPS:     20_000,
		ChurnRate:      50, ChurnSeconds: 60, ChurnPool: 500,
		RelistPods:   100_000,
		RelistSteady: 5 * time.Second, RelistWindow: 15 * time.Second,
		XfrChanges: []int{1, 50, 1000}, SecondaryEvery: 5,
		Workers:   16,
		Budget:    40 * time.Minute,
		MicroArgs: []string{"-run", "^$", "-bench", ".", "-benchmem", "-count", "3", "./plugin/podname/..."},
	}
}

// serverCPUs and clientCPUs split the machine between the throughput coredns (CPU 0) and
// dnsperf (the rest); with one CPU there is nothing to split.
func serverCPUs() string {
	if runtime.NumCPU() < 2 {
		return ""
	}
	return "0"
}

func clientCPUs() string {
	switch n := runtime.NumCPU(); n {
	case 1:
		return ""
	case 2:
		return "1"
	default:
		return fmt.Sprintf("1-%d", n-1)
	}
}

// SmokeConfig runs every step of FullConfig at a size that takes seconds, to prove the code
// path works; its figures mean nothing.
func SmokeConfig() Config {
	return Config{
		Sizes:          []int{100, 200, 300},
		ThroughputPods: 200,
		Runs:           1,
		LargestRuns:    1,
		Perf:           Perf{Seconds: 2, Clients: 20, Outstanding: 200, CPUs: clientCPUs()},
		ServerCPUs:     serverCPUs(),
		LatencyQPS:     2_000,
		ChurnRate:      10, ChurnSeconds: 3, ChurnPool: 20,
		RelistPods:   200,
		RelistSteady: 500 * time.Millisecond, RelistWindow: 3 * time.Second,
		XfrChanges: []int{1, 4, 10}, SecondaryEvery: 1,
		Workers:   8,
		MicroArgs: []string{"-run", "^$", "-bench", ".", "-benchmem", "-benchtime", "1x", "-count", "1", "./plugin/podname/..."},
	}
}

// Validate reports a Config that cannot run.
func (c Config) Validate() error {
	switch {
	case len(c.Sizes) == 0 || !slices.IsSorted(c.Sizes) || c.Sizes[0] <= 0:
		return fmt.Errorf("sizes %v: want at least one, ascending, positive", c.Sizes)
	case c.Sizes[len(c.Sizes)-1] > maxPods():
		return fmt.Errorf("sizes %v: at most %d pods fit in %s", c.Sizes, maxPods(), podPrefix)
	case c.ThroughputPods <= 0 || c.RelistPods <= 0:
		return errors.New("throughput and relist pod counts must be positive")
	case c.Runs < 1 || c.LargestRuns < 0:
		return errors.New("runs must be at least 1, largest runs at least 0")
	case c.Perf.Seconds < 1 || c.Perf.Clients < 1 || c.Perf.Outstanding < 1 || c.LatencyQPS < 1:
		return errors.New("dnsperf settings must be positive")
	case c.ChurnRate < 1 || c.ChurnSeconds < 1 || c.ChurnPool < c.ChurnRate:
		return errors.New("churn: rate and seconds must be positive, the pool at least the rate")
	case c.Workers < 1:
		return errors.New("workers must be at least 1")
	case 2*(c.ChurnPool+c.ChurnRate*c.ChurnSeconds) > xfrFirst:
		return fmt.Errorf("churn: its two passes' %d pods overlap the IXFR figures' from %d", 2*(c.ChurnPool+c.ChurnRate*c.ChurnSeconds), xfrFirst)
	case len(c.XfrChanges) == 0 || !slices.IsSorted(c.XfrChanges) || c.XfrChanges[0] <= 0:
		return fmt.Errorf("IXFR changes %v: want at least one, ascending, positive", c.XfrChanges)
	case xfrFirst+xfrPodsNeeded(c) > 1<<(32-churnPrefix.Bits()):
		return fmt.Errorf("IXFR changes %v over %d runs: %d pods do not fit in %s", c.XfrChanges, c.Runs, xfrPodsNeeded(c), churnPrefix)
	case c.SecondaryEvery < 1:
		return errors.New("secondary: every must be at least 1")
	}
	return nil
}

// xfrPodsNeeded is how many pods the IXFR figures create at one size: a pool to delete from,
// then half of each change count, per run.
func xfrPodsNeeded(c Config) int {
	n := slices.Max(c.XfrChanges) / 2
	for _, k := range c.XfrChanges {
		n += c.Runs * (k - k/2)
	}
	return n
}

// xfrSizes are the zone sizes of the transfer figures: those of throughput and of churn.
func (c Config) xfrSizes() []int {
	return slices.Compact(slices.Sorted(slices.Values([]int{c.ThroughputPods, c.RelistPods})))
}

// Results is everything one run measured.
type Results struct {
	// Command is the command line that measured them.
	Command    string
	Config     Config
	Machine    Machine
	Micro      *MicroResult
	Throughput *ThroughputResult
	// Memory: podname (also with the full decode, and with gzip forced on and off at
	// RelistPods), kubernetes and the whoami baseline.
	Memory []MemorySample
	// Largest is podname's saturated throughput alone at the largest size, if that is above
	// ThroughputPods.
	Largest   *PerfRun
	Relist    []*RelistResult
	Churn     *ChurnResult
	Transfers []*TransferResult // by zone size, ascending
	Creation  []Creation
	Cluster   ClusterState
	LoadEnd   string
	Elapsed   time.Duration
	// Problems are wrong answers and failed queries: the report shows them, and the run fails.
	Problems []string
	// Skipped says which sizes and steps the budget left out, and why.
	Skipped []string
}

// Creation is one step of growing the population.
type Creation struct {
	From, To int
	Elapsed  time.Duration
}

// ClusterState is the control plane at the largest size.
type ClusterState struct {
	Pods         int
	EtcdDBBytes  float64
	APIServerRSS float64
}

// Bench is a run in progress.
type Bench struct {
	begin      time.Time
	cfg        Config
	cluster    *cluster.Cluster
	client     kubernetes.Interface
	kubeconfig string
	work       string
	log        io.Writer
}

func (b *Bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// Run measures everything cfg asks for, keeping its files (the cluster's data and logs, every
// Corefile, coredns log and dnsperf output) under work. A run that measured everything but saw
// wrong answers returns its Results with the error.
func Run(ctx context.Context, cfg Config, work string, log io.Writer) (*Results, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bench config: %w", err)
	}
	if err := CheckDnsperf(); err != nil {
		return nil, err
	}
	coredns, err := harness.Binary()
	if err != nil {
		return nil, err
	}
	root, err := harness.RepoRoot()
	if err != nil {
		return nil, err
	}
	begin := time.Now()
	b := &Bench{begin: begin, cfg: cfg, work: work, log: log}
	res := &Results{Config: cfg, Machine: Describe(root, coredns)}
	b.logf("%d CPUs (%s), load %s; work dir %s", res.Machine.CPUs, res.Machine.CPUModel, res.Machine.LoadStart, work)

	// The Go benchmarks first, while no cluster shares the CPUs.
	if len(cfg.MicroArgs) > 0 {
		b.logf("go test %s", strings.Join(cfg.MicroArgs, " "))
		if res.Micro, err = Microbenchmarks(ctx, root, cfg.MicroArgs); err != nil {
			return nil, err
		}
	}

	if err := cluster.CheckBinaries(); err != nil {
		return nil, err
	}
	b.logf("starting the cluster")
	b.cluster, err = cluster.Start(ctx, cluster.Options{Dir: filepath.Join(work, "cluster"), LogDir: filepath.Join(work, "cluster-logs")})
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := b.cluster.Stop(); err != nil {
			b.logf("stop cluster: %v", err)
		}
	}()
	b.kubeconfig = b.cluster.Kubeconfig()
	rc := b.cluster.RESTConfig()
	// Pods are written as fast as the API server takes them; client-side throttling at the
	// default 5 QPS would measure the client instead.
	rc.QPS, rc.Burst = 5000, 10000
	rc.ContentType = "application/vnd.kubernetes.protobuf"
	if b.client, err = kubernetes.NewForConfig(rc); err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if err := Setup(ctx, b.client, churnNamespace); err != nil {
		return nil, err
	}
	hbCtx, stopHeartbeat := context.WithCancel(ctx)
	hbDone := make(chan int, 1)
	go func() { hbDone <- KeepNodeReady(hbCtx, b.client) }()
	defer func() {
		stopHeartbeat()
		if n := <-hbDone; n > 0 {
			b.logf("%d node heartbeats failed (expected while the API server was down)", n)
		}
	}()

	err = b.measure(ctx, res)
	res.Elapsed = time.Since(begin)
	res.LoadEnd = LoadAvg()
	if err != nil {
		return res, err
	}
	res.Problems = problems(res)
	if len(res.Problems) > 0 {
		return res, fmt.Errorf("wrong or failed answers: %s", strings.Join(res.Problems, "; "))
	}
	return res, nil
}

// measure grows the population through every size and takes each figure at its size.
func (b *Bench) measure(ctx context.Context, res *Results) error {
	cfg := b.cfg
	steps := slices.Clone(cfg.Sizes)
	steps = append(steps, cfg.ThroughputPods, cfg.RelistPods)
	slices.Sort(steps)
	steps = slices.Compact(steps)

	b.logf("baseline: whoami alone, %d runs", cfg.Runs)
	for r := range cfg.Runs {
		s, err := b.Memory(ctx, RoleWhoami, 0, r)
		if err != nil {
			return err
		}
		b.logf("memory whoami run %d: heap %.1f MiB RSS %.1f MiB", r+1, s.HeapInuse/(1<<20), s.RSS/(1<<20))
		res.Memory = append(res.Memory, s)
	}
	have := 0
	// The pace of the last size's memory figures, for the budget.
	var lastMemory time.Duration
	lastSize := 0
	for _, size := range steps {
		if why := b.overBudget(res, size, have, lastMemory, lastSize); why != "" {
			b.logf("%s", why)
			res.Skipped = append(res.Skipped, why)
			continue
		}
		if size > have {
			if err := b.grow(ctx, res, have, size); err != nil {
				return err
			}
			have = size
		}
		if slices.Contains(cfg.Sizes, size) {
			start := time.Now()
			if err := b.memoryAt(ctx, res, size); err != nil {
				return err
			}
			lastMemory, lastSize = time.Since(start), size
		}
		if size == cfg.ThroughputPods {
			t, err := b.Throughput(ctx, size)
			if err != nil {
				return err
			}
			res.Throughput = t
		}
		if slices.Contains(cfg.xfrSizes(), size) {
			if err := b.transfersAt(ctx, res, size); err != nil {
				return err
			}
		}
		if size == cfg.RelistPods {
			if err := b.churnAndRelist(ctx, res, size); err != nil {
				return err
			}
		}
		if size == cfg.LargestSize() {
			if err := b.atLargest(ctx, res, size); err != nil {
				return err
			}
		}
	}
	res.Cluster = b.clusterState(ctx, have)
	return nil
}

// overBudget says why size is skipped, or nothing if it is not: a size above ThroughputPods
// and RelistPods, other than the largest (measured whatever the budget), is skipped if
// creating its pods at the rate seen so far, and measuring its memory at the last size's pace,
// would end the run after its budget.
func (b *Bench) overBudget(res *Results, size, have int, lastMemory time.Duration, lastSize int) string {
	cfg := b.cfg
	if size <= cfg.ThroughputPods || size <= cfg.RelistPods || size == cfg.LargestSize() || cfg.Budget <= 0 || have == 0 {
		return ""
	}
	rate := creationRate(res)
	est := time.Duration(float64(size-have)/rate*float64(time.Second)) + lastMemory*time.Duration(size)/time.Duration(max(lastSize, 1))
	end := time.Since(b.begin) + est
	if end <= cfg.Budget {
		return ""
	}
	return fmt.Sprintf("%s pods skipped: at %.0f pods/s and the last memory step's pace, the run would have taken about %s, over its budget of %s",
		CountLabel(float64(size)), rate, end.Round(time.Minute), cfg.Budget)
}

// fits says whether a step that takes about est, started now, and then what must follow it
// (about then) end within the run's budget; if not, it records why the step is skipped.
func (b *Bench) fits(res *Results, step string, est, then time.Duration) bool {
	end := time.Since(b.begin) + est + then
	if b.cfg.Budget <= 0 || end <= b.cfg.Budget {
		return true
	}
	why := fmt.Sprintf("%s skipped: it takes about %s, and with the steps that must follow, the run would have taken about %s, over its budget of %s",
		step, est.Round(time.Second), end.Round(time.Minute), b.cfg.Budget)
	b.logf("%s", why)
	res.Skipped = append(res.Skipped, why)
	return false
}

// creationRate is the pods per second created so far, for the budget; 100 before any.
func creationRate(res *Results) float64 {
	pods, took := 0, time.Duration(0)
	for _, c := range res.Creation {
		pods, took = pods+c.To-c.From, took+c.Elapsed
	}
	if pods == 0 || took <= 0 {
		return 100
	}
	return float64(pods) / took.Seconds()
}

// ahead is about how long what must still run after a step at size takes, at the least:
// creating the pods up to RelistPods, and on to the largest size (never skipped), at the rate
// seen so far, the two churn passes, and the four API server restarts.
func (b *Bench) ahead(res *Results, size int) time.Duration {
	cfg := b.cfg
	create := time.Duration(float64(max(max(cfg.RelistPods, cfg.LargestSize())-size, 0)) / creationRate(res) * float64(time.Second))
	churn := time.Duration(cfg.ChurnSeconds)*time.Second + 30*time.Second
	return create + 2*churn + 4*(cfg.RelistSteady+cfg.RelistWindow+time.Minute)
}

// transfersAt takes the AXFR and IXFR figures at size, if the budget leaves time for them and
// what follows: the pods their changes create (a deletion costs about what a creation does) at
// the rate seen so far, and 30 s for the server's start and the transfers.
func (b *Bench) transfersAt(ctx context.Context, res *Results, size int) error {
	pods := 2 * xfrPodsNeeded(b.cfg)
	est := time.Duration(float64(pods)/creationRate(res)*float64(time.Second)) + 30*time.Second
	if !b.fits(res, fmt.Sprintf("Zone transfers at %s pods", CountLabel(float64(size))), est, b.ahead(res, size)) {
		return nil
	}
	b.logf("transfers at %d pods: AXFR of podname and file, IXFR after %v changes, %d runs", size, b.cfg.XfrChanges, b.cfg.Runs)
	t, err := b.Transfers(ctx, size)
	if err != nil {
		return err
	}
	res.Transfers = append(res.Transfers, t)
	return nil
}

// grow creates pods [have, size) of the population.
func (b *Bench) grow(ctx context.Context, res *Results, have, size int) error {
	b.logf("creating pods %d to %d", have, size)
	start := time.Now()
	err := CreatePods(ctx, b.client, have, size, b.cfg.Workers, func(done int, rate float64) {
		b.logf("  %d pods, %.0f pods/s", done, rate)
	})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	res.Creation = append(res.Creation, Creation{From: have, To: size, Elapsed: elapsed})
	b.logf("  %d pods in %s", size-have, elapsed.Round(time.Millisecond))
	return nil
}

// LargestSize is the largest size if it is above ThroughputPods and RelistPods, else 0.
func (c Config) LargestSize() int {
	if n := c.Sizes[len(c.Sizes)-1]; n > c.ThroughputPods && n > c.RelistPods {
		return n
	}
	return 0
}

// RunsAt is how many times the memory and sync figures are measured at size.
func (c Config) RunsAt(size int) int {
	if size == c.LargestSize() && c.LargestRuns > 0 {
		return c.LargestRuns
	}
	return c.Runs
}

// memoryVariant is a coredns measured by Memory: a role and what its environment adds.
type memoryVariant struct {
	role string
	env  []string
}

// memoryVariants are what memoryAt measures at size: podname, podname decoding whole Pods,
// and the kubernetes plugin; at RelistPods also podname with gzip forced on and off, and
// listing then watching instead of client-go's default watch-list.
func (c Config) memoryVariants(size int) []memoryVariant {
	vs := []memoryVariant{{RolePodname, nil}, {RolePodname, []string{EnvFullDecode}}, {RoleKubernetes, nil}}
	if size == c.RelistPods {
		vs = append(vs, memoryVariant{RolePodname, []string{EnvGzipOn}}, memoryVariant{RolePodname, []string{EnvGzipOff}},
			memoryVariant{RolePodname, []string{EnvListWatch}})
	}
	return vs
}

// memoryAt takes the memory and sync figures of memoryVariants(size) at size.
func (b *Bench) memoryAt(ctx context.Context, res *Results, size int) error {
	for r := range b.cfg.RunsAt(size) {
		for _, v := range b.cfg.memoryVariants(size) {
			if err := b.settle(ctx); err != nil {
				return err
			}
			s, err := b.Memory(ctx, v.role, size, r, v.env...)
			if err != nil {
				return err
			}
			b.logf("memory %-10s %6d pods run %d: sync %5s CPU %5s allocated %6.0f MiB read %6.1f MiB heap %6.1f MiB RSS %6.1f MiB",
				s.Variant(), size, r+1, s.Sync.Round(time.Millisecond), s.CPU, s.Allocated/(1<<20), s.Received/(1<<20), s.HeapInuse/(1<<20), s.RSS/(1<<20))
			res.Memory = append(res.Memory, s)
		}
	}
	return nil
}

// atLargest takes podname's throughput alone at the largest size, then, if the Config asks
// for it and the budget leaves time for it, its relist there.
func (b *Bench) atLargest(ctx context.Context, res *Results, size int) error {
	p, err := b.ThroughputAlone(ctx, size)
	if err != nil {
		return err
	}
	res.Largest = p
	if !b.cfg.LargestRelist {
		return nil
	}
	est := 2*b.cfg.RelistWindow + b.cfg.RelistSteady + time.Minute
	if !b.fits(res, fmt.Sprintf("Relist at %s pods", CountLabel(float64(size))), est, 0) {
		return nil
	}
	b.logf("relist: %s at %d pods, API server restart", RolePodname, size)
	r, err := b.Relist(ctx, RolePodname, size, b.cfg.RelistSteady, b.cfg.RelistWindow)
	if err != nil {
		return err
	}
	b.logf("  steady %.1f MiB, peak %.1f MiB (%.2fx)", r.Steady/(1<<20), r.Peak/(1<<20), r.Peak/r.Steady)
	res.Relist = append(res.Relist, r)
	return nil
}

// churnAndRelist takes the churn figures at size, then restarts the API server under podname,
// the kubernetes plugin, podname with GOGC=50, and podname decoding whole Pods.
func (b *Bench) churnAndRelist(ctx context.Context, res *Results, size int) error {
	cfg := b.cfg
	// Churn first: after an API server restart the controller manager's EndpointSlice
	// informer lags ("informer cache is out of date") and the kubernetes plugin's figures
	// would measure that.
	// BIND and a second podname add their start (a sync and a full transfer at this size, about
	// 30 s at 100k pods) to podname's pass.
	every := cfg.SecondaryEvery
	if !b.fits(res, "BIND as a secondary under churn", 30*time.Second, b.ahead(res, size)) {
		every = 0
	}
	c, err := b.Churn(ctx, cfg.ChurnRate, cfg.ChurnSeconds, cfg.ChurnPool, size, every)
	if err != nil {
		return err
	}
	res.Churn = c
	// podname again with GOGC=50: how much of the peak is the GC letting garbage grow to
	// twice the live heap before it collects; and decoding whole Pods, the path before.
	for _, v := range []memoryVariant{{RolePodname, nil}, {RoleKubernetes, nil}, {RolePodname, []string{"GOGC=50"}}, {RolePodname, []string{EnvFullDecode}}} {
		b.logf("relist: %s %v at %d pods, API server restart", v.role, v.env, size)
		r, err := b.Relist(ctx, v.role, size, cfg.RelistSteady, cfg.RelistWindow, v.env...)
		if err != nil {
			return err
		}
		b.logf("  steady %.1f MiB, peak %.1f MiB (%.2fx)", r.Steady/(1<<20), r.Peak/(1<<20), r.Peak/r.Steady)
		res.Relist = append(res.Relist, r)
	}
	return nil
}

// clusterState reads the control plane's footprint; a figure it cannot read stays zero.
func (b *Bench) clusterState(ctx context.Context, pods int) ClusterState {
	st := ClusterState{Pods: pods}
	var text strings.Builder
	if code, err := harness.Get(ctx, b.cluster.EtcdURL()+"/metrics", &text); err == nil && code == 200 {
		st.EtcdDBBytes, _, _ = harness.MetricSum(text.String(), "etcd_mvcc_db_total_size_in_bytes", nil)
	}
	if pid, ok := b.cluster.PIDs()["kube-apiserver"]; ok {
		if m, err := procMemory(pid); err == nil {
			st.APIServerRSS = m.RSS
		}
	}
	return st
}

// problems lists wrong answers and failures in res.
func problems(res *Results) []string {
	var out []string
	// Section 4's "watch-list or list" must measure what it says: podname streams its list at
	// that size, and lists with the switch. The API server counts every client's watch-lists (a
	// component relisting adds one), so each run of podname must have seen one at least, and
	// one run of the list variant none.
	if pods := VariantPods(res, RoleListWatch); pods > 0 {
		least := map[string]float64{RolePodname: math.Inf(1), RoleListWatch: math.Inf(1)}
		for _, s := range res.Memory {
			if m, ok := least[s.Variant()]; ok && s.Pods == pods {
				least[s.Variant()] = min(m, s.PodWatchLists)
			}
		}
		if n := least[RolePodname]; n < 1 {
			out = append(out, fmt.Sprintf("%s at %d pods: a sync during which the API server served %.0f watch-lists of pods, want 1 at least", RolePodname, pods, n))
		}
		if n := least[RoleListWatch]; n != 0 {
			out = append(out, fmt.Sprintf("%s at %d pods: the API server served %.0f watch-lists of pods or more during every sync, want 0 in one", RoleListWatch, pods, n))
		}
	}
	if t := res.Throughput; t != nil {
		for role, v := range t.Verified {
			if v.Wrong > 0 {
				out = append(out, fmt.Sprintf("%s: %d wrong answers before dnsperf (%s)", role, v.Wrong, strings.Join(v.Bad, ", ")))
			}
		}
		for _, runs := range [][][]PerfRun{t.Saturated, t.Latency} {
			for _, run := range runs {
				for _, p := range run {
					if p.Unexpected > 0 {
						out = append(out, fmt.Sprintf("%s: %d answers other than NOERROR under dnsperf (%s)", p.Role, p.Unexpected, p.Command))
					}
				}
			}
		}
	}
	if p := res.Largest; p != nil && p.Unexpected > 0 {
		out = append(out, fmt.Sprintf("podname alone: %d answers other than NOERROR under dnsperf (%s)", p.Unexpected, p.Command))
	}
	for _, t := range res.Transfers {
		for _, x := range slices.Concat(t.AXFR[RolePodname], t.AXFR[RoleFile]) {
			if x.Mismatch != "" {
				out = append(out, x.Mismatch)
			}
		}
		for _, x := range t.IXFR {
			if x.Mismatch != "" {
				out = append(out, "podname: "+x.Mismatch)
			}
		}
	}
	if c := res.Churn; c != nil && c.Secondary != nil && c.Secondary.Check.Mismatch != "" {
		out = append(out, "podname, primary of BIND: "+c.Secondary.Check.Mismatch)
	}
	// Under churn only podname's failures, and BIND's, which follows podname, fail the run; the
	// kubernetes plugin's show in the report beside them.
	if c := res.Churn; c != nil {
		for _, role := range []string{RolePodname, RoleBIND} {
			if n := c.Wrong[role]; n > 0 {
				out = append(out, fmt.Sprintf("%s: %d wrong answers under churn", role, n))
			}
			if n := c.Timeouts[role]; n > 0 {
				out = append(out, fmt.Sprintf("%s: %d names not right within %s under churn", role, n, churnLimit))
			}
			if n := c.Failed[role]; n > 0 {
				out = append(out, fmt.Sprintf("%s: %d failed queries under churn", role, n))
			}
		}
		if len(out) > 0 && len(c.Bad) > 0 {
			out = append(out, "examples: "+strings.Join(c.Bad, "; "))
		}
	}
	return out
}

// RemoveClusterData removes the etcd data of a finished run from work; it is large and of no
// use once the cluster has stopped. Logs and measurements stay.
func RemoveClusterData(work string) error {
	if err := os.RemoveAll(filepath.Join(work, "cluster")); err != nil {
		return fmt.Errorf("remove cluster data: %w", err)
	}
	return nil
}
