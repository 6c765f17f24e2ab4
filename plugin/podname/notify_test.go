package podname

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/podname/podname/plugin/podname/internal/kube"
	"github.com/podname/podname/plugin/podname/internal/podtest"
)

// fakeSecondaries records each NOTIFY sent, by zone, and can hold them.
type fakeSecondaries struct {
	sent    chan string
	release chan struct{} // closed: answer at once
	err     error
}

func newFakeSecondaries() *fakeSecondaries {
	f := &fakeSecondaries{sent: make(chan string, 1000), release: make(chan struct{})}
	close(f.release)
	return f
}

func (f *fakeSecondaries) Notify(zone string) error {
	<-f.release
	f.sent <- zone
	return f.err
}

// next returns the next zone notified, failing after a while.
func (f *fakeSecondaries) next(t *testing.T) string {
	t.Helper()
	select {
	case z := <-f.sent:
		return z
	case <-time.After(10 * time.Second):
		t.Fatal("no NOTIFY sent")
		return ""
	}
}

// changed marks zone and wakes the notifier, as a change of one zone does.
func changed(n *notifier, zone string) {
	n.mark(zone)
	n.wake()
}

func notifying(f *fakeSecondaries, interval time.Duration) *zoneSet {
	s := newZoneSet([]string{zone, "in-addr.arpa."}, nil)
	s.notify = newNotifier(f.Notify, interval)
	s.startNotify()
	return s
}

// TestNotifyCoalesced: a burst of changes within the interval sends one
// NOTIFY at once and at most one more when the interval is over.
func TestNotifyCoalesced(t *testing.T) {
	f := newFakeSecondaries()
	s := notifying(f, 50*time.Millisecond)
	for range 100 {
		changed(s.notify, zone)
	}
	if z := f.next(t); z != zone {
		t.Fatalf("NOTIFY for %s, want %s", z, zone)
	}
	s.notify.mu.Lock()
	trailing := len(s.notify.dirty) > 0 // changes after the first round took its zones
	s.notify.mu.Unlock()
	if trailing {
		if z := f.next(t); z != zone {
			t.Fatalf("NOTIFY for %s, want %s", z, zone)
		}
	}
	s.stopNotify()
	if n := len(f.sent); n != 0 {
		t.Fatalf("%d more NOTIFYs for a burst of 100 changes", n)
	}
}

// TestNotifyInterval: within the interval, changes wait for its end, one
// NOTIFY per zone; stopping does not wait for the interval.
func TestNotifyInterval(t *testing.T) {
	f := newFakeSecondaries()
	s := notifying(f, time.Hour)
	changed(s.notify, zone)
	f.next(t)
	changed(s.notify, zone)
	changed(s.notify, "in-addr.arpa.")
	changed(s.notify, zone)
	stopped := make(chan struct{})
	go func() {
		s.stopNotify()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("stopping waited for the interval")
	}
	if n := len(f.sent); n != 0 {
		t.Fatalf("%d NOTIFYs sent within the interval", n)
	}
	if !slices.Equal(s.notify.take(), []string{zone, "in-addr.arpa."}) {
		t.Fatal("the changes in the interval are not one pending NOTIFY per zone")
	}
}

// TestNotifyNeverBlocksEvents: with a secondary that does not answer,
// changes are marked at once, and the round under way ends the goroutine
// when the secondary lets go.
func TestNotifyNeverBlocksEvents(t *testing.T) {
	f := &fakeSecondaries{sent: make(chan string, 1000), release: make(chan struct{}), err: errors.New("timed out")}
	s := notifying(f, time.Millisecond)
	marked := make(chan struct{})
	go func() {
		for range 10_000 {
			changed(s.notify, zone)
			changed(s.notify, "in-addr.arpa.")
		}
		close(marked)
	}()
	select {
	case <-marked:
	case <-time.After(10 * time.Second):
		t.Fatal("marking changes waited on a secondary")
	}
	close(f.release)
	s.stopNotify()
	if n := len(f.sent); n > 4 {
		t.Fatalf("%d NOTIFYs for two zones with one round held up", n)
	}
}

// TestNotifyOnChange: a stanza notifies the zones whose serial moves, and
// every zone once after its first list.
func TestNotifyOnChange(t *testing.T) {
	f := newFakeSecondaries()
	p := newTestPlugin(t, seedStanza, seedPods(), nil)
	p.zs.notify = newNotifier(f.Notify, time.Hour)
	p.zs.startNotify()
	defer p.zs.stopNotify()
	p.onPod(nil, kube.Project(podtest.Pod("default", "n-1", []string{"10.36.9.9"}, podtest.ResourceVersion(100))))
	got := []string{f.next(t), f.next(t)}
	slices.Sort(got)
	if !slices.Equal(got, []string{"in-addr.arpa.", zone}) {
		t.Fatalf("NOTIFYs for %v, want the forward zone and in-addr.arpa.", got)
	}

	client, podWatches := watchedClient()
	started := newFakeSecondaries()
	q := startedPlugin(t, client, podWatches, func(p *PodName) {
		p.Zones = []string{zone, "in-addr.arpa."}
		p.xfrOpts = defaultTransferOptions()
		p.xfrOpts.plugin = func() secondaries { return started }
	})
	got = []string{started.next(t), started.next(t)}
	slices.Sort(got)
	if !slices.Equal(got, []string{"in-addr.arpa.", zone}) {
		t.Fatalf("NOTIFYs after the first list for %v, want every zone", got)
	}
	if err := q.stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-q.zs.notify.done:
	default:
		t.Fatal("the NOTIFY goroutine outlived its stanza")
	}
}
