package index

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
)

// Delta is what a change did to the records, and the room finding it
// takes: one Delta reused change after change finds the difference without
// allocating once it has grown. Removed and Added hold until it is next
// filled, and are not the caller's to keep.
type Delta struct {
	Removed, Added []Record
	s              scope
	before, after  []Record
}

// ApplyTo replaces old with cur as Update does, and puts the records that
// changed in d. Only the records of the names old and cur answer to, of
// the pods sharing those names, and of their IPs can change, so the
// difference costs a few lookups, not a walk of the index.
func (x *Index) ApplyTo(d *Delta, old, cur *Pod) (shared []string) {
	d.Removed, d.Added = d.Removed[:0], d.Added[:0]
	if !x.Wants(old) {
		old = nil
	}
	if !x.Wants(cur) {
		cur = nil
	}
	if old == nil && cur == nil {
		return nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.podScope(&d.s, old, cur)
	d.before = d.s.records(x, d.before[:0])
	shared = x.update(old, cur)
	d.after = d.s.records(x, d.after[:0])
	d.Removed, d.Added = diff(d.before, d.after, d.Removed, d.Added)
	return shared
}

// SetService records a Service's selector as Services.Set does, and returns
// the records that changed: <host>.<name> for the pods of its namespace.
func (x *Index) SetService(namespace, name string, selector map[string]string) (removed, added []Record) {
	return x.changeService(namespace, name, func() { x.svcs.Set(namespace, name, selector) })
}

// DeleteService forgets a Service as Services.Delete does, and returns the
// records that changed.
func (x *Index) DeleteService(namespace, name string) (removed, added []Record) {
	return x.changeService(namespace, name, func() { x.svcs.Delete(namespace, name) })
}

// changeService runs change under the write lock; a Service change is rare,
// so finding the pods of its namespace by a walk of the names is cheap enough.
func (x *Index) changeService(namespace, name string, change func()) (removed, added []Record) {
	x.mu.Lock()
	defer x.mu.Unlock()
	var s scope
	for host, win := range x.names.win {
		holders := x.names.more[host]
		if holders == nil {
			holders = []*Pod{win}
		}
		for _, p := range holders {
			if p.Namespace == namespace && !p.HostNetwork {
				s.owners = append(s.owners, host+"."+name)
				break
			}
		}
	}
	before := s.records(x, nil)
	change()
	return diff(before, s.records(x, nil), nil, nil)
}

// scope is where a change can alter records: owner names and pod IPs,
// each given once.
type scope struct {
	owners []string
	ips    []netip.Addr
}

// podScope fills s with the scope of replacing old with cur: their names,
// those names under every Service that selects a holder, and the IPs of
// every holder, whose PTR depends on which names it wins.
func (x *Index) podScope(s *scope, old, cur *Pod) {
	s.owners, s.ips = s.owners[:0], s.ips[:0]
	for _, p := range [2]*Pod{old, cur} {
		if p == nil {
			continue
		}
		for _, k := range keys(p) {
			if k == "" {
				continue
			}
			s.owners = append(s.owners, k)
			s.holder(x, k, p)
			win, all := x.names.holders(k)
			if all == nil && win != nil {
				s.holder(x, k, win)
			}
			for _, h := range all {
				s.holder(x, k, h)
			}
		}
		s.ips = append(s.ips, p.IPs...)
	}
	slices.Sort(s.owners)
	s.owners = slices.Compact(s.owners)
	slices.SortFunc(s.ips, netip.Addr.Compare)
	s.ips = slices.Compact(s.ips)
}

func (s *scope) holder(x *Index, name string, p *Pod) {
	s.ips = append(s.ips, p.IPs...)
	if !p.HostNetwork {
		x.svcs.selecting(p, func(svc string) { s.owners = append(s.owners, name+"."+svc) })
	}
}

// records appends to out what the index answers within the scope; x.mu is
// held.
func (s *scope) records(x *Index, out []Record) []Record {
	for _, owner := range s.owners {
		for _, ip := range x.answer(owner) {
			out = append(out, Record{Name: owner, IP: ip})
		}
	}
	for _, ip := range s.ips {
		if p := x.ips.win[ip]; p != nil {
			if name := x.ptrName(p); name != "" {
				out = append(out, Record{Name: name, IP: ip, PTR: true})
			}
		}
	}
	return out
}

// diff appends to removed what before has and after lacks, and to added
// the other way round, each record once; diff sorts both.
func diff(before, after, removed, added []Record) ([]Record, []Record) {
	slices.SortFunc(before, compareRecords)
	slices.SortFunc(after, compareRecords)
	before, after = slices.Compact(before), slices.Compact(after) // a pod may list an IP twice
	i, j := 0, 0
	for i < len(before) || j < len(after) {
		c := 0
		switch {
		case i == len(before):
			c = 1
		case j == len(after):
			c = -1
		default:
			c = compareRecords(before[i], after[j])
		}
		switch {
		case c < 0:
			removed = append(removed, before[i])
			i++
		case c > 0:
			added = append(added, after[j])
			j++
		default:
			i++
			j++
		}
	}
	return removed, added
}

func compareRecords(a, b Record) int {
	if a.PTR != b.PTR {
		if a.PTR {
			return 1
		}
		return -1
	}
	return cmp.Or(strings.Compare(a.Name, b.Name), a.IP.Compare(b.IP))
}
