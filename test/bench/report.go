package bench

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/podname/podname/test/harness"
	"gonum.org/v1/plot/plotter"
)

// Report is the Markdown of a run and the SVG plots it links to.
type Report struct {
	Markdown string
	// Plots maps a file name (relative to the plot directory) to its SVG.
	Plots map[string]string
}

// ReportOptions say how the report refers to things outside it.
type ReportOptions struct {
	// PlotDir is the plot directory as the Markdown file links it, e.g. docs/bench.
	PlotDir string
	// Notes, if not empty, is Markdown written by hand about a run, appended under its own
	// heading.
	Notes string
}

// Targets of the issue "Benchmarks side by side", those of heap, sync and relist tightened by
// "Decode only what podname answers".
const (
	targetVsWhoami      = 0.9
	targetVsFile        = 1.0
	targetVsKubernetes  = 1.0
	targetBytesPerPod   = 350
	targetSyncPods      = 100_000
	targetSync          = 2500 * time.Millisecond
	targetSyncCPU       = 1500 * time.Millisecond
	targetPropagation99 = 100 * time.Millisecond
	targetRelist        = 1.3
	// Of the issue "Zone transfers in the benchmarks".
	targetSecondaryLag99 = 2 * time.Second
	targetIXFRRatio      = 2.0
)

// target is one row of the summary.
type target struct {
	figure, podname, baseline, ratio, target string
	met                                      bool
	miss                                     string // by how much, if not met
	known                                    bool   // false if the figure was not measured
}

// reportWriter is a report being written. Its sections append to the Markdown and the plots
// and keep the first error, which BuildReport returns.
type reportWriter struct {
	strings.Builder
	res   *Results
	opt   ReportOptions
	plots map[string]string
	err   error
}

func (w *reportWriter) p(format string, args ...any) { fmt.Fprintf(w, format, args...) }

// figure links the plot file name with alt as its text and renders c into it.
func (w *reportWriter) figure(alt, name string, c Chart) {
	w.p("![%s](%s)\n\n", alt, filepath.ToSlash(filepath.Join(w.opt.PlotDir, name)))
	svg, err := c.SVG()
	if err != nil && w.err == nil {
		w.err = err
	}
	w.plots[name] = svg
}

// BuildReport renders res.
func BuildReport(res *Results, opt ReportOptions) (*Report, error) {
	w := &reportWriter{res: res, opt: opt, plots: map[string]string{}}
	w.summary()
	w.machine()
	w.throughput()
	w.memory()
	w.churn()
	w.relist()
	w.transfers()
	w.micro()
	w.profile()
	w.corefiles()
	if opt.Notes != "" {
		w.p("## Notes\n\n%s\n", strings.TrimSpace(opt.Notes))
	}
	if w.err != nil {
		return nil, w.err
	}
	return &Report{Markdown: w.String(), Plots: w.plots}, nil
}

func (w *reportWriter) summary() {
	res := w.res
	w.p("# Benchmarks\n\n")
	w.p("podname beside CoreDNS's own plugins, all in the same `bin/coredns` on the same machine. ")
	w.p("Written by `%s` (package `test/bench`) on %s; do not edit by hand: run it again.\n\n", res.Command, res.Machine.Date.Format("2006-01-02 15:04 MST"))
	w.p("Every figure is the median of %d runs unless it says otherwise; ratios are taken within a run, then their median.", res.Config.Runs)
	if n := res.Config.largest(); n > 0 && res.Config.runsAt(n) != res.Config.Runs {
		w.p(" At the largest size, %s pods, %s.", count(n), plural(res.Config.runsAt(n), "run"))
	}
	w.p("\n\n")

	w.p("## Summary\n\n")
	w.p("| figure | podname | baseline | ratio | target | met |\n|---|---|---|---|---|---|\n")
	for _, t := range targets(res) {
		if !t.known {
			w.p("| %s | not measured | | | %s | |\n", t.figure, t.target)
			continue
		}
		met := "yes"
		if !t.met {
			met = "**no**: " + t.miss
		}
		w.p("| %s | %s | %s | %s | %s | %s |\n", t.figure, t.podname, t.baseline, t.ratio, t.target, met)
	}
	w.p("\n")
	if len(res.Problems) > 0 {
		w.p("**Wrong or failed answers:**\n\n")
		for _, pr := range res.Problems {
			w.p("- %s\n", pr)
		}
		w.p("\n")
	}
}

// targets are the figures with a target.
func targets(res *Results) []target {
	var out []target
	if t := res.Throughput; t != nil {
		pod := Median(t.saturatedQPS(RolePodname))
		for _, c := range []struct {
			role string
			goal float64
		}{{RoleWhoami, targetVsWhoami}, {RoleFile, targetVsFile}, {RoleKubernetes, targetVsKubernetes}} {
			ratio := Median(ratios(t.Saturated, RolePodname, c.role, perfQPS))
			out = append(out, target{
				figure: fmt.Sprintf("QPS at %s pods, vs %s", count(t.Pods), c.role), known: true,
				podname: qps(pod), baseline: qps(Median(t.saturatedQPS(c.role))),
				ratio: times(ratio, 1), target: fmt.Sprintf(">= %.1fx", c.goal),
				met: ratio >= c.goal, miss: fmt.Sprintf("%.1f%% short", (c.goal-ratio)/c.goal*100),
			})
		}
	}
	if pod, kube, _, err := memoryFits(res); err == nil {
		base := fmt.Sprintf("%.0f B (kubernetes, pods verified)", kube.Slope)
		if full, err := fitOver(res, roleFullDecode, heapOf); err == nil {
			base = fmt.Sprintf("%.0f B (podname, full decode); ", full.Slope) + base
		}
		out = append(out, target{
			figure: "heap per pod (least-squares slope)", known: true,
			podname: fmt.Sprintf("%.0f B", pod.Slope), baseline: base,
			ratio: times(pod.Slope, kube.Slope), target: fmt.Sprintf("<= %d B", targetBytesPerPod),
			met: pod.Slope <= targetBytesPerPod, miss: fmt.Sprintf("%.0f B over", pod.Slope-targetBytesPerPod),
		})
	} else {
		out = append(out, target{figure: "heap per pod", target: fmt.Sprintf("<= %d B", targetBytesPerPod)})
	}
	syncGoal := fmt.Sprintf("<= %s at %s pods", seconds(targetSync), count(targetSyncPods))
	cpuGoal := fmt.Sprintf("<= %s at %s pods", seconds(targetSyncCPU), count(targetSyncPods))
	if syncAt := largestAtMost(res, targetSyncPods); syncAt > 0 {
		for _, row := range []struct {
			figure, goal string
			limit        time.Duration
			f            func(MemorySample) float64
			cluster      bool // the cluster's CPU meanwhile beside coredns's
		}{{"start to /ready", syncGoal, targetSync, syncOf, false}, {"coredns CPU time from start to /ready", cpuGoal, targetSyncCPU, cpuOf, true}} {
			// In nanoseconds, NaN for a plugin not measured.
			p, f, k := medianMemory(res, RolePodname, syncAt, row.f), medianMemory(res, roleFullDecode, syncAt, row.f), medianMemory(res, RoleKubernetes, syncAt, row.f)
			note := func(role string) string {
				if !row.cluster {
					return ""
				}
				return clusterCPUNote(res, role, syncAt)
			}
			t := target{
				figure: fmt.Sprintf("%s at %s pods", row.figure, count(syncAt)), known: true,
				podname:  secondsOf(p) + wrapNote("", note(RolePodname)),
				baseline: secondsOf(f) + wrapNote("podname, full decode", note(roleFullDecode)) + "; " + secondsOf(k) + wrapNote("kubernetes", note(RoleKubernetes)),
				ratio:    times(p, k),
				target:   row.goal, met: p <= float64(row.limit), miss: fmt.Sprintf("%s over", secondsOf(p-float64(row.limit))),
			}
			if syncAt != targetSyncPods {
				t.target += fmt.Sprintf(" (measured at %s only)", count(syncAt))
			}
			out = append(out, t)
		}
	} else {
		out = append(out, target{figure: "start to /ready", target: syncGoal}, target{figure: "coredns CPU time from start to /ready", target: cpuGoal})
	}
	if c := res.Churn; c != nil && len(c.Appear[RolePodname]) > 0 {
		for _, kind := range []struct {
			name string
			m    map[string][]float64
		}{{"new pod's IP in a watch to its answer", c.Appear}, {"pod deleted to NXDOMAIN", c.Vanish}} {
			pp, kp := Percentile(kind.m[RolePodname], 99), Percentile(kind.m[RoleKubernetes], 99)
			out = append(out, target{
				figure: "p99 " + kind.name + " under churn", known: true,
				podname: millis(pp), baseline: millis(kp) + " (kubernetes)", ratio: times(pp, kp),
				target: "<= 100 ms", met: pp <= targetPropagation99.Seconds(),
				miss: fmt.Sprintf("%s over", millis(pp-targetPropagation99.Seconds())),
			})
		}
		wrong := c.Wrong[RolePodname]
		out = append(out, target{
			figure: "wrong answers under churn", known: true,
			podname: fmt.Sprint(wrong), baseline: fmt.Sprintf("%d (kubernetes)", c.Wrong[RoleKubernetes]),
			target: "0", met: wrong == 0, miss: fmt.Sprintf("%d wrong", wrong),
		})
	} else {
		out = append(out, target{figure: "propagation under churn", target: "p99 <= 100 ms, 0 wrong"})
	}
	out = append(out, transferTargets(res)...)
	if pr, kr := relistOf(res, RolePodname), relistOf(res, RoleKubernetes); pr != nil {
		ratio := pr.Peak / pr.Steady
		var base []string
		if fr := relistOf(res, RolePodname, envFullDecode); fr != nil {
			base = append(base, fmt.Sprintf("%s (%s / %s, podname, full decode)", times(fr.Peak, fr.Steady), mib(fr.Peak), mib(fr.Steady)))
		}
		if kr != nil {
			base = append(base, fmt.Sprintf("%s (%s / %s, kubernetes)", times(kr.Peak, kr.Steady), mib(kr.Peak), mib(kr.Steady)))
		}
		out = append(out, target{
			figure: fmt.Sprintf("peak / steady heap, API server restart at %s pods", count(pr.Pods)), known: true,
			podname: fmt.Sprintf("%s (%s / %s)", times(ratio, 1), mib(pr.Peak), mib(pr.Steady)), baseline: cmp.Or(strings.Join(base, "; "), "not measured"),
			target: fmt.Sprintf("<= %.1fx", targetRelist), met: ratio <= targetRelist,
			miss: fmt.Sprintf("%.2fx over", ratio-targetRelist),
		})
	} else {
		out = append(out, target{figure: "peak / steady heap on relist", target: fmt.Sprintf("<= %.1fx", targetRelist)})
	}
	return out
}

