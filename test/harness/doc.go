// Package harness runs the real coredns binary from `make build` for the
// end-to-end tests and the demo: Corefiles from corefile-examples/ with
// only ports and paths adjusted, the process, and DNS, /ready and /metrics
// clients on loopback. It also holds what more than one suite needs around
// it: deploy/'s renderings, ServiceAccount tokens, and network namespaces a
// test re-runs itself in.
package harness
