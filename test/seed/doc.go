// Package seed plays the write-up's scenario for real: the seed's program
// (ws.py, its Python snippet ported to Python 3) runs once per pod of a plain
// Deployment ws, each copy with the /etc/hostname, /etc/hosts and
// /etc/resolv.conf the kubelet would give it, and registers
// <hostname>.mgmt.pix.yun.com:9999; a peer resolves every entry through glibc
// and bin/coredns on 10.96.0.10:53, dials it and must reach the pod it names.
//
// Everything (the test cluster, CoreDNS, the pods' IPs, the processes) lives in
// a network namespace the test creates and deletes, so it needs root; see
// TestSeedScenario.
package seed
