package podname

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podname/podname/plugin/podname/index"
	"github.com/podname/podname/plugin/podname/internal/kube"
	"github.com/podname/podname/plugin/podname/internal/podtest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	api "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kwatch "k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// watchedClient is a fake clientset that counts the pod watches opened.
func watchedClient(objs ...runtime.Object) (*fake.Clientset, *atomic.Int32) {
	client := fake.NewClientset(objs...)
	var podWatches atomic.Int32
	client.PrependWatchReactor("*", func(action k8stesting.Action) (bool, kwatch.Interface, error) {
		gvr := action.GetResource()
		w, err := client.Tracker().Watch(gvr, action.GetNamespace())
		if gvr.Resource == "pods" {
			podWatches.Add(1)
		}
		return true, w, err
	})
	return client, &podWatches
}

func startedPlugin(t *testing.T, client *fake.Clientset, podWatches *atomic.Int32, opts ...func(*PodName)) *PodName {
	t.Helper()
	p := &PodName{Zones: []string{zone}, primary: zone, ttl: 5, client: client, conn: kube.Connection{Endpoint: "http://fake-" + t.Name()}}
	for _, o := range opts {
		o(p)
	}
	before := podWatches.Load()
	if err := p.start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() {
		if err := p.stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	select {
	case <-p.syncedCh:
	case <-time.After(10 * time.Second):
		t.Fatal("never synced")
	}
	// Each test has a connection of its own, so this watch is new: it must
	// be watching before the test creates objects, or the fake drops them.
	podtest.WaitFor(t, "the pod watch", func() bool { return podWatches.Load() > before })
	return p
}

func TestWatchAddUpdateDelete(t *testing.T) {
	client, podWatches := watchedClient(podtest.Service("default", "ws", map[string]string{"app": "ws"}))
	p := startedPlugin(t, client, podWatches)
	ctx := context.Background()
	pods := client.CoreV1().Pods("default")

	pod := podtest.Pod("default", "ws-1", []string{"10.36.0.1"})
	if _, err := pods.Create(ctx, pod, meta.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	podtest.WaitFor(t, "add to reach the index", func() bool { return p.idx.Host("ws-1") != nil })
	podtest.WaitFor(t, "the Service", func() bool { return p.idx.HostIn("ws-1", "ws") != nil })

	pod.Status.PodIPs = []api.PodIP{{IP: "10.36.0.2"}}
	if _, err := pods.UpdateStatus(ctx, pod, meta.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	podtest.WaitFor(t, "the IP change", func() bool {
		h := p.idx.Host("ws-1")
		return h != nil && len(h.IPs) == 1 && h.IPs[0].String() == "10.36.0.2"
	})
	if name, held := p.idx.PTR(p.idx.Host("ws-1").IPs[0]); name != "ws-1" || !held {
		t.Fatalf("PTR of the new IP: %q %v", name, held)
	}

	if err := pods.Delete(ctx, "ws-1", meta.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	podtest.WaitFor(t, "delete to reach the index", func() bool { return p.idx.Host("ws-1") == nil })
	if p.idx.Len() != 0 {
		t.Fatalf("index holds %d pods after delete", p.idx.Len())
	}
}

func TestWatchTerminatingLeaves(t *testing.T) {
	client, podWatches := watchedClient(podtest.Pod("default", "ws-1", []string{"10.36.0.1"}))
	p := startedPlugin(t, client, podWatches)
	if p.idx.Host("ws-1") == nil {
		t.Fatal("listed pod not indexed at sync")
	}
	pod := podtest.Pod("default", "ws-1", []string{"10.36.0.1"}, podtest.Terminating())
	if _, err := client.CoreV1().Pods("default").Update(context.Background(), pod, meta.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	podtest.WaitFor(t, "the terminating pod to leave", func() bool { return p.idx.Host("ws-1") == nil })
}

func TestWatchSharedAndReleased(t *testing.T) {
	client, podWatches := watchedClient(podtest.Pod("default", "ws-1", []string{"10.36.0.1"}))
	conn := kube.Connection{Endpoint: "http://shared"}
	prod := &PodName{Zones: []string{zone}, primary: zone, client: client, conn: conn, opts: index.Options{Namespaces: []string{"prod"}}}
	def := &PodName{Zones: []string{zone}, primary: zone, client: client, conn: conn, opts: index.Options{Namespaces: []string{"default"}}}
	for _, p := range []*PodName{prod, def} {
		if err := p.start(); err != nil {
			t.Fatal(err)
		}
		<-p.syncedCh
	}
	if prod.w != def.w || kube.Held()[prod.watchKey()] != 2 {
		t.Fatal("two stanzas with one connection and selector do not share a watch")
	}
	// Synced means listed; the watch that follows the list opens a moment later.
	podtest.WaitFor(t, "the shared pod watch", func() bool { return podWatches.Load() > 0 })
	if podWatches.Load() != 1 {
		t.Fatalf("%d pod watches for two stanzas, want 1", podWatches.Load())
	}
	if prod.idx.Host("ws-1") != nil || def.idx.Host("ws-1") == nil {
		t.Fatal("the namespaces filter is not applied per stanza")
	}
	// A reload: the new stanza starts before the old one stops. It is ready
	// before it starts, because the watch it will join has synced, so the
	// ready plugin, which asks it first, never sees the server unready.
	next := &PodName{Zones: []string{zone}, primary: zone, client: client, conn: conn}
	if !next.Ready() {
		t.Fatal("a reloaded stanza is not ready though its shared watch has synced")
	}
	other := &PodName{Zones: []string{zone}, primary: zone, client: client, conn: conn, selector: "app=db"}
	if other.Ready() {
		t.Fatal("a stanza whose watch has not started reports ready")
	}
	if err := next.start(); err != nil {
		t.Fatal(err)
	}
	<-next.syncedCh
	for _, p := range []*PodName{prod, def} {
		if err := p.stop(); err != nil {
			t.Fatal(err)
		}
		if err := p.stop(); err != nil {
			t.Fatalf("second stop: %v", err)
		}
	}
	if next.idx.Host("ws-1") == nil || podWatches.Load() != 1 {
		t.Fatalf("the reload relisted or lost pods (watches %d)", podWatches.Load())
	}
	if err := next.stop(); err != nil {
		t.Fatal(err)
	}
	if n := len(kube.Held()); n != 0 {
		t.Fatalf("%d watches left after every stanza stopped", n)
	}
	// The last release returns once the informers have stopped.
	if !next.w.Stopped() {
		t.Fatal("the informers still run after the last stanza released the watch")
	}
	for _, name := range []string{"coredns_podname_pods", "coredns_podname_last_sync_timestamp_seconds"} {
		if n := seriesWith(t, name, "watch", next.w.ID()); n != 0 {
			t.Errorf("%s{watch=%q} still exported after the watch stopped", name, next.w.ID())
		}
	}
}

func TestWatchLabelSelector(t *testing.T) {
	client, podWatches := watchedClient(
		podtest.Pod("default", "ws-1", []string{"10.36.0.1"}),
		podtest.Pod("default", "db-1", []string{"10.36.0.2"}, podtest.Labels(map[string]string{"app": "db"})),
	)
	p := startedPlugin(t, client, podWatches, func(p *PodName) { p.selector = "app=ws" })
	if p.idx.Host("ws-1") == nil || p.idx.Host("db-1") != nil {
		t.Fatal("the labels selector is not applied")
	}
}

func TestReadyLatches(t *testing.T) {
	client, podWatches := watchedClient()
	p := startedPlugin(t, client, podWatches)
	if !p.Ready() {
		t.Fatal("not ready after sync")
	}
	// An empty cluster still has every series, at 0, and a sync time.
	if got, err := testutil.GatherAndCount(prometheus.DefaultGatherer, "coredns_podname_pods", "coredns_podname_conflicts", "coredns_podname_last_sync_timestamp_seconds"); err != nil || got < 3 {
		t.Fatalf("%d series of pods, conflicts, last sync after an empty sync (%v); want each", got, err)
	}
	if seriesValue(t, "coredns_podname_last_sync_timestamp_seconds", "watch", kube.WatchID(p.watchKey())) == 0 {
		t.Fatal("last_sync_timestamp_seconds not set at sync")
	}
}
