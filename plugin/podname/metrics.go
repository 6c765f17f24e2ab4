package podname

import (
	"sync"

	"github.com/coredns/coredns/plugin"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	requests = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: Name,
		Name:      "requests_total",
		Help:      "Queries answered by podname, by result: hit, nodata, nxdomain, servfail or fallthrough.",
	}, []string{"server", "zone", "view", "result"})
	conflicts = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: Name,
		Name:      "conflicts",
		Help:      "Names in the stanza's first forward zone that more than one pod answers to.",
	}, []string{"zone"})
	programming = promauto.NewHistogram(prometheus.HistogramOpts{
		Namespace: plugin.Namespace,
		Subsystem: Name,
		Name:      "dns_programming_duration_seconds",
		Help:      "From a pod's PodReadyToStartContainers transition to the index answering for it.",
		Buckets:   prometheus.ExponentialBuckets(0.25, 2, 10),
	})
)

// result is how a query ended, the requests_total label.
type result uint8

const (
	hit result = iota
	nodata
	nxdomain
	servfail
	fellThrough
)

var resultNames = [...]string{"hit", "nodata", "nxdomain", "servfail", "fallthrough"}

// counters caches requests_total's children so the DNS path neither
// allocates nor hashes label values.
type counters struct {
	mu sync.RWMutex
	m  map[counterKey]prometheus.Counter
}

type counterKey struct {
	server, zone, view string
	result             result
}

func (c *counters) inc(k counterKey) {
	c.mu.RLock()
	ctr, ok := c.m[k]
	c.mu.RUnlock()
	if !ok {
		ctr = requests.WithLabelValues(k.server, k.zone, k.view, resultNames[k.result])
		c.mu.Lock()
		if c.m == nil {
			c.m = map[counterKey]prometheus.Counter{}
		}
		c.m[k] = ctr
		c.mu.Unlock()
	}
	ctr.Inc()
}
