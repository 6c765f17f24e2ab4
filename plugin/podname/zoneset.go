package podname

import (
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/podname/podname/plugin/podname/index"
)

// A zone's serial is uint32 of a Kubernetes resource version (an etcd
// revision, one counter for the whole cluster): the version of the last
// event that changed the zone's records. A serial X means: once every event
// up to X is applied, the zone holds the cluster's state at X. Replicas
// that applied the same events hold the same records under the same
// serial; one that is behind has an older serial, which a secondary never
// takes for newer (RFC 1982); and a restart lists at a version no older
// than any event seen before, so the serial never goes backwards.

// serialNewer reports whether serial a is newer than b in RFC 1982
// arithmetic: ahead by less than half the number space, across the wrap.
func serialNewer(a, b uint32) bool {
	d := a - b
	return d != 0 && d < 1<<31
}

// zoneState is one zone of a stanza: its serial and what it holds.
type zoneState struct {
	name    string
	reverse bool
	prefix  netip.Prefix // of a reverse zone: the addresses inside it
	nested  bool         // another zone of the stanza lies inside it, and may take its names

	rv      uint64        // the resource version the records stand for; zoneSet.mu
	serial  atomic.Uint32 // uint32(rv), for ServeDNS without the lock
	served  atomic.Bool   // a transfer gave the records at rv out
	journal *journal      // the last steps, for IXFR; nil without the transfer plugin
}

// zoneSet is a stanza's zones and the events that move their serials.
type zoneSet struct {
	zones  []*zoneState
	byName map[string]*zoneState
	// inZone reports whether a record of the index belongs in a zone.
	inZone func(*zoneState, index.Record) bool
	// podsSynced and servicesSynced are the informers' last synced
	// resource versions, 0 without a watch.
	podsSynced, servicesSynced func() uint64
	now                        func() time.Time

	mu     sync.RWMutex
	newest uint64      // the newest resource version of any event handled
	listed bool        // the first list is in: changes are serial steps from now
	delta  index.Delta // a pod change's records, its room reused change after change

	notify *notifier // nil without the transfer plugin
}

func newZoneSet(names []string, inZone func(*zoneState, index.Record) bool) *zoneSet {
	s := &zoneSet{byName: map[string]*zoneState{}, inZone: inZone, podsSynced: noVersion, servicesSynced: noVersion, now: time.Now}
	for _, n := range names {
		z := &zoneState{name: n, reverse: isReverse(n), nested: nestedIn(names, n)}
		if z.reverse {
			z.prefix = zonePrefix(n)
		}
		s.zones = append(s.zones, z)
		s.byName[n] = z
	}
	return s
}

func noVersion() uint64 { return 0 }

// keepJournals gives every zone a journal for IXFR, before any change.
func (s *zoneSet) keepJournals(records int, age time.Duration) {
	if records == 0 {
		return // IXFR always sends the whole zone
	}
	for _, z := range s.zones {
		z.journal = newJournal(records, age)
	}
}

// versionOf returns the resource version an event's changes stand for, given the
// event's own (0 if unknown). A watch delivers events in version order, so
// an event no newer than one already seen was replayed by a list (a relist,
// a tombstone, a stanza joining a running watch) or comes from the other
// watch: it stands for the state the informer has synced to, which holds it.
func (s *zoneSet) versionOf(rv uint64, synced func() uint64) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rv > s.newest {
		s.newest = rv
		return rv
	}
	s.newest = max(s.newest, synced())
	return s.newest
}

// markListed marks the first list as in: every zone's records stand for the
// version the informers synced to, which is no older than anything a
// previous process served.
func (s *zoneSet) markListed() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.newest = max(s.newest, s.podsSynced(), s.servicesSynced())
	for _, z := range s.zones {
		z.rv = s.newest
		z.serial.Store(uint32(s.newest))
		if s.notify != nil {
			s.notify.mark(z.name) // secondaries learn a restart's serial at once
		}
	}
	if s.notify != nil {
		s.notify.wake()
	}
	s.listed = true
}

// recordChange records a change of the index's records, standing for resource
// version at, in the zones it touches; s.mu is held. It keeps neither
// list: a zone's journal gets copies of the zone's own records, and a zone
// without one, in a server block without the transfer plugin, needs only
// to know whether it changed.
func (s *zoneSet) recordChange(at uint64, removed, added []index.Record) {
	var now time.Time // the journals' clock
	moved := false
	for _, z := range s.zones {
		var del, add []index.Record
		if z.journal == nil {
			if !s.touches(z, removed) && !s.touches(z, added) {
				continue
			}
		} else {
			if del, add = s.filter(z, removed), s.filter(z, added); len(del)+len(add) == 0 {
				continue
			}
			if now.IsZero() {
				now = s.now()
			}
		}
		if z.advance(at, del, add, now) && s.notify != nil {
			s.notify.mark(z.name)
			moved = true
		}
	}
	if moved {
		s.notify.wake() // the zones of one change in one round
	}
}

func (s *zoneSet) touches(z *zoneState, recs []index.Record) bool {
	return slices.ContainsFunc(recs, func(r index.Record) bool { return s.inZone(z, r) })
}

func (s *zoneSet) filter(z *zoneState, recs []index.Record) []index.Record {
	var out []index.Record
	for _, r := range recs {
		if s.inZone(z, r) {
			out = append(out, r)
		}
	}
	return out
}

// advance moves the zone to resource version at after its records changed,
// and reports whether the serial moved. An older event (from a list, or the
// other watch) completes the state the zone's version stands for, so it
// keeps the serial unless a transfer gave that state out already: then it
// takes the next serial, so no two record sets go out under one serial.
func (z *zoneState) advance(at uint64, del, add []index.Record, now time.Time) bool {
	from := z.rv
	switch {
	case at > z.rv:
		z.rv = at
	case !z.served.Load():
		if z.journal != nil {
			z.journal.merge(uint32(z.rv), del, add, now)
		}
		return false
	default:
		z.rv++
	}
	if z.journal != nil {
		z.journal.add(uint32(from), uint32(z.rv), del, add, now)
	}
	z.served.Store(false)
	z.serial.Store(uint32(z.rv))
	if !serialNewer(uint32(z.rv), uint32(from)) {
		log.Warningf("zone %s: serial %d follows %d by 2^31 or more; secondaries take it for older until the next change (RFC 1982)",
			z.name, uint32(z.rv), uint32(from))
	}
	return true
}

// serial returns zone's serial, 0 before the first list.
func (p *PodName) serial(name string) uint32 {
	if p.zs == nil {
		return 0
	}
	if z := p.zs.byName[name]; z != nil {
		return z.serial.Load()
	}
	return 0
}
