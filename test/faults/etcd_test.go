package faults

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podname/podname/test/harness"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// etcdDown is how long etcd stays stopped in TestEtcdRestart.
const etcdDown = 10 * time.Second

// TestEtcdRestart stops etcd for etcdDown under a running API server while a probe asks every
// pod's name: answers stay the pods' IPs and /ready stays 200. Once etcd and the API server
// serve again, pods are deleted, created and moved to other IPs, and the index must follow.
func TestEtcdRestart(t *testing.T) {
	api := mainAPI()
	ns := api.namespace(t, "etcd-restart")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ips := api.staticPods(ctx, t, ns, nil, "db-0", "db-1", "db-2", "db-3", "db-4", "db-5")
	servers := []*harness.CoreDNS{harness.StartExample(t, "Corefile", api.kubeconfig)}
	harness.Serving(ctx, t, servers[0], zone)
	want := fqdns(ips)
	waitAnswers(ctx, t, servers, want)

	pr := startProbe(ctx, t, servers, want, 50*time.Millisecond, etcdDown+2*time.Minute)
	start, err := kube.StopEtcd()
	if err != nil {
		t.Fatalf("stop etcd: %v", err)
	}
	// If the test ends early, later tests still need etcd.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := start(ctx); err != nil {
			t.Errorf("start etcd again: %v", err)
		}
	})
	stopped := time.Now()
	hold(ctx, t, etcdDown, "while etcd was down")
	if err := start(ctx); err != nil {
		t.Fatalf("start etcd again: %v", err)
	}
	down := time.Since(stopped)
	waitAPI(ctx, t)
	serving := time.Since(stopped)
	res := pr.finish()
	t.Logf("etcd restart: etcd down %s, API server serving again %s after the stop; %d queries over %s, %d wrong; /ready checked %d times, %d not 200",
		down.Round(time.Millisecond), serving.Round(time.Millisecond), res.Queries, res.Elapsed.Round(time.Millisecond), res.Wrong, res.ReadyChecks, res.NotReady)
	res.check(t, "while etcd was down")

	// After: the watch must still deliver changes.
	final := map[string]string{}
	for _, name := range []string{"db-0", "db-1"} {
		if err := api.deleteNow(ctx, ns, name); err != nil {
			t.Fatal(err)
		}
		final[fqdn(name)] = gone
	}
	moved := staticIP(t)
	if err := api.setPodIP(ctx, ns, "db-2", moved); err != nil {
		t.Fatal(err)
	}
	final[fqdn("db-2")] = moved
	survivors := map[string]string{}
	for _, name := range []string{"db-3", "db-4", "db-5"} {
		survivors[fqdn(name)] = ips[name]
		final[fqdn(name)] = ips[name]
	}
	after := startProbe(ctx, t, servers, survivors, 50*time.Millisecond, 2*time.Minute)
	for name, ip := range api.staticPods(ctx, t, ns, nil, "db-6", "db-7") {
		final[fqdn(name)] = ip
	}
	changed := time.Now()
	cctx, ccancel := context.WithTimeout(ctx, time.Minute)
	defer ccancel()
	waitAnswers(cctx, t, servers, final)
	converged := time.Since(changed)
	res = after.finish()
	t.Logf("after the etcd restart: 2 pods deleted, 1 moved, 2 created; index converged %s after the changes; survivors: %d queries, %d wrong",
		converged.Round(time.Millisecond), res.Queries, res.Wrong)
	res.check(t, "while the index converged after the etcd restart")
}

