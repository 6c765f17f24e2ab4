package kube

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"testing"

	"github.com/podname/podname/plugin/podname/internal/podtest"
	api "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	kwatch "k8s.io/apimachinery/pkg/watch"
	clientfeatures "k8s.io/client-go/features"
	clientfeaturestesting "k8s.io/client-go/features/testing"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// podServer serves the pods of an API server in protobuf: lists, watches
// and watch-lists (initial events then the bookmark that ends them), with
// later events from events. It records which requests it had.
type podServer struct {
	pods   []*api.Pod
	rv     int
	events chan kwatch.Event
	end    chan struct{} // ends the watch being served

	mu                         sync.Mutex
	lists, watches, watchLists int
	watchRV                    string // the resourceVersion of the last watch
}

func (s *podServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v1/pods" {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	switch {
	case q.Get("watch") != "true":
		s.lists++
	case q.Get("sendInitialEvents") == "true":
		s.watchLists++
	default:
		s.watches++
		s.watchRV = q.Get("resourceVersion")
	}
	s.mu.Unlock()
	rv := strconv.Itoa(s.rv)
	if q.Get("watch") != "true" {
		l := &api.PodList{TypeMeta: meta.TypeMeta{APIVersion: "v1", Kind: "PodList"}, ListMeta: meta.ListMeta{ResourceVersion: rv}}
		for _, p := range s.pods {
			l.Items = append(l.Items, *p)
		}
		w.Header().Set("Content-Type", runtime.ContentTypeProtobuf)
		if err := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme).Encode(l, w); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
		return
	}
	var initial []kwatch.Event
	if q.Get("sendInitialEvents") == "true" {
		for _, p := range s.pods {
			initial = append(initial, kwatch.Event{Type: kwatch.Added, Object: p})
		}
		initial = append(initial, kwatch.Event{Type: kwatch.Bookmark, Object: &api.Pod{
			TypeMeta: meta.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: meta.ObjectMeta{ResourceVersion: rv,
				Annotations: map[string]string{meta.InitialEventsAnnotationKey: "true"}}}})
	}
	w.Header().Set("Content-Type", runtime.ContentTypeProtobuf+";stream=watch")
	w.WriteHeader(http.StatusOK)
	events := initial
	for {
		if err := podtest.WriteWatch(w, runtime.ContentTypeProtobuf, events); err != nil {
			return // the client sees the stream end
		}
		w.(http.Flusher).Flush()
		select {
		case e := <-s.events:
			events = []kwatch.Event{e}
		case <-s.end:
			return
		case <-r.Context().Done():
			return
		}
	}
}

func (s *podServer) counts() (lists, watches, watchLists int, watchRV string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lists, s.watches, s.watchLists, s.watchRV
}

// TestSlimInformer runs the pod informer over HTTP against podServer, with
// client-go's default (the streaming watch-list) and with list+watch, and
// checks the store holds the projections and follows a later event.
func TestSlimInformer(t *testing.T) {
	for _, watchList := range []bool{true, false} {
		t.Run("watchList="+strconv.FormatBool(watchList), func(t *testing.T) {
			if !watchList {
				clientfeaturestesting.SetFeatureDuringTest(t, clientfeatures.WatchListClient, false)
			}
			pod := func(name, ip, rv string) *api.Pod {
				p := podtest.Pod("default", name, []string{ip})
				p.TypeMeta = meta.TypeMeta{APIVersion: "v1", Kind: "Pod"}
				p.ResourceVersion = rv
				return p
			}
			s := &podServer{pods: []*api.Pod{pod("a", "10.0.0.1", "5"), pod("b", "10.0.0.2", "6")}, rv: 7, events: make(chan kwatch.Event, 1), end: make(chan struct{})}
			srv := httptest.NewServer(s)
			defer srv.Close()
			cfg := &rest.Config{Host: srv.URL}
			cfg.ContentType = runtime.ContentTypeProtobuf
			cfg.AcceptContentTypes = runtime.ContentTypeProtobuf
			client, err := withSlimPods(fake.NewClientset(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			w, err := Acquire("slim-"+t.Name(), client, "")
			if err != nil {
				t.Fatal(err)
			}
			defer w.Release()
			podtest.WaitFor(t, "the watch to sync", w.synced)
			held := func(name string) *Pod { return w.pods.get("default", name) }
			for _, p := range s.pods {
				o := held(p.Name)
				if o == nil || !o.Equal(Project(p)) || o.rv != parseRV(p.ResourceVersion) {
					t.Fatalf("store holds %+v for %s, want its projection", o, p.Name)
				}
			}
			lists, watches, watchLists, watchRV := s.counts()
			if watchList && (watchLists != 1 || lists != 0) || !watchList && (lists != 1 || watches != 1 || watchLists != 0 || watchRV != "7") {
				t.Fatalf("server had %d lists, %d watches (the last from %q), %d watch-lists", lists, watches, watchRV, watchLists)
			}

			s.events <- kwatch.Event{Type: kwatch.Modified, Object: pod("a", "10.0.0.9", "8")}
			want := netip.MustParseAddr("10.0.0.9")
			podtest.WaitFor(t, "the update", func() bool {
				o := held("a")
				return o != nil && len(o.IPs) == 1 && o.IPs[0] == want && o.rv == 8
			})
			// The reflector watches on from the last event's version.
			s.end <- struct{}{}
			podtest.WaitFor(t, "a watch from the update's version", func() bool {
				_, n, _, rv := s.counts()
				return n > watches && rv == "8"
			})
		})
	}
}

// TestBenchDecodeSwitch: fullDecode (PODNAME_BENCH_DECODE=full in the
// bench's build) turns the slim client back into the typed one, decoding
// whole Pods.
func TestBenchDecodeSwitch(t *testing.T) {
	client, err := withSlimPods(fake.NewClientset(), &rest.Config{Host: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, full := range []bool{false, true} {
		saved := fullDecode
		fullDecode = full
		_, example, err := podListWatch(client, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		fullDecode = saved
		if _, isPod := example.(*api.Pod); isPod != full {
			t.Errorf("full decode %v: the informer's example object is %T", full, example)
		}
	}
}
