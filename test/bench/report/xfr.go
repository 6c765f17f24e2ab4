package report

import (
	"fmt"
	"slices"
	"time"

	"github.com/podname/podname/test/bench"
)

// The figures of a transfer that the report shows.
func xfrBytes(x bench.XfrRun) float64     { return float64(x.Bytes) }
func xfrMessages(x bench.XfrRun) float64  { return float64(x.Messages) }
func xfrRecords(x bench.XfrRun) float64   { return float64(x.Records) }
func xfrSeconds(x bench.XfrRun) float64   { return x.Seconds }
func ixfrBytes(x bench.IXFRRun) float64   { return float64(x.Bytes) }
func ixfrChanged(x bench.IXFRRun) float64 { return float64(x.ChangedBytes) }
func ixfrRatio(x bench.IXFRRun) float64   { return float64(x.Bytes) / float64(x.ChangedBytes) }

// axfrMedian is the median of f over role's AXFR runs in t.
func axfrMedian(t *bench.TransferResult, role string, f func(bench.XfrRun) float64) float64 {
	var xs []float64
	for _, x := range t.AXFR[role] {
		xs = append(xs, f(x))
	}
	return bench.Median(xs)
}

// ixfrRuns are t's IXFR runs after n changes.
func ixfrRuns(t *bench.TransferResult, n int) []bench.IXFRRun {
	var out []bench.IXFRRun
	for _, x := range t.IXFR {
		if x.Changes == n {
			out = append(out, x)
		}
	}
	return out
}

// ixfrField is f of each of runs.
func ixfrField(runs []bench.IXFRRun, f func(bench.IXFRRun) float64) []float64 {
	xs := make([]float64, len(runs))
	for i, x := range runs {
		xs[i] = f(x)
	}
	return xs
}

// transfers writes section 7: AXFR beside the file plugin, IXFR against the changes it
// carries, and BIND following podname under churn.
func (w *writer) transfers() {
	res := w.res
	if !w.section("## 7. Zone transfers", "7-zone-transfers", len(res.Transfers) > 0 || (res.Churn != nil && res.Churn.Secondary != nil)) {
		return
	}
	if w.section("### AXFR", "axfr", len(res.Transfers) > 0) {
		var rows [][]string
		for _, t := range res.Transfers {
			cells := func(role string) []string {
				return []string{millis(axfrMedian(t, role, xfrSeconds)), nbytes(axfrMedian(t, role, xfrBytes)),
					number("%.0f", axfrMedian(t, role, xfrMessages)), number("%.0f", axfrMedian(t, role, xfrRecords))}
			}
			rows = append(rows, slices.Concat([]string{count(t.Pods)}, cells(bench.RolePodname), cells(bench.RoleFile),
				[]string{times(axfrMedian(t, bench.RolePodname, xfrBytes), axfrMedian(t, bench.RoleFile, xfrBytes)),
					times(axfrMedian(t, bench.RolePodname, xfrSeconds), axfrMedian(t, bench.RoleFile, xfrSeconds))}))
		}
		w.table("pods | podname time | podname bytes | messages | records | file time | file bytes | messages | records | podname / file, bytes | podname / file, time", rows...)
	}
	if w.section("### IXFR", "ixfr", len(res.Transfers) > 0) {
		var rows [][]string
		for _, t := range res.Transfers {
			file := axfrMedian(t, bench.RoleFile, xfrBytes)
			for _, n := range res.Config.XfrChanges {
				runs := ixfrRuns(t, n)
				if len(runs) == 0 {
					continue
				}
				med := func(f func(bench.IXFRRun) float64) float64 { return bench.Median(ixfrField(runs, f)) }
				b := med(ixfrBytes)
				rows = append(rows, []string{count(t.Pods), fmt.Sprint(n), nbytes(b),
					number("%.0f", med(func(x bench.IXFRRun) float64 { return float64(x.Messages) })),
					fmt.Sprintf("%.0f (%.0f)", med(func(x bench.IXFRRun) float64 { return float64(x.Records) }), med(func(x bench.IXFRRun) float64 { return float64(x.Steps) })),
					millis(med(func(x bench.IXFRRun) float64 { return x.Seconds })), nbytes(med(ixfrChanged)), times(med(ixfrRatio), 1), nbytes(b / float64(n)),
					nbytes(file), percent(b, file), fmt.Sprintf("<= %.0fx", targetIXFRRatio)})
			}
		}
		w.table("pods | changes | IXFR bytes | messages | records (serial steps) | time | changed records' wire size | IXFR / changed | bytes per change | file AXFR bytes | IXFR / file AXFR | target", rows...)
	}
	w.secondary()
}

