package bench

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/podname/podname/test/harness"

	corev1 "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// churnNamespace holds the pods created and deleted under churn, and their headless Service.
const churnNamespace = "churn"

// churnLimit is how long a name gets to answer right before it counts as never answering.
const churnLimit = 10 * time.Second

// Poll pacing for one name: 1 ms at first, 10% longer each try, at most 10 ms. A delay is
// thus measured to within max(1 ms, 10%) at a few hundred queries per second per name.
const (
	firstPoll = time.Millisecond
	maxPoll   = 10 * time.Millisecond
)

// A secondary takes about a second (NOTIFY at most once per notify_interval, then IXFR), so
// it is asked less often: every 10 ms at first, at most every 20 ms.
const (
	secondaryFirstPoll = 10 * time.Millisecond
	secondaryMaxPoll   = 20 * time.Millisecond
)

func churnPodName(i int) string { return fmt.Sprintf("churn-%s-%06d", templateHash, i) }

func churnIP(i int) netip.Addr { return nthAddr(churnPrefix, i) }

// ChurnResult is section 5: delays from a pod's change in a watch to DNS showing it. Each
// plugin has a pass of its own (podname first), so neither pays for the other's work: the
// kubernetes plugin's pass needs a Service, and with it the controller manager's EndpointSlice
// work for every change, which would share the CPUs with podname.
type ChurnResult struct {
	Rate, Seconds, Pool, BackgroundPods int
	// By role: pods created and deleted, how long the churn took, and the CPU each process
	// used meanwhile.
	Created, Deleted map[string]int
	Elapsed          map[string]time.Duration
	CPU              map[string][]CPUUse
	Corefile         map[string]string
	// Appear holds, by role, the seconds from the watch seeing a new pod's IP to the first
	// right answer; Vanish from the watch seeing DELETED to the first NXDOMAIN.
	Appear, Vanish map[string][]float64
	// Wrong counts answers naming an address other than the pod's; Failed answers with
	// another RCODE than NOERROR or NXDOMAIN, or no answer; Timeouts names that did not get
	// there within churnLimit; Unshown pods deleted before their name first answered, which
	// a target that lags by more than a pod's life (BIND, in the smoke run) may meet.
	Wrong, Failed, Timeouts, Unshown map[string]int
	Bad                              []string
	// Secondary is BIND following a second podname, with the transfer plugin, through the
	// podname pass (role RoleBIND in the maps above); nil if the budget left it out.
	Secondary *SecondaryResult
}

// Churn creates and deletes rate pods per second each for seconds, on top of a pool of pods
// that keeps the population steady, and measures how soon podname, then the kubernetes plugin
// (through a headless Service's EndpointSlices), answer for each change. With secondaryEvery
// above 0, BIND follows a podname with the transfer plugin through podname's pass, and is
// asked for every secondaryEvery-th pod.
func (b *Bench) Churn(ctx context.Context, rate, seconds, pool, background, secondaryEvery int) (*ChurnResult, error) {
	res := &ChurnResult{Rate: rate, Seconds: seconds, Pool: pool, BackgroundPods: background,
		Created: map[string]int{}, Deleted: map[string]int{}, Elapsed: map[string]time.Duration{},
		CPU: map[string][]CPUUse{}, Corefile: map[string]string{},
		Appear: map[string][]float64{}, Vanish: map[string][]float64{},
		Wrong: map[string]int{}, Failed: map[string]int{}, Timeouts: map[string]int{}, Unshown: map[string]int{}}
	first := 0
	for _, role := range []string{RolePodname, RoleKubernetes} {
		every := 0
		if role == RolePodname {
			every = secondaryEvery
		}
		if err := b.churnPass(ctx, res, role, first, every); err != nil {
			return nil, fmt.Errorf("churn, %s: %w", role, err)
		}
		// The next pass's pods get new names and IPs: nothing can answer for them by accident.
		first += pool + rate*seconds
	}
	return res, nil
}

