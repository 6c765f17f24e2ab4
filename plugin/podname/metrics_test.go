package podname

import (
	"context"
	"testing"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

func TestRequestsByResult(t *testing.T) {
	p := newTestPlugin(t, seedStanza+" {\n fallthrough example.org\n}", seedPods(), seedServices())
	unsynced := newTestPlugin(t, `podname example.org {
 fallthrough
}`, nil, nil)
	unsynced.synced.Store(false)
	strict := newTestPlugin(t, `podname example.net`, nil, nil)
	strict.synced.Store(false)
	cases := []struct {
		p      *PodName
		qname  string
		qtype  uint16
		zone   string
		result string
	}{
		{p, "ws-777779bd59-ftn4j." + zone, dns.TypeA, zone, "hit"},
		{p, "ws-777779bd59-ftn4j." + zone, dns.TypeAAAA, zone, "nodata"},
		{p, "nope." + zone, dns.TypeA, zone, "nxdomain"},
		{p, "2.0.36.10.IN-ADDR.arpa.", dns.TypePTR, "in-addr.arpa.", "nxdomain"},
		{unsynced, "nope.example.org.", dns.TypeA, "example.org.", "fallthrough"},
		{strict, "nope.example.net.", dns.TypeA, "example.net.", "servfail"},
	}
	for _, tc := range cases {
		ctr := requests.WithLabelValues("", tc.zone, "", tc.result)
		before := testutil.ToFloat64(ctr)
		rec := dnstest.NewRecorder(&test.ResponseWriter{})
		if _, err := tc.p.ServeDNS(context.Background(), rec, new(dns.Msg).SetQuestion(tc.qname, tc.qtype)); err != nil {
			t.Fatal(err)
		}
		if got := testutil.ToFloat64(ctr) - before; got != 1 {
			t.Errorf("%s %s: requests_total{zone=%q,result=%q} moved by %v, want 1",
				dns.TypeToString[tc.qtype], tc.qname, tc.zone, tc.result, got)
		}
	}
}

func TestConflictsGauge(t *testing.T) {
	newTestPlugin(t, seedStanza, seedPods(), nil)
	if got := testutil.ToFloat64(conflicts.WithLabelValues(zone)); got != 1 {
		t.Fatalf("coredns_podname_conflicts{zone=%q} = %v, want 1 (ws-777779bd59-ftn4j in default and team-b)", zone, got)
	}
}

// seriesWith counts the series of the named metric whose label has value,
// without creating one as WithLabelValues would.
func seriesWith(t testing.TB, name, label, value string) int {
	return len(matching(t, name, label, value))
}

// seriesValue is the sum of the values of those series (counters, gauges).
func seriesValue(t testing.TB, name, label, value string) float64 {
	sum := 0.0
	for _, m := range matching(t, name, label, value) {
		sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	return sum
}

// matching is the series of the named metric whose label has value.
func matching(t testing.TB, name, label, value string) []*dto.Metric {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	var found []*dto.Metric
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					found = append(found, m)
				}
			}
		}
	}
	return found
}
