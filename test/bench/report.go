package bench

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

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

// Targets of the issue "Benchmarks side by side".
const (
	targetVsWhoami      = 0.9
	targetVsFile        = 1.0
	targetVsKubernetes  = 1.0
	targetBytesPerPod   = 500
	targetSyncPods      = 100_000
	targetSync          = 5 * time.Second
	targetPropagation99 = 100 * time.Millisecond
	targetRelist        = 1.5
)

// target is one row of the summary.
type target struct {
	figure, podname, baseline, ratio, target string
	met                                      bool
	miss                                     string // by how much, if not met
	known                                    bool   // false if the figure was not measured
}

// BuildReport renders res.
func BuildReport(res *Results, opt ReportOptions) (*Report, error) {
	r := &Report{Plots: map[string]string{}}
	var w strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&w, format, args...) }

	p("# Benchmarks\n\n")
	p("podname beside CoreDNS's own plugins, all in the same `bin/coredns` on the same machine. ")
	p("Written by `%s` (package `test/bench`) on %s; do not edit by hand: run it again.\n\n", res.Command, res.Machine.Date.Format("2006-01-02 15:04 MST"))
	p("Every figure is the median of %d runs unless it says otherwise; ratios are taken within a run, then their median.\n\n", res.Config.Runs)

	p("## Summary\n\n")
	p("| figure | podname | baseline | ratio | target | met |\n|---|---|---|---|---|---|\n")
	for _, t := range summary(res) {
		if !t.known {
			p("| %s | not measured | | | %s | |\n", t.figure, t.target)
			continue
		}
		met := "yes"
		if !t.met {
			met = "**no**: " + t.miss
		}
		p("| %s | %s | %s | %s | %s | %s |\n", t.figure, t.podname, t.baseline, t.ratio, t.target, met)
	}
	p("\n")
	if len(res.Problems) > 0 {
		p("**Wrong or failed answers:**\n\n")
		for _, pr := range res.Problems {
			p("- %s\n", pr)
		}
		p("\n")
	}

	machineSection(&w, res)
	throughputSections(&w, res)
	if err := memorySections(&w, r, res, opt); err != nil {
		return nil, err
	}
	if err := churnSection(&w, r, res, opt); err != nil {
		return nil, err
	}
	if err := relistSection(&w, r, res, opt); err != nil {
		return nil, err
	}
	microSection(&w, res)
	profileSection(&w, res)
	if err := corefileSection(&w, res); err != nil {
		return nil, err
	}
	if opt.Notes != "" {
		p("## Notes\n\n%s\n", strings.TrimSpace(opt.Notes))
	}
	r.Markdown = w.String()
	return r, nil
}

