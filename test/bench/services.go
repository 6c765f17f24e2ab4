package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/podname/podname/test/harness"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// KubernetesName is the name the kubernetes plugin with endpoint_pod_names answers for pod i:
// <pod>.<service>.<namespace>.svc.cluster.local, through the headless Service of its app.
func KubernetesName(i int) string {
	return fmt.Sprintf("%s.%s.%s.svc.cluster.local", PodName(i), appName(i), PodNamespace(i))
}

// CreateServices creates a headless Service per app of pods [0, pods), selecting the app's pods,
// so the controller manager puts them in EndpointSlices for the kubernetes plugin.
func CreateServices(ctx context.Context, client kubernetes.Interface, pods int) error {
	for i := 0; i < pods; i += podsPerApp {
		if err := createHeadless(ctx, client, PodNamespace(i), appName(i), map[string]string{"app": appName(i)}); err != nil {
			return err
		}
	}
	return nil
}

func createHeadless(ctx context.Context, client kubernetes.Interface, ns, name string, selector map[string]string) error {
	svc := &corev1.Service{
		ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			ClusterIP: corev1.ClusterIPNone,
			Selector:  selector,
			Ports:     []corev1.ServicePort{{Name: "http", Port: 8080}},
		},
	}
	if _, err := client.CoreV1().Services(ns).Create(ctx, svc, meta.CreateOptions{}); err != nil {
		return fmt.Errorf("create Service %s/%s: %w", ns, name, err)
	}
	return nil
}

// DeleteServices deletes the Services CreateServices made and waits until the controller
// manager has removed their EndpointSlices, so later memory figures of the kubernetes plugin
// hold pods only.
func DeleteServices(ctx context.Context, client kubernetes.Interface, pods int) error {
	for i := 0; i < pods; i += podsPerApp {
		ns, name := PodNamespace(i), appName(i)
		if err := client.CoreV1().Services(ns).Delete(ctx, name, meta.DeleteOptions{}); err != nil {
			return fmt.Errorf("delete Service %s/%s: %w", ns, name, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return harness.Poll(ctx, "EndpointSlices of the deleted Services to go", func() (bool, error) {
		n, err := readyEndpoints(ctx, client)
		return n == 0, err
	})
}

// WaitEndpoints waits until the EndpointSlices of the population's namespaces list want ready
// endpoints: every pod of every Service, the names the kubernetes plugin answers.
func WaitEndpoints(ctx context.Context, client kubernetes.Interface, want int) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	last := 0
	err := harness.Poll(ctx, fmt.Sprintf("%d ready endpoints in EndpointSlices", want), func() (bool, error) {
		n, err := readyEndpoints(ctx, client)
		last = n
		return n == want, err
	})
	if err != nil {
		return fmt.Errorf("%w (last count: %d)", err, last)
	}
	return nil
}

// readyEndpoints counts the ready endpoints of every EndpointSlice in the population's
// namespaces.
func readyEndpoints(ctx context.Context, client kubernetes.Interface) (int, error) {
	n := 0
	for ns := range namespaceCount {
		list, err := client.DiscoveryV1().EndpointSlices(namespaceName(ns)).List(ctx, meta.ListOptions{})
		if err != nil {
			return 0, fmt.Errorf("list EndpointSlices in %s: %w", namespaceName(ns), err)
		}
		for _, s := range list.Items {
			n += countReady(s.Endpoints)
		}
	}
	return n, nil
}

func countReady(eps []discoveryv1.Endpoint) int {
	n := 0
	for _, ep := range eps {
		if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
			n++
		}
	}
	return n
}
