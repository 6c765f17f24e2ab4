package index

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"sync"
)

// Options says which pods an Index holds and how it ranks them.
type Options struct {
	// Namespaces, in priority order for name conflicts; empty means all.
	Namespaces []string
	// HostNetwork admits pods that use the node's network.
	HostNetwork bool
}

// Index answers which pod wins a name and which name an IP points back to.
// It is safe for concurrent use.
type Index struct {
	rank        map[string]int
	hostNetwork bool
	svcs        *Services

	mu    sync.RWMutex
	names ranked[string]              // <host> -> pods answering to it
	ips   ranked[netip.Addr]          // pod IP -> pods holding it, newest first
	below map[string][]string         // dotted names' parent suffixes -> names
	nets  map[netip.Prefix]int32      // reverse-zone ancestors of held IPs
	sets  map[string]map[Labels]int32 // namespace -> label set -> pods
	pods  int
}

// New returns an empty Index reading Service selectors from svcs.
func New(opts Options, svcs *Services) *Index {
	x := &Index{
		hostNetwork: opts.HostNetwork,
		svcs:        svcs,
		below:       map[string][]string{},
		nets:        map[netip.Prefix]int32{},
		sets:        map[string]map[Labels]int32{},
	}
	if len(opts.Namespaces) > 0 {
		x.rank = make(map[string]int, len(opts.Namespaces))
		for i, ns := range opts.Namespaces {
			if _, dup := x.rank[ns]; !dup {
				x.rank[ns] = i
			}
		}
	}
	x.names = newRanked[string](x.older)
	x.ips = newRanked[netip.Addr](newer)
	return x
}

// Services returns the Service selectors the index reads.
func (x *Index) Services() *Services { return x.svcs }

// Wants reports whether p belongs in this index.
func (x *Index) Wants(p *Pod) bool {
	if p == nil || (p.HostNetwork && !x.hostNetwork) {
		return false
	}
	if x.rank == nil {
		return true
	}
	_, ok := x.rank[p.Namespace]
	return ok
}