// secondary writes BIND's lag behind podname under churn, its transfers, and the journal's
// memory.
func (w *writer) secondary() {
	c := w.res.Churn
	if !w.section("### A secondary under churn", "a-secondary-under-churn", c != nil && c.Secondary != nil) {
		return
	}
	sec := c.Secondary
	sample := "every pod"
	if sec.Every > 1 {
		sample = fmt.Sprintf("one pod in %d", sec.Every)
	}
	w.p("Section 5's podname pass; BIND asked for %s.\n\n", sample)
	var rows [][]string
	for _, row := range []struct {
		name      string
		bind, own []float64
	}{
		{"IP seen in watch to right answer", c.Appear[bench.RoleBIND], c.Appear[bench.RolePodname]},
		{"DELETED seen to NXDOMAIN", c.Vanish[bench.RoleBIND], c.Vanish[bench.RolePodname]},
		{"every change", slices.Concat(c.Appear[bench.RoleBIND], c.Vanish[bench.RoleBIND]), slices.Concat(c.Appear[bench.RolePodname], c.Vanish[bench.RolePodname])},
	} {
		rows = append(rows, []string{row.name, fmt.Sprint(len(row.bind)), millis(bench.Percentile(row.bind, 50)), millis(bench.Percentile(row.bind, 99)),
			millis(bench.Max(row.bind)), millis(bench.Percentile(row.own, 99)), "< " + seconds(targetSecondaryLag99)})
	}
	w.table("at BIND | changes | p50 | p99 | max | podname itself p99 | target p99", rows...)

	incr, msgs, recs := 0, 0, 0
	for _, t := range sec.Transfers {
		if t.Incremental {
			incr++
		}
		msgs, recs = msgs+t.Messages, recs+t.Records
	}
	total := float64(bench.TransferBytes(sec.Transfers))
	w.table("BIND's transfers under churn | incremental | messages | records | bytes | per minute of churn | per pod change",
		[]string{fmt.Sprintf("%d in %s", len(sec.Transfers), sec.Elapsed.Round(time.Millisecond)), fmt.Sprint(incr), fmt.Sprint(msgs), fmt.Sprint(recs),
			nbytes(total), nbytes(total / sec.Elapsed.Minutes()), fmt.Sprintf("%s (%s)", nbytes(total/float64(sec.Changes)), bench.Plural(sec.Changes, "change"))})
	ours, same := sec.CheckFirst()
	w.table(fmt.Sprintf("first transfer, serial %d | messages | records | bytes | with the 2-byte lengths", sec.FirstSerial),
		[]string{"BIND's log", fmt.Sprint(sec.First.Messages), fmt.Sprint(sec.First.Records), nbytes(float64(sec.First.Bytes)), ""},
		[]string{"the bench's AXFR", fmt.Sprint(sec.Check.Messages), fmt.Sprint(sec.Check.Records), nbytes(float64(ours)), nbytes(float64(sec.Check.Bytes))},
		[]string{"the same", map[bool]string{true: "yes", false: "**no**"}[same], "", "", ""})
	w.table("podname | heap in use | RSS",
		[]string{fmt.Sprintf("with the *transfer* plugin, journal of %d records", sec.JournalRecords), mib(sec.HeapWith), mib(sec.RSSWith)},
		[]string{"without", mib(sec.HeapWithout), mib(sec.RSSWithout)},
		[]string{"difference", fmt.Sprintf("%s (%s per journal record)", mib(sec.HeapWith-sec.HeapWithout), nbytes((sec.HeapWith-sec.HeapWithout)/float64(max(sec.JournalRecords, 1)))), mib(sec.RSSWith - sec.RSSWithout)})
}
