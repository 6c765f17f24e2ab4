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
	"github.com/podname/podname/plugin/podname/internal/kube"
	"github.com/podname/podname/plugin/podname/internal/podtest"
	api "k8s.io/api/core/v1"
)

// longLabel is a pod name of one 70-character label: valid for the API
// server, too long for DNS; its kubelet hostname is cut to 63.
var longLabel = strings.Repeat("x", 60) + "-abcdefghi"

// seedPods are the write-up's pods plus one of each kind the index treats
// specially.
func seedPods() []*api.Pod {
	return []*api.Pod{
		podtest.Pod("default", "ws-777779bd59-ftn4j", []string{"10.36.0.1"}),
		podtest.Pod("default", "ws-777779bd59-nnppt", []string{"10.32.0.5"}),
		podtest.Pod("default", "dual-0", []string{"10.36.0.9", "fd00::9"}),
		podtest.Pod("default", "v6-0", []string{"fd00::10"}),
		podtest.Pod("default", "web-5d8f-abcde", []string{"10.36.0.11"}, podtest.Hostname("web"), podtest.Labels(map[string]string{"app": "web"})),
		podtest.Pod("default", "ovr-1", []string{"10.36.0.12"}, podtest.Override("legacy-host")),
		podtest.Pod("default", longLabel, []string{"10.36.0.13"}),
		podtest.Pod("default", "a.b", []string{"10.36.0.20"}),
		podtest.Pod("default", "gone", []string{"10.36.0.30"}, podtest.Terminating()),
		podtest.Pod("default", "done", []string{"10.36.0.31"}, podtest.Phase(api.PodSucceeded)),
		podtest.Pod("default", "crashed", []string{"10.36.0.32"}, podtest.Phase(api.PodFailed)),
		podtest.Pod("default", "pending", nil, podtest.Phase(api.PodPending)),
		podtest.Pod("default", "hn-agent", []string{"192.0.2.10"}, podtest.HostNetwork(), podtest.Hostname("node-1")),
		podtest.Pod("team-b", "ws-777779bd59-ftn4j", []string{"10.40.0.1"}, podtest.Created(time.Hour)),
	}
}

func seedServices() []*api.Service {
	return []*api.Service{
		podtest.Service("default", "ws", map[string]string{"app": "ws"}),
		podtest.Service("default", "empty", nil),
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
		p.onPod(nil, kube.Project(pod))
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

// serviceAt is the projection of a Service at resource version rv.
func serviceAt(ns, name string, selector map[string]string, rv uint64) *kube.Service {
	s := podtest.Service(ns, name, selector)
	s.ResourceVersion = strconv.FormatUint(rv, 10)
	return kube.ProjectService(s)
}
