package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/harness"

	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const (
	churnRate    = 50               // pods created per second, and as many deleted once warmed up
	churnLength  = 20 * time.Second // how long pods are created and deleted
	churnWarmUp  = time.Second      // creations only, so that there is something to delete
	churnWorkers = 12               // concurrent API requests
	// churnRecent is how far back the checker picks names: the pods being born and dying.
	churnRecent = 5 * time.Second
	// churnAskEvery paces each server's checker.
	churnAskEvery = 2 * time.Millisecond
	// churnMaxAnswers bounds what the checker keeps.
	churnMaxAnswers = 200_000
)

// TestChurnAudit creates pods on the static node at churnRate per second, each with a name
// and an IP never used before, and deletes as many, for churnLength. Meanwhile a checker asks
// random names among those created in the last churnRecent of two servers (labels.Corefile,
// podname alone; and the Corefile example, behind its cache). A watch of our own records every
// (name, IP) pair the API server ever showed, with when. Afterwards every answer is judged: an
// IP the name never held, or any reply but the IP and NXDOMAIN, is a wrong answer, and there
// must be none. An answer naming the IP long after the pod was deleted (past a grace for the
// watch and the cache) is stale, and there must be none either.
//
// The pods are made by the test rather than by kwok: kwok takes IPs from its node's /24 and
// reuses them, and a pod made directly is one create and one status update.
func TestChurnAudit(t *testing.T) {
	// Not parallel: the rate is the point, and the parallel tests start API servers of their own.
	api := mainAPI()
	ns := api.namespace(t, "churn")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	servers := []*harness.CoreDNS{harness.StartExample(t, "labels.Corefile", api.kubeconfig), harness.StartExample(t, "Corefile", api.kubeconfig)}
	// The staleness grace of each server: the checker's own lag, plus the cache's TTL (the
	// Corefile example caches podname's answers for their TTL, 5s).
	grace := []time.Duration{3 * time.Second, 8 * time.Second}
	for _, c := range servers {
		harness.Serving(ctx, t, c, zone)
	}
	// A watch of our own (a follower asking no server) records every IP each pod held.
	hist, err := harness.Follow(ctx, api.client, ns, harness.FollowOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hist.Stop)
	cfg := rest.CopyConfig(api.config)
	cfg.QPS, cfg.Burst = 1000, 1000
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("client for the churn: %v", err)
	}

	d := &churnDriver{client: client, ns: ns}
	checking := make(chan struct{})
	var answers []churnAnswer
	var amu sync.Mutex
	var cwg sync.WaitGroup
	for i, c := range servers {
		cwg.Go(func() {
			got := d.check(ctx, i, c, checking)
			amu.Lock()
			answers = append(answers, got...)
			amu.Unlock()
		})
	}
	began := time.Now()
	d.run(ctx)
	churned := time.Since(began)
	// The checker goes on a little, to see the last deletions land.
	tail := time.NewTimer(2 * time.Second)
	<-tail.C
	close(checking)
	cwg.Wait()
	if err := d.errs.err(); err != nil {
		t.Fatalf("churn: %v", err)
	}

	// Delete the rest, then wait for our watch to have seen every pod come and go.
	if err := client.CoreV1().Pods(ns).DeleteCollection(ctx, meta.DeleteOptions{GracePeriodSeconds: new(int64)}, meta.ListOptions{}); err != nil {
		t.Fatalf("delete the remaining pods of %s: %v", ns, err)
	}
	hctx, hcancel := context.WithTimeout(ctx, time.Minute)
	defer hcancel()
	made := d.madeNames()
	if err := hist.WaitDeleted(hctx, made); err != nil {
		t.Fatal(err)
	}
	hist.Stop()
	if err := hist.Err(); err != nil {
		t.Fatal(err)
	}
	created, history := len(made), hist.History()
	pairs := 0
	for _, h := range history {
		pairs += len(h.Spans)
	}

	v := judgeChurn(answers, history, grace)
	t.Logf("churn: %d pods created (%.1f/s) and %d deleted (%.1f/s) in %s with %d API workers, %d ticks skipped; %d (name, IP) pairs recorded",
		created, float64(created)/churned.Seconds(), d.deleted, float64(d.deleted)/churned.Seconds(), churned.Round(time.Millisecond),
		churnWorkers, d.skipped, pairs)
	t.Logf("churn: %d answers checked, %d wrong (%d with the pod's IP, %d NXDOMAIN, %d stale, %d unanswered)",
		v.checked, v.wrong, v.right, v.nxdomain, v.stale, v.unanswered)
	if v.checked == 0 || v.right == 0 {
		t.Errorf("churn: %d answers, %d with an IP: the checker saw no pod at all", v.checked, v.right)
	}
	for _, problem := range []struct {
		n        int
		what     string
		examples []string
	}{{v.wrong, "wrong answers", v.wrongExamples}, {v.stale, "stale answers", v.staleExamples}, {v.unanswered, "unanswered queries", v.unansweredExamples}} {
		if problem.n > 0 {
			t.Errorf("churn: %d %s; first ones:\n%s", problem.n, problem.what, strings.Join(problem.examples, "\n"))
		}
	}
	if created < churnRate*int(churnLength/time.Second)/2 {
		t.Errorf("churn: only %d pods created in %s, want about %d: the API server did not keep up", created, churned.Round(time.Millisecond), churnRate*int(churnLength/time.Second))
	}
}

