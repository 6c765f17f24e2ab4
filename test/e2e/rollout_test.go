package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podname/podname/test/harness"

	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestRollout rolls Deployment ws to a new template, then scales it
// 2 -> 20 -> 0. A watch of the namespace's pods, started before any change,
// hands every pod to followers, one per server, that ask its name from the
// moment the watch shows its IP until it is NXDOMAIN after the pod is gone:
// every answer on the way must be the pod's API IP or, before it is first
// answered and after it is deleted, NXDOMAIN. The time from the watch
// event to the first correct answer is the propagation delay, logged and
// never asserted.
//
// Two servers answer: labels.Corefile, podname alone, whose delay is the
// plugin's own; and the Corefile example, whose cache keeps an NXDOMAIN for
// the SOA minimum (5s) when the first question beats the index, which is
// what a client that asks that early sees.
func TestRollout(t *testing.T) {
	ns := harness.Namespace(t, kube.Client(), fmt.Sprintf("rollout-%d", rollouts.Add(1)))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	deployments := kube.Client().AppsV1().Deployments(ns)
	d := harness.WSDeployment(ns, 2)
	d.Spec.Template.Labels = map[string]string{"app": "ws", "podname.pix.yun.com/register": "true"}
	if _, err := deployments.Create(ctx, d, meta.CreateOptions{}); err != nil {
		t.Fatalf("create deployment %s/ws: %v", ns, err)
	}
	old := harness.Running(ctx, t, kube.Client(), ns, "app=ws", 2)

	var servers []dnsServer
	for _, example := range []string{"labels.Corefile", "Corefile"} {
		c := harness.StartExample(t, example, kube.Kubeconfig())
		harness.Serving(ctx, t, c, zone)
		servers = append(servers, dnsServer{example, c.Addr()})
	}
	f := followPods(ctx, t, ns, servers)

	// The rollout: both old pods must go, two new ones come.
	rollOut(ctx, t, ns, 2)
	waitSettled(ctx, t, f, harness.Running(ctx, t, kube.Client(), ns, "app=ws", 2), old)

	scale(ctx, t, ns, 20)
	waitRolledOut(ctx, t, ns, 20)
	waitSettled(ctx, t, f, harness.Running(ctx, t, kube.Client(), ns, "app=ws", 20), nil)

	scale(ctx, t, ns, 0)
	harness.Running(ctx, t, kube.Client(), ns, "app=ws", 0)
	delays, unanswered := finish(ctx, t, f)

	// 2 pods from the rollout, 18 from scaling up; a count off means the
	// watch missed pods or the deployment made some it should not have.
	var stats []string
	for _, s := range servers {
		d := delays[s.name]
		if n := len(d) + unanswered[s.name]; n != 20 || len(d) == 0 {
			t.Errorf("%s: followed %d new pods, %d of them answered; want 20", s.name, n, len(d))
			continue
		}
		slices.Sort(d)
		stats = append(stats, fmt.Sprintf("%s n=%d p50=%s p99=%s max=%s, %d deleted before their first answer",
			s.name, len(d), quantile(d, 0.50).Round(10*time.Microsecond), quantile(d, 0.99).Round(10*time.Microsecond),
			d[len(d)-1].Round(10*time.Microsecond), unanswered[s.name]))
	}
	t.Logf("propagation: %s (new pods: pod watch event with the IP to first correct A answer, polled every %s)",
		strings.Join(stats, "; "), firstPoll)
}

// rollouts numbers TestRollout's runs: each has a namespace of its own,
// so -count=N runs it again while the last run's namespace terminates.
var rollouts atomic.Int32

// scale sets Deployment ws's replicas.
func scale(ctx context.Context, t *testing.T, ns string, replicas int) {
	t.Helper()
	patch := fmt.Sprintf(`{"spec":{"replicas":%d}}`, replicas)
	if _, err := kube.Client().AppsV1().Deployments(ns).Patch(ctx, "ws", types.MergePatchType, []byte(patch), meta.PatchOptions{}); err != nil {
		t.Fatalf("scale deployment %s/ws to %d: %v", ns, replicas, err)
	}
}

// rollOut changes Deployment ws's template, so every pod is replaced, and waits until replicas
// pods of the new template run.
func rollOut(ctx context.Context, t *testing.T, ns string, replicas int32) {
	t.Helper()
	patch := `{"spec":{"template":{"metadata":{"annotations":{"podname.test/rollout":"2"}}}}}`
	if _, err := kube.Client().AppsV1().Deployments(ns).Patch(ctx, "ws", types.MergePatchType, []byte(patch), meta.PatchOptions{}); err != nil {
		t.Fatalf("patch deployment %s/ws template: %v", ns, err)
	}
	waitRolledOut(ctx, t, ns, replicas)
}

// waitRolledOut waits until Deployment ws has seen its last change and runs
// exactly replicas pods of its current template, all available.
func waitRolledOut(ctx context.Context, t *testing.T, ns string, replicas int32) {
	t.Helper()
	err := harness.Poll(ctx, fmt.Sprintf("deployment %s/ws rolled out with %d replicas", ns, replicas), func() (bool, error) {
		d, err := kube.Client().AppsV1().Deployments(ns).Get(ctx, "ws", meta.GetOptions{})
		if err != nil {
			return false, err
		}
		s := d.Status
		return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == replicas &&
			s.Replicas == replicas && s.AvailableReplicas == replicas, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
