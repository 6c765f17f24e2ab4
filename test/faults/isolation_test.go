package faults

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/harness"

	corev1 "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ptrNamespacesCorefile is multi-namespace.Corefile's shared zone with a reverse zone added,
// which the example lacks, so that PTRs can be asked too. No fallthrough: an IP no listed pod
// holds is NXDOMAIN.
const ptrNamespacesCorefile = `.:53 {
    errors
    ready
    podname mgmt.pix.yun.com in-addr.arpa {
        namespaces prod staging
    }
}
`

// isolationRounds is how many times the isolation checks are asked.
const isolationRounds = 20

// TestNamespaceIsolation runs multi-namespace.Corefile (zones prod., staging. and the shared
// one listing prod and staging) beside the same list with a reverse zone. Pods in a namespace
// not listed never answer: not by name, not as <name>.<svc>, not by PTR, not in any zone, even
// when they share a name with a listed pod, and not when they arrive after the start. Listed
// pods answer where their namespace is listed, and only there.
func TestNamespaceIsolation(t *testing.T) {
	t.Parallel()
	api := replicaAPI(t)
	prod, staging, other := api.namespace(t, "prod"), api.namespace(t, "staging"), api.namespace(t, "iso-other")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	web := map[string]string{"app": "web"}
	for _, ns := range []string{prod, staging, other} {
		if err := api.createWebService(ctx, ns); err != nil {
			t.Fatal(err)
		}
	}
	prodIPs := api.staticPods(ctx, t, prod, web, "app-1")
	stagingIPs := api.staticPods(ctx, t, staging, web, "app-2")
	otherIPs := api.staticPods(ctx, t, other, web, "app-1", "app-2", "other-1")

	multi := harness.StartExample(t, "multi-namespace.Corefile", api.kubeconfig)
	ptr := harness.Start(t, ptrNamespacesCorefile, harness.Loopback(t, api.kubeconfig))
	for _, c := range []*harness.CoreDNS{multi, ptr} {
		harness.Serving(ctx, t, c, zone)
	}
	shared, prodZone, stagingZone := zone, "prod."+zone, "staging."+zone
	wants := []nameWant{
		// Listed pods, where their namespace is listed.
		{"app-1." + prodZone, prodZone, prodIPs["app-1"]},
		{"app-1." + shared, shared, prodIPs["app-1"]},
		{"app-1.web." + shared, shared, prodIPs["app-1"]},
		{"app-1.web." + prodZone, prodZone, prodIPs["app-1"]},
		{"app-2." + stagingZone, stagingZone, stagingIPs["app-2"]},
		{"app-2." + shared, shared, stagingIPs["app-2"]},
		{"app-2." + prodZone, prodZone, gone},
		{"app-1." + stagingZone, stagingZone, gone},
	}
	// The pod of the namespace not listed, in every zone and form.
	for _, z := range []string{shared, prodZone, stagingZone} {
		wants = append(wants, nameWant{"other-1." + z, z, gone}, nameWant{"other-1.web." + z, z, gone})
	}
	reverse := []ptrWant{{prodIPs["app-1"], fqdn("app-1")}, {stagingIPs["app-2"], fqdn("app-2")}}
	for _, ip := range otherIPs {
		reverse = append(reverse, ptrWant{ip, gone})
	}
	// Wait for the index, then ask every question many times.
	if _, err := harness.WaitAnswer(ctx, multi.Addr(), "app-1."+shared, dns.TypeA, func(r *dns.Msg) bool { return judge(r, prodIPs["app-1"]) == nil }); err != nil {
		t.Fatal(err)
	}
	checkIsolation(t, multi, ptr, wants, reverse)

	// A pod of the namespace not listed that comes after the start: a listed pod created after
	// it answering means the watch has delivered it too.
	late := api.staticPods(ctx, t, other, web, "late-1")
	marker := api.staticPods(ctx, t, prod, web, "marker-1")
	waitAnswers(ctx, t, []*harness.CoreDNS{multi, ptr}, fqdns(marker))
	for _, z := range []string{shared, prodZone, stagingZone} {
		wants = append(wants, nameWant{"late-1." + z, z, gone}, nameWant{"late-1.web." + z, z, gone})
	}
	reverse = append(reverse, ptrWant{late["late-1"], gone})
	checkIsolation(t, multi, ptr, wants, reverse)
	t.Logf("isolation: %d rounds of %d names and %d PTRs on 2 servers; no pod of %s answered", 2*isolationRounds, len(wants), len(reverse), other)
}

// nameWant is an A question and its answer: an IP, or gone for NXDOMAIN in zone.
type nameWant struct{ name, zone, ip string }

