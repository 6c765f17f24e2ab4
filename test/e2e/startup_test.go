package e2e

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/harness"

	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestStartupWithoutAPIServer starts the Corefile example while the API
// server is down. Once its start-up wait ends and it serves, a pod's name
// and an unknown name get SERVFAIL, never NXDOMAIN, the apex SOA answers,
// and /ready is not 200. With the API server back, /ready turns 200, and
// at that moment a pod name and an unknown name never asked before (the
// cache keeps the outage's SERVFAILs a while) get their right answers; the
// name asked during the outage follows; and coredns_podname_pods comes to
// the number of pods the API server shows that podname indexes.
func TestStartupWithoutAPIServer(t *testing.T) {
	ns := harness.Namespace(t, kube.Client(), "startup")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := kube.Client().AppsV1().Deployments(ns).Create(ctx, harness.WSDeployment(ns, 2), meta.CreateOptions{}); err != nil {
		t.Fatalf("create deployment %s/ws: %v", ns, err)
	}
	pods := harness.Running(ctx, t, kube.Client(), ns, "app=ws", 2)
	early, late := pods[0], pods[1]
	earlyName, lateName := early.Name+"."+zone, late.Name+"."+zone

	down := true
	t.Cleanup(func() {
		// Later tests, and this one's namespace cleanup, need it back.
		if !down {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := kube.StartAPIServer(ctx); err != nil {
			t.Error(err)
		}
	})
	if err := kube.StopAPIServer(); err != nil {
		t.Fatal(err)
	}

	c := harness.StartExample(t, "Corefile", kube.Kubeconfig())
	// The port opens when the start-up wait gives up on the API server.
	if err := c.WaitListening(ctx); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{earlyName, "no-such-pod-early." + zone} {
		if err := ask(c.Addr(), name, dns.TypeA, rcodeIs(dns.RcodeServerFailure)); err != nil {
			t.Errorf("with the API server down: %v", err)
		}
	}
	if err := ask(c.Addr(), zone, dns.TypeSOA, apexSOA(zone)); err != nil {
		t.Errorf("with the API server down: %v", err)
	}
	if code, err := c.Ready(ctx); err != nil {
		t.Errorf("/ready with the API server down: %v", err)
	} else if code == http.StatusOK {
		t.Errorf("/ready with the API server down: %d, want not %d", code, http.StatusOK)
	}

	if err := kube.StartAPIServer(ctx); err != nil {
		t.Fatal(err)
	}
	down = false
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	// The DNS listener is open already, so these are the first answers
	// after /ready turned 200.
	if err := ask(c.Addr(), lateName, dns.TypeA, addresses(late.Status.PodIP)); err != nil {
		t.Errorf("first asked when /ready turned 200: %v", err)
	}
	if err := ask(c.Addr(), "no-such-pod-late."+zone, dns.TypeA, nxdomain(zone)); err != nil {
		t.Errorf("first asked when /ready turned 200: %v", err)
	}

	// The name asked during the outage: SERVFAIL (cached) until the IP.
	err := harness.Poll(ctx, earlyName+" answering after the outage", func() (bool, error) {
		r, err := harness.Query(c.Addr(), earlyName, dns.TypeA)
		if err != nil {
			return false, err
		}
		if r.Rcode == dns.RcodeServerFailure {
			return false, nil
		}
		return true, addresses(early.Status.PodIP)(r)
	})
	if err != nil {
		t.Error(err)
	} else if err := ask(c.Addr(), earlyName, dns.TypeA, addresses(early.Status.PodIP)); err != nil {
		t.Errorf("after the outage: %v", err)
	}

	waitPodsMetric(ctx, t, c)
}

// apexSOA wants NOERROR with zone's SOA as the one answer.
func apexSOA(zone string) check {
	return func(r *dns.Msg) error {
		if r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1 {
			if soa, ok := r.Answer[0].(*dns.SOA); ok && soa.Hdr.Name == dns.Fqdn(zone) {
				return nil
			}
		}
		return fmt.Errorf("got %s %v, want NOERROR SOA %s", dns.RcodeToString[r.Rcode], r.Answer, dns.Fqdn(zone))
	}
}

// waitPodsMetric waits until coredns_podname_pods equals the number of pods
// in all namespaces that the API server shows podname should index. Other
// tests' pods may still be going, so both sides are read on every try.
func waitPodsMetric(ctx context.Context, t *testing.T, c *harness.CoreDNS) {
	t.Helper()
	var got float64
	want := -1
	err := harness.Poll(ctx, "coredns_podname_pods equal to the indexable pods", func() (bool, error) {
		list, err := kube.Client().CoreV1().Pods("").List(ctx, meta.ListOptions{})
		if err != nil {
			return false, fmt.Errorf("list pods: %w", err)
		}
		want = 0
		for i := range list.Items {
			if harness.Indexable(&list.Items[i]) {
				want++
			}
		}
		var found bool
		got, found, err = c.Metric(ctx, "coredns_podname_pods", nil)
		return found && got == float64(want), err
	})
	if err != nil {
		t.Fatalf("%v (last: metric %v, API %d)", err, got, want)
	}
	t.Logf("coredns_podname_pods = %v, as the API server shows", got)
}
