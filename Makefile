# podname: a CoreDNS plugin and a CoreDNS build that carries it.

GO      ?= go
# test/ is a module of its own: the bench's plotting and the harness stay out of the plugin's.
GOTEST  := $(GO) -C test
BIN     ?= bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/coredns/coredns/coremain.GitCommit=podname-$(VERSION)

# Built cluster binaries live here, by version, outside git.
PODNAME_CACHE ?= $(HOME)/.cache/podname
export PODNAME_CACHE
CLUSTER_DIR ?= $(PODNAME_CACHE)/cluster
CLUSTER_CMD := $(PODNAME_CACHE)/podname-cluster

# Debian packages the tests drive: command, then package.
DEB_TOOLS := dig:bind9-dnsutils ip:iproute2 python3:python3 unshare:util-linux prometheus:prometheus \
             taskset:util-linux dnsperf:dnsperf named:bind9 knotd:knot \
             podman:podman buildah:buildah runc:runc setcap:libcap2-bin getcap:libcap2-bin \
             java:default-jre-headless
# Debian packages the tests use that put no command on PATH: a file they install, then package.
# The seed scenario runs ZooKeeper from zookeeper's jar and talks to it with python3-kazoo.
DEB_FILES := /usr/share/java/zookeeper.jar:zookeeper /usr/lib/python3/dist-packages/kazoo:python3-kazoo

.PHONY: all help build build-bench image image-local image-test demo demo-once test lint unit fuzz e2e deploy-test deps tools tools-node cluster-up cluster-down bench bench-report bench-smoke clean

all: build

help: ## this list: every target and what it does
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Build

build: ## bin/coredns with every in-tree plugin plus podname
	@[ -x $(BIN)/coredns ] || echo "make build: compiling bin/coredns with every CoreDNS plugin; the first time takes about 6 minutes on 2 cores, seconds after"
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/coredns ./cmd/coredns

# The bench's build: the same source with the podname_bench tag, whose only addition
# (plugin/podname/internal/kube/bench_switches.go) reads the switches the bench measures from the environment.
build-bench: ## bin/coredns-bench: bin/coredns plus the bench's decoder and compression switches
	CGO_ENABLED=0 $(GO) build -trimpath -tags podname_bench -ldflags '$(LDFLAGS)' -o $(BIN)/coredns-bench ./cmd/coredns

demo: build tools deps ## the seed's Deployment on a local cluster, answered on 127.0.0.1:1053 until Ctrl-C
	@echo "make demo: compiling test/demo (a minute the first time), then it starts the cluster"
	$(GOTEST) run ./demo $(DEMO_ARGS)

demo-once: ## make demo, exiting after the answers are printed and checked
	$(MAKE) demo DEMO_ARGS=-once

IMAGE     ?= ghcr.io/podname/coredns-podname
IMAGE_TAG ?= $(VERSION)

image: ## $(IMAGE):$(IMAGE_TAG): docker builds the Dockerfile; without docker, podman or buildah package bin/coredns the same way
	@if command -v docker >/dev/null && docker info >/dev/null 2>&1; then \
		exec docker build --build-arg VERSION=$(VERSION) -t $(IMAGE):$(IMAGE_TAG) .; \
	fi; \
	$(MAKE) --no-print-directory build image-local

# The Dockerfile's final stage, made from bin/coredns and this host's CA bundle: FROM scratch and
# COPY need no registry, so podman and buildah build it offline. setcap needs root.
HOST_CA := /etc/ssl/certs/ca-certificates.crt

image-local: ## $(IMAGE):$(IMAGE_TAG) from bin/coredns as it is, with podman or buildah and no registry
	@tool=""; for t in podman buildah; do if command -v $$t >/dev/null; then tool=$$t; break; fi; done; \
	if [ -z "$$tool" ]; then echo "make image: no docker, podman or buildah (make deps installs podman and buildah)" >&2; exit 1; fi; \
	if ! command -v setcap >/dev/null; then echo "make image: setcap missing (Debian package libcap2-bin: make deps)" >&2; exit 1; fi; \
	ctx=$$(mktemp -d) && trap 'rm -rf "$$ctx"' EXIT && \
	cp $(BIN)/coredns "$$ctx/coredns" && setcap cap_net_bind_service=+ep "$$ctx/coredns" && \
	cp $(HOST_CA) "$$ctx/ca-certificates.crt" && \
	printf '%s\n' 'FROM scratch' \
		'COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt' \
		'COPY coredns /coredns' \
		'USER 65532:65532' \
		'EXPOSE 53 53/udp' \
		'ENTRYPOINT ["/coredns"]' >"$$ctx/Containerfile" && \
	echo "make image: $$tool build -t $(IMAGE):$(IMAGE_TAG) from $(BIN)/coredns" && \
	$$tool build --quiet -f "$$ctx/Containerfile" -t $(IMAGE):$(IMAGE_TAG) "$$ctx"

