package index

import (
	"net/netip"
	"slices"
	"testing"
)

var webLabels = map[string]string{"app": "ws", "pod-template-hash": "777779bd59"}

func pod(ns, name string, created int64, ips ...string) *Pod {
	p := &Pod{Namespace: ns, Name: name, Created: created, NameOK: NameFits(name), Labels: MakeLabels(webLabels)}
	for _, ip := range ips {
		p.IPs = append(p.IPs, netip.MustParseAddr(ip))
	}
	return p
}

func newIndex(opts Options) (*Index, *Services) {
	svcs := NewServices()
	return New(opts, svcs), svcs
}

func TestHostAndPTR(t *testing.T) {
	x, _ := newIndex(Options{})
	a := pod("default", "ws-777779bd59-ftn4j", 100, "10.36.0.1", "fd00::1")
	x.Update(nil, a)
	if got := x.Host("ws-777779bd59-ftn4j"); got != a {
		t.Fatalf("Host = %v, want the pod", got)
	}
	for _, ip := range []string{"10.36.0.1", "fd00::1"} {
		name, held := x.PTR(netip.MustParseAddr(ip))
		if name != "ws-777779bd59-ftn4j" || !held {
			t.Errorf("PTR(%s) = %q, %v", ip, name, held)
		}
	}
	if _, held := x.PTR(netip.MustParseAddr("10.36.0.2")); held {
		t.Error("PTR of an unheld IP says held")
	}
	x.Update(a, nil)
	if x.Host("ws-777779bd59-ftn4j") != nil || x.Len() != 0 {
		t.Fatal("pod still indexed after delete")
	}
	if _, held := x.PTR(netip.MustParseAddr("10.36.0.1")); held {
		t.Error("PTR still held after delete")
	}
}

func TestUpdateMovesIP(t *testing.T) {
	x, _ := newIndex(Options{})
	old := pod("default", "a", 1, "10.0.0.1")
	cur := pod("default", "a", 1, "10.0.0.2")
	x.Update(nil, old)
	x.Update(old, cur)
	if _, held := x.PTR(netip.MustParseAddr("10.0.0.1")); held {
		t.Error("old IP still answers PTR")
	}
	if name, _ := x.PTR(netip.MustParseAddr("10.0.0.2")); name != "a" {
		t.Errorf("new IP PTR = %q", name)
	}
	if x.Host("a") != cur {
		t.Error("Host does not return the new version")
	}
}

func TestConflictRule(t *testing.T) {
	older := pod("prod", "ws-0", 100, "10.0.0.1")
	newer := pod("dev", "ws-0", 200, "10.0.0.2")
	sameAgeB := pod("b", "ws-0", 100, "10.0.0.3")
	cases := []struct {
		name string
		opts Options
		pods []*Pod
		want *Pod
	}{
		{"oldest wins", Options{}, []*Pod{older, newer}, older},
		{"oldest wins, other order", Options{}, []*Pod{newer, older}, older},
		{"listed namespace first", Options{Namespaces: []string{"dev", "prod"}}, []*Pod{older, newer}, newer},
		{"listed namespace first, other order", Options{Namespaces: []string{"dev", "prod"}}, []*Pod{newer, older}, newer},
		{"same age: namespace name", Options{}, []*Pod{older, sameAgeB}, sameAgeB},
		{"same age: namespace name, other order", Options{}, []*Pod{sameAgeB, older}, sameAgeB},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x, _ := newIndex(tc.opts)
			var shared []string
			for _, p := range tc.pods {
				if x.Wants(p) {
					shared = append(shared, x.Update(nil, p)...)
				}
			}
			if got := x.Host("ws-0"); got != tc.want {
				t.Fatalf("winner %s/%s, want %s/%s", got.Namespace, got.Name, tc.want.Namespace, tc.want.Name)
			}
			if x.Conflicts() != 1 || !slices.Equal(shared, []string{"ws-0"}) {
				t.Fatalf("conflicts %d, shared %v; want 1 and [ws-0]", x.Conflicts(), shared)
			}
			x.Update(tc.want, nil)
			if x.Conflicts() != 0 || x.Host("ws-0") == nil {
				t.Fatalf("after the winner left: conflicts %d, host %v", x.Conflicts(), x.Host("ws-0"))
			}
		})
	}
}

func TestNewerPodNeverTakesOver(t *testing.T) {
	x, _ := newIndex(Options{})
	first := pod("team-a", "ws-0", 100, "10.0.0.1")
	x.Update(nil, first)
	for i := range 5 {
		later := pod("team-b", "ws-0", int64(200+i), "10.0.1.1")
		x.Update(nil, later)
		if x.Host("ws-0") != first {
			t.Fatalf("a newer pod took ws-0 over")
		}
		x.Update(later, nil)
	}
}

