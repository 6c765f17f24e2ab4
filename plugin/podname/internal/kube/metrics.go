package kube

import (
	"github.com/coredns/coredns/plugin"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// subsystem is the plugin's name: the metrics' subsystem and the logs' prefix.
const subsystem = "podname"

var (
	podsHeld = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: subsystem,
		Name:      "pods",
		Help:      "Pods held in the index now, per watch.",
	}, []string{"watch"})
	podEvents = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: subsystem,
		Name:      "pod_events_total",
		Help:      "Pod events seen from the watch: add, update, delete.",
	}, []string{"event"})
	lastSync = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: subsystem,
		Name:      "last_sync_timestamp_seconds",
		Help:      "When the watch last delivered data, Unix seconds.",
	}, []string{"watch"})
)
