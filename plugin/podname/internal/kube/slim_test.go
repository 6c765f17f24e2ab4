package kube

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/podname/podname/plugin/podname/internal/podtest"
	"google.golang.org/protobuf/encoding/protowire"
	api "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	kwatch "k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/scheme"
	restwatch "k8s.io/client-go/rest/watch"
	"sigs.k8s.io/randfill"
)

// randomPod fills every field of a Pod at random, then gives the fields
// the projection reads the shapes that exercise it.
func randomPod(r *rand.Rand) *api.Pod {
	p := &api.Pod{}
	randfill.NewWithSeed(r.Int64()).NilChance(0.3).NumElements(0, 2).MaxDepth(12).Fill(p)
	p.TypeMeta = meta.TypeMeta{APIVersion: "v1", Kind: "Pod"}
	ip := func() string {
		return podtest.Pick(r, "", "10.0.0.1", "2001:db8::7", "::ffff:10.1.2.3", "fe80::1%eth0", "not-an-ip", "10.0.0.256", "0.0.0.0")
	}
	when := func() meta.Time {
		if r.IntN(4) == 0 {
			return meta.Time{}
		}
		return meta.Unix(r.Int64N(4e9)-1e9, 0)
	}
	p.Namespace = podtest.Pick(r, "", "default", "kube-system", "Team-A", "ns-"+strconv.Itoa(r.IntN(3)))
	p.Name = podtest.Pick(r, "", "web-0", "Web-0.Example", "a.b", "x..y", strings.Repeat("n", 64), "db-"+strconv.Itoa(r.IntN(100)))
	p.ResourceVersion = podtest.Pick(r, "", "0", "007", "abc", strconv.FormatUint(r.Uint64(), 10), strconv.Itoa(r.IntN(1000)))
	p.CreationTimestamp = when()
	p.DeletionTimestamp = nil
	if r.IntN(4) == 0 {
		t := when()
		p.DeletionTimestamp = &t
	}
	p.Labels = nil
	if n := r.IntN(5); n > 0 {
		p.Labels = map[string]string{}
		for range n - 1 {
			p.Labels[podtest.Pick(r, "", "app", "a.io/b", "tier", "k=v")] = podtest.Pick(r, "", "ws", "x=y", "Web")
		}
	}
	if r.IntN(3) == 0 {
		if p.Annotations == nil {
			p.Annotations = map[string]string{}
		}
		p.Annotations[meta.InitialEventsAnnotationKey] = podtest.Pick(r, "true", "false", "")
	}
	p.Spec.Hostname = podtest.Pick(r, "", "host", "Host.Sub", strings.Repeat("h", 70))
	p.Spec.HostnameOverride = podtest.Pick(r, nil, new(""), new("over.ride"), new("Over-"+strconv.Itoa(r.IntN(9))))
	p.Spec.SetHostnameAsFQDN = podtest.Pick(r, nil, new(false), new(true))
	p.Spec.HostNetwork = r.IntN(2) == 0
	p.Status.Phase = podtest.Pick(r, "", api.PodPending, api.PodRunning, api.PodSucceeded, api.PodFailed, api.PodUnknown)
	p.Status.PodIP = ip()
	p.Status.PodIPs = nil
	if n := r.IntN(4); n > 0 {
		p.Status.PodIPs = []api.PodIP{}
		for range n - 1 {
			p.Status.PodIPs = append(p.Status.PodIPs, api.PodIP{IP: ip()})
		}
	}
	p.Status.Conditions = nil
	for range r.IntN(4) {
		p.Status.Conditions = append(p.Status.Conditions, api.PodCondition{
			Type:               podtest.Pick(r, api.PodReadyToStartContainers, api.PodReady, "Other"),
			Status:             podtest.Pick(r, api.ConditionTrue, api.ConditionFalse, api.ConditionUnknown),
			LastTransitionTime: when(),
			Message:            podtest.Pick(r, "", "m"),
		})
	}
	return p
}

