package podname

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	"github.com/podname/podname/plugin/podname/index"
	"github.com/podname/podname/plugin/podname/internal/kube"
	"github.com/podname/podname/plugin/podname/internal/podtest"
	api "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// The pools the random sequences draw from: few enough that names, IPs
// and hostnames collide often. Pod names and Service names never meet, so
// <name>.<zone> is never an empty non-terminal.
var (
	propNamespaces = []string{"default", "team-b", "other"}
	propNames      = []string{"ws-a", "ws-b", "ws-c", "db-0", "db-1"}
	propHostnames  = []string{"", "", "", "shared", "ws-a"}
	propIPv4       = []string{"10.36.0.1", "10.36.0.2", "10.36.0.3", "10.36.0.4"}
	propIPv6       = []string{"fd00::1", "fd00::2"}
	propLabels     = []map[string]string{
		{"app": "ws"}, {"app": "ws", "register": "true"}, {"app": "db", "register": "true"}, {"app": "db"}, {},
	}
	propServices = []*api.Service{
		podtest.Service("default", "ws", map[string]string{"app": "ws"}),
		podtest.Service("team-b", "ws", map[string]string{"app": "ws"}),
		podtest.Service("default", "db", map[string]string{"app": "db"}),
	}
)

// TestPodEventsProperty drives random sequences of pod changes, as the API
// server makes and a watch delivers them, through the pod store into a
// stanza: creation, an IP set, a relabel, termination, deletion, a name or
// an IP used again, two pods with one IP, events lost and a relist, a
// stanza joining a store that already holds pods. After every event the
// store is not behind on, every name, Service name and PTR answers as a
// model computed from the API's pods at that moment says: the winner's
// addresses, NODATA or NXDOMAIN, never a deleted pod's IP nor a live
// pod lost.
func TestPodEventsProperty(t *testing.T) {
	stanzas := map[string]string{
		"plain":       "",
		"labels":      "labels register=true",
		"namespaces":  "namespaces team-b default",
		"hostnetwork": "hostnetwork",
		"all":         "labels register=true\nnamespaces team-b default\nhostnetwork",
	}
	sequences, steps := 60, 80
	if testing.Short() {
		sequences = 10
	}
	for name, opts := range stanzas {
		t.Run(name, func(t *testing.T) {
			corefile := seedStanza + " {\n" + opts + "\n}"
			for i := range sequences {
				seed := uint64(i)*1_000_003 + uint64(len(name))
				runEventSequence(t, corefile, seed, steps)
			}
		})
	}
}

// apiSim is the API server's side of a sequence: the pods as they are,
// every change numbered by a resource version, and a watch narrowed by
// the stanza's label selector.
type apiSim struct {
	t     *testing.T
	seed  uint64
	r     *rand.Rand
	sel   labels.Selector
	store *kube.PodStore
	pods  map[string]*api.Pod // namespace/name
	rv    int
	clock time.Duration // since base: creation times, some equal
	// behind: a change was lost on the way to the store, which may show
	// an older state until the next relist.
	behind bool
	log    []string
}

func runEventSequence(t *testing.T, corefile string, seed uint64, steps int) {
	t.Helper()
	p, err := parse(caddy.NewTestController("dns", corefile))
	if err != nil {
		t.Fatalf("parse %q: %v", corefile, err)
	}
	sel, err := labels.Parse(p.selector)
	if err != nil {
		t.Fatalf("selector %q: %v", p.selector, err)
	}
	a := &apiSim{t: t, seed: seed, r: rand.New(rand.NewPCG(seed, 1)), sel: sel, store: kube.NewPodStore(), pods: map[string]*api.Pod{}}
	services := index.NewServices()
	for _, s := range propServices {
		services.Set(s.Namespace, s.Name, s.Spec.Selector)
	}
	p.idx = index.New(p.opts, services)
	p.zs = newZoneSet(p.Zones, p.inZone)
	p.Next = nextMarker

	// The stanza subscribes before the first list, or joins later and is
	// replayed what the store holds by then, as after a reload.
	joined := false
	join := func() { a.store.Subscribe(p.onPod); joined = true }
	early := a.r.IntN(2) == 0
	if early {
		join()
	}
	for range a.r.IntN(6) {
		a.change(false)
	}
	a.relist()
	listed := func() {
		p.synced.Store(true)
		p.zs.markListed()
	}
	if early {
		listed()
	}
	joinAt := -1
	if !early {
		joinAt = a.r.IntN(steps / 2)
	}
	serials := map[string]uint32{}
	for step := range steps {
		if step == joinAt {
			join()
			listed()
			a.log = append(a.log, "the stanza joins")
		}
		switch {
		case a.behind && a.r.IntN(3) == 0:
			a.relist()
		case a.r.IntN(12) == 0:
			a.relist()
		default:
			a.change(a.r.IntN(10) != 0)
		}
		if a.behind || !joined {
			continue
		}
		a.check(p)
		for _, z := range p.Zones {
			s := p.serial(z)
			if prev, ok := serials[z]; ok && serialNewer(prev, s) {
				a.fail("zone %s: serial went back from %d to %d", z, prev, s)
			}
			serials[z] = s
		}
	}
}