// summary is the figures with a target.
func summary(res *Results) []target {
	var out []target
	if t := res.Throughput; t != nil {
		pod := Median(t.saturatedQPS(RolePodname))
		for _, c := range []struct {
			role string
			goal float64
		}{{RoleWhoami, targetVsWhoami}, {RoleFile, targetVsFile}, {RoleKubernetes, targetVsKubernetes}} {
			ratio := Median(ratios(t.Saturated, RolePodname, c.role, func(p PerfRun) float64 { return p.QPS }))
			out = append(out, target{
				figure: fmt.Sprintf("QPS at %s pods, vs %s", CountLabel(float64(t.Pods)), c.role), known: true,
				podname: qps(pod), baseline: qps(Median(t.saturatedQPS(c.role))),
				ratio: fmt.Sprintf("%.2fx", ratio), target: fmt.Sprintf(">= %.1fx", c.goal),
				met: ratio >= c.goal, miss: fmt.Sprintf("%.1f%% short", (c.goal-ratio)/c.goal*100),
			})
		}
	}
	pod, kube, _, err := memoryFits(res)
	if err == nil {
		out = append(out, target{
			figure: "heap per pod (least-squares slope)", known: true,
			podname: fmt.Sprintf("%.0f B", pod.Slope), baseline: fmt.Sprintf("%.0f B (kubernetes, pods verified)", kube.Slope),
			ratio: times(pod.Slope, kube.Slope), target: fmt.Sprintf("<= %d B", targetBytesPerPod),
			met: pod.Slope <= targetBytesPerPod, miss: fmt.Sprintf("%.0f B over", pod.Slope-targetBytesPerPod),
		})
	} else {
		out = append(out, target{figure: "heap per pod", target: fmt.Sprintf("<= %d B", targetBytesPerPod)})
	}
	syncAt := largestAtMost(res, targetSyncPods)
	if syncAt > 0 {
		ps, ks := medianSync(res, RolePodname, syncAt), medianSync(res, RoleKubernetes, syncAt)
		t := target{
			figure: fmt.Sprintf("start to /ready at %s pods", CountLabel(float64(syncAt))), known: true,
			podname: seconds(ps), baseline: seconds(ks) + " (kubernetes)", ratio: times(ps.Seconds(), ks.Seconds()),
			target: "<= 5 s at 100k pods", met: ps <= targetSync, miss: fmt.Sprintf("%s over", seconds(ps-targetSync)),
		}
		if syncAt != targetSyncPods {
			t.target += fmt.Sprintf(" (measured at %s only)", CountLabel(float64(syncAt)))
		}
		out = append(out, t)
	} else {
		out = append(out, target{figure: "start to /ready", target: "<= 5 s at 100k pods"})
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
			ratio: "", target: "0", met: wrong == 0, miss: fmt.Sprintf("%d wrong", wrong),
		})
	} else {
		out = append(out, target{figure: "propagation under churn", target: "p99 <= 100 ms, 0 wrong"})
	}
	if pr, kr := relistOf(res, RolePodname), relistOf(res, RoleKubernetes); pr != nil {
		ratio := pr.Peak / pr.Steady
		base := "not measured"
		if kr != nil {
			base = fmt.Sprintf("%.2fx (kubernetes)", kr.Peak/kr.Steady)
		}
		out = append(out, target{
			figure: fmt.Sprintf("peak / steady heap, API server restart at %s pods", CountLabel(float64(pr.Pods))), known: true,
			podname: fmt.Sprintf("%.2fx (%s / %s)", ratio, mib(pr.Peak), mib(pr.Steady)), baseline: base,
			target: fmt.Sprintf("<= %.1fx", targetRelist), met: ratio <= targetRelist,
			miss: fmt.Sprintf("%.2fx over", ratio-targetRelist),
		})
	} else {
		out = append(out, target{figure: "peak / steady heap on relist", target: "<= 1.5x"})
	}
	return out
}

func machineSection(w *strings.Builder, res *Results) {
	m := res.Machine
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## Machine and method\n\n")
	p("- Command: `%s`, %s in all (%s).\n", res.Command, res.Elapsed.Round(time.Second), m.Date.Format(time.RFC3339))
	p("- Machine: %d CPUs (`nproc`), `%s` (`/proc/cpuinfo`), %s of memory, %s.\n", m.CPUs, m.CPUModel, memTotal(m.MemTotal), m.Kernel)
	p("- Software: %s, %s, dnsperf %s, commit %s.\n", m.CoreDNS, m.Go, m.Dnsperf, m.Commit)
	p("- Load average at start %s, at end %s.", m.LoadStart, res.LoadEnd)
	if len(m.Others) > 0 {
		p(" Other work running at start (shares the CPUs; figures are noisier): %d processes, e.g. `%s`.", len(m.Others), m.Others[0])
	} else {
		p(" No other cluster or `go test` was running at start.")
	}
	p("\n")
	p("- Cluster: package `test/cluster` on 127.0.0.1 (etcd with `--unsafe-no-fsync`, kube-apiserver, controller manager, scheduler, kwok), default flags. ")
	p("Pods are created straight through the API, not by kwok: %d concurrent clients (client QPS 5000, burst 10000, protobuf), each pod a create then an UpdateStatus (Running, Ready, an IP chosen by the bench), ", res.Config.Workers)
	p("bound by `spec.nodeName`, round robin, to %d Nodes kwok does not manage whose heartbeats the bench writes every %s (on one Node, the scheduler's cache spends more CPU per pod event than the API server). ", benchNodes, heartbeatEvery)
	p("Pod spec: one container with ports, env, resources and a probe, labels `app`, `pod-template-hash`; names like `%s`.\n", PodName(4242))
	if len(res.Creation) > 0 {
		var steps []string
		for _, c := range res.Creation {
			steps = append(steps, fmt.Sprintf("%s to %s in %s (%.0f/s)", CountLabel(float64(c.From)), CountLabel(float64(c.To)),
				seconds(c.Elapsed), float64(c.To-c.From)/c.Elapsed.Seconds()))
		}
		p("- Pods created: %s.\n", strings.Join(steps, "; "))
	}
	for _, sk := range res.Skipped {
		p("- %s.\n", sk)
	}
	if st := res.Cluster; st.Pods > 0 {
		p("- At %s pods: etcd database %s, kube-apiserver RSS %s.\n", CountLabel(float64(st.Pods)), mib(st.EtcdDBBytes), mib(st.APIServerRSS))
	}
	p("\n")
}

