package bench

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// The population: pod i is replica i of Deployment-like group app<i/podsPerApp>, in one of
// namespaceCount namespaces, with the IP podPrefix+i. Names are unique cluster-wide, so no
// name conflict skews podname's index.
const (
	podsPerApp     = 100
	namespaceCount = 10
	// Zone is the zone podname and the file plugin answer for.
	Zone = "mgmt.pix.yun.com"
	// benchNodes is how many Nodes the pods are spread over, round robin. They lack kwok's
	// annotation, so kwok leaves their pods alone, and this package plays their kubelets: it
	// writes the pods' status and the nodes' heartbeats. Spread, because the scheduler's cache
	// pays per pod event in proportion to the pods of its node: 100k pods on one node cost it
	// more CPU than the API server.
	benchNodes = 100
	// templateHash is the ReplicaSet hash a Deployment's pods carry in their names and labels.
	templateHash = "5d8f7c9b4"
)

// podPrefix holds the population's pod IPs; churnPrefix those of the pods created under churn.
// Both lie outside the kwok node's pod CIDR and the service CIDR (10.96.0.0/16).
var (
	podPrefix   = netip.MustParsePrefix("10.160.0.0/12")
	churnPrefix = netip.MustParsePrefix("10.200.0.0/16")
)

// PodName is the name of pod i of the population.
func PodName(i int) string {
	return fmt.Sprintf("%s-%s-%06d", appName(i), templateHash, i)
}

func appName(i int) string { return fmt.Sprintf("app%04d", i/podsPerApp) }

// PodNamespace is the namespace of pod i: a whole app lives in one namespace.
func PodNamespace(i int) string { return namespaceName(i / podsPerApp % namespaceCount) }

func namespaceName(n int) string { return fmt.Sprintf("bench%d", n) }

// PodIP is the IP of pod i of the population.
func PodIP(i int) netip.Addr { return nthAddr(podPrefix, i) }

// nthAddr is the n-th address of an IPv4 prefix; n must fit in it.
func nthAddr(p netip.Prefix, n int) netip.Addr {
	b := p.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// maxPods is how many pods podPrefix holds.
func maxPods() int { return 1 << (32 - podPrefix.Bits()) }

// nodeName is the name of bench node n.
func nodeName(n int) string { return fmt.Sprintf("bench-node-%03d", n) }

// nodeIP is the address of bench node n, reported as its pods' host IP.
func nodeIP(n int) string { return nthAddr(nodePrefix, n+1).String() }

var nodePrefix = netip.MustParsePrefix("10.159.0.0/16")

// newPod is pod i of a Deployment-sized spec as a user would write it, bound to a bench node
// so no scheduler takes it. Its size matters: a relist decodes whole pods before any
// transform.
func newPod(ns, name, app string, i int) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: meta.ObjectMeta{
			Namespace: ns,
			Name:      name,
			Labels:    map[string]string{"app": app, "pod-template-hash": templateHash},
		},
		Spec: corev1.PodSpec{
			NodeName: nodeName(i % benchNodes),
			Containers: []corev1.Container{{
				Name:  "app",
				Image: "registry.example/" + app + ":1.4.2",
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
				Env: []corev1.EnvVar{
					{Name: "LOG_LEVEL", Value: "info"},
					{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
				},
				Resources: corev1.ResourceRequirements{
					Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
					Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
				},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
					HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")},
				}},
			}},
		},
	}
}

// setRunning writes into pod the status its kubelet would report once its container is up and
// ready, with ip. It keeps what the API server set at creation (QOS class).
func setRunning(pod *corev1.Pod, ip netip.Addr) {
	now := meta.Now()
	cond := func(t corev1.PodConditionType) corev1.PodCondition {
		return corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now}
	}
	s := &pod.Status
	s.Phase = corev1.PodRunning
	host := nodeIP(0)
	for n := range benchNodes {
		if nodeName(n) == pod.Spec.NodeName {
			host = nodeIP(n)
		}
	}
	s.HostIP, s.HostIPs = host, []corev1.HostIP{{IP: host}}
	s.PodIP, s.PodIPs = ip.String(), []corev1.PodIP{{IP: ip.String()}}
	s.StartTime = &now
	s.Conditions = []corev1.PodCondition{
		cond(corev1.PodReadyToStartContainers), cond(corev1.PodInitialized),
		cond(corev1.ContainersReady), cond(corev1.PodReady), cond(corev1.PodScheduled),
	}
	s.ContainerStatuses = []corev1.ContainerStatus{{
		Name:         "app",
		Ready:        true,
		Started:      new(true),
		Image:        pod.Spec.Containers[0].Image,
		ImageID:      pod.Spec.Containers[0].Image + "@sha256:0f5e2b1c9d8a7f6e5d4c3b2a19080706050403020100f0e0d0c0b0a090807060",
		ContainerID:  "containerd://" + fmt.Sprintf("%064x", uint64(now.UnixNano())),
		State:        corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		RestartCount: 0,
	}}
}

