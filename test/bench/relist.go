package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/podname/podname/test/harness"
)

// RelistSampleEvery is how often the heap is read during a relist.
const RelistSampleEvery = 50 * time.Millisecond

// RelistSample is the heap and RSS of coredns at T seconds after sampling began.
type RelistSample struct {
	T, Heap, RSS float64
}

// RelistResult is section 6 for one plugin.
type RelistResult struct {
	Role string
	// Env is what was added to coredns's environment (GOGC=50 to show the GC's part), if
	// anything.
	Env  []string
	Pods int
	// Steady is the median heap in use over the window before the restart, SteadyMax its
	// highest (the top of the GC's sawtooth with nothing happening); Peak the highest after
	// the restart. SteadyRSS and PeakRSS likewise.
	Steady, SteadyMax, Peak float64
	SteadyRSS, PeakRSS      float64
	// Stopped, Started and Ready are when (T) the API server was stopped, started and ready
	// again; Resynced when podname had received every pod again (an update event per pod),
	// zero if it did not within the window, or for the kubernetes plugin, which has no such
	// metric.
	Stopped, Started, Ready, Resynced float64
	Samples                           []RelistSample
}

// Relist serves role alone at pods pods, samples its heap every 50 ms, restarts the API server,
// and keeps sampling for window after it is ready again (and, for podname, at least 5 s after
// it has every pod again).
func (b *Bench) Relist(ctx context.Context, role string, pods int, steady, window time.Duration, env ...string) (*RelistResult, error) {
	res := &RelistResult{Role: role, Pods: pods, Env: env}
	fail := func(err error) (*RelistResult, error) {
		return nil, fmt.Errorf("relist of %s %v at %d pods: %w", role, env, pods, err)
	}
	srv, _, err := b.startAlone(ctx, filepath.Join(b.work, fmt.Sprintf("relist-%s-%d", strings.Join(append([]string{role}, env...), "-"), pods)), role, pods, env...)
	if err != nil {
		return fail(err)
	}
	defer srv.Stop()
	// The counter has no series until the first update: none is zero.
	updates := func() (float64, error) {
		text, err := srv.Metrics(ctx)
		if err != nil {
			return 0, err
		}
		n, _, err := harness.MetricSum(text, "coredns_podname_pod_events_total", map[string]string{"event": "update"})
		return n, err
	}

	begin := time.Now()
	since := func() float64 { return time.Since(begin).Seconds() }
	sctx, stopSampling := context.WithCancel(ctx)
	var mu sync.Mutex
	var sampleErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(RelistSampleEvery)
		defer t.Stop()
		for {
			heap, err := srv.HeapInuse(sctx)
			var mem Memory
			if err == nil {
				mem, err = srv.ProcMemory()
			}
			mu.Lock()
			if err != nil && sctx.Err() == nil && sampleErr == nil {
				sampleErr = err
			}
			if err == nil {
				res.Samples = append(res.Samples, RelistSample{T: since(), Heap: heap, RSS: mem.RSS})
			}
			mu.Unlock()
			select {
			case <-sctx.Done():
				return
			case <-t.C:
			}
		}
	})
	finish := func() error {
		stopSampling()
		wg.Wait()
		return sampleErr
	}
	defer finish()

	if err := sleepCtx(ctx, steady); err != nil {
		return fail(err)
	}
	var base float64
	if role == RolePodname {
		if base, err = updates(); err != nil {
			return fail(err)
		}
	}
	res.Stopped = since()
	if err := b.cluster.StopAPIServer(); err != nil {
		return fail(err)
	}
	res.Started = since()
	if err := b.cluster.StartAPIServer(ctx); err != nil {
		return fail(err)
	}
	res.Ready = since()
	until := time.Now().Add(window)
	if role == RolePodname {
		// A relist hands the informer every pod again, each as an update; the index is whole
		// again once they are all in.
		t := time.NewTicker(RelistSampleEvery)
		for time.Now().Before(until) {
			if n, err := updates(); err == nil && n >= base+float64(pods) {
				res.Resynced = since()
				until = later(until, time.Now().Add(5*time.Second))
				break
			}
			select {
			case <-ctx.Done():
				t.Stop()
				return fail(ctx.Err())
			case <-t.C:
			}
		}
		t.Stop()
	}
	if err := sleepCtx(ctx, time.Until(until)); err != nil {
		return fail(err)
	}
	if err := finish(); err != nil {
		return fail(fmt.Errorf("sample heap: %w", err))
	}
	if err := srv.Stop(); err != nil {
		return fail(err)
	}
	var before, beforeRSS []float64
	for _, s := range res.Samples {
		if s.T < res.Stopped {
			before, beforeRSS = append(before, s.Heap), append(beforeRSS, s.RSS)
			res.SteadyMax = max(res.SteadyMax, s.Heap)
		} else {
			res.Peak, res.PeakRSS = max(res.Peak, s.Heap), max(res.PeakRSS, s.RSS)
		}
	}
	if len(before) == 0 {
		return fail(fmt.Errorf("no heap sample in the %s before the restart", steady))
	}
	res.Steady, res.SteadyRSS = Median(before), Median(beforeRSS)
	return res, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sleepCtx waits d, or until ctx ends. It paces a measurement window; it waits for nothing.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
