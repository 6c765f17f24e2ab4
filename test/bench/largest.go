package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// largestVerifyEvery is how sparse the names checked before ThroughputAlone's dnsperf run are:
// one pod in so many (dnsperf itself counts every answer other than NOERROR).
const largestVerifyEvery = 100

// ThroughputAlone is one saturated dnsperf run against podname serving pods pods alone (the
// Corefile of section 3) on the throughput CPUs, asked for every pod's name, shuffled.
func (b *Bench) ThroughputAlone(ctx context.Context, pods int) (*PerfRun, error) {
	fail := func(err error) (*PerfRun, error) {
		return nil, fmt.Errorf("throughput of podname alone at %d pods: %w", pods, err)
	}
	dir := filepath.Join(b.work, fmt.Sprintf("throughput-%d", pods))
	srv, _, err := b.startAloneOn(ctx, dir, RolePodname, pods, b.cfg.ServerCPUs)
	if err != nil {
		return fail(err)
	}
	defer srv.Stop()
	names := make([]string, pods)
	var want []Expect
	for i := range pods {
		names[i] = PodName(i) + "." + Zone
		if i%largestVerifyEvery == 0 || i == pods-1 {
			want = append(want, Expect{Name: names[i], IP: PodIP(i)})
		}
	}
	queries := filepath.Join(dir, "podname.queries")
	if err := WriteQueries(queries, names); err != nil {
		return fail(err)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := srv.WaitListening(wctx); err != nil {
		return fail(err)
	}
	if v, err := AwaitAnswers(wctx, srv.DNSAddr, want, 8); err != nil || v.Wrong > 0 {
		return fail(fmt.Errorf("%d wrong answers of %d names (%v): %v", v.Wrong, v.Names, v.Bad, err))
	}
	before, err := srv.CPUTime()
	if err != nil {
		return fail(err)
	}
	r, err := b.cfg.Perf.Run(ctx, srv.DNSAddr, queries, filepath.Join(dir, "saturated.out"))
	if err != nil {
		return fail(err)
	}
	after, err := srv.CPUTime()
	if err != nil {
		return fail(err)
	}
	p := perfRun(RolePodname, r, after-before)
	b.logf("throughput: podname alone at %d pods %8.0f QPS  lost %d  CPU dnsperf %.2f coredns %.2f", pods, p.QPS, p.Lost, p.ClientCPU, p.ServerCPU)
	if err := srv.Stop(); err != nil {
		return fail(err)
	}
	return &p, nil
}
