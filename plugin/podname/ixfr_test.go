package podname

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/podname/podname/plugin/podname/internal/kube"
	"github.com/podname/podname/plugin/podname/internal/podtest"
	api "k8s.io/api/core/v1"
)

// zoneAt is a zone's records, without its SOA, at one serial.
type zoneAt struct {
	serial uint32
	rrs    map[string]bool
}

func axfrAt(t testing.TB, p *PodName, zone string) zoneAt {
	t.Helper()
	z := zoneAt{serial: p.serial(zone), rrs: map[string]bool{}}
	for _, rr := range axfr(t, p, zone) {
		z.rrs[rrKey(rr)] = true
	}
	return z
}

// applyIXFR applies a transfer answering an IXFR from base.serial, in any
// of its forms: the lone SOA, the differences (RFC 1995), or the whole zone.
// It checks the form as a secondary would: SOAs chained from base's serial
// to the new one, no deletion of a record not there, no addition of one
// that is.
func applyIXFR(t testing.TB, base zoneAt, rrs []dns.RR) (zoneAt, bool) {
	t.Helper()
	head, ok := rrs[0].(*dns.SOA)
	if !ok {
		t.Fatalf("IXFR answer starts with %v", rrs[0])
	}
	out := zoneAt{serial: head.Serial, rrs: maps.Clone(base.rrs)}
	if len(rrs) == 1 {
		return out, true
	}
	if tail, ok := rrs[len(rrs)-1].(*dns.SOA); !ok || tail.Serial != head.Serial {
		t.Fatalf("IXFR answer ends with %v, not the SOA at %d", rrs[len(rrs)-1], head.Serial)
	}
	if _, ok := rrs[1].(*dns.SOA); !ok { // the whole zone
		out.rrs = map[string]bool{}
		for _, rr := range rrs[1 : len(rrs)-1] {
			out.rrs[rrKey(rr)] = true
		}
		return out, false
	}
	deleting, at := false, base.serial
	for _, rr := range rrs[1 : len(rrs)-1] {
		if soa, ok := rr.(*dns.SOA); ok {
			if deleting = !deleting; deleting && soa.Serial != at {
				t.Fatalf("IXFR step from %d follows the step to %d", soa.Serial, at)
			}
			at = soa.Serial
			continue
		}
		k := rrKey(rr)
		if deleting == !out.rrs[k] {
			t.Fatalf("IXFR from %d: deleting %v is %v, but the record is there: %v", base.serial, rr, deleting, out.rrs[k])
		}
		if deleting {
			delete(out.rrs, k)
		} else {
			out.rrs[k] = true
		}
	}
	if deleting || at != head.Serial {
		t.Fatalf("IXFR from %d ends at step serial %d, deleting %v; want %d", base.serial, at, deleting, head.Serial)
	}
	return out, true
}

// checkIXFR: an IXFR from each earlier state, applied to it, gives the
// zone as an AXFR gives it now; it reports how many were differences.
func checkIXFR(t testing.TB, p *PodName, zone string, history []zoneAt) (incremental int) {
	t.Helper()
	now := axfrAt(t, p, zone)
	for _, h := range history {
		got, inc := applyIXFR(t, h, transferred(t, p, zone, h.serial))
		if got.serial != now.serial || !maps.Equal(got.rrs, now.rrs) {
			t.Fatalf("IXFR of %s from %d gives serial %d, records\n%v\nAXFR gives %d,\n%v",
				zone, h.serial, got.serial, slices.Sorted(maps.Keys(got.rrs)), now.serial, slices.Sorted(maps.Keys(now.rrs)))
		}
		if inc && len(got.rrs) > 0 && h.serial != now.serial {
			incremental++
		}
	}
	return incremental
}

