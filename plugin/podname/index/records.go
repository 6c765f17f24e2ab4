package index

import (
	"net/netip"
	"strings"
)

// Record is one record the index answers with, relative to its zone: an
// address of Name (A or AAAA by the IP's family), or, with PTR, the reverse
// name of IP pointing to Name.
type Record struct {
	// Name is the owner below a forward zone, or the PTR's target below the
	// first forward zone.
	Name string
	IP   netip.Addr
	PTR  bool
}

// reserved reports whether a name is the server's own whatever pod has it:
// ns.dns answers the server's addresses and dns is an empty non-terminal.
func reserved(name string) bool { return name == "dns" || name == "ns.dns" }

// Addresses calls f with every address record the index answers: the
// winner of each name, and <host>.<svc> for the pod that wins <host> among
// a Service's pods unless a pod answers to that whole name. It holds the
// read lock throughout, so f sees one state; f must not call x.
func (x *Index) Addresses(f func(Record)) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for name, p := range x.names.win {
		if !reserved(name) {
			emit(name, p.IPs, f)
		}
	}
	var done []string // Services already answered for the name at hand
	for name, win := range x.names.win {
		holders := x.names.more[name]
		if holders == nil {
			holders = []*Pod{win}
		}
		done = done[:0]
		for _, p := range holders { // best first: the first member wins
			if p.HostNetwork {
				continue
			}
			x.svcs.selecting(p, func(svc string) {
				for _, d := range done {
					if d == svc {
						return
					}
				}
				done = append(done, svc)
				if owner := name + "." + svc; x.names.win[owner] == nil && !reserved(owner) {
					emit(owner, p.IPs, f)
				}
			})
		}
	}
}

// Pointers calls f with every PTR record of an IP inside prefix, under the
// read lock as Addresses does.
func (x *Index) Pointers(prefix netip.Prefix, f func(Record)) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for ip, p := range x.ips.win {
		if !prefix.Contains(ip) {
			continue
		}
		if name := x.ptrName(p); name != "" {
			f(Record{Name: name, IP: ip, PTR: true})
		}
	}
}

// answer returns the addresses owner answers with, read as the DNS handler
// reads a name: a pod's name first, else <host>.<svc>; x.mu is held.
func (x *Index) answer(owner string) []netip.Addr {
	if reserved(owner) {
		return nil
	}
	if p := x.names.win[owner]; p != nil {
		return p.IPs
	}
	if i := strings.LastIndexByte(owner, '.'); i > 0 {
		if p := x.memberHolding(owner[:i], owner[i+1:]); p != nil {
			return p.IPs
		}
	}
	return nil
}

func emit(name string, ips []netip.Addr, f func(Record)) {
	for _, ip := range ips {
		f(Record{Name: name, IP: ip})
	}
}
