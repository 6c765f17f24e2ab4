package cluster_test

import (
	"context"
	"errors"
	"maps"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podname/podname/test/cluster"
	"github.com/podname/podname/test/harness"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestClusterRunsDeployment(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING: -short given, and this test runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok (built by test/tools/build.sh)")
	}
	harness.Require(t, "e2e", harness.NeedCluster)
	c := harness.Cluster(t, cluster.Options{})
	pids := c.PIDs()
	components := []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}
	if got := slices.Sorted(maps.Keys(pids)); !slices.Equal(got, components) {
		t.Fatalf("PIDs() = %v, want one for each of %v", pids, components)
	}

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	t.Run("kubectl", func(t *testing.T) {
		out, err := exec.CommandContext(ctx, cluster.KubectlPath(), "--kubeconfig", c.Kubeconfig(), "get", "node", cluster.NodeName, "-o", "name").CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl get node: %v\n%s", err, out)
		}
		if got, want := strings.TrimSpace(string(out)), "node/"+cluster.NodeName; got != want {
			t.Errorf("kubectl get node = %q, want %q", got, want)
		}
	})

	created := time.Now()
	if _, err := c.Client().AppsV1().Deployments("default").Create(ctx, harness.WSDeployment("default", 2), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	pods := harness.Running(ctx, t, c.Client(), "default", harness.WSSelector, 2)
	t.Logf("deployment ws: 2 pods Running %s after it was created", time.Since(created).Round(time.Millisecond))
	podCIDR := netip.MustParsePrefix(c.PodCIDR())
	holder := map[string]string{} // pod IP -> pod name
	for _, pod := range pods {
		ip, err := netip.ParseAddr(pod.Status.PodIP)
		if err != nil || !podCIDR.Contains(ip) {
			t.Errorf("pod %s has IP %q, want one in %s", pod.Name, pod.Status.PodIP, podCIDR)
		}
		if other, ok := holder[pod.Status.PodIP]; ok {
			t.Errorf("pods %s and %s both have IP %s", other, pod.Name, pod.Status.PodIP)
		}
		holder[pod.Status.PodIP] = pod.Name
		if pod.Spec.NodeName != cluster.NodeName {
			t.Errorf("pod %s is on node %q, want %s", pod.Name, pod.Spec.NodeName, cluster.NodeName)
		}
	}
	rss, err := c.Client().AppsV1().ReplicaSets("default").List(ctx, metav1.ListOptions{LabelSelector: "app=ws"})
	if err != nil {
		t.Fatalf("list replicasets: %v", err)
	}
	if len(rss.Items) != 1 {
		t.Errorf("deployment ws has %d ReplicaSets, want 1", len(rss.Items))
	}

	t.Run("restart API server", func(t *testing.T) {
		stopping := time.Now()
		if err := c.StopAPIServer(); err != nil {
			t.Fatalf("StopAPIServer: %v", err)
		}
		t.Logf("API server stopped in %s", time.Since(stopping).Round(time.Millisecond))
		if _, err := c.Client().CoreV1().Pods("default").List(ctx, metav1.ListOptions{}); err == nil {
			t.Fatal("listing pods worked with the API server stopped")
		}
		restarting := time.Now()
		if err := c.StartAPIServer(ctx); err != nil {
			t.Fatalf("StartAPIServer: %v", err)
		}
		t.Logf("API server ready again in %s", time.Since(restarting).Round(time.Millisecond))
		harness.Running(ctx, t, c.Client(), "default", harness.WSSelector, 2)
	})

	pids = c.PIDs()
	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	for name, pid := range pids {
		// Signal 0 only checks; ESRCH means no process is left in the component's group.
		if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s: process group %d still exists after Stop (kill: %v)", name, pid, err)
		}
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}