func throughputSections(w *strings.Builder, res *Results) {
	t := res.Throughput
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	if t == nil {
		p("## 1. Throughput\n\nNot measured.\n\n## 2. Latency\n\nNot measured.\n\n")
		return
	}
	p("## 1. Throughput\n\n")
	p("One coredns process with four server blocks on their own loopback ports (one process, so every plugin gets the same runtime and CPUs; the Corefile is at the end): ")
	p("podname answering `<pod>.%s`; the *kubernetes* plugin with `endpoint_pod_names` answering `<pod>.<service>.<namespace>.svc.cluster.local` ", Zone)
	p("through %d headless Services of %d pods each, EndpointSlices made by the controller manager (every pod Ready, every endpoint checked in the slices); ", t.Pods/podsPerApp, podsPerApp)
	p("the *file* plugin with a zone file of the same %d A records; and *whoami*, the server's ceiling. ", t.Pods)
	p("Before dnsperf every one of the %d names was asked of each block and answered with the pod's IP. ", t.Pods)
	p("dnsperf asks each block in turn (the order rotates between runs) for all %d names, shuffled, as fast as it answers. ", t.Pods)
	if res.Config.ServerCPUs != "" {
		p("coredns runs on CPU %s alone (`taskset`, so GOMAXPROCS is 1) and dnsperf on CPU %s: otherwise the two share both cores and every ratio drifts towards 1 by the client's share. ", res.Config.ServerCPUs, res.Config.Perf.CPUs)
		p("The CPU columns show which side set the pace: coredns near 1.00 core means the server did. ")
	}
	p("coredns CPU per query (its CPU time over the run / queries answered) does not depend on how much CPU other processes left it, so it compares the plugins even on a busy machine.")
	p("\n\n| plugin | QPS (median) | QPS per run | lost (median) | CPU coredns / dnsperf (cores) | coredns CPU per query | podname / plugin, QPS (median of per-run ratios) | plugin / podname, CPU per query |\n|---|---|---|---|---|---|---|---|\n")
	for _, role := range throughputRoles {
		var per []string
		for _, q := range t.saturatedQPS(role) {
			per = append(per, qps(q))
		}
		lost := Median(perfField(t.Saturated, role, func(p PerfRun) float64 { return float64(p.Lost) }))
		ratio := Median(ratios(t.Saturated, RolePodname, role, func(p PerfRun) float64 { return p.QPS }))
		server := Median(perfField(t.Saturated, role, func(p PerfRun) float64 { return p.ServerCPU }))
		client := Median(perfField(t.Saturated, role, func(p PerfRun) float64 { return p.ClientCPU }))
		perQuery := func(p PerfRun) float64 { return p.ServerCPU / p.QPS }
		cost := Median(perfField(t.Saturated, role, perQuery))
		costRatio := Median(ratios(t.Saturated, role, RolePodname, perQuery))
		p("| %s | %s | %s | %.0f | %.2f / %.2f | %.1f µs | %.2fx | %.2fx |\n", role, qps(Median(t.saturatedQPS(role))), strings.Join(per, ", "), lost,
			server, client, cost*1e6, ratio, costRatio)
	}
	p("\nCommand (podname's block; the others differ in port and, for kubernetes, in the query file):\n\n```\n%s\n```\n\n", t.Saturated[0][0].Command)

	p("## 2. Latency\n\n")
	p("The same four blocks at a fixed %d queries per second", t.LatencyQPS)
	if t.LatencyQPS < res.Config.LatencyQPS {
		p(" (half the slowest block's saturated rate, below the %d asked for)", res.Config.LatencyQPS)
	}
	p(", latency of every answer from dnsperf `-v` (dnsperf 2.10 has no histogram option); lost = sent - completed.\n\n")
	p("| plugin | p50 | p99 | max | lost of sent | podname p99 / plugin p99 |\n|---|---|---|---|---|---|\n")
	for _, role := range throughputRoles {
		p50 := Median(perfField(t.Latency, role, func(p PerfRun) float64 { return p.P50 }))
		p99 := Median(perfField(t.Latency, role, func(p PerfRun) float64 { return p.P99 }))
		mx := Median(perfField(t.Latency, role, func(p PerfRun) float64 { return p.Max }))
		lost := Median(perfField(t.Latency, role, func(p PerfRun) float64 { return float64(p.Lost) }))
		sent := Median(perfField(t.Latency, role, func(p PerfRun) float64 { return float64(p.Sent) }))
		ratio := Median(ratios(t.Latency, RolePodname, role, func(p PerfRun) float64 { return p.P99 }))
		p("| %s | %s | %s | %s | %.0f of %.0f (%.3f%%) | %.2fx |\n", role, millis(p50), millis(p99), millis(mx), lost, sent, 100*lost/sent, ratio)
	}
	p("\nCommand:\n\n```\n%s\n```\n\n", t.Latency[0][0].Command)
}

