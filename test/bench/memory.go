package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/podname/podname/test/harness"
)

// The environment of the bench's switches of podname, which only bin/coredns-bench reads (the
// podname_bench build, make build-bench; the product's build has neither): the old path that
// decodes whole Pods then projects them, and gzip of API responses forced on or off. And
// client-go's own switch of its streaming watch-list, off: a list, then a watch.
const (
	benchSwitchPrefix = "PODNAME_BENCH_"
	benchBinary       = "coredns-bench"
	EnvFullDecode     = "PODNAME_BENCH_DECODE=full"
	EnvGzipOn         = "PODNAME_BENCH_COMPRESSION=on"
	EnvGzipOff        = "PODNAME_BENCH_COMPRESSION=off"
	EnvListWatch      = "KUBE_FEATURE_WatchListClient=false"
)

// VariantName names role run with env: the role alone with coredns's default environment.
func VariantName(role string, env []string) string {
	if len(env) == 0 {
		return role
	}
	return role + " (" + strings.Join(env, " ") + ")"
}

// MemorySample is one coredns serving one plugin alone at a number of pods.
type MemorySample struct {
	Role string
	// Env is what was added to coredns's environment, if anything.
	Env  []string
	Pods int
	Run  int
	// Sync is from the process's start to /ready answering 200.
	Sync time.Duration
	// CPU is the CPU time (user and system) coredns had used when /ready first answered 200;
	// Allocated is go_memstats_alloc_bytes_total then (every byte the Go runtime allocated
	// since the start), Received the bytes coredns had read by then (rchar of /proc/PID/io:
	// every read(2), its files and the API server's responses as they came off the wire).
	CPU                 time.Duration
	Allocated, Received float64
	// SyncCPU is the CPU time each process used from just before coredns started to /ready
	// answering 200, by name: "coredns", the cluster's components ("kube-apiserver", "etcd",
	// ...), the bench, and other processes. Absent in results of older runs.
	SyncCPU map[string]time.Duration
	// PodWatchLists is how many watch-lists of pods the API server served meanwhile (see
	// podWatchLists): 1 when coredns streamed its list, 0 when it listed. 0 in older results.
	PodWatchLists float64
	// HeapInuse is go_memstats_heap_inuse_bytes after a forced GC; HeapInuseBeforeGC is the
	// same read just before it, wherever the GC cycle happened to be.
	HeapInuse, HeapInuseBeforeGC float64
	// RSS and PeakRSS are VmRSS and VmHWM after the forced GC.
	RSS, PeakRSS float64
}

// syncTimeout bounds a start-up at the largest sizes.
const syncTimeout = 3 * time.Minute

// VariantName is the sample's role and environment, as variant writes them.
func (s MemorySample) Variant() string { return VariantName(s.Role, s.Env) }

// Memory starts coredns with role alone (podname, kubernetes with pods verified, or whoami),
// with env added to its environment, waits for /ready and, for podname, for its index to hold
// pods pods, then reads its heap and RSS and stops it.
func (b *Bench) Memory(ctx context.Context, role string, pods, run int, env ...string) (MemorySample, error) {
	s := MemorySample{Role: role, Env: env, Pods: pods, Run: run}
	fail := func(err error) (MemorySample, error) {
		return s, fmt.Errorf("memory of %s at %d pods, run %d: %w", s.Variant(), pods, run+1, err)
	}
	dir := filepath.Join(b.work, "memory", fmt.Sprintf("%s-%d-%d", strings.Join(append([]string{role}, env...), "-"), pods, run))
	srv, at, err := b.startAlone(ctx, dir, role, pods, env...)
	if err != nil {
		return fail(err)
	}
	defer srv.Stop()
	s.Sync, s.CPU, s.Allocated, s.Received, s.SyncCPU, s.PodWatchLists = at.Sync, at.CPU, at.Allocated, at.Received, at.SyncCPU, at.PodWatchLists
	if s.HeapInuseBeforeGC, err = srv.HeapInuse(ctx); err != nil {
		return fail(err)
	}
	if err := srv.ForceGC(ctx); err != nil {
		return fail(err)
	}
	if s.HeapInuse, err = srv.HeapInuse(ctx); err != nil {
		return fail(err)
	}
	m, err := srv.ProcMemory()
	if err != nil {
		return fail(err)
	}
	s.RSS, s.PeakRSS = m.RSS, m.PeakRSS
	if err := srv.Stop(); err != nil {
		return fail(err)
	}
	return s, nil
}

