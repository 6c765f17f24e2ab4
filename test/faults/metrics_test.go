package faults

import (
	"context"
	"fmt"

	"github.com/podname/podname/test/harness"

	"k8s.io/client-go/kubernetes"
)

// podWatches is the number of pod watches the API server of client holds open, from its
// /metrics.
func podWatches(ctx context.Context, client kubernetes.Interface) (int, error) {
	text, err := apiServerMetrics(ctx, client)
	if err != nil {
		return 0, err
	}
	v, found, err := harness.MetricSum(text, "apiserver_longrunning_requests", map[string]string{"resource": "pods", "verb": "WATCH"})
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
// the watches open now. A client that lists or watches again raises it. None at all is an error:
// the series were not found, and two readings of 0 would agree on nothing.
func podRequests(ctx context.Context, client kubernetes.Interface) (int, error) {
	text, err := apiServerMetrics(ctx, client)
	if err != nil {
		return 0, err
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
		v, _, err := harness.MetricSum(text, q.metric, q.match)
		if err != nil {
			return 0, fmt.Errorf("the API server's /metrics: %w", err)
		}
		n += v
	}
	if n == 0 {
		return 0, fmt.Errorf("the API server's /metrics counts no list or watch of pods")
	}
	return int(n), nil
}

// apiServerMetrics is the text of the /metrics of client's API server.
func apiServerMetrics(ctx context.Context, client kubernetes.Interface) (string, error) {
	body, err := client.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return "", fmt.Errorf("GET the API server's /metrics: %w", err)
	}
	return string(body), nil
}
