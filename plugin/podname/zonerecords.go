package podname

import (
	"net/netip"

	"github.com/miekg/dns"
	"github.com/podname/podname/plugin/podname/index"
)

// rr returns the record of the index as z holds it: owner names and PTR
// targets lowercase, TTLs as the answers give them; nil when the record is
// not z's (another zone's, a name too long to ask for, a PTR in a zone the
// stanza splits finer, or a target too long to give).
func (p *PodName) rr(z *zoneState, r index.Record) dns.RR {
	if r.PTR != z.reverse {
		return nil
	}
	if r.PTR {
		if !z.prefix.Contains(r.IP) {
			return nil
		}
		owner, err := dns.ReverseAddr(r.IP.String())
		target := r.Name + "." + p.primary
		if _, ok := dns.IsDomainName(target); err != nil || !ok || matchZone(p.Zones, owner) != z.name {
			return nil
		}
		return &dns.PTR{Hdr: p.rrHeader(owner, dns.TypePTR), Ptr: target}
	}
	owner := r.Name + "." + z.name
	if _, ok := dns.IsDomainName(owner); !ok || matchZone(p.Zones, owner) != z.name {
		return nil
	}
	if r.IP.Is4() {
		return &dns.A{Hdr: p.rrHeader(owner, dns.TypeA), A: r.IP.AsSlice()}
	}
	return &dns.AAAA{Hdr: p.rrHeader(owner, dns.TypeAAAA), AAAA: r.IP.AsSlice()}
}

func (p *PodName) rrHeader(owner string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: owner, Rrtype: t, Class: dns.ClassINET, Ttl: p.ttl}
}

// inZone reports whether z holds a record of the index.
func (p *PodName) inZone(z *zoneState, r index.Record) bool { return p.rr(z, r) != nil }

// zonePrefix is the address range a reverse zone covers.
func zonePrefix(zone string) netip.Prefix {
	switch zone {
	case "in-addr.arpa.":
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	case "ip6.arpa.":
		return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
	}
	prefix, _ := reverseName(zone)
	return prefix
}
