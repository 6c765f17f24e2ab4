package e2e

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/harness"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

const (
	firstPoll   = 5 * time.Millisecond  // how often a new pod's name is asked until it answers
	followPoll  = 20 * time.Millisecond // how often it is asked while the pod lives and after
	answerLimit = 30 * time.Second      // how long a name may take to answer, or to go
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
	f.waitSettled(ctx, t, harness.Running(ctx, t, kube.Client(), ns, "app=ws", 2), old)

	scale(ctx, t, ns, 20)
	waitRolledOut(ctx, t, ns, 20)
	f.waitSettled(ctx, t, harness.Running(ctx, t, kube.Client(), ns, "app=ws", 20), nil)

	scale(ctx, t, ns, 0)
	harness.Running(ctx, t, kube.Client(), ns, "app=ws", 0)
	delays, unanswered := f.finish(t)

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

// dnsServer is a running coredns by the example it runs.
type dnsServer struct{ name, addr string }

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

// quantile is the nearest-rank quantile q of sorted durations.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// podFollowers follows every pod of one namespace that a watch shows, on
// every server.
type podFollowers struct {
	ns        string
	servers   []dnsServer
	cancel    context.CancelFunc // ends the watch
	watchDone chan struct{}

	mu     sync.Mutex
	byName map[string][]*follower // one per server
	errs   []error
	wg     sync.WaitGroup
}

// follower is one pod on one server, from the watch's first sight of its IP
// until its name is NXDOMAIN after the pod is gone.
type follower struct {
	server   dnsServer
	name, ip string
	seen     time.Time // when the watch first showed the IP
	isNew    bool      // the pod appeared after the watch started
	resolved chan struct{}
	gone     chan struct{} // closed when the watch shows it deleting or deleted
	goneOnce sync.Once
	done     chan struct{}
	delay    time.Duration // seen to the first correct answer
}

// followPods lists the pods of ns, then watches them from that list's
// resource version, so no pod made after the call escapes it.
func followPods(ctx context.Context, t *testing.T, ns string, servers []dnsServer) *podFollowers {
	t.Helper()
	wctx, cancel := context.WithCancel(ctx)
	f := &podFollowers{ns: ns, servers: servers, cancel: cancel, watchDone: make(chan struct{}), byName: map[string][]*follower{}}
	ended, err := harness.WatchPods(wctx, kube.Client(), ns, func(ev harness.PodEvent) {
		if ev.Deleted {
			ev.Pod.DeletionTimestamp = &meta.Time{Time: time.Now()}
		}
		f.see(ctx, ev.Pod, !ev.Listed)
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() {
		defer close(f.watchDone)
		if err := <-ended; err != nil {
			f.fail(err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-f.watchDone
		f.wg.Wait()
	})
	return f
}

// see starts following a pod the first time it has an IP and marks it gone
// when it is deleting.
func (f *podFollowers) see(ctx context.Context, pod *corev1.Pod, isNew bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fls := f.byName[pod.Name]
	switch {
	case fls != nil && pod.DeletionTimestamp != nil:
		for _, fl := range fls {
			fl.goneOnce.Do(func() { close(fl.gone) })
		}
	case fls == nil && harness.Indexable(pod):
		seen := time.Now()
		for _, s := range f.servers {
			fl := &follower{server: s, name: pod.Name, ip: pod.Status.PodIP, seen: seen, isNew: isNew,
				resolved: make(chan struct{}), gone: make(chan struct{}), done: make(chan struct{})}
			f.byName[pod.Name] = append(f.byName[pod.Name], fl)
			f.wg.Go(func() {
				defer close(fl.done)
				if err := f.follow(ctx, fl); err != nil {
					f.fail(fmt.Errorf("%s: %w", s.name, err))
				}
			})
		}
	}
}

func (f *podFollowers) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errs = append(f.errs, err)
}

// follow asks the pod's name until it first answers, then while the pod
// lives, then until it is NXDOMAIN after the pod is gone. A pod may be
// deleted at any step, even before its first answer: TestRollout starts
// the rollout as soon as the followers start, and it deletes the old pods
// within half a second, while a loaded machine may still be running their
// followers' first dig. So an NXDOMAIN is wrong only while the API server
// holds the pod undeleted at that moment.
func (f *podFollowers) follow(ctx context.Context, fl *follower) error {
	name := fl.name + "." + zone
	want := addresses(fl.ip)
	gone := nxdomain(zone)

	// Until the first correct answer only NXDOMAIN may come.
	ask := func() (*dns.Msg, error) { return harness.Query(fl.server.addr, name, dns.TypeA) }
	deadline := time.Now().Add(answerLimit)
	for !harness.Closed(fl.gone) {
		r, err := ask()
		if err != nil {
			return err
		}
		if want(r) == nil {
			fl.delay = time.Since(fl.seen)
			close(fl.resolved)
			break
		}
		if r.Rcode != dns.RcodeNameError {
			return fmt.Errorf("pod %s (%s), before its first answer: %w", name, fl.ip, want(r))
		}
		if time.Now().After(deadline) {
			if err := f.deleted(ctx, fl); err != nil {
				return fmt.Errorf("pod %s (%s) not answered within %s (%w): %w", name, fl.ip, answerLimit, err, want(r))
			}
			break
		}
		if err := pause(ctx, firstPoll); err != nil {
			return fmt.Errorf("pod %s, before its first answer: %w", name, err)
		}
	}
	if harness.Closed(fl.resolved) {
		r, err := digMsg(fl.server.addr, name, "A")
		if err != nil {
			return err
		}
		if err := f.live(ctx, fl, r); err != nil {
			return fmt.Errorf("dig %s after the Go client had it: %w", name, err)
		}
	}

	// While the watch shows the pod undeleted, it answers, or NXDOMAIN
	// once the API server shows it deleting (podname's watch may see it
	// first).
	for !harness.Closed(fl.gone) {
		r, err := ask()
		if err != nil {
			return err
		}
		if err := f.live(ctx, fl, r); err != nil {
			return err
		}
		if err := pause(ctx, followPoll); err != nil {
			return fmt.Errorf("live pod %s (%s), still undeleted by the watch: %w", name, fl.ip, err)
		}
	}

	// Once gone, the name may keep its IP (a cached answer) until NXDOMAIN.
	deadline = time.Now().Add(answerLimit)
	for {
		r, err := ask()
		if err != nil {
			return err
		}
		if gone(r) == nil {
			break
		}
		if want(r) != nil {
			return fmt.Errorf("deleted pod %s (%s): %w", name, fl.ip, gone(r))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("deleted pod %s (%s) still answers after %s: %w", name, fl.ip, answerLimit, gone(r))
		}
		if err := pause(ctx, followPoll); err != nil {
			return fmt.Errorf("deleted pod %s: %w", name, err)
		}
	}
	if r, err := digMsg(fl.server.addr, name, "A"); err != nil {
		return err
	} else if err := gone(r); err != nil {
		return fmt.Errorf("dig %s after the Go client had NXDOMAIN: %w", name, err)
	}
	return nil
}

// live judges an answer for fl's pod while the watch shows it undeleted:
// its IP, or NXDOMAIN if the API server now has it deleting or deleted.
func (f *podFollowers) live(ctx context.Context, fl *follower, r *dns.Msg) error {
	want := addresses(fl.ip)
	if want(r) == nil {
		return nil
	}
	if r.Rcode != dns.RcodeNameError {
		return fmt.Errorf("live pod %s (%s): %w", fl.name, fl.ip, want(r))
	}
	if err := f.deleted(ctx, fl); err != nil {
		return fmt.Errorf("pod %s (%s) got NXDOMAIN: %w", fl.name, fl.ip, err)
	}
	return nil
}

// deleted returns nil if the API server has fl's pod deleting or deleted,
// else an error that says it holds the pod undeleted.
func (f *podFollowers) deleted(ctx context.Context, fl *follower) error {
	pod, err := kube.Client().CoreV1().Pods(f.ns).Get(ctx, fl.name, meta.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("get pod %s/%s: %w", f.ns, fl.name, err)
	case pod.DeletionTimestamp == nil:
		return fmt.Errorf("the API server holds pod %s/%s undeleted", f.ns, fl.name)
	}
	return nil
}

// pause waits d unless ctx ends first.
func pause(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// waitSettled waits until every pod in live answers and every other pod
// followed so far, gone among them, is NXDOMAIN, and fails t on any
// follower's error.
func (f *podFollowers) waitSettled(ctx context.Context, t *testing.T, live, gone []corev1.Pod) {
	t.Helper()
	names := map[string]bool{}
	for _, p := range live {
		names[p.Name] = true
	}
	err := harness.Poll(ctx, fmt.Sprintf("%d live pods answering in %s, the others NXDOMAIN", len(live), f.ns), func() (bool, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.errs) > 0 {
			return false, errors.Join(f.errs...)
		}
		for _, p := range slices.Concat(live, gone) {
			if f.byName[p.Name] == nil {
				return false, nil
			}
		}
		for name, fls := range f.byName {
			for _, fl := range fls {
				if names[name] && !harness.Closed(fl.resolved) || !names[name] && !harness.Closed(fl.done) {
					return false, nil
				}
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// finish waits for every follower to see its pod gone and its name
// NXDOMAIN, ends the watch, and fails t on any error. It returns, by
// server, the propagation delays of the pods that appeared after the watch
// started and were answered, and how many such pods were deleted before
// their first answer.
func (f *podFollowers) finish(t *testing.T) (delays map[string][]time.Duration, unanswered map[string]int) {
	t.Helper()
	f.wg.Wait()
	f.cancel()
	<-f.watchDone
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errs) > 0 {
		t.Fatal(errors.Join(f.errs...))
	}
	delays, unanswered = map[string][]time.Duration{}, map[string]int{}
	for _, fls := range f.byName {
		for _, fl := range fls {
			switch {
			case !fl.isNew:
			case harness.Closed(fl.resolved):
				delays[fl.server.name] = append(delays[fl.server.name], fl.delay)
			default:
				unanswered[fl.server.name]++
			}
		}
	}
	return delays, unanswered
}