// transferTargets are the rows of the summary for section 7: BIND's lag under churn, and
// podname's IXFR against the changes it carries at the largest zone measured.
func transferTargets(res *Results) []target {
	var out []target
	if c := res.Churn; c != nil && c.Secondary != nil {
		lag, own := slices.Concat(c.Appear[RoleBIND], c.Vanish[RoleBIND]), slices.Concat(c.Appear[RolePodname], c.Vanish[RolePodname])
		p99 := Percentile(lag, 99)
		out = append(out, target{
			figure: "p99 pod event to the right answer at BIND, a secondary of podname, under churn", known: len(lag) > 0,
			podname: seconds(time.Duration(p99 * float64(time.Second))), baseline: millis(Percentile(own, 99)) + " (podname itself)",
			target: fmt.Sprintf("< %s", seconds(targetSecondaryLag99)), met: p99 < targetSecondaryLag99.Seconds(),
			miss: fmt.Sprintf("%s over", seconds(time.Duration(p99*float64(time.Second))-targetSecondaryLag99)),
		})
	} else {
		out = append(out, target{figure: "p99 pod event to the right answer at BIND under churn", target: fmt.Sprintf("< %s", seconds(targetSecondaryLag99))})
	}
	goal := fmt.Sprintf("<= %.0fx changed records' wire size", targetIXFRRatio)
	if len(res.Transfers) == 0 {
		return append(out, target{figure: "IXFR bytes per change", target: goal})
	}
	t := res.Transfers[len(res.Transfers)-1]
	for _, n := range res.Config.XfrChanges {
		runs := ixfrRuns(t, n)
		if len(runs) == 0 {
			continue
		}
		ratio := Median(ixfrField(runs, ixfrRatio))
		out = append(out, target{
			figure: fmt.Sprintf("IXFR after %s at %s pods, bytes / changed records' wire size", plural(n, "change"), count(t.Pods)), known: true,
			podname:  fmt.Sprintf("%s (%s / %s)", times(ratio, 1), nbytes(Median(ixfrField(runs, ixfrBytes))), nbytes(Median(ixfrField(runs, ixfrChanged)))),
			baseline: nbytes(axfrMedian(t, RoleFile, xfrBytes)) + " (file: AXFR)",
			ratio:    percent(Median(ixfrField(runs, ixfrBytes)), axfrMedian(t, RoleFile, xfrBytes)) + " of file's AXFR",
			target:   goal, met: ratio <= targetIXFRRatio, miss: fmt.Sprintf("%.2fx over", ratio-targetIXFRRatio),
		})
	}
	return out
}

func (w *reportWriter) machine() {
	res, m := w.res, w.res.Machine
	w.p("## Machine and method\n\n")
	w.p("- Command: `%s`, %s in all (%s).\n", res.Command, res.Elapsed.Round(time.Second), m.Date.Format(time.RFC3339))
	w.p("- Machine: %d CPUs (`nproc`), `%s` (`/proc/cpuinfo`), %s of memory, %s.\n", m.CPUs, m.CPUModel, memTotal(m.MemTotal), m.Kernel)
	w.p("- Software: %s, %s, dnsperf %s, commit %s.\n", m.CoreDNS, m.Go, m.Dnsperf, m.Commit)
	w.p("- Load average at start %s, at end %s.", m.LoadStart, res.LoadEnd)
	if len(m.Others) > 0 {
		w.p(" Other work running at start (shares the CPUs; figures are noisier): %d processes, e.g. `%s`.", len(m.Others), m.Others[0])
	} else {
		w.p(" No other cluster or `go test` was running at start.")
	}
	w.p("\n")
	w.p("- Cluster: package `test/cluster` on 127.0.0.1 (etcd with `--unsafe-no-fsync`, kube-apiserver, controller manager, scheduler, kwok), default flags. ")
	w.p("Pods are created straight through the API, not by kwok: %d concurrent clients (client QPS 5000, burst 10000, protobuf), each pod a create then an UpdateStatus (Running, Ready, an IP chosen by the bench), ", res.Config.Workers)
	w.p("bound by `spec.nodeName`, round robin, to %d Nodes kwok does not manage whose heartbeats the bench writes every %s (on one Node, the scheduler's cache spends more CPU per pod event than the API server). ", benchNodes, heartbeatEvery)
	w.p("Pod spec: one container with ports, env, resources and a probe, labels `app`, `pod-template-hash`; names like `%s`.\n", PodName(4242))
	if len(res.Creation) > 0 {
		var steps []string
		for _, c := range res.Creation {
			steps = append(steps, fmt.Sprintf("%s to %s in %s (%.0f/s)", count(c.From), count(c.To),
				seconds(c.Elapsed), float64(c.To-c.From)/c.Elapsed.Seconds()))
		}
		w.p("- Pods created: %s.\n", strings.Join(steps, "; "))
	}
	for _, sk := range res.Skipped {
		w.p("- %s.\n", sk)
	}
	if st := res.Cluster; st.Pods > 0 {
		w.p("- At %s pods: etcd database %s, kube-apiserver RSS %s.\n", count(st.Pods), mib(st.EtcdDBBytes), mib(st.APIServerRSS))
	}
	w.p("\n")
}

