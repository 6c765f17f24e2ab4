package podname

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	"github.com/podname/podname/plugin/podname/index"
)

// FuzzServeDNS feeds arbitrary wire messages to a populated plugin: it
// must never panic, every reply it writes must pack, and every address it
// gives must belong to the pod that answers to the name.
func FuzzServeDNS(f *testing.F) {
	for _, tc := range answerCases {
		if b, err := tc.Msg().Pack(); err == nil {
			f.Add(b)
		}
	}
	p := newTestPlugin(&testing.T{}, seedStanza+" {\n fallthrough example.org\n}", seedPods(), seedServices())
	owners := map[string]map[string]bool{} // lowercase name -> the IPs it may answer
	for _, pod := range seedPods() {
		po := project(pod).pod()
		if po == nil || !p.idx.Wants(po) {
			continue
		}
		for _, n := range []string{po.Name, po.Hostname()} {
			for key, w := range map[string]*index.Pod{n + "." + zone: p.idx.Host(n), n + ".ws." + zone: p.idx.HostIn(n, "ws")} {
				if w == nil {
					continue
				}
				if owners[key] == nil {
					owners[key] = map[string]bool{}
				}
				for _, ip := range w.IPs {
					owners[key][net.IP(ip.AsSlice()).String()] = true
				}
			}
		}
	}
	f.Fuzz(func(t *testing.T, wire []byte) {
		r := new(dns.Msg)
		if err := r.Unpack(wire); err != nil {
			return
		}
		rec := dnstest.NewRecorder(&test.ResponseWriter{})
		_, _ = p.ServeDNS(context.Background(), rec, r)
		if rec.Msg == nil {
			return
		}
		if _, err := rec.Msg.Pack(); err != nil {
			t.Fatalf("reply does not pack: %v\n%v", err, rec.Msg)
		}
		for _, rr := range rec.Msg.Answer {
			var ip net.IP
			switch rr := rr.(type) {
			case *dns.A:
				ip = rr.A
			case *dns.AAAA:
				ip = rr.AAAA
			default:
				continue
			}
			if !owners[strings.ToLower(rr.Header().Name)][ip.String()] {
				t.Fatalf("%s answered with %s, not an IP of the pod that owns the name", rr.Header().Name, ip)
			}
		}
	})
}

// FuzzParse feeds arbitrary Corefile text to the parser: an error or a
// stanza, never a panic.
func FuzzParse(f *testing.F) {
	f.Add("podname mgmt.pix.yun.com in-addr.arpa {\n kubeconfig /k ctx\n namespaces a b\n ttl 5\n}")
	f.Add("podname 10.0.0.0/8 example.org {\n labels app in (a,b)\n hostnetwork\n startup_timeout 1s\n fallthrough\n}")
	f.Add("podname . {\n endpoint http://x\n}")
	f.Add("podname example.org {\n ttl 99999999999999999999\n}")
	f.Fuzz(func(t *testing.T, corefile string) {
		c := caddy.NewTestController("dns", corefile)
		p, err := parse(c)
		if err == nil && p != nil && (len(p.Zones) == 0 || p.primary == "") {
			t.Fatalf("parsed %q to a stanza without a forward zone", corefile)
		}
	})
}
