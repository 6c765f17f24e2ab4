//go:build tools

// Package tools records the containerd commands test/tools/build.sh builds, so that go mod tidy
// keeps their requirements in this module's go.mod and go.sum.
package tools

import (
	_ "github.com/containerd/containerd/v2/cmd/containerd"
	_ "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2"
	_ "github.com/containerd/containerd/v2/cmd/ctr"
)
