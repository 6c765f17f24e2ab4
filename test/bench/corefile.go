package bench

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/podname/podname/test/harness"
)

// Roles of server blocks: the plugin a block serves, and the key of its address in
// Corefile.DNS.
const (
	RolePodname    = "podname"
	RoleKubernetes = "kubernetes"
	RoleFile       = "file"
	RoleWhoami     = "whoami"
)

// Corefile is a Corefile with the loopback addresses it listens on; Endpoints.DNSAddr is its
// first server block's.
type Corefile struct {
	Text string
	// DNS maps a role to the address of its server block.
	DNS map[string]string
	harness.Endpoints
}

// serverBlock is one server block: a zone on a port of its own, one plugin, and optionally the
// HTTP plugins (which add nothing to the DNS path of the block).
type serverBlock struct {
	role   string
	zone   string
	plugin []string // the plugin's stanza, one line each
	// ready, metrics and pprof add those plugins to the block. prometheus does wrap every
	// query of its block, so the throughput blocks go without it.
	ready, metrics, pprof bool
}

// newCorefile lays out blocks on free loopback ports. Every ready plugin shares one address (the
// ready plugin allows that, and reports on the plugins of each block that names it).
func newCorefile(blocks ...serverBlock) (Corefile, error) {
	ports, err := harness.FreePorts("127.0.0.1", len(blocks)+3)
	if err != nil {
		return Corefile{}, fmt.Errorf("ports for a Corefile: %w", err)
	}
	addr := func(i int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[i])) }
	c := Corefile{DNS: map[string]string{}}
	var w strings.Builder
	c.DNSAddr = addr(0)
	for i, b := range blocks {
		c.DNS[b.role] = addr(i)
		fmt.Fprintf(&w, "%s:%d {\n    bind 127.0.0.1\n", b.zone, ports[i])
		for _, l := range b.plugin {
			fmt.Fprintf(&w, "    %s\n", l)
		}
		if b.ready {
			c.ReadyAddr = addr(len(blocks))
			fmt.Fprintf(&w, "    ready %s\n", c.ReadyAddr)
		}
		if b.metrics {
			c.MetricsAddr = addr(len(blocks) + 1)
			fmt.Fprintf(&w, "    prometheus %s\n", c.MetricsAddr)
		}
		if b.pprof {
			c.PprofAddr = addr(len(blocks) + 2)
			fmt.Fprintf(&w, "    pprof %s\n", c.PprofAddr)
		}
		w.WriteString("}\n")
	}
	c.Text = w.String()
	return c, nil
}

func podnameBlock(kubeconfig string) serverBlock {
	return serverBlock{role: RolePodname, zone: Zone, plugin: []string{
		"podname {",
		"    kubeconfig " + kubeconfig,
		"}",
	}}
}

// kubernetesBlock is the kubernetes plugin with options (endpoint_pod_names, pods verified).
func kubernetesBlock(kubeconfig string, options ...string) serverBlock {
	lines := []string{"kubernetes cluster.local {", "    kubeconfig " + kubeconfig}
	for _, o := range options {
		lines = append(lines, "    "+o)
	}
	return serverBlock{role: RoleKubernetes, zone: "cluster.local", plugin: append(lines, "}")}
}

func fileBlock(zonefile string) serverBlock {
	return serverBlock{role: RoleFile, zone: Zone, plugin: []string{
		"file " + zonefile + " {",
		"    reload 0",
		"}",
	}}
}

func whoamiBlock() serverBlock {
	return serverBlock{role: RoleWhoami, zone: ".", plugin: []string{"whoami"}}
}

// ThroughputCorefile is one server with a block per plugin compared: podname, the kubernetes
// plugin answering <pod>.<service>.<namespace>.svc.cluster.local, the file plugin with the same
// records as podname, and whoami. One process, so each block gets the same runtime and the
// same two cores; dnsperf drives one block at a time.
func ThroughputCorefile(kubeconfig, zonefile string) (Corefile, error) {
	p := podnameBlock(kubeconfig)
	p.ready, p.pprof = true, true
	k := kubernetesBlock(kubeconfig, "endpoint_pod_names")
	k.ready = true
	return newCorefile(p, k, fileBlock(zonefile), whoamiBlock())
}

// MemoryCorefile is a server with one plugin alone, role podname, kubernetes (with pods
// verified, so it watches pods too) or whoami (the baseline: neither watch).
func MemoryCorefile(role, kubeconfig string) (Corefile, error) {
	var b serverBlock
	switch role {
	case RolePodname:
		b = podnameBlock(kubeconfig)
	case RoleKubernetes:
		b = kubernetesBlock(kubeconfig, "pods verified")
	case RoleWhoami:
		b = whoamiBlock()
	default:
		return Corefile{}, fmt.Errorf("memory Corefile: unknown role %q", role)
	}
	b.ready, b.metrics, b.pprof = true, true, true
	return newCorefile(b)
}

// ChurnCorefile serves role alone: podname, or as its baseline the kubernetes plugin answering
// pods through their Service's EndpointSlices. pprof forces the GC of the heap figures after
// churn.
func ChurnCorefile(role, kubeconfig string) (Corefile, error) {
	var b serverBlock
	switch role {
	case RolePodname:
		b = podnameBlock(kubeconfig)
	case RoleKubernetes:
		b = kubernetesBlock(kubeconfig, "endpoint_pod_names")
	default:
		return Corefile{}, fmt.Errorf("churn Corefile: unknown role %q", role)
	}
	b.ready, b.metrics, b.pprof = true, true, true
	return newCorefile(b)
}

// withTransfer puts the transfer plugin in b, open to the addresses to (host:port, NOTIFY goes
// to each; or *, anyone who reaches the block's loopback address, and no NOTIFY).
func withTransfer(b serverBlock, to string) serverBlock {
	b.plugin = append([]string{"transfer {", "    to " + to, "}"}, b.plugin...)
	return b
}

// TransferCorefile is one server with podname and the file plugin serving zonefile, the same
// records, each with the transfer plugin: the AXFR and IXFR figures.
func TransferCorefile(kubeconfig, zonefile string) (Corefile, error) {
	p := withTransfer(podnameBlock(kubeconfig), "*")
	p.ready, p.metrics = true, true
	return newCorefile(p, withTransfer(fileBlock(zonefile), "*"))
}

// PrimaryCorefile is podname with the transfer plugin (its IXFR journal at the default size),
// the primary of a secondary at the address secondary, which it NOTIFYs.
func PrimaryCorefile(kubeconfig, secondary string) (Corefile, error) {
	b := withTransfer(podnameBlock(kubeconfig), secondary)
	b.ready, b.metrics, b.pprof = true, true, true
	return newCorefile(b)
}

// WriteZone writes a zone file for Zone holding pods [0, n) as podname answers them.
func WriteZone(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write zone file: %w", err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintf(w, "$ORIGIN %s.\n@ 5 IN SOA ns.dns.%s. hostmaster.%s. 1 7200 1800 86400 5\n", Zone, Zone, Zone)
	for i := range n {
		fmt.Fprintf(w, "%s 5 IN A %s\n", PodName(i), PodIP(i))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write zone file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write zone file: %w", err)
	}
	return nil
}
