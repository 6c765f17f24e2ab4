package podname

import (
	"errors"
	"fmt"
	"testing"
	"unsafe"

	api "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// storeEvents records what a podStore hands a handler, one line per event
// ("add default/a 1 initial", "update default/a 1 -> 2", "delete default/a 3"),
// and the objects, to check they are the ones held.
type storeEvents struct {
	lines []string
	objs  []*podObject
}

func (e *storeEvents) handler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, initial bool) {
			o := asPod(obj)
			line := fmt.Sprintf("add %s/%s %d", o.Namespace, o.Name, o.rv)
			if initial {
				line += " initial"
			}
			e.record(line, o)
		},
		UpdateFunc: func(old, cur any) {
			o, c := asPod(old), asPod(cur)
			e.record(fmt.Sprintf("update %s/%s %d -> %d", c.Namespace, c.Name, o.rv, c.rv), c)
		},
		DeleteFunc: func(obj any) {
			o := asPod(obj)
			e.record(fmt.Sprintf("delete %s/%s %d", o.Namespace, o.Name, o.rv), o)
		},
	}
}

func (e *storeEvents) record(line string, o *podObject) {
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

// TestPodStore: what the reflector puts in a podStore reaches its
// subscribers once, with the projection the store holds; a version that
// answers the same keeps the held projection (a relist holds one copy of
// each pod, not two); a deletion hands over what the index holds.
func TestPodStore(t *testing.T) {
	s := newPodStore()
	var e storeEvents
	sub := s.subscribe(e.handler())
	pod := func(ns, name, ip, rv string, opts ...podOpt) *podObject {
		p := newPod(ns, name, []string{ip}, opts...)
		p.ResourceVersion = rv
		return project(p)
	}
	if sub.HasSynced() {
		t.Fatal("synced before the first list")
	}
	a1 := pod("default", "a", "10.0.0.1", "1")
	if err := s.Replace([]any{a1, pod("default", "b", "10.0.0.2", "2")}, "2"); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "the first list", &e, "add default/a 1 initial", "add default/b 2 initial")
	if !sub.HasSynced() || s.len() != 2 {
		t.Fatalf("after the first list: synced %v, %d pods held", sub.HasSynced(), s.len())
	}

	// A relist of the same versions, and an update that changes nothing
	// podname answers with: the held projection stays, with the new version.
	if err := s.Replace([]any{pod("default", "a", "10.0.0.1", "1"), pod("default", "b", "10.0.0.2", "2")}, "2"); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(pod("default", "a", "10.0.0.1", "5", hostname("a"))); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, "a relist and an update that change nothing", &e,
		"update default/a 1 -> 1", "update default/b 2 -> 2", "update default/a 5 -> 5")
	if held := s.get("default", "a"); held != a1 || held.rv != 5 {
		t.Fatalf("the store holds %p at rv %d, want the first projection %p at rv 5", held, held.rv, a1)
	}

	for name, opt := range map[string]podOpt{
		"IP":       func(p *api.Pod) { p.Status.PodIP, p.Status.PodIPs = "10.0.0.9", nil },
		"labels":   func(p *api.Pod) { p.Labels = map[string]string{"app": "db"} },
		"hostname": hostname("other"),
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
	if gone := e.objs[0]; !gone.equal(b) || gone.pod() == nil {
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
	s.subscribe(late.handler())
	wantEvents(t, "a late subscriber", &late, "add default/a 10 initial")
	s.unsubscribe(sub)
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
	if n := unsafe.Sizeof(podObject{}); n > 112 {
		t.Errorf("podObject takes %d bytes, want at most 112", n)
	}
}

// TestDecodeReusesHeld: the decoder hands back the projection a store holds
// of a pod at the same resourceVersion (a relist's unchanged pod), and
// builds one for any other version, name or namespace.
func TestDecodeReusesHeld(t *testing.T) {
	s := newPodStore()
	p := newPod("default", "a", []string{"10.0.0.1"}, resourceVersion(7))
	held := project(p)
	if err := s.Replace([]any{held}, "7"); err != nil {
		t.Fatal(err)
	}
	decode := func(p *api.Pod, store *podStore) *podObject {
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
	if got := decode(p, nil); got == held || !got.equal(held) || got.rv != 7 {
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
	pods := newPodStore()
	w := &watch{pods: pods, podCtl: cache.New(&cache.Config{Queue: pods})} // never run: no version of its own
	var seen []uint64
	pods.subscribe(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { seen = append(seen, w.podsSynced()) },
		DeleteFunc: func(any) { seen = append(seen, w.podsSynced()) },
	})
	a := project(newPod("default", "a", []string{"10.0.0.1"}, resourceVersion(40)))
	if err := pods.Replace([]any{a}, "500"); err != nil {
		t.Fatal(err)
	}
	if err := pods.Replace(nil, "600"); err != nil { // a relist without a
		t.Fatal(err)
	}
	if err := pods.Replace(nil, ""); err != nil { // a list without a version moves nothing back
		t.Fatal(err)
	}
	if want := []uint64{500, 600}; fmt.Sprint(seen) != fmt.Sprint(want) || w.podsSynced() != 600 {
		t.Fatalf("synced versions during the replays %v, then %d; want %v, then 600", seen, w.podsSynced(), want)
	}
}
