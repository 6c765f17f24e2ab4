package bench

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/harness"
)

// xfrFirst is the first churn pod index the IXFR figures use; the churn passes use those below.
const xfrFirst = 1 << 15

// nsName is the owner of podname's NS glue, which the file plugin's zone file does not hold.
var nsName = "ns.dns." + Zone + "."

// TransferResult is section 7's AXFR and IXFR figures at one zone size.
type TransferResult struct {
	Pods     int
	Corefile string
	// AXFR holds, by role (podname, file), one transfer per run.
	AXFR map[string][]XfrRun
	// IXFR holds podname's, one per change count and run, from the serial before the changes.
	IXFR []IXFRRun
}

// XfrRun is one zone transfer as the bench's client saw it.
type XfrRun struct {
	Seconds float64
	// Bytes is what the TCP connection carried from the server, each message's 2-byte length
	// included.
	Bytes, Messages, Records int
	// Mismatch says how the records differ from the pods the zone holds, if they do.
	Mismatch string
}

// IXFRRun is one IXFR from the serial before Changes pod changes.
type IXFRRun struct {
	XfrRun
	Changes, Run     int
	Created, Deleted int
	From, To         uint32
	// Incremental is false for a reply that was the whole zone.
	Incremental bool
	// Steps is how many serial steps the reply held, each an old and a new SOA (RFC 1995).
	Steps int
	// ChangedBytes is the sum of dns.Len of the A records the changes removed and added: the
	// least a transfer of the changes could carry, uncompressed.
	ChangedBytes int
}

// xfrPods are the pods the IXFR figures create and delete: churn pods from index xfrFirst.
type xfrPods struct {
	live []int // oldest first
	next int
}

// Transfers measures AXFR of podname and of the file plugin serving the same records at pods
// pods, then podname's IXFR after each count of changes, every figure b.cfg.Runs times.
func (b *Bench) Transfers(ctx context.Context, pods int) (*TransferResult, error) {
	res := &TransferResult{Pods: pods, AXFR: map[string][]XfrRun{}}
	fail := func(err error) (*TransferResult, error) {
		return nil, fmt.Errorf("transfers at %d pods: %w", pods, err)
	}
	dir := filepath.Join(b.work, fmt.Sprintf("transfers-%d", pods))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(err)
	}
	zonefile := filepath.Join(dir, "zone.db")
	if err := WriteZone(zonefile, pods); err != nil {
		return fail(err)
	}
	conf, err := TransferCorefile(b.kubeconfig, zonefile)
	if err != nil {
		return fail(err)
	}
	res.Corefile = conf.Text
	srv, err := StartServer(dir, conf)
	if err != nil {
		return fail(err)
	}
	defer srv.Stop()
	wctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	if err := srv.WaitReady(wctx); err == nil {
		err = srv.WaitMetric(wctx, "coredns_podname_pods", nil, float64(pods))
	}
	if err != nil {
		return fail(err)
	}
	if _, err := harness.WaitAnswer(wctx, conf.DNS[RoleFile], Zone, dns.TypeSOA, func(r *dns.Msg) bool { return len(r.Answer) == 1 }); err != nil {
		return fail(err)
	}

	roles := []string{RolePodname, RoleFile}
	for r := range b.cfg.Runs {
		for j := range roles {
			role := roles[(j+r)%len(roles)] // neither always first
			x, err := axfr(conf.DNS[role], pods)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", role, err))
			}
			b.logf("  AXFR %-8s %6d pods run %d: %8d bytes in %4d messages, %7.1f ms", role, pods, r+1, x.Bytes, x.Messages, x.Seconds*1e3)
			res.AXFR[role] = append(res.AXFR[role], x)
		}
	}

	if res.IXFR, err = b.ixfrs(ctx, conf.DNS[RolePodname]); err != nil {
		return fail(err)
	}
	if err := srv.Stop(); err != nil {
		return fail(err)
	}
	if err := deleteAllPods(ctx, b, churnNamespace); err != nil {
		return fail(err)
	}
	return res, nil
}

