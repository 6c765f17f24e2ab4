package bench

import (
	"encoding/xml"
	"io"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy/caddyfile"
	"github.com/coredns/coredns/plugin/file"
)

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	for _, c := range []struct{ p, want float64 }{{0, 1}, {50, 3}, {100, 5}, {25, 2}, {90, 4.6}} {
		if got := Percentile(xs, c.p); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Percentile(%v, %g) = %g, want %g", xs, c.p, got, c.want)
		}
	}
	if got := Median([]float64{1, 2, 3, 10}); got != 2.5 {
		t.Errorf("Median of an even count = %g, want 2.5", got)
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) is not NaN")
	}
	if xs[0] != 5 {
		t.Error("Percentile sorted its argument in place")
	}
}

func TestLeastSquares(t *testing.T) {
	xs := []float64{1000, 10000, 50000, 100000}
	ys := make([]float64, len(xs))
	for i, x := range xs {
		ys[i] = 8<<20 + 300*x
	}
	f, err := LeastSquares(xs, ys)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(f.Slope-300) > 1e-6 || math.Abs(f.Intercept-8<<20) > 1e-3 || math.Abs(f.R2-1) > 1e-9 {
		t.Errorf("fit = %+v, want slope 300, intercept %d, R² 1", f, 8<<20)
	}
	if _, err := LeastSquares([]float64{1}, []float64{1}); err == nil {
		t.Error("a fit through one point did not fail")
	}
	if _, err := LeastSquares([]float64{2, 2}, []float64{1, 3}); err == nil {
		t.Error("a fit with every x the same did not fail")
	}
}

const dnsperfOutput = `DNS Performance Testing Tool
Version 2.10.0

[Status] Command line: dnsperf -s 127.0.0.1 -p 15353 -d q.txt -l 1 -Q 1000 -v
[Status] Sending queries (to 127.0.0.1:15353)
> NOERROR a.mgmt.pix.yun.com A 0.001140
> NXDOMAIN b.mgmt.pix.yun.com A 0.000131
> T c.mgmt.pix.yun.com A
> NOERROR a.mgmt.pix.yun.com A 0.000100
[Timeout] Query timed out: msg id 1727
[Status] Testing complete (time limit)

Statistics:

  Queries sent:         4
  Queries completed:    3 (75.00%)
  Queries lost:         1 (25.00%)

  Response codes:       NOERROR 2 (66.67%), NXDOMAIN 1 (33.33%)
  Average packet size:  request 36, response 112
  Run time (s):         1.000856
  Queries per second:   2.997435

  Average Latency (s):  0.000457 (min 0.000100, max 0.001140)
  Latency StdDev (s):   0.000590
`

func TestParsePerf(t *testing.T) {
	r, err := ParsePerf(strings.NewReader(dnsperfOutput))
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent != 4 || r.Completed != 3 || r.Lost != 1 || math.Abs(r.QPS-2.997435) > 1e-9 || math.Abs(r.RunTime-1.000856) > 1e-9 {
		t.Errorf("statistics = %+v", r)
	}
	if r.Rcodes["NOERROR"] != 2 || r.Rcodes["NXDOMAIN"] != 1 || r.Unexpected("NOERROR") != 1 {
		t.Errorf("response codes = %v", r.Rcodes)
	}
	if want := []float64{0.001140, 0.000131, 0.000100}; !slices.Equal(r.Latencies, want) {
		t.Errorf("latencies = %v, want %v (the timed-out query has none)", r.Latencies, want)
	}
	if _, err := ParsePerf(strings.NewReader("dnsperf: something failed\n")); err == nil {
		t.Error("output without statistics parsed")
	}
}

func TestPerfArgs(t *testing.T) {
	args, err := Perf{Seconds: 10, Clients: 20, Outstanding: 200, QPS: 20000, Verbose: true}.args("127.0.0.1:1053", "q")
	if err != nil {
		t.Fatal(err)
	}
	want := "-s 127.0.0.1 -p 1053 -d q -l 10 -c 20 -q 200 -t 2 -Q 20000 -v"
	if got := strings.Join(args, " "); got != want {
		t.Errorf("args = %s, want %s", got, want)
	}
}

