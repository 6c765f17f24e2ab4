package podname

import (
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/plugin/bind"
	cdtest "github.com/coredns/coredns/test"

	"github.com/miekg/dns"
	"github.com/podname/podname/plugin/podname/internal/kube"
	"github.com/podname/podname/plugin/podname/internal/podtest"
	"go.uber.org/goleak"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	k8stesting "k8s.io/client-go/testing"
)

// The Corefiles the lifecycle test reloads through. startup_timeout 0s: a
// start never waits, not even for the kept watch to replay into the new
// index, so what is ready at once after a reload is ready because its
// watch was kept, and the test waits for the index before it asks.
const (
	wsCorefile = `lifecycle.example:0 {
	bind 127.0.0.1
	podname {
		labels app=ws
		startup_timeout 0s
	}
}`
	// The same watch, another namespaces filter.
	wsProdCorefile = `lifecycle.example:0 {
	bind 127.0.0.1
	podname {
		labels app=ws
		namespaces prod
		startup_timeout 0s
	}
}`
	// Another selector, and a second zone sharing its watch.
	dbTwoZonesCorefile = `lifecycle.example:0 {
	bind 127.0.0.1
	podname {
		labels app=db
		startup_timeout 0s
	}
}
second.example:0 {
	bind 127.0.0.1
	podname {
		labels app=db
		startup_timeout 0s
	}
}`
	dbCorefile = `lifecycle.example:0 {
	bind 127.0.0.1
	podname {
		labels app=db
		startup_timeout 0s
	}
}`
)

// Zones of the lifecycle test's own: other tests leave series behind in
// theirs.
const (
	firstZone  = "lifecycle.example."
	secondZone = "second.example."
	wsKey      = "in-cluster,labels=app=ws"
	dbKey      = "in-cluster,labels=app=db"
)

