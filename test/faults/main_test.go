// Package faults injects failures into a real cluster (etcd, kube-apiserver, controller
// manager, scheduler, kwok) while the real coredns binary from `make build` answers from it:
// an API server outage, an etcd restart and a compaction under the watch, kill -9 of coredns,
// a cut connection while an IP changes hands, pod churn, many reloads, and namespace
// isolation. Every answer given during a fault is checked against the API's state.
//
// The tests that stop etcd run one after another, as does the churn, whose rate is the point.
// The others then run in parallel: the outage of the main API server beside tests that reach the
// cluster through other API servers on the same etcd (see apiServer), one of which TestKill9
// stops.
package faults

import (
	"os"
	"testing"

	"github.com/podname/podname/test/cluster"
	"github.com/podname/podname/test/harness"
)

// kube is the cluster every test in the package shares; each test works in namespaces of its
// own.
var kube *cluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, "faults", "e2e", &kube, harness.NeedCoreDNS))
}
