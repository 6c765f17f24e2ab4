package kube

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/podname/podname/plugin/podname/internal/podtest"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// FuzzSlimDecode feeds the slim decoder arbitrary bytes, as a Pod, as a
// PodList, as a watch event's frame and as an encoded object: malformed or truncated input gives an
// error and no projection, never a panic; input the generated code decodes
// too gives the projection project gives for its Pod.
func FuzzSlimDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 8 {
		b := marshal(f, randomPod(r))
		f.Add(b)
		f.Add(withUnknown(f, "Pod", b))
		f.Add(b[:len(b)/2])
	}
	f.Add(marshal(f, podtest.KubeletPod()))
	f.Add(marshal(f, &meta.WatchEvent{Type: "ADDED", Object: runtime.RawExtension{Raw: marshal(f, podtest.KubeletPod())}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodePod(b, nil)
		if (err == nil) == (got == nil) {
			t.Fatalf("decodePod gave %v and %v", got, err)
		}
		if want, ferr := fullProjection(b); err == nil && ferr == nil {
			sameProjection(t, "pod", got, want)
		}
		if l, err := decodePodList(b, nil); (err == nil) == (l == nil) {
			t.Fatalf("decodePodList gave %v and %v", l, err)
		}
		var ev meta.WatchEvent
		if decodeWatchEvent(b, &ev) {
			var full meta.WatchEvent
			if err := full.Unmarshal(b); err != nil {
				t.Fatalf("decodeWatchEvent took bytes the generated code refuses: %v", err)
			}
			if ev.Type != full.Type || !bytes.Equal(ev.Object.Raw, full.Object.Raw) {
				t.Fatalf("decodeWatchEvent gave %s %x, the generated code %s %x", ev.Type, ev.Object.Raw, full.Type, full.Object.Raw)
			}
		}
		wire, _ := slimCodecs(t)
		if obj, _, err := wire.Decode(append(protoMagic[:len(protoMagic):len(protoMagic)], b...), nil, nil); (err == nil) == (obj == nil) {
			t.Fatalf("decoding an object gave %v and %v", obj, err)
		}
	})
}