// unknownFields are fields no version of the messages read uses (yet), of
// every wire type.
func unknownFields(b []byte) []byte {
	b = protowire.AppendTag(b, 5000, protowire.VarintType)
	b = protowire.AppendVarint(b, 1<<40)
	b = protowire.AppendTag(b, 5001, protowire.BytesType)
	b = protowire.AppendString(b, "future")
	b = protowire.AppendTag(b, 5002, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, 7)
	b = protowire.AppendTag(b, 5003, protowire.Fixed32Type)
	b = protowire.AppendFixed32(b, 7)
	b = protowire.AppendTag(b, 5004, protowire.StartGroupType)
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, 1)
	return protowire.AppendTag(b, 5004, protowire.EndGroupType)
}

// nested names, per message, the fields that hold the messages the
// decoder reads into, for withUnknown.
var nested = map[string]map[protowire.Number]string{
	"Pod":          {podMetadata: "ObjectMeta", podSpec: "PodSpec", podStatus: "PodStatus"},
	"ObjectMeta":   {metaCreated: "Time", metaDeleted: "Time", metaLabels: "entry", metaAnnotations: "entry"},
	"PodSpec":      {},
	"PodStatus":    {statusConditions: "PodCondition", statusPodIPs: "PodIP"},
	"PodCondition": {condTransition: "Time"},
	"PodIP":        {},
	"Time":         {},
	"entry":        {},
	"PodList":      {listMetadata: "ListMeta", listItems: "Pod"},
	"ListMeta":     {},
}

// withUnknown re-encodes message b of type msg with unknown fields added
// at its end and at the end of every message inside it the decoder reads.
// An empty Time stays empty: an empty one means the zero time.
func withUnknown(t testing.TB, msg string, b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("%s: bad tag", msg)
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		field := b[:n+m]
		b = b[n+m:]
		child, ok := nested[msg][num]
		if !ok || typ != protowire.BytesType {
			out = append(out, field...)
			continue
		}
		v, _ := protowire.ConsumeBytes(field[n:])
		if child != "Time" || len(v) > 0 {
			v = withUnknown(t, child, v)
		}
		out = protowire.AppendTag(out, num, typ)
		out = protowire.AppendBytes(out, v)
	}
	return unknownFields(out)
}

// marshal is k8s.io/api's generated Marshal.
func marshal(t testing.TB, m interface{ Marshal() ([]byte, error) }) []byte {
	b, err := m.Marshal()
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}

// fullProjection decodes b as the ordinary decoder does and projects the
// Pod as the JSON path does.
func fullProjection(b []byte) (*Pod, error) {
	p := &api.Pod{}
	if err := p.Unmarshal(b); err != nil {
		return nil, err
	}
	return projectEvent(p), nil
}

// sameProjection fails unless got equals want in every field.
func sameProjection(t testing.TB, what string, got, want *Pod) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\nslim %+v\nfull %+v", what, got, want)
	}
}

func TestSlimDecodeProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		p := randomPod(r)
		b := marshal(t, p)
		for _, variant := range []struct {
			name string
			b    []byte
		}{{"plain", b}, {"unknown fields", withUnknown(t, "Pod", b)}} {
			want, err := fullProjection(variant.b)
			if err != nil {
				t.Fatalf("pod %d (%s): full decode: %v", i, variant.name, err)
			}
			got, err := decodePod(variant.b, nil)
			if err != nil {
				t.Fatalf("pod %d (%s): %v", i, variant.name, err)
			}
			sameProjection(t, fmt.Sprintf("pod %d (%s)", i, variant.name), got, want)
		}
	}
}

// TestSlimDecodeMerges: a field repeated on the wire merges as the
// generated code merges it (a message twice, a scalar twice, a map key
// twice).
func TestSlimDecodeMerges(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		a, b := marshal(t, randomPod(r)), marshal(t, randomPod(r))
		both := append(append([]byte{}, a...), b...)
		want, err := fullProjection(both)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodePod(both, nil)
		if err != nil {
			t.Fatal(err)
		}
		sameProjection(t, fmt.Sprintf("pods %d concatenated", i), got, want)
	}
}

