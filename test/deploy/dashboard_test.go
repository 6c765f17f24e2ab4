package deploy

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podname/podname/test/cluster"
	"github.com/podname/podname/test/harness"
)

// TestDashboardMetrics: every metric the Grafana dashboard queries is in the real coredns's
// /metrics once it has synced, indexed a pod, seen its events and answered a query; and every
// podname metric coredns exports has a panel.
func TestDashboardMetrics(t *testing.T) {
	used := map[string]bool{}
	panels, variables := dashboardQueries(t)
	for _, expr := range slices.Concat(panels, variables) {
		for _, name := range metricNames(expr) {
			used[name] = true
		}
	}
	if len(used) == 0 {
		t.Fatal("deploy/grafana/podname.json queries no metric")
	}

	c := harness.Cluster(t, cluster.Options{})
	ips := runPods(t, c, "dash-a")
	dnsServer := harness.Start(t, harness.ConfigMapCorefile(t, harness.Render(t, "overlays/standalone"), "podname"), harness.Loopback(t, c.Kubeconfig()))
	waitReady(t, dnsServer)
	expectA(t, dnsServer.Addr(), "dash-a."+zone, ips["dash-a"])

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	text, err := dnsServer.Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	samples, families := exposition(text)
	for _, name := range slices.Sorted(maps.Keys(used)) {
		if !samples[name] {
			t.Errorf("the dashboard queries %s, which coredns's /metrics does not have", name)
		}
	}
	for _, family := range slices.Sorted(maps.Keys(families)) {
		if !strings.HasPrefix(family, "coredns_podname_") {
			continue
		}
		series := []string{family}
		if kind := families[family]; kind == "histogram" || kind == "summary" {
			series = []string{family + "_bucket", family + "_sum", family + "_count"}
		}
		if !slices.ContainsFunc(series, func(s string) bool { return used[s] }) {
			t.Errorf("coredns exports %s (%s), which no panel of the dashboard shows", family, families[family])
		}
	}
}

// TestMetricNames: the PromQL reading behind TestDashboardMetrics finds metric names and only
// them: not functions, aggregations, keywords, labels, label values, ranges or variables.
func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`sum by (result) (rate(coredns_podname_requests_total{instance=~"$instance"}[$__rate_interval]))`, []string{"coredns_podname_requests_total"}},
		{`histogram_quantile(0.99, sum by (le) (rate(x_bucket{a="}{ y"}[5m])))`, []string{"x_bucket"}},
		{`time() - max by (instance, watch) (last_seen)`, []string{"last_seen"}},
		{`a / on(instance) group_left(zone) b offset 5m`, []string{"a", "b"}},
		{`count without (pod) (z) > bool 0.5e3 and ignoring (x) w`, []string{"z", "w"}},
		{`topk(3, requests) unless absent(other{job='j}'})`, []string{"requests", "other"}},
		{`{__name__="by_name"}`, nil},
		{`label_values(coredns_podname_pods, instance)`, []string{"coredns_podname_pods"}},
		{`label_values(sum by (job) (rate(q[1m])), job)`, []string{"q"}},
		{`label_values(instance)`, nil},
	} {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%s) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// dashboardQueries returns the queries of deploy/grafana/podname.json: the PromQL of the
