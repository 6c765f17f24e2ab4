package podname

import (
	"slices"
	"sync"
	"time"
)

// notifier sends a NOTIFY (RFC 1996) for each zone whose serial moved, at
// most one round per interval, from a goroutine of its own: the transfer
// plugin's Notify waits on every secondary in turn (three tries of two
// seconds each), and the watch must never wait on a secondary.
type notifier struct {
	send     func(zone string) error
	interval time.Duration

	mu     sync.Mutex
	dirty  []string          // zones changed since the last round, in order
	failed map[string]string // each zone's last error, to log a down secondary once

	kick chan struct{} // one pending wake-up is enough
	stop chan struct{}
	done chan struct{}
}

func newNotifier(send func(zone string) error, interval time.Duration) *notifier {
	return &notifier{
		send: send, interval: interval, failed: map[string]string{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// mark adds zone to the next round without starting it: the zones one
// change moves are marked first, then woken once, so they go in one round.
func (n *notifier) mark(zone string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !slices.Contains(n.dirty, zone) {
		n.dirty = append(n.dirty, zone)
	}
}

// wake starts a round for the zones marked; it never blocks.
func (n *notifier) wake() {
	select {
	case n.kick <- struct{}{}:
	default:
	}
}

// run sends a round as soon as a zone changes after a quiet interval, and
// the changes of a burst in one more round an interval later.
func (n *notifier) run() {
	defer close(n.done)
	var last time.Time
	for {
		select {
		case <-n.stop:
			return
		case <-n.kick:
		}
		if wait := time.Until(last.Add(n.interval)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-n.stop:
				t.Stop()
				return
			case <-t.C:
			}
		}
		last = time.Now()
		for _, zone := range n.take() {
			n.notify(zone)
			select {
			case <-n.stop:
				return
			default:
			}
		}
	}
}

func (n *notifier) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	zones := n.dirty
	n.dirty = nil
	return zones
}

func (n *notifier) notify(zone string) {
	err := n.send(zone)
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	switch was := n.failed[zone]; {
	case msg != "" && msg != was:
		log.Warningf("NOTIFY for zone %s: %v", zone, err)
	case msg == "" && was != "":
		log.Infof("NOTIFY for zone %s delivered again", zone)
	}
	n.failed[zone] = msg
}

// startNotify starts the zones' NOTIFYs, if they send any.
func (s *zoneSet) startNotify() {
	if s.notify != nil {
		go s.notify.run()
	}
}

// stopNotify stops them and waits until none is under way, so that none
// outlives the stanza.
func (s *zoneSet) stopNotify() {
	if s.notify != nil {
		close(s.notify.stop)
		<-s.notify.done
	}
}