// memoryFits are the least-squares lines of heap against pods for podname and the kubernetes
// plugin, and the whoami baseline's heap.
func memoryFits(res *Results) (pod, kube Fit, baseline float64, err error) {
	heap := func(s MemorySample) float64 { return s.HeapInuse }
	if pod, err = fitOver(res, RolePodname, heap); err != nil {
		return
	}
	if kube, err = fitOver(res, RoleKubernetes, heap); err != nil {
		return
	}
	baseline = medianMemory(res, RoleWhoami, 0, heap)
	return
}

func medianMemory(res *Results, role string, pods int, f func(MemorySample) float64) float64 {
	var xs []float64
	for _, s := range res.Memory {
		if s.Role == role && s.Pods == pods {
			xs = append(xs, f(s))
		}
	}
	return Median(xs)
}

func medianSync(res *Results, role string, pods int) time.Duration {
	return time.Duration(medianMemory(res, role, pods, func(s MemorySample) float64 { return float64(s.Sync) }))
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

func memorySections(w *strings.Builder, r *Report, res *Results, opt ReportOptions) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## 3. Memory\n\n")
	pod, kube, baseline, err := memoryFits(res)
	if err != nil {
		p("Not measured (%v).\n\n## 4. Sync\n\nNot measured.\n\n", err)
		return nil
	}
	p("A coredns serving one plugin alone (podname; or the *kubernetes* plugin with `pods verified`, so it watches pods too; or *whoami*, watching nothing, for the baseline), ")
	p("one process at a time, started after the pods exist. Once `/ready` answers (and, for podname, `coredns_podname_pods` equals the pod count) the bench reads ")
	p("`go_memstats_heap_inuse_bytes` from `/metrics`, forces a GC through the *pprof* plugin (`/debug/pprof/heap?gc=1`), reads it again (the figure below: live data, not wherever the GC cycle was), and reads `VmRSS` from `/proc/PID/status`. ")
	p("Bytes per pod is the least-squares slope over the sizes; B/pod at a size is (heap - whoami's heap) / pods.\n\n")
	p("| pods | podname heap | kubernetes heap | podname B/pod | kubernetes B/pod | podname RSS | kubernetes RSS | podname heap before GC | kubernetes heap before GC |\n|---|---|---|---|---|---|---|---|---|\n")
	heap := func(s MemorySample) float64 { return s.HeapInuse }
	rss := func(s MemorySample) float64 { return s.RSS }
	pre := func(s MemorySample) float64 { return s.HeapInuseBeforeGC }
	baseRSS := medianMemory(res, RoleWhoami, 0, rss)
	p("| 0 (whoami) | %s | | | | %s | | %s | |\n", mib(baseline), mib(baseRSS), mib(medianMemory(res, RoleWhoami, 0, pre)))
	for _, size := range measuredSizes(res) {
		ph, kh := medianMemory(res, RolePodname, size, heap), medianMemory(res, RoleKubernetes, size, heap)
		p("| %s | %s | %s | %.0f | %.0f | %s | %s | %s | %s |\n", CountLabel(float64(size)), mib(ph), mib(kh),
			(ph-baseline)/float64(size), (kh-baseline)/float64(size),
			mib(medianMemory(res, RolePodname, size, rss)), mib(medianMemory(res, RoleKubernetes, size, rss)),
			mib(medianMemory(res, RolePodname, size, pre)), mib(medianMemory(res, RoleKubernetes, size, pre)))
	}
	podRSS, errP := fitOver(res, RolePodname, rss)
	kubeRSS, errK := fitOver(res, RoleKubernetes, rss)
	p("\n| | podname | kubernetes (pods verified) | podname / kubernetes | target |\n|---|---|---|---|---|\n")
	p("| heap, bytes per pod (slope) | %.0f | %.0f | %s | <= %d |\n", pod.Slope, kube.Slope, times(pod.Slope, kube.Slope), targetBytesPerPod)
	p("| heap intercept (whoami alone: %s) | %s | %s | | |\n", mib(baseline), mib(pod.Intercept), mib(kube.Intercept))
	p("| heap fit R² | %.4f | %.4f | | |\n", pod.R2, kube.R2)
	if errP == nil && errK == nil {
		p("| RSS, bytes per pod (slope) | %.0f | %.0f | %s | |\n", podRSS.Slope, kubeRSS.Slope, times(podRSS.Slope, kubeRSS.Slope))
	}
	p("\n![heap and RSS against pods](%s)\n\n", filepath.ToSlash(filepath.Join(opt.PlotDir, "memory.svg")))
	if err := memoryPlot(r, res); err != nil {
		return err
	}

	p("## 4. Sync\n\n")
	p("From the process's start to `/ready` answering 200 (polled every %s), same processes as section 3.\n\n", readyPoll)
	p("| pods | podname | kubernetes (pods verified) | podname / kubernetes | podname per run |\n|---|---|---|---|---|\n")
	for _, size := range measuredSizes(res) {
		ps, ks := medianSync(res, RolePodname, size), medianSync(res, RoleKubernetes, size)
		var runs []string
		for _, s := range res.Memory {
			if s.Role == RolePodname && s.Pods == size {
				runs = append(runs, seconds(s.Sync))
			}
		}
		p("| %s | %s | %s | %s | %s |\n", CountLabel(float64(size)), seconds(ps), seconds(ks), times(ps.Seconds(), ks.Seconds()), strings.Join(runs, ", "))
	}
	p("\nTarget: 100k pods in <= 5 s.\n\n![sync time against pods](%s)\n\n", filepath.ToSlash(filepath.Join(opt.PlotDir, "sync.svg")))
	return syncPlot(r, res)
}

