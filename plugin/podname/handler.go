package podname

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/metrics"

	"github.com/miekg/dns"
)

// ServeDNS implements plugin.Handler.
func (p *PodName) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	if len(r.Question) == 0 {
		return plugin.NextOrFailure(p.Name(), p.Next, ctx, w, r)
	}
	q := r.Question[0]
	zone := matchZone(p.Zones, q.Name)
	if zone == "" {
		return plugin.NextOrFailure(p.Name(), p.Next, ctx, w, r)
	}
	switch {
	case q.Qclass != dns.ClassINET && q.Qclass != dns.ClassANY:
		return dns.RcodeRefused, nil
	case q.Qtype == dns.TypeAXFR || q.Qtype == dns.TypeIXFR:
		return dns.RcodeRefused, nil // transfers go through the transfer plugin, which runs first
	case p.idx == nil:
		return dns.RcodeServerFailure, errNotStarted
	}

	a := answer{p: p, q: q, zone: zone, zoneInQuery: q.Name[len(q.Name)-len(zone):]}
	res := a.lookup()
	if res == nxdomain {
		switch {
		case p.Fall.Through(q.Name):
			res = fellThrough
		case !p.synced.Load():
			res = servfail
		}
	}
	p.counters.inc(counterKey{metrics.WithServer(ctx), zone, metrics.WithView(ctx), res})

	m := new(dns.Msg)
	switch res {
	case fellThrough:
		return plugin.NextOrFailure(p.Name(), p.Next, ctx, w, r)
	case hit:
		m.SetReply(r)
		m.Answer, m.Extra = a.answer, a.extra
	case nodata:
		m.SetReply(r)
		m.Ns = []dns.RR{a.soa()}
	case nxdomain:
		m.SetRcode(r, dns.RcodeNameError)
		m.Ns = []dns.RR{a.soa()}
	case servfail:
		m.SetRcode(r, dns.RcodeServerFailure)
		m.Ns = []dns.RR{a.soa()}
	}
	m.Authoritative = true
	if err := w.WriteMsg(m); err != nil {
		return dns.RcodeSuccess, fmt.Errorf("podname: write reply: %w", err)
	}
	return dns.RcodeSuccess, nil
}

// answer works out the reply to one question in one zone.
type answer struct {
	p           *PodName
	q           dns.Question
	zone        string // lowercase
	zoneInQuery string // the zone as the query spells it

	answer, extra []dns.RR
}

// lookup fills the answer and says which kind of reply it is; nxdomain
// still has to pass the fallthrough and before-sync rules.
func (a *answer) lookup() result {
	rel := a.q.Name[:len(a.q.Name)-len(a.zone)]
	if rel == "" {
		return a.apex()
	}
	rel = strings.ToLower(rel[:len(rel)-1])
	if strings.IndexByte(rel, '\\') >= 0 {
		return nxdomain // an escaped character never names a pod
	}
	switch rel {
	case "ns.dns":
		return a.addresses(a.p.localIPs)
	case "dns":
		return nodata
	}
	if isReverse(a.zone) {
		return a.reverse(rel + "." + a.zone)
	}
	return a.forward(rel)
}

func (a *answer) apex() result {
	switch a.q.Qtype {
	case dns.TypeSOA, dns.TypeANY:
		a.answer = []dns.RR{a.soa()}
	case dns.TypeNS:
		a.answer, a.extra = a.ns()
	default:
		return nodata
	}
	return hit
}

func (a *answer) forward(rel string) result {
	idx := a.p.idx
	pod := idx.Host(rel)
	if pod == nil {
		if i := strings.LastIndexByte(rel, '.'); i > 0 {
			pod = idx.HostIn(rel[:i], rel[i+1:])
		}
	}
	if pod != nil {
		return a.addresses(pod.IPs)
	}
	if idx.HasBelow(rel) {
		return nodata
	}
	return nxdomain
}

func (a *answer) reverse(name string) result {
	prefix, ok := reverseName(name)
	if !ok {
		return nxdomain
	}
	if !prefix.IsSingleIP() {
		if a.p.idx.HasReverseBelow(prefix) {
			return nodata
		}
		return nxdomain
	}
	host, _ := a.p.idx.PTR(prefix.Addr())
	if host == "" {
		return nxdomain
	}
	target := host + "." + a.p.primary
	if _, ok := dns.IsDomainName(target); !ok {
		return nxdomain // the name does not fit in the zone
	}
	switch a.q.Qtype {
	case dns.TypePTR, dns.TypeANY:
		a.answer = []dns.RR{&dns.PTR{Hdr: a.hdr(dns.TypePTR), Ptr: target}}
		return hit
	}
	return nodata
}

// addresses answers A, AAAA or ANY from ips; another type is NODATA.
func (a *answer) addresses(ips []netip.Addr) result {
	want4, want6 := false, false
	switch a.q.Qtype {
	case dns.TypeA:
		want4 = true
	case dns.TypeAAAA:
		want6 = true
	case dns.TypeANY:
		want4, want6 = true, true
	default:
		return nodata
	}
	n := 0
	for _, ip := range ips {
		if (ip.Is4() && want4) || (ip.Is6() && want6) {
			n++
		}
	}
	if n == 0 {
		return nodata
	}
	a.answer = make([]dns.RR, 0, n)
	for _, ip := range ips {
		switch {
		case ip.Is4() && want4:
			a.answer = append(a.answer, &dns.A{Hdr: a.hdr(dns.TypeA), A: ip.AsSlice()})
		case ip.Is6() && want6:
			a.answer = append(a.answer, &dns.AAAA{Hdr: a.hdr(dns.TypeAAAA), AAAA: ip.AsSlice()})
		}
	}
	return hit
}

func (a *answer) hdr(t uint16) dns.RR_Header {
	return dns.RR_Header{Name: a.q.Name, Rrtype: t, Class: dns.ClassINET, Ttl: a.p.ttl}
}

func (a *answer) soa() dns.RR { return a.p.soa(a.zoneInQuery, a.zone, a.p.serial(a.zone)) }

// soa is built as plugin.SOA builds it, with the zone's serial.
func (p *PodName) soa(owner, zone string, serial uint32) *dns.SOA {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: owner, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: min(p.ttl, 300)},
		Ns:      "ns.dns." + zone,
		Mbox:    "hostmaster." + zone,
		Serial:  serial,
		Refresh: 7200,
		Retry:   1800,
		Expire:  86400,
		Minttl:  p.ttl,
	}
}

func (a *answer) ns() (answer, extra []dns.RR) { return a.p.ns(a.q.Name, a.zone) }

// ns is the apex NS record, ns.dns.<zone>, with the server's addresses as glue.
func (p *PodName) ns(owner, zone string) (answer, extra []dns.RR) {
	target := "ns.dns." + zone
	answer = []dns.RR{&dns.NS{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: p.ttl}, Ns: target}}
	for _, ip := range p.localIPs {
		h := dns.RR_Header{Name: target, Class: dns.ClassINET, Ttl: p.ttl}
		if ip.Is4() {
			h.Rrtype = dns.TypeA
			extra = append(extra, &dns.A{Hdr: h, A: ip.AsSlice()})
			continue
		}
		h.Rrtype = dns.TypeAAAA
		extra = append(extra, &dns.AAAA{Hdr: h, AAAA: ip.AsSlice()})
	}
	return answer, extra
}