// TestEtcdCompaction cuts coredns off the API server (a proxy in between), changes pods, then
// compacts etcd to its current revision and restarts the API server, so that the resource
// version coredns last saw is gone from etcd and from the API server's watch cache: a watch
// resumed from it gets 410 Gone (checked with a watch of our own) and the reflector must
// relist. The index must then hold exactly the API's pods: deleted ones NXDOMAIN, moved ones at
// their new IP, new ones answering, no stale entry (coredns_podname_pods equals the API's
// count), while the untouched pods answer correctly throughout.
//
// That coredns relisted is read from coredns_podname_pod_events_total{event="update"}: a relist
// hands every pod still present to the handlers as an update, while a watch delivers events
// only for pods that changed, and resync is off. So at least one update per pod unchanged since
// the cut means a relist.
func TestEtcdCompaction(t *testing.T) {
	api := mainAPI()
	ns := api.namespace(t, "compaction")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	names := make([]string, 30)
	for i := range names {
		names[i] = fmt.Sprintf("c-%d", i)
	}
	ips := api.staticPods(ctx, t, ns, nil, names...)
	px := api.proxy(t)
	c := harness.StartExample(t, "Corefile", px.Kubeconfig(t))
	servers := []*harness.CoreDNS{c}
	harness.Serving(ctx, t, c, zone)
	want := fqdns(ips)
	waitAnswers(ctx, t, servers, want)
	survivors := map[string]string{}
	for _, name := range names[6:] {
		survivors[fqdn(name)] = ips[name]
	}

	// Cut off; change pods; compact; restart the API server; reconnect.
	pr := startProbe(ctx, t, servers, survivors, 50*time.Millisecond, 3*time.Minute)
	px.Cut(t)
	cut := markCut(ctx, t, c)
	final := maps.Clone(want)
	for _, name := range names[:4] {
		if err := api.deleteNow(ctx, ns, name); err != nil {
			t.Fatal(err)
		}
		final[fqdn(name)] = gone
	}
	for _, name := range names[4:6] {
		moved := staticIP(t)
		if err := api.setPodIP(ctx, ns, name, moved); err != nil {
			t.Fatal(err)
		}
		final[fqdn(name)] = moved
	}
	for name, ip := range api.staticPods(ctx, t, ns, nil, "n-0", "n-1", "n-2", "n-3") {
		final[fqdn(name)] = ip
	}
	// More revisions to compact away: pods created and deleted with no status, so they add no
	// update event that could pass for a relist.
	for i := range 40 {
		name := fmt.Sprintf("tmp-%d", i)
		if _, err := api.client.CoreV1().Pods(ns).Create(ctx, staticPodSpec(ns, name, nil), meta.CreateOptions{}); err != nil {
			t.Fatalf("create pod %s/%s: %v", ns, name, err)
		}
		if err := api.deleteNow(ctx, ns, name); err != nil {
			t.Fatal(err)
		}
	}
	rev, err := etcdRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := etcdCompact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	if err := etcdRangeAt(ctx, cut.revision); err == nil || !strings.Contains(err.Error(), "compacted") {
		t.Fatalf("etcd read at revision %d after compacting to %d: %v, want a compacted error", cut.revision, rev, err)
	}
	if err := kube.StopAPIServer(); err != nil {
		t.Fatalf("stop the API server: %v", err)
	}
	if err := kube.StartAPIServer(ctx); err != nil {
		t.Fatalf("start the API server again: %v", err)
	}
	// What coredns's watch will meet: a watch from before the cut is 410 Gone.
	if err := watchFrom(ctx, cut.revision); !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
		t.Fatalf("a watch of pods from revision %d after the compaction and restart: %v, want 410 Gone", cut.revision, err)
	}
	if err := px.Resume(); err != nil {
		t.Fatal(err)
	}
	reconnected := time.Now()
	cctx, ccancel := context.WithTimeout(ctx, 2*time.Minute)
	defer ccancel()
	waitAnswers(cctx, t, servers, final)
	converged := time.Since(reconnected)
	waitHeldMatchesAPI(cctx, t, c)
	// The handler that counts events runs beside the one that fills the index, so the count
	// may trail the answers a little.
	relisted, relistErr := cut.waitRelisted(cctx)
	res := pr.finish()
	t.Logf("compaction (cut off %s; 4 pods deleted, 2 moved, 4 created, 40 created and deleted; etcd compacted to revision %d, past the cut at %d; API server restarted): converged %s after reconnecting; %d update events for %d pods unchanged since the cut (%s); survivors: %d queries, %d wrong",
		reconnected.Sub(cut.at).Round(time.Millisecond), rev, cut.revision, converged.Round(time.Millisecond), relisted.events, relisted.unchanged, relistPath(cut.watchErrs, watchErrors(c)), res.Queries, res.Wrong)
	if relistErr != nil {
		t.Error(relistErr)
	}
	res.check(t, "across the compaction and the relist")
}