// fitOver is the least-squares line of f against pods over role's measured sizes.
func fitOver(res *Results, role string, f func(MemorySample) float64) (Fit, error) {
	var xs, ys []float64
	for _, size := range measuredSizes(res) {
		if v := medianMemory(res, role, size, f); !math.IsNaN(v) {
			xs, ys = append(xs, float64(size)), append(ys, v)
		}
	}
	return LeastSquares(xs, ys)
}

func memoryPlot(r *Report, res *Results) error {
	series := func(name, role string, f func(MemorySample) float64, dashed bool) Series {
		s := Series{Name: name, Dashed: dashed, Markers: true}
		for _, size := range measuredSizes(res) {
			s.Points = append(s.Points, plotter.XY{X: float64(size), Y: medianMemory(res, role, size, f) / (1 << 20)})
		}
		return s
	}
	heap := func(s MemorySample) float64 { return s.HeapInuse }
	rss := func(s MemorySample) float64 { return s.RSS }
	sizes := measuredSizes(res)
	base := Series{Name: "whoami alone, heap", Dashed: true}
	b := medianMemory(res, RoleWhoami, 0, heap) / (1 << 20)
	base.Points = plotter.XYs{{X: float64(sizes[0]), Y: b}, {X: float64(sizes[len(sizes)-1]), Y: b}}
	c := Chart{
		Title: "coredns memory after sync", XLabel: "pods", YLabel: "MiB", XFormat: CountLabel,
		Series: []Series{
			series("podname, heap in use", RolePodname, heap, false),
			series("kubernetes (pods verified), heap in use", RoleKubernetes, heap, false),
			series("podname, RSS", RolePodname, rss, true),
			series("kubernetes, RSS", RoleKubernetes, rss, true),
			base,
		},
	}
	svg, err := c.SVG()
	if err != nil {
		return err
	}
	r.Plots["memory.svg"] = svg
	return nil
}

