# podname: a CoreDNS plugin and a CoreDNS build that carries it.

GO      ?= go
BIN     ?= bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/coredns/coredns/coremain.GitCommit=podname-$(VERSION)

.PHONY: all build test lint unit bench clean

all: build

# Build

build: ## bin/coredns with every in-tree plugin plus podname
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/coredns ./cmd/coredns

# Test

test: lint unit ## everything CI runs

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...

unit: ## unit tests with the race detector
	$(GO) test -race -count=1 ./...

# Benchmarks

bench: ## Go benchmarks of the plugin (100k pods)
	$(GO) test -run '^$$' -bench . -benchmem -count 3 ./plugin/podname/...

clean:
	rm -rf $(BIN)
