package report

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/podname/podname/test/bench"

	"gonum.org/v1/plot/plotter"
)

// The figures of a bench.MemorySample that the report shows; sync in nanoseconds.
func heapOf(s bench.MemorySample) float64         { return s.HeapInuse }
func heapBeforeGCOf(s bench.MemorySample) float64 { return s.HeapInuseBeforeGC }
func rssOf(s bench.MemorySample) float64          { return s.RSS }
func syncOf(s bench.MemorySample) float64         { return float64(s.Sync) }
func cpuOf(s bench.MemorySample) float64          { return float64(s.CPU) }
func allocatedOf(s bench.MemorySample) float64    { return s.Allocated }
func receivedOf(s bench.MemorySample) float64     { return s.Received }

// syncCPUOf is the CPU time process name used during a sample's sync, in nanoseconds; NaN
// for a sample without those figures (results of an older bench).
func syncCPUOf(name string) func(bench.MemorySample) float64 {
	return func(s bench.MemorySample) float64 {
		if s.SyncCPU == nil {
			return math.NaN()
		}
		return float64(s.SyncCPU[name]) // a process that used no CPU has no entry
	}
}

// syncCPUProcesses are the cluster's components whose CPU during coredns's sync the report
// shows: the API server lists every pod to coredns, reading them from etcd or its cache.
var syncCPUProcesses = []string{"kube-apiserver", "etcd"}

// memory writes sections 3 and 4: heap and sync against pods, and the sync's variants.
func (w *writer) memory() {
	res := w.res
	pod, kube, baseline, err := memoryFits(res)
	if !w.section("## 3. Memory", "3-memory", err == nil) {
		w.section("## 4. Sync", "", false)
		return
	}
	rows := [][]string{{"0 (whoami)", mib(baseline), "", "", "", "", mib(medianMemory(res, bench.RoleWhoami, 0, rssOf)), "", mib(medianMemory(res, bench.RoleWhoami, 0, heapBeforeGCOf)), ""}}
	sizes := measuredSizes(res)
	perPod := func(heap float64, size int) string { return number("%.0f", (heap-baseline)/float64(size)) }
	for _, size := range sizes {
		both := func(f func(bench.MemorySample) float64) (float64, float64) {
			return medianMemory(res, bench.RolePodname, size, f), medianMemory(res, bench.RoleKubernetes, size, f)
		}
		ph, kh := both(heapOf)
		pr, kr := both(rssOf)
		pb, kb := both(heapBeforeGCOf)
		rows = append(rows, []string{count(size), mib(ph), mib(kh), perPod(ph, size), perPod(medianMemory(res, bench.RoleFullDecode, size, heapOf), size),
			perPod(kh, size), mib(pr), mib(kr), mib(pb), mib(kb)})
	}
	w.table("pods | podname heap | kubernetes heap | podname B/pod | podname, full decode B/pod | kubernetes B/pod | podname RSS | kubernetes RSS | podname heap before GC | kubernetes heap before GC", rows...)
	full := fitOrNaN(res, bench.RoleFullDecode, heapOf)
	rows = [][]string{
		{"heap, bytes per pod (slope)", number("%.0f", pod.Slope), number("%.0f", full.Slope), number("%.0f", kube.Slope), times(pod.Slope, full.Slope), times(pod.Slope, kube.Slope), number("<= %.0f", targetBytesPerPod)},
		{"heap intercept (whoami alone: " + mib(baseline) + ")", mib(pod.Intercept), mib(full.Intercept), mib(kube.Intercept), "", "", ""},
		{"heap fit R²", number("%.4f", pod.R2), number("%.4f", full.R2), number("%.4f", kube.R2), "", "", ""},
	}
	if podRSS, kubeRSS := fitOrNaN(res, bench.RolePodname, rssOf), fitOrNaN(res, bench.RoleKubernetes, rssOf); !math.IsNaN(podRSS.Slope) && !math.IsNaN(kubeRSS.Slope) {
		fullRSS := fitOrNaN(res, bench.RoleFullDecode, rssOf)
		rows = append(rows, []string{"RSS, bytes per pod (slope)", number("%.0f", podRSS.Slope), number("%.0f", fullRSS.Slope), number("%.0f", kubeRSS.Slope),
			times(podRSS.Slope, fullRSS.Slope), times(podRSS.Slope, kubeRSS.Slope), ""})
	}
	w.table(" | podname | podname, full decode | kubernetes (pods verified) | podname / full decode | podname / kubernetes | target", rows...)
	mibs := func(name, role string, f func(bench.MemorySample) float64, dashed bool) Series {
		return Series{Name: name, Points: bySize(res, role, f, 1<<20), Dashed: dashed, Markers: true}
	}
	w.figure("heap and RSS against pods", "memory.svg", Chart{
		Title: "coredns memory after sync", XLabel: "pods", YLabel: "MiB", XFormat: bench.CountLabel,
		Series: []Series{
			mibs("podname, heap in use", bench.RolePodname, heapOf, false),
			mibs("podname, full decode, heap in use", bench.RoleFullDecode, heapOf, false),
			mibs("kubernetes (pods verified), heap in use", bench.RoleKubernetes, heapOf, false),
			mibs("podname, RSS", bench.RolePodname, rssOf, true),
			mibs("kubernetes, RSS", bench.RoleKubernetes, rssOf, true),
			{Name: "whoami alone, heap", Dashed: true, Points: level(baseline/(1<<20), float64(sizes[0]), float64(sizes[len(sizes)-1]))},
		},
	})
	w.sync(sizes)
	w.variant("### Compression", "compression", "gzip", []variantRow{{"on", bench.RoleGzipOn}, {"off", bench.RoleGzipOff}})
	w.variant("### Watch-list or list", "watch-list-or-list", "pods come by", []variantRow{{"watch-list", bench.RolePodname}, {"list, then watch", bench.RoleListWatch}})
}