func syncPlot(r *Report, res *Results) error {
	series := func(name, role string) Series {
		s := Series{Name: name, Markers: true}
		for _, size := range measuredSizes(res) {
			s.Points = append(s.Points, plotter.XY{X: float64(size), Y: medianSync(res, role, size).Seconds()})
		}
		return s
	}
	c := Chart{Title: "process start to /ready", XLabel: "pods", YLabel: "seconds", XFormat: CountLabel,
		Series: []Series{series("podname", RolePodname), series("kubernetes (pods verified)", RoleKubernetes)}}
	svg, err := c.SVG()
	if err != nil {
		return err
	}
	r.Plots["sync.svg"] = svg
	return nil
}

func churnSection(w *strings.Builder, r *Report, res *Results, opt ReportOptions) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## 5. Propagation under churn\n\n")
	c := res.Churn
	if c == nil {
		p("Not measured.\n\n")
		return nil
	}
	p("On top of %s pods, %d pods created and %d deleted per second for %d s, in a namespace with a pool of %d pods so the population stays level; ",
		CountLabel(float64(c.BackgroundPods)), c.Rate, c.Rate, c.Seconds, c.Pool)
	p("each pod is created then set Running and Ready with a new IP, and deleted with no grace period. ")
	p("A watch of the bench's own sees each pod get its IP (ADDED/MODIFIED) and go (DELETED); from that moment it asks the plugin for the pod's name, every 1 ms at first, 10%% longer each time, at most every 10 ms, ")
	p("until the answer is the pod's IP (appear) or NXDOMAIN (vanish). A wrong answer is one naming any other address. ")
	p("Each plugin has a pass of its own with its own pods, one coredns serving it alone: podname (`<pod>.%s`), then the *kubernetes* plugin (`<pod>.churn.churn.svc.cluster.local`, through a headless Service, so its delay includes the controller manager's EndpointSlice controller). ", Zone)
	p("Separate passes, because that Service makes the controller manager recompute the Service's EndpointSlices (and Endpoints) on every change, CPU that would otherwise be taken from podname on these %d cores. One pass per plugin, not three: each percentile is over every pod of the pass.\n\n", res.Machine.CPUs)
	for _, role := range []string{RolePodname, RoleKubernetes} {
		if _, ok := c.Elapsed[role]; ok {
			p("- %s pass: %d created, %d deleted in %s; CPU meanwhile, in cores: %s.\n", role, c.Created[role], c.Deleted[role],
				c.Elapsed[role].Round(time.Millisecond), formatCPU(c.CPU[role]))
		}
	}
	p("\n")
	p("| | podname p50 | p99 | max | kubernetes p50 | p99 | max | podname p99 / kubernetes p99 | target p99 |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, kind := range []struct {
		name string
		m    map[string][]float64
	}{{"IP seen in watch to right answer", c.Appear}, {"DELETED seen to NXDOMAIN", c.Vanish}} {
		pd, kd := kind.m[RolePodname], kind.m[RoleKubernetes]
		p("| %s (%d, %d) | %s | %s | %s | %s | %s | %s | %s | <= 100 ms |\n", kind.name, len(pd), len(kd),
			millis(Percentile(pd, 50)), millis(Percentile(pd, 99)), millis(Max(pd)),
			millis(Percentile(kd, 50)), millis(Percentile(kd, 99)), millis(Max(kd)),
			times(Percentile(pd, 99), Percentile(kd, 99)))
	}
	p("\n| | podname | kubernetes |\n|---|---|---|\n")
	p("| wrong answers (must be 0) | %d | %d |\n", c.Wrong[RolePodname], c.Wrong[RoleKubernetes])
	p("| failed queries (SERVFAIL, timeout) | %d | %d |\n", c.Failed[RolePodname], c.Failed[RoleKubernetes])
	p("| names not right within %s | %d | %d |\n", churnLimit, c.Timeouts[RolePodname], c.Timeouts[RoleKubernetes])
	if len(c.Bad) > 0 {
		p("\nExamples: %s\n", strings.Join(c.Bad, "; "))
	}
	p("\n![propagation delay distribution](%s)\n\n", filepath.ToSlash(filepath.Join(opt.PlotDir, "propagation.svg")))

	cdf := func(name string, xs []float64, dashed bool) Series {
		s := Series{Name: fmt.Sprintf("%s (%d)", name, len(xs)), Dashed: dashed}
		if len(xs) == 0 {
			return s
		}
		sorted := slices.Clone(xs)
		slices.Sort(sorted)
		for q := 0.0; q <= 100; q += 0.25 {
			s.Points = append(s.Points, plotter.XY{X: math.Max(percentileSorted(sorted, q)*1e3, 0.01), Y: q})
		}
		return s
	}
	var series []Series
	for _, s := range []Series{
		cdf("podname, appear", c.Appear[RolePodname], false),
		cdf("podname, vanish", c.Vanish[RolePodname], true),
		cdf("kubernetes, appear", c.Appear[RoleKubernetes], false),
		cdf("kubernetes, vanish", c.Vanish[RoleKubernetes], true),
	} {
		if len(s.Points) > 0 {
			series = append(series, s)
		}
	}
	chart := Chart{Title: "delay from the watch to DNS under churn (cumulative)", XLabel: "milliseconds (log)", YLabel: "% of changes",
		XLog: true, Series: series}
	svg, err := chart.SVG()
	if err != nil {
		return err
	}
	r.Plots["propagation.svg"] = svg
	return nil
}

