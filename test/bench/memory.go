package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// MemorySample is one coredns serving one plugin alone at a number of pods.
type MemorySample struct {
	Role string
	Pods int
	Run  int
	// Sync is from the process's start to /ready answering 200.
	Sync time.Duration
	// HeapInuse is go_memstats_heap_inuse_bytes after a forced GC; HeapInuseBeforeGC is the
	// same read just before it, wherever the GC cycle happened to be.
	HeapInuse, HeapInuseBeforeGC float64
	// RSS and PeakRSS are VmRSS and VmHWM after the forced GC.
	RSS, PeakRSS float64
}

// syncTimeout bounds a start-up at the largest sizes.
const syncTimeout = 3 * time.Minute

// Memory starts coredns with role alone (podname, kubernetes with pods verified, or whoami),
// waits for /ready and, for podname, for its index to hold pods pods, then reads its heap and
// RSS and stops it.
func (b *Bench) Memory(ctx context.Context, role string, pods, run int) (MemorySample, error) {
	s := MemorySample{Role: role, Pods: pods, Run: run}
	fail := func(err error) (MemorySample, error) {
		return s, fmt.Errorf("memory of %s at %d pods, run %d: %w", role, pods, run+1, err)
	}
	dir := filepath.Join(b.work, "memory", fmt.Sprintf("%s-%d-%d", role, pods, run))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	conf, err := MemoryCorefile(role, b.kubeconfig)
	if err != nil {
		return fail(err)
	}
	srv, err := StartServer(dir, conf)
	if err != nil {
		return fail(err)
	}
	defer srv.Stop()
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	if s.Sync, err = srv.WaitReady(ctx); err != nil {
		return fail(err)
	}
	if role == RolePodname {
		if err := waitMetric(ctx, srv, float64(pods), "coredns_podname_pods"); err != nil {
			return fail(err)
		}
	}
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

// waitMetric polls /metrics until the sum of metric name is want.
func waitMetric(ctx context.Context, srv *Server, want float64, name string) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	var last float64
	var lastErr error
	for {
		last, lastErr = srv.Metric(ctx, name)
		if lastErr == nil && last == want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s = %g: %w (last: %g, %v)", name, want, ctx.Err(), last, lastErr)
		case <-t.C:
		}
	}
}
