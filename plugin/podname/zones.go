package podname

import (
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/coredns/coredns/plugin"
	"github.com/coredns/coredns/plugin/pkg/dnsutil"
)

// parseZones checks and normalizes the zones from the stanza's arguments,
// else from the server block's keys. Unlike CoreDNS's own helper it drops
// nothing silently: every bad zone is an error.
func parseZones(args, serverBlockKeys []string) ([]string, error) {
	var zones []string
	if len(args) > 0 {
		for _, a := range args {
			z, err := parseZone(a)
			if err != nil {
				return nil, err
			}
			zones = append(zones, z...)
		}
	} else {
		for _, k := range serverBlockKeys {
			z := plugin.Host(k).NormalizeExact()
			if len(z) == 0 {
				return nil, fmt.Errorf("zone %q is not a valid zone", k)
			}
			zones = append(zones, z...)
		}
	}
	var out []string
	for _, z := range zones {
		if z == "." {
			return nil, fmt.Errorf("zone %q: podname cannot be authoritative for the root zone", z)
		}
		if !slices.Contains(out, z) {
			out = append(out, z)
		}
	}
	if primaryZone(out) == "" {
		return nil, fmt.Errorf("zones %v: at least one forward (non-reverse) zone is needed", out)
	}
	return out, nil
}

// parseZone reads one zone argument: a domain name, or a CIDR split into
// reverse zones exactly as CoreDNS splits it.
func parseZone(arg string) ([]string, error) {
	if net.ParseIP(arg) != nil {
		return nil, fmt.Errorf("zone %q: an IP address needs a mask, e.g. %s/24", arg, arg)
	}
	hosts, port, err := plugin.SplitHostPort(arg)
	if err != nil {
		return nil, fmt.Errorf("zone %q: %w", arg, err)
	}
	if port != "" {
		return nil, fmt.Errorf("zone %q: a zone takes no port", arg)
	}
	for i := range hosts {
		hosts[i] = plugin.Name(hosts[i]).Normalize()
	}
	return hosts, nil
}

// primaryZone returns the first forward zone, or "".
func primaryZone(zones []string) string {
	for _, z := range zones {
		if !isReverse(z) {
			return z
		}
	}
	return ""
}

// isReverse reports whether zone is in-addr.arpa., ip6.arpa. or below them.
func isReverse(zone string) bool {
	return dnsutil.IsReverse(zone) > 0 || zone == "in-addr.arpa." || zone == "ip6.arpa."
}

// matchZone returns the longest of zones (lowercase, fully qualified) that
// qname is in or equal to, or "". Unlike plugin.Zones.Matches it does not
// allocate: it runs on every query.
func matchZone(zones []string, qname string) string {
	best := ""
	for _, z := range zones {
		if len(z) <= len(best) || len(qname) < len(z) || !strings.EqualFold(qname[len(qname)-len(z):], z) {
			continue
		}
		if z == "." || len(qname) == len(z) || labelEnd(qname, len(qname)-len(z)-1) {
			best = z
		}
	}
	return best
}

// labelEnd reports whether qname[i] is a dot that ends a label, not an
// escaped one ("a\.b").
func labelEnd(qname string, i int) bool {
	if qname[i] != '.' {
		return false
	}
	slashes := 0
	for j := i - 1; j >= 0 && qname[j] == '\\'; j-- {
		slashes++
	}
	return slashes%2 == 0
}
