package faults

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/podname/podname/test/harness"

	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// outageLength is how long the API server stays down: long enough for client-go's backoff to
// reach its ceiling, as in a real control-plane outage.
const outageLength = 60 * time.Second

// lastSyncSlack is how long after its last data the plugin may still mark the watch as synced:
// it looks at the resource version every 5s.
const lastSyncSlack = 6 * time.Second

// hold lets a fault last d, the point of the test rather than a wait for a condition; it fails
// t if ctx ends first.
func hold(ctx context.Context, t *testing.T, d time.Duration, during string) {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		t.Fatalf("test deadline %s: %v", during, ctx.Err())
	}
}

// TestAPIServerOutage stops the API server for outageLength while a probe asks every pod of
// a Deployment of 10 on two servers (the Corefile example, behind its cache, and
// labels.Corefile, podname alone): every answer must stay the pod's IP, /ready must stay 200,
// and coredns_podname_last_sync_timestamp_seconds must show the outage (no later than the
// stop). After the API server is back, 3 pods are deleted and 3 new ones made: the index must
// converge (deleted names NXDOMAIN, new ones answering) while the 7 untouched pods keep
// answering correctly throughout.
func TestAPIServerOutage(t *testing.T) {
	t.Parallel()
	api := mainAPI()
	ns := api.namespace(t, "outage")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ws := harness.WSDeployment(ns, 10)
	ws.Spec.Template.Labels[registerLabel] = "true" // labels.Corefile answers only these
	if _, err := kube.Client().AppsV1().Deployments(ns).Create(ctx, ws, meta.CreateOptions{}); err != nil {
		t.Fatalf("create deployment %s/ws: %v", ns, err)
	}
	created := time.Now()
	pods := harness.Running(ctx, t, kube.Client(), ns, "app=ws", 10)
	t.Logf("deployment %s/ws: 10 pods Running %s after it was created", ns, time.Since(created).Round(time.Millisecond))
	servers := []*harness.CoreDNS{harness.StartExample(t, "Corefile", api.kubeconfig), harness.StartExample(t, "labels.Corefile", api.kubeconfig)}
	for _, c := range servers {
		harness.Serving(ctx, t, c, zone)
	}
	want := map[string]string{}
	for _, p := range pods {
		want[fqdn(p.Name)] = p.Status.PodIP
	}
	waitAnswers(ctx, t, servers, want)

	// The outage: the probe runs from before the stop until the API server is ready again.
	pr := startProbe(ctx, t, servers, want, 50*time.Millisecond, outageLength+2*time.Minute)
	if err := kube.StopAPIServer(); err != nil {
		t.Fatalf("stop the API server: %v", err)
	}
	stopped := time.Now()
	hold(ctx, t, outageLength, "during the outage")
	// During the outage the index is stale by design; the metric must say since when,
	// read before the API server starts again and the watch catches up.
	for _, c := range servers {
		last, _, err := c.Metric(ctx, "coredns_podname_last_sync_timestamp_seconds", nil)
		if err != nil {
			t.Fatal(err)
		}
		lastSync := time.Unix(0, int64(last*1e9))
		t.Logf("coredns at %s: last sync %s before the API server was started again", c.Addr(), time.Since(lastSync).Round(time.Millisecond))
		// A missing series reads as 0, which is before any stop: it must be after coredns started.
		if lastSync.Before(c.Started) {
			t.Errorf("coredns at %s: coredns_podname_last_sync_timestamp_seconds is %v, before coredns started: no sync recorded", c.Addr(), last)
		}
		if lastSync.After(stopped.Add(lastSyncSlack)) {
			t.Errorf("coredns at %s: coredns_podname_last_sync_timestamp_seconds is %s after the API server stopped, want at most %s: it does not show the outage",
				c.Addr(), lastSync.Sub(stopped).Round(time.Millisecond), lastSyncSlack)
		}
	}
	if err := kube.StartAPIServer(ctx); err != nil {
		t.Fatalf("start the API server again: %v", err)
	}
	back := time.Now()
	res := pr.finish()
	t.Logf("outage: API server down %s; %d queries over %s (%d rounds of %d names on %d servers), %d wrong; /ready checked %d times, %d not 200",
		back.Sub(stopped).Round(time.Millisecond), res.Queries, res.Elapsed.Round(time.Millisecond), res.Rounds, len(want), len(servers),
		res.Wrong, res.ReadyChecks, res.NotReady)
	res.check(t, "during the API server outage")

	// After: 3 pods of the Deployment go, deleted at once, and 3 pods come, made on the static
	// node. The controller manager, the scheduler and kwok are backing off after the outage as
	// coredns is, and the time they take is theirs, not the index's: the ReplicaSet's
	// replacements of the 3, made once it is back, are not waited for.
	survivors := map[string]string{}
	final := map[string]string{}
	for i, p := range pods {
		if i < 3 {
			if err := api.deleteNow(ctx, ns, p.Name); err != nil {
				t.Fatal(err)
			}
			final[fqdn(p.Name)] = gone
			continue
		}
		survivors[fqdn(p.Name)] = p.Status.PodIP
		final[fqdn(p.Name)] = p.Status.PodIP
	}
	after := startProbe(ctx, t, servers, survivors, 50*time.Millisecond, 3*time.Minute)
	for name, ip := range api.staticPods(ctx, t, ns, map[string]string{registerLabel: "true"}, "new-0", "new-1", "new-2") {
		final[fqdn(name)] = ip
	}
	cctx, ccancel := context.WithTimeout(ctx, 2*time.Minute)
	defer ccancel()
	waitAnswers(cctx, t, servers, final)
	converged := time.Since(back)
	res = after.finish()
	t.Logf("after the outage: 3 pods deleted and 3 created; index converged %s after the API server was back; survivors: %d queries, %d wrong",
		converged.Round(time.Millisecond), res.Queries, res.Wrong)
	res.check(t, "while the index converged after the outage")

	// The outage is in the log, once, and so is its end: client-go retries a refused watch
	// quietly, so this is the plugin's own line.
	for _, c := range servers {
		log := c.Log()
		down := strings.Count(log, "cannot reach the API server")
		up := strings.Count(log, "API server reachable again")
		if down == 0 || down != up {
			t.Errorf("coredns at %s logged the outage %d times and its end %d times, want once each per client", c.Addr(), down, up)
		}
	}
}