// encodeObject is what the API server sends for obj in protobuf.
func encodeObject(t testing.TB, obj runtime.Object) []byte {
	var buf bytes.Buffer
	if err := protobuf.NewSerializer(scheme.Scheme, scheme.Scheme).Encode(obj, &buf); err != nil {
		t.Fatalf("encode %T: %v", obj, err)
	}
	return buf.Bytes()
}

// slimCodecs are the slim serializer's decoders for protobuf and JSON.
func slimCodecs(t testing.TB) (wire, json runtime.Decoder) {
	for _, info := range (slimSerializer{NegotiatedSerializer: scheme.Codecs.WithoutConversion()}).SupportedMediaTypes() {
		switch info.MediaType {
		case runtime.ContentTypeProtobuf:
			wire = info.Serializer
		case runtime.ContentTypeJSON:
			json = info.Serializer
		}
	}
	if wire == nil || json == nil {
		t.Fatal("slim serializer lacks protobuf or JSON")
	}
	return wire, json
}

func TestSlimDecodeList(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	wire, jsonDec := slimCodecs(t)
	for i := range 50 {
		l := &api.PodList{ListMeta: meta.ListMeta{
			ResourceVersion: strconv.Itoa(r.IntN(1e6)), Continue: podtest.Pick(r, "", "token"),
			RemainingItemCount: podtest.Pick(r, nil, new(int64(0)), new(r.Int64N(1e5))),
		}}
		for range r.IntN(5) {
			l.Items = append(l.Items, *randomPod(r))
		}
		l.SetGroupVersionKind(api.SchemeGroupVersion.WithKind("PodList"))
		raw := encodeObject(t, l)
		for _, c := range []struct {
			name string
			dec  runtime.Decoder
			b    []byte
		}{
			{"protobuf", wire, raw},
			{"protobuf, unknown fields", wire, reenvelope(t, raw, withUnknown(t, "PodList", unenvelope(t, raw)))},
			{"json", jsonDec, encodeJSON(t, withoutManagedFields(l))},
		} {
			full, _, err := scheme.Codecs.UniversalDeserializer().Decode(c.b, nil, nil)
			if err != nil {
				t.Fatalf("list %d (%s): full decode: %v", i, c.name, err)
			}
			want := projectDecoded(full).(*podList)
			got, _, err := c.dec.Decode(c.b, nil, nil)
			if err != nil {
				t.Fatalf("list %d (%s): %v", i, c.name, err)
			}
			gl, ok := got.(*podList)
			if !ok {
				t.Fatalf("list %d (%s): got %T", i, c.name, got)
			}
			if !reflect.DeepEqual(gl.ListMeta, want.ListMeta) || len(gl.Items) != len(want.Items) {
				t.Fatalf("list %d (%s): got %+v, %d items; want %+v, %d", i, c.name, gl.ListMeta, len(gl.Items), want.ListMeta, len(want.Items))
			}
			for j := range want.Items {
				sameProjection(t, fmt.Sprintf("list %d (%s) item %d", i, c.name, j), gl.Items[j], want.Items[j])
			}
		}
	}
}

// unenvelope returns the message inside an encoded object.
func unenvelope(t testing.TB, b []byte) []byte {
	_, _, raw, ok := envelope(b)
	if !ok {
		t.Fatal("not an encoded object")
	}
	return raw
}

// reenvelope replaces the message inside encoded object b by raw.
func reenvelope(t testing.TB, b, raw []byte) []byte {
	u := &runtime.Unknown{}
	if err := u.Unmarshal(b[len(protoMagic):]); err != nil {
		t.Fatal(err)
	}
	u.Raw = raw
	return append(append([]byte{}, protoMagic...), marshal(t, u)...)
}

// withoutManagedFields is l without its random managedFields, which JSON
// cannot encode.
func withoutManagedFields(l *api.PodList) *api.PodList {
	l = l.DeepCopy()
	for i := range l.Items {
		l.Items[i].ManagedFields = nil
	}
	return l
}

