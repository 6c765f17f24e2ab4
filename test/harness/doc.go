// Package harness runs the real coredns binary from `make build` for the
// end-to-end tests and the demo: Corefiles from corefile-examples/ with
// only ports and paths adjusted, the process, and DNS, /ready and /metrics
// clients on loopback.
package harness
