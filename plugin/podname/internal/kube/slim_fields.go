package kube

// The wire fields the slim decoder reads, from k8s.io/api/core/v1 and
// k8s.io/apimachinery's meta/v1 and runtime generated.proto. Every other
// field is skipped unread. slim_fields_test.go checks them against the
// generated code, so a bump of k8s.io/api that moves one fails a test.
const (
	unknownTypeMeta = 1 // runtime.Unknown.typeMeta
	unknownRaw      = 2 // runtime.Unknown.raw
	unknownEncoding = 3 // runtime.Unknown.contentEncoding
	typeAPIVersion  = 1 // runtime.TypeMeta.apiVersion
	typeKind        = 2 // runtime.TypeMeta.kind

	listMetadata = 1 // PodList.metadata
	listItems    = 2 // PodList.items
	listRV       = 2 // ListMeta.resourceVersion
	listContinue = 3 // ListMeta.continue
	listRemain   = 4 // ListMeta.remainingItemCount

	podMetadata = 1 // Pod.metadata
	podSpec     = 2 // Pod.spec
	podStatus   = 3 // Pod.status

	metaName        = 1  // ObjectMeta.name
	metaNamespace   = 3  // ObjectMeta.namespace
	metaRV          = 6  // ObjectMeta.resourceVersion
	metaCreated     = 8  // ObjectMeta.creationTimestamp
	metaDeleted     = 9  // ObjectMeta.deletionTimestamp
	metaLabels      = 11 // ObjectMeta.labels
	metaAnnotations = 12 // ObjectMeta.annotations
	mapKey          = 1  // a map entry's key
	mapValue        = 2  // a map entry's value
	timeSeconds     = 1  // Timestamp.seconds
	timeNanos       = 2  // Timestamp.nanos

	specHostNetwork = 11 // PodSpec.hostNetwork
	specHostname    = 16 // PodSpec.hostname
	specAsFQDN      = 35 // PodSpec.setHostnameAsFQDN
	specOverride    = 41 // PodSpec.hostnameOverride

	statusPhase      = 1  // PodStatus.phase
	statusConditions = 2  // PodStatus.conditions
	statusPodIP      = 6  // PodStatus.podIP
	statusPodIPs     = 12 // PodStatus.podIPs
	podIPIP          = 1  // PodIP.ip
	condType         = 1  // PodCondition.type
	condStatus       = 2  // PodCondition.status
	condTransition   = 4  // PodCondition.lastTransitionTime
)