func (w *reportWriter) throughput() {
	res, t := w.res, w.res.Throughput
	if t == nil {
		w.p("## 1. Throughput\n\nNot measured.\n\n## 2. Latency\n\nNot measured.\n\n")
		return
	}
	w.p("## 1. Throughput\n\n")
	w.p("One coredns process with four server blocks on their own loopback ports (one process, so every plugin gets the same runtime and CPUs; the Corefile is at the end): ")
	w.p("podname answering `<pod>.%s`; the *kubernetes* plugin with `endpoint_pod_names` answering `<pod>.<service>.<namespace>.svc.cluster.local` ", Zone)
	w.p("through %d headless Services of %d pods each, EndpointSlices made by the controller manager (every pod Ready, every endpoint checked in the slices); ", t.Pods/podsPerApp, podsPerApp)
	w.p("the *file* plugin with a zone file of the same %d A records; and *whoami*, the server's ceiling. ", t.Pods)
	w.p("Before dnsperf every one of the %d names was asked of each block and answered with the pod's IP. ", t.Pods)
	w.p("dnsperf asks each block in turn (the order rotates between runs) for all %d names, shuffled, as fast as it answers. ", t.Pods)
	if res.Config.ServerCPUs != "" {
		w.p("coredns runs on CPU %s alone (`taskset`, so GOMAXPROCS is 1) and dnsperf on CPU %s: otherwise the two share both cores and every ratio drifts towards 1 by the client's share. ", res.Config.ServerCPUs, res.Config.Perf.CPUs)
		w.p("The CPU columns show which side set the pace: coredns near 1.00 core means the server did. ")
	}
	w.p("coredns CPU per query (its CPU time over the run / queries answered) does not depend on how much CPU other processes left it, so it compares the plugins even on a busy machine.")
	w.p("\n\n| plugin | QPS (median) | QPS per run | lost (median) | CPU coredns / dnsperf (cores) | coredns CPU per query | podname / plugin, QPS (median of per-run ratios) | plugin / podname, CPU per query |\n|---|---|---|---|---|---|---|---|\n")
	perQuery := func(p PerfRun) float64 { return p.ServerCPU / p.QPS }
	for _, role := range throughputRoles {
		var per []string
		for _, q := range t.saturatedQPS(role) {
			per = append(per, qps(q))
		}
		med := func(f func(PerfRun) float64) float64 { return Median(perfField(t.Saturated, role, f)) }
		w.p("| %s | %s | %s | %.0f | %.2f / %.2f | %.1f µs | %.2fx | %.2fx |\n", role, qps(Median(t.saturatedQPS(role))), strings.Join(per, ", "),
			med(perfLost), med(func(p PerfRun) float64 { return p.ServerCPU }), med(func(p PerfRun) float64 { return p.ClientCPU }),
			med(perQuery)*1e6, Median(ratios(t.Saturated, RolePodname, role, perfQPS)), Median(ratios(t.Saturated, role, RolePodname, perQuery)))
	}
	w.p("\nCommand (podname's block; the others differ in port and, for kubernetes, in the query file):\n\n```\n%s\n```\n\n", t.Saturated[0][0].Command)
	if l := res.Largest; l != nil {
		largest := res.Config.largest()
		w.p("At %s pods, podname alone (the Corefile of section 3, on the same CPUs), one saturated run asking for all %d names, shuffled, after one name in %d was checked: ",
			count(largest), largest, largestVerifyEvery)
		w.p("%s QPS (%s at %s pods above, %s), %d lost, coredns %.2f cores, dnsperf %.2f, %.1f µs of coredns CPU per query.\n\n",
			qps(l.QPS), qps(Median(t.saturatedQPS(RolePodname))), count(t.Pods), times(l.QPS, Median(t.saturatedQPS(RolePodname))), l.Lost, l.ServerCPU, l.ClientCPU, l.ServerCPU/l.QPS*1e6)
	}

	w.p("## 2. Latency\n\n")
	w.p("The same four blocks at a fixed %d queries per second", t.LatencyQPS)
	if t.LatencyQPS < res.Config.LatencyQPS {
		w.p(" (half the slowest block's saturated rate, below the %d asked for)", res.Config.LatencyQPS)
	}
	w.p(", latency of every answer from dnsperf `-v` (dnsperf 2.10 has no histogram option); lost = sent - completed.\n\n")
	w.p("| plugin | p50 | p99 | max | lost of sent | podname p99 / plugin p99 |\n|---|---|---|---|---|---|\n")
	p99 := func(p PerfRun) float64 { return p.P99 }
	for _, role := range throughputRoles {
		med := func(f func(PerfRun) float64) float64 { return Median(perfField(t.Latency, role, f)) }
		lost, sent := med(perfLost), med(func(p PerfRun) float64 { return float64(p.Sent) })
		w.p("| %s | %s | %s | %s | %.0f of %.0f (%.3f%%) | %.2fx |\n", role, millis(med(func(p PerfRun) float64 { return p.P50 })), millis(med(p99)),
			millis(med(func(p PerfRun) float64 { return p.Max })), lost, sent, 100*lost/sent, Median(ratios(t.Latency, RolePodname, role, p99)))
	}
	w.p("\nCommand:\n\n```\n%s\n```\n\n", t.Latency[0][0].Command)
}

func perfQPS(p PerfRun) float64  { return p.QPS }
func perfLost(p PerfRun) float64 { return float64(p.Lost) }

// The figures of a MemorySample that the report shows; sync in nanoseconds.
func heapOf(s MemorySample) float64         { return s.HeapInuse }
func heapBeforeGCOf(s MemorySample) float64 { return s.HeapInuseBeforeGC }
func rssOf(s MemorySample) float64          { return s.RSS }
func syncOf(s MemorySample) float64         { return float64(s.Sync) }
func cpuOf(s MemorySample) float64          { return float64(s.CPU) }
func allocatedOf(s MemorySample) float64    { return s.Allocated }
func receivedOf(s MemorySample) float64     { return s.Received }

// syncCPUOf is the CPU time process name used during a sample's sync, in nanoseconds; NaN
// for a sample without those figures (results of an older bench).
func syncCPUOf(name string) func(MemorySample) float64 {
	return func(s MemorySample) float64 {
		if s.SyncCPU == nil {
			return math.NaN()
		}
		return float64(s.SyncCPU[name]) // a process that used no CPU has no entry
	}
}

// The variants of podname measured beside it: decoding whole Pods (the path before the slim
// decoder), and gzip of API responses forced on and off.
var (
	roleFullDecode = variant(RolePodname, []string{envFullDecode})
	roleGzipOn     = variant(RolePodname, []string{envGzipOn})
	roleGzipOff    = variant(RolePodname, []string{envGzipOff})
	roleListWatch  = variant(RolePodname, []string{envListWatch})
)

func (w *reportWriter) memory() {
	res := w.res
	w.p("## 3. Memory\n\n")
	pod, kube, baseline, err := memoryFits(res)
	if err != nil {
		w.p("Not measured (%v).\n\n## 4. Sync\n\nNot measured.\n\n", err)
		return
	}
	w.p("A coredns serving one plugin alone (podname; or the *kubernetes* plugin with `pods verified`, so it watches pods too; or *whoami*, watching nothing, for the baseline), ")
	w.p("one process at a time, started after the pods exist and the cluster's own processes have gone quiet (under %.2f cores together for %s; the log says when they did not within %s). Once", settleCores, settleQuiet*settleWindow, settleTimeout)
	w.p(" `/ready` answers (and, for podname, `coredns_podname_pods` equals the pod count) the bench reads ")
	w.p("`go_memstats_heap_inuse_bytes` from `/metrics`, forces a GC through the *pprof* plugin (`/debug/pprof/heap?gc=1`), reads it again (the figure below: live data, not wherever the GC cycle was), and reads `VmRSS` from `/proc/PID/status`. ")
	w.p("Bytes per pod is the least-squares slope over the sizes; B/pod at a size is (heap - whoami's heap) / pods. ")
	w.p("*podname, full decode* is `bin/coredns-bench` (the same source built with the `podname_bench` tag, `make build-bench`) with `%s` in its environment: its pod watch decodes whole `v1.Pod`s and then projects them, the path before the slim decoder.\n\n", envFullDecode)
	w.p("| pods | podname heap | kubernetes heap | podname B/pod | podname, full decode B/pod | kubernetes B/pod | podname RSS | kubernetes RSS | podname heap before GC | kubernetes heap before GC |\n|---|---|---|---|---|---|---|---|---|---|\n")
	w.p("| 0 (whoami) | %s | | | | | %s | | %s | |\n", mib(baseline), mib(medianMemory(res, RoleWhoami, 0, rssOf)), mib(medianMemory(res, RoleWhoami, 0, heapBeforeGCOf)))
	sizes := measuredSizes(res)
	for _, size := range sizes {
		both := func(f func(MemorySample) float64) (float64, float64) {
			return medianMemory(res, RolePodname, size, f), medianMemory(res, RoleKubernetes, size, f)
		}
		ph, kh := both(heapOf)
		pr, kr := both(rssOf)
		pb, kb := both(heapBeforeGCOf)
		fh := medianMemory(res, roleFullDecode, size, heapOf)
		w.p("| %s | %s | %s | %.0f | %s | %.0f | %s | %s | %s | %s |\n", count(size), mib(ph), mib(kh),
			(ph-baseline)/float64(size), number("%.0f", (fh-baseline)/float64(size)), (kh-baseline)/float64(size), mib(pr), mib(kr), mib(pb), mib(kb))
	}
	// The full decode's fit, n/a where it was not measured.
	full, errF := fitOver(res, roleFullDecode, heapOf)
	if errF != nil {
		full = Fit{Slope: math.NaN(), Intercept: math.NaN(), R2: math.NaN()}
	}
	w.p("\n| | podname | podname, full decode | kubernetes (pods verified) | podname / full decode | podname / kubernetes | target |\n|---|---|---|---|---|---|---|\n")
	w.p("| heap, bytes per pod (slope) | %.0f | %s | %.0f | %s | %s | <= %d |\n", pod.Slope, number("%.0f", full.Slope), kube.Slope,
		times(pod.Slope, full.Slope), times(pod.Slope, kube.Slope), targetBytesPerPod)
	w.p("| heap intercept (whoami alone: %s) | %s | %s | %s | | | |\n", mib(baseline), mib(pod.Intercept), mib(full.Intercept), mib(kube.Intercept))
	w.p("| heap fit R² | %.4f | %s | %.4f | | | |\n", pod.R2, number("%.4f", full.R2), kube.R2)
	podRSS, errP := fitOver(res, RolePodname, rssOf)
	kubeRSS, errK := fitOver(res, RoleKubernetes, rssOf)
	if errP == nil && errK == nil {
		fullRSS, err := fitOver(res, roleFullDecode, rssOf)
		if err != nil {
			fullRSS.Slope = math.NaN()
		}
		w.p("| RSS, bytes per pod (slope) | %.0f | %s | %.0f | %s | %s | |\n", podRSS.Slope, number("%.0f", fullRSS.Slope), kubeRSS.Slope,
			times(podRSS.Slope, fullRSS.Slope), times(podRSS.Slope, kubeRSS.Slope))
	}
	w.p("\n")
	mibs := func(name, role string, f func(MemorySample) float64, dashed bool) Series {
		return Series{Name: name, Points: bySize(res, role, f, 1<<20), Dashed: dashed, Markers: true}
	}
	w.figure("heap and RSS against pods", "memory.svg", Chart{
		Title: "coredns memory after sync", XLabel: "pods", YLabel: "MiB", XFormat: CountLabel,
		Series: []Series{
			mibs("podname, heap in use", RolePodname, heapOf, false),
			mibs("podname, full decode, heap in use", roleFullDecode, heapOf, false),
			mibs("kubernetes (pods verified), heap in use", RoleKubernetes, heapOf, false),
			mibs("podname, RSS", RolePodname, rssOf, true),
			mibs("kubernetes, RSS", RoleKubernetes, rssOf, true),
			{Name: "whoami alone, heap", Dashed: true, Points: level(baseline/(1<<20), float64(sizes[0]), float64(sizes[len(sizes)-1]))},
		},
	})

	w.sync(sizes)
	w.compression()
	w.listWatch()
}

