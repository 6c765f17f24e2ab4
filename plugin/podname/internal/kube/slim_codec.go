package kube

import (
	"bytes"
	"context"
	"fmt"
	"time"

	api "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kwatch "k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/watchlist"
)

// slimClientset is a clientset whose pods are listed and watched through
// the slim decoder: each watch has a REST client for core/v1 of its own,
// whose decoder knows the pods the watch holds.
type slimClientset struct {
	kubernetes.Interface
	cfg *rest.Config // for the pods' REST clients
}

// withSlimPods adds to client what it takes to list and watch pods with
// the slim decoder, from cfg (the clientset's config).
func withSlimPods(client kubernetes.Interface, cfg *rest.Config) (kubernetes.Interface, error) {
	c := rest.CopyConfig(cfg)
	c.APIPath = "/api"
	c.GroupVersion = &api.SchemeGroupVersion
	c.NegotiatedSerializer = slimSerializer{NegotiatedSerializer: scheme.Codecs.WithoutConversion()}
	if _, err := rest.RESTClientFor(c); err != nil { // the config's errors show at setup
		return nil, fmt.Errorf("create pods client: %w", err)
	}
	return slimClientset{Interface: client, cfg: c}, nil
}

// podsClient is a REST client for pods whose decoder knows what held holds.
func (s slimClientset) podsClient(held *PodStore) (rest.Interface, error) {
	c := rest.CopyConfig(s.cfg)
	c.NegotiatedSerializer = slimSerializer{NegotiatedSerializer: scheme.Codecs.WithoutConversion(), held: held}
	rc, err := rest.RESTClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("create pods client: %w", err)
	}
	return rc, nil
}

// IsWatchListSemanticsUnSupported passes on what the wrapped clientset
// says, for the Services' informer (cache.ToListWatcherWithWatchListSemantics).
func (s slimClientset) IsWatchListSemanticsUnSupported() bool {
	return watchlist.DoesClientNotSupportWatchListSemantics(s.Interface)
}

// slimListWatch lists and watches pods through rc, as listWatch does
// through the typed client, giving projections rather than Pods.
func slimListWatch(rc rest.Interface, selector string) cache.ListerWatcher {
	return cache.ToListWatcherWithWatchListSemantics(&cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o meta.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			obj, err := rc.Get().Resource("pods").VersionedParams(&o, scheme.ParameterCodec).
				Timeout(timeout(o)).Do(ctx).Get()
			if err != nil {
				return nil, err
			}
			if _, ok := obj.(*podList); !ok {
				return nil, fmt.Errorf("list pods: got %T", obj)
			}
			return obj, nil
		},
		WatchFuncWithContext: func(ctx context.Context, o meta.ListOptions) (kwatch.Interface, error) {
			o.LabelSelector = selector
			o.Watch = true
			return rc.Get().Resource("pods").VersionedParams(&o, scheme.ParameterCodec).
				Timeout(timeout(o)).Watch(ctx)
		},
	}, rc)
}

// timeout is the request timeout the typed client sets for o.
func timeout(o meta.ListOptions) time.Duration {
	if o.TimeoutSeconds == nil {
		return 0
	}
	return time.Duration(*o.TimeoutSeconds) * time.Second
}

// slimSerializer is client-go's serializer for the built-in types with
// the protobuf and JSON decoders replaced by ones that turn Pods and
// PodLists into projections and decode anything else (a Status, a watch
// event's frame) as before.
type slimSerializer struct {
	runtime.NegotiatedSerializer
	held *PodStore // what the watch holds, or nil: see decodePod
}

// SupportedMediaTypes implements runtime.NegotiatedSerializer.
func (s slimSerializer) SupportedMediaTypes() []runtime.SerializerInfo {
	infos := s.NegotiatedSerializer.SupportedMediaTypes()
	out := make([]runtime.SerializerInfo, 0, len(infos))
	for _, info := range infos {
		switch info.MediaType {
		case runtime.ContentTypeProtobuf:
			info.Serializer = slimDecoder{Serializer: info.Serializer, wire: true, held: s.held}
			if info.StreamSerializer != nil {
				stream := *info.StreamSerializer
				stream.Serializer = watchEventFrames{stream.Serializer}
				info.StreamSerializer = &stream
			}
		case runtime.ContentTypeJSON:
			info.Serializer = slimDecoder{Serializer: info.Serializer}
		}
		out = append(out, info)
	}
	return out
}

