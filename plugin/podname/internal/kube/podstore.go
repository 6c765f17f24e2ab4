package kube

import (
	"errors"
	"sync"
	"sync/atomic"

	api "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// PodStore holds a watch's pods and hands each change to the stanzas
// subscribed, as client-go's reflector delivers it: the reflector lists and
// watches into it directly (it is the controller's queue, and nothing is
// ever queued). A shared informer would keep, beside each projection, a
// "namespace/name" key string, a map entry for it, and a slot in each
// handler's buffer, none of which ever shrink; this store keys its maps by
// the projection's own strings.
//
// Handlers run in the reflector's goroutine, under the store's lock, so a
// subscriber's replay of the held pods and the live events never cross, and
// no event reaches a handler after unsubscribe returns. A handler must not
// block, nor call back into the store.
type PodStore struct {
	mu   sync.RWMutex
	pods map[string]map[string]*Pod // namespace, then name
	n    int
	// listed is the mark-and-sweep parity bit of relists: every put
	// gives a pod the current mark, a Replace flips it before putting its
	// list, and the pods left with the old mark were not listed and are
	// removed. Between relists, every held pod carries the current mark.
	listed bool
	// listedRV is the resourceVersion of the latest Replace's list. What
	// a Replace hands the stanzas stands for it, but the reflector records
	// it as synced only once Replace has returned: see watch.podsSynced.
	listedRV atomic.Uint64
	subs     map[*PodSub]struct{}

	synced    chan struct{} // closed by the first Replace
	closed    chan struct{} // closed by Close
	closeOnce sync.Once
}

func NewPodStore() *PodStore {
	return &PodStore{
		pods:   map[string]map[string]*Pod{},
		subs:   map[*PodSub]struct{}{},
		synced: make(chan struct{}),
		closed: make(chan struct{}),
	}
}

// PodSub is a subscription: its handler gets every change after the replay
// of what the store held when it subscribed.
type PodSub struct {
	h     PodHandler
	store *PodStore
}

// HasSynced implements cache.ResourceEventHandlerRegistration: the replay is
// delivered before subscribe returns, so a subscription is synced once the
// store is.
func (s *PodSub) HasSynced() bool { return s.store.HasSynced() }

// HasSyncedChecker implements cache.ResourceEventHandlerRegistration.
func (s *PodSub) HasSyncedChecker() cache.DoneChecker { return s.store.HasSyncedChecker() }

// Subscribe replays the held pods to h, as additions, and then passes it
// every change.
func (s *PodStore) Subscribe(h PodHandler) *PodSub {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, names := range s.pods {
		for _, o := range names {
			h(nil, o)
		}
	}
	sub := &PodSub{h: h, store: s}
	s.subs[sub] = struct{}{}
	return sub
}

// Unsubscribe stops sub's events; none is delivered once it returns.
func (s *PodStore) Unsubscribe(sub *PodSub) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.subs, sub)
}

// errNotPod is what the store returns for an object that is not a pod.
var errNotPod = errors.New("pod store: not a pod")

// projection is what the store keeps of obj: the decoder's projection as it
// is, or a whole Pod's.
func projection(obj any) (*Pod, error) {
	switch p := obj.(type) {
	case *Pod:
		return p, nil
	case *api.Pod:
		return Project(p), nil
	}
	return nil, errNotPod
}

// Transformer implements cache.TransformingStore: the watch-list's temporary
// store then holds projections, not whole Pods, until Replace.
func (s *PodStore) Transformer() cache.TransformFunc {
	return func(obj any) (any, error) {
		if p, ok := obj.(*api.Pod); ok {
			return Project(p), nil
		}
		return obj, nil
	}
}

// Add implements cache.ReflectorStore.
func (s *PodStore) Add(obj any) error { return s.Update(obj) }

// Update implements cache.ReflectorStore.
func (s *PodStore) Update(obj any) error {
	o, err := projection(obj)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(o)
	return nil
}

