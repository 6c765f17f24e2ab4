package e2e

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/harness"

	corev1 "k8s.io/api/core/v1"
)

// TestConflictNamespaces runs multi-namespace.Corefile: pod ws-0 in staging
// and in prod, staging's the older. mgmt.pix.yun.com lists prod first, so
// it answers prod's ws-0, against age; prod.mgmt and staging.mgmt answer
// their own. Staging's ws-0 deleted and made again, now the newer, changes
// nothing in mgmt.pix.yun.com: every answer there, asked throughout, is
// prod's.
func TestConflictNamespaces(t *testing.T) {
	// The example's namespaces; no other test uses them.
	prod, staging := harness.Namespace(t, kube.Client(), "prod"), harness.Namespace(t, kube.Client(), "staging")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	older := harness.CreatePod(t, kube.Client(), staging, "ws-0")
	waitNextSecond(ctx, t, older)
	prodPod := harness.CreatePod(t, kube.Client(), prod, "ws-0")
	if !prodPod.CreationTimestamp.After(older.CreationTimestamp.Time) {
		t.Fatalf("prod/ws-0 created at %s, not after staging/ws-0 at %s", prodPod.CreationTimestamp, older.CreationTimestamp)
	}

	c := harness.StartExample(t, "multi-namespace.Corefile", kube.Kubeconfig())
	harness.Serving(ctx, t, c, zone)
	prodIP, stagingIP := prodPod.Status.PodIP, older.Status.PodIP
	shared := "ws-0." + zone
	want := map[string]string{
		shared:                                  prodIP,
		"ws-0." + prod + "." + zone:             prodIP,
		"ws-0." + staging + "." + zone:          stagingIP,
		"WS-0." + staging + ".MGMT.pix.yun.com": stagingIP,
	}
	for name, ip := range want {
		if _, err := harness.WaitAnswer(ctx, c.Addr(), name, dns.TypeA, func(r *dns.Msg) bool { return addresses(ip)(r) == nil }); err != nil {
			t.Fatal(err)
		}
		if err := ask(c.Addr(), name, dns.TypeA, addresses(ip)); err != nil {
			t.Error(err)
		}
	}
	harness.Conflicts(ctx, t, c, zone, 1)

	// Staging's ws-0 goes and comes back newer; mgmt.pix.yun.com stays prod's.
	stop := watchName(c.Addr(), shared, prodIP)
	harness.DeletePod(t, kube.Client(), staging, "ws-0")
	newer := harness.CreatePod(t, kube.Client(), staging, "ws-0")
	if _, err := harness.WaitAnswer(ctx, c.Addr(), "ws-0."+staging+"."+zone, dns.TypeA, func(r *dns.Msg) bool {
		return addresses(newer.Status.PodIP)(r) == nil
	}); err != nil {
		t.Fatal(err)
	}
	harness.Conflicts(ctx, t, c, zone, 1)
	if err := stop(); err != nil {
		t.Errorf("while staging/ws-0 was remade: %v", err)
	}
	if err := ask(c.Addr(), shared, dns.TypeA, addresses(prodIP)); err != nil {
		t.Errorf("after staging/ws-0 was remade: %v", err)
	}
}

// TestConflictOldestWins runs podname with no namespaces list: db-0 in two
// namespaces, the one whose namespace sorts last the older, so neither
// namespace order nor a newer pod can explain the answer, only age. Every
// answer from the first until the newer pod is indexed (the conflict metric
// says when) is the older pod's. Then, as the README warns, the older pod's
// deletion hands the name to the other. A label selector keeps other tests'
// pods, which may still be going, out of the conflict count.
func TestConflictOldestWins(t *testing.T) {
	first, second := harness.Namespace(t, kube.Client(), "oldest-b"), harness.Namespace(t, kube.Client(), "oldest-a")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	c := harness.Start(t, `mgmt.pix.yun.com:53 {
    errors
    ready
    prometheus :9153
    podname {
        labels app=db-0
    }
}`, harness.Loopback(t, kube.Kubeconfig()))
	harness.Serving(ctx, t, c, zone)

	name := "db-0." + zone
	older := harness.CreatePod(t, kube.Client(), first, "db-0")
	if _, err := harness.WaitAnswer(ctx, c.Addr(), name, dns.TypeA, func(r *dns.Msg) bool {
		return addresses(older.Status.PodIP)(r) == nil
	}); err != nil {
		t.Fatal(err)
	}
	stop := watchName(c.Addr(), name, older.Status.PodIP)
	waitNextSecond(ctx, t, older)
	newer := harness.CreatePod(t, kube.Client(), second, "db-0")
	if !newer.CreationTimestamp.After(older.CreationTimestamp.Time) {
		t.Fatalf("%s/db-0 created at %s, not after %s/db-0 at %s", second, newer.CreationTimestamp, first, older.CreationTimestamp)
	}
	harness.Conflicts(ctx, t, c, zone, 1)
	if err := stop(); err != nil {
		t.Errorf("while a newer %s/db-0 appeared: %v", second, err)
	}
	if err := ask(c.Addr(), name, dns.TypeA, addresses(older.Status.PodIP)); err != nil {
		t.Errorf("with both pods indexed: %v", err)
	}

	harness.DeletePod(t, kube.Client(), first, "db-0")
	if _, err := harness.WaitAnswer(ctx, c.Addr(), name, dns.TypeA, func(r *dns.Msg) bool {
		return addresses(newer.Status.PodIP)(r) == nil
	}); err != nil {
		t.Fatalf("after the older db-0 went: %v", err)
	}
	harness.Conflicts(ctx, t, c, zone, 0)
}

// waitNextSecond waits until a pod made next is younger than pod.
func waitNextSecond(ctx context.Context, t *testing.T, pod *corev1.Pod) {
	t.Helper()
	if err := harness.WaitNextSecond(ctx, pod); err != nil {
		t.Fatal(err)
	}
}

// watchName asks for name's A record every 10ms until the returned stop is
// called, which reports every answer that was not exactly ip. Stop first
// waits for two more answers, so at least one question asked wholly after
// the call is judged, however slowly the asking goroutine runs.
func watchName(server, name, ip string) (stop func() error) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	var asked atomic.Int64
	wg.Go(func() {
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			r, err := harness.Query(server, name, dns.TypeA)
			if err == nil {
				err = addresses(ip)(r)
			}
			n := asked.Add(1)
			if err != nil {
				mu.Lock()
				if len(errs) < 5 {
					errs = append(errs, fmt.Errorf("%s, answer %d: %w", name, n, err))
				}
				mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		want := asked.Load() + 2
		waited := harness.Poll(ctx, fmt.Sprintf("%d answers for %s", want, name), func() (bool, error) {
			return asked.Load() >= want, nil
		})
		close(done)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return errors.Join(append(errs, waited)...)
	}
}
