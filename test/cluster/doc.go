// Package cluster runs a small Kubernetes control plane on 127.0.0.1 for end-to-end tests:
// etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok, which plays the
// kubelet of one fake node so that pods get scheduled, become Running and receive IPs from
// the node's pod CIDR without any container runtime.
//
// The binaries come from test/tools/build.sh (make tools; see CheckBinaries). Every component runs in
// its own process group with its output in LogDir/<component>.log, and dies with the process
// that started it.
package cluster