// change makes one random change to the API's pods and, when deliver,
// hands the store the event a watch would carry; else the event is lost.
func (a *apiSim) change(deliver bool) {
	a.rv++
	key := podtest.Pick(a.r, propNamespaces...) + "/" + podtest.Pick(a.r, propNames...)
	old := a.pods[key]
	var cur *api.Pod
	what := ""
	switch op := a.r.IntN(6); {
	case old == nil:
		a.clock += time.Duration(a.r.IntN(2)) * time.Second
		ns, name, _ := strings.Cut(key, "/")
		cur = podtest.Pod(ns, name, nil, podtest.Created(a.clock), podtest.Labels(podtest.Pick(a.r, propLabels...)), podtest.Hostname(podtest.Pick(a.r, propHostnames...)))
		cur.Status.Phase = api.PodPending
		if a.r.IntN(7) == 0 {
			cur.Spec.HostNetwork = true
		}
		if a.r.IntN(2) == 0 {
			a.setIPs(cur)
		}
		what = "create"
	case op == 0 || op == 1:
		cur = old.DeepCopy()
		a.setIPs(cur)
		what = "set IPs"
	case op == 2:
		cur = old.DeepCopy()
		cur.Labels = podtest.Pick(a.r, propLabels...)
		what = "relabel"
	case op == 3:
		cur = old.DeepCopy()
		switch a.r.IntN(3) {
		case 0:
			ts := meta.NewTime(podtest.Base.Add(a.clock))
			cur.DeletionTimestamp = &ts
		case 1:
			cur.Status.Phase = api.PodSucceeded
		default:
			cur.Status.Phase = api.PodFailed
		}
		what = "terminate"
	default:
		what = "delete"
	}
	if cur != nil {
		cur.ResourceVersion = fmt.Sprint(a.rv)
		a.pods[key] = cur
	} else {
		delete(a.pods, key)
	}
	a.log = append(a.log, fmt.Sprintf("rv %d: %s %s %s delivered=%v", a.rv, what, key, describe(cur), deliver))
	if !deliver {
		a.behind = true
		return
	}
	a.deliver(old, cur)
}

// setIPs gives p an IPv4 address, an IPv6 one or both, from the pool, and
// makes it Running.
func (a *apiSim) setIPs(p *api.Pod) {
	p.Status.Phase = api.PodRunning
	var ips []string
	switch a.r.IntN(3) {
	case 0:
		ips = []string{podtest.Pick(a.r, propIPv4...)}
	case 1:
		ips = []string{podtest.Pick(a.r, propIPv6...)}
	default:
		ips = []string{podtest.Pick(a.r, propIPv4...), podtest.Pick(a.r, propIPv6...)}
	}
	p.Status.PodIPs = nil
	for _, ip := range ips {
		p.Status.PodIPs = append(p.Status.PodIPs, api.PodIP{IP: ip})
	}
	p.Status.PodIP = ips[0]
}

// deliver hands the store the event a watch narrowed by the selector
// carries for a change from old to cur (nil for a creation or a
// deletion): a pod that leaves the selector is deleted from the watch's
// view, one that enters it is added.
func (a *apiSim) deliver(old, cur *api.Pod) {
	before := old != nil && a.sel.Matches(labels.Set(old.Labels))
	after := cur != nil && a.sel.Matches(labels.Set(cur.Labels))
	var err error
	switch {
	case before && after:
		err = a.store.Update(kube.Project(cur))
	case after:
		err = a.store.Add(kube.Project(cur))
	case before && cur != nil:
		err = a.store.Delete(kube.Project(cur))
	case before:
		final := old.DeepCopy()
		final.ResourceVersion = fmt.Sprint(a.rv)
		err = a.store.Delete(kube.Project(final))
	}
	if err != nil {
		a.fail("store: %v", err)
	}
}

