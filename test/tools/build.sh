#!/usr/bin/env bash
# build.sh builds the pinned binaries of the local test cluster (etcd, kwok and the Kubernetes
# control plane) and Helm from the modules next to it, into ${PODNAME_CACHE:-$HOME/.cache/podname}/bin,
# each named for its version. A binary already there is not rebuilt, so a warm run does not
# even link. Bump a version here, in its module's go.mod and in test/cluster/binaries.go together.
# "build.sh node" builds what a real node runs instead: the kubelet, kube-proxy, and containerd
# with its runc shim and ctr.
set -euo pipefail

readonly KUBERNETES_VERSION=v1.37.2
readonly ETCD_VERSION=v3.7.3
readonly KWOK_VERSION=v0.8.0
readonly HELM_VERSION=v3.22.0
readonly CONTAINERD_VERSION=v2.3.7

tools_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin_dir="${PODNAME_CACHE:-$HOME/.cache/podname}/bin"
mkdir -p "$bin_dir"

# A nested go.work would pull these modules into someone else's build list.
export GOWORK=off

# Two runs at once (parallel test packages on a cold cache) would compile everything twice.
exec 9>"$bin_dir/.build.lock"
flock 9

# tmp is the half-written output of the current step, removed if the script dies.
tmp=""
trap 'if [[ -n "$tmp" ]]; then rm -f "$tmp"; fi' EXIT

# build MODULE PACKAGE NAME ABOUT [LDFLAGS] builds PACKAGE of test/tools/MODULE into bin_dir/NAME;
# ABOUT is how long that takes on two cores with a cold Go build cache, said before it starts.
build() {
	local module=$1 pkg=$2 name=$3 about=$4 ldflags=${5:-}
	local out="$bin_dir/$name"
	if [[ -x "$out" ]]; then
		echo "cached $out"
		return
	fi
	echo "building $name from the Go module proxy (about $about on 2 cores the first time)"
	local start=$SECONDS
	tmp=$(mktemp "$out.tmp.XXXXXX")
	# -mod=readonly on the command line beats a GOFLAGS=-mod=mod: go.sum must already be complete.
	(cd "$tools_dir/$module" && go build -mod=readonly -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg")
	mv -f "$tmp" "$out"
	tmp=""
	echo "built $out in $((SECONDS - start))s"
}

# kwok_stages writes the node and pod stages kwok needs (it refuses to start without any)
# from kwok's own kustomize directory in the module cache.
kwok_stages() {
	local out="$bin_dir/kwok-stages-$KWOK_VERSION.yaml"
	if [[ -s "$out" ]]; then
		echo "cached $out"
		return
	fi
	local dir stage file
	dir=$(cd "$tools_dir/kwok" && go mod download sigs.k8s.io/kwok && go list -mod=readonly -m -f '{{.Dir}}' sigs.k8s.io/kwok)
	tmp=$(mktemp "$out.tmp.XXXXXX")
	for stage in node/fast node/heartbeat pod/fast; do
		for file in "$dir/kustomize/stage/$stage"/*.yaml; do
			[[ "$(basename "$file")" == kustomization.yaml ]] && continue
			{ echo "---"; cat "$file"; } >>"$tmp"
		done
	done
	chmod 0644 "$tmp"
	mv -f "$tmp" "$out"
	tmp=""
	echo "wrote $out"
}

k8s_ldflags="-X k8s.io/component-base/version.gitVersion=$KUBERNETES_VERSION"
k8s_ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
k8s_ldflags+=" -X k8s.io/component-base/version.gitMinor=37"
k8s_ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
# client-go reports its own copy in the User-Agent of every request.
k8s_ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$KUBERNETES_VERSION"
k8s_ldflags+=" -X k8s.io/client-go/pkg/version.gitMajor=1"
k8s_ldflags+=" -X k8s.io/client-go/pkg/version.gitMinor=37"
k8s_ldflags+=" -X k8s.io/client-go/pkg/version.gitTreeState=clean"

if [[ "${1:-}" == node ]]; then
	build kubernetes k8s.io/kubernetes/cmd/kubelet "kubelet-$KUBERNETES_VERSION" "3 minutes" "$k8s_ldflags"
	build kubernetes k8s.io/kubernetes/cmd/kube-proxy "kube-proxy-$KUBERNETES_VERSION" "a minute" "$k8s_ldflags"
	# Static, and without the snapshotters that need cgo or kernel headers; the node uses overlayfs.
	export CGO_ENABLED=0 GOFLAGS="-tags=no_btrfs,no_devmapper,no_zfs"
	containerd_ldflags="-X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION"
	build containerd github.com/containerd/containerd/v2/cmd/containerd "containerd-$CONTAINERD_VERSION" "3 minutes" "$containerd_ldflags"
	for cmd in containerd-shim-runc-v2 ctr; do
		build containerd "github.com/containerd/containerd/v2/cmd/$cmd" "$cmd-$CONTAINERD_VERSION" "a minute" "$containerd_ldflags"
	done
	exit 0
fi

if [[ ! -x "$bin_dir/kubectl-$KUBERNETES_VERSION" || ! -s "$bin_dir/kwok-stages-$KWOK_VERSION.yaml" ]]; then
	echo "make tools: building the test cluster (etcd, Kubernetes, kwok) into $bin_dir;" \
		"about 15 minutes on 2 cores the first time, then cached by version"
fi
build etcd go.etcd.io/etcd/server/v3 "etcd-$ETCD_VERSION" "1 minute"
build kwok sigs.k8s.io/kwok/cmd/kwok "kwok-$KWOK_VERSION" "3 minutes"
kwok_stages
# The first Kubernetes binary compiles what the others share.
build kubernetes k8s.io/kubernetes/cmd/kube-apiserver "kube-apiserver-$KUBERNETES_VERSION" "6 minutes" "$k8s_ldflags"
build kubernetes k8s.io/kubernetes/cmd/kube-controller-manager "kube-controller-manager-$KUBERNETES_VERSION" "2 minutes" "$k8s_ldflags"
for cmd in kube-scheduler kubectl; do
	build kubernetes "k8s.io/kubernetes/cmd/$cmd" "$cmd-$KUBERNETES_VERSION" "a minute" "$k8s_ldflags"
done

# Helm reports the version and Kubernetes capabilities its own release build stamps: without
# them it says v3.22 and renders .Capabilities.KubeVersion as Kubernetes 1.20.
helm_ldflags="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
helm_ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
# client-go v0.37, as in its Makefile: Kubernetes 1.37.
for pkg in pkg/chartutil pkg/lint/rules; do
	helm_ldflags+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=37"
done
build helm helm.sh/helm/v3/cmd/helm "helm-$HELM_VERSION" "3 minutes" "$helm_ldflags"
