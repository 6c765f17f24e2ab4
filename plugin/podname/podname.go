// Package podname is a CoreDNS plugin that answers <pod>.<zone> and
// <pod>.<svc>.<zone> (A, AAAA, PTR) from an in-memory index of pod IPs.
package podname

import (
	"errors"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coredns/coredns/core/dnsserver"
	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/fall"
	clog "github.com/coredns/coredns/plugin/pkg/log"

	"github.com/podname/podname/plugin/podname/index"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// Name is the plugin's name, as written in a Corefile.
const Name = "podname"

var log = clog.NewWithPlugin(Name)

// seconds formats d for the logs, in seconds to the millisecond: "12.3s".
func seconds(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Round(time.Millisecond).Milliseconds())/1000, 'f', -1, 64) + "s"
}

// PodName is one podname stanza: its zones, options, and index.
type PodName struct {
	Next  plugin.Handler
	Zones []string
	Fall  fall.F

	primary        string // first forward zone: PTR targets and conflicts
	ttl            uint32
	opts           index.Options
	conn           connection
	selector       string // normalized label selector
	startupTimeout time.Duration
	xfrOpts        transferOptions
	client         kubernetes.Interface

	idx      *index.Index
	zs       *zoneSet // the zones' serials
	w        *watch
	reg      *podSub
	svcReg   cache.ResourceEventHandlerRegistration
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
func (p *PodName) Ready() bool { return p.synced.Load() || watchSynced(p.watchKey()) }

var errNotStarted = errors.New("podname: not started")

// watchKey identifies the shared watch this stanza uses.
func (p *PodName) watchKey() string { return p.conn.key() + ",labels=" + p.selector }

// start joins (or starts) the shared watch and fills the index from it.
func (p *PodName) start() error {
	p.holdSeries()
	w, err := acquireWatch(p.watchKey(), p.client, p.selector)
	if err != nil {
		p.releaseSeries()
		return err
	}
	p.idx = index.New(p.opts, index.NewServices())
	p.startZones(w)
	p.syncedCh = make(chan struct{})
	p.stopCh = make(chan struct{})
	reg := w.subscribe(p.podEvents())
	svcReg, err := w.subscribeServices(p.serviceEvents())
	if err != nil {
		w.unsubscribe(reg)
		w.release()
		p.releaseSeries()
		return err
	}
	p.w, p.reg, p.svcReg = w, reg, svcReg
	p.zs.startNotify()
	p.setConflicts()
	go func() {
		if cache.WaitFor(wait.ContextForChannel(p.stopCh), "", append(w.syncedCheckers(), reg.HasSyncedChecker(), svcReg.HasSyncedChecker())...) {
			w.stats.delivered()
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
		p.w.unsubscribe(p.reg)
		err = p.w.unsubscribeServices(p.svcReg)
		p.w.release()
		p.releaseSeries()
	})
	return err
}

// podEvents hands the shared watch's pod changes to onPod.
func (p *PodName) podEvents() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { p.onPod(nil, asPod(obj)) },
		UpdateFunc: func(old, cur any) { p.onPod(asPod(old), asPod(cur)) },
		DeleteFunc: func(obj any) { p.onPod(asPod(obj), nil) },
	}
}

// onPod applies one pod event to the index and the zones' serials.
func (p *PodName) onPod(old, cur *podObject) {
	at := p.zs.versionOf(eventRV(old, cur), p.zs.podsSynced)
	if old.equal(cur) {
		return // a relist or resync that changed nothing we answer with
	}
	op, cp := old.pod(), cur.pod()
	for _, name := range p.applyPod(at, op, cp) {
		if win := p.idx.Host(name); win != nil {
			log.Warningf("several pods answer to %s.%s; %s/%s wins (list namespaces to choose)",
				name, p.primary, win.Namespace, win.Name)
		}
	}
	p.setConflicts()
	if op == nil && cp != nil && cur.readySince > 0 && p.synced.Load() && p.idx.Wants(cp) {
		programming.Observe(max(0, time.Since(time.Unix(int64(cur.readySince), 0)).Seconds()))
	}
}