// slimDecoder decodes Pods and PodLists into projections: from protobuf
// by reading only the fields projected (wire), from JSON by projecting
// the Pods the ordinary decoder gives.
type slimDecoder struct {
	runtime.Serializer
	wire bool
	held *PodStore // see decodePod
}

// gvkPod and gvkPodList are what Decode reports it decoded: shared, for
// callers to read (client-go's only ignore them).
var (
	gvkPod     = schema.GroupVersionKind{Version: "v1", Kind: "Pod"}
	gvkPodList = schema.GroupVersionKind{Version: "v1", Kind: "PodList"}
)

var (
	kindPod     = []byte("Pod")
	kindPodList = []byte("PodList")
	versionV1   = []byte("v1")
)

// Decode implements runtime.Decoder.
func (d slimDecoder) Decode(data []byte, gvk *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	switch into.(type) {
	case nil, *Pod, *podList:
	default:
		return d.Serializer.Decode(data, gvk, into)
	}
	var out runtime.Object
	var got *schema.GroupVersionKind
	if v, kind, raw, ok := envelope(data); d.wire && ok && bytes.Equal(v, versionV1) &&
		(bytes.Equal(kind, kindPod) || bytes.Equal(kind, kindPodList)) {
		// A held projection is handed back only as itself: copied into
		// another object, it would be read outside the store's lock.
		held := d.held
		if into != nil {
			held = nil
		}
		var err error
		if bytes.Equal(kind, kindPod) {
			out, err = decodePod(raw, held)
		} else {
			out, err = decodePodList(raw, held)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("decode %s: %w", kind, err)
		}
		got = &gvkPod
		if bytes.Equal(kind, kindPodList) {
			got = &gvkPodList
		}
	} else {
		obj, g, err := d.Serializer.Decode(data, gvk, nil)
		if err != nil {
			return nil, g, err
		}
		out, got = projectDecoded(obj), g
	}
	switch dst := into.(type) {
	case *Pod:
		src, ok := out.(*Pod)
		if !ok {
			return nil, got, fmt.Errorf("decode into a pod: got %T", out)
		}
		*dst = *src
		return dst, got, nil
	case *podList:
		src, ok := out.(*podList)
		if !ok {
			return nil, got, fmt.Errorf("decode into a pod list: got %T", out)
		}
		*dst = *src
		return dst, got, nil
	}
	return out, got, nil
}

// projectDecoded turns a decoded Pod or PodList into what the slim
// decoder gives for it, and leaves anything else as it is.
func projectDecoded(obj runtime.Object) runtime.Object {
	switch t := obj.(type) {
	case *api.Pod:
		return projectEvent(t)
	case *api.PodList:
		l := &podList{ListMeta: t.ListMeta, Items: make([]*Pod, len(t.Items))}
		for i := range t.Items {
			l.Items[i] = projectEvent(&t.Items[i])
		}
		return l
	}
	return obj
}

// projectEvent is project for a Pod fresh from a decoder, as decodePod.
func projectEvent(p *api.Pod) *Pod {
	o := Project(p)
	o.initialEventsEnd = p.Annotations[meta.InitialEventsAnnotationKey] == "true"
	return o
}

// fullDecode decodes pods whole and projects them with the transform, the
// path before the slim decoder. The product never sets it: the bench's
// build (bench_switches.go) and tests do, to measure and test both paths.
var fullDecode bool

// podListWatch is the ListerWatcher and example object of the pods held
// will hold: the slim decoder's when client has it, else the typed client's.
func podListWatch(client kubernetes.Interface, selector string, held *PodStore) (cache.ListerWatcher, runtime.Object, error) {
	if s, ok := client.(slimClientset); ok && !fullDecode {
		rc, err := s.podsClient(held)
		if err != nil {
			return nil, nil, err
		}
		return slimListWatch(rc, selector), &Pod{}, nil
	}
	return listWatch(client, client.CoreV1().Pods(meta.NamespaceAll), selector), &api.Pod{}, nil
}
