package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/podname/podname/test/bench"
)

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

// Goal is a figure with a target, as a run met it or not: a row of the summary, and an entry
// of goals.json.
type Goal struct {
	Figure   string `json:"figure"`
	Podname  string `json:"podname,omitempty"`
	Baseline string `json:"baseline,omitempty"`
	Ratio    string `json:"ratio,omitempty"`
	Target   string `json:"target"`
	Measured bool   `json:"measured"`
	Met      bool   `json:"met"`
	Miss     string `json:"miss,omitempty"` // by how much, if not met
}

// writeGoals puts goals.json in files: the goals of res and its problems, the run's failures.
func writeGoals(files map[string]string, res *bench.Results) error {
	raw, err := json.MarshalIndent(struct {
		Goals    []Goal   `json:"goals"`
		Problems []string `json:"problems"`
	}{Goals(res), res.Problems}, "", "  ")
	if err != nil {
		return fmt.Errorf("goals.json: %w", err)
	}
	files["goals.json"] = string(raw) + "\n"
	return nil
}

// Goals are the figures with a target, as res met them or not.
func Goals(res *bench.Results) []Goal {
	var out []Goal
	if t := res.Throughput; t != nil {
		pod := bench.Median(t.SaturatedQPS(bench.RolePodname))
		for _, c := range []struct {
			role string
			goal float64
		}{{bench.RoleWhoami, targetVsWhoami}, {bench.RoleFile, targetVsFile}, {bench.RoleKubernetes, targetVsKubernetes}} {
			ratio := bench.Median(bench.Ratios(t.Saturated, bench.RolePodname, c.role, perfQPS))
			out = append(out, Goal{
				Figure: fmt.Sprintf("QPS at %s pods, vs %s", count(t.Pods), c.role), Measured: true,
				Podname: qps(pod), Baseline: qps(bench.Median(t.SaturatedQPS(c.role))),
				Ratio: times(ratio, 1), Target: fmt.Sprintf(">= %.1fx", c.goal),
				Met: ratio >= c.goal, Miss: fmt.Sprintf("%.1f%% short", (c.goal-ratio)/c.goal*100),
			})
		}
	}
	if pod, kube, _, err := memoryFits(res); err == nil {
		base := fmt.Sprintf("%.0f B (kubernetes, pods verified)", kube.Slope)
		if full, err := fitOver(res, bench.RoleFullDecode, heapOf); err == nil {
			base = fmt.Sprintf("%.0f B (podname, full decode); ", full.Slope) + base
		}
		out = append(out, Goal{
			Figure: "heap per pod (least-squares slope)", Measured: true,
			Podname: fmt.Sprintf("%.0f B", pod.Slope), Baseline: base,
			Ratio: times(pod.Slope, kube.Slope), Target: fmt.Sprintf("<= %d B", targetBytesPerPod),
			Met: pod.Slope <= targetBytesPerPod, Miss: fmt.Sprintf("%.0f B over", pod.Slope-targetBytesPerPod),
		})
	} else {
		out = append(out, Goal{Figure: "heap per pod", Target: fmt.Sprintf("<= %d B", targetBytesPerPod)})
	}
	syncGoal := fmt.Sprintf("<= %s at %s pods", seconds(targetSync), count(targetSyncPods))
	cpuGoal := fmt.Sprintf("<= %s at %s pods", seconds(targetSyncCPU), count(targetSyncPods))
	if syncAt := largestAtMost(res, targetSyncPods); syncAt > 0 {
		for _, row := range []struct {
			figure, goal string
			limit        time.Duration
			f            func(bench.MemorySample) float64
			cluster      bool // the cluster's CPU meanwhile beside coredns's
		}{{"start to /ready", syncGoal, targetSync, syncOf, false}, {"coredns CPU time from start to /ready", cpuGoal, targetSyncCPU, cpuOf, true}} {
			// In nanoseconds, NaN for a plugin not measured.
			p, f, k := medianMemory(res, bench.RolePodname, syncAt, row.f), medianMemory(res, bench.RoleFullDecode, syncAt, row.f), medianMemory(res, bench.RoleKubernetes, syncAt, row.f)
			note := func(role string) string {
				if !row.cluster {
					return ""
				}
				return clusterCPUNote(res, role, syncAt)
			}
			t := Goal{
				Figure: fmt.Sprintf("%s at %s pods", row.figure, count(syncAt)), Measured: true,
				Podname:  secondsOf(p) + wrapNote("", note(bench.RolePodname)),
				Baseline: secondsOf(f) + wrapNote("podname, full decode", note(bench.RoleFullDecode)) + "; " + secondsOf(k) + wrapNote("kubernetes", note(bench.RoleKubernetes)),
				Ratio:    times(p, k),
				Target:   row.goal, Met: p <= float64(row.limit), Miss: fmt.Sprintf("%s over", secondsOf(p-float64(row.limit))),
			}
			if syncAt != targetSyncPods {
				t.Target += fmt.Sprintf(" (measured at %s only)", count(syncAt))
			}
			out = append(out, t)
		}
	} else {
		out = append(out, Goal{Figure: "start to /ready", Target: syncGoal}, Goal{Figure: "coredns CPU time from start to /ready", Target: cpuGoal})
	}
	if c := res.Churn; c != nil && len(c.Appear[bench.RolePodname]) > 0 {
		for _, kind := range []struct {
			name string
			m    map[string][]float64
		}{{"new pod's IP in a watch to its answer", c.Appear}, {"pod deleted to NXDOMAIN", c.Vanish}} {
			pp, kp := bench.Percentile(kind.m[bench.RolePodname], 99), bench.Percentile(kind.m[bench.RoleKubernetes], 99)
			out = append(out, Goal{
				Figure: "p99 " + kind.name + " under churn", Measured: true,
				Podname: millis(pp), Baseline: millis(kp) + " (kubernetes)", Ratio: times(pp, kp),
				Target: "<= 100 ms", Met: pp <= targetPropagation99.Seconds(),
				Miss: fmt.Sprintf("%s over", millis(pp-targetPropagation99.Seconds())),
			})
		}
		wrong := c.Wrong[bench.RolePodname]
		out = append(out, Goal{
			Figure: "wrong answers under churn", Measured: true,
			Podname: fmt.Sprint(wrong), Baseline: fmt.Sprintf("%d (kubernetes)", c.Wrong[bench.RoleKubernetes]),
			Target: "0", Met: wrong == 0, Miss: fmt.Sprintf("%d wrong", wrong),
		})
	} else {
		out = append(out, Goal{Figure: "propagation under churn", Target: "p99 <= 100 ms, 0 wrong"})
	}
	out = append(out, transferGoals(res)...)
	if pr, kr := relistOf(res, bench.RolePodname), relistOf(res, bench.RoleKubernetes); pr != nil {
		ratio := pr.Peak / pr.Steady
		var base []string
		if fr := relistOf(res, bench.RolePodname, bench.EnvFullDecode); fr != nil {
			base = append(base, fmt.Sprintf("%s (%s / %s, podname, full decode)", times(fr.Peak, fr.Steady), mib(fr.Peak), mib(fr.Steady)))
		}
		if kr != nil {
			base = append(base, fmt.Sprintf("%s (%s / %s, kubernetes)", times(kr.Peak, kr.Steady), mib(kr.Peak), mib(kr.Steady)))
		}
		out = append(out, Goal{
			Figure: fmt.Sprintf("peak / steady heap, API server restart at %s pods", count(pr.Pods)), Measured: true,
			Podname: fmt.Sprintf("%s (%s / %s)", times(ratio, 1), mib(pr.Peak), mib(pr.Steady)), Baseline: cmp.Or(strings.Join(base, "; "), "not measured"),
			Target: fmt.Sprintf("<= %.1fx", targetRelist), Met: ratio <= targetRelist,
			Miss: fmt.Sprintf("%.2fx over", ratio-targetRelist),
		})
	} else {
		out = append(out, Goal{Figure: "peak / steady heap on relist", Target: fmt.Sprintf("<= %.1fx", targetRelist)})
	}
	return out
}

