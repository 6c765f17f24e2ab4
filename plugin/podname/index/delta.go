package index

import "net/netip"

// Apply replaces old with cur as Update does, and returns the records that
// changed. Only the records of the names old and cur answer to, of the
// pods sharing those names, and of their IPs can change, so the difference
// costs a few lookups, not a walk of the index.
func (x *Index) Apply(old, cur *Pod) (shared []string, removed, added []Record) {
	if !x.Wants(old) {
		old = nil
	}
	if !x.Wants(cur) {
		cur = nil
	}
	if old == nil && cur == nil {
		return nil, nil, nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.podScope(old, cur)
	before := s.records(x)
	shared = x.update(old, cur)
	removed, added = diff(before, s.records(x))
	return shared, removed, added
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
	s := scope{owners: map[string]struct{}{}}
	for host, win := range x.names.win {
		holders := x.names.more[host]
		if holders == nil {
			holders = []*Pod{win}
		}
		for _, p := range holders {
			if p.Namespace == namespace && !p.HostNetwork {
				s.owners[host+"."+name] = struct{}{}
				break
			}
		}
	}
	before := s.records(x)
	change()
	return diff(before, s.records(x))
}

// scope is where a change can alter records: owner names and pod IPs.
type scope struct {
	owners map[string]struct{}
	ips    map[netip.Addr]struct{}
}

// podScope is the scope of replacing old with cur: their names, those names
// under every Service that selects a holder, and the IPs of every holder,
// whose PTR depends on which names it wins.
func (x *Index) podScope(old, cur *Pod) scope {
	s := scope{owners: map[string]struct{}{}, ips: map[netip.Addr]struct{}{}}
	for _, p := range [2]*Pod{old, cur} {
		if p == nil {
			continue
		}
		for _, k := range keys(p) {
			if k == "" {
				continue
			}
			s.owners[k] = struct{}{}
			s.holder(x, k, p)
			win, all := x.names.holders(k)
			if all == nil && win != nil {
				s.holder(x, k, win)
			}
			for _, h := range all {
				s.holder(x, k, h)
			}
		}
		for _, ip := range p.IPs {
			s.ips[ip] = struct{}{}
		}
	}
	return s
}

func (s scope) holder(x *Index, name string, p *Pod) {
	for _, ip := range p.IPs {
		s.ips[ip] = struct{}{}
	}
	if !p.HostNetwork {
		x.svcs.selecting(p, func(svc string) { s.owners[name+"."+svc] = struct{}{} })
	}
}

// records returns what the index answers within the scope; x.mu is held.
func (s scope) records(x *Index) []Record {
	var out []Record
	for owner := range s.owners {
		emit(owner, x.answer(owner), func(r Record) { out = append(out, r) })
	}
	for ip := range s.ips {
		if p := x.ips.win[ip]; p != nil {
			if name := x.ptrName(p); name != "" {
				out = append(out, Record{Name: name, IP: ip, PTR: true})
			}
		}
	}
	return out
}

// diff returns what before has and after lacks, and the other way round.
func diff(before, after []Record) (removed, added []Record) {
	had := make(map[Record]bool, len(before))
	for _, r := range before {
		had[r] = true
	}
	for _, r := range after {
		if had[r] {
			delete(had, r)
			continue
		}
		added = append(added, r)
	}
	for _, r := range before {
		if had[r] {
			removed = append(removed, r)
		}
	}
	return removed, added
}
