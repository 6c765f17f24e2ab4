package podname

import (
	"maps"
	"time"

	"github.com/podname/podname/plugin/podname/index"
	"github.com/podname/podname/plugin/podname/internal/kube"
)

// startZones gives the stanza its zones' serials, fed by the shared watch,
// and with the transfer plugin in the server block their IXFR journals and
// NOTIFYs to the plugin's secondaries (sent once the stanza runs).
func (p *PodName) startZones(w *kube.Watch) {
	p.zs = newZoneSet(p.Zones, p.inZone)
	p.zs.podsSynced = w.PodsSynced
	p.zs.servicesSynced = w.ServicesSynced
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
	Version() uint64
}](old, cur P) uint64 {
	if cur != nil {
		return cur.Version()
	}
	if old != nil {
		return old.Version()
	}
	return 0
}

// onPod applies one pod event to the index and the zones' serials.
func (p *PodName) onPod(old, cur *kube.Pod) {
	at := p.zs.versionOf(eventRV(old, cur), p.zs.podsSynced)
	if old.Equal(cur) {
		return // a relist or resync that changed nothing we answer with
	}
	op, cp := old.Indexed(), cur.Indexed()
	for _, name := range p.applyPod(at, op, cp) {
		if win := p.idx.Host(name); win != nil {
			log.Warningf("several pods answer to %s.%s; %s/%s wins (list namespaces to choose)",
				name, p.primary, win.Namespace, win.Name)
		}
	}
	p.setConflicts()
	if op == nil && cp != nil && cur.ReadySince() > 0 && p.synced.Load() && p.idx.Wants(cp) {
		programming.Observe(max(0, time.Since(time.Unix(int64(cur.ReadySince()), 0)).Seconds()))
	}
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

// onService feeds the stanza's own copy of the Services' selectors: a
// change to <host>.<svc> names is then a step of the stanza's serials, made
// under the same lock as the records it changes.
func (p *PodName) onService(old, cur *kube.Service) {
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
