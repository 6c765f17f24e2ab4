// Package seed plays the write-up's scenario for real: the seed's program
// (ws.py, its Python snippet ported to Python 3) runs once per pod of a plain
// Deployment ws, each copy with the /etc/hostname, /etc/hosts and
// /etc/resolv.conf the kubelet would give it, and registers
// <hostname>.mgmt.pix.yun.com:9999 as an ephemeral znode under /services/ws of
// a real ZooKeeper (Debian's zookeeper 3.8, started by the test on a loopback
// port, through Debian's python3-kazoo); a peer resolves every entry through
// glibc and bin/coredns on 10.96.0.10:53, dials it and must reach the pod it
// names.
//
// Then the Deployment's pod template changes. While the Deployment controller
// replaces the pods one at a time, the test plays the kubelet's part (it
// starts ws for each new pod once it runs with an IP, and sends SIGTERM to the
// ws of each pod being deleted, which closes its ZooKeeper session so its
// znode vanishes), and a peer (ws.py watch) follows the registry's children
// and dials every live entry over and over. kwok hands a deleted pod's IP to a
// new pod, so a stale answer would reach the wrong pod: any dial answered by
// another pod than the one its entry names fails the test; refused and
// NXDOMAIN dials in the window are counted and logged. At the end the registry
// holds exactly the new pods' entries, and each answers in its own name.
//
// Machine notes. Every pod here shares the test's network namespace, so a new
// pod on a reused IP would find the old listener's connections in TIME_WAIT:
// ws.py sets SO_REUSEADDR, which a pod with a network namespace of its own
// does not need. Debian's kazoo is importable only by /usr/bin/python3, which
// a version manager's python3 (pyenv's shim) may hide on PATH: the test takes
// the interpreter that imports kazoo (harness.Python).
//
// Everything (the test cluster, CoreDNS, ZooKeeper, the pods' IPs, the
// processes) lives in a network namespace the test creates and deletes, so it
// needs root; see TestSeedScenario.
package seed
