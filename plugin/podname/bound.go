package podname

import (
	"net"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"
)

// boundIPs returns the non-loopback addresses the server is bound to (all
// of the machine's when it binds every address), the glue for ns.dns.<zone>,
// as CoreDNS's kubernetes plugin finds them.
func boundIPs(c *caddy.Controller) []net.IP {
	hosts := dnsserver.GetConfig(c).ListenHosts
	if len(hosts) == 0 || hosts[0] == "" {
		hosts = nil
		addrs, err := net.InterfaceAddrs()
		if err != nil {
			return nil
		}
		for _, a := range addrs {
			hosts = append(hosts, a.String())
		}
	}
	var ips []net.IP
	for _, h := range hosts {
		ip, _, err := net.ParseCIDR(h)
		if err != nil {
			ip = net.ParseIP(h)
		}
		if ip == nil || ip.IsLoopback() {
			continue
		}
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		ips = append(ips, ip)
	}
	return ips
}
