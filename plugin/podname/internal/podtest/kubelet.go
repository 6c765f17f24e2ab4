package podtest

import (
	"time"

	api "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// KubeletPod is a Pod as a Deployment and the kubelet leave it: two
// containers, volumes, managedFields of three managers, all conditions
// and container statuses.
func KubeletPod() *api.Pod {
	t := meta.NewTime(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	fields := func(s string) *meta.FieldsV1 { return &meta.FieldsV1{Raw: []byte(s)} }
	container := func(name, image string) api.Container {
		return api.Container{
			Name: name, Image: image, ImagePullPolicy: api.PullIfNotPresent,
			Args:  []string{"--port=8080", "--log-level=info"},
			Ports: []api.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: api.ProtocolTCP}},
			Env: []api.EnvVar{{Name: "POD_NAME", ValueFrom: &api.EnvVarSource{FieldRef: &api.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}},
				{Name: "MODE", Value: "production"}},
			Resources: api.ResourceRequirements{
				Requests: api.ResourceList{api.ResourceCPU: resource.MustParse("100m"), api.ResourceMemory: resource.MustParse("128Mi")},
				Limits:   api.ResourceList{api.ResourceMemory: resource.MustParse("256Mi")},
			},
			VolumeMounts: []api.VolumeMount{{Name: "kube-api-access-x7k2p", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true},
				{Name: "config", MountPath: "/etc/app"}},
			ReadinessProbe: &api.Probe{ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: "/ready", Port: intstr.FromInt32(8080)}},
				PeriodSeconds: 10, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3},
			TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: api.TerminationMessageReadFile,
		}
	}
	status := func(name, image string) api.ContainerStatus {
		return api.ContainerStatus{Name: name, Image: image, ImageID: image + "@sha256:0f2c4f4bb1e4a7c1b3f9c1d1f0b6c9d1e2a3b4c5d6e7f8091a2b3c4d5e6f7a8b",
			ContainerID: "containerd://4f1c0a9e1d2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5", Ready: true, Started: new(true),
			State: api.ContainerState{Running: &api.ContainerStateRunning{StartedAt: t}}}
	}
	cond := func(c api.PodConditionType) api.PodCondition {
		return api.PodCondition{Type: c, Status: api.ConditionTrue, LastTransitionTime: t}
	}
	return &api.Pod{
		TypeMeta: meta.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: meta.ObjectMeta{
			Name: "web-7c9f8d6b5-x2kqp", GenerateName: "web-7c9f8d6b5-", Namespace: "shop",
			UID: "1b0e7d4c-3f9a-4c2e-9d8b-7a6f5e4d3c2b", ResourceVersion: "48213377", CreationTimestamp: t,
			Labels:      map[string]string{"app": "web", "pod-template-hash": "7c9f8d6b5", "tier": "frontend"},
			Annotations: map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-03-01T11:58:00Z"},
			OwnerReferences: []meta.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7c9f8d6b5",
				UID: "9e8d7c6b-5a4f-3e2d-1c0b-a9f8e7d6c5b4", Controller: new(true), BlockOwnerDeletion: new(true)}},
			ManagedFields: []meta.ManagedFieldsEntry{
				{Manager: "kube-controller-manager", Operation: meta.ManagedFieldsOperationUpdate, APIVersion: "v1", Time: &t, FieldsType: "FieldsV1",
					FieldsV1: fields(`{"f:metadata":{"f:generateName":{},"f:labels":{".":{},"f:app":{},"f:pod-template-hash":{},"f:tier":{}},"f:ownerReferences":{".":{},"k:{\"uid\":\"9e8d7c6b-5a4f-3e2d-1c0b-a9f8e7d6c5b4\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{}}}}}`)},
				{Manager: "kubelet", Operation: meta.ManagedFieldsOperationUpdate, APIVersion: "v1", Time: &t, FieldsType: "FieldsV1", Subresource: "status",
					FieldsV1: fields(`{"f:status":{"f:conditions":{"k:{\"type\":\"ContainersReady\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},"k:{\"type\":\"Ready\"}":{".":{},"f:status":{}}},"f:containerStatuses":{},"f:hostIP":{},"f:phase":{},"f:podIP":{},"f:podIPs":{".":{},"k:{\"ip\":\"10.244.3.17\"}":{".":{},"f:ip":{}}},"f:startTime":{}}}`)},
			},
		},
		Spec: api.PodSpec{
			Containers:     []api.Container{container("web", "registry.example/shop/web:1.42.0"), container("proxy", "registry.example/mesh/proxy:2.3.1")},
			InitContainers: []api.Container{container("init", "registry.example/shop/migrate:1.42.0")},
			Volumes: []api.Volume{
				{Name: "config", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{LocalObjectReference: api.LocalObjectReference{Name: "web-config"}}}},
				{Name: "kube-api-access-x7k2p", VolumeSource: api.VolumeSource{Projected: &api.ProjectedVolumeSource{Sources: []api.VolumeProjection{
					{ServiceAccountToken: &api.ServiceAccountTokenProjection{ExpirationSeconds: new(int64(3607)), Path: "token"}},
					{ConfigMap: &api.ConfigMapProjection{LocalObjectReference: api.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []api.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
					{DownwardAPI: &api.DownwardAPIProjection{Items: []api.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &api.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
				}}}},
			},
			RestartPolicy: api.RestartPolicyAlways, TerminationGracePeriodSeconds: new(int64(30)), DNSPolicy: api.DNSClusterFirst,
			ServiceAccountName: "web", NodeName: "node-17", SchedulerName: "default-scheduler", Priority: new(int32(0)),
			Tolerations:        []api.Toleration{{Key: "node.kubernetes.io/not-ready", Operator: api.TolerationOpExists, Effect: api.TaintEffectNoExecute, TolerationSeconds: new(int64(300))}},
			EnableServiceLinks: new(true), PreemptionPolicy: new(api.PreemptLowerPriority),
		},
		Status: api.PodStatus{
			Phase: api.PodRunning, HostIP: "172.18.0.17", HostIPs: []api.HostIP{{IP: "172.18.0.17"}},
			PodIP: "10.244.3.17", PodIPs: []api.PodIP{{IP: "10.244.3.17"}}, StartTime: &t, QOSClass: api.PodQOSBurstable,
			Conditions: []api.PodCondition{cond(api.PodReadyToStartContainers), cond(api.PodInitialized), cond(api.PodReady),
				cond(api.ContainersReady), cond(api.PodScheduled)},
			ContainerStatuses:     []api.ContainerStatus{status("web", "registry.example/shop/web:1.42.0"), status("proxy", "registry.example/mesh/proxy:2.3.1")},
			InitContainerStatuses: []api.ContainerStatus{status("init", "registry.example/shop/migrate:1.42.0")},
		},
	}
}
