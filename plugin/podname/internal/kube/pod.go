package kube

import (
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unique"

	"github.com/coredns/coredns/plugin/kubernetes/object"

	"github.com/podname/podname/plugin/podname/index"
	api "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Pod is the projection a PodStore holds for a Pod: the index's projection
// and the few facts the watch needs, never the whole Pod. Its fields are
// ordered to fit 112 bytes, the size class a projection takes.
//
// Once a PodStore holds it, only rv, readySince and listed change, in
// place and under the store's lock (PodStore.put); the index shares the
// rest, which never changes, without copying or locking.
type Pod struct {
	object.Empty // zero-sized: the runtime.Object and meta.Object methods
	index.Pod
	// indexable: the pod has an IP, is not terminal and is not terminating.
	indexable bool
	// initialEventsEnd: the object carried the annotation that ends a
	// watch-list's initial events (on a bookmark).
	initialEventsEnd bool
	// listed is the store's mark (PodStore.listed) when the pod was last
	// put: a parity bit for the sweep after a relist, read only by the store.
	listed bool
	// readySince is the PodReadyToStartContainers transition, Unix seconds
	// (0 if none, or outside 1970-2106).
	readySince uint32
	// rv is the resourceVersion of the event that brought this version (0 if
	// malformed): the zones' serials come from it. equal ignores it.
	rv uint64
}

// Project keeps only what the index needs of a Pod, so the cache holds a
// few hundred bytes per pod.
func Project(p *api.Pod) *Pod {
	f := podFacts{
		namespace: p.Namespace, name: p.Name, rv: p.ResourceVersion, phase: string(p.Status.Phase),
		hostname: p.Spec.Hostname, hostNetwork: p.Spec.HostNetwork,
		asFQDN:  p.Spec.SetHostnameAsFQDN != nil && *p.Spec.SetHostnameAsFQDN,
		deleted: p.DeletionTimestamp != nil, created: p.CreationTimestamp.Unix(), labels: p.Labels,
	}
	if p.Spec.HostnameOverride != nil {
		f.override = *p.Spec.HostnameOverride
	}
	f.ips = make([]string, 0, 2)
	for _, ip := range p.Status.PodIPs {
		f.ips = append(f.ips, ip.IP)
	}
	if len(f.ips) == 0 && p.Status.PodIP != "" {
		f.ips = append(f.ips, p.Status.PodIP)
	}
	for _, c := range p.Status.Conditions {
		if c.Type == api.PodReadyToStartContainers && c.Status == api.ConditionTrue {
			f.readySince = c.LastTransitionTime.Unix()
		}
	}
	return f.project()
}

// podFacts are what a Pod's projection is built from, however the Pod was
// decoded: whole (project) or straight from the wire (decodePod). Its
// strings may point into a message being decoded; project copies what the
// projection keeps.
type podFacts struct {
	namespace, name, rv, phase   string
	hostname, override           string
	asFQDN, hostNetwork, deleted bool
	created, readySince          int64    // Unix seconds
	ips                          []string // status.podIPs, else status.podIP
	labels                       map[string]string
}

// project builds the projection: a pod is indexable while it has an IP, is
// not terminal and is not being deleted.
func (f *podFacts) project() *Pod {
	o := &Pod{Pod: index.Pod{
		Namespace: unique.Make(f.namespace).Value(),
		Name:      strings.Clone(strings.ToLower(f.name)),
	}, rv: parseRV(f.rv)}
	o.IPs = parseIPs(f.ips)
	o.indexable = len(o.IPs) > 0 && !f.deleted &&
		f.phase != string(api.PodSucceeded) && f.phase != string(api.PodFailed)
	if !o.indexable {
		o.IPs = nil
		return o
	}
	o.Created = f.created
	o.Labels = index.MakeLabels(f.labels)
	o.HostNetwork = f.hostNetwork
	o.NameOK = index.NameFits(o.Name)
	if h := index.KubeletHostname(f.name, f.hostname, f.override, f.asFQDN); h != o.Name {
		o.Host = strings.Clone(h)
	}
	if f.readySince > 0 && f.readySince <= math.MaxUint32 {
		o.readySince = uint32(f.readySince)
	}
	return o
}

// parseIPs parses a pod's IPs, skipping any that do not parse.
func parseIPs(raw []string) []netip.Addr {
	ips := make([]netip.Addr, 0, len(raw))
	for _, s := range raw {
		if ip, err := netip.ParseAddr(s); err == nil && ip.Zone() == "" {
			ips = append(ips, ip.Unmap())
		}
	}
	return ips
}

// Indexed returns the projection an index should hold, or nil.
func (o *Pod) Indexed() *index.Pod {
	if o == nil || !o.indexable {
		return nil
	}
	return &o.Pod
}

// At is a copy of o as an event at resource version rv brings it: a
// deletion hands the subscribers the held projection at its own version.
func (o *Pod) At(rv uint64) *Pod {
	c := *o
	c.rv = rv
	return &c
}

// ReadySince is the pod's PodReadyToStartContainers transition, Unix
// seconds, or 0.
func (o *Pod) ReadySince() uint32 { return o.readySince }

// Equal reports whether two projections answer the same.
func (o *Pod) Equal(b *Pod) bool {
	if o == nil || b == nil {
		return o == b
	}
	return o.indexable == b.indexable && o.Namespace == b.Namespace && o.Name == b.Name &&
		o.Host == b.Host && o.Created == b.Created && o.Labels == b.Labels &&
		o.HostNetwork == b.HostNetwork && o.NameOK == b.NameOK && slices.Equal(o.IPs, b.IPs)
}

// Version is the resource version of the event that brought o.
func (o *Pod) Version() uint64 { return o.rv }

// GetNamespace implements metav1.Object.
func (o *Pod) GetNamespace() string { return o.Namespace }

// SetNamespace implements metav1.Object.
func (o *Pod) SetNamespace(string) {}

// GetName implements metav1.Object.
func (o *Pod) GetName() string { return o.Name }

// SetName implements metav1.Object.
func (o *Pod) SetName(string) {}

// GetResourceVersion implements metav1.Object: the reflector reads it from
// every event and resumes its watch from the last one's. A malformed one
// (rv 0) reports "".
func (o *Pod) GetResourceVersion() string {
	if o.rv == 0 {
		return ""
	}
	return strconv.FormatUint(o.rv, 10)
}

// initialEventsEndAnnotations is what a bookmark ending a watch-list's
// initial events reports; read only.
var initialEventsEndAnnotations = map[string]string{meta.InitialEventsAnnotationKey: "true"}

// GetAnnotations implements metav1.Object: the reflector looks for the
// annotation that ends a watch-list's initial events.
func (o *Pod) GetAnnotations() map[string]string {
	if o.initialEventsEnd {
		return initialEventsEndAnnotations
	}
	return nil
}

// SetResourceVersion implements metav1.Object.
func (o *Pod) SetResourceVersion(string) {}

// DeepCopyObject implements runtime.Object. A projection's strings, slices
// and labels never change once made (see Pod), so a shallow copy is
// a deep one.
func (o *Pod) DeepCopyObject() runtime.Object {
	c := *o
	return &c
}
