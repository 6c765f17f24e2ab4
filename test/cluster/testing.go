package cluster

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// StartForTest builds the binaries if needed, starts a cluster for t and stops it when t ends,
// failing t if either goes wrong. Unless opts.LogDir is set, the component logs go to a
// temporary directory that is removed if t passed and kept, with its path logged, if it failed.
func StartForTest(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if err := EnsureBinaries(); err != nil {
		t.Fatalf("cluster binaries: %v", err)
	}
	if opts.LogDir == "" {
		dir, err := os.MkdirTemp("", "podname-cluster-logs-")
		if err != nil {
			t.Fatalf("create cluster log dir: %v", err)
		}
		opts.LogDir = dir
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("cluster logs kept in %s", dir)
				return
			}
			if err := os.RemoveAll(dir); err != nil {
				t.Errorf("remove cluster log dir: %v", err)
			}
		})
	}
	c, err := Start(t.Context(), opts)
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	// Registered after the log dir's cleanup, so it runs first: logs are complete when judged.
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop cluster: %v", err)
		}
	})
	return c
}

// Main is a TestMain for a package whose tests share one cluster: it starts the cluster, sets
// *kube, runs the tests and stops it, keeping the component logs when a test failed. It
// returns the exit code; pkg names the package in what it prints.
func Main(m *testing.M, pkg string, kube **Cluster) int {
	if err := EnsureBinaries(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: cluster binaries: %v\n", pkg, err)
		return 1
	}
	logs, err := os.MkdirTemp("", "podname-"+pkg+"-cluster-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", pkg, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	start := time.Now()
	*kube, err = Start(ctx, Options{LogDir: logs})
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: start cluster: %v\nlogs in %s\n", pkg, err, logs)
		return 1
	}
	fmt.Printf("%s: cluster up in %s\n", pkg, time.Since(start).Round(time.Millisecond))
	code := m.Run()
	if err := (*kube).Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: stop cluster: %v\n", pkg, err)
		code = 1
	}
	if code == 0 {
		os.RemoveAll(logs)
	} else {
		fmt.Fprintf(os.Stderr, "%s: cluster logs kept in %s\n", pkg, logs)
	}
	return code
}
