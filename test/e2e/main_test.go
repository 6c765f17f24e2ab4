// Package e2e runs the real coredns binary from `make build` against a
// real API server (etcd, kube-apiserver, controller manager, scheduler, and
// kwok as the kubelet), with Corefiles from corefile-examples/.
package e2e

import (
	"os"
	"testing"

	"github.com/podname/podname/test/cluster"
	"github.com/podname/podname/test/harness"
)

// kube is the cluster every test in the package shares; each test works
// in namespaces of its own.
var kube *cluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(harness.Main(m, "e2e", "e2e", &kube, harness.NeedCoreDNS,
		harness.NeedCommand("dig", "bind9-dnsutils"), harness.NeedCommand("named", "bind9"), harness.NeedCommand("knotd", "knot")))
}