// TestLifecycleReloads runs a real CoreDNS server in-process, as CoreDNS's
// own test/ does, and reloads it through unchanged and changed podname
// stanzas: the shared watch is kept or replaced as its key says, the server
// stays ready and answers right, and nothing outlives the last stanza.
func TestLifecycleReloads(t *testing.T) {
	leaks := goleak.IgnoreCurrent()
	client, podWatches := watchedClient(
		podtest.Pod("default", "ws-1", []string{"10.36.0.1"}),
		podtest.Pod("prod", "ws-2", []string{"10.36.0.2"}),
		podtest.Pod("default", "db-1", []string{"10.36.0.3"}, podtest.Labels(map[string]string{"app": "db"})),
	)
	var podLists atomic.Int32
	client.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		podLists.Add(1)
		return false, nil, nil // counted; the fake's tracker answers
	})
	withClient(t, client)
	withDirective(t)

	inst, udp, _, err := cdtest.CoreDNSServerAndPorts(wsCorefile)
	if err != nil {
		t.Fatalf("start CoreDNS: %v", err)
	}
	t.Cleanup(func() {
		if inst != nil {
			stopInstance(t, inst)
		}
	})
	podtest.WaitFor(t, "the first list", func() bool { return allReady(t, inst) })
	waitIndexed(t, inst)
	ws := watchOf(t, inst, wsKey)
	podtest.WaitFor(t, "the pod watch", func() bool { return podWatches.Load() == 1 })
	wantRefs(t, "after the start", map[string]int{wsKey: 1})
	expectA(t, udp, "ws-1."+firstZone, "10.36.0.1")
	expectA(t, udp, "ws-2."+firstZone, "10.36.0.2")
	expectA(t, udp, "db-1."+firstZone) // not selected

	reload := func(corefile string) {
		t.Helper()
		next, err := inst.Restart(cdtest.NewInput(corefile))
		if err != nil {
			t.Fatalf("reload: %v", err)
		}
		inst = next
		udp, _ = cdtest.CoreDNSServerPorts(inst, 0)
	}

	// Unchanged: the same watch, no relist, ready at once, and the zone's
	// series survive the old stanza's stop.
	reload(wsCorefile)
	if !allReady(t, inst) {
		t.Fatal("not ready right after a reload that keeps the watch")
	}
	if watchOf(t, inst, wsKey) != ws {
		t.Fatal("a reload with an unchanged stanza replaced its watch")
	}
	wantRefs(t, "after an unchanged reload", map[string]int{wsKey: 1})
	wantLists(t, &podLists, podWatches, 1)
	wantSeries(t, "coredns_podname_conflicts", "zone", firstZone, 1)
	wantSeries(t, "coredns_podname_pods", "watch", ws.ID(), 1)
	waitIndexed(t, inst)
	expectA(t, udp, "ws-1."+firstZone, "10.36.0.1")

	// Another namespaces filter: the same watch still.
	reload(wsProdCorefile)
	if !allReady(t, inst) || watchOf(t, inst, wsKey) != ws {
		t.Fatal("a reload that changes only namespaces did not keep the ready watch")
	}
	wantRefs(t, "after a namespaces change", map[string]int{wsKey: 1})
	wantLists(t, &podLists, podWatches, 1)
	waitIndexed(t, inst)
	expectA(t, udp, "ws-1."+firstZone) // default is no longer listed
	expectA(t, udp, "ws-2."+firstZone, "10.36.0.2")

	// Another selector, and a second zone: a new watch the two stanzas
	// share; the old one is released and has stopped when the reload ends.
	reload(dbTwoZonesCorefile)
	db := watchOf(t, inst, dbKey)
	wantRefs(t, "after a selector change", map[string]int{dbKey: 2})
	if !ws.Stopped() {
		t.Fatal("the replaced watch's informers still run after the reload")
	}
	wantSeries(t, "coredns_podname_pods", "watch", ws.ID(), 0)
	podtest.WaitFor(t, "the new watch's list", func() bool { return allReady(t, inst) })
	wantLists(t, &podLists, podWatches, 2)
	waitIndexed(t, inst)
	expectA(t, udp, "db-1."+firstZone, "10.36.0.3")
	expectA(t, udp, "db-1."+secondZone, "10.36.0.3")
	expectA(t, udp, "ws-1."+firstZone)
	wantSeries(t, "coredns_podname_conflicts", "zone", secondZone, 1)
	wantSeries(t, "coredns_podname_requests_total", "zone", secondZone, 1)

	// The second zone goes: its series go with it, the first zone's and
	// the watch stay.
	reload(dbCorefile)
	if !allReady(t, inst) || watchOf(t, inst, dbKey) != db {
		t.Fatal("dropping a zone did not keep the ready watch of the other")
	}
	wantRefs(t, "after dropping a zone", map[string]int{dbKey: 1})
	wantLists(t, &podLists, podWatches, 2)
	wantSeries(t, "coredns_podname_conflicts", "zone", secondZone, 0)
	wantSeries(t, "coredns_podname_requests_total", "zone", secondZone, 0)
	wantSeries(t, "coredns_podname_conflicts", "zone", firstZone, 1)
	waitIndexed(t, inst)
	expectA(t, udp, "db-1."+firstZone, "10.36.0.3")

	stopInstance(t, inst)
	inst = nil
	wantRefs(t, "after the stop", map[string]int{})
	if !db.Stopped() {
		t.Fatal("the watch's informers still run after the stop")
	}
	wantSeries(t, "coredns_podname_pods", "watch", db.ID(), 0)
	wantSeries(t, "coredns_podname_conflicts", "zone", firstZone, 0)
	wantSeries(t, "coredns_podname_requests_total", "zone", firstZone, 0)
	goleak.VerifyNone(t, leaks)
}

// withClient makes setup hand client to every stanza for the test.
func withClient(t *testing.T, client kubernetes.Interface) {
	t.Helper()
	saved := newClient
	newClient = func(kube.Connection) (kubernetes.Interface, error) { return client, nil }
	t.Cleanup(func() { newClient = saved })
}

