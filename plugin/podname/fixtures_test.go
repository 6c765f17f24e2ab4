package podname

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	"github.com/podname/podname/plugin/podname/index"
	api "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// base is the creation time of the fixtures; later pods are younger.
var base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type podOpt func(*api.Pod)

func newPod(ns, name string, ips []string, opts ...podOpt) *api.Pod {
	p := &api.Pod{
		ObjectMeta: meta.ObjectMeta{
			Namespace: ns, Name: name,
			Labels:            map[string]string{"app": "ws", "pod-template-hash": "777779bd59"},
			CreationTimestamp: meta.NewTime(base),
		},
		Status: api.PodStatus{Phase: api.PodRunning},
	}
	for _, ip := range ips {
		p.Status.PodIPs = append(p.Status.PodIPs, api.PodIP{IP: ip})
	}
	if len(ips) > 0 {
		p.Status.PodIP = ips[0]
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func created(d time.Duration) podOpt {
	return func(p *api.Pod) { p.CreationTimestamp = meta.NewTime(base.Add(d)) }
}
func hostname(h string) podOpt             { return func(p *api.Pod) { p.Spec.Hostname = h } }
func override(h string) podOpt             { return func(p *api.Pod) { p.Spec.HostnameOverride = &h } }
func hostNetwork() podOpt                  { return func(p *api.Pod) { p.Spec.HostNetwork = true } }
func phase(ph api.PodPhase) podOpt         { return func(p *api.Pod) { p.Status.Phase = ph } }
func podLabels(l map[string]string) podOpt { return func(p *api.Pod) { p.Labels = l } }
func resourceVersion(rv int) podOpt {
	return func(p *api.Pod) { p.ResourceVersion = strconv.Itoa(rv) }
}
func terminating() podOpt {
	return func(p *api.Pod) { t := meta.NewTime(base); p.DeletionTimestamp = &t }
}

func newService(ns, name string, selector map[string]string) *api.Service {
	return &api.Service{ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name}, Spec: api.ServiceSpec{Selector: selector}}
}

// longLabel is a pod name of one 70-character label: valid for the API
// server, too long for DNS; its kubelet hostname is cut to 63.
var longLabel = strings.Repeat("x", 60) + "-abcdefghi"

// seedPods are the write-up's pods plus one of each kind the index treats
// specially.
func seedPods() []*api.Pod {
	return []*api.Pod{
		newPod("default", "ws-777779bd59-ftn4j", []string{"10.36.0.1"}),
		newPod("default", "ws-777779bd59-nnppt", []string{"10.32.0.5"}),
		newPod("default", "dual-0", []string{"10.36.0.9", "fd00::9"}),
		newPod("default", "v6-0", []string{"fd00::10"}),
		newPod("default", "web-5d8f-abcde", []string{"10.36.0.11"}, hostname("web"), podLabels(map[string]string{"app": "web"})),
		newPod("default", "ovr-1", []string{"10.36.0.12"}, override("legacy-host")),
		newPod("default", longLabel, []string{"10.36.0.13"}),
		newPod("default", "a.b", []string{"10.36.0.20"}),
		newPod("default", "gone", []string{"10.36.0.30"}, terminating()),
		newPod("default", "done", []string{"10.36.0.31"}, phase(api.PodSucceeded)),
		newPod("default", "crashed", []string{"10.36.0.32"}, phase(api.PodFailed)),
		newPod("default", "pending", nil, phase(api.PodPending)),
		newPod("default", "hn-agent", []string{"192.0.2.10"}, hostNetwork(), hostname("node-1")),
		newPod("team-b", "ws-777779bd59-ftn4j", []string{"10.40.0.1"}, created(time.Hour)),
	}
}

func seedServices() []*api.Service {
	return []*api.Service{
		newService("default", "ws", map[string]string{"app": "ws"}),
		newService("default", "empty", nil),
	}
}

// newTestPlugin parses a Corefile stanza and fills the plugin's index the
// way the watch does: through the transform and the event handler.
func newTestPlugin(t *testing.T, corefile string, pods []*api.Pod, svcs []*api.Service) *PodName {
	t.Helper()
	c := caddy.NewTestController("dns", corefile)
	p, err := parse(c)
	if err != nil {
		t.Fatalf("parse %q: %v", corefile, err)
	}
	services := index.NewServices()
	for _, s := range svcs {
		services.Set(s.Namespace, s.Name, s.Spec.Selector)
	}
	p.idx = index.New(p.opts, services)
	p.zs = newZoneSet(p.Zones, p.inZone)
	for _, pod := range pods {
		p.onPod(nil, project(pod))
	}
	p.synced.Store(true)
	p.zs.markListed()
	p.Next = nextMarker
	return p
}

// nextMarker stands for the next plugin: it answers NOTAUTH, which podname
// itself never does, so a case can expect "went to the next plugin".
var nextMarker = test.HandlerFunc(func(_ context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	m := new(dns.Msg)
	m.SetRcode(r, dns.RcodeNotAuth)
	return dns.RcodeNotAuth, w.WriteMsg(m)
})
