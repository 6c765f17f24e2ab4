package kube

import (
	"context"
	"sync"
	"time"

	"k8s.io/client-go/tools/cache"
)

// watchStats feeds the per-watch metrics from one handler of its own.
type watchStats struct {
	label string
	mu    sync.Mutex
	held  int
	gone  bool // forgotten: a late event must not bring the series back
}

func newWatchStats(label string) *watchStats { return &watchStats{label: label} }

// handler counts each change and the pods held.
func (s *watchStats) handler() PodHandler {
	return func(old, cur *Pod) {
		switch {
		case old == nil:
			s.event("add", old, cur)
		case cur == nil:
			s.event("delete", old, cur)
		default:
			s.event("update", old, cur)
		}
	}
}

func (s *watchStats) event(kind string, old, cur *Pod) {
	podEvents.WithLabelValues(kind).Inc()
	d := 0
	if old.Indexed() != nil {
		d--
	}
	if cur.Indexed() != nil {
		d++
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone {
		return
	}
	s.stamp()
	if d != 0 {
		s.held += d
		podsHeld.WithLabelValues(s.label).Set(float64(s.held))
	}
}

// delivered marks the watch as current.
func (s *watchStats) delivered() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.gone {
		s.stamp()
	}
}

// stamp sets the last sync time; s.mu is held.
func (s *watchStats) stamp() {
	lastSync.WithLabelValues(s.label).Set(float64(time.Now().UnixNano()) / 1e9)
}

// track marks the watch as current whenever its resource version moves,
// bookmarks included, so a quiet cluster does not look stale.
func (s *watchStats) track(ctx context.Context, pods cache.Controller) {
	t := time.NewTicker(trackEvery)
	defer t.Stop()
	last := ""
	for {
		select {
		case <-ctx.Done():
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

// forget deletes the watch's series for good.
func (s *watchStats) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gone = true
	podsHeld.DeleteLabelValues(s.label)
	lastSync.DeleteLabelValues(s.label)
}