// put holds o and tells the subscribers. A version that answers as the
// held one does is dropped: the held one takes its resource version and
// readiness time, and the subscribers get the held one as both old and
// new. What a handler is given is always what the store holds, so the
// index and the store share one copy of each pod, across relists too.
func (s *PodStore) put(o *Pod) {
	names := s.pods[o.Namespace]
	if names == nil {
		names = map[string]*Pod{}
		s.pods[o.Namespace] = names
	}
	o.listed = s.listed
	prev := names[o.Name]
	switch {
	case prev == nil:
		names[o.Name] = o
		s.n++
		for sub := range s.subs {
			sub.h(nil, o)
		}
		return
	case prev.Equal(o):
		if prev != o {
			prev.rv, prev.readySince, prev.listed = max(prev.rv, o.rv), o.readySince, o.listed
			o = prev
		}
	default:
		names[o.Name] = o
	}
	for sub := range s.subs {
		sub.h(prev, o)
	}
}

// Delete implements cache.ReflectorStore. The subscribers get the held
// projection, with the deletion's resource version: the final state a
// deletion carries may no longer be indexable (a deletionTimestamp), and
// the index must drop what it holds.
func (s *PodStore) Delete(obj any) error {
	o, err := projection(obj)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.pods[o.Namespace][o.Name]
	if prev == nil {
		return nil
	}
	s.remove(prev.At(max(prev.rv, o.rv)))
	return nil
}

// remove drops a held pod and tells the subscribers; s.mu is held.
func (s *PodStore) remove(gone *Pod) {
	names := s.pods[gone.Namespace]
	delete(names, gone.Name)
	if len(names) == 0 {
		delete(s.pods, gone.Namespace)
	}
	s.n--
	for sub := range s.subs {
		sub.h(gone, nil)
	}
}

// Replace implements cache.ReflectorStore: a list's pods are put in turn,
// and those held but not listed are deleted, found by their mark (see
// PodStore.listed) rather than with a set of the listed.
func (s *PodStore) Replace(list []any, rv string) error {
	// Every item is projected before any is put: a list that fails
	// leaves the store as it was, every pod with the same mark.
	for i, obj := range list {
		o, err := projection(obj)
		if err != nil {
			return err
		}
		list[i] = o
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := parseRV(rv); v > s.listedRV.Load() {
		s.listedRV.Store(v)
	}
	initial := !s.HasSynced()
	s.listed = !s.listed
	for _, obj := range list {
		s.put(obj.(*Pod))
	}
	for _, names := range s.pods {
		for _, o := range names {
			if o.listed != s.listed {
				s.remove(o)
			}
		}
	}
	if initial {
		close(s.synced)
	}
	return nil
}

// Resync implements cache.ReflectorStore: there is no resync period.
func (s *PodStore) Resync() error { return nil }

// Pop implements cache.Queue: nothing is queued, so it waits for Close.
func (s *PodStore) Pop(cache.PopProcessFunc) (any, error) {
	<-s.closed
	return nil, cache.ErrFIFOClosed
}

// Close implements cache.Queue.
func (s *PodStore) Close() { s.closeOnce.Do(func() { close(s.closed) }) }

// HasSynced implements cache.Queue: the first list is in.
func (s *PodStore) HasSynced() bool {
	select {
	case <-s.synced:
		return true
	default:
		return false
	}
}

// HasSyncedChecker implements cache.Queue.
func (s *PodStore) HasSyncedChecker() cache.DoneChecker { return s }

// Name implements cache.DoneChecker.
func (s *PodStore) Name() string { return "pods" }

// Done implements cache.DoneChecker.
func (s *PodStore) Done() <-chan struct{} { return s.synced }

// atVersion returns the held projection of namespace/name if it is at
// resourceVersion rv (not 0), else nil; s may be nil. The decoder asks it:
// a pod is the same at the same version, so a relist's unchanged pods need
// not be projected again. The strings may be views of a message.
func (s *PodStore) atVersion(namespace, name string, rv uint64) *Pod {
	if s == nil || rv == 0 {
		return nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if o := s.pods[namespace][name]; o != nil && o.rv == rv {
		return o
	}
	return nil
}
