package kube

import (
	"context"
	"testing"

	"github.com/podname/podname/plugin/podname/internal/podtest"
	"github.com/prometheus/client_golang/prometheus/testutil"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// TestWatchID: the label is short, carries nothing of the key, and is the
// same for the same key in every process (pinned here).
func TestWatchID(t *testing.T) {
	for key, want := range map[string]string{
		"in-cluster,labels=": "b731f68f",
		"kubeconfig=/etc/coredns/kubeconfig,context=,labels=podname.pix.yun.com/register=true": "6667ee00",
	} {
		if got := WatchID(key); got != want {
			t.Errorf("WatchID(%q) = %q, want %q", key, got, want)
		}
	}
}

// TestWatchMetrics: a watch logs its id and key once, and its series count
// the pods held (those with an IP), the events, and the last sync.
func TestWatchMetrics(t *testing.T) {
	logs := podtest.CaptureLog(t)
	client := fake.NewClientset(podtest.Pod("default", "ws-1", []string{"10.36.0.1"}), podtest.Pod("default", "pending", nil))
	key := "endpoint=http://fake-" + t.Name() + ",labels="
	w, err := Acquire(key, client, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Release)
	sub, err := w.Subscribe(func(_, _ *Pod) {}, func(_, _ *Service) {})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Cancel() })
	if !sub.WaitSynced(t.Context().Done()) {
		t.Fatal("the watch did not sync")
	}
	id := WatchID(key)
	if n := logs.Count("watch " + id + ": " + key + "\n"); n != 1 {
		t.Fatalf("the watch's id and key logged %d times at its start, want once:\n%s", n, logs.String())
	}
	held := podsHeld.WithLabelValues(id)
	if got := testutil.ToFloat64(held); got != 1 {
		t.Fatalf("coredns_podname_pods = %v, want 1 (the pod without an IP is not held)", got)
	}
	adds := testutil.ToFloat64(podEvents.WithLabelValues("add"))
	if _, err := client.CoreV1().Pods("default").Create(context.Background(),
		podtest.Pod("default", "ws-2", []string{"10.36.0.2"}), meta.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	podtest.WaitFor(t, "the pods gauge", func() bool { return testutil.ToFloat64(held) == 2 })
	if testutil.ToFloat64(podEvents.WithLabelValues("add")) <= adds {
		t.Fatal("pod_events_total{event=add} did not move")
	}
	if testutil.ToFloat64(lastSync.WithLabelValues(id)) == 0 {
		t.Fatal("last_sync_timestamp_seconds not set")
	}
}