const goTestOutput = `goos: linux
goarch: amd64
pkg: github.com/podname/podname/plugin/podname
cpu: AMD EPYC
BenchmarkServeDNS/hit/podname-2         	 5862432	       203.9 ns/op	      64 B/op	       2 allocs/op
BenchmarkServeDNS/hit/podname-2         	 5862432	       210.1 ns/op	      64 B/op	       2 allocs/op
BenchmarkServeDNS/hit/file-2            	 1000000	      1021 ns/op	     536 B/op	      13 allocs/op
BenchmarkIndexMemory-2                  	       1	695250829 ns/op	       351.0 bytes/pod	281637576 B/op	 2663077 allocs/op
PASS
ok  	github.com/podname/podname/plugin/podname	12.345s
`

func TestParseMicro(t *testing.T) {
	m, err := ParseMicro(strings.NewReader(goTestOutput))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"BenchmarkServeDNS/hit/podname", "BenchmarkServeDNS/hit/file", "BenchmarkIndexMemory"}; strings.Join(m.Order, ",") != strings.Join(want, ",") {
		t.Errorf("order = %v, want %v", m.Order, want)
	}
	if got := m.Median("BenchmarkServeDNS/hit/podname", "ns/op"); math.Abs(got-207) > 1e-9 {
		t.Errorf("median ns/op = %g, want 207", got)
	}
	if got := m.Median("BenchmarkIndexMemory", "bytes/pod"); got != 351 {
		t.Errorf("bytes/pod = %g, want 351", got)
	}
	if _, err := ParseMicro(strings.NewReader("FAIL\n")); err == nil {
		t.Error("output without benchmarks parsed")
	}
}

func TestPopulation(t *testing.T) {
	names, ips := map[string]bool{}, map[netip.Addr]bool{}
	for _, i := range []int{0, 1, 99, 100, 4242, 99_999, 150_000, maxPods() - 1} {
		name, ip := PodName(i), PodIP(i)
		if names[name] || ips[ip] {
			t.Errorf("pod %d repeats a name or IP: %s %s", i, name, ip)
		}
		names[name], ips[ip] = true, true
		if !podPrefix.Contains(ip) {
			t.Errorf("pod %d: IP %s outside %s", i, ip, podPrefix)
		}
		if len(name) > 63 {
			t.Errorf("pod %d: name %s longer than a label", i, name)
		}
	}
	if PodNamespace(0) != PodNamespace(99) || PodNamespace(99) == PodNamespace(100) {
		t.Error("an app's pods are not all in one namespace")
	}
	if got := nthAddr(netip.MustParsePrefix("10.160.0.0/12"), 256); got != netip.MustParseAddr("10.160.1.0") {
		t.Errorf("nthAddr carries wrong: %s", got)
	}
	if i, ok := churnIndex(churnPodName(1234)); !ok || i != 1234 {
		t.Errorf("churnIndex(churnPodName(1234)) = %d, %v", i, ok)
	}
}

