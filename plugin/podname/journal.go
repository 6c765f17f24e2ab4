package podname

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/podname/podname/plugin/podname/index"
)

// journal keeps a zone's last serial steps for IXFR (RFC 1995), bounded by
// the records it holds and by their age; zoneSet.mu guards it.
type journal struct {
	max     int // records over all steps
	age     time.Duration
	steps   []*step // oldest first; each ends where the next begins
	records int
}

// step is one serial step: the records it removed from the zone and added.
// A step is never changed once in the journal, since a transfer may be
// sending it; merging replaces it.
type step struct {
	from, to uint32
	at       time.Time
	del, add []index.Record
}

func newJournal(records int, age time.Duration) *journal {
	return &journal{max: records, age: age}
}

// add appends a step; one too big for the journal empties it, so an IXFR
// from before it gets the whole zone, which is then the smaller answer.
func (j *journal) add(from, to uint32, del, add []index.Record, now time.Time) {
	s := &step{from: from, to: to, at: now, del: del, add: add}
	if size(s) > j.max {
		j.steps, j.records = nil, 0
		return
	}
	j.steps = append(j.steps, s)
	j.records += size(s)
	j.trim(now)
}

// merge folds a change into the last step, which ends at serial: the
// change completes the state serial stands for. Without such a step no
// transfer gave that state out from this journal, and none needs it.
func (j *journal) merge(serial uint32, del, add []index.Record, now time.Time) {
	if len(j.steps) == 0 || j.steps[len(j.steps)-1].to != serial {
		return
	}
	last := j.steps[len(j.steps)-1]
	s := condense([]*step{last, {from: last.to, to: last.to, del: del, add: add}})
	j.steps = j.steps[:len(j.steps)-1]
	j.records -= size(last)
	j.add(s.from, s.to, s.del, s.add, now)
}

// condense folds consecutive steps into one, from the first's start to the
// last's end, holding the net difference: a record added and then removed
// is in neither list, one removed and then added back too. RFC 1995 lets a
// server send that instead of every step, and it saves two SOAs a step.
func condense(steps []*step) *step {
	net := map[index.Record]int8{} // -1 removed from the first step's start, +1 added
	for _, s := range steps {
		for _, r := range s.del {
			if net[r] == 1 {
				delete(net, r) // added on the way: it was never there
			} else {
				net[r] = -1
			}
		}
		for _, r := range s.add {
			if net[r] == -1 {
				delete(net, r) // back as it was
			} else {
				net[r] = 1
			}
		}
	}
	last := steps[len(steps)-1]
	out := &step{from: steps[0].from, to: last.to, at: last.at}
	for r, n := range net {
		if n < 0 {
			out.del = append(out.del, r)
		} else {
			out.add = append(out.add, r)
		}
	}
	slices.SortFunc(out.del, recordOrder)
	slices.SortFunc(out.add, recordOrder)
	return out
}

// recordOrder is the order transfers send records in, stable for diffs.
func recordOrder(a, b index.Record) int {
	if a.PTR {
		return a.IP.Compare(b.IP)
	}
	return cmp.Or(strings.Compare(a.Name, b.Name), a.IP.Compare(b.IP))
}

// since returns the steps from serial to the current one, or nil when the
// journal does not hold serial (older than the journal, or never ours).
func (j *journal) since(serial uint32, now time.Time) []*step {
	j.trim(now)
	for i, s := range j.steps {
		if s.from == serial {
			return slices.Clone(j.steps[i:])
		}
	}
	return nil
}

// trim drops the oldest steps until the journal is within its bounds.
func (j *journal) trim(now time.Time) {
	n := 0
	for n < len(j.steps) && (j.records > j.max || now.Sub(j.steps[n].at) > j.age) {
		j.records -= size(j.steps[n])
		n++
	}
	// Step past the dropped steps rather than move the rest down at every
	// step of a full journal: append moves them once the array is full.
	clear(j.steps[:n])
	j.steps = j.steps[n:]
}

func size(s *step) int { return len(s.del) + len(s.add) }