// cutOff is one period with coredns cut off from the API server.
type cutOff struct {
	c         *harness.CoreDNS
	at        time.Time
	revision  int64   // etcd's revision once coredns was cut off: coredns saw nothing later
	before    float64 // coredns's update events then
	watchErrs int     // watchErrors then
}

// markCut notes where etcd and coredns's update event count stand as c loses the API server.
func markCut(ctx context.Context, t *testing.T, c *harness.CoreDNS) *cutOff {
	t.Helper()
	rev, err := etcdRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	before, _, err := c.Metric(ctx, "coredns_podname_pod_events_total", map[string]string{"event": "update"})
	if err != nil {
		t.Fatal(err)
	}
	return &cutOff{c: c, at: time.Now(), revision: rev, before: before, watchErrs: watchErrors(c)}
}

// waitRelisted waits until c has handled at least one update event per pod unchanged since the
// cut, the sign of a relist, and returns the counts.
func (cut *cutOff) waitRelisted(ctx context.Context) (eventCount, error) {
	var n eventCount
	err := harness.Poll(ctx, "update events of a relist", func() (bool, error) {
		got, err := cut.count(ctx)
		if err != nil {
			return false, err
		}
		n = got
		return n.unchanged > 0 && n.events >= n.unchanged, nil
	})
	if err != nil {
		return n, fmt.Errorf("%d update events for %d pods unchanged since the cut, so no relist: %w", n.events, n.unchanged, err)
	}
	return n, nil
}

// eventCount is coredns's update events since a cut, beside the number of pods it holds that
// did not change since then.
type eventCount struct{ events, unchanged int }

// count returns the update events coredns handled since the cut, beside the indexable pods of
// the cluster unchanged since then (resource version at or below the cut's revision: the API
// server's resource versions are etcd's revisions).
func (cut *cutOff) count(ctx context.Context) (eventCount, error) {
	now, _, err := cut.c.Metric(ctx, "coredns_podname_pod_events_total", map[string]string{"event": "update"})
	if err != nil {
		return eventCount{}, err
	}
	list, err := kube.Client().CoreV1().Pods("").List(ctx, meta.ListOptions{})
	if err != nil {
		return eventCount{}, fmt.Errorf("list pods of the cluster: %w", err)
	}
	unchanged := 0
	for i := range list.Items {
		p := &list.Items[i]
		rv, err := strconv.ParseInt(p.ResourceVersion, 10, 64)
		if err != nil {
			return eventCount{}, fmt.Errorf("pod %s/%s: resource version %q: %w", p.Namespace, p.Name, p.ResourceVersion, err)
		}
		if harness.Indexable(p) && rv <= cut.revision {
			unchanged++
		}
	}
	return eventCount{events: int(now - cut.before), unchanged: unchanged}, nil
}

// watchErrors counts the lines where client-go logged a pod watch of c ending with an error
// (a "very short watch" among them), after which it relists. A watch that meets 410 Gone ends
// without such a line: client-go logs that only at klog verbosity 4, which coredns does not
// set. The Corefile example's kubernetes plugin watches no pods, so the lines are podname's.
func watchErrors(c *harness.CoreDNS) int {
	n := 0
	for line := range strings.Lines(c.Log()) {
		if strings.Contains(line, "Warning: watch ended with error") && strings.Contains(line, `type="*v1.Pod"`) {
			n++
		}
	}
	return n
}

