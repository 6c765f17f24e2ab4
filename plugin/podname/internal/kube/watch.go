package kube

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"

	api "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kwatch "k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Watch is one shared watch of Pods (filtered by labels) and of Services.
// Stanzas with the same connection and labels share it; it lives while any
// stanza holds it, so a reload that keeps it does not relist.
type Watch struct {
	key      string
	id       string // the key's label in the metrics, see WatchID
	pods     *PodStore
	podCtl   cache.Controller // lists and watches pods into pods
	podsDone chan struct{}    // closed once podCtl has stopped
	svcs     cache.SharedIndexInformer
	stats    *watchStats
	svcReg   cache.ResourceEventHandlerRegistration
	cancel   context.CancelFunc
	running  sync.WaitGroup // the pods' controller, the services' informer and the stats tracker
	refs     int            // guarded by watches.mu
}

// watches holds the live watches by key.
var watches = struct {
	mu sync.Mutex
	m  map[string]*Watch
}{m: map[string]*Watch{}}

// WatchID is the label a watch's series carry: the first 8 hex digits of
// the SHA-256 of its key. A key holds kubeconfig paths, URLs and selectors,
// which do not belong in a label; the id is the same for the same key on
// every replica and across restarts, and startWatch logs which key it is.
func WatchID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:4])
}

// Acquire returns the running watch for key, starting it on first use. Each
// call holds a reference, which Release drops.
func Acquire(key string, client kubernetes.Interface, selector string) (*Watch, error) {
	watches.mu.Lock()
	defer watches.mu.Unlock()
	if w := watches.m[key]; w != nil {
		w.refs++
		return w, nil
	}
	w, err := startWatch(key, client, selector)
	if err != nil {
		return nil, err
	}
	w.refs = 1
	watches.m[key] = w
	return w, nil
}

// Synced reports whether the watch for key runs and has listed both
// pods and services once.
func Synced(key string) bool {
	watches.mu.Lock()
	w := watches.m[key]
	watches.mu.Unlock()
	return w != nil && w.synced()
}

// Held is the running watches' reference counts, by key.
func Held() map[string]int {
	watches.mu.Lock()
	defer watches.mu.Unlock()
	refs := make(map[string]int, len(watches.m))
	for k, w := range watches.m {
		refs[k] = w.refs
	}
	return refs
}

// synced reports whether pods and services are listed and the listed pods
// are counted in the metrics, so /ready and /metrics agree.
func (w *Watch) synced() bool {
	for _, c := range w.syncedCheckers() {
		if !cache.IsDone(c) {
			return false
		}
	}
	return true
}

// syncedCheckers are what synced waits on, in the form cache.WaitFor takes.
func (w *Watch) syncedCheckers() []cache.DoneChecker {
	return []cache.DoneChecker{w.svcReg.HasSyncedChecker(), w.pods.HasSyncedChecker()}
}

// Release drops one reference. The last one stops the watch and returns
// once its goroutines have ended.
func (w *Watch) Release() {
	watches.mu.Lock()
	if w.refs--; w.refs > 0 {
		watches.mu.Unlock()
		return
	}
	delete(watches.m, w.key)
	// Under the lock: a watch started next for the same key has the same
	// id, and its series must not be deleted by this one.
	w.stats.forget()
	watches.mu.Unlock()
	w.cancel()
	w.running.Wait()
}

func startWatch(key string, client kubernetes.Interface, selector string) (*Watch, error) {
	id := WatchID(key)
	pods := NewPodStore()
	podsLW, podExample, err := podListWatch(client, selector, pods)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", id, err)
	}
	w := &Watch{
		key:      key,
		id:       id,
		pods:     pods,
		podsDone: make(chan struct{}),
		// No resync (0), no indexers: nothing looks Services up but by key.
		svcs:  cache.NewSharedIndexInformer(listWatch(client, client.CoreV1().Services(meta.NamespaceAll), ""), &api.Service{}, 0, cache.Indexers{}),
		stats: newWatchStats(id),
	}
	// The pods' store is the controller's queue: the reflector puts each
	// change straight into it (see PodStore).
	w.podCtl = cache.New(&cache.Config{
		Queue:             w.pods,
		ListerWatcher:     podsLW,
		ObjectType:        podExample,
		ObjectDescription: "pods",
		WatchErrorHandler: w.watchError("pods"),
	})
	for _, step := range []func() error{
		func() error { return w.svcs.SetTransform(projectService) },
		func() error { return w.svcs.SetWatchErrorHandler(w.watchError("services")) },
	} {
		if err := step(); err != nil {
			return nil, fmt.Errorf("set up watch %s: %w", id, err)
		}
	}
	w.pods.Subscribe(w.stats.handler())
	// Each stanza indexes Services itself (Subscribe); this handler only tells when
	// the watch has listed them, for Ready.
	reg, err := w.svcs.AddEventHandler(cache.ResourceEventHandlerFuncs{})
	if err != nil {
		return nil, fmt.Errorf("watch %s: services: %w", id, err)
	}
	w.svcReg = reg
	// The series exist from the start: a dashboard sees 0, not "no data".
	podsHeld.WithLabelValues(id).Set(0)
	log.Infof("watch %s: %s", id, key)
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.running.Go(func() {
		defer close(w.podsDone)
		w.podCtl.RunWithContext(ctx)
	})
	w.running.Go(func() { w.svcs.RunWithContext(ctx) })
	w.running.Go(func() { w.stats.track(ctx, w.podCtl) })
	return w, nil
}

// PodsSynced is the resourceVersion the pods are synced to: the reflector's,
// or the list the store is replaying, which the reflector records only once
// the replay is done (a relist's changes, and the first list's serial, stand
// for the list's version).
func (w *Watch) PodsSynced() uint64 {
	return max(parseRV(w.podCtl.LastSyncResourceVersion()), w.pods.listedRV.Load())
}

// ServicesSynced is the resourceVersion the Services are synced to.
func (w *Watch) ServicesSynced() uint64 { return parseRV(w.svcs.LastSyncResourceVersion()) }

// ID is the label the watch's series carry: WatchID of its key.
func (w *Watch) ID() string { return w.id }

// Stopped reports whether the pods' controller and the services' informer
// have stopped.
func (w *Watch) Stopped() bool {
	select {
	case <-w.podsDone:
		return w.svcs.IsStopped()
	default:
		return false
	}
}

// lister is the part of a typed client an informer needs.
type lister[L runtime.Object] interface {
	List(context.Context, meta.ListOptions) (L, error)
	Watch(context.Context, meta.ListOptions) (kwatch.Interface, error)
}

// listWatch lists and watches through c in every namespace, with selector
// (if any) as the label selector. Like client-go's informer factory, it
// tells the reflector whether client can stream lists.
func listWatch[L runtime.Object](client kubernetes.Interface, c lister[L], selector string) cache.ListerWatcher {
	return cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o meta.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			return c.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o meta.ListOptions) (kwatch.Interface, error) {
			o.LabelSelector = selector
			return c.Watch(ctx, o)
		},
	}, client)
}

// watchError logs a failed list or watch once per distinct message, so a
// missing permission says so in one line, not one per retry. The reflector
// retries a refused connection without calling it: reach logs outages.
func (w *Watch) watchError(resource string) cache.WatchErrorHandler {
	var last string
	return func(_ *cache.Reflector, err error) {
		if msg := err.Error(); msg != last {
			last = msg
			log.Warningf("watch %s of %s: %v", w.id, resource, err)
		}
	}
}
