package harness

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/miekg/dns"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
)

// Span is an IP a pod held, from when the watch first showed it until the watch showed the pod
// deleting, deleted or with another IP; To is zero while it still holds it.
type Span struct {
	IP       string
	From, To time.Time
}

// PodHistory is one pod as the follower's watch showed it.
type PodHistory struct {
	Listed  bool // there when the watch began
	Spans   []Span
	Deleted time.Time // when the watch first showed it deleting or deleted; zero until then
}

// Phase is the part of a pod's life a question belongs to.
type Phase int

const (
	// Appear runs from the watch showing the pod's IP to the first answer with it.
	Appear Phase = iota
	// Live runs from then until the watch shows the pod deleting (FollowOptions.LivePoll).
	Live
	// Vanish runs from the watch showing the pod deleting until its name is NXDOMAIN.
	Vanish
)

// Answer is one reply a follower got, or the error of a query that got none.
type Answer struct {
	At    time.Time
	Phase Phase
	Msg   *dns.Msg
	Err   error
}

// Timeline is one pod's name on one server: when the answer was first right, when it was gone,
// and every answer that was neither the pod's IP nor NXDOMAIN.
type Timeline struct {
	Server  FollowServer
	Pod, IP string
	Listed  bool
	Seen    time.Time // the watch showed the IP
	Right   time.Time // the first answer with exactly the IP; zero if none came
	Deleted time.Time // the watch showed the pod deleting or deleted; zero if it did not
	Gone    time.Time // the first NXDOMAIN once the pod was deleting; zero if none came
	// Unshown: the pod was deleting before its name first answered; the Appear phase ended at
	// the first NXDOMAIN after that, and the Vanish phase began.
	Unshown bool
	// TimedOut is the phase that did not end within FollowOptions.Limit, if any.
	TimedOut *Phase
	// Wrong are the replies that named another address; Failed the queries that got no reply
	// or a reply neither NOERROR nor NXDOMAIN.
	Wrong, Failed []Answer
	Err           error // what ended the follow early: FollowOptions.Check, or the test's end

	appeared bool // the Appear phase has ended
	deleted  <-chan struct{}
	done     chan struct{}
}

// FollowServer is a DNS server the follower asks, with its pace: a new question First after the
// last, each interval 10% longer than the one before, at most Most.
type FollowServer struct {
	Name, Addr  string
	First, Most time.Duration
}

// FollowOptions say what a Follower asks and for how long.
type FollowOptions struct {
	Servers []FollowServer
	// Name is the DNS name of pod, the question asked.
	Name func(pod string) string
	// Follow, if set, says whether server follows pod; nil follows every pod on every server.
	Follow func(server FollowServer, pod *corev1.Pod) bool
	// LivePoll, if above 0, is how often a live pod's name is asked between Appear and Vanish.
	LivePoll time.Duration
	// Limit bounds the Appear and the Vanish phase of each timeline.
	Limit time.Duration
	// Check, if set, judges each answer as it comes; an error ends the timeline with it.
	Check func(ctx context.Context, tl *Timeline, a Answer) error
}

// Follower watches the pods of one namespace and follows each pod's name on its servers from
// the moment the watch shows its IP until the name is NXDOMAIN after the pod is deleting: one
// Timeline per pod and server. Each suite judges the timelines its own way.
type Follower struct {
	opt       FollowOptions
	ctx       context.Context
	cancel    context.CancelFunc // ends the watch and the questions
	watchDone chan struct{}
	wg        sync.WaitGroup

	mu        sync.Mutex
	pods      map[string]*PodHistory
	deleted   map[string]chan struct{} // closed when the pod is deleting
	timelines map[string][]*Timeline
	err       error // what ended the watch
}

