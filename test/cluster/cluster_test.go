package cluster

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

func TestClusterRunsDeployment(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIPPING: -short given, and this test runs etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok (built by test/tools/build.sh)")
	}
	begin := time.Now()
	c := StartForTest(t, Options{})
	t.Logf("cluster up, node %s Ready, in %s", NodeName, time.Since(begin).Round(time.Millisecond))
	pids := c.PIDs()
	if len(pids) != len(binaries)-1 { // every binary but kubectl runs
		t.Fatalf("PIDs() = %v, want one per component", pids)
	}

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()

	t.Run("kubectl", func(t *testing.T) {
		out, err := exec.CommandContext(ctx, KubectlPath(), "--kubeconfig", c.Kubeconfig(), "get", "node", NodeName, "-o", "name").CombinedOutput()
		if err != nil {
			t.Fatalf("kubectl get node: %v\n%s", err, out)
		}
		if got, want := strings.TrimSpace(string(out)), "node/"+NodeName; got != want {
			t.Errorf("kubectl get node = %q, want %q", got, want)
		}
	})

	created := time.Now()
	if _, err := c.Client().AppsV1().Deployments("default").Create(ctx, wsDeployment(), metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment: %v", err)
	}
	pods := waitForRunningPods(ctx, t, c, "app=ws", 2)
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
		if pod.Spec.NodeName != NodeName {
			t.Errorf("pod %s is on node %q, want %s", pod.Name, pod.Spec.NodeName, NodeName)
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
		waitForRunningPods(ctx, t, c, "app=ws", 2)
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

// wsDeployment is a Deployment of two pods; kwok runs them without pulling the image.
func wsDeployment() *appsv1.Deployment {
	labels := map[string]string{"app": "ws"}
	replicas := int32(2)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "ws", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					Containers: []corev1.Container{{Name: "ws", Image: "registry.k8s.io/pause:3.10"}},
				},
			},
		},
	}
}

// waitForRunningPods waits until exactly want pods match selector in default, all Running with
// an IP, and returns them.
func waitForRunningPods(ctx context.Context, t *testing.T, c *Cluster, selector string, want int) []corev1.Pod {
	t.Helper()
	var pods []corev1.Pod
	var last error
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		list, err := c.Client().CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			last = err
			return false, nil
		}
		pods = list.Items
		last = podsRunning(pods, want)
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("wait for %d Running pods %s: %v (last: %v)", want, selector, err, last)
	}
	return pods
}

// podsRunning is nil if pods are want pods, all Running with an IP, else says what is not.
func podsRunning(pods []corev1.Pod, want int) error {
	if len(pods) != want {
		return fmt.Errorf("%d pods, want %d", len(pods), want)
	}
	for _, pod := range pods {
		if pod.Status.Phase != corev1.PodRunning || pod.Status.PodIP == "" {
			return fmt.Errorf("pod %s is %s with IP %q", pod.Name, pod.Status.Phase, pod.Status.PodIP)
		}
	}
	return nil
}
