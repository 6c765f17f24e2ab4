package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/podname/podname/test/harness"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	firstPoll   = 5 * time.Millisecond  // how often a pod's name is asked until it answers, and once it is deleting
	followPoll  = 20 * time.Millisecond // how often it is asked while the pod lives
	answerLimit = 30 * time.Second      // how long a name may take to answer, or to go
)

// dnsServer is a running coredns by the example it runs.
type dnsServer struct{ name, addr string }

// followPods follows every pod of ns on servers (harness.Follow), asking each pod's name from
// the moment the watch shows its IP until it is NXDOMAIN after the pod is deleting. Every
// answer on the way must be the pod's IP or NXDOMAIN, and an NXDOMAIN once the pod has
// answered is right only while the API server holds the pod deleting or deleted at that
// moment: podname's watch may see a deletion before the follower's. The first answer and the
// first NXDOMAIN are asked again with the real dig.
func followPods(ctx context.Context, t *testing.T, ns string, servers []dnsServer) *harness.Follower {
	t.Helper()
	opt := harness.FollowOptions{Name: func(pod string) string { return pod + "." + zone }, LivePoll: followPoll, Limit: answerLimit}
	for _, s := range servers {
		opt.Servers = append(opt.Servers, harness.FollowServer{Name: s.name, Addr: s.addr, First: firstPoll, Most: firstPoll})
	}
	opt.Check = func(ctx context.Context, tl *harness.Timeline, a harness.Answer) error {
		if a.Err != nil {
			return a.Err
		}
		name := tl.Pod + "." + zone
		if err := judge(ctx, ns, tl, a.Phase, a.Msg); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		// The real dig, after the Go client's first answer and its first NXDOMAIN after the
		// deletion, judged the same way.
		first := a.Phase == harness.Appear && addresses(tl.IP)(a.Msg) == nil
		if !first && (a.Phase != harness.Vanish || a.Msg.Rcode != dns.RcodeNameError) {
			return nil
		}
		r, err := digMsg(tl.Server.Addr, name, "A")
		if err != nil {
			return err
		}
		phase := harness.Vanish // the dig after the first NXDOMAIN
		if first {
			phase = harness.Live // the dig after the first answer, which the pod may no longer have
		}
		if err := judge(ctx, ns, tl, phase, r); err != nil {
			return fmt.Errorf("dig %s after the Go client: %w", name, err)
		}
		if !first && r.Rcode != dns.RcodeNameError {
			return fmt.Errorf("dig %s after the Go client had NXDOMAIN: %w", name, nxdomain(zone)(r))
		}
		return nil
	}
	f, err := harness.Follow(ctx, kube.Client(), ns, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	return f
}

// judge says whether r is a right answer for tl's pod in phase: its IP, or NXDOMAIN (with the
// zone's SOA once it is deleting) before its first answer, after it is deleting, or while the
// API server holds it deleting or deleted.
func judge(ctx context.Context, ns string, tl *harness.Timeline, phase harness.Phase, r *dns.Msg) error {
	want := addresses(tl.IP)
	switch {
	case want(r) == nil:
		return nil
	case r.Rcode != dns.RcodeNameError:
		return fmt.Errorf("pod %s (%s): %w", tl.Pod, tl.IP, want(r))
	case phase == harness.Vanish:
		return nxdomain(zone)(r)
	case phase == harness.Live:
		if err := deleted(ctx, ns, tl.Pod); err != nil {
			return fmt.Errorf("pod %s (%s) got NXDOMAIN: %w", tl.Pod, tl.IP, err)
		}
	}
	return nil
}

// deleted returns nil if the API server has pod deleting or deleted, else an error that says
// it holds the pod undeleted.
func deleted(ctx context.Context, ns, name string) error {
	pod, err := kube.Client().CoreV1().Pods(ns).Get(ctx, name, meta.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("get pod %s/%s: %w", ns, name, err)
	case pod.DeletionTimestamp == nil:
		return fmt.Errorf("the API server holds pod %s/%s undeleted", ns, name)
	}
	return nil
}

// waitSettled waits until every pod of live answers on every server and every other pod
// followed so far, gone among them, is NXDOMAIN after its deletion, and fails t on any error.
func waitSettled(ctx context.Context, t *testing.T, f *harness.Follower, live, gone []corev1.Pod) {
	t.Helper()
	names := func(pods []corev1.Pod) []string {
		var out []string
		for _, p := range pods {
			out = append(out, p.Name)
		}
		return out
	}
	if err := harness.Poll(ctx, fmt.Sprintf("%d live pods answering, the others NXDOMAIN", len(live)), func() (bool, error) {
		return f.Settled(names(live), names(gone))
	}); err != nil {
		t.Fatal(err)
	}
}

// finish waits for every pod followed to be NXDOMAIN after its deletion, ends the follow, and
// fails t on any wrong answer. It returns, by server, the delays from the watch showing a new
// pod's IP to its first answer, and how many new pods were deleted before their first answer.
func finish(ctx context.Context, t *testing.T, f *harness.Follower) (delays map[string][]time.Duration, unanswered map[string]int) {
	t.Helper()
	if err := f.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	f.Stop()
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	delays, unanswered = map[string][]time.Duration{}, map[string]int{}
	for _, tl := range f.Timelines() {
		if len(tl.Wrong) > 0 || len(tl.Failed) > 0 || tl.TimedOut != nil {
			t.Errorf("%s %s: %d wrong, %d failed answers, phase %v past %s", tl.Server.Name, tl.Pod, len(tl.Wrong), len(tl.Failed), tl.TimedOut, answerLimit)
		}
		switch {
		case tl.Listed:
		case tl.Unshown:
			unanswered[tl.Server.Name]++
		default:
			delays[tl.Server.Name] = append(delays[tl.Server.Name], tl.Right.Sub(tl.Seen))
		}
	}
	return delays, unanswered
}

// quantile is the nearest-rank quantile q of sorted durations.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
