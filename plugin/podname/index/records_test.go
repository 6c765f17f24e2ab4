package index

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

var everyIP = [...]netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}

// allRecords is every record the index answers, as a set.
func allRecords(x *Index) map[Record]bool {
	out := map[Record]bool{}
	add := func(r Record) {
		if out[r] {
			panic(fmt.Sprintf("record %v given twice", r))
		}
		out[r] = true
	}
	x.Addresses(add)
	for _, p := range everyIP {
		x.Pointers(p, add)
	}
	return out
}

// randomPod is a pod from a small universe, so that names, IPs and
// Services collide often.
func randomPod(r *rand.Rand) *Pod {
	ns := []string{"a", "b"}[r.IntN(2)]
	name := []string{"ws-0", "ws-1", "a.b", "web", "dns", "ns.dns", "x.ws", "ns"}[r.IntN(8)]
	p := pod(ns, name, int64(r.IntN(3)))
	p.Host = []string{"", "", "web", "ws-0", "x"}[r.IntN(5)]
	if p.Host == p.Name {
		p.Host = ""
	}
	for _, ip := range []string{"10.0.0.1", "10.0.0.2", "10.1.0.3", "fd00::1", "fd00::2"} {
		if r.IntN(3) == 0 {
			p.IPs = append(p.IPs, netip.MustParseAddr(ip))
		}
	}
	if len(p.IPs) == 0 {
		p.IPs = []netip.Addr{netip.MustParseAddr("10.0.0.1")}
	}
	p.Labels = MakeLabels(map[string]string{"app": []string{"ws", "web"}[r.IntN(2)]})
	p.HostNetwork = r.IntN(8) == 0
	return p
}

// TestApplyDelta: the records ApplyTo reports as removed and added are the
// difference between every record the index answers before and after, also
// with a fresh Delta and when one Delta takes change after change.
func TestApplyDelta(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x, _ := newIndex(Options{HostNetwork: true})
	held := map[string]*Pod{}
	var reused Delta
	for step := range 3000 {
		before := allRecords(x)
		var removed, added []Record
		what := ""
		switch r.IntN(10) {
		case 0, 1: // a Service changes
			ns, svc := []string{"a", "b"}[r.IntN(2)], []string{"ws", "b", "dns", "x"}[r.IntN(4)]
			if r.IntN(3) == 0 {
				what = "delete service " + ns + "/" + svc
				removed, added = x.DeleteService(ns, svc)
			} else {
				sel := map[string]string{"app": []string{"ws", "web"}[r.IntN(2)]}
				what = fmt.Sprintf("set service %s/%s %v", ns, svc, sel)
				removed, added = x.SetService(ns, svc, sel)
			}
		default:
			cur := randomPod(r)
			key := cur.Namespace + "/" + cur.Name
			old := held[key]
			if old != nil && r.IntN(3) == 0 {
				cur = nil
			}
			what = fmt.Sprintf("pod %s: %v -> %v", key, old, cur)
			if step%2 == 0 {
				var fresh Delta
				x.ApplyTo(&fresh, old, cur)
				removed, added = fresh.Removed, fresh.Added
			} else { // the same Delta each time, as a zone set keeps it
				x.ApplyTo(&reused, old, cur)
				removed, added = reused.Removed, reused.Added
			}
			if cur == nil {
				delete(held, key)
			} else {
				held[key] = cur
			}
		}
		after := allRecords(x)
		want := map[Record]bool{}
		for rec := range before {
			want[rec] = true
		}
		for _, rec := range removed {
			if !want[rec] {
				t.Fatalf("step %d (%s): removed %v, which was not there", step, what, rec)
			}
			delete(want, rec)
		}
		for _, rec := range added {
			if want[rec] {
				t.Fatalf("step %d (%s): added %v, which was there", step, what, rec)
			}
			want[rec] = true
		}
		if !mapsEqual(want, after) {
			t.Fatalf("step %d (%s): before %v\n- %v + %v\n!= after %v", step, what, before, removed, added, after)
		}
		checkAgainstLookups(t, x, after)
	}
	if len(held) == 0 {
		t.Fatal("the sequence left no pod: it tested little")
	}
}

// checkAgainstLookups: every record is what Host, HostIn and PTR give, and
// every name Host answers to has its records.
func checkAgainstLookups(t *testing.T, x *Index, recs map[Record]bool) {
	t.Helper()
	for rec := range recs {
		if rec.PTR {
			if name, _ := x.PTR(rec.IP); name != rec.Name {
				t.Fatalf("record %v, PTR gives %q", rec, name)
			}
			continue
		}
		p := x.Host(rec.Name)
		if i := strings.LastIndexByte(rec.Name, '.'); p == nil && i > 0 {
			p = x.HostIn(rec.Name[:i], rec.Name[i+1:])
		}
		if p == nil || !slices.Contains(p.IPs, rec.IP) || reserved(rec.Name) {
			t.Fatalf("record %v, lookups give %v", rec, p)
		}
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	for name, p := range x.names.win {
		for _, ip := range p.IPs {
			if !reserved(name) && !recs[Record{Name: name, IP: ip}] {
				t.Fatalf("%s answers %s, no record says so", name, ip)
			}
		}
	}
}

func mapsEqual(a, b map[Record]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func TestRecordsOfSeed(t *testing.T) {
	x, svcs := newIndex(Options{})
	svcs.Set("default", "ws", map[string]string{"app": "ws"})
	a := pod("default", "ws-0", 1, "10.0.0.1", "fd00::1")
	a.Host = "web"
	x.Update(nil, a)
	x.Update(nil, pod("default", "dns", 1, "10.0.0.2"))
	x.Update(nil, pod("default", "x.ws", 1, "10.0.0.3"))
	got := allRecords(x)
	want := map[Record]bool{}
	for _, r := range []Record{
		{Name: "ws-0", IP: a.IPs[0]}, {Name: "ws-0", IP: a.IPs[1]},
		{Name: "web", IP: a.IPs[0]}, {Name: "web", IP: a.IPs[1]},
		{Name: "ws-0.ws", IP: a.IPs[0]}, {Name: "ws-0.ws", IP: a.IPs[1]},
		{Name: "web.ws", IP: a.IPs[0]}, {Name: "web.ws", IP: a.IPs[1]},
		{Name: "web", IP: a.IPs[0], PTR: true}, {Name: "web", IP: a.IPs[1], PTR: true},
		// the pod named dns answers to nothing: the name is the server's
		{Name: "dns.ws", IP: netip.MustParseAddr("10.0.0.2")},
		{Name: "dns", IP: netip.MustParseAddr("10.0.0.2"), PTR: true},
		// x.ws is a pod's own name, so it is not read as <host>.<svc>
		{Name: "x.ws", IP: netip.MustParseAddr("10.0.0.3")},
		{Name: "x.ws.ws", IP: netip.MustParseAddr("10.0.0.3")},
		{Name: "x.ws", IP: netip.MustParseAddr("10.0.0.3"), PTR: true},
	} {
		want[r] = true
	}
	if !mapsEqual(got, want) {
		t.Fatalf("records %v\nwant %v", got, want)
	}
	var in24 []Record
	x.Pointers(netip.MustParsePrefix("10.0.0.0/30"), func(r Record) { in24 = append(in24, r) })
	if len(in24) != 3 {
		t.Fatalf("PTRs in 10.0.0.0/30: %v, want 10.0.0.1, .2, .3", in24)
	}
}