// panels' targets, and the queries of its query variables (Grafana's label_values(...)).
func dashboardQueries(t *testing.T) (panels, variables []string) {
	t.Helper()
	b, err := os.ReadFile(harness.DeployDir(t, "grafana/podname.json"))
	if err != nil {
		t.Fatalf("read deploy/grafana/podname.json: %v", err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Name  string          `json:"name"`
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("parse deploy/grafana/podname.json: %v", err)
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			if strings.TrimSpace(target.Expr) == "" {
				t.Errorf("dashboard panel %q has an empty query", p.Title)
			}
			panels = append(panels, target.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if v.Type != "query" {
			continue
		}
		// Grafana stores a variable's query as a string or as {"query": "..."}.
		var q string
		if err := json.Unmarshal(v.Query, &q); err != nil {
			var obj struct {
				Query string `json:"query"`
			}
			if err := json.Unmarshal(v.Query, &obj); err != nil {
				t.Fatalf("dashboard variable %s: query %s is neither a string nor an object with one", v.Name, v.Query)
			}
			q = obj.Query
		}
		variables = append(variables, q)
	}
	return panels, variables
}

// exposition reads Prometheus's text format: the metric names that have samples, and each
// family's type.
func exposition(text string) (samples map[string]bool, families map[string]string) {
	samples, families = map[string]bool{}, map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			if name, kind, ok := strings.Cut(rest, " "); ok {
				families[name] = kind
			}
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if end := strings.IndexAny(line, "{ "); end > 0 {
			samples[line[:end]] = true
		}
	}
	return samples, families
}

// promqlWords are the words of PromQL that are never metric names: aggregation operators,
// binary operators, modifiers.
var promqlWords = map[string]bool{
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true, "limitk": true, "limit_ratio": true,
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "atan2": true, "inf": true, "nan": true,
}

// groupings are the words of promqlWords whose parentheses hold label names.
var groupings = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

// metricNames returns the metric names a PromQL expression (Grafana variables allowed) selects
// by name, in order of appearance. Label matchers, ranges, strings, numbers, function names,
// PromQL's own words and the label lists of by/without/on/ignoring/group_* are skipped. Grafana's
// label_values(metric, label) counts as a selector of metric.
func metricNames(expr string) []string {
	var names []string
	for i := 0; i < len(expr); {
		ch := expr[i]
		switch {
		case ch == '"' || ch == '\'' || ch == '`':
			i = skipString(expr, i)
		case ch == '{':
			i = skipTo(expr, i, '}')
		case ch == '[':
			i = skipTo(expr, i, ']')
		case ch == '$': // a Grafana variable
			i++
			for i < len(expr) && isIdent(expr[i], false) {
				i++
			}
		case ch >= '0' && ch <= '9' || ch == '.': // a number or a duration
			for i < len(expr) && (isIdent(expr[i], false) || expr[i] == '.') {
				i++
			}
		case isIdent(ch, true):
			j := i
			for j < len(expr) && isIdent(expr[j], false) {
				j++
			}
			word := expr[i:j]
			k := j
			for k < len(expr) && (expr[k] == ' ' || expr[k] == '\t' || expr[k] == '\n') {
				k++
			}
			call := k < len(expr) && expr[k] == '('
			switch lower := strings.ToLower(word); {
			case groupings[lower] && call:
				j = skipTo(expr, k, ')')
			case word == "label_values" && call:
				// label_values(metric, label) or label_values(label): only a metric counts.
				j = skipTo(expr, k, ')')
				if first, _, ok := strings.Cut(expr[k+1:j-1], ","); ok {
					names = append(names, metricNames(first)...)
				}
			case call, promqlWords[lower]:
			default:
				names = append(names, word)
			}
			i = j
		default:
			i++
		}
	}
	return names
}

// skipString returns the index just past the string literal that starts at i.
func skipString(s string, i int) int {
	quote := s[i]
	for i++; i < len(s); i++ {
		switch {
		case s[i] == '\\' && quote != '`':
			i++
		case s[i] == quote:
			return i + 1
		}
	}
	return i
}

// skipTo returns the index just past the close that matches the opening bracket at i,
// skipping string literals and nested brackets of the same kind.
func skipTo(s string, i int, close byte) int {
	open, depth := s[i], 0
	for i++; i < len(s); {
		switch s[i] {
		case '"', '\'', '`':
			i = skipString(s, i)
			continue
		case open:
			depth++
		case close:
			if depth == 0 {
				return i + 1
			}
			depth--
		}
		i++
	}
	return i
}

func isIdent(ch byte, first bool) bool {
	return ch == '_' || ch == ':' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || (!first && ch >= '0' && ch <= '9')
}