// churnDriver creates and deletes pods at churnRate.
type churnDriver struct {
	client kubernetes.Interface
	ns     string
	errs   errorList

	mu      sync.Mutex
	born    []churnBirth // every pod asked for, in order
	made    []string     // every pod created and set Running
	live    []string     // pods running, candidates for deletion
	deleted int
	skipped int // ticks with every worker busy
}

// errorList collects errors from several goroutines.
type errorList struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorList) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *errorList) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return errors.Join(l.errs...)
}

// churnBirth is when the driver asked for a pod.
type churnBirth struct {
	name string
	at   time.Time
}

type churnJob struct {
	create bool
	name   string
}

// run drives the churn for churnLength and returns when every request has returned.
func (d *churnDriver) run(ctx context.Context) {
	jobs := make(chan churnJob, churnWorkers)
	var wg sync.WaitGroup
	for range churnWorkers {
		wg.Go(func() {
			for j := range jobs {
				d.do(ctx, j)
			}
		})
	}
	tick := time.NewTicker(time.Second / churnRate)
	defer tick.Stop()
	start := time.Now()
	for n := 0; n < churnRate*int(churnLength/time.Second) && time.Since(start) < churnLength && ctx.Err() == nil; n++ {
		name := fmt.Sprintf("churn-%05d", n)
		d.mu.Lock()
		d.born = append(d.born, churnBirth{name: name, at: time.Now()})
		d.mu.Unlock()
		batch := []churnJob{{create: true, name: name}}
		if time.Since(start) > churnWarmUp {
			if victim, ok := d.pickVictim(); ok {
				batch = append(batch, churnJob{name: victim})
			}
		}
		for _, j := range batch {
			select {
			case jobs <- j:
			default:
				d.mu.Lock()
				d.skipped++
				d.mu.Unlock()
			}
		}
		<-tick.C
	}
	close(jobs)
	wg.Wait()
}

func (d *churnDriver) do(ctx context.Context, j churnJob) {
	if !j.create {
		if err := deleteNow(ctx, d.client, d.ns, j.name); err != nil {
			d.errs.add(err)
			return
		}
		d.mu.Lock()
		d.deleted++
		d.mu.Unlock()
		return
	}
	ip, err := nextStaticIP()
	if err == nil {
		_, err = createStaticPod(ctx, d.client, d.ns, j.name, ip, map[string]string{registerLabel: "true"})
	}
	if err != nil {
		d.errs.add(err)
		return
	}
	d.mu.Lock()
	d.made = append(d.made, j.name)
	d.live = append(d.live, j.name)
	d.mu.Unlock()
}

// pickVictim takes a random running pod off the live list.
func (d *churnDriver) pickVictim() (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.live) == 0 {
		return "", false
	}
	i := rand.IntN(len(d.live))
	name := d.live[i]
	d.live[i] = d.live[len(d.live)-1]
	d.live = d.live[:len(d.live)-1]
	return name, true
}

// recent picks a random name asked for in the last churnRecent.
func (d *churnDriver) recent() (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	from, _ := slices.BinarySearchFunc(d.born, time.Now().Add(-churnRecent), func(b churnBirth, t time.Time) int {
		return b.at.Compare(t)
	})
	if from == len(d.born) {
		return "", false
	}
	return d.born[from+rand.IntN(len(d.born)-from)].name, true
}

// madeNames lists the pods created and set Running.
func (d *churnDriver) madeNames() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.made)
}

// churnAnswer is one reply the checker got.
type churnAnswer struct {
	server int
	name   string
	at     time.Time
	rcode  int
	ips    []string
	err    error
}

