// Package index holds the pods podname answers for: names to pods with the
// conflict rule, IPs to pods for PTR, and Service membership. It is a plain
// data structure, fed by the watch and read by the DNS handler.
package index

import (
	"net/netip"
	"strings"
)

// Pod is the projection of a Kubernetes Pod that the index keeps.
type Pod struct {
	Namespace string
	Name      string // lowercase; answered to when NameOK
	// Host is the lowercase kubelet hostname when it differs from Name,
	// else empty.
	Host        string
	Created     int64 // creationTimestamp, Unix seconds
	IPs         []netip.Addr
	Labels      Labels
	HostNetwork bool
	// NameOK is false when a label of Name is longer than 63 octets.
	NameOK bool
}

// Names returns the names p answers to: its pod name and, unless it uses
// the host's network, its kubelet hostname.
func (p *Pod) Names() (name, host string) {
	if p.NameOK {
		name = p.Name
	}
	if !p.HostNetwork {
		host = p.Host
	}
	return name, host
}

// Hostname is the name the pod's containers see in /etc/hostname.
func (p *Pod) Hostname() string {
	if p.Host != "" && !p.HostNetwork {
		return p.Host
	}
	return p.Name
}

// same reports whether a and b are versions of one pod.
func same(a, b *Pod) bool { return a.Name == b.Name && a.Namespace == b.Namespace }

// KubeletHostname returns the hostname the kubelet gives a pod, lowercased:
// override, else hostname, else the pod name; with setHostnameAsFQDN only its
// first label; cut to 63 characters without trailing '-' or '.', as the
// kubelet's truncatePodHostnameIfNeeded does.
func KubeletHostname(podName, hostname, override string, asFQDN bool) string {
	h := podName
	switch {
	case override != "":
		h = override
	case hostname != "":
		h = hostname
	}
	if asFQDN {
		if i := strings.IndexByte(h, '.'); i >= 0 {
			h = h[:i]
		}
	}
	if len(h) > 63 {
		h = strings.TrimRight(h[:63], "-.")
	}
	return strings.ToLower(h)
}

// NameFits reports whether every label of name is 1 to 63 octets.
func NameFits(name string) bool {
	if name == "" {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if len(label) == 0 || len(label) > 63 {
			return false
		}
	}
	return true
}