// churnPass is one plugin's churn, with pods first, first+1, ..., and a secondary asked for
// every secondaryEvery-th pod unless that is 0.
func (b *Bench) churnPass(ctx context.Context, res *ChurnResult, role string, first, secondaryEvery int) error {
	rate, seconds, pool := res.Rate, res.Seconds, res.Pool
	dir := filepath.Join(b.work, "churn-"+role)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if role == RoleKubernetes {
		if err := createHeadless(ctx, b.client, churnNamespace, churnNamespace, map[string]string{"app": churnNamespace}); err != nil {
			return err
		}
	}
	b.logf("churn, %s: a pool of %d pods", role, pool)
	begin := time.Now()
	if err := b.createChurnPods(ctx, first, first+pool); err != nil {
		return err
	}
	conf, err := ChurnCorefile(role, b.kubeconfig)
	if err != nil {
		return err
	}
	res.Corefile[role] = conf.Text
	srv, err := StartServer(dir, conf)
	if err != nil {
		return err
	}
	defer srv.Stop()
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := srv.WaitReady(wctx); err != nil {
		return err
	}
	name := func(pod string) string {
		if role == RoleKubernetes {
			return fmt.Sprintf("%s.%s.%s.svc.cluster.local", pod, churnNamespace, churnNamespace)
		}
		return pod + "." + Zone
	}
	want := make([]Expect, pool)
	for i := range pool {
		want[i] = Expect{Name: name(churnPodName(first + i)), IP: churnIP(first + i)}
	}
	if _, err := AwaitAnswers(wctx, conf.DNS[role], want, 8); err != nil {
		return fmt.Errorf("pool: %w", err)
	}
	b.logf("churn, %s: pool answered %s after its first pod was created", role, time.Since(begin).Round(time.Millisecond))
	targets := []harness.FollowServer{{Name: role, Addr: conf.DNS[role], First: firstPoll, Most: maxPoll}}
	every := map[string]int{role: 1}
	names := map[int]string{srv.PID(): "coredns"}
	var sec *secondaryRun
	if secondaryEvery > 0 {
		if sec, err = b.startSecondary(ctx, dir, res.BackgroundPods+pool); err != nil {
			return err
		}
		defer sec.stop()
		sec.res.Every = secondaryEvery
		targets = append(targets, harness.FollowServer{Name: RoleBIND, Addr: sec.bind.Addr, First: secondaryFirstPoll, Most: secondaryMaxPoll})
		every[RoleBIND] = secondaryEvery
		names[sec.primary.PID()], names[sec.bind.PID()] = "coredns, primary of BIND", "named (BIND)"
	}
	// Every pod is followed from its IP in the watch to its right answer, and from its deletion
	// to NXDOMAIN, on each target that asks for it.
	f, err := harness.Follow(ctx, b.client, churnNamespace, harness.FollowOptions{Servers: targets, Name: name, Limit: churnLimit,
		Follow: func(s harness.FollowServer, pod *corev1.Pod) bool {
			i, ok := churnIndex(pod.Name)
			return ok && i%every[s.Name] == 0
		}})
	if err != nil {
		return err
	}
	defer f.Stop()

	b.logf("churn, %s: %d creations and %d deletions per second for %d s", role, rate, rate, seconds)
	cpu := snapshotCPU()
	begin = time.Now()
	created, deleted, err := b.churn(ctx, first, pool, rate, seconds)
	res.Elapsed[role] = time.Since(begin)
	res.CPU[role] = cpuSince(cpu, b.processNames(names))
	res.Created[role], res.Deleted[role] = created, deleted
	if err != nil {
		return err
	}
	// Pods first, first+1, ... went under churn, and as many came after the pool; the others
	// live on. Every one gets churnLimit to settle.
	changes := rate * seconds
	var live, gone []string
	for i := first; i < first+pool+changes; i++ {
		if i < first+changes {
			gone = append(gone, churnPodName(i))
		} else {
			live = append(live, churnPodName(i))
		}
	}
	sctx, cancel := context.WithTimeout(ctx, churnLimit+5*time.Second)
	defer cancel()
	if err := harness.Poll(sctx, "every change to be followed to its answer", func() (bool, error) { return f.Settled(live, gone) }); err != nil {
		return err
	}
	f.Stop()
	record(res, f.Timelines(), first+pool)
	b.logf("churn, %s: CPU meanwhile (cores): %s", role, FormatCPU(res.CPU[role]))
	if sec != nil {
		if res.Secondary, err = sec.finish(ctx, srv, created+deleted, res.Elapsed[role]); err != nil {
			return err
		}
		lag, x := slices.Concat(res.Appear[RoleBIND], res.Vanish[RoleBIND]), res.Secondary
		b.logf("churn, secondary: BIND right %.0f ms (p50), %.0f ms (p99) after %d changes; %d transfers, %d bytes; heap %.1f MiB with the transfer plugin (journal %d records), %.1f MiB without",
			Percentile(lag, 50)*1e3, Percentile(lag, 99)*1e3, len(lag), len(x.Transfers), TransferBytes(x.Transfers), x.HeapWith/(1<<20), x.JournalRecords, x.HeapWithout/(1<<20))
	}
	if err := srv.Stop(); err != nil {
		return err
	}
	if err := deleteAllPods(ctx, b, churnNamespace); err != nil {
		return err
	}
	if role == RoleKubernetes {
		if err := b.client.CoreV1().Services(churnNamespace).Delete(ctx, churnNamespace, meta.DeleteOptions{}); err != nil {
			return fmt.Errorf("delete Service %s/%s: %w", churnNamespace, churnNamespace, err)
		}
	}
	return nil
}

