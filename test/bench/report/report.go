// Package report renders a bench run's results.json as BENCHMARKS.md: tables of the figures,
// the goals each met or missed, four plots, and the Corefiles as files the report links to.
// How each figure is measured is written once, by hand, in docs/bench/method.md.
package report

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/podname/podname/test/bench"
)

// Report is the Markdown of a run and the files it links to.
type Report struct {
	Markdown string
	// Files maps a path relative to the asset directory (plots, Corefiles, goals.json) to its
	// content.
	Files map[string]string
}

// Options say how the report refers to things outside it.
type Options struct {
	// AssetDir is the directory of the plots, Corefiles and method as the Markdown file links
	// it, e.g. docs/bench.
	AssetDir string
	// Notes, if not empty, is Markdown written by hand about a run, appended under its own
	// heading.
	Notes string
}

// writer is a report being written. Its sections append to the Markdown and the files and
// keep the first error, which Render returns.
type writer struct {
	strings.Builder
	res   *bench.Results
	opt   Options
	files map[string]string
	err   error
}

func (w *writer) p(format string, args ...any) { fmt.Fprintf(w, format, args...) }

// link is the Markdown link to name, a path under the asset directory.
func (w *writer) link(text, name string) string {
	return fmt.Sprintf("[%s](%s)", text, path.Join(w.opt.AssetDir, name))
}

// figure links the plot file name with alt as its text and renders c into it.
func (w *writer) figure(alt, name string, c Chart) {
	w.p("![%s](%s)\n\n", alt, path.Join(w.opt.AssetDir, name))
	svg, err := c.SVG()
	if err != nil && w.err == nil {
		w.err = err
	}
	w.files[name] = svg
}

// section writes a section's heading and where its method is described; false (after saying
// so) if it was not measured.
func (w *writer) section(title, anchor string, measured bool) bool {
	w.p("%s\n\n", title)
	if !measured {
		w.p("Not measured.\n\n")
		return false
	}
	if anchor != "" {
		w.p("How: %s.\n\n", w.link("method", "method.md#"+anchor))
	}
	return true
}

// table writes a Markdown table: its header, then its rows.
func (w *writer) table(header string, rows ...[]string) {
	cols := strings.Split(header, " | ")
	w.p("%s\n|%s\n", row(cols), strings.Repeat("---|", len(cols)))
	for _, r := range rows {
		w.p("%s\n", row(r))
	}
	w.p("\n")
}

// row is a table row of cells; an empty cell is written "| |".
func row(cells []string) string {
	s := "| " + strings.Join(cells, " | ") + " |"
	for strings.Contains(s, "|  |") {
		s = strings.ReplaceAll(s, "|  |", "| |")
	}
	return s
}

// Render renders res.
func Render(res *bench.Results, opt Options) (*Report, error) {
	w := &writer{res: res, opt: opt, files: map[string]string{}}
	w.summary()
	w.machine()
	w.throughput()
	w.memory()
	w.churn()
	w.relist()
	w.transfers()
	w.micro()
	w.corefiles()
	if opt.Notes != "" {
		w.p("## Notes\n\n%s\n", strings.TrimSpace(opt.Notes))
	}
	if w.err != nil {
		return nil, w.err
	}
	return &Report{Markdown: w.String(), Files: w.files}, nil
}

func (w *writer) summary() {
	res := w.res
	w.p("# Benchmarks\n\n")
	w.p("podname beside CoreDNS's own plugins, all in the same `bin/coredns` on the same machine. ")
	w.p("Rendered by `go -C test run ./bench/cmd/report` from %s, which `%s` wrote on %s; do not edit by hand. How each figure is measured: %s.\n\n",
		w.link("results.json", "results.json"), res.Command, res.Machine.Date.Format("2006-01-02 15:04 MST"), w.link("method", "method.md"))
	w.p("Every figure is the median of %s unless it says otherwise; ratios are taken within a run, then their median.", bench.Plural(res.Config.Runs, "run"))
	if n := res.Config.LargestSize(); n > 0 && res.Config.RunsAt(n) != res.Config.Runs {
		w.p(" At the largest size, %s pods, %s.", count(n), bench.Plural(res.Config.RunsAt(n), "run"))
	}
	w.p("\n\n## Summary\n\nThe goals, as data: %s.\n\n", w.link("goals.json", "goals.json"))
	var rows [][]string
	for _, g := range Goals(res) {
		if !g.Measured {
			rows = append(rows, []string{g.Figure, "not measured", "", "", g.Target, ""})
			continue
		}
		met := "yes"
		if !g.Met {
			met = "**no**: " + g.Miss
		}
		rows = append(rows, []string{g.Figure, g.Podname, g.Baseline, g.Ratio, g.Target, met})
	}
	w.table("figure | podname | baseline | ratio | target | met", rows...)
	if len(res.Problems) > 0 {
		w.p("**Wrong or failed answers:**\n\n")
		for _, pr := range res.Problems {
			w.p("- %s\n", pr)
		}
		w.p("\n")
	}
	if err := writeGoals(w.files, res); err != nil && w.err == nil {
		w.err = err
	}
}

func (w *writer) machine() {
	res, m := w.res, w.res.Machine
	w.p("## Machine\n\n")
	w.p("- Command: `%s`, %s in all (%s).\n", res.Command, res.Elapsed.Round(time.Second), m.Date.Format(time.RFC3339))
	w.p("- Machine: %d CPUs (`nproc`), `%s` (`/proc/cpuinfo`), %s of memory, %s.\n", m.CPUs, m.CPUModel, memTotal(m.MemTotal), m.Kernel)
	w.p("- Software: %s, %s, dnsperf %s, commit %s.\n", m.CoreDNS, m.Go, m.Dnsperf, m.Commit)
	w.p("- Load average at start %s, at end %s.", m.LoadStart, res.LoadEnd)
	if len(m.Others) > 0 {
		w.p(" Other work running at start (shares the CPUs; figures are noisier): %d processes, e.g. `%s`.", len(m.Others), m.Others[0])
	}
	w.p("\n- Cluster and pods: %s; %d concurrent clients create the pods.\n", w.link("method", "method.md#cluster"), res.Config.Workers)
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