// Update replaces old with cur; either may be nil for an add or a delete.
// It returns the names that cur's arrival made shared by several pods.
func (x *Index) Update(old, cur *Pod) (shared []string) {
	wantOld, wantCur := x.Wants(old), x.Wants(cur)
	if !wantOld && !wantCur {
		return nil
	}
	if !wantOld {
		old = nil
	}
	if !wantCur {
		cur = nil
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.update(old, cur)
}

// update replaces old with cur, either of which may be nil; x.mu is held.
func (x *Index) update(old, cur *Pod) (shared []string) {
	var wasShared [2]bool // cur's names already shared: their conflict is not new
	if cur != nil {
		for i, k := range keys(cur) {
			_, wasShared[i] = x.names.more[k]
		}
	}
	if old != nil {
		x.remove(old)
	}
	if cur != nil {
		for i, k := range x.add(cur) {
			if k != "" && !wasShared[i] {
				shared = append(shared, k)
			}
		}
	}
	return shared
}

// keys returns the names p answers to; either may be empty.
func keys(p *Pod) [2]string {
	name, host := p.Names()
	return [2]string{name, host}
}

// add indexes p and returns, by position in keys(p), the names that p
// made shared.
func (x *Index) add(p *Pod) (shared [2]string) {
	for i, k := range keys(p) {
		if k == "" {
			continue
		}
		created, sh := x.names.add(k, p)
		if created {
			x.link(k, +1)
		}
		if sh {
			shared[i] = k
		}
	}
	if !p.HostNetwork {
		for _, ip := range p.IPs {
			if created, _ := x.ips.add(ip, p); created {
				x.count(ip, +1)
			}
		}
		sets := x.sets[p.Namespace]
		if sets == nil {
			sets = map[Labels]int32{}
			x.sets[p.Namespace] = sets
		}
		sets[p.Labels]++
	}
	x.pods++
	return shared
}

func (x *Index) remove(p *Pod) {
	for _, k := range keys(p) {
		if k != "" && x.names.remove(k, p) {
			x.link(k, -1)
		}
	}
	if !p.HostNetwork {
		for _, ip := range p.IPs {
			if x.ips.remove(ip, p) {
				x.count(ip, -1)
			}
		}
		if sets := x.sets[p.Namespace]; sets != nil {
			if sets[p.Labels]--; sets[p.Labels] <= 0 {
				delete(sets, p.Labels)
			}
			if len(sets) == 0 {
				delete(x.sets, p.Namespace)
			}
		}
	}
	x.pods--
}

// link records (d=+1) or forgets (d=-1) the parent suffixes of a dotted
// name, the empty non-terminals a query may ask for.
func (x *Index) link(name string, d int) {
	for i := strings.IndexByte(name, '.'); i >= 0; {
		suffix := name[i+1:]
		if d > 0 {
			x.below[suffix] = append(x.below[suffix], name)
		} else if rest := slices.DeleteFunc(x.below[suffix], func(n string) bool { return n == name }); len(rest) > 0 {
			x.below[suffix] = rest
		} else {
			delete(x.below, suffix)
		}
		j := strings.IndexByte(suffix, '.')
		if j < 0 {
			break
		}
		i += 1 + j
	}
}

// count adds d to every reverse-zone ancestor of ip: /8, /16, /24 for IPv4,
// every nibble boundary for IPv6.
func (x *Index) count(ip netip.Addr, d int32) {
	step := 8
	if ip.Is6() {
		step = 4
	}
	for bits := step; bits < ip.BitLen(); bits += step {
		p, _ := ip.Prefix(bits)
		if x.nets[p] += d; x.nets[p] <= 0 {
			delete(x.nets, p)
		}
	}
}

// Host returns the pod that wins host, or nil.
func (x *Index) Host(host string) *Pod {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.names.win[host]
}

// HostIn returns the pod that wins host among the pods Service svc selects.
func (x *Index) HostIn(host, svc string) *Pod {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.memberHolding(host, svc)
}

func (x *Index) memberHolding(host, svc string) *Pod {
	win, all := x.names.holders(host)
	if all == nil {
		if win != nil && x.member(svc, win) {
			return win
		}
		return nil
	}
	for _, p := range all {
		if x.member(svc, p) {
			return p
		}
	}
	return nil
}

func (x *Index) member(svc string, p *Pod) bool {
	return !p.HostNetwork && x.svcs.Selects(svc, p)
}

// HasBelow reports whether some name exists below prefix (a name relative
// to the zone that itself has no records): an empty non-terminal.
func (x *Index) HasBelow(prefix string) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if len(x.below[prefix]) > 0 {
		return true
	}
	rest, svc := "", prefix
	if i := strings.LastIndexByte(prefix, '.'); i >= 0 {
		rest, svc = prefix[:i], prefix[i+1:]
	}
	if rest == "" {
		return x.svcs.any(svc, func(ns string, needles []string) bool {
			for l := range x.sets[ns] {
				if l.matches(needles) {
					return true
				}
			}
			return false
		})
	}
	for _, name := range x.below[rest] {
		if x.memberHolding(name, svc) != nil {
			return true
		}
	}
	return false
}

// PTR returns the name that the newest pod holding ip wins, its kubelet
// hostname first; held reports whether any pod holds ip at all.
func (x *Index) PTR(ip netip.Addr) (name string, held bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	p := x.ips.win[ip]
	if p == nil {
		return "", false
	}
	return x.ptrName(p), true
}

// ptrName is the name a PTR to p gives: its kubelet hostname if p wins it,
// else its pod name if p wins that, else ""; x.mu is held.
func (x *Index) ptrName(p *Pod) string {
	if h := p.Hostname(); x.names.win[h] == p {
		return h
	}
	if p.NameOK && x.names.win[p.Name] == p {
		return p.Name
	}
	return ""
}

// HasReverseBelow reports whether a held IP lies inside prefix.
func (x *Index) HasReverseBelow(prefix netip.Prefix) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.nets[prefix.Masked()] > 0
}

// Conflicts returns how many names several pods answer to.
func (x *Index) Conflicts() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.names.more)
}

// Len returns how many pods the index holds.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.pods
}

// older ranks name holders: listed namespace first, then the oldest pod,
// then namespace and pod name, so every replica picks the same winner.
func (x *Index) older(a, b *Pod) bool {
	if ra, rb := x.rank[a.Namespace], x.rank[b.Namespace]; ra != rb {
		return ra < rb
	}
	if a.Created != b.Created {
		return a.Created < b.Created
	}
	return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name)) < 0
}

// newer ranks IP holders for PTR: the newest pod, then namespace and name.
func newer(a, b *Pod) bool {
	if a.Created != b.Created {
		return a.Created > b.Created
	}
	return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name)) < 0
}