func TestCorefiles(t *testing.T) {
	for name, build := range map[string]func() (Corefile, error){
		"throughput":       func() (Corefile, error) { return ThroughputCorefile("/k", "/zone.db") },
		"podname":          func() (Corefile, error) { return MemoryCorefile(RolePodname, "/k") },
		"kubernetes":       func() (Corefile, error) { return MemoryCorefile(RoleKubernetes, "/k") },
		"whoami":           func() (Corefile, error) { return MemoryCorefile(RoleWhoami, "/k") },
		"churn podname":    func() (Corefile, error) { return ChurnCorefile(RolePodname, "/k") },
		"churn kubernetes": func() (Corefile, error) { return ChurnCorefile(RoleKubernetes, "/k") },
	} {
		c, err := build()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		blocks, err := caddyfile.Parse(name, strings.NewReader(c.Text), nil)
		if err != nil {
			t.Fatalf("%s Corefile does not parse: %v\n%s", name, err, c.Text)
		}
		if len(blocks) != len(c.DNS) {
			t.Errorf("%s: %d server blocks, %d DNS addresses", name, len(blocks), len(c.DNS))
		}
		if c.ReadyAddr == "" {
			t.Errorf("%s: no ready plugin", name)
		}
		if strings.Contains(c.Text, ":53 ") || strings.Contains(c.Text, "0.0.0.0") {
			t.Errorf("%s: listens beyond loopback\n%s", name, c.Text)
		}
	}
	if _, err := MemoryCorefile("hosts", "/k"); err == nil {
		t.Error("a memory Corefile for an unknown role did not fail")
	}
	c, err := ThroughputCorefile("/k", "/zone.db")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(c.Text, "prometheus") {
		t.Error("the throughput Corefile wraps queries in prometheus")
	}
}

func TestWriteZone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "zone.db")
	if err := WriteZone(path, 300); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := file.Parse(f, Zone+".", path, 0)
	if err != nil {
		t.Fatalf("the file plugin does not parse the zone: %v", err)
	}
	if n := z.Count; n < 300 {
		t.Errorf("zone holds %d records, want at least 300", n)
	}
}

func TestWriteQueries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q")
	names := []string{"a.x", "b.x", "c.x", "d.x"}
	if err := WriteQueries(path, names); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != len(names) {
		t.Fatalf("%d query lines, want %d", len(lines), len(names))
	}
	for _, n := range names {
		if !strings.Contains(string(b), n+" A\n") {
			t.Errorf("no query for %s", n)
		}
	}
}

func TestChartSVG(t *testing.T) {
	for _, c := range []Chart{
		{Title: "linear <&>", XLabel: "pods", YLabel: "MiB", XFormat: CountLabel, Series: []Series{
			{Name: "a", Points: [][2]float64{{1000, 10}, {100000, 40}}, Markers: true},
			{Name: "b", Points: [][2]float64{{1000, 12}, {100000, 80}}, Dashed: true},
		}, Marks: []Mark{{X: 5000, Label: "here"}}},
		{Title: "log", XLog: true, Series: []Series{{Name: "cdf", Points: [][2]float64{{0.3, 0}, {2, 50}, {120, 100}}}}},
	} {
		svg, err := c.SVG()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
			t.Errorf("%s: SVG holds NaN or Inf", c.Title)
		}
		d := xml.NewDecoder(strings.NewReader(svg))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: SVG is not well-formed XML: %v", c.Title, err)
			}
		}
	}
	if _, err := (Chart{Title: "empty"}).SVG(); err == nil {
		t.Error("a chart with no points rendered")
	}
	if _, err := (Chart{Title: "bad", XLog: true, Series: []Series{{Points: [][2]float64{{0, 1}}}}}).SVG(); err == nil {
		t.Error("x = 0 on a log axis rendered")
	}
}

func TestConfigs(t *testing.T) {
	for name, c := range map[string]Config{"full": FullConfig(), "smoke": SmokeConfig()} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	bad := SmokeConfig()
	bad.Sizes = []int{200, 100}
	if err := bad.Validate(); err == nil {
		t.Error("sizes out of order validated")
	}
}