// churn creates pods first+pool, first+pool+1, ... and deletes pods first, first+1, ... at
// rate each per second for seconds, with up to 16 requests at once. It returns how many it
// created and deleted.
func (b *Bench) churn(ctx context.Context, first, pool, rate, seconds int) (created, deleted int, err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var nCreated, nDeleted atomic.Int64
	slots := make(chan struct{}, 16)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	do := func(f func() error, n *atomic.Int64) {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		wg.Go(func() {
			defer func() { <-slots }()
			if err := f(); err != nil {
				cancel(err)
				return
			}
			n.Add(1)
		})
	}
	for i := 0; i < rate*seconds && ctx.Err() == nil; i++ {
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
		add, del := first+pool+i, first+i
		do(func() error { return b.createChurnPod(ctx, add) }, &nCreated)
		do(func() error { return b.deleteChurnPod(ctx, del) }, &nDeleted)
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return int(nCreated.Load()), int(nDeleted.Load()), err
	}
	return int(nCreated.Load()), int(nDeleted.Load()), ctx.Err()
}

// churnIndex is i for the name of churn pod i.
func churnIndex(name string) (int, bool) {
	var i int
	if _, err := fmt.Sscanf(name, "churn-"+templateHash+"-%d", &i); err != nil {
		return 0, false
	}
	return i, true
}

// record adds the timelines of a pass to res: the delay of each new pod (from index fresh on)
// from its IP in the watch to its right answer, and of each deleted pod to NXDOMAIN; the wrong
// and failed answers, the names not right in time, and the pods deleted before they answered.
func record(res *ChurnResult, timelines []*harness.Timeline, fresh int) {
	example := func(s string) {
		if len(res.Bad) < 10 {
			res.Bad = append(res.Bad, s)
		}
	}
	for _, tl := range timelines {
		role := tl.Server.Name
		if i, _ := churnIndex(tl.Pod); i >= fresh && !tl.Right.IsZero() {
			res.Appear[role] = append(res.Appear[role], tl.Right.Sub(tl.Seen).Seconds())
		}
		if !tl.Gone.IsZero() {
			res.Vanish[role] = append(res.Vanish[role], tl.Gone.Sub(tl.Deleted).Seconds())
		}
		for _, a := range tl.Wrong {
			res.Wrong[role]++
			example(fmt.Sprintf("%s at %s: %v, want %s", tl.Pod, role, harness.Addresses(a.Msg), tl.IP))
		}
		res.Failed[role] += len(tl.Failed)
		if tl.Unshown {
			res.Unshown[role]++
		}
		if tl.TimedOut != nil {
			res.Timeouts[role]++
			example(fmt.Sprintf("%s at %s: not %s after %s", tl.Pod, role, map[bool]string{true: "there", false: "gone"}[*tl.TimedOut == harness.Appear], churnLimit))
		}
	}
}

// createChurnPods creates churn pods [from, to) with 16 workers.
func (b *Bench) createChurnPods(ctx context.Context, from, to int) error {
	return forEach(ctx, from, to, 16, b.createChurnPod)
}

// createChurnPod creates churn pod i, Running with its IP.
func (b *Bench) createChurnPod(ctx context.Context, i int) error {
	return createRunningPod(ctx, b.client, newPod(churnNamespace, churnPodName(i), churnNamespace, i), churnIP(i))
}

// deleteChurnPod deletes churn pod i with no grace period.
func (b *Bench) deleteChurnPod(ctx context.Context, i int) error {
	err := b.client.CoreV1().Pods(churnNamespace).Delete(ctx, churnPodName(i), meta.DeleteOptions{GracePeriodSeconds: new(int64)})
	if err != nil {
		return fmt.Errorf("delete pod %s/%s: %w", churnNamespace, churnPodName(i), err)
	}
	return nil
}

// deleteAllPods deletes every pod of ns at once and waits until none is left.
func deleteAllPods(ctx context.Context, b *Bench, ns string) error {
	pods := b.client.CoreV1().Pods(ns)
	if err := pods.DeleteCollection(ctx, meta.DeleteOptions{GracePeriodSeconds: new(int64)}, meta.ListOptions{}); err != nil {
		return fmt.Errorf("delete pods of %s: %w", ns, err)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return harness.Poll(ctx, "pods of "+ns+" to go", func() (bool, error) {
		list, err := pods.List(ctx, meta.ListOptions{Limit: 1})
		if err != nil {
			return false, fmt.Errorf("list pods of %s: %w", ns, err)
		}
		return len(list.Items) == 0, nil
	})
}
