package kube

import (
	"bytes"
	"testing"

	"github.com/podname/podname/plugin/podname/internal/podtest"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
)

// TestWatchEventFrames: a watch event's frame gives the type and object
// bytes the generated code gives, unknown fields skipped, without copying
// the object; bytes it does not take get the ordinary decoder's answer.
func TestWatchEventFrames(t *testing.T) {
	info, ok := runtime.SerializerInfoForMediaType(scheme.Codecs.WithoutConversion().SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	if !ok || info.StreamSerializer == nil {
		t.Fatal("no protobuf stream serializer")
	}
	d := watchEventFrames{info.StreamSerializer.Serializer}
	pod := marshal(t, podtest.KubeletPod())
	for _, typ := range []string{"ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"} {
		frame := marshal(t, &meta.WatchEvent{Type: typ, Object: runtime.RawExtension{Raw: pod}})
		for name, b := range map[string][]byte{"plain": frame, "unknown fields": withUnknown(t, "WatchEvent", frame)} {
			var ev meta.WatchEvent
			if _, _, err := d.Decode(b, nil, &ev); err != nil {
				t.Fatalf("%s %s: %v", typ, name, err)
			}
			if ev.Type != typ || !bytes.Equal(ev.Object.Raw, pod) {
				t.Errorf("%s %s: got %s and %d bytes, want the event's type and its %d bytes", typ, name, ev.Type, len(ev.Object.Raw), len(pod))
			}
		}
		var ev meta.WatchEvent
		if n := testing.AllocsPerRun(100, func() { _, _, _ = d.Decode(frame, nil, &ev) }); n != 0 {
			t.Errorf("%s: %v allocations per frame, want none", typ, n)
		}
		if &ev.Object.Raw[0] != &frame[len(frame)-len(pod)] {
			t.Errorf("%s: the object was copied out of the frame", typ)
		}
	}

	for name, b := range map[string][]byte{
		"unknown type": marshal(t, &meta.WatchEvent{Type: "RENAMED", Object: runtime.RawExtension{Raw: pod}}),
		"truncated":    marshal(t, &meta.WatchEvent{Type: "ADDED", Object: runtime.RawExtension{Raw: pod}})[:20],
	} {
		var ev, full meta.WatchEvent
		_, _, err := d.Decode(b, nil, &ev)
		_, _, ferr := info.StreamSerializer.Serializer.Decode(b, nil, &full)
		if (err == nil) != (ferr == nil) || ev.Type != full.Type || !bytes.Equal(ev.Object.Raw, full.Object.Raw) {
			t.Errorf("%s: got %q %v, the ordinary decoder %q %v", name, ev.Type, err, full.Type, ferr)
		}
	}
}
