package podname

import (
	"net"
	"net/netip"
	"strings"
)

// boundAddrs returns the non-loopback addresses among hosts, a server
// block's ListenHosts, or among the machine's (from ifaces) when the block
// binds every address: the glue for ns.dns.<zone>, as CoreDNS's kubernetes
// plugin finds it. Hosts come as addresses or in CIDR notation.
func boundAddrs(hosts []string, ifaces func() []string) []netip.Addr {
	if len(hosts) == 0 || hosts[0] == "" {
		hosts = ifaces()
	}
	var addrs []netip.Addr
	for _, h := range hosts {
		if i := strings.IndexByte(h, '/'); i >= 0 {
			h = h[:i]
		}
		a, err := netip.ParseAddr(h)
		if err != nil || a.Zone() != "" {
			continue // not an address, or one only a link can use
		}
		if a = a.Unmap(); !a.IsLoopback() {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// interfaceAddrs lists the machine's addresses, in CIDR notation; none if
// they cannot be read.
func interfaceAddrs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		log.Warningf("no addresses for ns.dns glue: %v", err)
		return nil
	}
	hosts := make([]string, 0, len(addrs))
	for _, a := range addrs {
		hosts = append(hosts, a.String())
	}
	return hosts
}
