package podtest

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	kwatch "k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/scheme"
	restwatch "k8s.io/client-go/rest/watch"
)

// EncodeWatch is the body of a watch response carrying events, as the API
// server frames it in mediaType.
func EncodeWatch(t testing.TB, mediaType string, events []kwatch.Event) []byte {
	var buf bytes.Buffer
	if err := WriteWatch(&buf, mediaType, events); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// WriteWatch writes events to w as the API server frames them in mediaType.
func WriteWatch(w io.Writer, mediaType string, events []kwatch.Event) error {
	info, ok := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), mediaType)
	if !ok || info.StreamSerializer == nil {
		return fmt.Errorf("no stream serializer for %s", mediaType)
	}
	enc := restwatch.NewEncoder(streaming.NewEncoder(info.StreamSerializer.NewFrameWriter(w), info.StreamSerializer.Serializer), info.Serializer)
	for _, e := range events {
		if err := enc.Encode(&e); err != nil {
			return fmt.Errorf("encode %s event: %w", e.Type, err)
		}
	}
	return nil
}