func encodeJSON(t testing.TB, obj runtime.Object) []byte {
	info, _ := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeJSON)
	var buf bytes.Buffer
	if err := info.Serializer.Encode(obj, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSlimDecodeWatch decodes a watch stream as client-go's rest watch
// does: frames of WatchEvents whose objects the slim decoder decodes.
func TestSlimDecodeWatch(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, mediaType := range []string{runtime.ContentTypeProtobuf, runtime.ContentTypeJSON} {
		t.Run(mediaType, func(t *testing.T) {
			var events []kwatch.Event
			for range 20 {
				p := randomPod(r)
				p.ManagedFields = nil
				events = append(events, kwatch.Event{Type: podtest.Pick(r, kwatch.Added, kwatch.Modified, kwatch.Deleted), Object: p})
			}
			bookmark := &api.Pod{TypeMeta: meta.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: meta.ObjectMeta{ResourceVersion: "4242",
				Annotations: map[string]string{meta.InitialEventsAnnotationKey: "true"}}}
			events = append(events, kwatch.Event{Type: kwatch.Bookmark, Object: bookmark},
				kwatch.Event{Type: kwatch.Error, Object: &meta.Status{TypeMeta: meta.TypeMeta{APIVersion: "v1", Kind: "Status"},
					Status: meta.StatusFailure, Code: 410, Reason: meta.StatusReasonExpired}})

			dec := watchDecoder(t, mediaType, podtest.EncodeWatch(t, mediaType, events))
			// The stream decoder reuses one buffer for every frame: what an
			// event gave must not change when the next frames are read.
			decoded := map[int]Pod{}
			defer func() {
				for i, o := range decoded {
					want := projectEvent(roundTrip(t, mediaType, events[i].Object.(*api.Pod)))
					sameProjection(t, fmt.Sprintf("event %d after the stream", i), &o, want)
				}
			}()
			for i, e := range events {
				typ, obj, err := dec.Decode()
				if err != nil {
					t.Fatalf("event %d: %v", i, err)
				}
				if typ != e.Type {
					t.Fatalf("event %d: type %s, want %s", i, typ, e.Type)
				}
				p, ok := e.Object.(*api.Pod)
				if !ok {
					if s, ok := obj.(*meta.Status); !ok || s.Code != 410 {
						t.Fatalf("event %d: got %#v, want the Status", i, obj)
					}
					continue
				}
				got, ok := obj.(*Pod)
				if !ok {
					t.Fatalf("event %d: got %T", i, obj)
				}
				want := projectEvent(roundTrip(t, mediaType, p))
				sameProjection(t, fmt.Sprintf("event %d", i), got, want)
				decoded[i] = *got
				if rv := parseRV(p.ResourceVersion); rv != 0 && got.GetResourceVersion() != p.ResourceVersion {
					t.Errorf("event %d: resourceVersion %q, want %q", i, got.GetResourceVersion(), p.ResourceVersion)
				}
				if e.Type == kwatch.Bookmark && got.GetAnnotations()[meta.InitialEventsAnnotationKey] != "true" {
					t.Errorf("bookmark: annotations %v, want the end of initial events", got.GetAnnotations())
				}
			}
		})
	}
}

// watchDecoder decodes body as client-go's rest client decodes a watch
// response through the slim serializer.
func watchDecoder(t testing.TB, mediaType string, body []byte) *restwatch.Decoder {
	n := runtime.NewClientNegotiator(slimSerializer{NegotiatedSerializer: scheme.Codecs.WithoutConversion()}, api.SchemeGroupVersion)
	objects, frames, framer, err := n.StreamDecoder(mediaType, nil)
	if err != nil {
		t.Fatal(err)
	}
	return restwatch.NewDecoder(streaming.NewDecoder(framer.NewFrameReader(io.NopCloser(bytes.NewReader(body))), frames), objects)
}

// roundTrip is p as the ordinary decoder gives it after encoding in
// mediaType.
func roundTrip(t testing.TB, mediaType string, p *api.Pod) *api.Pod {
	info, _ := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), mediaType)
	var buf bytes.Buffer
	p = p.DeepCopy()
	p.SetGroupVersionKind(api.SchemeGroupVersion.WithKind("Pod"))
	if err := info.Serializer.Encode(p, &buf); err != nil {
		t.Fatal(err)
	}
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(buf.Bytes(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return obj.(*api.Pod)
}
