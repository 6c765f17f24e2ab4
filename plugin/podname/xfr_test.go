package podname

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"
	"github.com/coredns/coredns/plugin/transfer"

	"github.com/miekg/dns"
)

// transferred runs Transfer to its end and returns every record it sent.
func transferred(t testing.TB, p *PodName, zone string, serial uint32) []dns.RR {
	t.Helper()
	ch, err := p.Transfer(zone, serial)
	if err != nil {
		t.Fatalf("Transfer(%s, %d): %v", zone, serial, err)
	}
	var out []dns.RR
	for rrs := range ch {
		out = append(out, rrs...)
	}
	return out
}

// axfr checks the frame of a whole-zone transfer, SOA first and last at
// the zone's serial, and returns the records between.
func axfr(t testing.TB, p *PodName, zone string) []dns.RR {
	t.Helper()
	rrs := transferred(t, p, zone, 0)
	if len(rrs) < 2 {
		t.Fatalf("AXFR of %s: %d records", zone, len(rrs))
	}
	first, ok1 := rrs[0].(*dns.SOA)
	last, ok2 := rrs[len(rrs)-1].(*dns.SOA)
	if !ok1 || !ok2 || first.Serial != p.serial(zone) || last.Serial != first.Serial || first.Hdr.Name != zone {
		t.Fatalf("AXFR of %s: not framed by its SOA at serial %d: %v ... %v", zone, p.serial(zone), rrs[0], rrs[len(rrs)-1])
	}
	return rrs[1 : len(rrs)-1]
}

// rrKey is a record as text with its owner lowercased, for comparing sets.
func rrKey(rr dns.RR) string {
	c := dns.Copy(rr)
	c.Header().Name = strings.ToLower(c.Header().Name)
	return c.String()
}

func keys(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, rrKey(rr))
	}
	slices.Sort(out)
	return out
}

func answered(t *testing.T, p *PodName, name string, qtype uint16) *dns.Msg {
	t.Helper()
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	if _, err := p.ServeDNS(context.Background(), rec, new(dns.Msg).SetQuestion(name, qtype)); err != nil {
		t.Fatalf("ServeDNS %s %s: %v", name, dns.TypeToString[qtype], err)
	}
	return rec.Msg
}

// TestAXFRMatchesServeDNS: every RRset a transfer sends is what ServeDNS
// answers for that owner and type, and every answer ServeDNS gives from
// the seed's cases is in the transfer.
func TestAXFRMatchesServeDNS(t *testing.T) {
	p := newTestPlugin(t, seedStanza, seedPods(), seedServices())
	p.localIPs = []netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("2001:db8::53")}
	inZone := map[string]map[string]bool{} // zone -> record keys
	for _, z := range p.Zones {
		rrs := axfr(t, p, z)
		inZone[z] = map[string]bool{rrKey(p.soa(z, z, p.serial(z))): true} // axfr checked it
		sets := map[[2]string][]dns.RR{}
		for _, rr := range rrs {
			h := rr.Header()
			if h.Name != strings.ToLower(h.Name) {
				t.Errorf("%s: owner %s is not lowercase", z, h.Name)
			}
			if matchZone(p.Zones, h.Name) != z {
				t.Errorf("%s: %s belongs to another zone", z, h.Name)
			}
			k := [2]string{h.Name, dns.TypeToString[h.Rrtype]}
			sets[k] = append(sets[k], rr)
			inZone[z][rrKey(rr)] = true
		}
		for k, set := range sets {
			m := answered(t, p, k[0], dns.StringToType[k[1]])
			want := m.Answer
			if k[1] == "NS" {
				want = append(want, m.Extra...)
				set = append(set, sets[[2]string{"ns.dns." + z, "A"}]...)
				set = append(set, sets[[2]string{"ns.dns." + z, "AAAA"}]...)
			}
			if got, want := keys(set), keys(want); !slices.Equal(got, want) {
				t.Errorf("%s %s: transferred %v, ServeDNS answers %v", k[0], k[1], got, want)
			}
		}
		if len(sets[[2]string{"ns.dns." + z, "A"}]) != 1 || len(sets[[2]string{z, "NS"}]) != 1 {
			t.Errorf("%s: no NS with glue in %v", z, rrs)
		}
	}
	if n := len(inZone[zone]); n < 15 {
		t.Fatalf("the forward zone transferred %d records; the seed has more", n)
	}
	hits := 0
	for _, tc := range answerCases {
		z := matchZone(p.Zones, tc.Qname)
		if z == "" || tc.Qtype == dns.TypeANY {
			continue
		}
		m := answered(t, p, tc.Qname, tc.Qtype)
		for _, rr := range m.Answer {
			hits++
			if !inZone[z][rrKey(rr)] {
				t.Errorf("ServeDNS answers %s; the transfer of %s lacks it", rr, z)
			}
		}
		if len(m.Answer) == 0 {
			for k := range inZone[z] {
				if f := strings.Fields(k); f[0] == strings.ToLower(tc.Qname) && f[3] == dns.TypeToString[tc.Qtype] {
					t.Errorf("ServeDNS answers nothing for %s %s; the transfer has %s", tc.Qname, f[3], k)
				}
			}
		}
	}
	if hits < 20 {
		t.Fatalf("only %d answers from the seed's cases: the reverse check tested little", hits)
	}
}

