package podname

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
	d := 0
	if old.pod() != nil {
		d--
	}
	if cur.pod() != nil {
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
