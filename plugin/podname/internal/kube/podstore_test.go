package kube

import (
	"errors"
	"fmt"
	"testing"
	"unsafe"

	"github.com/podname/podname/plugin/podname/internal/podtest"
	api "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// storeEvents records what a PodStore hands a handler, one line per event
// ("add default/a 1", "update default/a 1 -> 2", "delete default/a 3"),
// and the objects, to check they are the ones held.
type storeEvents struct {
	lines []string
	objs  []*Pod
}

func (e *storeEvents) handler() PodHandler {
	return func(old, cur *Pod) {
		switch {
		case old == nil:
			e.record(fmt.Sprintf("add %s/%s %d", cur.Namespace, cur.Name, cur.rv), cur)
		case cur == nil:
			e.record(fmt.Sprintf("delete %s/%s %d", old.Namespace, old.Name, old.rv), old)
		default:
			e.record(fmt.Sprintf("update %s/%s %d -> %d", cur.Namespace, cur.Name, old.rv, cur.rv), cur)
		}
	}
}

func (e *storeEvents) record(line string, o *Pod) {
	e.lines = append(e.lines, line)
	e.objs = append(e.objs, o)
}

// take returns the lines since the last take.
func (e *storeEvents) take() []string {
	lines := e.lines
	e.lines, e.objs = nil, nil
	return lines
}

func wantEvents(t *testing.T, what string, e *storeEvents, want ...string) {
	t.Helper()
	if got := e.take(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: handler got %q, want %q", what, got, want)
	}
}

// TestPodStore: what the reflector puts in a PodStore reaches its
// subscribers once, with the projection the store holds; a version that
// answers the same keeps the held projection (a relist holds one copy of
// each pod, not two); a deletion hands over what the index holds.
func TestPodStore(t *testing.T) {
	s := NewPodStore()
	var e storeEvents
	sub := s.Subscribe(e.handler())
	pod := func(ns, name, ip, rv string, opts ...podtest.PodOpt) *Pod {
		p := podtest.Pod(ns, name, []string{ip}, opts...)
		p.ResourceVersion = rv
		return Project(p)
	}
	if sub.HasSynced() {
		t.Fatal("synced before the first list")
	}
	a1 := pod("default", "a", "10.0.0.1", "1")
	if err := s.Replace([]any{a1, pod("default", "b", "10.0.0.2", "2")}, "2"); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "the first list", &e, "add default/a 1", "add default/b 2")
	if !sub.HasSynced() || s.len() != 2 {
		t.Fatalf("after the first list: synced %v, %d pods held", sub.HasSynced(), s.len())
	}

	// A relist of the same versions, and an update that changes nothing
	// podname answers with: the held projection stays, with the new version.
	if err := s.Replace([]any{pod("default", "a", "10.0.0.1", "1"), pod("default", "b", "10.0.0.2", "2")}, "2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(pod("default", "a", "10.0.0.1", "5", podtest.Hostname("a"))); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "a relist and an update that change nothing", &e,
		"update default/a 1 -> 1", "update default/b 2 -> 2", "update default/a 5 -> 5")
	if held := s.get("default", "a"); held != a1 || held.rv != 5 {
		t.Fatalf("the store holds %p at rv %d, want the first projection %p at rv 5", held, held.rv, a1)
	}

	for name, opt := range map[string]podtest.PodOpt{
		"IP":       func(p *api.Pod) { p.Status.PodIP, p.Status.PodIPs = "10.0.0.9", nil },
		"labels":   func(p *api.Pod) { p.Labels = map[string]string{"app": "db"} },
		"hostname": podtest.Hostname("other"),
		"phase":    func(p *api.Pod) { p.Status.Phase = api.PodFailed },
	} {
		prev := s.get("default", "a")
		cur := pod("default", "a", "10.0.0.1", "6", opt)
		if err := s.Update(cur); err != nil {
			t.Fatal(err)
		}
		wantEvents(t, "a changed "+name, &e, fmt.Sprintf("update default/a %d -> 6", prev.rv))
		if s.get("default", "a") != cur {
			t.Fatalf("a changed %s: the store kept the old projection", name)
		}
	}
	if err := s.Add(pod("prod", "a", "10.0.0.1", "7")); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "a pod of the same name in another namespace", &e, "add prod/a 7")

	// The final state of a deletion carries a deletionTimestamp, so it is not
	// indexable; the handler gets the held projection, at the deletion's version.
	b := s.get("default", "b")
	if err := s.Delete(pod("default", "b", "10.0.0.2", "8", func(p *api.Pod) { p.DeletionTimestamp = &meta.Time{} })); err != nil {
		t.Fatal(err)
	}
	if gone := e.objs[0]; !gone.Equal(b) || gone.Indexed() == nil {
		t.Fatalf("deleted: handler got %+v, want the held projection %+v", gone, b)
	}
	wantEvents(t, "a deletion", &e, "delete default/b 8")
	if err := s.Delete(pod("default", "b", "10.0.0.2", "9")); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "the deletion of a pod not held", &e)

	// A relist without prod/a deletes it; a new subscriber gets what is held.
	if err := s.Replace([]any{pod("default", "a", "10.0.0.1", "10")}, "10"); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "a relist that misses a pod", &e, "update default/a 6 -> 10", "delete prod/a 7")
	var late storeEvents
	s.Subscribe(late.handler())
	wantEvents(t, "a late subscriber", &late, "add default/a 10")
	s.Unsubscribe(sub)
	if err := s.Add(pod("default", "c", "10.0.0.3", "11")); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "after unsubscribe", &e)
	wantEvents(t, "the late subscriber", &late, "add default/c 11")

	if err := s.Add(&api.Service{}); !errors.Is(err, errNotPod) {
		t.Errorf("a Service: %v, want %v", err, errNotPod)
	}
	// A list that fails changes nothing: the next one still finds the
	// pods it does not list.
	if err := s.Replace([]any{pod("default", "a", "10.0.0.1", "12"), &api.Service{}}, "12"); !errors.Is(err, errNotPod) {
		t.Errorf("a list with a Service: %v, want %v", err, errNotPod)
	}
	wantEvents(t, "a list that fails", &late)
	if err := s.Replace([]any{pod("default", "c", "10.0.0.3", "11")}, "13"); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "the list after it", &late, "update default/c 11 -> 11", "delete default/a 10")
	s.Close()
	if _, err := s.Pop(nil); !errors.Is(err, cache.ErrFIFOClosed) {
		t.Errorf("Pop after Close: %v, want %v", err, cache.ErrFIFOClosed)
	}
}

