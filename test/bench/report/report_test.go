package report

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/podname/podname/test/bench"

	"gonum.org/v1/plot/plotter"
)

func TestChartSVG(t *testing.T) {
	for _, c := range []Chart{
		{Title: "linear <&>", XLabel: "pods", YLabel: "MiB", XFormat: bench.CountLabel, Series: []Series{
			{Name: "a", Points: plotter.XYs{{X: 1000, Y: 10}, {X: 100000, Y: 40}}, Markers: true},
			{Name: "b", Points: plotter.XYs{{X: 1000, Y: 12}, {X: 100000, Y: 80}}, Dashed: true},
			{Name: "empty"},
		}, Marks: []Mark{{X: 5000, Label: "here"}}},
		{Title: "log", XLog: true, Series: []Series{{Name: "cdf", Points: plotter.XYs{{X: 0.3, Y: 0}, {X: 2, Y: 50}, {X: 120, Y: 100}}}}},
	} {
		svg, err := c.SVG()
		if err != nil {
			t.Fatal(err)
		}
		texts := svgTexts(t, c.Title, svg)
		if !slices.Contains(texts, c.Title) {
			t.Errorf("%s: no title in %q", c.Title, texts)
		}
		if slices.Contains(texts, "empty") {
			t.Errorf("%s: a series with no points is in the legend", c.Title)
		}
	}
	if _, err := (Chart{Title: "empty"}).SVG(); err == nil {
		t.Error("a chart with no points rendered")
	}
	if _, err := (Chart{Title: "bad", XLog: true, Series: []Series{{Points: plotter.XYs{{X: 0, Y: 1}}}}}).SVG(); err == nil {
		t.Error("x = 0 on a log axis rendered")
	}
	if _, err := (Chart{Title: "nan", Series: []Series{{Points: plotter.XYs{{X: 1, Y: math.NaN()}}}}}).SVG(); err == nil {
		t.Error("a NaN rendered")
	}
}

// svgTexts parses svg as XML, fails the test if it is not an SVG document, and returns the
// text of its <text> elements.
func svgTexts(t *testing.T, name, svg string) []string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	var texts []string
	var root string
	inText := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: SVG is not well-formed XML: %v", name, err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
			inText = tok.Name.Local == "text"
		case xml.EndElement:
			inText = false
		case xml.CharData:
			if inText {
				texts = append(texts, string(tok))
			}
		}
	}
	if root != "svg" {
		t.Fatalf("%s: root element %q, want svg", name, root)
	}
	return texts
}