func TestFilters(t *testing.T) {
	hostNet := pod("default", "node-agent", 1, "192.0.2.10")
	hostNet.HostNetwork = true
	other := pod("kube-system", "x", 1, "10.0.0.9")

	x, _ := newIndex(Options{Namespaces: []string{"default"}})
	x.Update(nil, hostNet)
	x.Update(nil, other)
	if x.Len() != 0 {
		t.Fatalf("indexed %d pods; want 0 (hostNetwork off, namespace not listed)", x.Len())
	}

	x, _ = newIndex(Options{HostNetwork: true})
	hostNet.Host = "node-1"
	x.Update(nil, hostNet)
	if x.Host("node-agent") != hostNet {
		t.Error("hostNetwork pod does not answer to its pod name")
	}
	if x.Host("node-1") != nil {
		t.Error("hostNetwork pod answers to its hostname")
	}
	if _, held := x.PTR(netip.MustParseAddr("192.0.2.10")); held {
		t.Error("hostNetwork pod appears in PTR")
	}
}

func TestPTRNewestAndHostname(t *testing.T) {
	x, _ := newIndex(Options{})
	old := pod("a", "old", 100, "10.0.0.1")
	young := pod("b", "young", 200, "10.0.0.1")
	young.Host = "custom"
	x.Update(nil, old)
	x.Update(nil, young)
	if name, _ := x.PTR(netip.MustParseAddr("10.0.0.1")); name != "custom" {
		t.Fatalf("PTR = %q, want the newest pod's hostname", name)
	}
	// The newest pod loses its hostname to an older holder: its pod name.
	rival := pod("a", "rival", 50, "10.0.9.9")
	rival.Host = "custom"
	x.Update(nil, rival)
	if name, _ := x.PTR(netip.MustParseAddr("10.0.0.1")); name != "young" {
		t.Fatalf("PTR = %q, want the pod name it still wins", name)
	}
	// And when it wins nothing: held, but no name.
	young2 := *young
	young2.NameOK = false
	x.Update(young, &young2)
	if name, held := x.PTR(netip.MustParseAddr("10.0.0.1")); name != "" || !held {
		t.Fatalf("PTR = %q, %v; want no name, held", name, held)
	}
}

func TestServiceMembership(t *testing.T) {
	x, svcs := newIndex(Options{})
	a := pod("default", "ws-a", 1, "10.0.0.1")
	x.Update(nil, a)
	if x.HostIn("ws-a", "ws") != nil {
		t.Fatal("member of a Service that does not exist")
	}
	svcs.Set("default", "ws", map[string]string{"app": "ws"})
	if x.HostIn("ws-a", "ws") != a {
		t.Fatal("not a member of a Service selecting it")
	}
	svcs.Set("other", "db", map[string]string{"app": "ws"})
	if x.HostIn("ws-a", "db") != nil {
		t.Fatal("member of a Service in another namespace")
	}
	svcs.Set("default", "ws", map[string]string{"app": "web"})
	if x.HostIn("ws-a", "ws") != nil {
		t.Fatal("still a member after the selector changed")
	}
	relabelled := *a
	relabelled.Labels = MakeLabels(map[string]string{"app": "web"})
	x.Update(a, &relabelled)
	if x.HostIn("ws-a", "ws") != &relabelled {
		t.Fatal("not a member after its labels changed to match")
	}
	svcs.Set("default", "ws", nil)
	if x.HostIn("ws-a", "ws") != nil {
		t.Fatal("an empty selector selects a pod")
	}
}

func TestServiceFormPicksMemberAmongHolders(t *testing.T) {
	x, svcs := newIndex(Options{})
	winner := pod("a", "ws-0", 1, "10.0.0.1")
	winner.Labels = MakeLabels(map[string]string{"app": "other"})
	member := pod("b", "ws-0", 2, "10.0.0.2")
	x.Update(nil, winner)
	x.Update(nil, member)
	svcs.Set("b", "ws", map[string]string{"app": "ws"})
	if x.Host("ws-0") != winner || x.HostIn("ws-0", "ws") != member {
		t.Fatal("the service form must pick the winner among the Service's pods")
	}
}

func TestHasBelow(t *testing.T) {
	x, svcs := newIndex(Options{})
	x.Update(nil, pod("default", "a.b.c", 1, "10.0.0.1"))
	x.Update(nil, pod("default", "ws-1", 1, "10.0.0.2"))
	svcs.Set("default", "ws", map[string]string{"app": "ws"})
	svcs.Set("default", "empty", map[string]string{"app": "none"})
	for prefix, want := range map[string]bool{
		"b.c":     true, // parent of a dotted pod name
		"c":       true,
		"ws":      true, // <pod>.ws exists
		"c.ws":    true, // a.b.c.ws exists
		"b.c.ws":  true,
		"empty":   false, // selects no pod
		"x":       false,
		"a":       false,
		"zz.ws":   false,
		"c.empty": false,
	} {
		if got := x.HasBelow(prefix); got != want {
			t.Errorf("HasBelow(%q) = %v, want %v", prefix, got, want)
		}
	}
}