// createRunningPod creates pod and sets it Running and Ready with ip. The API server drops the
// status of a create, hence the second request.
func createRunningPod(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, ip netip.Addr) error {
	pods := client.CoreV1().Pods(pod.Namespace)
	created, err := pods.Create(ctx, pod, meta.CreateOptions{})
	if err != nil {
		return fmt.Errorf("create pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	setRunning(created, ip)
	if _, err := pods.UpdateStatus(ctx, created, meta.UpdateOptions{}); err != nil {
		return fmt.Errorf("set pod %s/%s Running with IP %s: %w", pod.Namespace, pod.Name, ip, err)
	}
	return nil
}

// CreatePods creates pods [from, to) of the population with workers concurrent clients and
// returns the first error, after the workers have stopped. progress, if not nil, is called
// every 10,000 pods.
func CreatePods(ctx context.Context, client kubernetes.Interface, from, to, workers int, progress func(done int, rate float64)) error {
	if to > maxPods() {
		return fmt.Errorf("create pods: %d pods do not fit in %s", to, podPrefix)
	}
	done := atomic.Int64{}
	start := time.Now()
	return forEach(ctx, from, to, workers, func(ctx context.Context, i int) error {
		pod := newPod(PodNamespace(i), PodName(i), appName(i), i)
		if err := createRunningPod(ctx, client, pod, PodIP(i)); err != nil {
			return err
		}
		if n := done.Add(1); progress != nil && n%10_000 == 0 {
			progress(from+int(n), float64(n)/time.Since(start).Seconds())
		}
		return nil
	})
}

// forEach calls f for each i in [from, to) from workers goroutines, stops at the first error
// and returns it once the workers have stopped.
func forEach(ctx context.Context, from, to, workers int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= to {
					return
				}
				if err := f(ctx, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

// Setup creates the bench nodes, reports them Ready, and creates the population's namespaces
// plus extra ones, each with its default ServiceAccount (without which pods are refused).
func Setup(ctx context.Context, client kubernetes.Interface, extra ...string) error {
	for n := range benchNodes {
		node := &corev1.Node{ObjectMeta: meta.ObjectMeta{
			Name:   nodeName(n),
			Labels: map[string]string{"kubernetes.io/hostname": nodeName(n), "kubernetes.io/os": "linux", "type": "bench"},
		}}
		if _, err := client.CoreV1().Nodes().Create(ctx, node, meta.CreateOptions{}); err != nil {
			return fmt.Errorf("create node %s: %w", nodeName(n), err)
		}
	}
	if err := heartbeats(ctx, client); err != nil {
		return err
	}
	names := extra
	for n := range namespaceCount {
		names = append(names, namespaceName(n))
	}
	for _, name := range names {
		ns := &corev1.Namespace{ObjectMeta: meta.ObjectMeta{Name: name}}
		if _, err := client.CoreV1().Namespaces().Create(ctx, ns, meta.CreateOptions{}); err != nil {
			return fmt.Errorf("create namespace %s: %w", name, err)
		}
		// The controller manager makes it too, later; whoever is second gets AlreadyExists.
		sa := &corev1.ServiceAccount{ObjectMeta: meta.ObjectMeta{Namespace: name, Name: "default"}}
		if _, err := client.CoreV1().ServiceAccounts(name).Create(ctx, sa, meta.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create ServiceAccount %s/default: %w", name, err)
		}
	}
	return nil
}

// heartbeatEvery is how often KeepNodeReady renews the bench nodes' Ready condition; the node
// lifecycle controller marks every pod of a node not Ready once the node is silent for its grace
// period (50 s by default).
const heartbeatEvery = 15 * time.Second

// KeepNodeReady renews the bench nodes' heartbeats until ctx ends. Failures while the API
// server is down for a test are expected; it retries on the next beat and returns how many
// beats failed.
func KeepNodeReady(ctx context.Context, client kubernetes.Interface) (failed int) {
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return failed
		case <-t.C:
			if err := heartbeats(ctx, client); err != nil && ctx.Err() == nil {
				failed++
			}
		}
	}
}

// heartbeats writes every bench node's status as a kubelet would: Ready, heard from now. The
// node lifecycle controller writes nodes too (taints), hence the retry on a conflict.
func heartbeats(ctx context.Context, client kubernetes.Interface) error {
	for n := range benchNodes {
		name := nodeName(n)
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			node, err := client.CoreV1().Nodes().Get(ctx, name, meta.GetOptions{})
			if err != nil {
				return err
			}
			_, err = client.CoreV1().Nodes().UpdateStatus(ctx, readyStatus(node, nodeIP(n)), meta.UpdateOptions{})
			return err
		})
		if err != nil {
			return fmt.Errorf("report node %s Ready: %w", name, err)
		}
	}
	return nil
}

// readyStatus is node with the status of a Ready node heard from now.
func readyStatus(node *corev1.Node, ip string) *corev1.Node {
	now := meta.Now()
	transition := now
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
			transition = c.LastTransitionTime
		}
	}
	node.Status.Conditions = []corev1.NodeCondition{{
		Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
		LastHeartbeatTime: now, LastTransitionTime: transition,
	}}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}}
	node.Status.Capacity = corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1000000")}
	node.Status.Allocatable = node.Status.Capacity
	return node
}
