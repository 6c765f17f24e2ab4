package podname

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/plugin"

	"github.com/miekg/dns"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

const (
	defaultTTL            = 5
	maxTTL                = 3600
	defaultStartupTimeout = 5 * time.Second
)

// parse reads the one podname stanza of a server block.
func parse(c *caddy.Controller) (*PodName, error) {
	var p *PodName
	for c.Next() {
		if p != nil {
			return nil, plugin.ErrOnce
		}
		var err error
		if p, err = parseStanza(c); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func parseStanza(c *caddy.Controller) (*PodName, error) {
	p := &PodName{ttl: defaultTTL, startupTimeout: defaultStartupTimeout, xfrOpts: defaultTransferOptions()}
	zones, err := parseZones(c.RemainingArgs(), c.ServerBlockKeys)
	if err != nil {
		return nil, c.Errf("%v", err)
	}
	p.Zones = zones
	p.primary = primaryZone(zones)
	seen := map[string]bool{}
	for c.NextBlock() {
		opt := c.Val()
		parseOption, ok := options[opt]
		if !ok {
			return nil, c.Errf("unknown property '%s'", opt)
		}
		if seen[opt] {
			return nil, c.Errf("%s: given twice", opt)
		}
		seen[opt] = true
		if err := parseOption(c, p); err != nil {
			return nil, err
		}
	}
	if p.conn.Kubeconfig != "" && p.conn.Endpoint != "" {
		return nil, c.Errf("kubeconfig and endpoint: set one, not both")
	}
	return p, nil
}

// options maps each property to its parser; each reads its own arguments.
var options = map[string]func(*caddy.Controller, *PodName) error{
	"kubeconfig":      parseKubeconfig,
	"endpoint":        parseEndpoint,
	"namespaces":      parseNamespaces,
	"labels":          parseLabels,
	"ttl":             parseTTL,
	"hostnetwork":     parseHostNetwork,
	"startup_timeout": parseStartupTimeout,
	"fallthrough":     parseFallthrough,
	"ixfr_journal":    parseJournal,
	"notify_interval": parseNotifyInterval,
}

func parseKubeconfig(c *caddy.Controller, p *PodName) error {
	args := c.RemainingArgs()
	if len(args) != 1 && len(args) != 2 {
		return argErr(c, "kubeconfig", "KUBECONFIG [CONTEXT]")
	}
	p.conn.Kubeconfig = args[0]
	if len(args) == 2 {
		p.conn.Context = args[1]
	}
	return nil
}

func parseEndpoint(c *caddy.Controller, p *PodName) error {
	args := c.RemainingArgs()
	if len(args) != 1 {
		return argErr(c, "endpoint", "URL")
	}
	u, err := url.Parse(args[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c.Errf("endpoint: %q is not an http(s) URL", args[0])
	}
	p.conn.Endpoint = args[0]
	return nil
}

func parseNamespaces(c *caddy.Controller, p *PodName) error {
	args := c.RemainingArgs()
	if len(args) == 0 {
		return argErr(c, "namespaces", "NAMESPACE...")
	}
	for _, ns := range args {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return c.Errf("namespaces: %q is not a namespace name: %s", ns, strings.Join(errs, "; "))
		}
	}
	p.opts.Namespaces = args
	return nil
}

func parseLabels(c *caddy.Controller, p *PodName) error {
	args := c.RemainingArgs()
	if len(args) == 0 {
		return argErr(c, "labels", "EXPRESSION")
	}
	sel, err := labels.Parse(strings.Join(args, " "))
	if err != nil {
		return c.Errf("labels: %v", err)
	}
	p.selector = sel.String()
	return nil
}

func parseTTL(c *caddy.Controller, p *PodName) error {
	args := c.RemainingArgs()
	if len(args) != 1 {
		return argErr(c, "ttl", "SECONDS")
	}
	ttl, err := strconv.Atoi(args[0])
	if err != nil || ttl < 0 || ttl > maxTTL {
		return c.Errf("ttl: %q is not a number of seconds from 0 to %d", args[0], maxTTL)
	}
	p.ttl = uint32(ttl)
	return nil
}

func parseHostNetwork(c *caddy.Controller, p *PodName) error {
	if len(c.RemainingArgs()) != 0 {
		return argErr(c, "hostnetwork", "no arguments")
	}
	p.opts.HostNetwork = true
	return nil
}

func parseStartupTimeout(c *caddy.Controller, p *PodName) error {
	args := c.RemainingArgs()
	if len(args) != 1 {
		return argErr(c, "startup_timeout", "DURATION")
	}
	d, err := time.ParseDuration(args[0])
	if err != nil || d < 0 {
		return c.Errf("startup_timeout: %q is not a duration such as 5s", args[0])
	}
	p.startupTimeout = d
	return nil
}

func parseFallthrough(c *caddy.Controller, p *PodName) error {
	args := c.RemainingArgs()
	for _, z := range args {
		if _, ok := dns.IsDomainName(z); !ok {
			return c.Errf("fallthrough: %q is not a zone", z)
		}
	}
	p.Fall.SetZonesFromArgs(args)
	return nil
}

// argErr is a wrong argument count, naming the option and what it takes.
func argErr(c *caddy.Controller, opt, takes string) error {
	return c.Errf("%s: wrong number of arguments; it takes %s", opt, takes)
}
