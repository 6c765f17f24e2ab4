# podname: a CoreDNS plugin and a CoreDNS build that carries it.

GO      ?= go
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
             taskset:util-linux dnsperf:dnsperf named:bind9 knotd:knot

.PHONY: all help build image demo demo-once test lint unit fuzz e2e deploy-test deps tools cluster-up cluster-down bench bench-smoke clean

all: build

help: ## this list: every target and what it does
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Build

build: ## bin/coredns with every in-tree plugin plus podname
	@[ -x $(BIN)/coredns ] || echo "make build: compiling bin/coredns with every CoreDNS plugin; the first time takes about 6 minutes on 2 cores, seconds after"
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/coredns ./cmd/coredns

demo: build tools deps ## the seed's Deployment on a local cluster, answered on 127.0.0.1:1053 until Ctrl-C
	@echo "make demo: compiling test/demo (a minute the first time), then it starts the cluster"
	$(GO) run ./test/demo $(DEMO_ARGS)

demo-once: ## make demo, exiting after the answers are printed and checked
	$(MAKE) demo DEMO_ARGS=-once

IMAGE     ?= ghcr.io/podname/coredns-podname
IMAGE_TAG ?= $(VERSION)

image: ## $(IMAGE):$(IMAGE_TAG) from Dockerfile, with the first of docker, podman, buildah that works
	@why=""; for tool in docker podman buildah; do \
		if ! command -v $$tool >/dev/null; then why="$$why $$tool not installed;"; continue; fi; \
		if ! $$tool info >/dev/null 2>&1; then why="$$why '$$tool info' fails;"; continue; fi; \
		exec $$tool build --build-arg VERSION=$(VERSION) -t $(IMAGE):$(IMAGE_TAG) .; \
	done; \
	echo "make image: no container builder works here:$${why%;}" >&2; exit 1

tools: ## etcd, kwok, the Kubernetes binaries and Helm, built once per version into $(PODNAME_CACHE)/bin
	bash test/tools/build.sh

deps: ## Debian packages the tests use, installed when missing
	@missing=""; for t in $(DEB_TOOLS); do command -v $${t%%:*} >/dev/null || missing="$$missing $${t#*:}"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing; run: sudo apt-get install$$missing"; exit 1; fi; \
		echo "make deps: installing Debian packages:$$missing (about a minute)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Test

test: lint unit fuzz e2e deploy-test bench-smoke demo-once ## everything CI runs

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...

unit: ## unit tests with the race detector
	$(GO) test -race -count=1 ./cmd/... ./plugin/... ./test/harness/... ./test/ports/...

FUZZTIME ?= 15s
FUZZ_TARGETS := FuzzServeDNS FuzzParse FuzzTransfer

fuzz: ## each fuzz target for FUZZTIME (make fuzz FUZZTIME=5m for a long run)
	@for f in $(FUZZ_TARGETS); do \
		echo "$(GO) test -run '^$$' -fuzz '^'$$f'$$' -fuzztime $(FUZZTIME) ./plugin/podname"; \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) ./plugin/podname || exit 1; \
	done

e2e: build tools deps ## end-to-end and fault tests: real API server, kwok, bin/coredns, dig
	$(GO) test -count=1 -timeout 30m ./test/cluster/... ./test/e2e/... ./test/seed/... ./test/faults/...

deploy-test: build tools deps ## deploy/ against a real API server: renderings, the Helm chart, dry runs, installs, RBAC, Prometheus, dashboard
	$(GO) test -count=1 -timeout 15m ./test/deploy/...

# Local cluster

cluster-up: tools ## start the local cluster in the background; KUBECONFIG=$(CLUSTER_DIR)/kubeconfig
	$(GO) build -o $(CLUSTER_CMD) ./test/cluster/cmd/cluster
	nohup $(CLUSTER_CMD) up -dir $(CLUSTER_DIR) >>$(PODNAME_CACHE)/cluster-up.log 2>&1 & \
		$(CLUSTER_CMD) wait -dir $(CLUSTER_DIR) -pid $$! || { cat $(PODNAME_CACHE)/cluster-up.log; exit 1; }

cluster-down: ## stop the cluster cluster-up started and wait for its teardown
	$(GO) run ./test/cluster/cmd/cluster down -dir $(CLUSTER_DIR)

# Benchmarks

bench: build tools deps ## side-by-side benchmarks against the kubernetes, file and whoami plugins; writes BENCHMARKS.md and docs/bench/*.svg (about 25 min)
	$(GO) run ./test/bench/cmd/bench -notes test/bench/NOTES.md

bench-smoke: build tools deps ## the benchmark code paths at small sizes, in about a minute
	$(GO) test -count=1 ./test/bench/...
	$(GO) run ./test/bench/cmd/bench -smoke

clean: ## remove bin/
	rm -rf $(BIN)