// ixfrs creates a pool of pods to delete from, then measures IXFR from podname at server after
// each count of changes, b.cfg.Runs times.
func (b *Bench) ixfrs(ctx context.Context, server string) ([]IXFRRun, error) {
	p := &xfrPods{next: xfrFirst}
	pool := slices.Max(b.cfg.XfrChanges) / 2
	b.logf("  IXFR: a pool of %d pods to delete from", pool)
	if _, err := b.changePods(ctx, p, server, pool, 0); err != nil {
		return nil, err
	}
	var out []IXFRRun
	for r := range b.cfg.Runs {
		for _, n := range b.cfg.XfrChanges {
			x, err := b.ixfr(ctx, p, server, n)
			if err != nil {
				return nil, err
			}
			x.Run = r
			b.logf("  IXFR after %s run %d: %7d bytes in %d messages, %d records in %d steps; changed records %d bytes (%.2fx)",
				Plural(n, "change"), r+1, x.Bytes, x.Messages, x.Records, x.Steps, x.ChangedBytes, float64(x.Bytes)/float64(x.ChangedBytes))
			out = append(out, x)
		}
	}
	return out, nil
}

// axfr transfers the zone from server and checks it holds pods A records besides podname's glue.
func axfr(server string, pods int) (XfrRun, error) {
	r, err := harness.XFR(server, new(dns.Msg).SetAxfr(Zone+"."), harness.XFROptions{})
	if err != nil {
		return XfrRun{}, err
	}
	if r.Rcode != dns.RcodeSuccess {
		return XfrRun{}, fmt.Errorf("AXFR %s at %s: %s", Zone, server, dns.RcodeToString[r.Rcode])
	}
	x := XfrRun{Seconds: r.Elapsed.Seconds(), Bytes: r.Bytes, Messages: r.Messages, Records: len(r.RRs)}
	n := 0
	for _, rr := range r.RRs {
		if a, ok := rr.(*dns.A); ok && !strings.EqualFold(a.Hdr.Name, nsName) {
			n++
		}
	}
	if n != pods {
		x.Mismatch = fmt.Sprintf("AXFR at %s holds %d pods' A records, want %d", server, n, pods)
	}
	return x, nil
}