func (w *reportWriter) sync(sizes []int) {
	res := w.res
	w.p("## 4. Sync\n\n")
	w.p("From the process's start to `/ready` answering 200 (polled every %s), same processes as section 3. ", harness.ReadyPoll)
	w.p("When `/ready` first answers, the bench reads coredns's CPU time (utime + stime, `/proc/PID/stat`), then `go_memstats_alloc_bytes_total` (every byte the Go runtime has allocated since the start); ")
	w.p("allocated per pod is that less whoami's (%s), over the pods.\n\n", mib(medianMemory(res, RoleWhoami, 0, allocatedOf)))
	w.p("| pods | podname | podname, full decode | kubernetes (pods verified) | podname / full decode | podname / kubernetes | podname per run |\n|---|---|---|---|---|---|---|\n")
	for _, size := range sizes {
		sync := func(role string) float64 { return medianMemory(res, role, size, syncOf) } // NaN for a plugin not measured
		ps, fs, ks := sync(RolePodname), sync(roleFullDecode), sync(RoleKubernetes)
		var runs []string
		for _, d := range memoryValues(res, RolePodname, size, syncOf) {
			runs = append(runs, secondsOf(d))
		}
		w.p("| %s | %s | %s | %s | %s | %s | %s |\n", count(size), secondsOf(ps), secondsOf(fs), secondsOf(ks), times(ps, fs), times(ps, ks), strings.Join(runs, ", "))
	}
	w.p("\nTarget: %s pods in <= %s.\n\n", count(targetSyncPods), seconds(targetSync))
	allocBase := medianMemory(res, RoleWhoami, 0, allocatedOf)
	w.p("| pods | CPU podname | CPU podname, full decode | CPU kubernetes | allocated per pod, podname | podname, full decode | kubernetes | podname / full decode, allocated |\n|---|---|---|---|---|---|---|---|\n")
	for _, size := range sizes {
		cpu := func(role string) string { return secondsOf(medianMemory(res, role, size, cpuOf)) }
		alloc := func(role string) float64 {
			return (medianMemory(res, role, size, allocatedOf) - allocBase) / float64(size)
		}
		w.p("| %s | %s | %s | %s | %s | %s | %s | %s |\n", count(size), cpu(RolePodname), cpu(roleFullDecode), cpu(RoleKubernetes),
			nbytes(alloc(RolePodname)), nbytes(alloc(roleFullDecode)), nbytes(alloc(RoleKubernetes)), times(alloc(RolePodname), alloc(roleFullDecode)))
	}
	w.p("\nTarget: %s pods in <= %s of CPU time.\n\n", count(targetSyncPods), seconds(targetSyncCPU))
	w.clusterCPU(sizes)
	secs := func(name, role string, f func(MemorySample) float64, dashed bool) Series {
		return Series{Name: name, Points: bySize(res, role, f, float64(time.Second)), Markers: true, Dashed: dashed}
	}
	w.figure("sync time against pods", "sync.svg", Chart{Title: "process start to /ready", XLabel: "pods", YLabel: "seconds", XFormat: CountLabel,
		Series: []Series{secs("podname", RolePodname, syncOf, false), secs("podname, full decode", roleFullDecode, syncOf, false),
			secs("kubernetes (pods verified)", RoleKubernetes, syncOf, false), secs("podname, CPU", RolePodname, cpuOf, true),
			secs("podname, full decode, CPU", roleFullDecode, cpuOf, true), secs("kubernetes, CPU", RoleKubernetes, cpuOf, true)}})
}

// syncCPUProcesses are the cluster's components whose CPU during coredns's sync the report
// shows: the API server lists every pod to coredns, reading them from etcd or its cache.
var syncCPUProcesses = []string{"kube-apiserver", "etcd"}

// clusterCPU is the CPU time the API server and etcd spent during each plugin's sync, on the
// same cores as coredns; nothing for results without it (those of an older bench).
func (w *reportWriter) clusterCPU(sizes []int) {
	res := w.res
	if !slices.ContainsFunc(res.Memory, func(s MemorySample) bool { return s.SyncCPU != nil }) {
		return
	}
	w.p("The cluster runs on the same %d cores, and the API server lists every pod to coredns while it serves the rest of the cluster: ", res.Machine.CPUs)
	w.p("the bench also reads every process's CPU time (`/proc/PID/stat`) just before coredns starts and when `/ready` first answers; the API server's and etcd's in between, per plugin, are below.")
	if at := largestAtMost(res, targetSyncPods); at > 0 && res.Machine.CPUs > 0 {
		api := medianMemory(res, RolePodname, at, syncCPUOf(syncCPUProcesses[0]))
		w.p(" On a %d-core machine the sync cannot finish before the API server has spent that CPU: at %s pods, podname's %s to `/ready` held %s of kube-apiserver CPU (some of it for the rest of the cluster), %s of wall time on %d cores however little coredns spends.",
			res.Machine.CPUs, count(at), secondsOf(medianMemory(res, RolePodname, at, syncOf)), secondsOf(api), secondsOf(api/float64(res.Machine.CPUs)), res.Machine.CPUs)
	}
	w.p("\n\n| pods | kube-apiserver CPU, podname | podname, full decode | kubernetes | etcd CPU, podname | podname, full decode | kubernetes |\n|---|---|---|---|---|---|---|\n")
	for _, size := range sizes {
		w.p("| %s", count(size))
		for _, name := range syncCPUProcesses {
			for _, role := range []string{RolePodname, roleFullDecode, RoleKubernetes} {
				w.p(" | %s", secondsOf(medianMemory(res, role, size, syncCPUOf(name))))
			}
		}
		w.p(" |\n")
	}
	w.p("\n")
}

// clusterCPUNote is the CPU time of syncCPUProcesses during role's sync at pods, as
// "kube-apiserver 3.40 s, etcd 0.30 s"; empty where it was not measured.
func clusterCPUNote(res *Results, role string, pods int) string {
	var parts []string
	for _, name := range syncCPUProcesses {
		if v := medianMemory(res, role, pods, syncCPUOf(name)); !math.IsNaN(v) {
			parts = append(parts, name+" "+secondsOf(v))
		}
	}
	return strings.Join(parts, ", ")
}