// TestBuildReport renders a report of made-up results and checks it has every section,
// table and figure, and judges the targets.
func TestRender(t *testing.T) {
	rep, err := Render(bench.FakeResults(), Options{AssetDir: "docs/bench", Notes: "Hand-written."})
	if err != nil {
		t.Fatal(err)
	}
	md := rep.Markdown
	var headings, tables, figures []string
	lines := strings.Split(md, "\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "#"):
			headings = append(headings, l)
		case strings.HasPrefix(l, "![") && strings.HasSuffix(l, ")"):
			figures = append(figures, l)
		case strings.HasPrefix(l, "|---") && i > 0:
			tables = append(tables, lines[i-1])
		}
	}
	if want := []string{"# Benchmarks", "## Summary", "## Machine", "## 1. Throughput", "## 2. Latency", "### CPU profile of coredns while dnsperf saturates podname",
		"## 3. Memory", "## 4. Sync", "### Compression", "### Watch-list or list", "## 5. Propagation under churn", "## 6. Relist after an API server restart",
		"## 7. Zone transfers", "### AXFR", "### IXFR", "### A secondary under churn", "## 8. Go benchmarks of the plugin", "## Corefiles", "## Notes"}; !slices.Equal(headings, want) {
		t.Errorf("headings:\n%s\nwant:\n%s", strings.Join(headings, "\n"), strings.Join(want, "\n"))
	}
	wantTables := []string{"| figure | podname | baseline |", "| plugin | QPS (median) |", "| podname alone at | QPS |", "| plugin | p50 |", "| pods | podname heap |",
		"| | podname | podname, full decode | kubernetes (pods verified) |", "| pods | podname | podname, full decode | kubernetes (pods verified) |",
		"| pods | CPU podname | CPU podname, full decode | CPU kubernetes | allocated per pod, podname |", "| pods | kube-apiserver CPU, podname | podname, full decode | kubernetes | etcd CPU, podname |",
		"| gzip | start to /ready | CPU time | bytes read |", "| pods come by | start to /ready | CPU time | bytes read |",
		"| pass | created | deleted |", "| | podname p50 |", "| | podname | kubernetes | BIND |",
		"| plugin | steady heap (median) | steady heap (max) | peak heap | peak / steady median | peak / steady max | peak / kubernetes peak |", "| pods | podname time |", "| pods | changes |", "| at BIND | changes |",
		"| BIND's transfers under churn |", "| first transfer, serial 123456 |", "| podname | heap in use |", "| benchmark | ns/op |"}
	if len(tables) != len(wantTables) {
		t.Errorf("%d tables, want %d:\n%s", len(tables), len(wantTables), strings.Join(tables, "\n"))
	}
	for i, want := range wantTables {
		if i < len(tables) && !strings.HasPrefix(tables[i], want) {
			t.Errorf("table %d is %s, want %s...", i+1, tables[i], want)
		}
	}
	wantFigures := []string{"![heap and RSS against pods](docs/bench/memory.svg)", "![sync time against pods](docs/bench/sync.svg)",
		"![propagation delay distribution](docs/bench/propagation.svg)", "![heap during a relist](docs/bench/relist.svg)",
	}
	if !slices.Equal(figures, wantFigures) {
		t.Errorf("figures:\n%s\nwant:\n%s", strings.Join(figures, "\n"), strings.Join(wantFigures, "\n"))
	}
	if len(plots(rep)) != len(wantFigures) {
		t.Errorf("%d plots, want %d", len(plots(rep)), len(wantFigures))
	}
	for _, f := range wantFigures {
		if name := path.Base(strings.TrimSuffix(f, ")")); rep.Files[name] == "" {
			t.Errorf("no plot %s", name)
		}
	}
	for _, want := range []string{
		"| QPS at 10k pods, vs whoami | 45,000 | 50,000 | 0.90x | >= 0.9x | yes |",
		// The goals of heap, sync and relist: met, met, met and missed.
		"| heap per pod (least-squares slope) | 300 B | 440 B (podname, full decode); 900 B (kubernetes, pods verified) | 0.33x | <= 350 B | yes |",
		"| start to /ready at 100k pods | 2.10 s | 5.10 s (podname, full decode); 3.10 s (kubernetes) | 0.68x | <= 2.50 s at 100k pods | yes |",
		"| coredns CPU time from start to /ready at 100k pods | 1.10 s (kube-apiserver 3.10 s, etcd 0.40 s) | 4.60 s (podname, full decode; kube-apiserver 4.10 s, etcd 0.50 s); " +
			"8.10 s (kubernetes; kube-apiserver 5.10 s, etcd 0.60 s) | 0.14x | <= 1.50 s at 100k pods | yes |",
		"| wrong answers under churn | 0 | 1 (kubernetes) |",
		"| peak / steady heap, API server restart at 100k pods | 1.49x (59.4 MiB / 40.0 MiB) | 2.06x (102.8 MiB / 50.0 MiB, podname, full decode); 1.83x (146.2 MiB / 80.0 MiB, kubernetes) | | <= 1.3x | **no**: 0.19x over |",
		"- kubernetes: 1 SERVFAIL at 10k pods",
		"| 100k | 36.6 MiB | 93.8 MiB | 300 | 440 | 900 |",
		"| 150k | 50.9 MiB | 136.7 MiB | 300 | 440 | 900 |",
		"| heap, bytes per pod (slope) | 300 | 440 | 900 | 0.68x | 0.33x | <= 350 |",
		"| RSS, bytes per pod (slope) | 500 | 733 | 1500 | 0.68x | 0.33x | |",
		// Section 4: sync, CPU, allocations, one run at the largest size; gzip on and off.
		"| 100k | 2.10 s | 5.10 s | 3.10 s | 0.41x | 0.68x | 2.00 s, 2.10 s, 2.20 s |",
		"| 150k | 3.00 s | 7.50 s | 4.50 s | 0.40x | 0.67x | 3.00 s |",
		"Target: 100k pods in <= 2.50 s.", "Target: 100k pods in <= 1.50 s of CPU time.",
		"Allocated per pod is less whoami's 3.8 MiB.",
		"| 100k | 1.10 s | 4.60 s | 8.10 s | 2,000 B | 6,000 B | 9,000 B | 0.33x |",
		"| 150k | 1.50 s | 6.75 s | 12.00 s | 2,000 B | 6,000 B | 9,000 B | 0.33x |",
		// The API server's and etcd's CPU during each plugin's sync.
		"| 100k | 3.10 s | 4.10 s | 5.10 s | 0.40 s | 0.50 s | 0.60 s |",
		"| 150k | 4.50 s | 6.00 s | 7.50 s | 0.45 s | 0.60 s | 0.75 s |",
		"| on | 2.10 s | 1.10 s | 95.4 MiB | 1,000 B | 2,000 B |",
		"| off | 1.90 s | 0.90 s | 286.1 MiB | 3,000 B | 2,000 B |",
		"| off / on | 0.90x | 0.82x | 3.00x | | 1.00x | 1.00x |",
		"| watch-list | 2.10 s | 1.10 s | 95.4 MiB | 1,000 B | 2,000 B | 300 B |",
		"| list, then watch | 2.60 s | 1.30 s | 104.9 MiB | 1,100 B | 2,500 B | 330 B |",
		"| list, then watch / watch-list | 1.24x | 1.18x | 1.10x | | 1.25x | 1.10x |",
		"| 150k pods | 40,000 | 0 | 1.00 / 0.50 | 25.0 µs | 0.89x |",
		"| wrong answers (must be 0) | 0 | 1 | 0 |", "| failed queries (SERVFAIL, timeout) | 0 | 2 | 0 |",
		"| names not right in time | 0 | 0 | 0 |", "| pods deleted before their name answered | 0 | 0 | 0 |",
		"| podname | 40.0 MiB | 48.0 MiB | 59.4 MiB | 1.49x | 1.24x | 0.41x |",
		"| kubernetes | 80.0 MiB | 96.0 MiB | 146.2 MiB | 1.83x | 1.52x | 1.00x |",
		"| podname (GOGC=50) |",
		"| podname (PODNAME_BENCH_DECODE=full) | 50.0 MiB | 60.0 MiB | 102.8 MiB | 2.06x | 1.71x | 0.70x |",
		"| podname, 150k pods | 60.0 MiB | 72.0 MiB | 85.7 MiB | 1.43x | 1.19x | 0.59x |",
		"| BenchmarkIndexMemory | 690000000.0 | | | 351 | | 1 |",
		"| BenchmarkSync/slim | 1300000000.0 | | | | 395.4 heap-B/pod, 1241 relist-alloc-B/pod | 1 |",
		"- churn, kubernetes pass: [churn-kubernetes.conf](docs/bench/corefiles/churn-kubernetes.conf)", "Hand-written.", "ratios are taken within a run, then their median. At the largest size, 150k pods, 1 run.",
		// Section 7 and its rows of the summary, every figure.
		"| IXFR after 1 change at 100k pods, bytes / changed records' wire size | 8.77x (500 B / 57 B) | 5,700,000 B (file: AXFR) | 0.0088% of file's AXFR | <= 2x changed records' wire size | **no**: 6.77x over |",
		"| IXFR after 50 changes at 100k pods, bytes / changed records' wire size | 4.67x (13,300 B / 2,850 B) |",
		"| IXFR after 1000 changes at 100k pods, bytes / changed records' wire size | 1.89x (108,000 B / 57,000 B) | 5,700,000 B (file: AXFR) | 1.9% of file's AXFR | <= 2x changed records' wire size | yes |",
		"| 10k | 20.00 ms | 580,000 B | 10 | 10004 | 30.00 ms | 570,000 B | 10 | 10002 | 1.02x | 0.67x |",
		"| 100k | 200.00 ms | 5,800,000 B | 100 | 100004 | 300.00 ms | 5,700,000 B | 100 | 100002 | 1.02x | 0.67x |",
		"| 10k | 1 | 500 B | 1 | 5 (1) | 1.01 ms | 57 B | 8.77x | 500 B | 570,000 B | 0.088% | <= 2x |",
		"| 100k | 50 | 13,300 B | 1 | 152 (50) | 1.50 ms | 2,850 B | 4.67x | 266 B | 5,700,000 B | 0.23% | <= 2x |",
		"| 100k | 1000 | 108,000 B | 5 | 3002 (1000) | 11.00 ms | 57,000 B | 1.89x | 108 B | 5,700,000 B | 1.9% | <= 2x |",
		"BIND asked for one pod in 5.",
		"| 60 in 1m0s | 60 | 60 | 18000 | 2,400,000 B | 2,400,000 B | 400 B (6000 changes) |",
		"| BIND's log | 93 | 100504 | 5,999,814 B | |", "| the bench's AXFR | 93 | 100504 | 5,999,814 B | 6,000,000 B |", "| the same | yes | | | |",
		"| with the *transfer* plugin, journal of 5000 records | 52.0 MiB | 160.0 MiB |",
		"| without | 50.0 MiB | 155.0 MiB |",
		"| difference | 2.0 MiB (419 B per journal record) | 5.0 MiB |",
		"- churn, podname pass, the primary of BIND: [churn-primary.conf](docs/bench/corefiles/churn-primary.conf)",
		"- BIND's `named.conf` (harness.StartBIND): [named.conf](docs/bench/corefiles/named.conf)",
		"- zone transfers, at 10k pods (the zone file's path differs by size): [transfers.conf](docs/bench/corefiles/transfers.conf)",
		"[goals.json](docs/bench/goals.json)", "[results.json](docs/bench/results.json)", "How: [method](docs/bench/method.md#4-sync).",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	c := bench.FakeResults().Churn
	bind, own := slices.Concat(c.Appear[bench.RoleBIND], c.Vanish[bench.RoleBIND]), slices.Concat(c.Appear[bench.RolePodname], c.Vanish[bench.RolePodname])
	for _, want := range []string{
		fmt.Sprintf("| p99 pod event to the right answer at BIND, a secondary of podname, under churn | %.2f s | %s (podname itself) | | < 2.00 s | yes |",
			bench.Percentile(bind, 99), millis(bench.Percentile(own, 99))),
		fmt.Sprintf("| IP seen in watch to right answer | 60 | %s | %s | %s | %s | < 2.00 s |", millis(bench.Percentile(c.Appear[bench.RoleBIND], 50)),
			millis(bench.Percentile(c.Appear[bench.RoleBIND], 99)), millis(1.2), millis(bench.Percentile(c.Appear[bench.RolePodname], 99))),
		fmt.Sprintf("| DELETED seen to NXDOMAIN | 60 | %s | %s | %s | %s | < 2.00 s |", millis(bench.Percentile(c.Vanish[bench.RoleBIND], 50)),
			millis(bench.Percentile(c.Vanish[bench.RoleBIND], 99)), millis(1.6), millis(bench.Percentile(c.Vanish[bench.RolePodname], 99))),
		fmt.Sprintf("| every change | 120 | %s | %s | %s | %s | < 2.00 s |", millis(bench.Percentile(bind, 50)), millis(bench.Percentile(bind, 99)), millis(1.6), millis(bench.Percentile(own, 99))),
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(md, "NaN") {
		t.Errorf("report holds NaN:\n%s", md)
	}
}

// TestReportPlots writes the plots of a report as the bench command does and reads them back:
// each is an SVG document with its title, axis labels and a legend entry per line.
func TestReportPlots(t *testing.T) {
	rep, err := Render(bench.FakeResults(), Options{AssetDir: "docs/bench"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, svg := range plots(rep) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(svg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, want := range map[string][]string{
		"memory.svg": {"coredns memory after sync", "pods", "MiB", "100k", "podname, heap in use", "podname, full decode, heap in use",
			"kubernetes (pods verified), heap in use", "podname, RSS", "kubernetes, RSS", "whoami alone, heap"},
		"sync.svg": {"process start to /ready", "pods", "seconds", "podname", "podname, full decode", "kubernetes (pods verified)",
			"podname, CPU", "podname, full decode, CPU", "kubernetes, CPU"},
		"propagation.svg": {"delay from the watch to DNS under churn (cumulative)", "milliseconds (log)", "% of changes", "0.1", "1000",
			"podname, appear (300)", "podname, vanish (300)", "kubernetes, appear (300)", "kubernetes, vanish (300)"},
		"relist.svg": {"heap in use around an API server restart, relative to each plugin's steady median",
			"seconds since the API server was stopped", "heap in use / steady median", "podname", "kubernetes", "podname (GOGC=50)",
			"podname (PODNAME_BENCH_DECODE=full)", "podname, 150k pods", "target 1.3x", "API server stopped", "API server ready", "podname relisted"},
	} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		texts := svgTexts(t, name, string(b))
		for _, w := range want {
			if !slices.Contains(texts, w) {
				t.Errorf("%s: no text %q in %q", name, w, texts)
			}
		}
	}
}

// TestRenderEmpty renders a run that measured nothing: every numbered section says so.
func TestRenderEmpty(t *testing.T) {
	rep, err := Render(&bench.Results{Config: bench.FullConfig()}, Options{AssetDir: "docs/bench"})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(rep.Markdown, "Not measured") + strings.Count(rep.Markdown, "Not run."); n != 8 {
		t.Errorf("%d sections not measured, want 8:\n%s", n, rep.Markdown)
	}
	if len(plots(rep)) != 0 {
		t.Errorf("plots of nothing: %v", slices.Collect(maps.Keys(plots(rep))))
	}
}

// TestRenderOldResults renders results.json of a bench that did not read the cluster's CPU
// during the sync: the summary keeps coredns's figures alone and section 4 leaves out that
// table; a variant without it alone shows n/a.
func TestRenderOldResults(t *testing.T) {
	res := bench.FakeResults()
	for i := range res.Memory {
		res.Memory[i].SyncCPU = nil
	}
	raw, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var old map[string]any
	if err := json.Unmarshal(raw, &old); err != nil {
		t.Fatal(err)
	}
	for _, s := range old["Memory"].([]any) {
		delete(s.(map[string]any), "SyncCPU")
	}
	if raw, err = json.Marshal(old); err != nil {
		t.Fatal(err)
	}
	res = &bench.Results{}
	if err := json.Unmarshal(raw, res); err != nil {
		t.Fatal(err)
	}
	rep, err := Render(res, Options{AssetDir: "docs/bench"})
	if err != nil {
		t.Fatal(err)
	}
	md := rep.Markdown
	if want := "| coredns CPU time from start to /ready at 100k pods | 1.10 s | 4.60 s (podname, full decode); 8.10 s (kubernetes) | 0.14x |"; !strings.Contains(md, want) {
		t.Errorf("report lacks %q", want)
	}
	for _, bad := range []string{"kube-apiserver CPU", "(kube-apiserver", "; kube-apiserver", "NaN"} {
		if strings.Contains(md, bad) {
			t.Errorf("report of old results holds %q", bad)
		}
	}

	res = bench.FakeResults()
	for i, s := range res.Memory {
		if s.Variant() == bench.RoleFullDecode {
			res.Memory[i].SyncCPU = nil
		}
	}
	if rep, err = Render(res, Options{AssetDir: "docs/bench"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| 1.10 s (kube-apiserver 3.10 s, etcd 0.40 s) | 4.60 s (podname, full decode); 8.10 s (kubernetes; kube-apiserver 5.10 s, etcd 0.60 s) |",
		"| 100k | 3.10 s | n/a | 5.10 s | 0.40 s | n/a | 0.60 s |",
	} {
		if !strings.Contains(rep.Markdown, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

// TestRenderNoFullDecode renders results of a bench that did not measure podname's full
// decode: its sync figures are n/a, not a duration made of NaN.
func TestRenderNoFullDecode(t *testing.T) {
	res := bench.FakeResults()
	res.Memory = slices.DeleteFunc(res.Memory, func(s bench.MemorySample) bool { return s.Variant() == bench.RoleFullDecode })
	rep, err := Render(res, Options{AssetDir: "docs/bench"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| start to /ready at 100k pods | 2.10 s | n/a (podname, full decode); 3.10 s (kubernetes) | 0.68x |",
		"| coredns CPU time from start to /ready at 100k pods | 1.10 s (kube-apiserver 3.10 s, etcd 0.40 s) | n/a (podname, full decode); 8.10 s (kubernetes; kube-apiserver 5.10 s, etcd 0.60 s) | 0.14x |",
		"| 100k | 2.10 s | n/a | 3.10 s | n/a | 0.68x | 2.00 s, 2.10 s, 2.20 s |",
		"| 100k | 1.10 s | n/a | 8.10 s | 2,000 B | n/a B | 9,000 B | n/a |",
		"| 100k | 3.10 s | n/a | 5.10 s | 0.40 s | n/a | 0.60 s |",
	} {
		if !strings.Contains(rep.Markdown, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(rep.Markdown, "NaN") || strings.Contains(rep.Markdown, "-9223372036") {
		t.Errorf("report holds a NaN:\n%s", rep.Markdown)
	}
}

// plots are the SVG files of rep.
func plots(rep *Report) map[string]string {
	out := map[string]string{}
	for name, content := range rep.Files {
		if strings.HasSuffix(name, ".svg") {
			out[name] = content
		}
	}
	return out
}

// TestRenderFiles: the Corefiles are files of their own, as the run used them, and goals.json
// holds each goal of the summary with whether it was met, and the run's problems.
func TestRenderFiles(t *testing.T) {
	res := bench.FakeResults()
	rep, err := Render(res, Options{AssetDir: "docs/bench"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"corefiles/throughput.conf": res.Throughput.Corefile, "corefiles/churn-kubernetes.conf": res.Churn.Corefile[bench.RoleKubernetes],
		"corefiles/named.conf": res.Churn.Secondary.NamedConf, "corefiles/transfers.conf": res.Transfers[0].Corefile,
	} {
		if got := rep.Files[name]; got != want || want == "" {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	var goals struct {
		Goals    []Goal
		Problems []string
	}
	if err := json.Unmarshal([]byte(rep.Files["goals.json"]), &goals); err != nil {
		t.Fatal(err)
	}
	var missed []string
	for _, g := range goals.Goals {
		if !g.Met {
			missed = append(missed, g.Figure)
		}
	}
	if want := []string{"IXFR after 1 change at 100k pods, bytes / changed records' wire size",
		"IXFR after 50 changes at 100k pods, bytes / changed records' wire size", "peak / steady heap, API server restart at 100k pods"}; !slices.Equal(missed, want) {
		t.Errorf("goals missed %q, want %q", missed, want)
	}
	if !slices.Equal(goals.Problems, res.Problems) || len(res.Problems) == 0 {
		t.Errorf("goals.json problems %q, want %q", goals.Problems, res.Problems)
	}
}