// relistOf is role's relist with coredns's default environment.
func relistOf(res *Results, role string) *RelistResult {
	for _, r := range res.Relist {
		if r.Role == role && len(r.Env) == 0 {
			return r
		}
	}
	return nil
}

func relistSection(w *strings.Builder, r *Report, res *Results, opt ReportOptions) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## 6. Relist after an API server restart\n\n")
	if len(res.Relist) == 0 {
		p("Not measured.\n\n")
		return nil
	}
	p("A coredns serving one plugin alone (as in section 3) at %s pods; `go_memstats_heap_inuse_bytes` and VmRSS sampled every %s: %s before the API server is stopped (steady: their median), ",
		CountLabel(float64(res.Relist[0].Pods)), relistSampleEvery, res.Config.RelistSteady)
	p("then through its stop, its start, and %s after it is ready again (for podname at least 5 s after `coredns_podname_pod_events_total{event=\"update\"}` has grown by the pod count: every pod relisted). No forced GC here. One restart per row, not three: each takes the API server about 40 s to come back at this size, and the peak is the largest of a few thousand samples.\n\n", res.Config.RelistWindow)
	p("| plugin | steady heap (median) | steady heap (max) | peak heap | peak / steady median | peak / steady max | steady RSS | peak RSS | API server down | podname has every pod again | target |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	var series []Series
	var marks []Mark
	for _, rl := range res.Relist {
		resync := "n/a"
		if rl.Role == RolePodname {
			resync = "not within the window"
			switch d := rl.Resynced - rl.Ready; {
			case rl.Resynced == 0:
			case d < 2*relistSampleEvery.Seconds():
				// The API server serves lists before its /readyz says so.
				resync = "already when /readyz first answered"
			default:
				resync = fmt.Sprintf("%.1f s after /readyz", d)
			}
		}
		label := rl.Role
		if len(rl.Env) > 0 {
			label += " (" + strings.Join(rl.Env, " ") + ")"
		}
		p("| %s | %s | %s | %s | %.2fx | %.2fx | %s | %s | %.1f s | %s | <= %.1fx |\n", label, mib(rl.Steady), mib(rl.SteadyMax), mib(rl.Peak),
			rl.Peak/rl.Steady, rl.Peak/rl.SteadyMax, mib(rl.SteadyRSS), mib(rl.PeakRSS), rl.Ready-rl.Stopped, resync, targetRelist)
		s := Series{Name: label, Dashed: len(rl.Env) > 0}
		for _, smp := range rl.Samples {
			s.Points = append(s.Points, plotter.XY{X: smp.T - rl.Stopped, Y: smp.Heap / rl.Steady})
		}
		series = append(series, s)
		if rl == relistOf(res, RolePodname) {
			marks = append(marks, Mark{X: 0, Label: "API server stopped"}, Mark{X: rl.Ready - rl.Stopped, Label: "API server ready"})
			if rl.Resynced > 0 && rl.Resynced-rl.Ready >= 2*relistSampleEvery.Seconds() {
				marks = append(marks, Mark{X: rl.Resynced - rl.Stopped, Label: "podname relisted"})
			}
		}
	}
	p("\n![heap during a relist](%s)\n\n", filepath.ToSlash(filepath.Join(opt.PlotDir, "relist.svg")))
	if len(series) > 0 && len(series[0].Points) > 0 {
		first := series[0].Points
		series = append(series, Series{Name: fmt.Sprintf("target %.1fx", targetRelist), Dashed: true,
			Points: plotter.XYs{{X: first[0].X, Y: targetRelist}, {X: first[len(first)-1].X, Y: targetRelist}}})
	}
	chart := Chart{Title: "heap in use around an API server restart, relative to each plugin's steady median",
		XLabel: "seconds since the API server was stopped", YLabel: "heap in use / steady median", Series: series, Marks: marks}
	svg, err := chart.SVG()
	if err != nil {
		return err
	}
	r.Plots["relist.svg"] = svg
	return nil
}