// ixfr makes n pod changes and transfers them from podname at server by IXFR from the serial
// before them, checking the reply holds those changes and nothing else.
func (b *Bench) ixfr(ctx context.Context, p *xfrPods, server string, n int) (IXFRRun, error) {
	x := IXFRRun{Changes: n}
	fail := func(err error) (IXFRRun, error) { return x, fmt.Errorf("IXFR after %d changes: %w", n, err) }
	var err error
	if x.From, err = harness.Serial(server, Zone); err != nil {
		return fail(err)
	}
	changed, err := b.changePods(ctx, p, server, n-n/2, n/2)
	if err != nil {
		return fail(err)
	}
	if x.To, err = harness.Serial(server, Zone); err != nil {
		return fail(err)
	}
	ns, mbox := nsName, "hostmaster."+Zone+"."
	r, err := harness.XFR(server, new(dns.Msg).SetIxfr(Zone+".", x.From, ns, mbox), harness.XFROptions{})
	if err != nil {
		return fail(err)
	}
	if r.Rcode != dns.RcodeSuccess {
		return fail(fmt.Errorf("IXFR %s at %s: %s", Zone, server, dns.RcodeToString[r.Rcode]))
	}
	x.XfrRun = XfrRun{Seconds: r.Elapsed.Seconds(), Bytes: r.Bytes, Messages: r.Messages, Records: len(r.RRs)}
	var wantDel, wantAdd []string
	for _, e := range changed {
		rr := &dns.A{Hdr: dns.RR_Header{Name: e.Name + ".", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: e.IP.AsSlice()}
		x.ChangedBytes += dns.Len(rr)
		if e.Gone {
			x.Deleted++
			wantDel = append(wantDel, recordKey(e.Name, e.IP))
		} else {
			x.Created++
			wantAdd = append(wantAdd, recordKey(e.Name, e.IP))
		}
	}
	var del, add []string
	x.Incremental, x.Steps, del, add = readIXFR(r.RRs)
	slices.Sort(wantDel)
	slices.Sort(wantAdd)
	switch {
	case !x.Incremental:
		x.Mismatch = fmt.Sprintf("IXFR from %d after %d changes came as the whole zone", x.From, n)
	case !slices.Equal(del, wantDel) || !slices.Equal(add, wantAdd):
		x.Mismatch = fmt.Sprintf("IXFR from %d after %d changes removes %d and adds %d records, want %d and %d", x.From, n, len(del), len(add), len(wantDel), len(wantAdd))
	}
	return x, nil
}

// readIXFR reads an IXFR reply (RFC 1995): whether it is incremental (its second record an
// SOA), its steps, and the A records it removes and adds, sorted, as recordKey writes them.
func readIXFR(rrs []dns.RR) (incremental bool, steps int, del, add []string) {
	if len(rrs) < 3 || rrs[1].Header().Rrtype != dns.TypeSOA {
		return false, 0, nil, nil
	}
	soas := 0
	for _, rr := range rrs[1 : len(rrs)-1] {
		if rr.Header().Rrtype == dns.TypeSOA {
			soas++
			continue
		}
		a, ok := rr.(*dns.A)
		if !ok {
			continue
		}
		if ip, ok := netip.AddrFromSlice(a.A); ok {
			// Odd: after a step's old SOA, its removals; even: after its new SOA, its additions.
			if soas%2 == 1 {
				del = append(del, recordKey(a.Hdr.Name, ip.Unmap()))
			} else {
				add = append(add, recordKey(a.Hdr.Name, ip.Unmap()))
			}
		}
	}
	slices.Sort(del)
	slices.Sort(add)
	return true, soas / 2, del, add
}

func recordKey(name string, ip netip.Addr) string {
	return strings.ToLower(strings.TrimSuffix(name, ".")) + " " + ip.String()
}

// changePods creates create pods and deletes del of the oldest live ones, one after the other
// as a rollout does, 16 requests at once, then waits until podname at server answers every
// change. It returns the changes: each pod's name in the zone with its address, Gone if deleted.
func (b *Bench) changePods(ctx context.Context, p *xfrPods, server string, create, del int) ([]Expect, error) {
	if del > len(p.live) {
		return nil, fmt.Errorf("change pods: %d to delete, %d live", del, len(p.live))
	}
	if p.next+create > 1<<(32-churnPrefix.Bits()) {
		return nil, fmt.Errorf("change pods: %d pods do not fit in %s", p.next+create, churnPrefix)
	}
	var ops []func(context.Context) error
	var changes []Expect
	gone, added := p.live[:del], []int{}
	for j := range max(create, del) {
		if j < create {
			i := p.next
			p.next++
			added = append(added, i)
			ops = append(ops, func(ctx context.Context) error { return b.createChurnPod(ctx, i) })
			changes = append(changes, Expect{Name: churnPodName(i) + "." + Zone, IP: churnIP(i)})
		}
		if j < del {
			i := gone[j]
			ops = append(ops, func(ctx context.Context) error { return b.deleteChurnPod(ctx, i) })
			changes = append(changes, Expect{Name: churnPodName(i) + "." + Zone, IP: churnIP(i), Gone: true})
		}
	}
	if err := forEach(ctx, 0, len(ops), 16, func(ctx context.Context, j int) error { return ops[j](ctx) }); err != nil {
		return nil, err
	}
	p.live = append(slices.Clone(p.live[del:]), added...)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := AwaitAnswers(wctx, server, changes, 8); err != nil {
		return nil, fmt.Errorf("change pods: %w", err)
	}
	return changes, nil
}
