package cluster

import (
	"context"
	"fmt"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// NodeName is the fake node kwok runs pods on.
const NodeName = "kwok-node-0"

// FakeNodeAnnotation marks the nodes kwok manages. A node without it is left alone, so pods
// bound to such a node keep whatever status a test writes.
const FakeNodeAnnotation = "kwok.x-k8s.io/node"

// startKwok starts kwok managing the nodes annotated FakeNodeAnnotation=fake.
func (c *Cluster) startKwok(context.Context) error {
	_, err := c.run(kwokName, []string{
		"--kubeconfig=" + c.kubeconfig,
		"--config=" + filepath.Join(c.opts.BinDir, kwokStagesFile),
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + FakeNodeAnnotation + "=fake",
		// Pods take IPs from their node's podCIDR; this covers nodes that have none.
		"--cidr=" + c.opts.PodCIDR,
	})
	return err
}

// registerNode creates NodeName and waits until it is Ready without the not-ready taint,
// which takes kwok reporting its status and the node lifecycle controller noticing.
func (c *Cluster) registerNode(ctx context.Context) error {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        NodeName,
			Annotations: map[string]string{FakeNodeAnnotation: "fake"},
			Labels: map[string]string{
				"kubernetes.io/hostname": NodeName,
				"kubernetes.io/os":       "linux",
				"type":                   "kwok",
			},
		},
		Spec: corev1.NodeSpec{PodCIDR: c.opts.PodCIDR, PodCIDRs: []string{c.opts.PodCIDR}},
	}
	if _, err := c.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create node %s: %w", NodeName, err)
	}
	procs := c.running(etcdName, apiServerName, controllerManagerName, schedulerName, kwokName)
	return waitFor(ctx, "node "+NodeName+" Ready", procs, func(ctx context.Context) error {
		node, err := c.client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return fmt.Errorf("node %s vanished", NodeName)
		}
		if err != nil {
			return notYet(err)
		}
		return nodeSchedulable(node)
	})
}

// nodeSchedulable is nil if node is Ready and free of the not-ready taint, else notYet.
func nodeSchedulable(node *corev1.Node) error {
	ready := false
	for _, cond := range node.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			ready = cond.Status == corev1.ConditionTrue
		}
	}
	if !ready {
		return notYetf("node %s is not Ready", node.Name)
	}
	for _, taint := range node.Spec.Taints {
		if taint.Key == corev1.TaintNodeNotReady {
			return notYetf("node %s still has taint %s", node.Name, taint.ToString())
		}
	}
	return nil
}

// primerPod is the pod primeIPPool runs once and deletes.
const primerPod = "kwok-ip-pool-primer"

// primeIPPool runs one pod to an IP and deletes it. kwok v0.8.0 makes a CIDR's IP pool on first
// use without a lock (PodController.ipPool loads, then stores), so pods started together on a
// fresh kwok can each make a pool and get the same first IP. After one pod has made the pool,
// every pod shares it and gets an IP no running pod has.
func (c *Cluster) primeIPPool(ctx context.Context) error {
	pods := c.client.CoreV1().Pods(metav1.NamespaceDefault)
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: primerPod},
		Spec: corev1.PodSpec{
			NodeName:   NodeName,
			Containers: []corev1.Container{{Name: "primer", Image: "registry.example/primer:1"}},
		},
	}
	if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create pod %s: %w", primerPod, err)
	}
	procs := c.running(apiServerName, kwokName)
	err := waitFor(ctx, "pod "+primerPod+" IP", procs, func(ctx context.Context) error {
		pod, err := pods.Get(ctx, primerPod, metav1.GetOptions{})
		if err != nil {
			return notYet(err)
		}
		if pod.Status.PodIP == "" {
			return notYetf("pod %s has no IP", primerPod)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := pods.Delete(ctx, primerPod, metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		return fmt.Errorf("delete pod %s: %w", primerPod, err)
	}
	return waitFor(ctx, "pod "+primerPod+" gone", procs, func(ctx context.Context) error {
		_, err := pods.Get(ctx, primerPod, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return notYet(err)
		}
		return notYetf("pod %s still exists", primerPod)
	})
}
