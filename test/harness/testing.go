package harness

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Start runs bin/coredns on corefile adjusted by a, in a directory of t's, stops it when t ends
// and prints its log if t failed.
func Start(t testing.TB, corefile string, a Adjust) *CoreDNS {
	t.Helper()
	c, err := StartAdjusted(t.TempDir(), corefile, a)
	if err != nil {
		t.Fatalf("start coredns: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop coredns in %s: %v", c.Dir, err)
		}
		if t.Failed() {
			t.Logf("coredns log (%s):\n%s", c.Dir, c.Log())
		}
	})
	return c
}

// Loopback is LoopbackAdjust for a test.
func Loopback(t testing.TB, kubeconfig string) Adjust {
	t.Helper()
	a, err := LoopbackAdjust(kubeconfig)
	if err != nil {
		t.Fatalf("pick loopback ports: %v", err)
	}
	return a
}

// StartExample runs corefile-examples/NAME on loopback ports, reaching the API server with
// kubeconfig.
func StartExample(t testing.TB, name, kubeconfig string) *CoreDNS {
	t.Helper()
	return Start(t, ReadExample(t, name), Loopback(t, kubeconfig))
}

// Serving is WaitServing for a test: /ready, the DNS listener, and the apex SOA of zone.
func Serving(ctx context.Context, t testing.TB, c *CoreDNS, zone string) {
	t.Helper()
	if err := c.WaitServing(ctx, zone); err != nil {
		t.Fatal(err)
	}
}

// Conflicts is WaitConflicts for a test.
func Conflicts(ctx context.Context, t testing.TB, c *CoreDNS, zone string, n float64) {
	t.Helper()
	if err := c.WaitConflicts(ctx, zone, n); err != nil {
		t.Fatal(err)
	}
}

// Namespace creates namespace name and deletes it when t ends.
func Namespace(t testing.TB, client kubernetes.Interface, name string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: meta.ObjectMeta{Name: name}}
	if _, err := client.CoreV1().Namespaces().Create(t.Context(), ns, meta.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = client.CoreV1().Namespaces().Delete(context.Background(), name, meta.DeleteOptions{})
	})
	return name
}

// Running is RunningPods for a test.
func Running(ctx context.Context, t testing.TB, client kubernetes.Interface, ns, selector string, n int) []corev1.Pod {
	t.Helper()
	pods, err := RunningPods(ctx, client, ns, selector, n)
	if err != nil {
		t.Fatal(err)
	}
	return pods
}

// CreatePod creates a bare pod ns/name labelled app=NAME, with no controller, and returns it
// once it runs with an IP. The API server refuses pods in a namespace until its default
// ServiceAccount exists, so it waits for that first.
func CreatePod(t testing.TB, client kubernetes.Interface, ns, name string) *corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	err := Poll(ctx, "ServiceAccount default in "+ns, func() (bool, error) {
		_, err := client.CoreV1().ServiceAccounts(ns).Get(ctx, "default", meta.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "ws", Image: "registry.example/ws:1",
			Ports: []corev1.ContainerPort{{ContainerPort: 9999}},
		}}},
	}
	if _, err := client.CoreV1().Pods(ns).Create(ctx, pod, meta.CreateOptions{}); err != nil {
		t.Fatalf("create pod %s/%s: %v", ns, name, err)
	}
	err = Poll(ctx, fmt.Sprintf("pod %s/%s running with an IP", ns, name), func() (bool, error) {
		pod, err = client.CoreV1().Pods(ns).Get(ctx, name, meta.GetOptions{})
		if err != nil {
			return false, err
		}
		return pod.Status.Phase == corev1.PodRunning && pod.Status.PodIP != "" && pod.DeletionTimestamp == nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pod
}

// DeletePod deletes ns/name and waits until the API server no longer has it.
func DeletePod(t testing.TB, client kubernetes.Interface, ns, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if err := client.CoreV1().Pods(ns).Delete(ctx, name, meta.DeleteOptions{}); err != nil {
		t.Fatalf("delete pod %s/%s: %v", ns, name, err)
	}
	err := Poll(ctx, fmt.Sprintf("pod %s/%s gone", ns, name), func() (bool, error) {
		_, err := client.CoreV1().Pods(ns).Get(ctx, name, meta.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// ReadExample is Example for a test.
func ReadExample(t testing.TB, name string) string {
	t.Helper()
	text, err := Example(name)
	if err != nil {
		t.Fatal(err)
	}
	return text
}
