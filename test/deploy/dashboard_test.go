package deploy

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/podname/podname/test/harness"
)

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

// unshown returns the podname metrics among names (what Prometheus scraped from coredns) that
// no query of the dashboard names: a histogram counts as shown if any of its series is named.
func unshown(names, queries []string) []string {
	var out []string
	for _, name := range names {
		family, ok := strings.CutPrefix(name, "coredns_podname_")
		if !ok {
			continue
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(family, suffix); ok && slices.Contains(names, "coredns_podname_"+base+"_bucket") {
				family = base
			}
		}
		// A metric name is an identifier in PromQL: named means not inside a longer one.
		named := regexp.MustCompile(`(^|[^\w:])coredns_podname_` + regexp.QuoteMeta(family) + `(_bucket|_sum|_count)?($|[^\w:])`)
		if !slices.ContainsFunc(queries, named.MatchString) && !slices.Contains(out, "coredns_podname_"+family) {
			out = append(out, "coredns_podname_"+family)
		}
	}
	return out
}

// TestUnshown: a metric counts as shown only if a query names it whole, a histogram by any of
// its series; metrics not podname's are not asked about.
func TestUnshown(t *testing.T) {
	names := []string{"up", "coredns_podname_pods", "coredns_podname_pods_held", "coredns_podname_conflicts",
		"coredns_podname_delay_seconds_bucket", "coredns_podname_delay_seconds_sum", "coredns_podname_delay_seconds_count"}
	queries := []string{`max by (watch) (coredns_podname_pods{instance=~"$instance"})`,
		`histogram_quantile(0.9, sum by (le) (rate(coredns_podname_delay_seconds_bucket[5m])))`, `label_values(coredns_podname_conflicts_total, zone)`}
	if got, want := unshown(names, queries), []string{"coredns_podname_pods_held", "coredns_podname_conflicts"}; !slices.Equal(got, want) {
		t.Errorf("unshown = %q, want %q", got, want)
	}
}
