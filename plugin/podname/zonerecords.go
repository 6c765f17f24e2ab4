package podname

import (
	"net/netip"
	"strings"

	"github.com/podname/podname/plugin/podname/index"
)

// inZone reports whether z holds a record of the index, as rr does; for
// plain names, nearly every record's, without building one, since every
// pod event asks it of every zone.
func (p *PodName) inZone(z *zoneState, r index.Record) bool {
	if r.PTR != z.reverse {
		return false
	}
	if held, sure := p.holds(z, r); sure {
		return held
	}
	return p.rr(z, r) != nil
}

// holds is rr's verdict where it is sure of it without the names: they are
// plain and no zone of the stanza lies inside z to take them.
func (p *PodName) holds(z *zoneState, r index.Record) (held, sure bool) {
	if r.PTR && !z.prefix.Contains(r.IP) {
		return false, true
	}
	if z.nested {
		return false, false
	}
	if !r.PTR {
		return true, plainOwner(r.Name, z.name)
	}
	// ReverseAddr names r.IP below z, which z.prefix, read from z's labels,
	// holds; not so for an IPv4 address in IPv6 form, named below in-addr.arpa.
	if r.IP.Is4In6() || r.IP.Zone() != "" {
		return false, false
	}
	return true, plainOwner(r.Name, p.primary)
}

// nestedIn reports whether another of zones may hold names below zone,
// and so take them from it.
func nestedIn(zones []string, zone string) bool {
	for _, o := range zones {
		if o != zone && len(o) >= len(zone) && strings.EqualFold(o[len(o)-len(zone):], zone) {
			return true
		}
	}
	return false
}

// plainOwner reports whether name + "." + zone is a domain name made of
// letters, digits, hyphens and underscores, far from the length limit, so
// that dns.IsDomainName takes it and no dot in it is escaped.
func plainOwner(name, zone string) bool {
	return strings.HasSuffix(zone, ".") && len(name)+1+len(zone) <= 250 &&
		plainLabels(name) && plainLabels(zone[:len(zone)-1])
}

func plainLabels(name string) bool {
	label := 0
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c == '.':
			if label == 0 {
				return false
			}
			label = 0
		case c == '-' || c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9':
			if label++; label > 63 {
				return false
			}
		default:
			return false
		}
	}
	return label > 0
}

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
