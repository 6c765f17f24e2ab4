package bench

import (
	"math"
	"time"

	"github.com/podname/podname/test/harness"
)

// FakeResults is a run with every step measured, at made-up but plausible figures: enough
// samples for the plots to have their real shape. The tests of the bench and of its
// report use it.
func FakeResults() *Results {
	cfg := FullConfig()
	cfg.Sizes = []int{1000, 10000, 100000, 150000}
	cfg.ServerCPUs, cfg.Perf.CPUs = "0", "1"
	res := &Results{Command: "make bench", Config: cfg, Elapsed: 23 * time.Minute, LoadEnd: "1.90 1.40 0.80",
		Machine: Machine{CPUs: 2, CPUModel: "AMD EPYC 7B13", MemTotal: "24684084 kB", Kernel: "Linux 6.1.0",
			Go: "go1.26.8", CoreDNS: "CoreDNS-1.15.0", Dnsperf: "2.10.0", Commit: "8b133f8",
			Date: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), LoadStart: "0.10 0.20 0.30", Others: []string{"go test ./..."}},
		Creation: []Creation{{0, 1000, 2 * time.Second}, {1000, 10000, 15 * time.Second}, {10000, 100000, 150 * time.Second}},
		Cluster:  ClusterState{Pods: 100000, EtcdDBBytes: 300 << 20, APIServerRSS: 900 << 20},
		Problems: []string{"kubernetes: 1 SERVFAIL at 10k pods"},
		Skipped:  []string{"Zone transfers at 100k pods skipped: over the budget"},
	}
	res.Memory = append(res.Memory, MemorySample{Role: RoleWhoami, HeapInuse: 8 << 20, HeapInuseBeforeGC: 9 << 20, RSS: 40 << 20,
		CPU: 50 * time.Millisecond, Allocated: 4e6, Received: 1e4})
	// Per pod, by run r: sync, coredns's and the API server's CPU time in µs (etcd's a tenth of
	// the API server's), allocated and read in bytes.
	sample := func(role string, size, r int, env []string, sync, cpu, api, heap, alloc, read float64) MemorySample {
		us := func(v float64) time.Duration {
			return time.Duration(float64(size) * (v + float64(r)) * float64(time.Microsecond))
		}
		return MemorySample{Role: role, Env: env, Pods: size, Run: r, Sync: us(sync), CPU: us(cpu),
			SyncCPU:   map[string]time.Duration{"coredns": us(cpu), "kube-apiserver": us(api), "etcd": us(api / 10)},
			HeapInuse: 8<<20 + heap*float64(size), HeapInuseBeforeGC: 9<<20 + 4*heap/3*float64(size), RSS: 50<<20 + 5*heap/3*float64(size),
			Allocated: 4e6 + alloc*float64(size), Received: 1e4 + read*float64(size)}
	}
	for _, size := range cfg.Sizes {
		for r := range cfg.RunsAt(size) {
			res.Memory = append(res.Memory,
				sample(RolePodname, size, r, nil, 20, 10, 30, 300, 2000, 1000),
				sample(RolePodname, size, r, []string{EnvFullDecode}, 50, 45, 40, 440, 6000, 1000),
				sample(RoleKubernetes, size, r, nil, 30, 80, 50, 900, 9000, 1200))
			if size == cfg.RelistPods {
				res.Memory = append(res.Memory,
					sample(RolePodname, size, r, []string{EnvGzipOn}, 20, 10, 30, 300, 2000, 1000),
					sample(RolePodname, size, r, []string{EnvGzipOff}, 18, 8, 30, 300, 2000, 3000),
					sample(RolePodname, size, r, []string{EnvListWatch}, 25, 12, 40, 330, 2500, 1100))
			}
		}
	}
	run := func(role string, q float64) PerfRun {
		return PerfRun{Role: role, Command: "dnsperf -s 127.0.0.1 -p 1053", QPS: q, Sent: 100, Completed: 100, P50: 1e-4, P99: 1e-3, Max: 2e-3, ClientCPU: 0.5, ServerCPU: 1}
	}
	var sat [][]PerfRun
	for range cfg.Runs {
		sat = append(sat, []PerfRun{run(RolePodname, 45000), run(RoleKubernetes, 30000), run(RoleFile, 40000), run(RoleWhoami, 50000)})
	}
	res.Throughput = &ThroughputResult{Pods: 10000, Saturated: sat, Latency: sat, LatencyQPS: 20000, Corefile: "x {\n}\n",
		Profile: "flat  flat%\n", ProfileCommand: "go tool pprof -top"}
	// Delays spread evenly on a log scale between lo and hi seconds.
	delays := func(n int, lo, hi float64) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = lo * math.Pow(hi/lo, float64(i)/float64(n-1))
		}
		return xs
	}
	res.Churn = &ChurnResult{Rate: 50, Seconds: 60, Pool: 500, BackgroundPods: 100000,
		Appear: map[string][]float64{RolePodname: delays(300, 2e-4, 5e-3), RoleKubernetes: delays(300, 1e-2, 0.9)},
		Vanish: map[string][]float64{RolePodname: delays(300, 1e-4, 3e-3), RoleKubernetes: delays(300, 8e-3, 0.8)},
		Wrong:  map[string]int{RoleKubernetes: 1}, Failed: map[string]int{RoleKubernetes: 2}, Timeouts: map[string]int{},
		Created: map[string]int{RolePodname: 3000, RoleKubernetes: 3000}, Deleted: map[string]int{RolePodname: 3000, RoleKubernetes: 3000},
		Elapsed:  map[string]time.Duration{RolePodname: time.Minute, RoleKubernetes: 61 * time.Second},
		CPU:      map[string][]CPUUse{RolePodname: {{Name: "kube-apiserver", Cores: 0.8}}, RoleKubernetes: {{Name: "kube-controller-manager", Cores: 0.6}}},
		Corefile: map[string]string{RolePodname: "y {\n}\n", RoleKubernetes: "z {\n}\n"},
		Bad:      []string{"churn-12.churn: 10.0.0.1, want 10.0.0.2"}}
	res.Churn.Appear[RoleBIND], res.Churn.Vanish[RoleBIND] = delays(60, 0.05, 1.2), delays(60, 0.04, 1.6)
	bindLog := []harness.Transfer{}
	for range 60 {
		bindLog = append(bindLog, harness.Transfer{Zone: Zone + ".", Incremental: true, Messages: 1, Records: 300, Bytes: 40_000})
	}
	res.Churn.Secondary = &SecondaryResult{Every: 5, Corefile: "p {\n}\n", NamedConf: "options {\n};\n",
		First:       harness.Transfer{Zone: Zone + ".", Messages: 93, Records: 100504, Bytes: 5_999_814},
		Check:       XfrRun{Bytes: 6_000_000, Messages: 93, Records: 100504},
		FirstSerial: 123456, Transfers: bindLog, Changes: 6000, Elapsed: time.Minute,
		HeapWith: 52 << 20, HeapWithout: 50 << 20, RSSWith: 160 << 20, RSSWithout: 155 << 20, JournalRecords: 5000}
	// IXFR bytes: a fixed cost, then per change; 1000 changes within the target, 1 not.
	ixfrBytes := map[int]int{1: 500, 50: 13_300, 1000: 108_000}
	for _, pods := range []int{10_000, 100_000} {
		t := &TransferResult{Pods: pods, Corefile: "t {\n}\n", AXFR: map[string][]XfrRun{}}
		for r := range cfg.Runs {
			t.AXFR[RolePodname] = append(t.AXFR[RolePodname], XfrRun{Seconds: 2e-6 * float64(pods), Bytes: 58 * pods, Messages: pods / 1000, Records: pods + 4})
			t.AXFR[RoleFile] = append(t.AXFR[RoleFile], XfrRun{Seconds: 3e-6 * float64(pods), Bytes: 57 * pods, Messages: pods / 1000, Records: pods + 2})
			for _, n := range cfg.XfrChanges {
				t.IXFR = append(t.IXFR, IXFRRun{XfrRun: XfrRun{Seconds: 1e-3 + 1e-5*float64(n), Bytes: ixfrBytes[n], Messages: 1 + n/250, Records: 2 + 3*n},
					Changes: n, Run: r, Created: n - n/2, Deleted: n / 2, Incremental: true, Steps: n, ChangedBytes: 57 * n})
			}
		}
		res.Transfers = append(res.Transfers, t)
	}
	// A sawtooth of the GC around the steady heap, higher while the API server is down and
	// the informers relist, sampled every 100 ms from 5 s before the stop.
	relist := func(role string, steady, bump float64, env ...string) *RelistResult {
		r := &RelistResult{Role: role, Env: env, Pods: 100000, Steady: steady, SteadyMax: 1.2 * steady, SteadyRSS: 2 * steady,
			Stopped: 5, Started: 8, Ready: 35}
		if role == RolePodname {
			r.Resynced = 38
		}
		for i := range 600 {
			t := float64(i) / 10
			h := steady * (0.85 + 0.3*math.Mod(t, 4)/4)
			if t > r.Started && t < r.Ready+5 {
				h *= bump
			}
			r.Samples = append(r.Samples, RelistSample{T: t, Heap: h})
			r.Peak, r.PeakRSS = math.Max(r.Peak, h), math.Max(r.PeakRSS, 2*h)
		}
		return r
	}
	largest := relist(RolePodname, 60<<20, 1.25)
	largest.Pods = 150000
	res.Relist = []*RelistResult{relist(RolePodname, 40<<20, 1.3), relist(RoleKubernetes, 80<<20, 1.6), relist(RolePodname, 38<<20, 1.2, "GOGC=50"),
		relist(RolePodname, 50<<20, 1.8, EnvFullDecode), largest}
	res.Largest = &PerfRun{Role: RolePodname, Command: "dnsperf -s 127.0.0.1 -p 1054", QPS: 40000, Sent: 400000, Completed: 400000, ClientCPU: 0.5, ServerCPU: 1}
	res.Micro = &MicroResult{Command: "go test -bench .", Order: []string{"BenchmarkServeDNS/hit/podname", "BenchmarkIndexMemory", "BenchmarkSync/slim"},
		Runs: map[string]map[string][]float64{
			"BenchmarkServeDNS/hit/podname": {"ns/op": {203, 207, 210}, "B/op": {64, 64, 64}, "allocs/op": {2, 2, 2}},
			"BenchmarkIndexMemory":          {"ns/op": {6.9e8}, "bytes/pod": {351}},
			"BenchmarkSync/slim":            {"ns/op": {1.3e9}, "heap-B/pod": {395.4}, "relist-alloc-B/pod": {1241}},
		}}
	return res
}
