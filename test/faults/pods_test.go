package faults

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podname/podname/test/harness"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// staticNode is a Node kwok does not manage (it lacks kwok's annotation): pods bound to it keep
// the status a test writes, which is how tests choose pod IPs.
const staticNode = "static-node"

// staticPrefix is where staticIP takes addresses from: outside the kwok node's pod CIDR
// (10.244.0.0/24) and the service CIDR (10.96.0.0/16).
var staticPrefix = netip.MustParsePrefix("10.250.0.0/16")

// lastStatic is the offset in staticPrefix of the last IP handed out.
var lastStatic atomic.Uint32

// staticIP returns an IP that no other call in this process returns, so a test that never
// reuses an IP on purpose never reuses one by accident either.
func staticIP(t *testing.T) string {
	t.Helper()
	ip, err := nextStaticIP()
	if err != nil {
		t.Fatal(err)
	}
	return ip
}

// nextStaticIP is staticIP for goroutines that may not stop a test.
func nextStaticIP() (string, error) {
	n := lastStatic.Add(1)
	if n >= 1<<16-1 {
		return "", fmt.Errorf("static pod IPs: %s exhausted", staticPrefix)
	}
	b := staticPrefix.Addr().As4()
	b[2], b[3] = byte(n>>8), byte(n)
	return netip.AddrFrom4(b).String(), nil
}

var staticNodeOnce struct {
	sync.Mutex
	done bool
}

// ensureStaticNode creates staticNode the first time a test needs it.
func (api *apiServer) ensureStaticNode(t *testing.T) {
	t.Helper()
	staticNodeOnce.Lock()
	defer staticNodeOnce.Unlock()
	if staticNodeOnce.done {
		return
	}
	node := &corev1.Node{ObjectMeta: meta.ObjectMeta{Name: staticNode, Labels: map[string]string{"type": "static"}}}
	_, err := api.client.CoreV1().Nodes().Create(context.Background(), node, meta.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create node %s through %s: %v", staticNode, api.name, err)
	}
	staticNodeOnce.done = true
}

// namespace creates a namespace for t with its default ServiceAccount, without which the API
// server refuses pods, and removes it when t ends; it makes staticNode first if need be. The
// ServiceAccount is made here rather than awaited from the controller manager, which may be cut
// off by a fault. Pods on staticNode have no kubelet to confirm a graceful deletion, so they are
// deleted at once first.
func (api *apiServer) namespace(t *testing.T, name string) string {
	t.Helper()
	api.ensureStaticNode(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ns := &corev1.Namespace{ObjectMeta: meta.ObjectMeta{Name: name}}
	if _, err := api.client.CoreV1().Namespaces().Create(ctx, ns, meta.CreateOptions{}); err != nil {
		t.Fatalf("create namespace %s through %s: %v", name, api.name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pods := api.client.CoreV1().Pods(name)
		if err := pods.DeleteCollection(ctx, meta.DeleteOptions{GracePeriodSeconds: new(int64)}, meta.ListOptions{}); err != nil {
			t.Errorf("delete pods of namespace %s: %v", name, err)
		}
		if err := api.client.CoreV1().Namespaces().Delete(ctx, name, meta.DeleteOptions{}); err != nil {
			t.Errorf("delete namespace %s: %v", name, err)
		}
	})
	sa := &corev1.ServiceAccount{ObjectMeta: meta.ObjectMeta{Namespace: name, Name: "default"}}
	if _, err := api.client.CoreV1().ServiceAccounts(name).Create(ctx, sa, meta.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create ServiceAccount default in %s: %v", name, err)
	}
	return name
}

// staticPodSpec is a pod bound to staticNode, so no scheduler or kubelet touches it.
func staticPodSpec(ns, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: corev1.PodSpec{
			NodeName:   staticNode,
			Containers: []corev1.Container{{Name: "ws", Image: "registry.example/ws:1"}},
		},
	}
}