// wrapNote writes label and note in parentheses after a figure, joined by "; ", leaving out
// whichever is empty.
func wrapNote(label, note string) string {
	if s := strings.Join(slices.DeleteFunc([]string{label, note}, func(s string) bool { return s == "" }), "; "); s != "" {
		return " (" + s + ")"
	}
	return ""
}

// compression is podname's sync with gzip of API responses forced on and off.
func (w *reportWriter) compression() {
	res := w.res
	pods := variantPods(res, roleGzipOn)
	if !w.heading("### Compression", pods > 0 && len(memoryValues(res, roleGzipOff, pods, syncOf)) > 0) {
		return
	}
	w.p("podname at %s pods, as above, `bin/coredns-bench` with `%s` and `%s` in its environment: the client's `DisableCompression` false (client-go's default, so the API server gzips its responses) and true. ", count(pods), envGzipOn, envGzipOff)
	w.p("Bytes read is `rchar` of `/proc/PID/io` when `/ready` first answered: every byte coredns had read, its Corefile and kubeconfig and, nearly all of it, the API server's responses as TLS carried them. Medians of %s.\n\n", plural(len(memoryValues(res, roleGzipOn, pods, syncOf)), "run"))
	w.variantRows(pods, "gzip", []variantRow{{"on", roleGzipOn}, {"off", roleGzipOff}})
	med := func(role string, f func(MemorySample) float64) float64 { return medianMemory(res, role, pods, f) }
	dWall := time.Duration(med(roleGzipOff, syncOf) - med(roleGzipOn, syncOf))
	dCPU := time.Duration(med(roleGzipOff, cpuOf) - med(roleGzipOn, cpuOf))
	w.p("Without gzip, the sync took %s %s and %s %s of CPU time, and coredns read %s the bytes. Which podname uses, and why, is in the notes.\n\n",
		seconds(dWall.Abs()), moreLess(dWall), seconds(dCPU.Abs()), moreLess(dCPU), times(med(roleGzipOff, receivedOf), med(roleGzipOn, receivedOf)))
}

// listWatch is podname's sync through a list then a watch, beside client-go's default, the
// streaming watch-list.
func (w *reportWriter) listWatch() {
	pods := variantPods(w.res, roleListWatch)
	if !w.heading("### Watch-list or list", pods > 0 && len(memoryValues(w.res, roleListWatch, pods, syncOf)) > 0) {
		return
	}
	w.p("podname at %s pods, as above, and with `%s` in its environment: client-go then lists the pods (from the API server's watch cache) and watches from the list's version, ", count(pods), envListWatch)
	w.p("the path it takes against an API server without watch-lists, instead of its default, the watch-list, which streams them as the initial events of a watch. The API server's count of the watch-lists of pods it served (`apiserver_watch_list_duration_seconds`) shows each sync took the path it is named for: the run fails otherwise. Medians of %s.\n\n", plural(len(memoryValues(w.res, roleListWatch, pods, syncOf)), "run"))
	w.variantRows(pods, "pods come by", []variantRow{{"watch-list", RolePodname}, {"list, then watch", roleListWatch}})
}

// variantPods is the number of pods variant (one measured at one size only) ran at, or 0.
func variantPods(res *Results, variant string) int {
	for _, s := range res.Memory {
		if s.variant() == variant {
			return s.Pods
		}
	}
	return 0
}

// variantRow is a row of variantRows: its name and the variant it shows.
type variantRow struct{ name, role string }

// variantRows writes the table of the sync of rows at pods, with the ratio of the second row to
// the first.
func (w *reportWriter) variantRows(pods int, what string, rows []variantRow) {
	res := w.res
	w.p("| %s | start to /ready | CPU time | bytes read | read per pod | allocated per pod | heap per pod |\n|---|---|---|---|---|---|---|\n", what)
	allocBase, heapBase := medianMemory(res, RoleWhoami, 0, allocatedOf), medianMemory(res, RoleWhoami, 0, heapOf)
	med := func(role string, f func(MemorySample) float64) float64 { return medianMemory(res, role, pods, f) }
	for _, row := range rows {
		w.p("| %s | %s | %s | %s | %s | %s | %s |\n", row.name, seconds(time.Duration(med(row.role, syncOf))), seconds(time.Duration(med(row.role, cpuOf))),
			mib(med(row.role, receivedOf)), nbytes(med(row.role, receivedOf)/float64(pods)), nbytes((med(row.role, allocatedOf)-allocBase)/float64(pods)),
			nbytes((med(row.role, heapOf)-heapBase)/float64(pods)))
	}
	a, b := rows[0].role, rows[1].role
	w.p("| %s / %s | %s | %s | %s | | %s | %s |\n\n", rows[1].name, rows[0].name, times(med(b, syncOf), med(a, syncOf)), times(med(b, cpuOf), med(a, cpuOf)),
		times(med(b, receivedOf), med(a, receivedOf)), times(med(b, allocatedOf)-allocBase, med(a, allocatedOf)-allocBase), times(med(b, heapOf)-heapBase, med(a, heapOf)-heapBase))
}

// moreLess says whether d is more or less.
func moreLess(d time.Duration) string {
	if d < 0 {
		return "less"
	}
	return "more"
}

// memoryFits are the least-squares lines of heap against pods for podname and the kubernetes
// plugin, and the whoami baseline's heap.
func memoryFits(res *Results) (pod, kube Fit, baseline float64, err error) {
	if pod, err = fitOver(res, RolePodname, heapOf); err != nil {
		return
	}
	if kube, err = fitOver(res, RoleKubernetes, heapOf); err != nil {
		return
	}
	return pod, kube, medianMemory(res, RoleWhoami, 0, heapOf), nil
}

// fitOver is the least-squares line of f against pods over role's measured sizes.
func fitOver(res *Results, role string, f func(MemorySample) float64) (Fit, error) {
	var xs, ys []float64
	for _, pt := range bySize(res, role, f, 1) {
		xs, ys = append(xs, pt.X), append(ys, pt.Y)
	}
	return LeastSquares(xs, ys)
}

// bySize is the median of f over role's runs at each measured size, divided by unit; sizes
// role was not measured at are left out.
func bySize(res *Results, role string, f func(MemorySample) float64, unit float64) plotter.XYs {
	var out plotter.XYs
	for _, size := range measuredSizes(res) {
		if v := medianMemory(res, role, size, f); !math.IsNaN(v) {
			out = append(out, plotter.XY{X: float64(size), Y: v / unit})
		}
	}
	return out
}

// memoryValues is f of role's samples at pods pods, one per run; role is a variant (a role
// with coredns's default environment, or one such as roleFullDecode). Samples f has no
// figure for (NaN) are left out.
func memoryValues(res *Results, role string, pods int, f func(MemorySample) float64) []float64 {
	var xs []float64
	for _, s := range res.Memory {
		if s.variant() == role && s.Pods == pods && !math.IsNaN(f(s)) {
			xs = append(xs, f(s))
		}
	}
	return xs
}

func medianMemory(res *Results, role string, pods int, f func(MemorySample) float64) float64 {
	return Median(memoryValues(res, role, pods, f))
}

// measuredSizes are the sizes of Config.Sizes that podname was measured at (the budget may
// have left some out).
func measuredSizes(res *Results) []int {
	return slices.DeleteFunc(slices.Clone(res.Config.Sizes), func(size int) bool {
		return len(memoryValues(res, RolePodname, size, heapOf)) == 0
	})
}

// largestAtMost is the largest measured size not above n, 0 if none.
func largestAtMost(res *Results, n int) int {
	best := 0
	for _, s := range measuredSizes(res) {
		if s <= n {
			best = s
		}
	}
	return best
}

// level is a horizontal line at y from x0 to x1, none if y is not a number.
func level(y, x0, x1 float64) plotter.XYs {
	if math.IsNaN(y) {
		return nil
	}
	return plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}}
}

