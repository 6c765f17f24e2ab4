package podname

import (
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
)

func init() { plugin.Register(Name, setup) }

func setup(c *caddy.Controller) error {
	p, err := parse(c)
	if err != nil {
		return plugin.Error(Name, err)
	}
	if p.client, err = p.conn.client(); err != nil {
		return plugin.Error(Name, err)
	}
	p.xfrOpts.plugin = transferPlugin(c)
	startGroup(c).add(p)
	c.OnStartup(func() error {
		p.localIPs = boundIPs(c)
		return nil
	})
	dnsserver.GetConfig(c).AddPlugin(func(next plugin.Handler) plugin.Handler {
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
	var timeout time.Duration
	for _, p := range g.stanzas {
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
			log.Warningf("starting server with unsynced Kubernetes API (%s)", p.watchKey())
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
