package podname

import (
	"errors"
	"fmt"
	"slices"

	"github.com/coredns/coredns/plugin/transfer"

	"github.com/miekg/dns"
	"github.com/podname/podname/plugin/podname/index"
)

var errNotSynced = errors.New("the first list from the API server is not in yet")

// Transfer implements transfer.Transferer for every zone of the stanza.
// Serial 0 asks for the whole zone (AXFR); another serial for what changed
// since (IXFR): a lone SOA when the serial is ours or newer (RFC 1982), the
// journal's steps from it when it holds them, else the whole zone. It is
// reached only through the transfer plugin, whose `to` list and the tsig
// plugin decide who may ask.
func (p *PodName) Transfer(zone string, serial uint32) (<-chan []dns.RR, error) {
	if !slices.Contains(p.Zones, zone) {
		return nil, transfer.ErrNotAuthoritative
	}
	if p.zs == nil || p.idx == nil {
		return nil, fmt.Errorf("podname: transfer of %s: %w", zone, errNotStarted)
	}
	x, err := p.snapshot(p.zs.byName[zone], serial)
	if err != nil {
		return nil, fmt.Errorf("podname: transfer of %s: %w", zone, err)
	}
	ch := make(chan []dns.RR)
	go func() {
		defer close(ch)
		x.send(ch)
	}()
	return ch, nil
}

// xfr is what one transfer sends, taken at one serial.
type xfr struct {
	p    *PodName
	z    *zoneState
	soa  *dns.SOA
	full bool           // the whole zone
	recs []index.Record // the whole zone's records, not yet converted
	step *step          // else the difference from the secondary's serial, if any
}

// snapshot takes what a transfer from serial sends, under the lock that
// changes take, so the records are the ones the serial stands for.
func (p *PodName) snapshot(z *zoneState, serial uint32) (*xfr, error) {
	p.zs.mu.RLock()
	defer p.zs.mu.RUnlock()
	if !p.zs.listed {
		return nil, errNotSynced
	}
	cur := uint32(z.rv)
	x := &xfr{p: p, z: z, soa: p.soa(z.name, z.name, cur)}
	if serial != 0 && (serial == cur || serialNewer(serial, cur)) {
		return x, nil // half the number space away is neither: send the zone
	}
	z.served.Store(true)
	if serial != 0 && z.journal != nil {
		if steps := z.journal.since(serial, p.zs.now()); steps != nil {
			x.step = condense(steps)
			return x, nil
		}
	}
	x.full = true
	add := func(r index.Record) { x.recs = append(x.recs, r) }
	if z.reverse {
		p.idx.Pointers(z.prefix, add)
	} else {
		p.idx.Addresses(add)
	}
	return x, nil
}

// batch is how many records go to the transfer plugin at a time; it packs
// them into messages of up to 64 KB itself.
const batch = 500

// send writes the transfer to ch; the transfer plugin reads ch to its end
// even when the client goes away, so send never blocks for good.
func (x *xfr) send(ch chan<- []dns.RR) {
	ch <- []dns.RR{x.soa}
	switch {
	case x.full:
		apex, glue := x.p.ns(x.z.name, x.z.name)
		ch <- append(apex, glue...)
		slices.SortFunc(x.recs, recordOrder)
		x.sendRecords(ch, x.recs)
	case x.step != nil: // RFC 1995: the old SOA, removals, the new SOA, additions
		ch <- []dns.RR{x.p.soa(x.z.name, x.z.name, x.step.from)}
		x.sendRecords(ch, x.step.del)
		ch <- []dns.RR{x.p.soa(x.z.name, x.z.name, x.step.to)}
		x.sendRecords(ch, x.step.add)
	default:
		return // up to date: the lone SOA
	}
	ch <- []dns.RR{x.soa}
}

// sendRecords converts records to the zone's RRs and sends them.
func (x *xfr) sendRecords(ch chan<- []dns.RR, recs []index.Record) {
	out := make([]dns.RR, 0, min(batch, len(recs)))
	for _, r := range recs {
		rr := x.p.rr(x.z, r)
		if rr == nil {
			continue
		}
		if out = append(out, rr); len(out) == batch {
			ch <- out
			out = make([]dns.RR, 0, batch)
		}
	}
	if len(out) > 0 {
		ch <- out
	}
}

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
