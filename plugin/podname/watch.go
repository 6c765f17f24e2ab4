package podname

import (
	"fmt"
	"sync"
	"time"

	"github.com/podname/podname/plugin/podname/index"

	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// watch is one shared watch of Pods (filtered by labels) and of Services.
// Stanzas with the same connection and labels share it; it lives while any
// stanza holds it, so a reload that keeps it does not relist.
type watch struct {
	key      string
	pods     cache.SharedIndexInformer
	svcs     cache.SharedIndexInformer
	services *index.Services
	stats    *watchStats
	statsReg cache.ResourceEventHandlerRegistration
	svcReg   cache.ResourceEventHandlerRegistration
	stop     chan struct{}
	refs     int // guarded by watches.mu
}

// watches holds the live watches by key.
var watches = struct {
	mu sync.Mutex
	m  map[string]*watch
}{m: map[string]*watch{}}

// acquireWatch returns the running watch for key, starting it on first use.
func acquireWatch(key string, client kubernetes.Interface, selector string) (*watch, error) {
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

// watchSynced reports whether the watch for key runs and has listed both
// pods and services once.
func watchSynced(key string) bool {
	watches.mu.Lock()
	w := watches.m[key]
	watches.mu.Unlock()
	return w != nil && w.synced()
}

// synced reports whether pods and services are listed and the listed pods
// are counted in the metrics, so /ready and /metrics agree.
func (w *watch) synced() bool {
	for _, c := range w.syncedCheckers() {
		if !cache.IsDone(c) {
			return false
		}
	}
	return true
}

// syncedCheckers are what synced waits on, in the form cache.WaitFor takes.
func (w *watch) syncedCheckers() []cache.DoneChecker {
	return []cache.DoneChecker{w.svcReg.HasSyncedChecker(), w.statsReg.HasSyncedChecker()}
}

// release drops one reference and stops the watch with the last.
func (w *watch) release() {
	watches.mu.Lock()
	defer watches.mu.Unlock()
	if w.refs--; w.refs > 0 {
		return
	}
	delete(watches.m, w.key)
	close(w.stop)
	w.stats.forget()
}

func startWatch(key string, client kubernetes.Interface, selector string) (*watch, error) {
	// No resync (0): projections carry no resourceVersion, and client-go
	// treats an update whose versions match as a resync, which it delivers
	// only to handlers that asked for resyncs. With none asked, every
	// handler is a syncing one and gets every update.
	podFactory := informers.NewSharedInformerFactoryWithOptions(client, 0,
		informers.WithTweakListOptions(func(o *meta.ListOptions) { o.LabelSelector = selector }))
	svcFactory := informers.NewSharedInformerFactory(client, 0)
	w := &watch{
		key:      key,
		pods:     podFactory.Core().V1().Pods().Informer(),
		svcs:     svcFactory.Core().V1().Services().Informer(),
		services: index.NewServices(),
		stats:    newWatchStats(key),
		stop:     make(chan struct{}),
	}
	for _, step := range []func() error{
		func() error { return w.pods.SetTransform(reusingProjections(w.pods.GetStore())) },
		func() error { return w.svcs.SetTransform(projectService) },
		func() error { return w.pods.SetWatchErrorHandler(w.watchError("pods")) },
		func() error { return w.svcs.SetWatchErrorHandler(w.watchError("services")) },
	} {
		if err := step(); err != nil {
			return nil, fmt.Errorf("set up watch %s: %w", key, err)
		}
	}
	statsReg, err := w.pods.AddEventHandler(w.stats.handler())
	if err != nil {
		return nil, fmt.Errorf("watch %s: count pods: %w", key, err)
	}
	w.statsReg = statsReg
	reg, err := w.svcs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    w.setService,
		UpdateFunc: func(_, cur any) { w.setService(cur) },
		DeleteFunc: w.deleteService,
	})
	if err != nil {
		return nil, fmt.Errorf("watch %s: index services: %w", key, err)
	}
	w.svcReg = reg
	// The series exist from the start: a dashboard sees 0, not "no data".
	podsHeld.WithLabelValues(key).Set(0)
	go w.pods.Run(w.stop)
	go w.svcs.Run(w.stop)
	go w.stats.track(w.pods, w.stop)
	return w, nil
}

// watchError logs a failed list or watch once per distinct message, so a
// missing permission says so in one line, not one per retry. The reflector
// retries a refused connection without calling it: reach logs outages.
func (w *watch) watchError(resource string) cache.WatchErrorHandler {
	var last string
	return func(_ *cache.Reflector, err error) {
		if msg := err.Error(); msg != last {
			last = msg
			log.Warningf("watch of %s (%s): %v", resource, w.key, err)
		}
	}
}

func (w *watch) setService(obj any) {
	if s, ok := obj.(*serviceObject); ok {
		w.services.Set(s.Namespace, s.Name, s.Selector)
	}
}

func (w *watch) deleteService(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if s, ok := obj.(*serviceObject); ok {
		w.services.Delete(s.Namespace, s.Name)
	}
}

// subscribe adds a stanza's handler; the informer replays the pods it holds.
func (w *watch) subscribe(h cache.ResourceEventHandler) (cache.ResourceEventHandlerRegistration, error) {
	reg, err := w.pods.AddEventHandler(h)
	if err != nil {
		return nil, fmt.Errorf("watch %s: subscribe: %w", w.key, err)
	}
	return reg, nil
}

func (w *watch) unsubscribe(reg cache.ResourceEventHandlerRegistration) error {
	if err := w.pods.RemoveEventHandler(reg); err != nil {
		return fmt.Errorf("watch %s: unsubscribe: %w", w.key, err)
	}
	return nil
}

// asPod unwraps what an informer hands a handler into a projection.
func asPod(obj any) *podObject {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	o, _ := obj.(*podObject)
	return o
}

// watchStats feeds the per-watch metrics from one handler of its own.
type watchStats struct {
	label string
	mu    sync.Mutex
	held  int
}

func newWatchStats(key string) *watchStats { return &watchStats{label: key} }

func (s *watchStats) handler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			s.event("add", nil, asPod(obj))
		},
		UpdateFunc: func(old, cur any) {
			s.event("update", asPod(old), asPod(cur))
		},
		DeleteFunc: func(obj any) {
			s.event("delete", asPod(obj), nil)
		},
	}
}

func (s *watchStats) event(kind string, old, cur *podObject) {
	podEvents.WithLabelValues(kind).Inc()
	s.delivered()
	d := 0
	if old.pod() != nil {
		d--
	}
	if cur.pod() != nil {
		d++
	}
	if d == 0 {
		return
	}
	s.mu.Lock()
	s.held += d
	podsHeld.WithLabelValues(s.label).Set(float64(s.held))
	s.mu.Unlock()
}

func (s *watchStats) delivered() {
	lastSync.WithLabelValues(s.label).Set(float64(time.Now().UnixNano()) / 1e9)
}

// track marks the watch as current whenever its resource version moves,
// bookmarks included, so a quiet cluster does not look stale.
func (s *watchStats) track(pods cache.SharedIndexInformer, stop <-chan struct{}) {
	t := time.NewTicker(trackEvery)
	defer t.Stop()
	last := ""
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if rv := pods.LastSyncResourceVersion(); rv != last {
				last = rv
				s.delivered()
			}
		}
	}
}

// trackEvery is how often track looks at the resource version.
const trackEvery = 5 * time.Second

func (s *watchStats) forget() {
	podsHeld.DeleteLabelValues(s.label)
	lastSync.DeleteLabelValues(s.label)
}