// transferGoals are the rows of the summary for section 7: BIND's lag under churn, and
// podname's IXFR against the changes it carries at the largest zone measured.
func transferGoals(res *bench.Results) []Goal {
	var out []Goal
	if c := res.Churn; c != nil && c.Secondary != nil {
		lag, own := slices.Concat(c.Appear[bench.RoleBIND], c.Vanish[bench.RoleBIND]), slices.Concat(c.Appear[bench.RolePodname], c.Vanish[bench.RolePodname])
		p99 := bench.Percentile(lag, 99)
		out = append(out, Goal{
			Figure: "p99 pod event to the right answer at BIND, a secondary of podname, under churn", Measured: len(lag) > 0,
			Podname: seconds(time.Duration(p99 * float64(time.Second))), Baseline: millis(bench.Percentile(own, 99)) + " (podname itself)",
			Target: fmt.Sprintf("< %s", seconds(targetSecondaryLag99)), Met: p99 < targetSecondaryLag99.Seconds(),
			Miss: fmt.Sprintf("%s over", seconds(time.Duration(p99*float64(time.Second))-targetSecondaryLag99)),
		})
	} else {
		out = append(out, Goal{Figure: "p99 pod event to the right answer at BIND under churn", Target: fmt.Sprintf("< %s", seconds(targetSecondaryLag99))})
	}
	goal := fmt.Sprintf("<= %.0fx changed records' wire size", targetIXFRRatio)
	if len(res.Transfers) == 0 {
		return append(out, Goal{Figure: "IXFR bytes per change", Target: goal})
	}
	t := res.Transfers[len(res.Transfers)-1]
	for _, n := range res.Config.XfrChanges {
		runs := ixfrRuns(t, n)
		if len(runs) == 0 {
			continue
		}
		ratio := bench.Median(ixfrField(runs, ixfrRatio))
		out = append(out, Goal{
			Figure: fmt.Sprintf("IXFR after %s at %s pods, bytes / changed records' wire size", bench.Plural(n, "change"), count(t.Pods)), Measured: true,
			Podname:  fmt.Sprintf("%s (%s / %s)", times(ratio, 1), nbytes(bench.Median(ixfrField(runs, ixfrBytes))), nbytes(bench.Median(ixfrField(runs, ixfrChanged)))),
			Baseline: nbytes(axfrMedian(t, bench.RoleFile, xfrBytes)) + " (file: AXFR)",
			Ratio:    percent(bench.Median(ixfrField(runs, ixfrBytes)), axfrMedian(t, bench.RoleFile, xfrBytes)) + " of file's AXFR",
			Target:   goal, Met: ratio <= targetIXFRRatio, Miss: fmt.Sprintf("%.2fx over", ratio-targetIXFRRatio),
		})
	}
	return out
}