// TestBuildReport renders a report of made-up results and checks it has every section and
// judges the targets.
func TestBuildReport(t *testing.T) {
	res := fakeResults()
	rep, err := BuildReport(res, ReportOptions{PlotDir: "docs/bench", Notes: "Hand-written."})
	if err != nil {
		t.Fatal(err)
	}
	md := rep.Markdown
	for _, want := range []string{
		"## Summary", "## 1. Throughput", "## 2. Latency", "## 3. Memory", "## 4. Sync",
		"## 5. Propagation under churn", "## 6. Relist", "## 7. Go benchmarks", "## Notes", "Hand-written.",
		"| QPS at 10k pods, vs whoami | 45,000 | 50,000 | 0.90x | >= 0.9x | yes |",
		"| heap per pod (least-squares slope) | 300 B |",
		"docs/bench/memory.svg", "docs/bench/propagation.svg",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(md, "NaN") {
		t.Errorf("report holds NaN:\n%s", md)
	}
	for _, name := range []string{"memory.svg", "sync.svg", "propagation.svg", "relist.svg"} {
		if rep.Plots[name] == "" {
			t.Errorf("no plot %s", name)
		}
	}
}

func fakeResults() *Results {
	cfg := FullConfig()
	cfg.Sizes = []int{1000, 10000, 100000}
	res := &Results{Command: "make bench", Config: cfg, Elapsed: time.Minute}
	res.Memory = append(res.Memory, MemorySample{Role: RoleWhoami, HeapInuse: 8 << 20, RSS: 40 << 20})
	for _, size := range cfg.Sizes {
		for r := range cfg.Runs {
			res.Memory = append(res.Memory,
				MemorySample{Role: RolePodname, Pods: size, Run: r, HeapInuse: 8<<20 + 300*float64(size), RSS: 50 << 20, Sync: time.Duration(size) * 20 * time.Microsecond},
				MemorySample{Role: RoleKubernetes, Pods: size, Run: r, HeapInuse: 8<<20 + 900*float64(size), RSS: 60 << 20, Sync: time.Duration(size) * 30 * time.Microsecond})
		}
	}
	run := func(role string, q float64) PerfRun {
		return PerfRun{Role: role, QPS: q, Sent: 100, Completed: 100, P50: 1e-4, P99: 1e-3, Max: 2e-3, ClientCPU: 0.5, ServerCPU: 1}
	}
	var sat [][]PerfRun
	for range cfg.Runs {
		sat = append(sat, []PerfRun{run(RolePodname, 45000), run(RoleKubernetes, 30000), run(RoleFile, 40000), run(RoleWhoami, 50000)})
	}
	res.Throughput = &ThroughputResult{Pods: 10000, Saturated: sat, Latency: sat, LatencyQPS: 20000, Corefile: "x {\n}\n"}
	res.Churn = &ChurnResult{Rate: 50, Seconds: 60, Pool: 500, BackgroundPods: 100000,
		Appear: map[string][]float64{RolePodname: {0.001, 0.002, 0.003}, RoleKubernetes: {0.01, 0.02, 0.2}},
		Vanish: map[string][]float64{RolePodname: {0.001, 0.002}, RoleKubernetes: {0.01, 0.03}},
		Wrong:  map[string]int{}, Failed: map[string]int{}, Timeouts: map[string]int{},
		Created: map[string]int{RolePodname: 3000}, Deleted: map[string]int{RolePodname: 3000},
		Elapsed:  map[string]time.Duration{RolePodname: time.Minute},
		CPU:      map[string][]CPUUse{RolePodname: {{Name: "kube-apiserver", Cores: 0.8}}},
		Corefile: map[string]string{RolePodname: "y {\n}\n"}}
	res.Relist = []*RelistResult{
		{Role: RolePodname, Pods: 100000, Steady: 40 << 20, SteadyMax: 45 << 20, Peak: 55 << 20, Stopped: 3, Ready: 6, Resynced: 8,
			Samples: []RelistSample{{T: 0, Heap: 40 << 20}, {T: 5, Heap: 55 << 20}}},
		{Role: RoleKubernetes, Pods: 100000, Steady: 80 << 20, SteadyMax: 85 << 20, Peak: 150 << 20, Stopped: 3, Ready: 6,
			Samples: []RelistSample{{T: 0, Heap: 80 << 20}, {T: 5, Heap: 150 << 20}}},
	}
	res.Micro = &MicroResult{Command: "go test", Order: []string{"BenchmarkX"}, Runs: map[string]map[string][]float64{"BenchmarkX": {"ns/op": {1, 2, 3}}}}
	return res
}