// Follow lists the pods of ns, then watches them from that list's resource version, so no pod
// made after the call escapes it. It runs until ctx ends or Stop.
func Follow(ctx context.Context, client kubernetes.Interface, ns string, opt FollowOptions) (*Follower, error) {
	ctx, cancel := context.WithCancel(ctx)
	f := &Follower{opt: opt, ctx: ctx, cancel: cancel, watchDone: make(chan struct{}),
		pods: map[string]*PodHistory{}, deleted: map[string]chan struct{}{}, timelines: map[string][]*Timeline{}}
	ended, err := WatchPods(ctx, client, ns, f.see)
	if err != nil {
		cancel()
		return nil, err
	}
	go func() {
		defer close(f.watchDone)
		if err := <-ended; err != nil {
			f.mu.Lock()
			f.err = err
			f.mu.Unlock()
		}
	}()
	return f, nil
}

// see records what the watch shows of a pod, and starts its timelines when it first shows
// its IP.
func (f *Follower) see(ev PodEvent) {
	now, pod := time.Now(), ev.Pod
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.pods[pod.Name]
	if h == nil {
		h = &PodHistory{Listed: ev.Listed}
		f.pods[pod.Name] = h
		f.deleted[pod.Name] = make(chan struct{})
	}
	deleting := ev.Deleted || pod.DeletionTimestamp != nil
	open := len(h.Spans) > 0 && h.Spans[len(h.Spans)-1].To.IsZero()
	switch {
	case deleting || !Indexable(pod):
		if open {
			h.Spans[len(h.Spans)-1].To = now
		}
		if deleting && h.Deleted.IsZero() {
			h.Deleted = now
			close(f.deleted[pod.Name])
		}
		return
	case open && h.Spans[len(h.Spans)-1].IP == pod.Status.PodIP:
		return
	case open:
		h.Spans[len(h.Spans)-1].To = now
	}
	h.Spans = append(h.Spans, Span{IP: pod.Status.PodIP, From: now})
	if f.timelines[pod.Name] != nil {
		return
	}
	for _, s := range f.opt.Servers {
		if f.opt.Follow != nil && !f.opt.Follow(s, pod) {
			continue
		}
		tl := &Timeline{Server: s, Pod: pod.Name, IP: pod.Status.PodIP, Listed: ev.Listed, Seen: now,
			deleted: f.deleted[pod.Name], done: make(chan struct{})}
		f.timelines[pod.Name] = append(f.timelines[pod.Name], tl)
		f.wg.Go(func() {
			defer close(tl.done)
			if err := f.follow(tl); err != nil {
				f.mu.Lock()
				tl.Err = err
				f.mu.Unlock()
			}
		})
	}
}

