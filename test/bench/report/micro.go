package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// microColumns are the units the Go benchmarks' table has a column for; a
// benchmark's other metrics go together in one.
var microColumns = []string{"ns/op", "B/op", "allocs/op", "bytes/pod", "MB/s"}

func (w *writer) micro() {
	m := w.res.Micro
	if !w.section("## 8. Go benchmarks of the plugin", "8-go-benchmarks-of-the-plugin", m != nil) {
		return
	}
	w.p("`%s`; medians of the runs.\n\n", m.Command)
	cell := func(name, unit string, format string) string {
		v := m.Median(name, unit)
		if math.IsNaN(v) {
			return ""
		}
		return fmt.Sprintf(format, v)
	}
	var rows [][]string
	for _, name := range m.Order {
		var other []string
		for _, unit := range slices.Sorted(maps.Keys(m.Runs[name])) {
			if !slices.Contains(microColumns, unit) {
				other = append(other, cell(name, unit, "%.4g")+" "+unit)
			}
		}
		rows = append(rows, []string{name, cell(name, "ns/op", "%.1f"), cell(name, "B/op", "%.0f"), cell(name, "allocs/op", "%.0f"),
			cell(name, "bytes/pod", "%.0f"), strings.Join(other, ", "), fmt.Sprint(len(m.Runs[name]["ns/op"]))})
	}
	w.table("benchmark | ns/op | B/op | allocs/op | bytes/pod | other metrics | runs", rows...)
}
