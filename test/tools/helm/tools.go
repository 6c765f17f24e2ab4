//go:build tools

// Package tools records the helm command test/tools/build.sh builds, so that
// go mod tidy keeps its requirements in this module's go.mod and go.sum.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
