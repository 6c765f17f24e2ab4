package podname

import (
	"sync"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"

	"github.com/podname/podname/plugin/podname/internal/kube"
)

func init() { plugin.Register(Name, setup) }

// newClient builds a stanza's clientset; tests hand in a fake one.
var newClient = kube.Connection.Client

func setup(c *caddy.Controller) error {
	kube.RouteKlog()
	p, err := parse(c)
	if err != nil {
		return plugin.Error(Name, err)
	}
	if p.client, err = newClient(p.conn); err != nil {
		return plugin.Error(Name, err)
	}
	p.server = dnsserver.GetConfig(c)
	p.xfrOpts.plugin = transferPlugin(p.server)
	startGroup(c).add(p)
	p.server.AddPlugin(func(next plugin.Handler) plugin.Handler {
		p.Next = next
		return p
	})
	return nil
}

// group starts every stanza of one server instance together, so the
// startup timeout bounds the wait for all of them, not each in turn.
type group struct{ stanzas []*PodName }

type groupKey struct{}

// startGroup returns the instance's group, registering its start and stop
// with the instance the first time.
func startGroup(c *caddy.Controller) *group {
	if g, ok := c.Get(groupKey{}).(*group); ok {
		return g
	}
	g := &group{}
	c.Set(groupKey{}, g)
	c.OnStartup(g.start)
	c.OnShutdown(g.stop)
	return g
}

func (g *group) add(p *PodName) { g.stanzas = append(g.stanzas, p) }

func (g *group) start() error {
	// The machine's addresses are read once for the instance, and only if
	// a server block binds every address.
	ifaces := sync.OnceValue(interfaceAddrs)
	var timeout time.Duration
	for _, p := range g.stanzas {
		p.localIPs = boundAddrs(p.server.ListenHosts, ifaces)
		if err := p.start(); err != nil {
			_ = g.stop() // leave no watch behind; the start error is the one to report
			return plugin.Error(Name, err)
		}
		timeout = max(timeout, p.startupTimeout)
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for _, p := range g.stanzas {
		select {
		case <-p.syncedCh:
		case <-deadline.C:
			// The kubernetes plugin's words, which operators and the fault tests know.
			log.Warningf("starting server with unsynced Kubernetes API (watch %s not listed after %s)", kube.WatchID(p.watchKey()), timeout)
			return nil
		}
	}
	return nil
}

func (g *group) stop() error {
	var first error
	for _, p := range g.stanzas {
		if err := p.stop(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
