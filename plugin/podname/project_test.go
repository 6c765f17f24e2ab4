package podname

import (
	"testing"

	"k8s.io/client-go/tools/cache"
)

// TestReusingProjections: a pod that would project the same as the one held
// gets the held projection back (a relist holds one copy of each pod, not
// two); any change podname answers with gets a new one.
func TestReusingProjections(t *testing.T) {
	store := cache.NewStore(cache.MetaNamespaceKeyFunc)
	transform := reusingProjections(store)
	transformed := func(obj any) *podObject {
		t.Helper()
		o, err := transform(obj)
		if err != nil {
			t.Fatal(err)
		}
		return o.(*podObject)
	}
	pod := newPod("default", "ws-1", []string{"10.36.0.1"})
	pod.ResourceVersion = "1"
	held := transformed(pod)
	if err := store.Add(held); err != nil {
		t.Fatal(err)
	}
	if held.rv != 1 {
		t.Fatalf("projection rv %d, want the pod's resourceVersion 1", held.rv)
	}

	relisted := pod.DeepCopy()
	if got := transformed(relisted); got != held {
		t.Error("a relisted pod at the same resourceVersion made a new projection")
	}
	same := pod.DeepCopy()
	same.ResourceVersion = "2"
	same.Annotations = map[string]string{"touched": "yes"}
	got := transformed(same)
	if got == held || got.rv != 2 || !got.equal(held) || &got.IPs[0] != &held.IPs[0] {
		t.Error("an update that changes nothing podname keeps: want a copy of the held projection with the new resourceVersion")
	}
	if held.rv != 1 {
		t.Error("the held projection was changed")
	}
	for name, change := range map[string]func(){
		"IP":       func() { same.Status.PodIP, same.Status.PodIPs = "10.36.0.2", nil },
		"labels":   func() { same.Labels = map[string]string{"app": "db"} },
		"hostname": func() { same.Spec.Hostname = "other" },
		"phase":    func() { same.Status.Phase = "Failed" },
	} {
		same = pod.DeepCopy()
		change()
		if got := transformed(same); got == held || got.equal(held) {
			t.Errorf("a changed %s reused the held projection", name)
		}
	}
	other := newPod("prod", "ws-1", []string{"10.36.0.1"})
	if got := transformed(other); got == held {
		t.Error("a pod of another namespace got the held projection")
	}
	if got, err := transform(cache.DeletedFinalStateUnknown{Key: "default/ws-1", Obj: held}); err != nil || got.(cache.DeletedFinalStateUnknown).Obj != held {
		t.Error("a tombstone was not passed through")
	}
}

func TestParseRV(t *testing.T) {
	for s, want := range map[string]uint64{
		"1": 1, "4294967296": 1 << 32, "18446744073709551615": 1<<64 - 1,
		"": 0, "0": 0, "007": 0, "12a": 0, "-1": 0, "18446744073709551616": 0,
	} {
		if got := parseRV(s); got != want {
			t.Errorf("parseRV(%q) = %d, want %d", s, got, want)
		}
	}
}