// TestIXFRMatchesAXFRDiff: the differences an IXFR sends from any earlier
// serial turn that serial's AXFR into today's.
func TestIXFRMatchesAXFRDiff(t *testing.T) {
	pods := seedPods()
	for _, pod := range pods {
		podtest.ResourceVersion(10)(pod) // serial 0 would ask for an AXFR
	}
	p := newTestPlugin(t, seedStanza, pods, seedServices())
	p.zs.keepJournals(defaultJournalRecords, time.Hour)
	history := map[string][]zoneAt{}
	snapshot := func() {
		for _, z := range p.Zones {
			history[z] = append(history[z], axfrAt(t, p, z))
		}
	}
	snapshot()
	held := map[string]*kube.Pod{}
	pod := func(rv int, name string, ips []string, opts ...podtest.PodOpt) {
		cur := kube.Project(podtest.Pod("default", name, ips, append(opts, podtest.ResourceVersion(rv))...))
		if ips == nil {
			cur = nil
		}
		p.onPod(held[name], cur)
		held[name] = cur
	}
	pod(100, "n-1", []string{"10.36.1.1"})
	snapshot()
	pod(101, "n-2", []string{"10.36.1.2", "fd00::1:2"}, podtest.Hostname("web")) // loses web to an older pod
	pod(102, "n-1", []string{"10.36.1.3"})
	snapshot()
	p.onService(nil, serviceAt("default", "db", map[string]string{"app": "ws"}, 103))
	pod(104, "n-2", nil)
	snapshot()
	// a relist: older versions, merged into one step, then one after a transfer
	pod(50, "n-3", []string{"10.36.1.4"})
	pod(51, "n-4", []string{"10.36.1.5"})
	snapshot()
	pod(52, "n-3", []string{"fd00::1:4"})
	pod(105, "n-1", []string{"10.36.1.3"}, podtest.Labels(map[string]string{"app": "db"}))
	incremental := 0
	for _, z := range p.Zones {
		incremental += checkIXFR(t, p, z, history[z])
	}
	if incremental < 8 {
		t.Fatalf("only %d IXFRs were answered with differences", incremental)
	}
}

// TestIXFRJournalBounds: a serial the journal no longer holds, dropped for
// size or for age, gets the whole zone.
func TestIXFRJournalBounds(t *testing.T) {
	p := newTestPlugin(t, `podname mgmt.pix.yun.com`, []*api.Pod{podtest.Pod("default", "seed", []string{"10.0.0.1"}, podtest.ResourceVersion(10))}, nil)
	p.zs.keepJournals(4, time.Minute)
	now := time.Unix(1000, 0)
	p.zs.now = func() time.Time { return now }
	add := func(rv int) zoneAt {
		before := axfrAt(t, p, zone)
		p.onPod(nil, kube.Project(podtest.Pod("default", fmt.Sprintf("n-%d", rv), []string{fmt.Sprintf("10.0.0.%d", rv)}, podtest.ResourceVersion(rv))))
		return before
	}
	first, second := add(11), add(12)
	third := add(13)
	whole := func(base zoneAt) bool {
		_, inc := applyIXFR(t, base, transferred(t, p, zone, base.serial))
		return !inc
	}
	if whole(first) || whole(second) || whole(third) {
		t.Fatal("three one-record steps fit a journal of 4 records")
	}
	fourth := add(14)
	add(15)
	if !whole(first) || whole(second) {
		t.Fatal("over 4 records: the oldest serial must get the zone, the next the differences")
	}
	now = now.Add(2 * time.Minute)
	if !whole(fourth) {
		t.Fatal("a serial older than the journal's age must get the zone")
	}
	checkIXFR(t, p, zone, []zoneAt{first, fourth})
}

// TestIXFRLargeZone: an IXFR after 50 changes in a large zone carries the
// changes, not the zone.
func TestIXFRLargeZone(t *testing.T) {
	pods := make([]*api.Pod, largeZone)
	for i := range pods {
		pods[i] = churnPod(i, 0)
		podtest.ResourceVersion(500)(pods[i])
	}
	p := newTestPlugin(t, `podname mgmt.pix.yun.com in-addr.arpa`, pods, nil)
	p.zs.keepJournals(defaultJournalRecords, time.Hour)
	base := map[string]zoneAt{}
	for _, z := range p.Zones {
		base[z] = axfrAt(t, p, z)
	}
	for n := 1; n <= 50; n++ {
		old, cur := kube.Project(churnPod(n-1, n-1)), kube.Project(churnPod(n-1, n)).At(1000+uint64(n))
		p.onPod(old, cur)
	}
	for _, z := range p.Zones {
		rrs := transferred(t, p, z, base[z].serial)
		// the steps condensed into one: four SOAs, then per change the old record and the new one
		if len(rrs) != 4+50*2 {
			t.Errorf("IXFR of %s after 50 changes sent %d records, want %d", z, len(rrs), 4+50*2)
		}
		if checkIXFR(t, p, z, []zoneAt{base[z]}) != 1 {
			t.Errorf("IXFR of %s was not answered with differences", z)
		}
	}
}
