// Package kube is podname's Kubernetes side: it reaches the API server,
// keeps one shared watch of Pods and Services per connection and label
// selector, and hands their changes, as small projections, to the stanzas
// that subscribe. It never calls back into the DNS side.
//
// A stanza uses it in this order:
//
//	client, err := conn.Client()             // a Connection: kubeconfig, endpoint or in-cluster
//	w, err := kube.Acquire(key, client, sel) // shared by every stanza with the same key
//	sub, err := w.Subscribe(onPod, onService)
//	sub.WaitSynced(stop)                     // the lists are in, and replayed to the handlers
//	...
//	sub.Cancel()
//	w.Release()                              // the last release stops the watch
//
// A Pod is what the store holds of a Pod: an index.Pod and the few facts
// the watch needs. The handlers get the store's own copy; what of it
// changes after the store holds it, and when, is stated on Pod.
//
// The package owns the watch's metrics (coredns_podname_pods,
// coredns_podname_pod_events_total, coredns_podname_last_sync_timestamp_seconds)
// and logs as the plugin does, "plugin/podname".
package kube