// sync writes section 4: the time and CPU to /ready, bytes allocated, and the cluster's CPU
// meanwhile.
func (w *writer) sync(sizes []int) {
	res := w.res
	w.section("## 4. Sync", "4-sync", true)
	var rows [][]string
	for _, size := range sizes {
		sync := func(role string) float64 { return medianMemory(res, role, size, syncOf) } // NaN for a plugin not measured
		ps, fs, ks := sync(bench.RolePodname), sync(bench.RoleFullDecode), sync(bench.RoleKubernetes)
		var runs []string
		for _, d := range memoryValues(res, bench.RolePodname, size, syncOf) {
			runs = append(runs, secondsOf(d))
		}
		rows = append(rows, []string{count(size), secondsOf(ps), secondsOf(fs), secondsOf(ks), times(ps, fs), times(ps, ks), strings.Join(runs, ", ")})
	}
	w.table("pods | podname | podname, full decode | kubernetes (pods verified) | podname / full decode | podname / kubernetes | podname per run", rows...)
	w.p("Target: %s pods in <= %s.\n\n", count(targetSyncPods), seconds(targetSync))
	allocBase := medianMemory(res, bench.RoleWhoami, 0, allocatedOf)
	rows = nil
	for _, size := range sizes {
		cpu := func(role string) string { return secondsOf(medianMemory(res, role, size, cpuOf)) }
		alloc := func(role string) float64 {
			return (medianMemory(res, role, size, allocatedOf) - allocBase) / float64(size)
		}
		rows = append(rows, []string{count(size), cpu(bench.RolePodname), cpu(bench.RoleFullDecode), cpu(bench.RoleKubernetes),
			nbytes(alloc(bench.RolePodname)), nbytes(alloc(bench.RoleFullDecode)), nbytes(alloc(bench.RoleKubernetes)), times(alloc(bench.RolePodname), alloc(bench.RoleFullDecode))})
	}
	w.table("pods | CPU podname | CPU podname, full decode | CPU kubernetes | allocated per pod, podname | podname, full decode | kubernetes | podname / full decode, allocated", rows...)
	w.p("Target: %s pods in <= %s of CPU time. Allocated per pod is less whoami's %s.\n\n", count(targetSyncPods), seconds(targetSyncCPU), mib(allocBase))
	if slices.ContainsFunc(res.Memory, func(s bench.MemorySample) bool { return s.SyncCPU != nil }) {
		rows = nil
		for _, size := range sizes {
			row := []string{count(size)}
			for _, name := range syncCPUProcesses {
				for _, role := range []string{bench.RolePodname, bench.RoleFullDecode, bench.RoleKubernetes} {
					row = append(row, secondsOf(medianMemory(res, role, size, syncCPUOf(name))))
				}
			}
			rows = append(rows, row)
		}
		w.table("pods | kube-apiserver CPU, podname | podname, full decode | kubernetes | etcd CPU, podname | podname, full decode | kubernetes", rows...)
	}
	secs := func(name, role string, f func(bench.MemorySample) float64, dashed bool) Series {
		return Series{Name: name, Points: bySize(res, role, f, float64(time.Second)), Markers: true, Dashed: dashed}
	}
	w.figure("sync time against pods", "sync.svg", Chart{Title: "process start to /ready", XLabel: "pods", YLabel: "seconds", XFormat: bench.CountLabel,
		Series: []Series{secs("podname", bench.RolePodname, syncOf, false), secs("podname, full decode", bench.RoleFullDecode, syncOf, false),
			secs("kubernetes (pods verified)", bench.RoleKubernetes, syncOf, false), secs("podname, CPU", bench.RolePodname, cpuOf, true),
			secs("podname, full decode, CPU", bench.RoleFullDecode, cpuOf, true), secs("kubernetes, CPU", bench.RoleKubernetes, cpuOf, true)}})
}