func (w *reportWriter) churn() {
	res, c := w.res, w.res.Churn
	w.p("## 5. Propagation under churn\n\n")
	if c == nil {
		w.p("Not measured.\n\n")
		return
	}
	w.p("On top of %s pods, %d pods created and %d deleted per second for %d s, in a namespace with a pool of %d pods so the population stays level; ",
		count(c.BackgroundPods), c.Rate, c.Rate, c.Seconds, c.Pool)
	w.p("each pod is created then set Running and Ready with a new IP, and deleted with no grace period. ")
	w.p("A watch of the bench's own sees each pod get its IP (ADDED/MODIFIED) and go (DELETED); from that moment it asks the plugin for the pod's name, every 1 ms at first, 10%% longer each time, at most every 10 ms, ")
	w.p("until the answer is the pod's IP (appear) or NXDOMAIN (vanish). A wrong answer is one naming any other address. ")
	w.p("Each plugin has a pass of its own with its own pods, one coredns serving it alone: podname (`<pod>.%s`), then the *kubernetes* plugin (`<pod>.churn.churn.svc.cluster.local`, through a headless Service, so its delay includes the controller manager's EndpointSlice controller). ", Zone)
	w.p("Separate passes, because that Service makes the controller manager recompute the Service's EndpointSlices (and Endpoints) on every change, CPU that would otherwise be taken from podname on these %d cores. One pass per plugin, not three: each percentile is over every pod of the pass.\n\n", res.Machine.CPUs)
	for _, role := range []string{RolePodname, RoleKubernetes} {
		if _, ok := c.Elapsed[role]; ok {
			w.p("- %s pass: %d created, %d deleted in %s; CPU meanwhile, in cores: %s.\n", role, c.Created[role], c.Deleted[role],
				c.Elapsed[role].Round(time.Millisecond), formatCPU(c.CPU[role]))
		}
	}
	if c.Secondary != nil {
		w.p("\nIn podname's pass a second podname, with the *transfer* plugin, and BIND, its secondary, ran beside it: their CPU is in the line above, their figures in section 7.\n")
	}
	w.p("\n")
	w.p("| | podname p50 | p99 | max | kubernetes p50 | p99 | max | podname p99 / kubernetes p99 | target p99 |\n|---|---|---|---|---|---|---|---|---|\n")
	dist := func(xs []float64) string {
		return millis(Percentile(xs, 50)) + " | " + millis(Percentile(xs, 99)) + " | " + millis(Max(xs))
	}
	for _, kind := range []struct {
		name string
		m    map[string][]float64
	}{{"IP seen in watch to right answer", c.Appear}, {"DELETED seen to NXDOMAIN", c.Vanish}} {
		pd, kd := kind.m[RolePodname], kind.m[RoleKubernetes]
		w.p("| %s (%d, %d) | %s | %s | %s | <= 100 ms |\n", kind.name, len(pd), len(kd), dist(pd), dist(kd), times(Percentile(pd, 99), Percentile(kd, 99)))
	}
	w.p("\n| | podname | kubernetes |\n|---|---|---|\n")
	for _, row := range []struct {
		name string
		m    map[string]int
	}{{"wrong answers (must be 0)", c.Wrong}, {"failed queries (SERVFAIL, timeout)", c.Failed}, {fmt.Sprintf("names not right within %s", churnLimit), c.Timeouts},
		{"pods deleted before their name answered", c.Unshown}} {
		w.p("| %s | %d | %d |\n", row.name, row.m[RolePodname], row.m[RoleKubernetes])
	}
	if len(c.Bad) > 0 {
		w.p("\nExamples: %s\n", strings.Join(c.Bad, "; "))
	}
	w.p("\n")
	w.delayFigure("propagation delay distribution", "propagation.svg", "delay from the watch to DNS under churn (cumulative)", c,
		[]string{RolePodname, RoleKubernetes}, []string{"podname", "kubernetes"})
}

// delayFigure plots the cumulative distributions of c's appear and vanish delays of each of
// roles, named by labels.
func (w *reportWriter) delayFigure(alt, name, title string, c *ChurnResult, roles, labels []string) {
	var series []Series
	for i, role := range roles {
		series = append(series, cdf(labels[i]+", appear", c.Appear[role], false), cdf(labels[i]+", vanish", c.Vanish[role], true))
	}
	w.figure(alt, name, Chart{Title: title, XLabel: "milliseconds (log)", YLabel: "% of changes", XLog: true, Series: series})
}

// cdf is the cumulative distribution of delays xs (seconds) in milliseconds, for a log axis.
func cdf(name string, xs []float64, dashed bool) Series {
	s := Series{Name: fmt.Sprintf("%s (%d)", name, len(xs)), Dashed: dashed}
	sorted := slices.Sorted(slices.Values(xs))
	for q := 0.0; len(xs) > 0 && q <= 100; q += 0.25 {
		s.Points = append(s.Points, plotter.XY{X: math.Max(percentileSorted(sorted, q)*1e3, 0.01), Y: q})
	}
	return s
}

// relistOf is role's first relist with env added to coredns's environment (none: its
// default).
func relistOf(res *Results, role string, env ...string) *RelistResult {
	for _, r := range res.Relist {
		if r.Role == role && slices.Equal(r.Env, env) {
			return r
		}
	}
	return nil
}

func (w *reportWriter) relist() {
	res := w.res
	w.p("## 6. Relist after an API server restart\n\n")
	if len(res.Relist) == 0 {
		w.p("Not measured.\n\n")
		return
	}
	w.p("A coredns serving one plugin alone (as in section 3) at %s pods; `go_memstats_heap_inuse_bytes` and VmRSS sampled every %s: %s before the API server is stopped (steady: their median), ",
		count(res.Relist[0].Pods), relistSampleEvery, res.Config.RelistSteady)
	w.p("then through its stop, its start, and %s after it is ready again (for podname at least 5 s after `coredns_podname_pod_events_total{event=\"update\"}` has grown by the pod count: every pod relisted). No forced GC here. One restart per row, not three: each takes the API server about 40 s to come back at this size, and the peak is the largest of a few thousand samples.\n\n", res.Config.RelistWindow)
	w.p("*podname (%s)* decodes whole Pods, the path before the slim decoder (section 3).", envFullDecode)
	if n := res.Config.largest(); n > 0 {
		w.p(" The last row, if there, is podname at %s pods, the run's largest size.", count(n))
	}
	w.p("\n\n| plugin | steady heap (median) | steady heap (max) | peak heap | peak / steady median | peak / steady max | peak / kubernetes peak | steady RSS | peak RSS | API server down | podname has every pod again | target |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	kubePeak := math.NaN()
	if kr := relistOf(res, RoleKubernetes); kr != nil {
		kubePeak = kr.Peak
	}
	var series []Series
	var marks []Mark
	for _, rl := range res.Relist {
		// The API server serves lists before its /readyz says so: a relist within two samples
		// of it was done when /readyz first answered.
		relisted := rl.Resynced > 0 && rl.Resynced-rl.Ready >= 2*relistSampleEvery.Seconds()
		var resync string
		switch {
		case rl.Role != RolePodname:
			resync = "n/a"
		case rl.Resynced == 0:
			resync = "not within the window"
		case !relisted:
			resync = "already when /readyz first answered"
		default:
			resync = fmt.Sprintf("%.1f s after /readyz", rl.Resynced-rl.Ready)
		}
		label := variant(rl.Role, rl.Env)
		if rl.Pods != res.Relist[0].Pods {
			label += fmt.Sprintf(", %s pods", count(rl.Pods))
		}
		w.p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %.1f s | %s | <= %.1fx |\n", label, mib(rl.Steady), mib(rl.SteadyMax), mib(rl.Peak),
			times(rl.Peak, rl.Steady), times(rl.Peak, rl.SteadyMax), times(rl.Peak, kubePeak), mib(rl.SteadyRSS), mib(rl.PeakRSS), rl.Ready-rl.Stopped, resync, targetRelist)
		s := Series{Name: label, Dashed: len(rl.Env) > 0}
		for _, smp := range rl.Samples {
			s.Points = append(s.Points, plotter.XY{X: smp.T - rl.Stopped, Y: smp.Heap / rl.Steady})
		}
		series = append(series, s)
		if rl == relistOf(res, RolePodname) {
			marks = append(marks, Mark{X: 0, Label: "API server stopped"}, Mark{X: rl.Ready - rl.Stopped, Label: "API server ready"})
			if relisted {
				marks = append(marks, Mark{X: rl.Resynced - rl.Stopped, Label: "podname relisted"})
			}
		}
	}
	w.p("\n")
	if first := series[0].Points; len(first) > 0 {
		series = append(series, Series{Name: fmt.Sprintf("target %.1fx", targetRelist), Dashed: true,
			Points: level(targetRelist, first[0].X, first[len(first)-1].X)})
	}
	w.figure("heap during a relist", "relist.svg", Chart{Title: "heap in use around an API server restart, relative to each plugin's steady median",
		XLabel: "seconds since the API server was stopped", YLabel: "heap in use / steady median", Series: series, Marks: marks})
}

// The figures of a transfer that the report shows.
func xfrBytes(x XfrRun) float64     { return float64(x.Bytes) }
func xfrMessages(x XfrRun) float64  { return float64(x.Messages) }
func xfrRecords(x XfrRun) float64   { return float64(x.Records) }
func xfrSeconds(x XfrRun) float64   { return x.Seconds }
func ixfrBytes(x IXFRRun) float64   { return float64(x.Bytes) }
func ixfrChanged(x IXFRRun) float64 { return float64(x.ChangedBytes) }
func ixfrRatio(x IXFRRun) float64   { return float64(x.Bytes) / float64(x.ChangedBytes) }