// follow asks tl's name through its phases.
func (f *Follower) follow(tl *Timeline) error {
	name, ip := f.opt.Name(tl.Pod), tl.IP
	// ask puts one question; it reports whether the answer ends the phase.
	ask := func(phase Phase) (bool, error) {
		r, err := Query(tl.Server.Addr, name, dns.TypeA)
		a := Answer{At: time.Now(), Phase: phase, Msg: r, Err: err}
		if f.opt.Check != nil {
			if err := f.opt.Check(f.ctx, tl, a); err != nil {
				return false, err
			}
		}
		var addrs []string
		if err == nil {
			addrs = Addresses(r)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		switch {
		case err != nil || r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError:
			tl.Failed = append(tl.Failed, a)
		case slices.ContainsFunc(addrs, func(got string) bool { return got != ip }):
			tl.Wrong = append(tl.Wrong, a)
		case r.Rcode == dns.RcodeNameError && phase == Vanish:
			tl.Gone = a.At
			return true, nil
		case r.Rcode == dns.RcodeNameError && phase == Appear && Closed(tl.deleted):
			tl.Unshown = true
			return true, nil
		case phase == Appear && len(addrs) == 1:
			tl.Right = a.At
			return true, nil
		}
		return false, nil
	}
	// phase asks until an answer ends it, the limit passes, or, for Live, the pod is deleting.
	phase := func(p Phase, from time.Time) error {
		interval := tl.Server.First
		if p == Live {
			interval = f.opt.LivePoll
		}
		for {
			if p == Live && Closed(tl.deleted) {
				return nil
			}
			ended, err := ask(p)
			if ended || err != nil {
				return err
			}
			if p != Live && time.Since(from) > f.opt.Limit {
				f.mu.Lock()
				tl.TimedOut = &p
				f.mu.Unlock()
				return nil
			}
			select {
			case <-f.ctx.Done():
				return f.ctx.Err()
			case <-time.After(interval):
			}
			if p != Live {
				interval = min(interval*11/10, tl.Server.Most)
			}
		}
	}
	err := phase(Appear, tl.Seen)
	f.mu.Lock()
	tl.appeared = true
	timedOut, unshown := tl.TimedOut != nil, tl.Unshown
	f.mu.Unlock()
	if err != nil || timedOut {
		return err
	}
	if f.opt.LivePoll > 0 && !unshown {
		if err := phase(Live, tl.Right); err != nil {
			return err
		}
	}
	select {
	case <-f.ctx.Done():
		return nil // the pod outlived the follow
	case <-tl.deleted:
	}
	f.mu.Lock()
	tl.Deleted = f.pods[tl.Pod].Deleted
	f.mu.Unlock()
	return phase(Vanish, tl.Deleted)
}

// Settled reports whether the Appear phase has ended on every server for every pod of live,
// and every other pod followed so far, those of gone among them, has ended its timelines. It
// returns Err's error, if any.
func (f *Follower) Settled(live, gone []string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.errLocked(); err != nil {
		return false, err
	}
	isLive := map[string]bool{}
	for _, name := range live {
		isLive[name] = true
	}
	for _, name := range slices.Concat(live, gone) {
		if f.timelines[name] == nil {
			return false, nil
		}
	}
	for name, tls := range f.timelines {
		for _, tl := range tls {
			if isLive[name] && !tl.appeared || !isLive[name] && !Closed(tl.done) {
				return false, nil
			}
		}
	}
	return true, nil
}

// WaitDeleted waits until the watch has shown each of names deleting or deleted.
func (f *Follower) WaitDeleted(ctx context.Context, names []string) error {
	for _, name := range names {
		f.mu.Lock()
		ch := f.deleted[name]
		f.mu.Unlock()
		if ch == nil {
			return fmt.Errorf("the watch never showed pod %s", name)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("the watch to show pod %s deleted: %w", name, ctx.Err())
		}
	}
	return nil
}

// Wait waits until every timeline started so far has ended: its name NXDOMAIN after the pod
// was deleted, or a phase past its limit, or an error.
func (f *Follower) Wait(ctx context.Context) error {
	for _, tls := range f.Timelines() {
		select {
		case <-tls.done:
		case <-ctx.Done():
			return fmt.Errorf("%s %s to end: %w", tls.Server.Name, tls.Pod, ctx.Err())
		}
	}
	return nil
}

// Stop ends the watch and every question, and waits for them.
func (f *Follower) Stop() {
	f.cancel()
	<-f.watchDone
	f.wg.Wait()
}

// Timelines are every pod's timelines so far, by pod name. Read their fields once the
// timelines have ended (Wait, or Stop).
func (f *Follower) Timelines() []*Timeline {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*Timeline
	for _, name := range slices.Sorted(maps.Keys(f.timelines)) {
		out = append(out, f.timelines[name]...)
	}
	return out
}

// History is every pod the watch showed, by name; it holds copies.
func (f *Follower) History() map[string]PodHistory {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]PodHistory, len(f.pods))
	for name, h := range f.pods {
		c := *h
		c.Spans = slices.Clone(h.Spans)
		out[name] = c
	}
	return out
}

// Err is what ended the watch, if it ended before Stop, joined with the timelines' errors.
func (f *Follower) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.errLocked()
}

// errLocked is Err; f.mu is held.
func (f *Follower) errLocked() error {
	errs := []error{f.err}
	for _, tls := range f.timelines {
		for _, tl := range tls {
			if tl.Err != nil {
				errs = append(errs, fmt.Errorf("%s %s: %w", tl.Server.Name, tl.Pod, tl.Err))
			}
		}
	}
	return errors.Join(errs...)
}