// withDirective adds podname to CoreDNS's directives for the test, just
// ahead of kubernetes, where cmd/coredns puts it.
func withDirective(t *testing.T) {
	t.Helper()
	saved := dnsserver.Directives
	i := slices.Index(saved, "kubernetes")
	if i < 0 {
		t.Fatal("no kubernetes directive to put podname before")
	}
	dnsserver.Directives = slices.Insert(slices.Clone(saved), i, Name)
	t.Cleanup(func() { dnsserver.Directives = saved })
}

// stopInstance stops a server as SIGTERM does: the shutdown callbacks, the
// stanzas' stop among them, then the listeners.
func stopInstance(t *testing.T, inst *caddy.Instance) {
	t.Helper()
	for _, err := range inst.ShutdownCallbacks() {
		t.Errorf("shutdown: %v", err)
	}
	if err := inst.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// stanzas returns the podname stanzas of a running instance.
func stanzas(t *testing.T, inst *caddy.Instance) []*PodName {
	t.Helper()
	inst.StorageMu.RLock()
	defer inst.StorageMu.RUnlock()
	g, ok := inst.Storage[groupKey{}].(*group)
	if !ok || len(g.stanzas) == 0 {
		t.Fatal("the instance has no podname stanza")
	}
	return g.stanzas
}

// allReady asks every podname stanza of inst, as the ready plugin does.
func allReady(t *testing.T, inst *caddy.Instance) bool {
	t.Helper()
	for _, p := range stanzas(t, inst) {
		if !p.Ready() {
			return false
		}
	}
	return true
}

// waitIndexed waits until every stanza of inst has its first full index.
func waitIndexed(t *testing.T, inst *caddy.Instance) {
	t.Helper()
	for _, p := range stanzas(t, inst) {
		podtest.WaitFor(t, "the index of "+p.primary, p.synced.Load)
	}
}

// watchOf returns the watch inst's stanzas hold for key; all must hold it.
func watchOf(t *testing.T, inst *caddy.Instance, key string) *kube.Watch {
	t.Helper()
	var w *kube.Watch
	for _, p := range stanzas(t, inst) {
		if p.watchKey() != key || (w != nil && p.w != w) {
			t.Fatalf("a stanza holds watch %q (%p), want the one watch of %q", p.watchKey(), p.w, key)
		}
		w = p.w
	}
	return w
}

func wantRefs(t *testing.T, when string, want map[string]int) {
	t.Helper()
	if got := kube.Held(); !maps.Equal(got, want) {
		t.Fatalf("%s: watches and their references %v, want %v", when, got, want)
	}
}

// wantLists checks that the pods were listed, and watched, n times in all.
func wantLists(t *testing.T, lists, watches *atomic.Int32, n int32) {
	t.Helper()
	podtest.WaitFor(t, "the pod watch after the list", func() bool { return watches.Load() >= lists.Load() })
	if l, w := lists.Load(), watches.Load(); l != n || w != n {
		t.Fatalf("pods listed %d and watched %d times, want %d each", l, w, n)
	}
}

func wantSeries(t *testing.T, name, label, value string, n int) {
	t.Helper()
	if got := seriesWith(t, name, label, value); got != n {
		t.Fatalf("%d series %s{%s=%q}, want %d", got, name, label, value, n)
	}
}

// expectA asks the server for name's A records over UDP and wants ips, or
// NXDOMAIN when none are given.
func expectA(t *testing.T, addr, name string, ips ...string) {
	t.Helper()
	c := dns.Client{Timeout: 5 * time.Second}
	r, _, err := c.Exchange(new(dns.Msg).SetQuestion(name, dns.TypeA), addr)
	if err != nil {
		t.Fatalf("query %s at %s: %v", name, addr, err)
	}
	var got []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			got = append(got, a.A.String())
		}
	}
	wantRcode := dns.RcodeSuccess
	if len(ips) == 0 {
		wantRcode = dns.RcodeNameError
	}
	if r.Rcode != wantRcode || !slices.Equal(got, ips) {
		t.Fatalf("%s A: %s %s, want %s %s", name, dns.RcodeToString[r.Rcode], strings.Join(got, " "),
			dns.RcodeToString[wantRcode], strings.Join(ips, " "))
	}
}
