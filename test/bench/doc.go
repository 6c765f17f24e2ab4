// Package bench measures bin/coredns with the podname plugin against CoreDNS's own plugins on a
// local control plane (package cluster): DNS throughput and latency with dnsperf beside the
// kubernetes, file and whoami plugins; memory, sync time, CPU time and bytes allocated against
// the number of pods (podname also with its pod watch decoding whole Pods, the path before its
// slim decoder, and with gzip of API responses forced on and off); the delay from a pod's IP
// appearing in a watch to its first correct answer under churn; the heap during a relist after
// an API server restart; zone transfers: AXFR beside the file plugin, IXFR against the changes
// it carries, BIND following podname under churn, and the heap of the IXFR journal; and at the
// largest size (150k pods, Kubernetes' per-cluster limit, measured once) sync, heap, podname's
// throughput alone and a relist. Command test/bench/cmd/bench runs it and writes the figures to
// docs/bench/results.json; package report renders BENCHMARKS.md from them.
//
// Everything runs on 127.0.0.1. Pods are created straight through the API, bound to Nodes no
// kubelet or kwok manages, with the status a kubelet would write (Running, Ready, an IP chosen
// here), so the size of the population is bounded by the API server's write rate, not by kwok.
package bench