// relist hands the store the API's pods that the selector matches, as a
// list at the latest resource version.
func (a *apiSim) relist() {
	a.rv++
	var list []any
	for _, p := range a.pods {
		if a.sel.Matches(labels.Set(p.Labels)) {
			list = append(list, kube.Project(p))
		}
	}
	a.r.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
	if err := a.store.Replace(list, fmt.Sprint(a.rv)); err != nil {
		a.fail("store: relist: %v", err)
	}
	a.behind = false
	a.log = append(a.log, fmt.Sprintf("rv %d: relist of %d pods", a.rv, len(list)))
}

func describe(p *api.Pod) string {
	if p == nil {
		return ""
	}
	s := fmt.Sprintf("ips=%v phase=%s labels=%v hostname=%q created=%ds", statusIPs(p), p.Status.Phase, p.Labels, p.Spec.Hostname,
		p.CreationTimestamp.Unix()-podtest.Base.Unix())
	if p.Spec.HostNetwork {
		s += " hostNetwork"
	}
	if p.DeletionTimestamp != nil {
		s += " deleting"
	}
	return s
}

func statusIPs(p *api.Pod) []string {
	var ips []string
	for _, ip := range p.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	return ips
}

func (a *apiSim) fail(format string, args ...any) {
	a.t.Helper()
	tail := a.log[max(0, len(a.log)-25):]
	a.t.Fatalf("sequence %d: %s\nthe last events:\n  %s", a.seed, fmt.Sprintf(format, args...), strings.Join(tail, "\n  "))
}

// modelPod is a pod the model says answers: the API's pod as the index
// should see it.
type modelPod struct {
	ns, name, host string // host: the kubelet hostname when it differs from name
	created        int64
	ips            []netip.Addr
	labels         map[string]string
	hostNetwork    bool
}

func (m *modelPod) names() []string {
	if m.host != "" && !m.hostNetwork {
		return []string{m.name, m.host}
	}
	return []string{m.name}
}

func (m *modelPod) hostname() string {
	if m.host != "" && !m.hostNetwork {
		return m.host
	}
	return m.name
}

// model is what the stanza p should hold of the API's pods: those the
// watch sees, that are indexable, in a listed namespace, and not on the
// host's network unless hostnetwork is set.
func (a *apiSim) model(p *PodName) []*modelPod {
	var held []*modelPod
	for _, pod := range a.pods {
		if !a.sel.Matches(labels.Set(pod.Labels)) || pod.DeletionTimestamp != nil ||
			pod.Status.Phase == api.PodSucceeded || pod.Status.Phase == api.PodFailed || len(pod.Status.PodIPs) == 0 {
			continue
		}
		if pod.Spec.HostNetwork && !p.opts.HostNetwork {
			continue
		}
		if len(p.opts.Namespaces) > 0 && !slices.Contains(p.opts.Namespaces, pod.Namespace) {
			continue
		}
		m := &modelPod{ns: pod.Namespace, name: pod.Name, created: pod.CreationTimestamp.Unix(),
			labels: pod.Labels, hostNetwork: pod.Spec.HostNetwork}
		if pod.Spec.Hostname != "" && pod.Spec.Hostname != pod.Name {
			m.host = pod.Spec.Hostname
		}
		for _, ip := range statusIPs(pod) {
			m.ips = append(m.ips, netip.MustParseAddr(ip))
		}
		held = append(held, m)
	}
	return held
}

// best is the pod that wins a name among pods: the first listed
// namespace, then the oldest, then namespace and name.
func best(p *PodName, pods []*modelPod) *modelPod {
	rank := func(ns string) int { return slices.Index(p.opts.Namespaces, ns) }
	return minBy(pods, func(a, b *modelPod) int {
		return cmp.Or(cmp.Compare(rank(a.ns), rank(b.ns)), cmp.Compare(a.created, b.created),
			strings.Compare(a.ns, b.ns), strings.Compare(a.name, b.name))
	})
}

func minBy(pods []*modelPod, c func(a, b *modelPod) int) *modelPod {
	if len(pods) == 0 {
		return nil
	}
	return slices.MinFunc(pods, c)
}

