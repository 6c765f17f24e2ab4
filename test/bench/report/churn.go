package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/podname/podname/test/bench"

	"gonum.org/v1/plot/plotter"
)

// churn writes section 5: the delay from a pod event to the right answer, and what went wrong.
func (w *writer) churn() {
	c := w.res.Churn
	if !w.section("## 5. Propagation under churn", "5-propagation-under-churn", c != nil) {
		return
	}
	w.p("On top of %s pods, %d pods created and %d deleted per second for %d s, in a pool of %d.\n\n", count(c.BackgroundPods), c.Rate, c.Rate, c.Seconds, c.Pool)
	var rows [][]string
	for _, role := range []string{bench.RolePodname, bench.RoleKubernetes} {
		if _, ok := c.Elapsed[role]; ok {
			rows = append(rows, []string{role, fmt.Sprint(c.Created[role]), fmt.Sprint(c.Deleted[role]), c.Elapsed[role].Round(time.Millisecond).String(), bench.FormatCPU(c.CPU[role])})
		}
	}
	w.table("pass | created | deleted | in | CPU meanwhile, cores", rows...)
	dist := func(xs []float64) []string {
		return []string{millis(bench.Percentile(xs, 50)), millis(bench.Percentile(xs, 99)), millis(bench.Max(xs))}
	}
	rows = nil
	for _, kind := range []struct {
		name string
		m    map[string][]float64
	}{{"IP seen in watch to right answer", c.Appear}, {"DELETED seen to NXDOMAIN", c.Vanish}} {
		pd, kd := kind.m[bench.RolePodname], kind.m[bench.RoleKubernetes]
		row := append([]string{fmt.Sprintf("%s (%d, %d)", kind.name, len(pd), len(kd))}, dist(pd)...)
		rows = append(rows, append(append(row, dist(kd)...), times(bench.Percentile(pd, 99), bench.Percentile(kd, 99)), "<= 100 ms"))
	}
	w.table(" | podname p50 | p99 | max | kubernetes p50 | p99 | max | podname p99 / kubernetes p99 | target p99", rows...)
	roles := []string{bench.RolePodname, bench.RoleKubernetes}
	if c.Secondary != nil {
		roles = append(roles, bench.RoleBIND)
	}
	rows = nil
	for _, row := range []struct {
		name string
		m    map[string]int
	}{{"wrong answers (must be 0)", c.Wrong}, {"failed queries (SERVFAIL, timeout)", c.Failed}, {"names not right in time", c.Timeouts},
		{"pods deleted before their name answered", c.Unshown}} {
		cells := []string{row.name}
		for _, role := range roles {
			cells = append(cells, fmt.Sprint(row.m[role]))
		}
		rows = append(rows, cells)
	}
	w.table(strings.ReplaceAll(" | "+strings.Join(roles, " | "), bench.RoleBIND, "BIND"), rows...)
	if len(c.Bad) > 0 {
		w.p("Examples: %s\n\n", strings.Join(c.Bad, "; "))
	}
	var series []Series
	for _, role := range []string{bench.RolePodname, bench.RoleKubernetes} {
		series = append(series, cdf(role+", appear", c.Appear[role], false), cdf(role+", vanish", c.Vanish[role], true))
	}
	w.figure("propagation delay distribution", "propagation.svg", Chart{Title: "delay from the watch to DNS under churn (cumulative)",
		XLabel: "milliseconds (log)", YLabel: "% of changes", XLog: true, Series: series})
}

// cdf is the cumulative distribution of delays xs (seconds) in milliseconds, for a log axis.
func cdf(name string, xs []float64, dashed bool) Series {
	s := Series{Name: fmt.Sprintf("%s (%d)", name, len(xs)), Dashed: dashed}
	for q := 0.0; len(xs) > 0 && q <= 100; q += 0.25 {
		s.Points = append(s.Points, plotter.XY{X: math.Max(bench.Percentile(xs, q)*1e3, 0.01), Y: q})
	}
	return s
}

// relistOf is role's first relist with env added to coredns's environment (none: its
// default).
func relistOf(res *bench.Results, role string, env ...string) *bench.RelistResult {
	for _, r := range res.Relist {
		if r.Role == role && slices.Equal(r.Env, env) {
			return r
		}
	}
	return nil
}

// relist writes section 6: the heap through an API server restart.
func (w *writer) relist() {
	res := w.res
	if !w.section("## 6. Relist after an API server restart", "6-relist-after-an-api-server-restart", len(res.Relist) > 0) {
		return
	}
	kubePeak := math.NaN()
	if kr := relistOf(res, bench.RoleKubernetes); kr != nil {
		kubePeak = kr.Peak
	}
	var rows [][]string
	var series []Series
	var marks []Mark
	for _, rl := range res.Relist {
		// The API server serves lists before its /readyz says so: a relist within two samples
		// of it was done when /readyz first answered.
		relisted := rl.Resynced > 0 && rl.Resynced-rl.Ready >= 2*bench.RelistSampleEvery.Seconds()
		var resync string
		switch {
		case rl.Role != bench.RolePodname:
			resync = "n/a"
		case rl.Resynced == 0:
			resync = "not within the window"
		case !relisted:
			resync = "already when /readyz first answered"
		default:
			resync = fmt.Sprintf("%.1f s after /readyz", rl.Resynced-rl.Ready)
		}
		label := bench.VariantName(rl.Role, rl.Env)
		if rl.Pods != res.Relist[0].Pods {
			label += fmt.Sprintf(", %s pods", count(rl.Pods))
		}
		rows = append(rows, []string{label, mib(rl.Steady), mib(rl.SteadyMax), mib(rl.Peak), times(rl.Peak, rl.Steady), times(rl.Peak, rl.SteadyMax),
			times(rl.Peak, kubePeak), mib(rl.SteadyRSS), mib(rl.PeakRSS), fmt.Sprintf("%.1f s", rl.Ready-rl.Stopped), resync, fmt.Sprintf("<= %.1fx", targetRelist)})
		s := Series{Name: label, Dashed: len(rl.Env) > 0}
		for _, smp := range rl.Samples {
			s.Points = append(s.Points, plotter.XY{X: smp.T - rl.Stopped, Y: smp.Heap / rl.Steady})
		}
		series = append(series, s)
		if rl == relistOf(res, bench.RolePodname) {
			marks = append(marks, Mark{X: 0, Label: "API server stopped"}, Mark{X: rl.Ready - rl.Stopped, Label: "API server ready"})
			if relisted {
				marks = append(marks, Mark{X: rl.Resynced - rl.Stopped, Label: "podname relisted"})
			}
		}
	}
	w.p("%s pods.\n\n", count(res.Relist[0].Pods))
	w.table("plugin | steady heap (median) | steady heap (max) | peak heap | peak / steady median | peak / steady max | peak / kubernetes peak | steady RSS | peak RSS | API server down | podname has every pod again | target", rows...)
	if first := series[0].Points; len(first) > 0 {
		series = append(series, Series{Name: fmt.Sprintf("target %.1fx", targetRelist), Dashed: true,
			Points: level(targetRelist, first[0].X, first[len(first)-1].X)})
	}
	w.figure("heap during a relist", "relist.svg", Chart{Title: "heap in use around an API server restart, relative to each plugin's steady median",
		XLabel: "seconds since the API server was stopped", YLabel: "heap in use / steady median", Series: series, Marks: marks})
}