// ptrWant is a PTR question and its target, or gone for NXDOMAIN.
type ptrWant struct{ ip, target string }

// checkIsolation asks every name of wants of multi and ptr, and every PTR of ptr,
// isolationRounds times.
func checkIsolation(t *testing.T, multi, ptr *harness.CoreDNS, wants []nameWant, reverse []ptrWant) {
	t.Helper()
	for range isolationRounds {
		for _, w := range wants {
			if err := askIn(multi, w.zone, w.name, w.ip); err != nil {
				t.Fatal(err)
			}
			// The reverse variant serves the shared zone only.
			if w.zone == zone {
				if err := askIn(ptr, w.zone, w.name, w.ip); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, w := range reverse {
			rev, err := dns.ReverseAddr(w.ip)
			if err != nil {
				t.Fatalf("reverse name of %s: %v", w.ip, err)
			}
			if err := askPTR(ptr, rev, w.target); err != nil {
				t.Fatalf("%s: %v", w.ip, err)
			}
		}
	}
}

// createWebService creates Service web selecting app=web in ns.
func (api *apiServer) createWebService(ctx context.Context, ns string) error {
	svc := &corev1.Service{
		ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(80)}},
		},
	}
	if _, err := api.client.CoreV1().Services(ns).Create(ctx, svc, meta.CreateOptions{}); err != nil {
		return fmt.Errorf("create service %s/web: %w", ns, err)
	}
	return nil
}

// conflictChecks is how many times TestNoTakeover asks the contested name in each phase, one
// per conflictPeriod.
const (
	conflictChecks = 100
	conflictPeriod = 20 * time.Millisecond
)

// TestNoTakeover runs labels.Corefile (no namespaces list, no cache) and gives the name dup to
// a pod in one namespace, then to a newer pod in another namespace whose name sorts first: the
// answer must stay the first pod's IP every time it is asked, while both are indexed and after
// the newer one is deleted.
func TestNoTakeover(t *testing.T) {
	t.Parallel()
	api := replicaAPI(t)
	// The newer pod's namespace sorts first, so a rule by namespace name alone would hand it the
	// name.
	first, second := api.namespace(t, "iso-z-first"), api.namespace(t, "iso-a-second")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	register := map[string]string{registerLabel: "true"}
	c := harness.StartExample(t, "labels.Corefile", api.kubeconfig)
	harness.Serving(ctx, t, c, zone)
	servers := []*harness.CoreDNS{c}
	ipFirst := staticIP(t)
	older, err := api.createStaticPod(ctx, first, "dup", ipFirst, register)
	if err != nil {
		t.Fatal(err)
	}
	name := fqdn("dup")
	waitAnswers(ctx, t, servers, map[string]string{name: ipFirst})

	// creationTimestamp has a resolution of one second: the newer pod must be at least a second
	// younger, or the tie would be broken by namespace name and the test would prove less.
	if err := harness.WaitNextSecond(ctx, older); err != nil {
		t.Fatal(err)
	}
	newer, err := api.createStaticPod(ctx, second, "dup", staticIP(t), register)
	if err != nil {
		t.Fatal(err)
	}
	if !newer.CreationTimestamp.After(older.CreationTimestamp.Time) {
		t.Fatalf("pod %s/dup created %s, not after %s/dup (%s)", second, newer.CreationTimestamp, first, older.CreationTimestamp)
	}
	// Both indexed: the conflict is counted.
	harness.Conflicts(ctx, t, c, zone, 1)
	checkStays(t, c, name, ipFirst, "with both pods indexed")
	if want := "several pods answer to " + name + "; " + first + "/dup wins"; !strings.Contains(c.Log(), want) {
		t.Errorf("coredns did not log the conflict: no %q in its log", want)
	}

	if err := api.deleteNow(ctx, second, "dup"); err != nil {
		t.Fatal(err)
	}
	harness.Conflicts(ctx, t, c, zone, 0)
	checkStays(t, c, name, ipFirst, "after the newer pod was deleted")
	t.Logf("no takeover: %s asked %d times with %s/dup and the newer %s/dup indexed, and %d times after the newer one went: always %s",
		name, conflictChecks, first, second, conflictChecks, ipFirst)
}

// checkStays asks name conflictChecks times and wants ip every time.
func checkStays(t *testing.T, c *harness.CoreDNS, name, ip, when string) {
	t.Helper()
	tick := time.NewTicker(conflictPeriod)
	defer tick.Stop()
	for i := range conflictChecks {
		if err := ask(c, name, ip); err != nil {
			t.Fatalf("%s, ask %d of %d: %v", when, i+1, conflictChecks, err)
		}
		<-tick.C
	}
}
