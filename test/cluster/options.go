package cluster

import (
	"fmt"
	"net/netip"
	"time"
)

// Options configures Start. The zero value is a usable cluster in a temporary directory.
type Options struct {
	// Dir holds etcd's data, the credentials and the kubeconfig. It must be empty or absent;
	// Start creates it and Stop leaves it in place. Empty means a temporary directory that Stop
	// removes, logs included unless LogDir is set.
	Dir string
	// LogDir receives <component>.log for each component. Empty means Dir/logs.
	LogDir string
	// PodCIDR is the fake node's spec.podCIDR; kwok gives pods IPs from it. Default 10.244.0.0/24.
	PodCIDR string
	// BinDir holds the binaries test/tools/build.sh makes. Empty means BinDir().
	BinDir string
	// StartTimeout bounds Start when its context has no deadline. Default 2 minutes.
	StartTimeout time.Duration
}

const (
	defaultPodCIDR      = "10.244.0.0/24"
	defaultStartTimeout = 2 * time.Minute
	// serviceCIDR is the API server's service-cluster-ip-range; it must not overlap PodCIDR.
	serviceCIDR = "10.96.0.0/16"
)

// withDefaults returns o with its empty fields filled in, or an error if a field is invalid.
func (o Options) withDefaults() (Options, error) {
	if o.PodCIDR == "" {
		o.PodCIDR = defaultPodCIDR
	}
	prefix, err := netip.ParsePrefix(o.PodCIDR)
	if err != nil {
		return o, fmt.Errorf("pod CIDR %q: %w", o.PodCIDR, err)
	}
	if prefix != prefix.Masked() {
		return o, fmt.Errorf("pod CIDR %q has host bits set; use %s", o.PodCIDR, prefix.Masked())
	}
	if prefix.Overlaps(netip.MustParsePrefix(serviceCIDR)) {
		return o, fmt.Errorf("pod CIDR %q overlaps the service CIDR %s", o.PodCIDR, serviceCIDR)
	}
	if o.BinDir == "" {
		o.BinDir = BinDir()
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = defaultStartTimeout
	}
	return o, nil
}
