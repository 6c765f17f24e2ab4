package bench

import (
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
	"github.com/miekg/dns"

	"github.com/podname/podname/test/harness"
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
		"transfers":        func() (Corefile, error) { return TransferCorefile("/k", "/zone.db") },
		"primary":          func() (Corefile, error) { return PrimaryCorefile("/k", "127.0.0.1:5300") },
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
	// Every transfer block lets anyone on loopback in, and NOTIFYs no one but a secondary.
	x, err := TransferCorefile("/k", "/zone.db")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(x.Text, "transfer {\n        to *\n    }"); n != 2 {
		t.Errorf("transfers Corefile: %d blocks with transfer to *, want 2\n%s", n, x.Text)
	}
	p, err := PrimaryCorefile("/k", "127.0.0.1:5300")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Text, "to 127.0.0.1:5300\n") || strings.Contains(p.Text, "ixfr_journal") || p.PprofAddr == "" {
		t.Errorf("primary Corefile: want transfer to the secondary, the default journal, pprof\n%s", p.Text)
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

func TestConfigs(t *testing.T) {
	for name, c := range map[string]Config{"full": FullConfig(), "smoke": SmokeConfig()} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, spoil := range map[string]func(*Config){
		"sizes out of order":               func(c *Config) { c.Sizes = []int{200, 100} },
		"IXFR changes out of order":        func(c *Config) { c.XfrChanges = []int{50, 1} },
		"no IXFR changes":                  func(c *Config) { c.XfrChanges = nil },
		"churn into the IXFR pods":         func(c *Config) { c.ChurnRate, c.ChurnSeconds = 1000, 600 },
		"IXFR pods beyond the churn range": func(c *Config) { c.XfrChanges, c.Runs = []int{1, 20_000}, 3 },
		"BIND asked for no pod":            func(c *Config) { c.SecondaryEvery = 0 },
	} {
		c := SmokeConfig()
		spoil(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s validated", name)
		}
	}
	if got := FullConfig().xfrSizes(); !slices.Equal(got, []int{10_000, 100_000}) {
		t.Errorf("full run's transfer sizes %v, want 10k and 100k", got)
	}
	if got := SmokeConfig().xfrSizes(); !slices.Equal(got, []int{200}) {
		t.Errorf("smoke run's transfer sizes %v, want 200", got)
	}
}

// TestLargest checks the full run measures its largest size once, whatever its budget says, and
// the smoke run takes that path too.
func TestLargest(t *testing.T) {
	full := FullConfig()
	if got := full.LargestSize(); got != 150_000 {
		t.Errorf("full run's largest size %d, want 150k", got)
	}
	if got := SmokeConfig().LargestSize(); got == 0 {
		t.Error("smoke run has no size above its throughput and relist sizes")
	}
	if a, b := full.RunsAt(150_000), full.RunsAt(100_000); a != 1 || b != full.Runs {
		t.Errorf("full run's runs at 150k and 100k: %d and %d, want 1 and %d", a, b, full.Runs)
	}
	var variants []string
	for _, v := range full.memoryVariants(full.RelistPods) {
		variants = append(variants, VariantName(v.role, v.env))
	}
	if want := []string{RolePodname, RoleFullDecode, RoleKubernetes, RoleGzipOn, RoleGzipOff, RoleListWatch}; !slices.Equal(variants, want) {
		t.Errorf("variants at the relist size %q, want %q", variants, want)
	}
	if n := len(full.memoryVariants(full.Sizes[0])); n != 3 {
		t.Errorf("%d variants at %d pods, want 3", n, full.Sizes[0])
	}
	// An hour in, at 10 pods/s: every size above 100k is over budget but the largest.
	full.Sizes = []int{1_000, 10_000, 100_000, 120_000, 150_000}
	b := &Bench{begin: time.Now().Add(-time.Hour), cfg: full, log: io.Discard}
	res := &Results{Creation: []Creation{{From: 0, To: 100_000, Elapsed: 10_000 * time.Second}}}
	if why := b.overBudget(res, 120_000, 100_000, time.Minute, 100_000); why == "" {
		t.Error("120k pods an hour into a run of 40 minutes: not over budget")
	}
	if why := b.overBudget(res, 150_000, 100_000, time.Minute, 100_000); why != "" {
		t.Errorf("the largest size skipped: %s", why)
	}
}

// TestReadIXFR reads an incremental reply of two steps, an up-to-date one, and one that is
// the whole zone.
func TestReadIXFR(t *testing.T) {
	soa := func(serial uint32) dns.RR {
		return &dns.SOA{Hdr: dns.RR_Header{Name: Zone + ".", Rrtype: dns.TypeSOA, Class: dns.ClassINET}, Serial: serial}
	}
	a := func(name, ip string) dns.RR {
		return &dns.A{Hdr: dns.RR_Header{Name: name + "." + Zone + ".", Rrtype: dns.TypeA, Class: dns.ClassINET}, A: netip.MustParseAddr(ip).AsSlice()}
	}
	incremental := []dns.RR{soa(10), soa(8), a("Gone-1", "10.0.0.1"), soa(9), a("new-1", "10.0.0.3"), soa(9), a("gone-2", "10.0.0.2"), soa(10), a("new-2", "10.0.0.4"), soa(10)}
	inc, steps, del, add := readIXFR(incremental)
	if !inc || steps != 2 {
		t.Errorf("incremental reply: incremental %v, %d steps; want true, 2", inc, steps)
	}
	wantDel := []string{recordKey("gone-1."+Zone, netip.MustParseAddr("10.0.0.1")), recordKey("gone-2."+Zone, netip.MustParseAddr("10.0.0.2"))}
	wantAdd := []string{recordKey("new-1."+Zone, netip.MustParseAddr("10.0.0.3")), recordKey("new-2."+Zone, netip.MustParseAddr("10.0.0.4"))}
	if !slices.Equal(del, wantDel) || !slices.Equal(add, wantAdd) {
		t.Errorf("removes %v, adds %v; want %v, %v", del, add, wantDel, wantAdd)
	}
	for name, rrs := range map[string][]dns.RR{"up to date": {soa(10)}, "whole zone": {soa(10), a("x", "10.0.0.9"), soa(10)}} {
		if inc, _, _, _ := readIXFR(rrs); inc {
			t.Errorf("%s: read as incremental", name)
		}
	}
}

// TestCheckFirst compares named's count of a transfer, without TCP's 2-byte lengths, with the
// bench's.
func TestCheckFirst(t *testing.T) {
	r := SecondaryResult{First: harness.Transfer{Messages: 2, Records: 10, Bytes: 996}, Check: XfrRun{Messages: 2, Records: 10, Bytes: 1000}}
	if ours, same := r.CheckFirst(); ours != 996 || !same {
		t.Errorf("checkFirst = %d, %v; want 996, true", ours, same)
	}
	r.First.Bytes = 1000
	if _, same := r.CheckFirst(); same {
		t.Error("counts 4 bytes apart are the same")
	}
}

func TestExpectHolds(t *testing.T) {
	ip, other := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	there, gone := Expect{Name: "a", IP: ip}, Expect{Name: "a", IP: ip, Gone: true}
	for _, c := range []struct {
		e          Expect
		a          Answer
		holds, bad bool
	}{
		{there, Answer{Rcode: dns.RcodeSuccess, IPs: []netip.Addr{ip}}, true, false},
		{there, Answer{Rcode: dns.RcodeNameError}, false, false},
		{there, Answer{Rcode: dns.RcodeSuccess, IPs: []netip.Addr{other}}, false, true},
		{gone, Answer{Rcode: dns.RcodeNameError}, true, false},
		{gone, Answer{Rcode: dns.RcodeSuccess, IPs: []netip.Addr{ip}}, false, false},
		{gone, Answer{Rcode: dns.RcodeSuccess, IPs: []netip.Addr{other}}, false, true},
	} {
		if got := c.e.holds(c.a); got != c.holds {
			t.Errorf("%+v holds %+v = %v, want %v", c.e, c.a, got, c.holds)
		}
		if got := c.a.wrongFor(c.e.IP); got != c.bad {
			t.Errorf("%+v wrong for %+v = %v, want %v", c.a, c.e, got, c.bad)
		}
	}
}

// TestProblemsWatchLists: podname's syncs at the size of the list variant must each have streamed
// a watch-list of pods, and one of the list variant's none (another client's relist may add
// one); else section 4 measures what it does not say.
func TestProblemsWatchLists(t *testing.T) {
	res := FakeResults()
	for i, s := range res.Memory {
		if s.Pods == VariantPods(res, RoleListWatch) && s.Variant() == RolePodname {
			res.Memory[i].PodWatchLists = 1
		}
	}
	watchLists := func() []string {
		return slices.DeleteFunc(problems(res), func(p string) bool { return !strings.Contains(p, "watch-lists") })
	}
	if got := watchLists(); len(got) != 0 {
		t.Fatalf("problems %q of syncs that took the paths they say", got)
	}
	// Another client's relist during a run of each: still the paths they say.
	for i, s := range res.Memory {
		if (s.Variant() == RoleListWatch || s.Variant() == RolePodname) && s.Run == 1 {
			res.Memory[i].PodWatchLists++
		}
	}
	if got := watchLists(); len(got) != 0 {
		t.Fatalf("problems %q of syncs that took the paths they say, with another client's relist", got)
	}
	for i, s := range res.Memory {
		if s.Variant() == RoleListWatch {
			res.Memory[i].PodWatchLists = 1
		}
		if s.Variant() == RolePodname && s.Pods == VariantPods(res, RoleListWatch) && s.Run == 0 {
			res.Memory[i].PodWatchLists = 0
		}
	}
	got := watchLists()
	if want := []string{
		"podname at 100000 pods: a sync during which the API server served 0 watch-lists of pods, want 1 at least",
		"podname (KUBE_FEATURE_WatchListClient=false) at 100000 pods: the API server served 1 watch-lists of pods or more during every sync, want 0 in one",
	}; !slices.Equal(got, want) {
		t.Fatalf("problems %q, want %q", got, want)
	}
}

// TestProblemsSecondaryCheck: the primary's AXFR, checked before BIND follows it under churn,
// fails the run when it does not hold the pods.
func TestProblemsSecondaryCheck(t *testing.T) {
	res := &Results{Churn: &ChurnResult{Secondary: &SecondaryResult{}}}
	if got := problems(res); len(got) != 0 {
		t.Fatalf("problems %q of a secondary whose check passed", got)
	}
	res.Churn.Secondary.Check.Mismatch = "AXFR at 127.0.0.1:53 holds 9 pods' A records, want 10"
	if got := problems(res); !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p, "holds 9 pods") }) {
		t.Fatalf("problems %q, want the primary's AXFR mismatch", got)
	}
}