// check asks server c for recent names until stop is closed, at most churnMaxAnswers times.
func (d *churnDriver) check(ctx context.Context, server int, c *harness.CoreDNS, stop <-chan struct{}) []churnAnswer {
	var out []churnAnswer
	tick := time.NewTicker(churnAskEvery)
	defer tick.Stop()
	for len(out) < churnMaxAnswers {
		select {
		case <-stop:
			return out
		case <-ctx.Done():
			return out
		case <-tick.C:
		}
		name, ok := d.recent()
		if !ok {
			continue
		}
		a := churnAnswer{server: server, name: name, at: time.Now()}
		r, err := harness.Query(c.Addr(), fqdn(name), dns.TypeA)
		if err != nil {
			a.err = err
		} else {
			a.rcode, a.ips = r.Rcode, harness.Addresses(r)
		}
		out = append(out, a)
	}
	return out
}

// churnVerdict counts the checker's answers by kind.
type churnVerdict struct {
	checked, right, nxdomain, wrong, stale, unanswered int
	wrongExamples, staleExamples, unansweredExamples   []string
}

// judgeChurn judges every answer against the history of each pod. grace is, per server, how
// long after the watch showed a pod deleted its IP may still be answered.
func judgeChurn(answers []churnAnswer, history map[string]harness.PodHistory, grace []time.Duration) churnVerdict {
	var v churnVerdict
	note := func(list *[]string, a churnAnswer, why string) {
		if len(*list) < maxExamples {
			*list = append(*list, fmt.Sprintf("server %d, A %s at %s: %s", a.server, a.name, a.at.Format("15:04:05.000"), why))
		}
	}
	for _, a := range answers {
		v.checked++
		switch {
		case a.err != nil:
			v.unanswered++
			note(&v.unansweredExamples, a, a.err.Error())
		case a.rcode == dns.RcodeNameError:
			v.nxdomain++
		case a.rcode != dns.RcodeSuccess || len(a.ips) != 1:
			v.wrong++
			note(&v.wrongExamples, a, fmt.Sprintf("%s %v", dns.RcodeToString[a.rcode], a.ips))
		default:
			held := history[a.name].Spans
			i := slices.IndexFunc(held, func(s harness.Span) bool { return s.IP == a.ips[0] })
			if i < 0 {
				v.wrong++
				note(&v.wrongExamples, a, fmt.Sprintf("%s, an IP this pod never held (held: %v)", a.ips[0], held))
				continue
			}
			v.right++
			if end := held[i].To; !end.IsZero() && a.at.After(end.Add(grace[a.server])) {
				v.stale++
				note(&v.staleExamples, a, fmt.Sprintf("%s, %s after the watch showed it gone", a.ips[0], a.at.Sub(end).Round(time.Millisecond)))
			}
		}
	}
	return v
}

// TestChurnJudge shows the audit can fail: fed a history and answers of each kind, it counts
// each where it belongs. It needs no cluster.
func TestChurnJudge(t *testing.T) {
	t0 := time.Now()
	h := map[string]harness.PodHistory{
		"a": {Spans: []harness.Span{{IP: "10.0.0.1", From: t0, To: t0.Add(time.Second)}}},
		"b": {Spans: []harness.Span{{IP: "10.0.0.2", From: t0}}},
	}
	answers := []churnAnswer{
		{name: "a", at: t0, rcode: dns.RcodeSuccess, ips: []string{"10.0.0.1"}},                       // right
		{name: "b", at: t0, rcode: dns.RcodeSuccess, ips: []string{"10.0.0.1"}},                       // a's IP for b: wrong
		{name: "a", at: t0.Add(10 * time.Second), rcode: dns.RcodeSuccess, ips: []string{"10.0.0.1"}}, // stale
		{name: "a", at: t0, rcode: dns.RcodeNameError},                                                // not yet or gone
		{name: "b", at: t0, rcode: dns.RcodeServerFailure},                                            // wrong
		{name: "b", at: t0, rcode: dns.RcodeSuccess},                                                  // NODATA: wrong
		{name: "b", at: t0, err: fmt.Errorf("timeout")},                                               // unanswered
	}
	v := judgeChurn(answers, h, []time.Duration{3 * time.Second})
	got := [6]int{v.checked, v.right, v.nxdomain, v.wrong, v.stale, v.unanswered}
	if want := [6]int{7, 2, 1, 3, 1, 1}; got != want {
		t.Errorf("judgeChurn counts (checked, right, nxdomain, wrong, stale, unanswered) = %v, want %v", got, want)
	}
}
