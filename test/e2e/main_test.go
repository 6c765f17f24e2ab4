// Package e2e runs the real coredns binary from `make build` against a
// real API server (etcd, kube-apiserver, controller manager, scheduler, and
// kwok as the kubelet), with Corefiles from corefile-examples/.
package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/podname/podname/test/cluster"
	"github.com/podname/podname/test/harness"
)

// kube is the cluster every test in the package shares; each test works
// in namespaces of its own.
var kube *cluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if _, err := harness.Binary(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if err := cluster.EnsureBinaries(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cluster binaries:", err)
		return 1
	}
	logs, err := os.MkdirTemp("", "podname-e2e-cluster-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	start := time.Now()
	kube, err = cluster.Start(ctx, cluster.Options{LogDir: logs})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: start cluster:", err, "\nlogs in", logs)
		return 1
	}
	fmt.Printf("e2e: cluster up in %s\n", time.Since(start).Round(time.Millisecond))
	code := m.Run()
	if err := kube.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: stop cluster:", err)
		code = 1
	}
	if code == 0 {
		os.RemoveAll(logs)
	} else {
		fmt.Fprintln(os.Stderr, "e2e: cluster logs kept in", logs)
	}
	return code
}
