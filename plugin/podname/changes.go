package podname

import (
	"fmt"
	"maps"

	"github.com/podname/podname/plugin/podname/index"
	"k8s.io/client-go/tools/cache"
)

// startZones gives the stanza its zones' serials, fed by the shared watch,
// and with the transfer plugin in the server block their IXFR journals and
// NOTIFYs to the plugin's secondaries (sent once the stanza runs).
func (p *PodName) startZones(w *watch) {
	p.zs = newZoneSet(p.Zones, p.inZone)
	p.zs.podsSynced = w.podsSynced
	p.zs.servicesSynced = func() uint64 { return parseRV(w.svcs.LastSyncResourceVersion()) }
	if p.xfrOpts.plugin == nil {
		return
	}
	if t := p.xfrOpts.plugin(); t != nil {
		p.zs.keepJournals(p.xfrOpts.journalRecords, p.xfrOpts.journalAge)
		p.zs.notify = newNotifier(t.Notify, p.xfrOpts.notifyInterval)
	}
}

// eventRV is the resource version an event carries, for pods and Services
// alike: the new version's, or for a deletion the final state's.
func eventRV[T any, P interface {
	*T
	version() uint64
}](old, cur P) uint64 {
	if cur != nil {
		return cur.version()
	}
	if old != nil {
		return old.version()
	}
	return 0
}

// applyPod puts a pod change into the index and, once the first list is in,
// into the serials of the zones whose records it changes.
func (p *PodName) applyPod(at uint64, old, cur *index.Pod) (shared []string) {
	p.zs.mu.Lock()
	defer p.zs.mu.Unlock()
	if !p.zs.listed {
		return p.idx.Update(old, cur) // the list's records need no steps
	}
	shared = p.idx.ApplyTo(&p.zs.delta, old, cur)
	p.zs.recordChange(at, p.zs.delta.Removed, p.zs.delta.Added)
	return shared
}

// serviceEvents feeds the stanza's own copy of the Services' selectors: a
// change to <host>.<svc> names is then a step of the stanza's serials, made
// under the same lock as the records it changes.
func (p *PodName) serviceEvents() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { p.onService(nil, asService(obj)) },
		UpdateFunc: func(old, cur any) { p.onService(asService(old), asService(cur)) },
		DeleteFunc: func(obj any) { p.onService(asService(obj), nil) },
	}
}

func (p *PodName) onService(old, cur *serviceObject) {
	at := p.zs.versionOf(eventRV(old, cur), p.zs.servicesSynced)
	if old != nil && cur != nil && maps.Equal(old.Selector, cur.Selector) {
		return // nothing <host>.<svc> depends on changed
	}
	p.zs.mu.Lock()
	defer p.zs.mu.Unlock()
	switch {
	case !p.zs.listed && cur != nil:
		p.idx.Services().Set(cur.Namespace, cur.Name, cur.Selector)
	case !p.zs.listed && old != nil:
		p.idx.Services().Delete(old.Namespace, old.Name)
	case cur != nil:
		removed, added := p.idx.SetService(cur.Namespace, cur.Name, cur.Selector)
		p.zs.recordChange(at, removed, added)
	case old != nil:
		removed, added := p.idx.DeleteService(old.Namespace, old.Name)
		p.zs.recordChange(at, removed, added)
	}
}

// asService unwraps what an informer hands a handler into a projection.
func asService(obj any) *serviceObject {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	s, _ := obj.(*serviceObject)
	return s
}

// subscribeServices adds a stanza's Service handler; the informer replays
// the Services it holds.
func (w *watch) subscribeServices(h cache.ResourceEventHandler) (cache.ResourceEventHandlerRegistration, error) {
	reg, err := w.svcs.AddEventHandler(h)
	if err != nil {
		return nil, fmt.Errorf("watch %s: subscribe to services: %w", w.key, err)
	}
	return reg, nil
}

func (w *watch) unsubscribeServices(reg cache.ResourceEventHandlerRegistration) error {
	if err := w.svcs.RemoveEventHandler(reg); err != nil {
		return fmt.Errorf("watch %s: unsubscribe from services: %w", w.key, err)
	}
	return nil
}
