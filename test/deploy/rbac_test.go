package deploy

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/cluster"
	"github.com/podname/podname/test/harness"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// TestRBAC: deploy/base's ClusterRole is enough and needed. The API server runs with
// --authorization-mode=RBAC (test/cluster/apiserver.go) and the ServiceAccounts act through
// tokens from the TokenRequest API, as pods do. kube-system/coredns, bound by deploy/base, gains
// exactly get/list/watch on pods and services, and the real coredns running as it syncs and
// answers; a ServiceAccount without the binding never gets ready, and coredns's log names the
// permission it lacks.
func TestRBAC(t *testing.T) {
	c := harness.Cluster(t, cluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	if _, err := harness.KubectlClean(ctx, c.Kubeconfig(), "apply", "-k", harness.DeployDir(t, "base")); err != nil {
		t.Fatalf("apply deploy/base: %v", err)
	}
	// deploy/base binds the ServiceAccount the cluster's CoreDNS already has; here nothing
	// made it, so the test does, and one more that nothing binds.
	harness.CreateServiceAccount(t, c, "kube-system", "coredns")
	harness.CreateServiceAccount(t, c, "kube-system", "coredns-unbound")
	bound := harness.ServiceAccountKubeconfig(t, c, t.TempDir(), "kube-system", "coredns")
	unbound := harness.ServiceAccountKubeconfig(t, c, t.TempDir(), "kube-system", "coredns-unbound")

	role, err := c.Client().RbacV1().ClusterRoles().Get(ctx, "system:podname", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get ClusterRole system:podname: %v", err)
	}
	checkPodnameRules(t, role.Rules)

	checkGrants(t, ctx, bound, unbound, "kube-system/coredns")

	ips := runPods(t, c, "rbac-pod")
	corefile := harness.ConfigMapCorefile(t, harness.Render(t, "overlays/standalone"), "podname")

	t.Run("bound", func(t *testing.T) {
		dnsServer := harness.Start(t, corefile, harness.Loopback(t, bound))
		waitReady(t, dnsServer)
		expectA(t, dnsServer.Addr(), "rbac-pod."+zone, ips["rbac-pod"])
	})

	t.Run("unbound", func(t *testing.T) {
		dnsServer := harness.Start(t, corefile, harness.Loopback(t, unbound))
		// The list is refused and logged, and start-up gives up waiting for it after
		// startup_timeout, retrying meanwhile; by then coredns would have been ready.
		want := []string{"forbidden", `User "system:serviceaccount:kube-system:coredns-unbound"`, `cannot list resource "pods"`}
		gaveUp := "starting server with unsynced Kubernetes API"
		var refusal string
		err := harness.Poll(ctx, "coredns to log the refused list of pods and start unsynced", func() (bool, error) {
			if dnsServer.Exited() {
				return false, fmt.Errorf("coredns exited")
			}
			log := dnsServer.Log()
			refusal = ""
			for _, line := range strings.Split(log, "\n") {
				if containsAll(line, want) {
					refusal = line
				}
			}
			return refusal != "" && strings.Contains(log, gaveUp), nil
		})
		if err != nil {
			t.Fatalf("%v; want a log line containing all of %q, and %q", err, want, gaveUp)
		}
		t.Logf("coredns logged: %s", refusal)
		code, body := getReady(t, ctx, dnsServer)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "podname") {
			t.Errorf("/ready without the binding: %d %q, want 503 naming podname", code, body)
		}
		// Past startup_timeout it serves anyway, SERVFAIL for what it has not listed.
		r, err := harness.WaitAnswer(ctx, dnsServer.Addr(), "rbac-pod."+zone, dns.TypeA, func(*dns.Msg) bool { return true })
		if err != nil {
			t.Fatal(err)
		}
		if r.Rcode != dns.RcodeServerFailure {
			t.Errorf("A rbac-pod.%s without the binding: %s, want SERVFAIL", zone, dns.RcodeToString[r.Rcode])
		}
	})
}

// checkGrants fails t unless the ServiceAccount behind kubeconfig bound (who) holds exactly
// podname's rule more than the one behind unbound, in a namespace and across all of them, as
// the API server's authorizer reports it to each ServiceAccount itself.
func checkGrants(t *testing.T, ctx context.Context, bound, unbound, who string) {
	t.Helper()
	gained := difference(rulesOf(t, ctx, bound, "default"), rulesOf(t, ctx, unbound, "default"))
	want := []string{"get pods", "get services", "list pods", "list services", "watch pods", "watch services"}
	if !slices.Equal(gained, want) {
		t.Errorf("the binding gives %s %v, want exactly %v", who, gained, want)
	}
	for _, verb := range []string{"get", "list", "watch"} {
		for _, resource := range []string{"pods", "services"} {
			if !allowed(t, ctx, bound, verb, resource) {
				t.Errorf("%s may not %s %s in all namespaces", who, verb, resource)
			}
		}
	}
	for _, denied := range [][2]string{{"list", "secrets"}, {"list", "endpoints"}, {"list", "namespaces"}, {"create", "pods"}, {"delete", "pods"}, {"update", "services"}} {
		if allowed(t, ctx, bound, denied[0], denied[1]) {
			t.Errorf("%s may %s %s in all namespaces; the binding must grant nothing more", who, denied[0], denied[1])
		}
	}
}

// clientFor is a clientset acting with kubeconfig.
func clientFor(t *testing.T, kubeconfig string) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatalf("load kubeconfig %s: %v", kubeconfig, err)
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("client for %s: %v", kubeconfig, err)
	}
	return client
}

// rulesOf asks the API server, as kubeconfig's user, which resource rules it holds in ns,
// and returns them as sorted "verb resource" pairs (resource prefixed by its group unless core).
func rulesOf(t *testing.T, ctx context.Context, kubeconfig, ns string) []string {
	t.Helper()
	review, err := clientFor(t, kubeconfig).AuthorizationV1().SelfSubjectRulesReviews().Create(ctx,
		&authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: ns}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectRulesReview as %s: %v", kubeconfig, err)
	}
	if review.Status.Incomplete {
		t.Fatalf("SelfSubjectRulesReview as %s is incomplete: %s", kubeconfig, review.Status.EvaluationError)
	}
	var pairs []string
	for _, r := range review.Status.ResourceRules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				if g != "" {
					res = res + "." + g
				}
				for _, v := range r.Verbs {
					pairs = append(pairs, v+" "+res)
				}
			}
		}
	}
	slices.Sort(pairs)
	return slices.Compact(pairs)
}

// allowed asks the API server, as kubeconfig's user, whether it may verb resource in every namespace.
func allowed(t *testing.T, ctx context.Context, kubeconfig, verb, resource string) bool {
	t.Helper()
	review, err := clientFor(t, kubeconfig).AuthorizationV1().SelfSubjectAccessReviews().Create(ctx,
		&authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Resource: resource},
		}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("SelfSubjectAccessReview %s %s as %s: %v", verb, resource, kubeconfig, err)
	}
	return review.Status.Allowed
}

// difference is the sorted elements of a not in b.
func difference(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// getReady returns the status and body of coredns's /ready.
func getReady(t *testing.T, ctx context.Context, c *harness.CoreDNS) (int, string) {
	t.Helper()
	var body strings.Builder
	code, err := harness.Get(ctx, "http://"+c.ReadyAddr+"/ready", &body)
	if err != nil {
		t.Fatal(err)
	}
	return code, body.String()
}
