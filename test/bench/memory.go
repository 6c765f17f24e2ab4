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
	srv, toReady, err := b.startAlone(ctx, filepath.Join(b.work, "memory", fmt.Sprintf("%s-%d-%d", role, pods, run)), role, pods)
	if err != nil {
		return fail(err)
	}
	defer srv.Stop()
	s.Sync = toReady
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

// startAlone starts coredns in dir on MemoryCorefile(role), with env added to its
// environment, and waits (at most syncTimeout) for /ready and, for podname, for its index to
// hold pods pods. It returns the running server, for the caller to stop, and the time from
// its start to /ready.
func (b *Bench) startAlone(ctx context.Context, dir, role string, pods int, env ...string) (*Server, time.Duration, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, err
	}
	conf, err := MemoryCorefile(role, b.kubeconfig)
	if err != nil {
		return nil, 0, err
	}
	srv, err := StartServerOn(dir, conf, "", env...)
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	toReady, err := srv.ReadyAfter(ctx)
	if err == nil && role == RolePodname {
		err = srv.WaitMetric(ctx, "coredns_podname_pods", nil, float64(pods))
	}
	if err != nil {
		srv.Stop()
		return nil, 0, err
	}
	return srv, toReady, nil
}
