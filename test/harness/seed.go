package harness

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// WSSelector selects the seed's pods.
const WSSelector = "app=ws"

// wsLabels are the seed's pods' labels, a new map each time so a caller may add to them.
func wsLabels() map[string]string { return map[string]string{"app": "ws"} }

// WSDeployment is the seed's Deployment ws: no subdomain, no hostname, no headless Service;
// its pods are what a plain Deployment makes. kwok runs them without pulling the image.
func WSDeployment(ns string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: "ws"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &meta.LabelSelector{MatchLabels: wsLabels()},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: meta.ObjectMeta{Labels: wsLabels()},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "ws", Image: "registry.example/ws:1",
					Ports: []corev1.ContainerPort{{ContainerPort: 9999}},
				}}},
			},
		},
	}
}

// WSService is the seed's plain (not headless) Service ws.
func WSService(ns string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: "ws"},
		Spec: corev1.ServiceSpec{
			Selector: wsLabels(),
			Ports:    []corev1.ServicePort{{Port: 9999, TargetPort: intstr.FromInt32(9999)}},
		},
	}
}

// RunningPods waits until ns has exactly n pods matching selector, all Running with an IP and
// none being deleted, and returns them. A failing list is retried (the API server may be on
// its way back from a fault) until ctx ends, and then quoted.
func RunningPods(ctx context.Context, client kubernetes.Interface, ns, selector string, n int) ([]corev1.Pod, error) {
	var pods []corev1.Pod
	var last error
	err := Poll(ctx, fmt.Sprintf("%d running pods %s in %s", n, selector, ns), func() (bool, error) {
		list, err := client.CoreV1().Pods(ns).List(ctx, meta.ListOptions{LabelSelector: selector})
		if last = err; err != nil {
			return false, nil
		}
		pods = pods[:0]
		for _, p := range list.Items {
			if p.Status.Phase == corev1.PodRunning && p.Status.PodIP != "" && p.DeletionTimestamp == nil {
				pods = append(pods, p)
			}
		}
		return len(pods) == n && len(list.Items) == n, nil
	})
	if err != nil && last != nil {
		err = fmt.Errorf("%w (last list: %v)", err, last)
	}
	return pods, err
}

// WaitNextSecond waits until the clock is past the second of pod's creation, so a pod made
// next has a later creationTimestamp (it has a resolution of one second).
func WaitNextSecond(ctx context.Context, pod *corev1.Pod) error {
	next := pod.CreationTimestamp.Add(time.Second)
	return Poll(ctx, "a second past "+pod.Name+"'s creation", func() (bool, error) {
		return !time.Now().Before(next), nil
	})
}

// Indexable is the plugin's rule for a pod it holds: an IP, a phase other than Succeeded or
// Failed, and not being deleted.
func Indexable(p *corev1.Pod) bool {
	return p.Status.PodIP != "" && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed &&
		p.DeletionTimestamp == nil
}

// PodIPs are pod's IPs, from status.podIPs, or status.podIP when that is empty.
func PodIPs(p corev1.Pod) []string {
	var ips []string
	for _, ip := range p.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	if len(ips) == 0 && p.Status.PodIP != "" {
		ips = []string{p.Status.PodIP}
	}
	return ips
}
