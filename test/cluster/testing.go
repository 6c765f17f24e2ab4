package cluster

import (
	"os"
	"testing"
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