// relistPath says which way client-go came to relist, from watchErrors before and after.
func relistPath(before, after int) string {
	if after > before {
		return "its pod watch ended with an error, so client-go relisted from its last resource version"
	}
	return "no pod watch error logged: its watch resumed from the old resource version, met the 410, and client-go relisted"
}

// waitHeldMatchesAPI waits until coredns_podname_pods equals the number of indexable pods the
// API server has: an entry the relist failed to drop would keep it above.
func waitHeldMatchesAPI(ctx context.Context, t *testing.T, c *harness.CoreDNS) {
	t.Helper()
	var held float64
	var inAPI int
	err := harness.Poll(ctx, "coredns_podname_pods to equal the API's indexable pods", func() (bool, error) {
		var err error
		if held, _, err = c.Metric(ctx, "coredns_podname_pods", nil); err != nil {
			return false, err
		}
		if inAPI, err = mainAPI().indexablePods(ctx); err != nil {
			return false, err
		}
		return int(held) == inAPI, nil
	})
	if err != nil {
		t.Fatalf("%v (last: coredns holds %v pods, the API has %d)", err, held, inAPI)
	}
}

// watchFrom opens a watch of pods at resource version rv and returns the error it starts with,
// or nil if it starts watching.
func watchFrom(ctx context.Context, rv int64) error {
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	w, err := kube.Client().CoreV1().Pods("").Watch(wctx, meta.ListOptions{ResourceVersion: strconv.FormatInt(rv, 10)})
	if err != nil {
		return err
	}
	defer w.Stop()
	// A watch the cache cannot serve starts with an error event; a served one with events or
	// nothing. Waiting for the first event, bounded by wctx, tells them apart.
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			return errors.New("watch closed with no event")
		}
		if ev.Type == watch.Error {
			return apierrors.FromObject(ev.Object)
		}
		return nil
	case <-wctx.Done():
		return nil
	}
}

// etcd's gRPC gateway, which needs no client library: POST JSON to /v3/kv/...

// etcdPost posts body as JSON to etcd's gateway at path and decodes the reply into out; a reply
// that is not 200 is an error quoting it.
func etcdPost(ctx context.Context, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("etcd %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, kube.EtcdURL()+path, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("etcd %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("etcd %s: %w", path, err)
	}
	defer resp.Body.Close()
	reply, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("etcd %s: read reply: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("etcd %s: %s: %s", path, resp.Status, reply)
	}
	if err := json.Unmarshal(reply, out); err != nil {
		return fmt.Errorf("etcd %s: reply %s: %w", path, reply, err)
	}
	return nil
}

// etcdKey is a key every cluster has, read only for the revision in the reply's header.
var etcdKey = base64.StdEncoding.EncodeToString([]byte("/registry/namespaces/default"))

// etcdRevision is etcd's current revision.
func etcdRevision(ctx context.Context) (int64, error) {
	var out struct {
		Header struct {
			Revision string `json:"revision"`
		} `json:"header"`
	}
	if err := etcdPost(ctx, "/v3/kv/range", map[string]any{"key": etcdKey}, &out); err != nil {
		return 0, err
	}
	rev, err := strconv.ParseInt(out.Header.Revision, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("etcd revision %q: %w", out.Header.Revision, err)
	}
	return rev, nil
}

// etcdCompact compacts etcd's history up to rev and waits until the compaction is applied.
func etcdCompact(ctx context.Context, rev int64) error {
	var out map[string]any
	return etcdPost(ctx, "/v3/kv/compaction", map[string]any{"revision": strconv.FormatInt(rev, 10), "physical": true}, &out)
}

// etcdRangeAt reads etcdKey at revision rev; after a compaction past rev, etcd refuses.
func etcdRangeAt(ctx context.Context, rev int64) error {
	var out map[string]any
	return etcdPost(ctx, "/v3/kv/range", map[string]any{"key": etcdKey, "revision": strconv.FormatInt(rev, 10)}, &out)
}