// check asks p every name, Service name and pool IP, and compares each
// reply with the model's.
func (a *apiSim) check(p *PodName) {
	a.t.Helper()
	held := a.model(p)
	answering := func(name string, member func(*modelPod) bool) []*modelPod {
		var out []*modelPod
		for _, m := range held {
			if slices.Contains(m.names(), name) && member(m) {
				out = append(out, m)
			}
		}
		return out
	}
	all := func(*modelPod) bool { return true }
	for _, name := range slices.Concat(propNames, []string{"shared"}) {
		a.checkAddresses(p, name+"."+zone, best(p, answering(name, all)))
		for _, svc := range []string{"ws", "db"} {
			member := func(m *modelPod) bool {
				return !m.hostNetwork && slices.ContainsFunc(propServices, func(s *api.Service) bool {
					return s.Namespace == m.ns && s.Name == svc &&
						labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(m.labels))
				})
			}
			a.checkAddresses(p, name+"."+svc+"."+zone, best(p, answering(name, member)))
		}
	}
	for _, ip := range slices.Concat(propIPv4, propIPv6) {
		addr := netip.MustParseAddr(ip)
		var holders []*modelPod
		for _, m := range held {
			if !m.hostNetwork && slices.Contains(m.ips, addr) {
				holders = append(holders, m)
			}
		}
		newest := minBy(holders, func(a, b *modelPod) int {
			return cmp.Or(cmp.Compare(b.created, a.created), strings.Compare(a.ns, b.ns), strings.Compare(a.name, b.name))
		})
		// The newest holder's hostname, else its pod name, if it wins
		// that name: a PTR never names what does not answer with the IP.
		tc := test.Case{Qname: mustReverse(ip), Qtype: dns.TypePTR, Rcode: dns.RcodeNameError}
		switch {
		case newest == nil:
		case best(p, answering(newest.hostname(), all)) == newest:
			tc.Rcode, tc.Answer = dns.RcodeSuccess, []dns.RR{test.PTR(tc.Qname + " 5 IN PTR " + newest.hostname() + "." + zone)}
		case best(p, answering(newest.name, all)) == newest:
			tc.Rcode, tc.Answer = dns.RcodeSuccess, []dns.RR{test.PTR(tc.Qname + " 5 IN PTR " + newest.name + "." + zone)}
		}
		a.compare(p, tc)
	}
}

// checkAddresses compares p's A and AAAA replies for qname with the
// addresses of win, the pod the model says wins it (nil: NXDOMAIN).
func (a *apiSim) checkAddresses(p *PodName, qname string, win *modelPod) {
	a.t.Helper()
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		tc := test.Case{Qname: qname, Qtype: qtype}
		if win == nil {
			tc.Rcode = dns.RcodeNameError
		}
		if win != nil {
			for _, ip := range win.ips {
				switch {
				case ip.Is4() && qtype == dns.TypeA:
					tc.Answer = append(tc.Answer, test.A(qname+" 5 IN A "+ip.String()))
				case ip.Is6() && qtype == dns.TypeAAAA:
					tc.Answer = append(tc.Answer, test.AAAA(qname+" 5 IN AAAA "+ip.String()))
				}
			}
		}
		slices.SortFunc(tc.Answer, func(a, b dns.RR) int { return strings.Compare(a.String(), b.String()) })
		a.compare(p, tc)
	}
}

// compare asks p tc's question and checks the rcode and answer.
func (a *apiSim) compare(p *PodName, tc test.Case) {
	a.t.Helper()
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	if _, err := p.ServeDNS(context.Background(), rec, tc.Msg()); err != nil {
		a.fail("%s %s: ServeDNS: %v", dns.TypeToString[tc.Qtype], tc.Qname, err)
	}
	got := rec.Msg
	if got == nil {
		a.fail("%s %s: no reply", dns.TypeToString[tc.Qtype], tc.Qname)
	}
	// The authority section is the SOA whenever the answer is empty;
	// the handler tests check it, the model checks rcode and answer.
	got = got.Copy()
	got.Ns = nil
	if err := test.SortAndCheck(got, tc); err != nil {
		a.fail("%s %s: %v\n  got rcode %s, answer %v", dns.TypeToString[tc.Qtype], tc.Qname, err,
			dns.RcodeToString[rec.Msg.Rcode], rec.Msg.Answer)
	}
}

func mustReverse(ip string) string {
	r, err := dns.ReverseAddr(ip)
	if err != nil {
		panic(err)
	}
	return r
}
