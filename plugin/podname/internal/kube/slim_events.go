package kube

import (
	"google.golang.org/protobuf/encoding/protowire"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kwatch "k8s.io/apimachinery/pkg/watch"
)

// watchEventFrames decodes the frames of a protobuf watch stream into
// WatchEvents without copying the object's bytes: the event's Object.Raw
// points into the frame. client-go's stream decoder reuses one buffer for
// every frame, and its watch decoder decodes the object (slim for Pods,
// which copies what it keeps; in full for anything else) before it reads
// the next one. The generated code copies each object out of the frame,
// a few kilobytes per pod a relist throws away at once.
type watchEventFrames struct {
	runtime.Serializer
}

// The wire fields of a WatchEvent, from meta/v1 and runtime generated.proto.
const (
	eventType    = 1 // WatchEvent.type
	eventObject  = 2 // WatchEvent.object
	rawExtension = 1 // RawExtension.raw
)

// Decode implements runtime.Decoder. Anything it does not take for a well
// formed WatchEvent goes to the ordinary decoder, errors included.
func (d watchEventFrames) Decode(data []byte, gvk *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	ev, ok := into.(*meta.WatchEvent)
	if !ok || !decodeWatchEvent(data, ev) {
		return d.Serializer.Decode(data, gvk, into)
	}
	return ev, gvk, nil
}

// decodeWatchEvent fills ev from a WatchEvent message, its object
// pointing into data. It reports false, leaving ev as it was, for bytes
// it does not take: malformed ones, or a type that is not an event's.
func decodeWatchEvent(data []byte, ev *meta.WatchEvent) bool {
	var typ string
	var raw []byte
	err := fields(data, func(num protowire.Number, wt protowire.Type, v []byte, _ uint64) error {
		switch num {
		case eventType:
			if err := want(num, wt, protowire.BytesType); err != nil {
				return err
			}
			typ = eventTypeOf(v)
		case eventObject:
			if err := want(num, wt, protowire.BytesType); err != nil {
				return err
			}
			return fields(v, func(num protowire.Number, wt protowire.Type, v []byte, _ uint64) error {
				if num != rawExtension {
					return nil
				}
				if err := want(num, wt, protowire.BytesType); err != nil {
					return err
				}
				raw = v
				return nil
			})
		}
		return nil
	})
	if err != nil || typ == "" {
		return false
	}
	ev.Type, ev.Object = typ, runtime.RawExtension{Raw: raw}
	return true
}

// eventTypeOf returns the event type v names, without allocating, or ""
// for one client-go would refuse.
func eventTypeOf(v []byte) string {
	switch kwatch.EventType(v) {
	case kwatch.Added:
		return string(kwatch.Added)
	case kwatch.Modified:
		return string(kwatch.Modified)
	case kwatch.Deleted:
		return string(kwatch.Deleted)
	case kwatch.Bookmark:
		return string(kwatch.Bookmark)
	case kwatch.Error:
		return string(kwatch.Error)
	}
	return ""
}
