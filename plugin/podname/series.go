package podname

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// zoneSeries counts, per label value, the running stanzas whose per-zone
// series carry it. In a reload the new instance starts before the old one
// stops, so a zone both serve keeps its series through it, and a zone that
// no stanza serves any more loses them.
var zoneSeries = struct {
	mu        sync.Mutex
	conflicts map[string]int // by first forward zone
	requests  map[string]int // by zone
	// releases counts the stanzas released, under mu: a stanza that wrote
	// a zone's conflicts last may be gone, so the others write theirs again.
	releases atomic.Uint64
}{conflicts: map[string]int{}, requests: map[string]int{}}

// holdSeries counts p among the owners of its zones' series.
func (p *PodName) holdSeries() {
	zoneSeries.mu.Lock()
	defer zoneSeries.mu.Unlock()
	p.released = false
	p.published.Store(0) // the gauge may be gone: the first count is written
	zoneSeries.conflicts[p.primary]++
	for _, z := range p.Zones {
		zoneSeries.requests[z]++
	}
}

// releaseSeries drops p's hold, and deletes the series of each zone no
// running stanza holds any more. It is safe to call more than once.
func (p *PodName) releaseSeries() {
	zoneSeries.mu.Lock()
	defer zoneSeries.mu.Unlock()
	if p.released {
		return
	}
	p.released = true
	zoneSeries.releases.Add(1)
	if drop(zoneSeries.conflicts, p.primary) {
		conflicts.DeleteLabelValues(p.primary)
	}
	for _, z := range p.Zones {
		if drop(zoneSeries.requests, z) {
			requests.DeletePartialMatch(prometheus.Labels{"zone": z})
		}
	}
}

// drop takes one owner of key away and says whether it was the last.
func drop(owners map[string]int, key string) bool {
	if owners[key]--; owners[key] > 0 {
		return false
	}
	delete(owners, key)
	return true
}

// setConflicts publishes the index's conflicts in p's zone when they
// changed since p last did, or a stanza was released since: most events
// change none, and they then take no lock and write no gauge. Not after p
// has stopped: an event still in flight then must not bring back a series
// deleted with the zone's last stanza; releaseSeries sets p.released under
// the lock a write takes.
func (p *PodName) setConflicts() {
	if int64(p.idx.Conflicts())+1 == p.published.Load() && zoneSeries.releases.Load() == p.publishedAt.Load() {
		return
	}
	zoneSeries.mu.Lock()
	defer zoneSeries.mu.Unlock()
	if p.released {
		return
	}
	// Read again under the lock: of two events racing here, the last to
	// write sets the count that is the newest.
	n := p.idx.Conflicts()
	conflicts.WithLabelValues(p.primary).Set(float64(n))
	p.published.Store(int64(n) + 1)
	p.publishedAt.Store(zoneSeries.releases.Load())
}