// axfrMedian is the median of f over role's AXFR runs in t.
func axfrMedian(t *TransferResult, role string, f func(XfrRun) float64) float64 {
	var xs []float64
	for _, x := range t.AXFR[role] {
		xs = append(xs, f(x))
	}
	return Median(xs)
}

// ixfrRuns are t's IXFR runs after n changes.
func ixfrRuns(t *TransferResult, n int) []IXFRRun {
	var out []IXFRRun
	for _, x := range t.IXFR {
		if x.Changes == n {
			out = append(out, x)
		}
	}
	return out
}

// ixfrField is f of each of runs.
func ixfrField(runs []IXFRRun, f func(IXFRRun) float64) []float64 {
	xs := make([]float64, len(runs))
	for i, x := range runs {
		xs[i] = f(x)
	}
	return xs
}

// heading writes a section's heading, and says so if it was not measured.
func (w *reportWriter) heading(title string, measured bool) bool {
	w.p("%s\n\n", title)
	if !measured {
		w.p("Not measured.\n\n")
	}
	return measured
}

func (w *reportWriter) transfers() {
	res := w.res
	if !w.heading("## 7. Zone transfers", len(res.Transfers) > 0 || (res.Churn != nil && res.Churn.Secondary != nil)) {
		return
	}
	w.p("podname as a primary, with CoreDNS's *transfer* plugin in its server block. Neither podname nor the *file* plugin compresses names in a transfer ")
	w.p("(the *transfer* plugin writes through miekg/dns's `Transfer.Out`, which packs without compression), so every record travels at its full `dns.Len`.\n\n")
	w.axfr()
	w.ixfr()
	w.secondary()
}

func (w *reportWriter) axfr() {
	res := w.res
	if !w.heading("### AXFR", len(res.Transfers) > 0) {
		return
	}
	w.p("One coredns with two server blocks on loopback ports of their own (the Corefile is at the end), each with the *transfer* plugin (`to *`): podname, and the *file* plugin ")
	w.p("serving a zone file of the same pods as section 1's (the SOA and an A record per pod; podname's zone adds its NS, with glue for the machine's non-loopback addresses). ")
	w.p("Started after the pods exist; once `coredns_podname_pods` equals the pod count the bench asks each block in turn (the order alternating between runs) ")
	w.p("with miekg/dns's `Transfer` client over TCP to 127.0.0.1, and checks each zone holds an A record for every pod. Bytes are what the connection carried from the server: ")
	w.p("the DNS messages and their 2-byte lengths. Time is from the request to the last message.\n\n")
	w.p("| pods | podname time | podname bytes | messages | records | file time | file bytes | messages | records | podname / file, bytes | podname / file, time |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, t := range res.Transfers {
		cells := func(role string) string {
			return fmt.Sprintf("%s | %s | %.0f | %.0f", millis(axfrMedian(t, role, xfrSeconds)), nbytes(axfrMedian(t, role, xfrBytes)),
				axfrMedian(t, role, xfrMessages), axfrMedian(t, role, xfrRecords))
		}
		w.p("| %s | %s | %s | %s | %s |\n", count(t.Pods), cells(RolePodname), cells(RoleFile),
			times(axfrMedian(t, RolePodname, xfrBytes), axfrMedian(t, RoleFile, xfrBytes)), times(axfrMedian(t, RolePodname, xfrSeconds), axfrMedian(t, RoleFile, xfrSeconds)))
	}
	w.p("\n")
}