func microSection(w *strings.Builder, res *Results) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## 7. Go benchmarks of the plugin\n\n")
	m := res.Micro
	if m == nil {
		p("Not run.\n\n")
		return
	}
	p("`%s`, run before the cluster started; medians of the runs. ServeDNS: the handler alone at 100k pods, podname beside the *file* plugin with the same records.\n\n", m.Command)
	p("| benchmark | ns/op | B/op | allocs/op | bytes/pod | runs |\n|---|---|---|---|---|---|\n")
	cell := func(name, unit string, format string) string {
		v := m.Median(name, unit)
		if math.IsNaN(v) {
			return ""
		}
		return fmt.Sprintf(format, v)
	}
	for _, name := range m.Order {
		p("| %s | %s | %s | %s | %s | %d |\n", name, cell(name, "ns/op", "%.1f"), cell(name, "B/op", "%.0f"), cell(name, "allocs/op", "%.0f"),
			cell(name, "bytes/pod", "%.0f"), len(m.Runs[name]["ns/op"]))
	}
	p("\n")
}

func profileSection(w *strings.Builder, res *Results) {
	t := res.Throughput
	if t == nil || t.Profile == "" {
		return
	}
	fmt.Fprintf(w, "## CPU profile of coredns while dnsperf saturates podname\n\n")
	fmt.Fprintf(w, "An extra saturated run against podname's block, not counted above: %s.\n\n```\n%s```\n\n", t.ProfileCommand, t.Profile)
}

func corefileSection(w *strings.Builder, res *Results) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("## Corefiles\n\n")
	if t := res.Throughput; t != nil {
		p("Throughput and latency (ports are picked free at each run):\n\n```\n%s```\n\n", t.Corefile)
	}
	kc := "KUBECONFIG"
	for _, role := range []string{RolePodname, RoleKubernetes, RoleWhoami} {
		c, err := MemoryCorefile(role, kc)
		if err != nil {
			return err
		}
		p("Memory, sync and relist, %s:\n\n```\n%s```\n\n", role, c.Text)
	}
	if c := res.Churn; c != nil {
		for _, role := range []string{RolePodname, RoleKubernetes} {
			if text, ok := c.Corefile[role]; ok {
				p("Churn, %s pass:\n\n```\n%s```\n\n", role, text)
			}
		}
	}
	return nil
}

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

func mib(b float64) string {
	if math.IsNaN(b) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", b/(1<<20))
}

func millis(s float64) string {
	if math.IsNaN(s) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f ms", s*1e3)
}

func seconds(d time.Duration) string {
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// memTotal writes /proc/meminfo's "24684084 kB" as GiB.
func memTotal(s string) string {
	var kb float64
	if _, err := fmt.Sscanf(s, "%f kB", &kb); err != nil {
		return s
	}
	return fmt.Sprintf("%.1f GiB", kb/(1<<20))
}

// times writes a/b as a ratio, n/a when it has none.
func times(a, b float64) string {
	r := a / b
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%.2fx", r)
}

// measuredSizes are the sizes of Config.Sizes that podname was measured at (the budget may
// have left some out).
func measuredSizes(res *Results) []int {
	var out []int
	for _, size := range res.Config.Sizes {
		for _, s := range res.Memory {
			if s.Role == RolePodname && s.Pods == size {
				out = append(out, size)
				break
			}
		}
	}
	return out
}
