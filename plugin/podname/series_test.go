package podname

import (
	"context"
	"testing"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	"github.com/podname/podname/plugin/podname/internal/kube"
	"github.com/podname/podname/plugin/podname/internal/podtest"
	"github.com/prometheus/client_golang/prometheus/testutil"
	api "k8s.io/api/core/v1"
)

// TestZoneSeriesOutliveReload: in a reload the new stanza starts before the
// old one stops. The old one's stop must leave the zone's series to the new
// one; the last stanza of the zone takes them away, and an event still in
// flight after that does not bring them back.
func TestZoneSeriesOutliveReload(t *testing.T) {
	client, podWatches := watchedClient(
		podtest.Pod("default", "ws-1", []string{"10.36.0.1"}),
		podtest.Pod("team-b", "ws-1", []string{"10.40.0.1"}),
	)
	// A zone of its own: other tests leave series of theirs behind.
	const zone = "series.example."
	old := startedPlugin(t, client, podWatches, func(p *PodName) { p.Zones, p.primary = []string{zone}, zone })
	next := &PodName{Zones: old.Zones, primary: old.primary, ttl: old.ttl, client: client, conn: old.conn}
	if err := next.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = next.stop() })
	<-next.syncedCh
	if next.w != old.w {
		t.Fatal("the new stanza does not share the old one's watch")
	}
	ask := func(p *PodName) {
		t.Helper()
		rec := dnstest.NewRecorder(&test.ResponseWriter{})
		if _, err := p.ServeDNS(context.Background(), rec, new(dns.Msg).SetQuestion("ws-1."+zone, dns.TypeA)); err != nil {
			t.Fatal(err)
		}
	}
	ask(old)
	series := func() (conflicts, requests int) {
		return seriesWith(t, "coredns_podname_conflicts", "zone", zone), seriesWith(t, "coredns_podname_requests_total", "zone", zone)
	}
	if c, r := series(); c != 1 || r != 1 {
		t.Fatalf("%d conflicts and %d requests_total series of %s while it is served, want 1 each", c, r, zone)
	}
	if err := old.stop(); err != nil {
		t.Fatal(err)
	}
	if c, r := series(); c != 1 || r != 1 {
		t.Fatalf("%d conflicts and %d requests_total series of %s after the old stanza stopped, want 1 each: the new one still serves it", c, r, zone)
	}
	ask(next)
	if err := next.stop(); err != nil {
		t.Fatal(err)
	}
	// As an event in flight when the stanza stopped would: one that leaves
	// the conflicts as they were, and one that changes them.
	next.setConflicts()
	next.idx.Update(kube.Project(podtest.Pod("team-b", "ws-1", []string{"10.40.0.1"})).Indexed(), nil)
	if next.idx.Conflicts() != 0 {
		t.Fatalf("%d conflicts after ws-1 of team-b went, want 0", next.idx.Conflicts())
	}
	next.setConflicts()
	if c, r := series(); c != 0 || r != 0 {
		t.Fatalf("%d conflicts and %d requests_total series of %s after its last stanza stopped, want none", c, r, zone)
	}
}

// TestConflictsAfterRelease: a stanza writes the conflicts gauge only when
// its count changes, so when another stanza of the zone that wrote last
// stops, the one left writes its own count again at its next event.
func TestConflictsAfterRelease(t *testing.T) {
	const zone = "handover.example."
	p := newTestPlugin(t, "podname "+zone, []*api.Pod{podtest.Pod("default", "ws-1", []string{"10.36.0.1"})}, nil)
	other := &PodName{Zones: p.Zones, primary: p.primary}
	p.holdSeries()
	other.holdSeries()
	t.Cleanup(p.releaseSeries)
	p.setConflicts()
	conflicts.WithLabelValues(zone).Set(7) // as other would, with other namespaces
	other.releaseSeries()
	p.onPod(nil, kube.Project(podtest.Pod("default", "ws-2", []string{"10.36.0.2"}))) // no new conflict
	if got := testutil.ToFloat64(conflicts.WithLabelValues(zone)); got != 0 {
		t.Fatalf("coredns_podname_conflicts{zone=%q} = %v after the other stanza stopped, want 0, the one left's", zone, got)
	}
}