tools: ## etcd, kwok, the Kubernetes binaries and Helm, built once per version into $(PODNAME_CACHE)/bin
	bash test/tools/build.sh

tools-node: ## what a real node runs: the kubelet, kube-proxy, containerd, its runc shim and ctr, built once per version into $(PODNAME_CACHE)/bin
	bash test/tools/build.sh node

deps: ## Debian packages the tests use, installed when missing
	@missing=""; for t in $(DEB_TOOLS); do command -v $${t%%:*} >/dev/null || missing="$$missing $${t#*:}"; done; \
	for f in $(DEB_FILES); do [ -e $${f%%:*} ] || missing="$$missing $${f#*:}"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing; run: sudo apt-get install$$missing"; exit 1; fi; \
		echo "make deps: installing Debian packages:$$missing (about a minute)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Test

test: lint unit fuzz e2e deploy-test image-test bench-smoke demo-once ## everything CI runs

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags podname_bench ./plugin/podname/...
	$(GOTEST) vet ./...

unit: ## unit tests with the race detector
	$(GO) test -race -count=1 ./cmd/... ./plugin/...
	$(GO) test -race -count=1 -tags podname_bench -run Bench ./plugin/podname/internal/kube
	$(GOTEST) test -race -count=1 ./harness/... ./ports/...

# Counts, not durations: Go 1.26's fuzz coordinator can fail a target that found nothing when
# a -fuzztime deadline passes while a worker is busy (golang/go#75804, fixed in Go 1.27), and
# minimizing a new input at the deadline makes that likely. A count has no deadline. 20000 runs
# take 9 to 27 s a target here.
FUZZTIME         ?= 20000x
FUZZMINIMIZETIME ?= 2000x
# Each target as package:name, since go test fuzzes one package at a time.
FUZZ_TARGETS := podname:FuzzServeDNS podname:FuzzParse podname:FuzzTransfer podname/internal/kube:FuzzSlimDecode

fuzz: ## each fuzz target for FUZZTIME runs (make fuzz FUZZTIME=5m for a long run)
	@for t in $(FUZZ_TARGETS); do \
		pkg=./plugin/$${t%%:*} f=$${t##*:}; \
		echo "$(GO) test -run '^$$' -fuzz '^'$$f'$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg"; \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZETIME) $$pkg || exit 1; \
	done

e2e: build tools deps ## end-to-end and fault tests: real API server, kwok, bin/coredns, dig
	$(GOTEST) test -count=1 -timeout 30m ./cluster/... ./e2e/... ./seed/... ./faults/...

deploy-test: build tools deps ## deploy/ against a real API server: renderings, the Helm chart, dry runs, installs, RBAC, Prometheus, dashboard
	$(GOTEST) test -count=1 -timeout 15m ./deploy/...

image-test: build tools deps ## the image: make image-local's layout against the Dockerfile, then run as deploy/ runs it
	$(GOTEST) test -count=1 -timeout 15m ./image/...

# Local cluster

cluster-up: tools ## start the local cluster in the background; KUBECONFIG=$(CLUSTER_DIR)/kubeconfig
	$(GOTEST) build -o $(CLUSTER_CMD) ./cluster/cmd/cluster
	nohup $(CLUSTER_CMD) up -dir $(CLUSTER_DIR) >>$(PODNAME_CACHE)/cluster-up.log 2>&1 & \
		$(CLUSTER_CMD) wait -dir $(CLUSTER_DIR) -pid $$! || { cat $(PODNAME_CACHE)/cluster-up.log; exit 1; }

cluster-down: ## stop the cluster cluster-up started and wait for its teardown
	$(GOTEST) run ./cluster/cmd/cluster down -dir $(CLUSTER_DIR)

# Benchmarks

bench: build build-bench tools deps ## side-by-side benchmarks against the kubernetes, file and whoami plugins, zone transfers with BIND; writes docs/bench/results.json and BENCHMARKS.md from it (about 35 min)
	$(GOTEST) run ./bench/cmd/bench -notes bench/NOTES.md

bench-report: ## BENCHMARKS.md and docs/bench/ rendered again from docs/bench/results.json, measuring nothing
	$(GOTEST) run ./bench/cmd/report

bench-smoke: build build-bench tools deps ## the benchmark code paths at small sizes, in about a minute
	$(GOTEST) test -count=1 ./bench/...
	$(GOTEST) run ./bench/cmd/bench -smoke

clean: ## remove bin/
	rm -rf $(BIN)