func (w *reportWriter) ixfr() {
	res := w.res
	if !w.heading("### IXFR", len(res.Transfers) > 0) {
		return
	}
	w.p("The same server, after the AXFRs. In namespace `%s`, a pool of %d pods; then, in each of %s, for each count of changes: the zone's serial, then that many changes, ",
		churnNamespace, slices.Max(res.Config.XfrChanges)/2, plural(res.Config.Runs, "run"))
	w.p("pods created (created, then set Running and Ready with a new IP, as in section 5) and the oldest of the pool deleted, one after the other, 16 requests at once; ")
	w.p("once podname answers every change, an IXFR from the serial before them (default `ixfr_journal`, %d records). Each reply is checked: incremental, and removing exactly the deleted pods' A records and adding the created ones'. ", journalDefault)
	w.p("Changed records' wire size is the sum of `dns.Len` of those A records: the least a transfer of the changes could carry, uncompressed. ")
	w.p("podname condenses the steps since the client's serial into one (RFC 1995 allows it): the reply carries the old and the new SOA once, between the removals and the additions, and the current SOA first and last. ")
	w.p("The *file* plugin has no IXFR (it answers with the whole zone): its AXFR is the comparison. Medians of the runs; ratios per run, then their median.\n\n")
	w.p("| pods | changes | IXFR bytes | messages | records (serial steps) | time | changed records' wire size | IXFR / changed | bytes per change | file AXFR bytes | IXFR / file AXFR | target |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	var series []Series
	wire := Series{Name: "changed records' wire size", Markers: true}
	for _, t := range res.Transfers {
		s := Series{Name: fmt.Sprintf("podname IXFR, %s pods", count(t.Pods)), Markers: true}
		file := axfrMedian(t, RoleFile, xfrBytes)
		for _, n := range res.Config.XfrChanges {
			runs := ixfrRuns(t, n)
			if len(runs) == 0 {
				continue
			}
			med := func(f func(IXFRRun) float64) float64 { return Median(ixfrField(runs, f)) }
			b, changed := med(ixfrBytes), med(ixfrChanged)
			w.p("| %s | %d | %s | %.0f | %.0f (%.0f) | %s | %s | %s | %s | %s | %s | <= %.0fx |\n", count(t.Pods), n, nbytes(b),
				med(func(x IXFRRun) float64 { return float64(x.Messages) }), med(func(x IXFRRun) float64 { return float64(x.Records) }),
				med(func(x IXFRRun) float64 { return float64(x.Steps) }), millis(med(func(x IXFRRun) float64 { return x.Seconds })),
				nbytes(changed), times(med(ixfrRatio), 1), nbytes(b/float64(n)), nbytes(file), percent(b, file), targetIXFRRatio)
			s.Points = append(s.Points, plotter.XY{X: float64(n), Y: b / float64(n)})
			if t == res.Transfers[0] {
				wire.Points = append(wire.Points, plotter.XY{X: float64(n), Y: changed / float64(n)})
			}
		}
		series = append(series, s)
	}
	w.p("\n")
	if len(wire.Points) > 0 {
		goal := Series{Name: fmt.Sprintf("target: %.0fx the changed records", targetIXFRRatio), Dashed: true}
		for _, pt := range wire.Points {
			goal.Points = append(goal.Points, plotter.XY{X: pt.X, Y: targetIXFRRatio * pt.Y})
		}
		w.figure("IXFR bytes per change", "ixfr.svg", Chart{Title: "IXFR from the serial before the changes, per change", XLabel: "pod changes (log)", YLabel: "bytes per change",
			XLog: true, Series: append(series, wire, goal)})
	}
}

func (w *reportWriter) secondary() {
	c := w.res.Churn
	if !w.heading("### A secondary under churn", c != nil && c.Secondary != nil) {
		return
	}
	sec := c.Secondary
	w.p("In section 5's podname pass (%d pods created and %d deleted per second for %d s on top of %s pods), a second coredns, podname with the *transfer* plugin ", c.Rate, c.Rate, c.Seconds, count(c.BackgroundPods))
	w.p("(`to` BIND's address, so it NOTIFYs BIND; `ixfr_journal` and `notify_interval` at their defaults, %d 1h and 1s), was the primary of BIND's `named` (`harness.StartBIND`, the forward zone only). ", journalDefault)
	w.p("Both started once the pass's pool of pods existed; BIND's first transfer, the whole zone, was over before churn began. ")
	sample := "every pod"
	if sec.Every > 1 {
		sample = fmt.Sprintf("one pod in %d (a sample, to leave the CPUs to the churn)", sec.Every)
	}
	w.p("For %s, from the moment the bench's watch saw its IP (or its DELETED), the bench asked BIND for its name, every %s at first, 10%% longer each time, at most every %s, until BIND answered the IP (or NXDOMAIN). ",
		sample, secondaryFirstPoll, secondaryMaxPoll)
	w.p("The delay is thus the pod event to the right answer at BIND, to within max(%s, 10%%).\n\n", secondaryMaxPoll)
	w.p("| at BIND | changes | p50 | p99 | max | podname itself p99 | target p99 |\n|---|---|---|---|---|---|---|\n")
	for _, row := range []struct {
		name      string
		bind, own []float64
	}{
		{"IP seen in watch to right answer", c.Appear[RoleBIND], c.Appear[RolePodname]},
		{"DELETED seen to NXDOMAIN", c.Vanish[RoleBIND], c.Vanish[RolePodname]},
		{"every change", slices.Concat(c.Appear[RoleBIND], c.Vanish[RoleBIND]), slices.Concat(c.Appear[RolePodname], c.Vanish[RolePodname])},
	} {
		w.p("| %s | %d | %s | %s | %s | %s | < %s |\n", row.name, len(row.bind), millis(Percentile(row.bind, 50)), millis(Percentile(row.bind, 99)),
			millis(Max(row.bind)), millis(Percentile(row.own, 99)), seconds(targetSecondaryLag99))
	}
	w.p("\nAt BIND: %d wrong answers (must be 0), %d failed queries, %d names not right within %s, %d pods deleted before their name answered.\n\n",
		c.Wrong[RoleBIND], c.Failed[RoleBIND], c.Timeouts[RoleBIND], churnLimit, c.Unshown[RoleBIND])

	incr := 0
	var msgs, recs int
	for _, t := range sec.Transfers {
		if t.Incremental {
			incr++
		}
		msgs, recs = msgs+t.Messages, recs+t.Records
	}
	total := float64(TransferBytes(sec.Transfers))
	w.p("Transfers, as BIND's log counts them (`Transfer completed: N messages, N records, N bytes`; DNS messages without their TCP lengths), from the start of churn until BIND held its last change: ")
	w.p("%s (%d incremental), %s, %s, %s; that is %s per minute of churn (%s), %s per pod change (%s).\n\n",
		plural(len(sec.Transfers), "transfer"), incr, plural(msgs, "message"), plural(recs, "record"), nbytes(total), nbytes(total/sec.Elapsed.Minutes()),
		sec.Elapsed.Round(time.Millisecond), nbytes(total/float64(sec.Changes)), plural(sec.Changes, "change"))
	ours, same := sec.checkFirst()
	verdict := "the same"
	if !same {
		verdict = "**not the same**"
	}
	w.p("BIND's count checked against the bench's: its first transfer (serial %d) was %s, %s, %s; the bench's AXFR of the primary at that serial, %s, %s, %s, %s without the 2-byte lengths: %s.\n\n",
		sec.FirstSerial, plural(sec.First.Messages, "message"), plural(sec.First.Records, "record"), nbytes(float64(sec.First.Bytes)),
		plural(sec.Check.Messages, "message"), plural(sec.Check.Records, "record"), nbytes(float64(sec.Check.Bytes)), nbytes(float64(ours)), verdict)

	w.p("The memory the IXFR journal adds: after churn, and after BIND held the last change, `go_memstats_heap_inuse_bytes` of the primary and of the pass's own podname (same pods, same events, no *transfer* plugin), ")
	w.p("each read three times after a forced GC (their median), and VmRSS. The journal then held %d records (every change under churn, at most %d).\n\n", sec.JournalRecords, journalDefault)
	w.p("| podname | heap in use | RSS |\n|---|---|---|\n")
	w.p("| with the *transfer* plugin, journal of %d records | %s | %s |\n", sec.JournalRecords, mib(sec.HeapWith), mib(sec.RSSWith))
	w.p("| without | %s | %s |\n", mib(sec.HeapWithout), mib(sec.RSSWithout))
	w.p("| difference | %s (%s per journal record) | %s |\n\n", mib(sec.HeapWith-sec.HeapWithout), nbytes((sec.HeapWith-sec.HeapWithout)/float64(max(sec.JournalRecords, 1))), mib(sec.RSSWith-sec.RSSWithout))
	w.delayFigure("lag of a secondary", "secondary.svg", "pod event to the right answer under churn (cumulative)", c,
		[]string{RoleBIND, RolePodname}, []string{"BIND", "podname itself"})
}

// microColumns are the units the Go benchmarks' table has a column for; a
// benchmark's other metrics go together in one.
var microColumns = []string{"ns/op", "B/op", "allocs/op", "bytes/pod", "MB/s"}

func (w *reportWriter) micro() {
	w.p("## 8. Go benchmarks of the plugin\n\n")
	m := w.res.Micro
	if m == nil {
		w.p("Not run.\n\n")
		return
	}
	w.p("`%s`, run before the cluster started; medians of the runs. ServeDNS: the handler alone at 100k pods, podname beside the *file* plugin with the same records.\n\n", m.Command)
	w.p("| benchmark | ns/op | B/op | allocs/op | bytes/pod | other metrics | runs |\n|---|---|---|---|---|---|---|\n")
	cell := func(name, unit string, format string) string {
		v := m.Median(name, unit)
		if math.IsNaN(v) {
			return ""
		}
		return fmt.Sprintf(format, v)
	}
	for _, name := range m.Order {
		var other []string
		for _, unit := range slices.Sorted(maps.Keys(m.Runs[name])) {
			if !slices.Contains(microColumns, unit) {
				other = append(other, cell(name, unit, "%.4g")+" "+unit)
			}
		}
		w.p("| %s | %s | %s | %s | %s | %s | %d |\n", name, cell(name, "ns/op", "%.1f"), cell(name, "B/op", "%.0f"), cell(name, "allocs/op", "%.0f"),
			cell(name, "bytes/pod", "%.0f"), strings.Join(other, ", "), len(m.Runs[name]["ns/op"]))
	}
	w.p("\n")
}

func (w *reportWriter) profile() {
	t := w.res.Throughput
	if t == nil || t.Profile == "" {
		return
	}
	w.p("## CPU profile of coredns while dnsperf saturates podname\n\n")
	w.p("An extra saturated run against podname's block, not counted above: %s.\n\n```\n%s```\n\n", t.ProfileCommand, t.Profile)
}

func (w *reportWriter) corefiles() {
	w.p("## Corefiles\n\n")
	if t := w.res.Throughput; t != nil {
		w.p("Throughput and latency (ports are picked free at each run):\n\n```\n%s```\n\n", t.Corefile)
	}
	for _, role := range []string{RolePodname, RoleKubernetes, RoleWhoami} {
		c, err := MemoryCorefile(role, "KUBECONFIG")
		if err != nil {
			w.err = cmp.Or(w.err, err)
			return
		}
		w.p("Memory, sync and relist, %s:\n\n```\n%s```\n\n", role, c.Text)
	}
	if c := w.res.Churn; c != nil {
		for _, role := range []string{RolePodname, RoleKubernetes} {
			if text, ok := c.Corefile[role]; ok {
				w.p("Churn, %s pass:\n\n```\n%s```\n\n", role, text)
			}
		}
		if sec := c.Secondary; sec != nil {
			w.p("Churn, podname pass, the primary of BIND:\n\n```\n%s```\n\n", sec.Corefile)
			w.p("BIND's `named.conf` (harness.StartBIND):\n\n```\n%s```\n\n", sec.NamedConf)
		}
	}
	if len(w.res.Transfers) > 0 {
		w.p("Zone transfers, at %s pods (the zone file's path differs by size):\n\n```\n%s```\n\n", count(w.res.Transfers[0].Pods), w.res.Transfers[0].Corefile)
	}
}

// count writes a pod count as CountLabel does.
func count(n int) string { return CountLabel(float64(n)) }

// qps writes v with thousands separated by commas.
func qps(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	s := fmt.Sprintf("%.0f", v)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// number writes v with format, n/a if v is not a finite number.
func number(format string, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return fmt.Sprintf(format, v)
}

// plural writes n and word, with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func mib(b float64) string           { return number("%.1f MiB", b/(1<<20)) }
func nbytes(b float64) string        { return qps(b) + " B" }
func millis(s float64) string        { return number("%.2f ms", s*1e3) }
func seconds(d time.Duration) string { return number("%.2f s", d.Seconds()) }
func times(a, b float64) string      { return number("%.2fx", a/b) }
func percent(a, b float64) string    { return number("%.2g%%", 100*a/b) }

// secondsOf writes ns nanoseconds, such as a median of durations, as seconds; n/a if it is
// not a number.
func secondsOf(ns float64) string { return number("%.2f s", ns/float64(time.Second)) }

// memTotal writes /proc/meminfo's "24684084 kB" as GiB.
func memTotal(s string) string {
	var kb float64
	if _, err := fmt.Sscanf(s, "%f kB", &kb); err != nil {
		return s
	}
	return fmt.Sprintf("%.1f GiB", kb/(1<<20))
}
