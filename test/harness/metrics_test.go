package harness

import "testing"

func TestMetricSum(t *testing.T) {
	text := `# HELP coredns_podname_pod_events_total x
coredns_podname_pod_events_total{event="add"} 10
coredns_podname_pod_events_total{event="update"} 7
coredns_podname_pods{watch="6667ee00"} 100
coredns_podname_pods_other 5
coredns_podname_requests_total{result="hit",server="dns://:53",view="",zone="a.b."} 3
go_memstats_heap_inuse_bytes 8.5e+06
`
	for _, c := range []struct {
		name  string
		match map[string]string
		want  float64
		found bool
	}{
		{"coredns_podname_pod_events_total", nil, 17, true},
		{"coredns_podname_pod_events_total", map[string]string{"event": "update"}, 7, true},
		{"coredns_podname_pod_events_total", map[string]string{"event": "delete"}, 0, false},
		{"coredns_podname_pods", nil, 100, true},
		{"coredns_podname_pods", map[string]string{"watch": "6667ee00"}, 100, true},
		{"coredns_podname_requests_total", map[string]string{"result": "hit", "view": ""}, 3, true},
		{"go_memstats_heap_inuse_bytes", nil, 8.5e6, true},
		{"coredns_podname", nil, 0, false},
	} {
		got, found, err := MetricSum(text, c.name, c.match)
		if err != nil || got != c.want || found != c.found {
			t.Errorf("MetricSum(%s, %v) = %g, %v, %v; want %g, %v", c.name, c.match, got, found, err, c.want, c.found)
		}
	}
	if _, _, err := MetricSum(`m{a="x} 1`, "m", nil); err == nil {
		t.Error("a label with an unterminated value parsed")
	}
}