// TestPodObjectSize: a projection fits the 112-byte size class; a field
// added or moved that pushes it into the next one costs 16 bytes a pod.
func TestPodObjectSize(t *testing.T) {
	if n := unsafe.Sizeof(Pod{}); n > 112 {
		t.Errorf("Pod takes %d bytes, want at most 112", n)
	}
}

// TestDecodeReusesHeld: the decoder hands back the projection a store holds
// of a pod at the same resourceVersion (a relist's unchanged pod), and
// builds one for any other version, name or namespace.
func TestDecodeReusesHeld(t *testing.T) {
	s := NewPodStore()
	p := podtest.Pod("default", "a", []string{"10.0.0.1"}, podtest.ResourceVersion(7))
	held := Project(p)
	if err := s.Replace([]any{held}, "7"); err != nil {
		t.Fatal(err)
	}
	decode := func(p *api.Pod, store *PodStore) *Pod {
		t.Helper()
		o, err := decodePod(marshal(t, p), store)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	if got := decode(p, s); got != held {
		t.Error("a pod at the held version was projected again")
	}
	if got := decode(p, nil); got == held || !got.Equal(held) || got.rv != 7 {
		t.Errorf("without a store: %+v, want a projection equal to the held one", got)
	}
	for what, change := range map[string]func(*api.Pod){
		"a newer version": func(p *api.Pod) { p.ResourceVersion = "8" },
		"no version":      func(p *api.Pod) { p.ResourceVersion = "" },
		"another name":    func(p *api.Pod) { p.Name = "b" },
		"another ns":      func(p *api.Pod) { p.Namespace = "prod" },
	} {
		q := p.DeepCopy()
		change(q)
		if got := decode(q, s); got == held || got.Name != q.Name || got.Namespace != q.Namespace {
			t.Errorf("%s: got %+v, want a projection of its own", what, got)
		}
	}
}

// TestPodsSyncedDuringReplace: what a Replace hands the stanzas stands for
// the list's version, which the reflector records only once Replace has
// returned; the watch reports it from the start of the replay, and keeps
// it once the first list is in (the zones' serials start from it).
func TestPodsSyncedDuringReplace(t *testing.T) {
	pods := NewPodStore()
	w := &Watch{pods: pods, podCtl: cache.New(&cache.Config{Queue: pods})} // never run: no version of its own
	var seen []uint64
	pods.Subscribe(func(old, cur *Pod) {
		if old == nil || cur == nil { // additions and deletions
			seen = append(seen, w.PodsSynced())
		}
	})
	a := Project(podtest.Pod("default", "a", []string{"10.0.0.1"}, podtest.ResourceVersion(40)))
	if err := pods.Replace([]any{a}, "500"); err != nil {
		t.Fatal(err)
	}
	if err := pods.Replace(nil, "600"); err != nil { // a relist without a
		t.Fatal(err)
	}
	if err := pods.Replace(nil, ""); err != nil { // a list without a version moves nothing back
		t.Fatal(err)
	}
	if want := []uint64{500, 600}; fmt.Sprint(seen) != fmt.Sprint(want) || w.PodsSynced() != 600 {
		t.Fatalf("synced versions during the replays %v, then %d; want %v, then 600", seen, w.PodsSynced(), want)
	}
}

// len is how many pods the store holds (for the tests).
func (s *PodStore) len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.n
}

// get returns the held projection of namespace/name, or nil.
func (s *PodStore) get(namespace, name string) *Pod {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pods[namespace][name]
}
