package kube

import (
	"bytes"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	api "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// wireStep is one field on the way to a value: its number and wire type.
type wireStep struct {
	num protowire.Number
	typ protowire.Type
}

func bytesAt(n protowire.Number) wireStep  { return wireStep{n, protowire.BytesType} }
func varintAt(n protowire.Number) wireStep { return wireStep{n, protowire.VarintType} }

// holds reports whether message b has, along path, a field holding want
// (bytes for the bytes wire type, a uvarint's encoding for a varint).
func holds(b []byte, path []wireStep, want []byte) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return false
		}
		field := b[:m]
		b = b[m:]
		if num != path[0].num || typ != path[0].typ {
			continue
		}
		if typ == protowire.BytesType {
			field, _ = protowire.ConsumeBytes(field)
		}
		if len(path) == 1 && bytes.Equal(field, want) || len(path) > 1 && holds(field, path[1:], want) {
			return true
		}
	}
	return false
}

// TestSlimFieldNumbers checks every field the slim decoder reads against
// the code k8s.io/api and k8s.io/apimachinery generate from their
// generated.proto: an object with only that field set, marshalled, has the
// value at the number and wire type the decoder reads. A bump that moves
// or retypes one fails here.
func TestSlimFieldNumbers(t *testing.T) {
	when := meta.NewTime(time.Unix(1234567, 0))
	seconds := protowire.AppendVarint(nil, 1234567)
	str := func(s string) []byte { return []byte(s) }
	pod := func(f func(*api.Pod)) func() []byte {
		return func() []byte {
			p := &api.Pod{}
			f(p)
			return marshal(t, p)
		}
	}
	cases := []struct {
		name string
		msg  func() []byte
		path []wireStep
		want []byte
	}{
		{"metadata.name", pod(func(p *api.Pod) { p.Name = "n1" }), []wireStep{bytesAt(podMetadata), bytesAt(metaName)}, str("n1")},
		{"metadata.namespace", pod(func(p *api.Pod) { p.Namespace = "ns1" }), []wireStep{bytesAt(podMetadata), bytesAt(metaNamespace)}, str("ns1")},
		{"metadata.resourceVersion", pod(func(p *api.Pod) { p.ResourceVersion = "77" }), []wireStep{bytesAt(podMetadata), bytesAt(metaRV)}, str("77")},
		{"metadata.creationTimestamp", pod(func(p *api.Pod) { p.CreationTimestamp = when }),
			[]wireStep{bytesAt(podMetadata), bytesAt(metaCreated), varintAt(timeSeconds)}, seconds},
		{"metadata.deletionTimestamp", pod(func(p *api.Pod) { p.DeletionTimestamp = &when }),
			[]wireStep{bytesAt(podMetadata), bytesAt(metaDeleted), varintAt(timeSeconds)}, seconds},
		{"metadata.labels key", pod(func(p *api.Pod) { p.Labels = map[string]string{"lk": "lv"} }),
			[]wireStep{bytesAt(podMetadata), bytesAt(metaLabels), bytesAt(mapKey)}, str("lk")},
		{"metadata.labels value", pod(func(p *api.Pod) { p.Labels = map[string]string{"lk": "lv"} }),
			[]wireStep{bytesAt(podMetadata), bytesAt(metaLabels), bytesAt(mapValue)}, str("lv")},
		{"metadata.annotations key", pod(func(p *api.Pod) { p.Annotations = map[string]string{"ak": "av"} }),
			[]wireStep{bytesAt(podMetadata), bytesAt(metaAnnotations), bytesAt(mapKey)}, str("ak")},
		{"metadata.annotations value", pod(func(p *api.Pod) { p.Annotations = map[string]string{"ak": "av"} }),
			[]wireStep{bytesAt(podMetadata), bytesAt(metaAnnotations), bytesAt(mapValue)}, str("av")},
		{"spec.hostNetwork", pod(func(p *api.Pod) { p.Spec.HostNetwork = true }), []wireStep{bytesAt(podSpec), varintAt(specHostNetwork)}, []byte{1}},
		{"spec.hostname", pod(func(p *api.Pod) { p.Spec.Hostname = "h1" }), []wireStep{bytesAt(podSpec), bytesAt(specHostname)}, str("h1")},
		{"spec.setHostnameAsFQDN", pod(func(p *api.Pod) { p.Spec.SetHostnameAsFQDN = new(true) }), []wireStep{bytesAt(podSpec), varintAt(specAsFQDN)}, []byte{1}},
		{"spec.hostnameOverride", pod(func(p *api.Pod) { p.Spec.HostnameOverride = new("o1") }), []wireStep{bytesAt(podSpec), bytesAt(specOverride)}, str("o1")},
		{"status.phase", pod(func(p *api.Pod) { p.Status.Phase = "Ph" }), []wireStep{bytesAt(podStatus), bytesAt(statusPhase)}, str("Ph")},
		{"status.podIP", pod(func(p *api.Pod) { p.Status.PodIP = "ip1" }), []wireStep{bytesAt(podStatus), bytesAt(statusPodIP)}, str("ip1")},
		{"status.podIPs.ip", pod(func(p *api.Pod) { p.Status.PodIPs = []api.PodIP{{IP: "ip2"}} }),
			[]wireStep{bytesAt(podStatus), bytesAt(statusPodIPs), bytesAt(podIPIP)}, str("ip2")},
		{"status.conditions.type", pod(func(p *api.Pod) { p.Status.Conditions = []api.PodCondition{{Type: "T1"}} }),
			[]wireStep{bytesAt(podStatus), bytesAt(statusConditions), bytesAt(condType)}, str("T1")},
		{"status.conditions.status", pod(func(p *api.Pod) { p.Status.Conditions = []api.PodCondition{{Status: "S1"}} }),
			[]wireStep{bytesAt(podStatus), bytesAt(statusConditions), bytesAt(condStatus)}, str("S1")},
		{"status.conditions.lastTransitionTime", pod(func(p *api.Pod) { p.Status.Conditions = []api.PodCondition{{LastTransitionTime: when}} }),
			[]wireStep{bytesAt(podStatus), bytesAt(statusConditions), bytesAt(condTransition), varintAt(timeSeconds)}, seconds},
		{"Timestamp.nanos", func() []byte { return marshal(t, &meta.Timestamp{Nanos: 5}) }, []wireStep{varintAt(timeNanos)}, []byte{5}},
		{"PodList.items", func() []byte {
			return marshal(t, &api.PodList{Items: []api.Pod{{ObjectMeta: meta.ObjectMeta{Name: "i1"}}}})
		},
			[]wireStep{bytesAt(listItems), bytesAt(podMetadata), bytesAt(metaName)}, str("i1")},
		{"PodList.metadata.resourceVersion", func() []byte { return marshal(t, &api.PodList{ListMeta: meta.ListMeta{ResourceVersion: "88"}}) },
			[]wireStep{bytesAt(listMetadata), bytesAt(listRV)}, str("88")},
		{"PodList.metadata.continue", func() []byte { return marshal(t, &api.PodList{ListMeta: meta.ListMeta{Continue: "c1"}}) },
			[]wireStep{bytesAt(listMetadata), bytesAt(listContinue)}, str("c1")},
		{"PodList.metadata.remainingItemCount", func() []byte {
			return marshal(t, &api.PodList{ListMeta: meta.ListMeta{RemainingItemCount: new(int64(9))}})
		}, []wireStep{bytesAt(listMetadata), varintAt(listRemain)}, []byte{9}},
		{"Unknown.typeMeta.apiVersion", func() []byte { return marshal(t, &runtime.Unknown{TypeMeta: runtime.TypeMeta{APIVersion: "v9"}}) },
			[]wireStep{bytesAt(unknownTypeMeta), bytesAt(typeAPIVersion)}, str("v9")},
		{"Unknown.typeMeta.kind", func() []byte { return marshal(t, &runtime.Unknown{TypeMeta: runtime.TypeMeta{Kind: "K9"}}) },
			[]wireStep{bytesAt(unknownTypeMeta), bytesAt(typeKind)}, str("K9")},
		{"Unknown.raw", func() []byte { return marshal(t, &runtime.Unknown{Raw: []byte("r9")}) }, []wireStep{bytesAt(unknownRaw)}, str("r9")},
		{"Unknown.contentEncoding", func() []byte { return marshal(t, &runtime.Unknown{ContentEncoding: "e9"}) },
			[]wireStep{bytesAt(unknownEncoding)}, str("e9")},
	}
	for _, c := range cases {
		if !holds(c.msg(), c.path, c.want) {
			t.Errorf("%s: the generated code does not put %q at %v", c.name, c.want, c.path)
		}
	}
}
