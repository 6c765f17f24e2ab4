// Package podname is a CoreDNS plugin that answers <pod>.<zone> and
// <pod>.<svc>.<zone> (A, AAAA, PTR) from an in-memory index of pod IPs.
package podname

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/fall"
	clog "github.com/coredns/coredns/plugin/pkg/log"

	"github.com/podname/podname/plugin/podname/index"
	"github.com/podname/podname/plugin/podname/internal/kube"
	"k8s.io/client-go/kubernetes"
)

// Name is the plugin's name, as written in a Corefile.
const Name = "podname"

var log = clog.NewWithPlugin(Name)

// PodName is one podname stanza: its zones, options, and index.
type PodName struct {
	Next  plugin.Handler
	Zones []string
	Fall  fall.F

	primary        string // first forward zone: PTR targets and conflicts
	ttl            uint32
	opts           index.Options
	conn           kube.Connection
	selector       string // normalized label selector
	startupTimeout time.Duration
	xfrOpts        transferOptions
	client         kubernetes.Interface

	idx      *index.Index
	zs       *zoneSet // the zones' serials
	w        *kube.Watch
	sub      *kube.Subscription
	synced   atomic.Bool
	syncedCh chan struct{}
	stopCh   chan struct{}
	stopOnce sync.Once
	server   *dnsserver.Config // the server block's, for the addresses it binds
	localIPs []netip.Addr      // the non-loopback ones among them, set at start
	counters counters

	// The zone series: p's hold on them, the conflicts it last set.
	released    bool          // the zone series are let go; guarded by zoneSeries.mu
	published   atomic.Int64  // 1 + the conflicts last set on the gauge, 0 for none
	publishedAt atomic.Uint64 // zoneSeries.releases then
}

// Name implements plugin.Handler.
func (p *PodName) Name() string { return Name }

// Ready implements ready.Readiness: true once the first list is in, and
// never false again, so an API outage does not unready every replica.
// During a reload the new stanza is ready as soon as the watch it shares
// with the old one is: the old stanza answers until the new one has
// replayed the watch into its index, so /ready does not blink.
func (p *PodName) Ready() bool { return p.synced.Load() || kube.Synced(p.watchKey()) }

var errNotStarted = errors.New("podname: not started")

// watchKey identifies the shared watch this stanza uses.
func (p *PodName) watchKey() string { return p.conn.Key() + ",labels=" + p.selector }

// start joins (or starts) the shared watch and fills the index from it.
func (p *PodName) start() error {
	p.holdSeries()
	w, err := kube.Acquire(p.watchKey(), p.client, p.selector)
	if err != nil {
		p.releaseSeries()
		return err
	}
	p.idx = index.New(p.opts, index.NewServices())
	p.startZones(w)
	p.syncedCh = make(chan struct{})
	p.stopCh = make(chan struct{})
	sub, err := w.Subscribe(p.onPod, p.onService)
	if err != nil {
		w.Release()
		p.releaseSeries()
		return err
	}
	p.w, p.sub = w, sub
	p.zs.startNotify()
	p.setConflicts()
	go func() {
		if sub.WaitSynced(p.stopCh) {
			p.synced.Store(true)
			p.zs.markListed()
			close(p.syncedCh)
		}
	}()
	return nil
}

// stop leaves the shared watch; it is safe to call more than once.
func (p *PodName) stop() error {
	var err error
	p.stopOnce.Do(func() {
		if p.w == nil {
			return
		}
		close(p.stopCh)
		p.zs.stopNotify()
		err = p.sub.Cancel()
		p.w.Release()
		p.releaseSeries()
	})
	return err
}