// runningStatus is the status a kubelet would write for a running pod with ip.
func runningStatus(ip string) corev1.PodStatus {
	now := meta.Now()
	return corev1.PodStatus{
		Phase:  corev1.PodRunning,
		PodIP:  ip,
		PodIPs: []corev1.PodIP{{IP: ip}},
		Conditions: []corev1.PodCondition{
			{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue, LastTransitionTime: now},
			// Not Ready, as the node lifecycle controller would mark it on a node that never
			// reports: written now, it saves that controller a write per pod (readiness does
			// not matter to podname).
			{Type: corev1.PodReady, Status: corev1.ConditionFalse, LastTransitionTime: now},
		},
		StartTime: &now,
	}
}

// createStaticPod creates ns/name on staticNode and sets it Running with ip. The API server
// drops the status of a create, hence the second request.
func (api *apiServer) createStaticPod(ctx context.Context, ns, name, ip string, labels map[string]string) (*corev1.Pod, error) {
	return createStaticPod(ctx, api.client, ns, name, ip, labels)
}

func createStaticPod(ctx context.Context, client kubernetes.Interface, ns, name, ip string, labels map[string]string) (*corev1.Pod, error) {
	pods := client.CoreV1().Pods(ns)
	pod, err := pods.Create(ctx, staticPodSpec(ns, name, labels), meta.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create pod %s/%s: %w", ns, name, err)
	}
	pod.Status = runningStatus(ip)
	pod, err = pods.UpdateStatus(ctx, pod, meta.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("set pod %s/%s Running with IP %s: %w", ns, name, ip, err)
	}
	return pod, nil
}

// staticPods creates a static pod with a fresh IP for each name and returns name -> IP.
func (api *apiServer) staticPods(ctx context.Context, t *testing.T, ns string, labels map[string]string, names ...string) map[string]string {
	t.Helper()
	ips := make(map[string]string, len(names))
	for _, name := range names {
		ip := staticIP(t)
		if _, err := api.createStaticPod(ctx, ns, name, ip, labels); err != nil {
			t.Fatal(err)
		}
		ips[name] = ip
	}
	return ips
}

// deleteNow deletes ns/name with no grace period: the API server removes it at once, with no
// kubelet to wait for.
func (api *apiServer) deleteNow(ctx context.Context, ns, name string) error {
	return deleteNow(ctx, api.client, ns, name)
}

func deleteNow(ctx context.Context, client kubernetes.Interface, ns, name string) error {
	if err := client.CoreV1().Pods(ns).Delete(ctx, name, meta.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		return fmt.Errorf("delete pod %s/%s: %w", ns, name, err)
	}
	return nil
}

// setPodIP moves a static pod to ip, as a sandbox recreated by its kubelet would.
func (api *apiServer) setPodIP(ctx context.Context, ns, name, ip string) error {
	pods := api.client.CoreV1().Pods(ns)
	pod, err := pods.Get(ctx, name, meta.GetOptions{})
	if err != nil {
		return fmt.Errorf("get pod %s/%s: %w", ns, name, err)
	}
	pod.Status.PodIP, pod.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	if _, err := pods.UpdateStatus(ctx, pod, meta.UpdateOptions{}); err != nil {
		return fmt.Errorf("move pod %s/%s to IP %s: %w", ns, name, ip, err)
	}
	return nil
}

// indexablePods counts the pods of the whole cluster that a watch with no labels filter holds,
// as coredns_podname_pods counts them (hostNetwork pods included; this cluster has none).
func (api *apiServer) indexablePods(ctx context.Context) (int, error) {
	list, err := api.client.CoreV1().Pods("").List(ctx, meta.ListOptions{})
	if err != nil {
		return 0, fmt.Errorf("list pods of the cluster: %w", err)
	}
	n := 0
	for i := range list.Items {
		if harness.Indexable(&list.Items[i]) {
			n++
		}
	}
	return n, nil
}

// waitAPI waits until the API server answers a list of pods, after a fault brought it down.
func waitAPI(ctx context.Context, t *testing.T) {
	t.Helper()
	var last error
	err := harness.Poll(ctx, "the API server to list pods", func() (bool, error) {
		// A request to an API server without etcd waits on etcd; each try gets a bound.
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, last = kube.Client().CoreV1().Pods("default").List(lctx, meta.ListOptions{Limit: 1})
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%v (last error: %v)", err, last)
	}
}
