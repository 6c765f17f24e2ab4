package podname

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	goruntime "runtime"
	"runtime/metrics"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coredns/caddy"

	"github.com/podname/podname/plugin/podname/internal/kube"
	"github.com/podname/podname/plugin/podname/internal/podtest"
	api "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kwatch "k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// watchListServer answers watch-lists with bodies encoded once: for pods,
// the initial events of its pods and the bookmark that ends them; for
// services, the bookmark alone. A later watch waits for its request to
// end. What it costs to serve stays out of the figures.
type watchListServer struct {
	bodies map[string][]byte // by path
	// relist ends the pods' stream; the watch the reflector then opens
	// is refused as expired (410), and it lists again.
	relist chan struct{}
}

func newWatchListServer(b *testing.B, pods []*api.Pod) *watchListServer {
	b.Helper()
	rv := strconv.Itoa(len(pods) + 1)
	end := meta.ObjectMeta{ResourceVersion: rv, Annotations: map[string]string{meta.InitialEventsAnnotationKey: "true"}}
	events := make([]kwatch.Event, 0, len(pods)+1)
	for _, p := range pods {
		events = append(events, kwatch.Event{Type: kwatch.Added, Object: p})
	}
	events = append(events, kwatch.Event{Type: kwatch.Bookmark, Object: &api.Pod{
		TypeMeta: meta.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: end}})
	return &watchListServer{relist: make(chan struct{}), bodies: map[string][]byte{
		"/api/v1/pods": podtest.EncodeWatch(b, runtime.ContentTypeProtobuf, events),
		"/api/v1/services": podtest.EncodeWatch(b, runtime.ContentTypeProtobuf, []kwatch.Event{{Type: kwatch.Bookmark,
			Object: &api.Service{TypeMeta: meta.TypeMeta{APIVersion: "v1", Kind: "Service"}, ObjectMeta: end}}}),
	}}
}

func (s *watchListServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := s.bodies[r.URL.Path]
	switch {
	case ok && r.URL.Query().Get("sendInitialEvents") == "true":
		w.Header().Set("Content-Type", runtime.ContentTypeProtobuf+";stream=watch")
		_, _ = w.Write(body)
		w.(http.Flusher).Flush()
		if r.URL.Path == "/api/v1/pods" {
			select {
			case <-s.relist:
			case <-r.Context().Done():
			}
			return
		}
	case ok && r.URL.Path == "/api/v1/pods":
		http.Error(w, "too old resource version", http.StatusGone)
		return
	}
	<-r.Context().Done()
}

// BenchmarkSync: a stanza started against an API server on loopback that
// streams benchPods realistic pods (a kubelet's, with containers, volumes
// and managedFields), until the stanza is ready; decoded slim and, as the
// switch PODNAME_BENCH_DECODE=full does, in full. It reports the time and
// the bytes allocated per pod, the heap each pod then holds, and what a
// relist allocates.
func BenchmarkSync(b *testing.B) {
	pods := make([]*api.Pod, benchPods)
	for i := range pods {
		name, ip, _ := benchPod(i)
		p := podtest.KubeletPod()
		p.Name, p.Namespace = name, fmt.Sprintf("ns%02d", i/100%50)
		p.Status.PodIP, p.Status.PodIPs = ip, []api.PodIP{{IP: ip}}
		p.ResourceVersion = strconv.Itoa(i + 1)
		p.TypeMeta = meta.TypeMeta{APIVersion: "v1", Kind: "Pod"}
		pods[i] = p
	}
	server := newWatchListServer(b, pods)
	srv := httptest.NewServer(server)
	defer srv.Close()
	for _, decode := range []string{"slim", "full"} {
		b.Run(decode, func(b *testing.B) {
			// The product's client decodes slim; a plain clientset decodes
			// whole Pods, which the store projects.
			client, err := kube.Connection{Endpoint: srv.URL}.Client()
			if decode == "full" {
				cfg := &rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{ContentType: runtime.ContentTypeProtobuf}}
				client, err = kubernetes.NewForConfig(cfg)
			}
			if err != nil {
				b.Fatal(err)
			}
			var before, after goruntime.MemStats
			for b.Loop() {
				b.StopTimer()
				p, err := parse(caddy.NewTestController("dns", "podname "+seedZone+" {\n endpoint "+srv.URL+"\n}"))
				if err != nil {
					b.Fatal(err)
				}
				p.client = client
				goruntime.GC()
				goruntime.ReadMemStats(&before)
				b.StartTimer()
				if err := p.start(); err != nil {
					b.Fatal(err)
				}
				<-p.syncedCh
				b.StopTimer()
				goruntime.ReadMemStats(&after)
				alloc := after.TotalAlloc - before.TotalAlloc
				goruntime.GC()
				goruntime.ReadMemStats(&after)
				b.ReportMetric(float64(alloc)/benchPods, "alloc-B/pod")
				b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/benchPods, "heap-B/pod")
				if n := p.idx.Len(); n != benchPods {
					b.Fatalf("indexed %d pods, want %d", n, benchPods)
				}
				relist(b, server, p.w)
				if err := p.stop(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// relist makes the reflector list again (its watch ends, the next one is
// refused as expired) and reports the bytes allocated per pod until every
// pod has come again as an update: the garbage a relist makes, which sets
// how far the heap grows before the collector catches up (the peak itself
// is measured on coredns, by make bench: here the benchmark's own data
// sets the collector's pace). A handler of its own on the watch counts the
// updates, so the wait allocates nothing.
func relist(b *testing.B, server *watchListServer, w *kube.Watch) {
	b.Helper()
	var updates atomic.Int64
	sub, err := w.Subscribe(func(old, cur *kube.Pod) {
		if old != nil && cur != nil {
			updates.Add(1)
		}
	}, func(_, _ *kube.Service) {})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := sub.Cancel(); err != nil {
			b.Error(err)
		}
	}()
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	start := sample[0].Value.Uint64()
	server.relist <- struct{}{}
	deadline := time.Now().Add(time.Minute)
	for updates.Load() < benchPods {
		if time.Now().After(deadline) {
			b.Fatalf("relist: %d updates in a minute, want %d", updates.Load(), benchPods)
		}
		time.Sleep(time.Millisecond)
	}
	metrics.Read(sample)
	b.ReportMetric(float64(sample[0].Value.Uint64()-start)/benchPods, "relist-alloc-B/pod")
}
