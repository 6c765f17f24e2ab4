package harness

import (
	"fmt"
	"strconv"
	"strings"
)

// MetricSum adds the values of every series of metric name in a Prometheus text (a /metrics
// page) whose labels include match; found is false if no series matches.
func MetricSum(text, name string, match map[string]string) (sum float64, found bool, err error) {
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndex(line, " ")
		if i < 0 {
			continue
		}
		series, value := line[:i], line[i+1:]
		metric, labels, _ := strings.Cut(series, "{")
		if metric != name {
			continue
		}
		got, err := parseLabels(strings.TrimSuffix(labels, "}"))
		if err != nil {
			return 0, false, fmt.Errorf("metric line %q: %w", line, err)
		}
		if !hasLabels(got, match) {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return 0, false, fmt.Errorf("metric line %q: %w", line, err)
		}
		sum, found = sum+v, true
	}
	return sum, found, nil
}

// parseLabels reads `a="x",b="y"` as the Prometheus text format writes it.
func parseLabels(s string) (map[string]string, error) {
	labels := map[string]string{}
	for s != "" {
		key, rest, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("label without a value in %q", s)
		}
		quoted, err := strconv.QuotedPrefix(rest)
		if err != nil {
			return nil, fmt.Errorf("label %s: %w", key, err)
		}
		labels[key], _ = strconv.Unquote(quoted)
		s = strings.TrimPrefix(rest[len(quoted):], ",")
	}
	return labels, nil
}

func hasLabels(labels, match map[string]string) bool {
	for k, v := range match {
		if labels[k] != v {
			return false
		}
	}
	return true
}
