// Package deploy tests what deploy/ ships against a real API server (test/cluster) and the
// real coredns from `make build`: the kustomize renderings, their server-side validation and
// installation, the RBAC they grant, the Corefiles inside them, and the metrics the Grafana
// dashboard reads, scraped by a real Prometheus. Each test that needs a cluster starts its own,
// so no test sees another's objects.
package deploy

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/podname/podname/test/cluster"
	"github.com/podname/podname/test/harness"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// zone is the zone every shipped Corefile serves.
const zone = "mgmt.pix.yun.com"

// image is the placeholder image every manifest and the Helm values name.
const image = "ghcr.io/podname/coredns-podname:v0.1.0"

func TestMain(m *testing.M) {
	// kubectl (with its kustomize) comes from the same build as the cluster.
	os.Exit(harness.Main(m, "deploy", "deploy-test", nil, harness.NeedCoreDNS, harness.NeedCluster))
}

// waitReady waits for /ready and the DNS listener. It asks nothing in the zone, which the
// metrics tests count.
func waitReady(t *testing.T, c *harness.CoreDNS) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
}

// runPods creates one plain pod per name in the default namespace and waits until kwok runs
// them; it returns each pod's IP by name.
func runPods(t *testing.T, c *cluster.Cluster, names ...string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pods := c.Client().CoreV1().Pods(metav1.NamespaceDefault)
	for _, name := range names {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "deploy-test"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "app", Image: "registry.example/app:1",
			}}},
		}
		if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod %s: %v", name, err)
		}
	}
	return waitRunning(t, ctx, c, metav1.NamespaceDefault, "app=deploy-test", len(names))
}

// waitRunning waits until exactly n pods match selector in ns, all Running with an IP, and
// returns their IPs by name.
func waitRunning(t *testing.T, ctx context.Context, c *cluster.Cluster, ns, selector string, n int) map[string]string {
	t.Helper()
	ips := map[string]string{}
	for _, p := range harness.Running(ctx, t, c.Client(), ns, selector, n) {
		ips[p.Name] = p.Status.PodIP
	}
	return ips
}
