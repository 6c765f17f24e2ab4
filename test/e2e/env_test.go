package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/podname/podname/test/harness"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// startCoreDNS runs an example Corefile with loopback ports and the test
// cluster's kubeconfig, stops it when t ends, and keeps its log if t fails.
func startCoreDNS(t *testing.T, example string) *harness.CoreDNS {
	t.Helper()
	text, err := harness.Example(example)
	if err != nil {
		t.Fatal(err)
	}
	a, err := harness.LoopbackAdjust(kube.Kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	return startCorefile(t, harness.AdjustCorefile(text, a), a)
}

func startCorefile(t *testing.T, corefile string, a harness.Adjust) *harness.CoreDNS {
	t.Helper()
	c, err := harness.StartCoreDNS(t.TempDir(), corefile, a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("coredns log:\n%s", c.Log())
		}
	})
	return c
}

// namespace creates a namespace for t and deletes it when t ends.
func namespace(t *testing.T, name string) string {
	t.Helper()
	ctx := context.Background()
	ns := &corev1.Namespace{ObjectMeta: meta.ObjectMeta{Name: name}}
	if _, err := kube.Client().CoreV1().Namespaces().Create(ctx, ns, meta.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = kube.Client().CoreV1().Namespaces().Delete(context.Background(), name, meta.DeleteOptions{})
	})
	return name
}

// wsDeployment is the seed's Deployment: no subdomain, no hostname, no
// headless Service; the pods are what a plain Deployment makes.
func wsDeployment(ns string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": "ws"}
	return &appsv1.Deployment{
		ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: "ws"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &meta.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: meta.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "ws", Image: "registry.example/ws:1",
					Ports: []corev1.ContainerPort{{ContainerPort: 9999}},
				}}},
			},
		},
	}
}

// wsService is the seed's plain (not headless) Service ws.
func wsService(ns string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: "ws"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "ws"},
			Ports:    []corev1.ServicePort{{Port: 9999, TargetPort: intstr.FromInt32(9999)}},
		},
	}
}

// runningPods waits until ns has exactly n Running pods with IPs matching
// selector and returns them.
func runningPods(t *testing.T, ns, selector string, n int) []corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var pods []corev1.Pod
	err := harness.Poll(ctx, fmt.Sprintf("%d running pods in %s", n, ns), func() (bool, error) {
		list, err := kube.Client().CoreV1().Pods(ns).List(ctx, meta.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, err
		}
		pods = pods[:0]
		for _, p := range list.Items {
			if p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" && p.DeletionTimestamp == nil {
				pods = append(pods, p)
			}
		}
		return len(pods) == n && len(list.Items) == n, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pods
}

// needDig fails t in one line when dig is missing; make deps installs it.
func needDig(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("dig"); err != nil {
		t.Fatal("dig missing: run make deps (Debian package bind9-dnsutils)")
	}
}