// clusterCPUNote is the CPU time of syncCPUProcesses during role's sync at pods, as
// "kube-apiserver 3.40 s, etcd 0.30 s"; empty where it was not measured.
func clusterCPUNote(res *bench.Results, role string, pods int) string {
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

// variantRow is a row of a variant's table: its name and the variant it shows.
type variantRow struct{ name, role string }

// variant writes the table of podname's sync as rows at the one size the second row was
// measured at, with the ratio of the second row to the first.
func (w *writer) variant(title, anchor, what string, rows []variantRow) {
	res := w.res
	pods := bench.VariantPods(res, rows[1].role)
	if !w.section(title, anchor, pods > 0 && len(memoryValues(res, rows[1].role, pods, syncOf)) > 0) {
		return
	}
	w.p("%s pods, %s.\n\n", count(pods), bench.Plural(len(memoryValues(res, rows[1].role, pods, syncOf)), "run"))
	allocBase, heapBase := medianMemory(res, bench.RoleWhoami, 0, allocatedOf), medianMemory(res, bench.RoleWhoami, 0, heapOf)
	med := func(role string, f func(bench.MemorySample) float64) float64 { return medianMemory(res, role, pods, f) }
	var cells [][]string
	for _, row := range rows {
		cells = append(cells, []string{row.name, seconds(time.Duration(med(row.role, syncOf))), seconds(time.Duration(med(row.role, cpuOf))),
			mib(med(row.role, receivedOf)), nbytes(med(row.role, receivedOf) / float64(pods)), nbytes((med(row.role, allocatedOf) - allocBase) / float64(pods)),
			nbytes((med(row.role, heapOf) - heapBase) / float64(pods))})
	}
	a, b := rows[0].role, rows[1].role
	cells = append(cells, []string{rows[1].name + " / " + rows[0].name, times(med(b, syncOf), med(a, syncOf)), times(med(b, cpuOf), med(a, cpuOf)),
		times(med(b, receivedOf), med(a, receivedOf)), "", times(med(b, allocatedOf)-allocBase, med(a, allocatedOf)-allocBase), times(med(b, heapOf)-heapBase, med(a, heapOf)-heapBase)})
	w.table(what+" | start to /ready | CPU time | bytes read | read per pod | allocated per pod | heap per pod", cells...)
}

// fitOrNaN is fitOver, with NaN figures where role was not measured.
func fitOrNaN(res *bench.Results, role string, f func(bench.MemorySample) float64) bench.Fit {
	fit, err := fitOver(res, role, f)
	if err != nil {
		return bench.Fit{Slope: math.NaN(), Intercept: math.NaN(), R2: math.NaN()}
	}
	return fit
}

// memoryFits are the least-squares lines of heap against pods for podname and the kubernetes
// plugin, and the whoami baseline's heap.
func memoryFits(res *bench.Results) (pod, kube bench.Fit, baseline float64, err error) {
	if pod, err = fitOver(res, bench.RolePodname, heapOf); err != nil {
		return
	}
	if kube, err = fitOver(res, bench.RoleKubernetes, heapOf); err != nil {
		return
	}
	return pod, kube, medianMemory(res, bench.RoleWhoami, 0, heapOf), nil
}

// fitOver is the least-squares line of f against pods over role's measured sizes.
func fitOver(res *bench.Results, role string, f func(bench.MemorySample) float64) (bench.Fit, error) {
	var xs, ys []float64
	for _, pt := range bySize(res, role, f, 1) {
		xs, ys = append(xs, pt.X), append(ys, pt.Y)
	}
	return bench.LeastSquares(xs, ys)
}

// bySize is the median of f over role's runs at each measured size, divided by unit; sizes
// role was not measured at are left out.
func bySize(res *bench.Results, role string, f func(bench.MemorySample) float64, unit float64) plotter.XYs {
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
func memoryValues(res *bench.Results, role string, pods int, f func(bench.MemorySample) float64) []float64 {
	var xs []float64
	for _, s := range res.Memory {
		if s.Variant() == role && s.Pods == pods && !math.IsNaN(f(s)) {
			xs = append(xs, f(s))
		}
	}
	return xs
}

func medianMemory(res *bench.Results, role string, pods int, f func(bench.MemorySample) float64) float64 {
	return bench.Median(memoryValues(res, role, pods, f))
}

// measuredSizes are the sizes of Config.Sizes that podname was measured at (the budget may
// have left some out).
func measuredSizes(res *bench.Results) []int {
	return slices.DeleteFunc(slices.Clone(res.Config.Sizes), func(size int) bool {
		return len(memoryValues(res, bench.RolePodname, size, heapOf)) == 0
	})
}

// largestAtMost is the largest measured size not above n, 0 if none.
func largestAtMost(res *bench.Results, n int) int {
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
