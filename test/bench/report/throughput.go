package report

import (
	"strings"

	"github.com/podname/podname/test/bench"
)

func perfQPS(p bench.PerfRun) float64  { return p.QPS }
func perfLost(p bench.PerfRun) float64 { return float64(p.Lost) }

// throughput writes sections 1 and 2: dnsperf saturating each block, then at a fixed rate.
func (w *writer) throughput() {
	res, t := w.res, w.res.Throughput
	if !w.section("## 1. Throughput", "1-throughput", t != nil) {
		w.section("## 2. Latency", "", false)
		return
	}
	w.p("%s pods. coredns on CPU %s, dnsperf on CPU %s.\n\n", count(t.Pods), res.Config.ServerCPUs, res.Config.Perf.CPUs)
	perQuery := func(p bench.PerfRun) float64 { return p.ServerCPU / p.QPS }
	var rows [][]string
	for _, role := range bench.ThroughputRoles {
		var per []string
		for _, q := range t.SaturatedQPS(role) {
			per = append(per, qps(q))
		}
		med := func(f func(bench.PerfRun) float64) float64 {
			return bench.Median(bench.PerfField(t.Saturated, role, f))
		}
		rows = append(rows, []string{role, qps(bench.Median(t.SaturatedQPS(role))), strings.Join(per, ", "), number("%.0f", med(perfLost)),
			number("%.2f", med(func(p bench.PerfRun) float64 { return p.ServerCPU })) + " / " + number("%.2f", med(func(p bench.PerfRun) float64 { return p.ClientCPU })),
			number("%.1f µs", med(perQuery)*1e6), times(bench.Median(bench.Ratios(t.Saturated, bench.RolePodname, role, perfQPS)), 1),
			times(bench.Median(bench.Ratios(t.Saturated, role, bench.RolePodname, perQuery)), 1)})
	}
	w.table("plugin | QPS (median) | QPS per run | lost (median) | CPU coredns / dnsperf (cores) | coredns CPU per query | podname / plugin, QPS (median of per-run ratios) | plugin / podname, CPU per query", rows...)
	w.p("Command (podname's block):\n\n```\n%s\n```\n\n", t.Saturated[0][0].Command)
	if l := res.Largest; l != nil {
		ten := bench.Median(t.SaturatedQPS(bench.RolePodname))
		w.table("podname alone at | QPS | lost | CPU coredns / dnsperf (cores) | coredns CPU per query | QPS / at "+count(t.Pods)+" pods",
			[]string{count(res.Config.LargestSize()) + " pods", qps(l.QPS), number("%.0f", float64(l.Lost)), number("%.2f", l.ServerCPU) + " / " + number("%.2f", l.ClientCPU),
				number("%.1f µs", l.ServerCPU/l.QPS*1e6), times(l.QPS, ten)})
	}

	w.section("## 2. Latency", "2-latency", true)
	w.p("%d queries per second.\n\n", t.LatencyQPS)
	p99 := func(p bench.PerfRun) float64 { return p.P99 }
	rows = nil
	for _, role := range bench.ThroughputRoles {
		med := func(f func(bench.PerfRun) float64) float64 { return bench.Median(bench.PerfField(t.Latency, role, f)) }
		lost, sent := med(perfLost), med(func(p bench.PerfRun) float64 { return float64(p.Sent) })
		rows = append(rows, []string{role, millis(med(func(p bench.PerfRun) float64 { return p.P50 })), millis(med(p99)),
			millis(med(func(p bench.PerfRun) float64 { return p.Max })), number("%.0f", lost) + " of " + number("%.0f", sent) + " (" + number("%.3f%%", 100*lost/sent) + ")",
			times(bench.Median(bench.Ratios(t.Latency, bench.RolePodname, role, p99)), 1)})
	}
	w.table("plugin | p50 | p99 | max | lost of sent | podname p99 / plugin p99", rows...)
	w.p("Command:\n\n```\n%s\n```\n\n", t.Latency[0][0].Command)
	if t.Profile != "" {
		w.p("### CPU profile of coredns while dnsperf saturates podname\n\nAn extra saturated run, not counted above: %s.\n\n```\n%s```\n\n", t.ProfileCommand, t.Profile)
	}
}