// atReady is what a coredns had spent when /ready first answered 200: the figures of
// MemorySample of the same names.
type atReady struct {
	Sync, CPU                          time.Duration
	Allocated, Received, PodWatchLists float64
	SyncCPU                            map[string]time.Duration
}

// startAlone starts coredns in dir on MemoryCorefile(role), on cpus (a taskset list, or any
// CPU if empty), with env added to its environment, and waits (at most syncTimeout) for
// /ready and, for podname, for its index to hold pods pods. It returns the running server,
// for the caller to stop, and what it had spent when /ready answered.
func (b *Bench) startAlone(ctx context.Context, dir, role string, pods int, env ...string) (*Server, atReady, error) {
	return b.startAloneOn(ctx, dir, role, pods, "", env...)
}

func (b *Bench) startAloneOn(ctx context.Context, dir, role string, pods int, cpus string, env ...string) (*Server, atReady, error) {
	var at atReady
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, at, err
	}
	conf, err := MemoryCorefile(role, b.kubeconfig)
	if err != nil {
		return nil, at, err
	}
	lists, err := b.podWatchLists(ctx)
	if err != nil {
		return nil, at, err
	}
	// Every process's CPU from here: the API server's (and etcd's) share of the sync, spent
	// on the same cores as coredns's.
	cpu := snapshotCPU()
	srv, err := StartServerOn(dir, conf, cpus, env...)
	if err != nil {
		return nil, at, err
	}
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	at.Sync, err = srv.ReadyAfter(ctx)
	// CPU and bytes read first, before the scrape of /metrics adds its own.
	if err == nil {
		at.CPU, err = srv.CPUTime()
	}
	if err == nil {
		at.Received, err = srv.ReadBytes()
	}
	if err == nil {
		at.SyncCPU, _ = cpuTimeSince(cpu, b.processNames(map[int]string{srv.PID(): "coredns"}))
	}
	if err == nil {
		at.Allocated, err = srv.metric(ctx, "go_memstats_alloc_bytes_total")
	}
	if err == nil {
		var now float64
		now, err = b.podWatchLists(ctx)
		at.PodWatchLists = now - lists
	}
	if err == nil && role == RolePodname {
		err = srv.WaitMetric(ctx, "coredns_podname_pods", nil, float64(pods))
	}
	if err != nil {
		srv.Stop()
		return nil, at, err
	}
	return srv, at, nil
}

// podWatchLists is how many watch-lists of pods the API server has served: the count of
// apiserver_watch_list_duration_seconds for pods on its /metrics (0 without a cluster).
func (b *Bench) podWatchLists(ctx context.Context) (float64, error) {
	if b.cluster == nil {
		return 0, nil
	}
	raw, err := b.cluster.Client().CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("API server /metrics: %w", err)
	}
	n, _, err := harness.MetricSum(string(raw), "apiserver_watch_list_duration_seconds_count", map[string]string{"resource": "pods"})
	if err != nil {
		return 0, fmt.Errorf("API server /metrics: %w", err)
	}
	return n, nil
}

// The variants of podname the memory samples have beside its default build and environment.
var (
	RoleFullDecode = VariantName(RolePodname, []string{EnvFullDecode})
	RoleGzipOn     = VariantName(RolePodname, []string{EnvGzipOn})
	RoleGzipOff    = VariantName(RolePodname, []string{EnvGzipOff})
	RoleListWatch  = VariantName(RolePodname, []string{EnvListWatch})
)

// VariantPods is the number of pods variant (one measured at one size only) ran at, or 0.
func VariantPods(res *Results, variant string) int {
	for _, s := range res.Memory {
		if s.Variant() == variant {
			return s.Pods
		}
	}
	return 0
}