func TestHasReverseBelow(t *testing.T) {
	x, _ := newIndex(Options{})
	p := pod("default", "a", 1, "10.36.0.1", "fd00:1::5")
	x.Update(nil, p)
	for s, want := range map[string]bool{
		"10.0.0.0/8": true, "10.36.0.0/16": true, "10.36.0.0/24": true, "10.37.0.0/16": false,
		"fd00::/16": true, "fd00:1::/32": true, "fd00:2::/32": false,
	} {
		if got := x.HasReverseBelow(netip.MustParsePrefix(s)); got != want {
			t.Errorf("HasReverseBelow(%s) = %v, want %v", s, got, want)
		}
	}
	x.Update(p, nil)
	if x.HasReverseBelow(netip.MustParsePrefix("10.0.0.0/8")) {
		t.Error("reverse ancestor survives the pod")
	}
}

func TestKubeletHostname(t *testing.T) {
	long := "abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefgh-ij" // 66
	cases := []struct {
		pod, hostname, override string
		fqdn                    bool
		want                    string
	}{
		{"ws-777779bd59-ftn4j", "", "", false, "ws-777779bd59-ftn4j"},
		{"ws-0", "web", "", false, "web"},
		{"ws-0", "web", "Override", false, "override"},
		{"ws-0", "web.sub", "", true, "web"},
		{long, "", "", false, "abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefgh"},
		{"a.b.c", "", "", false, "a.b.c"},
		{"a.b.c", "", "", true, "a"},
	}
	for _, tc := range cases {
		if got := KubeletHostname(tc.pod, tc.hostname, tc.override, tc.fqdn); got != tc.want {
			t.Errorf("KubeletHostname(%q, %q, %q, %v) = %q, want %q", tc.pod, tc.hostname, tc.override, tc.fqdn, got, tc.want)
		}
	}
}

func TestNameFits(t *testing.T) {
	for name, want := range map[string]bool{
		"ws-0": true, "a.b": true, "": false, "a..b": false,
		"x" + string(make([]byte, 63)): false,
	} {
		if got := NameFits(name); got != want {
			t.Errorf("NameFits(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestLabelsInterned(t *testing.T) {
	a := MakeLabels(map[string]string{"app": "ws", "tier": "1"})
	b := MakeLabels(map[string]string{"tier": "1", "app": "ws"})
	if a != b {
		t.Fatal("equal label sets are not one interned value")
	}
	if a.matches(selectorNeedles(map[string]string{"app": "w"})) {
		t.Fatal("a prefix of a value matched")
	}
	if !a.matches(selectorNeedles(map[string]string{"app": "ws", "tier": "1"})) {
		t.Fatal("exact selector did not match")
	}
	// The buffers are reused: a set made later leaves the earlier ones whole.
	other := MakeLabels(map[string]string{"app": "db", "tier": "2"})
	if a.h.Value() != "\x00app=ws\x00tier=1\x00" || other == a || other.h.Value() != "\x00app=db\x00tier=2\x00" {
		t.Fatalf("after another set: %q and %q", a.h.Value(), other.h.Value())
	}
}

func TestConflictReportedOnce(t *testing.T) {
	x, _ := newIndex(Options{})
	a := pod("a", "ws-0", 1, "10.0.0.1")
	b := pod("b", "ws-0", 2, "10.0.0.2")
	x.Update(nil, a)
	if shared := x.Update(nil, b); !slices.Equal(shared, []string{"ws-0"}) {
		t.Fatalf("conflict start reported as %v", shared)
	}
	moved := pod("b", "ws-0", 2, "10.0.0.3")
	if shared := x.Update(b, moved); len(shared) != 0 {
		t.Fatalf("an IP change of a conflicting pod reported %v again", shared)
	}
}

func TestHostNetworkSelectsNoService(t *testing.T) {
	x, svcs := newIndex(Options{HostNetwork: true})
	p := pod("default", "agent", 1, "192.0.2.1")
	p.HostNetwork = true
	x.Update(nil, p)
	svcs.Set("default", "ws", map[string]string{"app": "ws"})
	if x.HasBelow("ws") || x.HostIn("agent", "ws") != nil {
		t.Fatal("a hostNetwork pod gives a Service name")
	}
}
