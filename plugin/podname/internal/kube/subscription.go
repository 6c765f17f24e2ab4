package kube

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
)

// PodHandler takes one change to a watch's pods: old is nil for an
// addition, cur for a deletion, and both are the store's one copy (see
// Pod). It runs in the watch's goroutine under the store's lock, so it must
// not block nor call back into the watch.
type PodHandler func(old, cur *Pod)

// ServiceHandler takes one change to a watch's Services, as PodHandler.
type ServiceHandler func(old, cur *Service)

// Subscription is one stanza's hold on a watch's changes.
type Subscription struct {
	w    *Watch
	pods *PodSub
	svcs cache.ResourceEventHandlerRegistration
}

// Subscribe replays the pods and Services the watch holds to the handlers,
// as additions, and then hands them every change until Cancel.
func (w *Watch) Subscribe(pods PodHandler, svcs ServiceHandler) (*Subscription, error) {
	sub := &Subscription{w: w, pods: w.pods.Subscribe(pods)}
	reg, err := w.svcs.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { svcs(nil, asService(obj)) },
		UpdateFunc: func(old, cur any) { svcs(asService(old), asService(cur)) },
		DeleteFunc: func(obj any) { svcs(asService(obj), nil) },
	})
	if err != nil {
		w.pods.Unsubscribe(sub.pods)
		return nil, fmt.Errorf("watch %s: subscribe to services: %w", w.id, err)
	}
	sub.svcs = reg
	return sub, nil
}

// WaitSynced waits until the watch has listed pods and Services and the
// handlers have had the lists, or stop is closed; it reports which. A
// synced subscription marks the watch as current in the metrics.
func (s *Subscription) WaitSynced(stop <-chan struct{}) bool {
	checkers := append(s.w.syncedCheckers(), s.pods.HasSyncedChecker(), s.svcs.HasSyncedChecker())
	if !cache.WaitFor(wait.ContextForChannel(stop), "", checkers...) {
		return false
	}
	s.w.stats.delivered()
	return true
}

// Cancel stops the handlers; no pod change reaches them once it returns.
func (s *Subscription) Cancel() error {
	s.w.pods.Unsubscribe(s.pods)
	if err := s.w.svcs.RemoveEventHandler(s.svcs); err != nil {
		return fmt.Errorf("watch %s: unsubscribe from services: %w", s.w.id, err)
	}
	return nil
}

// asService unwraps what an informer hands a handler into a projection.
func asService(obj any) *Service {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	s, _ := obj.(*Service)
	return s
}