func TestAXFRNarrowReverseZones(t *testing.T) {
	p := newTestPlugin(t, `podname mgmt.pix.yun.com 10.36.0.0/16 in-addr.arpa`, seedPods(), nil)
	narrow := keys(axfr(t, p, "36.10.in-addr.arpa."))
	wide := keys(axfr(t, p, "in-addr.arpa."))
	for _, want := range []string{"1.0.36.10.in-addr.arpa.\t5\tIN\tPTR\tws-777779bd59-ftn4j." + zone} {
		if !slices.Contains(narrow, want) || slices.Contains(wide, want) {
			t.Errorf("%s: want it in 36.10.in-addr.arpa. only;\nnarrow %v\nwide %v", want, narrow, wide)
		}
	}
	if !slices.Contains(wide, "5.0.32.10.in-addr.arpa.\t5\tIN\tPTR\tws-777779bd59-nnppt."+zone) {
		t.Errorf("10.32.0.5 is not in in-addr.arpa.: %v", wide)
	}
}

func TestTransferRefusesOtherZones(t *testing.T) {
	p := newTestPlugin(t, seedStanza, seedPods(), nil)
	for _, z := range []string{"example.org.", "ws." + zone, "36.10.in-addr.arpa.", "."} {
		if _, err := p.Transfer(z, 0); !errors.Is(err, transfer.ErrNotAuthoritative) {
			t.Errorf("Transfer(%s): %v, want ErrNotAuthoritative", z, err)
		}
	}
	p.zs.listed = false
	if _, err := p.Transfer(zone, 0); !errors.Is(err, errNotSynced) {
		t.Errorf("Transfer before the first list: %v, want errNotSynced", err)
	}
}

// TestIXFRUpToDate: a secondary at our serial, or at a newer one in RFC
// 1982 terms (across the wrap too), gets the lone SOA; an older one the zone.
func TestIXFRUpToDate(t *testing.T) {
	p := newTestPlugin(t, seedStanza, seedPods(), nil)
	z := p.zs.byName[zone]
	for _, tc := range []struct {
		ours, theirs uint32
		lone         bool
	}{
		{100, 100, true},
		{100, 101, true},
		{0xfffffff0, 5, true}, // theirs wrapped past ours
		{100, 99, false},
		{5, 0xfffffff0, false}, // ours wrapped past theirs
		{100, 100 + 1<<31, false},
	} {
		z.rv = uint64(tc.ours)
		z.served.Store(false)
		rrs := transferred(t, p, zone, tc.theirs)
		if lone := len(rrs) == 1; lone != tc.lone {
			t.Errorf("ours %d, theirs %d: %d records, want lone SOA %v", tc.ours, tc.theirs, len(rrs), tc.lone)
		}
		if soa := rrs[0].(*dns.SOA); soa.Serial != tc.ours {
			t.Errorf("ours %d: SOA serial %d", tc.ours, soa.Serial)
		}
		if z.served.Load() == tc.lone {
			t.Errorf("ours %d, theirs %d: served %v after sending the zone %v", tc.ours, tc.theirs, z.served.Load(), !tc.lone)
		}
	}
}
