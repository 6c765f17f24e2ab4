package faults

import (
	"context"
	"fmt"

	"github.com/podname/podname/test/harness"

	"k8s.io/client-go/kubernetes"
)

// corednsMetric is the sum of the series of name matching match on c's /metrics; a metric
// with no series yet counts as 0.
func corednsMetric(ctx context.Context, c *harness.CoreDNS, name string, match map[string]string) (float64, error) {
	text, err := c.Metrics(ctx)
	if err != nil {
		return 0, fmt.Errorf("metrics of coredns at %s: %w", c.Addr(), err)
	}
	v, _, err := harness.MetricSum(text, name, match)
	if err != nil {
		return 0, fmt.Errorf("metrics of coredns at %s: %w", c.Addr(), err)
	}
	return v, nil
}

// podWatches is the number of pod watches the API server of client holds open, from its
// /metrics.
func podWatches(ctx context.Context, client kubernetes.Interface) (int, error) {
	body, err := client.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("GET the API server's /metrics: %w", err)
	}
	v, found, err := harness.MetricSum(string(body), "apiserver_longrunning_requests", map[string]string{"resource": "pods", "verb": "WATCH"})
	if err != nil {
		return 0, fmt.Errorf("the API server's /metrics: %w", err)
	}
	if !found {
		return 0, fmt.Errorf("the API server's /metrics has no apiserver_longrunning_requests for pod watches")
	}
	return int(v), nil
}

// podRequests is the number of lists and watches of pods the API server of client has served
// or is serving: finished requests (apiserver_request_total counts a watch when it ends) plus
// the watches open now. A client that lists or watches again raises it.
func podRequests(ctx context.Context, client kubernetes.Interface) (int, error) {
	body, err := client.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return 0, fmt.Errorf("GET the API server's /metrics: %w", err)
	}
	n := 0.0
	for _, q := range []struct {
		metric string
		match  map[string]string
	}{
		{"apiserver_request_total", map[string]string{"resource": "pods", "subresource": "", "verb": "LIST"}},
		{"apiserver_request_total", map[string]string{"resource": "pods", "subresource": "", "verb": "WATCH"}},
		{"apiserver_longrunning_requests", map[string]string{"resource": "pods", "subresource": "", "verb": "WATCH"}},
	} {
		v, _, err := harness.MetricSum(string(body), q.metric, q.match)
		if err != nil {
			return 0, fmt.Errorf("the API server's /metrics: %w", err)
		}
		n += v
	}
	return int(n), nil
}
