package podname

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
)

const zone = "mgmt.pix.yun.com."

var (
	soa    = test.SOA(zone + " 5 IN SOA ns.dns." + zone + " hostmaster." + zone + " 0 7200 1800 86400 5")
	soaRev = test.SOA("in-addr.arpa. 5 IN SOA ns.dns.in-addr.arpa. hostmaster.in-addr.arpa. 0 7200 1800 86400 5")
	soa6   = test.SOA("ip6.arpa. 5 IN SOA ns.dns.ip6.arpa. hostmaster.ip6.arpa. 0 7200 1800 86400 5")
)

const seedStanza = `podname mgmt.pix.yun.com in-addr.arpa ip6.arpa`

var answerCases = []test.Case{
	// <host>.<zone> and <host>.<svc>.<zone>
	{Qname: "ws-777779bd59-ftn4j." + zone, Qtype: dns.TypeA,
		Answer: []dns.RR{test.A("ws-777779bd59-ftn4j." + zone + " 5 IN A 10.36.0.1")}},
	{Qname: "ws-777779bd59-nnppt." + zone, Qtype: dns.TypeA,
		Answer: []dns.RR{test.A("ws-777779bd59-nnppt." + zone + " 5 IN A 10.32.0.5")}},
	{Qname: "ws-777779bd59-ftn4j.ws." + zone, Qtype: dns.TypeA,
		Answer: []dns.RR{test.A("ws-777779bd59-ftn4j.ws." + zone + " 5 IN A 10.36.0.1")}},
	// dual stack
	{Qname: "dual-0." + zone, Qtype: dns.TypeA, Answer: []dns.RR{test.A("dual-0." + zone + " 5 IN A 10.36.0.9")}},
	{Qname: "dual-0." + zone, Qtype: dns.TypeAAAA, Answer: []dns.RR{test.AAAA("dual-0." + zone + " 5 IN AAAA fd00::9")}},
	{Qname: "dual-0.ws." + zone, Qtype: dns.TypeAAAA, Answer: []dns.RR{test.AAAA("dual-0.ws." + zone + " 5 IN AAAA fd00::9")}},
	{Qname: "dual-0." + zone, Qtype: dns.TypeANY, Answer: []dns.RR{
		test.A("dual-0." + zone + " 5 IN A 10.36.0.9"), test.AAAA("dual-0." + zone + " 5 IN AAAA fd00::9")}},
	{Qname: "v6-0." + zone, Qtype: dns.TypeAAAA, Answer: []dns.RR{test.AAAA("v6-0." + zone + " 5 IN AAAA fd00::10")}},
	{Qname: "v6-0." + zone, Qtype: dns.TypeA, Ns: []dns.RR{soa}},
	// NODATA: the name exists, not the type
	{Qname: "ws-777779bd59-ftn4j." + zone, Qtype: dns.TypeAAAA, Ns: []dns.RR{soa}},
	{Qname: "ws-777779bd59-ftn4j." + zone, Qtype: dns.TypeTXT, Ns: []dns.RR{soa}},
	{Qname: "ws-777779bd59-ftn4j." + zone, Qtype: dns.TypeMX, Ns: []dns.RR{soa}},
	{Qname: "ws-777779bd59-ftn4j." + zone, Qtype: dns.TypeSRV, Ns: []dns.RR{soa}},
	{Qname: "ws-777779bd59-ftn4j.ws." + zone, Qtype: dns.TypeTXT, Ns: []dns.RR{soa}},
	// empty non-terminals are NODATA, never NXDOMAIN (RFC 8020)
	{Qname: "ws." + zone, Qtype: dns.TypeA, Ns: []dns.RR{soa}},
	{Qname: "b." + zone, Qtype: dns.TypeA, Ns: []dns.RR{soa}},
	{Qname: "dns." + zone, Qtype: dns.TypeA, Ns: []dns.RR{soa}},
	{Qname: "a.b." + zone, Qtype: dns.TypeA, Answer: []dns.RR{test.A("a.b." + zone + " 5 IN A 10.36.0.20")}},
	// NXDOMAIN with the SOA
	{Qname: "nope." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
	{Qname: "nope.ws." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
	{Qname: "ws-777779bd59-ftn4j.nosvc." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
	{Qname: "empty." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
	{Qname: "web.ws." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}}, // not selected
	{Qname: "x.ws-777779bd59-ftn4j." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
	// pods that are not indexed
	{Qname: "gone." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
	{Qname: "done." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
	{Qname: "crashed." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
	{Qname: "pending." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
	{Qname: "hn-agent." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
	// kubelet hostnames: spec.hostname, hostnameOverride, truncation
	{Qname: "web." + zone, Qtype: dns.TypeA, Answer: []dns.RR{test.A("web." + zone + " 5 IN A 10.36.0.11")}},
	{Qname: "web-5d8f-abcde." + zone, Qtype: dns.TypeA, Answer: []dns.RR{test.A("web-5d8f-abcde." + zone + " 5 IN A 10.36.0.11")}},
	{Qname: "legacy-host." + zone, Qtype: dns.TypeA, Answer: []dns.RR{test.A("legacy-host." + zone + " 5 IN A 10.36.0.12")}},
	{Qname: "ws-777779bd59-ftn4j.WS." + zone, Qtype: dns.TypeA,
		Answer: []dns.RR{test.A("ws-777779bd59-ftn4j.WS." + zone + " 5 IN A 10.36.0.1")}},
	{Qname: longLabel[:63] + "." + zone, Qtype: dns.TypeA,
		Answer: []dns.RR{test.A(longLabel[:63] + "." + zone + " 5 IN A 10.36.0.13")}},
	// case is echoed
	{Qname: "WS-777779bd59-FTN4J.Mgmt.Pix.Yun.Com.", Qtype: dns.TypeA,
		Answer: []dns.RR{test.A("WS-777779bd59-FTN4J.Mgmt.Pix.Yun.Com. 5 IN A 10.36.0.1")}},
	{Qname: "Nope.Mgmt.Pix.Yun.Com.", Qtype: dns.TypeA, Rcode: dns.RcodeNameError,
		Ns: []dns.RR{test.SOA("Mgmt.Pix.Yun.Com. 5 IN SOA ns.dns." + zone + " hostmaster." + zone + " 0 7200 1800 86400 5")}},
	// apex
	{Qname: zone, Qtype: dns.TypeSOA, Answer: []dns.RR{soa}},
	{Qname: zone, Qtype: dns.TypeNS, Answer: []dns.RR{test.NS(zone + " 5 IN NS ns.dns." + zone)}},
	{Qname: zone, Qtype: dns.TypeA, Ns: []dns.RR{soa}},
	{Qname: zone, Qtype: dns.TypeDS, Ns: []dns.RR{soa}},
	{Qname: "ns.dns." + zone, Qtype: dns.TypeA, Ns: []dns.RR{soa}}, // bound to loopback only: no address
	// PTR
	{Qname: "1.0.36.10.in-addr.arpa.", Qtype: dns.TypePTR,
		Answer: []dns.RR{test.PTR("1.0.36.10.in-addr.arpa. 5 IN PTR ws-777779bd59-ftn4j." + zone)}},
	{Qname: "11.0.36.10.in-addr.arpa.", Qtype: dns.TypePTR,
		Answer: []dns.RR{test.PTR("11.0.36.10.in-addr.arpa. 5 IN PTR web." + zone)}},
	{Qname: "12.0.36.10.in-addr.arpa.", Qtype: dns.TypePTR,
		Answer: []dns.RR{test.PTR("12.0.36.10.in-addr.arpa. 5 IN PTR legacy-host." + zone)}},
	{Qname: "13.0.36.10.in-addr.arpa.", Qtype: dns.TypePTR,
		Answer: []dns.RR{test.PTR("13.0.36.10.in-addr.arpa. 5 IN PTR " + longLabel[:63] + "." + zone)}},
	{Qname: "9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", Qtype: dns.TypePTR,
		Answer: []dns.RR{test.PTR("9.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 5 IN PTR dual-0." + zone)}},
	{Qname: "1.0.36.10.IN-ADDR.ARPA.", Qtype: dns.TypePTR,
		Answer: []dns.RR{test.PTR("1.0.36.10.IN-ADDR.ARPA. 5 IN PTR ws-777779bd59-ftn4j." + zone)}},
	{Qname: "1.0.36.10.in-addr.arpa.", Qtype: dns.TypeA, Ns: []dns.RR{soaRev}},
	{Qname: "36.10.in-addr.arpa.", Qtype: dns.TypePTR, Ns: []dns.RR{soaRev}},
	{Qname: "10.in-addr.arpa.", Qtype: dns.TypeNS, Ns: []dns.RR{soaRev}},
	{Qname: "d.f.ip6.arpa.", Qtype: dns.TypePTR, Ns: []dns.RR{soa6}},
	{Qname: "2.0.36.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{soaRev}},
	{Qname: "10.2.0.192.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{soaRev}}, // hostNetwork
	{Qname: "01.0.36.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{soaRev}},
	{Qname: "x.1.0.36.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{soaRev}},
	{Qname: "in-addr.arpa.", Qtype: dns.TypeSOA, Answer: []dns.RR{soaRev}},
	// conflicts: default's pod is older than team-b's
	{Qname: "ws-777779bd59-ftn4j." + zone, Qtype: dns.TypeA,
		Answer: []dns.RR{test.A("ws-777779bd59-ftn4j." + zone + " 5 IN A 10.36.0.1")}},
	{Qname: "1.0.40.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{soaRev}},
	// outside every zone: the next plugin
	{Qname: "example.org.", Qtype: dns.TypeA, Rcode: dns.RcodeNotAuth},
	{Qname: "pix.yun.com.", Qtype: dns.TypeA, Rcode: dns.RcodeNotAuth},
}

func TestServeDNS(t *testing.T) {
	p := newTestPlugin(t, seedStanza, seedPods(), seedServices())
	runCases(t, p, answerCases)
}

func runCases(t *testing.T, p *PodName, cases []test.Case) {
	t.Helper()
	for _, tc := range cases {
		t.Run(dns.TypeToString[tc.Qtype]+" "+tc.Qname, func(t *testing.T) {
			rec := dnstest.NewRecorder(&test.ResponseWriter{})
			if _, err := p.ServeDNS(context.Background(), rec, tc.Msg()); err != nil {
				t.Fatalf("ServeDNS: %v", err)
			}
			if rec.Msg == nil {
				t.Fatal("no reply written")
			}
			if err := test.SortAndCheck(rec.Msg, tc); err != nil {
				t.Fatal(err)
			}
			if tc.Rcode != dns.RcodeNotAuth && !rec.Msg.Authoritative {
				t.Error("reply is not authoritative")
			}
		})
	}
}

func TestSOAFields(t *testing.T) {
	pods := seedPods()
	for i, pod := range pods {
		pod.ResourceVersion = strconv.Itoa(40 + i)
	}
	p := newTestPlugin(t, seedStanza+` {
	ttl 600
}`, pods, nil)
	want := uint32(40 + len(pods) - 1) // the newest listed version
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	m := new(dns.Msg).SetQuestion(zone, dns.TypeSOA)
	if _, err := p.ServeDNS(context.Background(), rec, m); err != nil {
		t.Fatal(err)
	}
	got := rec.Msg.Answer[0].(*dns.SOA)
	if got.Hdr.Ttl != 300 || got.Minttl != 600 || got.Refresh != 7200 || got.Retry != 1800 || got.Expire != 86400 ||
		got.Mbox != "hostmaster."+zone || got.Serial != want {
		t.Fatalf("SOA %v: want TTL 300, minimum 600, serial %d", got, want)
	}
}

func TestNSGlue(t *testing.T) {
	p := newTestPlugin(t, seedStanza, nil, nil)
	p.localIPs = []netip.Addr{netip.MustParseAddr("192.0.2.53"), netip.MustParseAddr("2001:db8::53")}
	runCases(t, p, []test.Case{
		{Qname: zone, Qtype: dns.TypeNS,
			Answer: []dns.RR{test.NS(zone + " 5 IN NS ns.dns." + zone)},
			Extra: []dns.RR{test.A("ns.dns." + zone + " 5 IN A 192.0.2.53"),
				test.AAAA("ns.dns." + zone + " 5 IN AAAA 2001:db8::53")}},
		{Qname: "ns.dns." + zone, Qtype: dns.TypeA, Answer: []dns.RR{test.A("ns.dns." + zone + " 5 IN A 192.0.2.53")}},
		{Qname: "NS.dns." + zone, Qtype: dns.TypeAAAA, Answer: []dns.RR{test.AAAA("NS.dns." + zone + " 5 IN AAAA 2001:db8::53")}},
		{Qname: "ns.dns." + zone, Qtype: dns.TypeTXT, Ns: []dns.RR{soa}},
	})
}

func TestFallthrough(t *testing.T) {
	p := newTestPlugin(t, seedStanza+` {
	fallthrough
}`, seedPods(), seedServices())
	runCases(t, p, []test.Case{
		{Qname: "nope." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNotAuth},
		{Qname: "2.0.36.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNotAuth},
		{Qname: "ws." + zone, Qtype: dns.TypeA, Ns: []dns.RR{soa}}, // NODATA is an answer
		{Qname: "ws-777779bd59-ftn4j." + zone, Qtype: dns.TypeAAAA, Ns: []dns.RR{soa}},
		{Qname: "ws-777779bd59-ftn4j." + zone, Qtype: dns.TypeA,
			Answer: []dns.RR{test.A("ws-777779bd59-ftn4j." + zone + " 5 IN A 10.36.0.1")}},
	})
	p = newTestPlugin(t, seedStanza+` {
	fallthrough in-addr.arpa
}`, seedPods(), seedServices())
	runCases(t, p, []test.Case{
		{Qname: "nope." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "2.0.36.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNotAuth},
	})
}

func TestBeforeSync(t *testing.T) {
	p := newTestPlugin(t, seedStanza, seedPods()[:1], seedServices())
	p.synced.Store(false)
	runCases(t, p, []test.Case{
		{Qname: "ws-777779bd59-ftn4j." + zone, Qtype: dns.TypeA,
			Answer: []dns.RR{test.A("ws-777779bd59-ftn4j." + zone + " 5 IN A 10.36.0.1")}},
		{Qname: "ws-777779bd59-ftn4j." + zone, Qtype: dns.TypeAAAA, Ns: []dns.RR{soa}},
		{Qname: zone, Qtype: dns.TypeSOA, Answer: []dns.RR{soa}},
		{Qname: "ws-777779bd59-nnppt." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeServerFailure, Ns: []dns.RR{soa}},
		{Qname: "2.0.36.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeServerFailure, Ns: []dns.RR{soaRev}},
	})
	p = newTestPlugin(t, seedStanza+` {
	fallthrough
}`, nil, nil)
	p.synced.Store(false)
	runCases(t, p, []test.Case{{Qname: "ws-777779bd59-nnppt." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNotAuth}})
}

func TestNamespacesPriority(t *testing.T) {
	p := newTestPlugin(t, seedStanza+` {
	namespaces team-b default
}`, seedPods(), seedServices())
	runCases(t, p, []test.Case{
		{Qname: "ws-777779bd59-ftn4j." + zone, Qtype: dns.TypeA,
			Answer: []dns.RR{test.A("ws-777779bd59-ftn4j." + zone + " 5 IN A 10.40.0.1")}},
		// the Service ws is in default: its member keeps the service form
		{Qname: "ws-777779bd59-ftn4j.ws." + zone, Qtype: dns.TypeA,
			Answer: []dns.RR{test.A("ws-777779bd59-ftn4j.ws." + zone + " 5 IN A 10.36.0.1")}},
		{Qname: "1.0.40.10.in-addr.arpa.", Qtype: dns.TypePTR,
			Answer: []dns.RR{test.PTR("1.0.40.10.in-addr.arpa. 5 IN PTR ws-777779bd59-ftn4j." + zone)}},
		{Qname: "1.0.36.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{soaRev}},
	})
	p = newTestPlugin(t, seedStanza+` {
	namespaces team-b
}`, seedPods(), seedServices())
	runCases(t, p, []test.Case{
		{Qname: "ws-777779bd59-nnppt." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "ws-777779bd59-ftn4j.ws." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "2.0.32.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{soaRev}},
	})
}

func TestHostNetwork(t *testing.T) {
	p := newTestPlugin(t, seedStanza+` {
	hostnetwork
}`, seedPods(), seedServices())
	runCases(t, p, []test.Case{
		{Qname: "hn-agent." + zone, Qtype: dns.TypeA, Answer: []dns.RR{test.A("hn-agent." + zone + " 5 IN A 192.0.2.10")}},
		{Qname: "node-1." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "hn-agent.ws." + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: "10.2.0.192.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNameError, Ns: []dns.RR{soaRev}},
	})
}

func TestNarrowReverseZone(t *testing.T) {
	p := newTestPlugin(t, `podname mgmt.pix.yun.com 10.36.0.0/16 {
	fallthrough 10.in-addr.arpa
}`, seedPods(), nil)
	runCases(t, p, []test.Case{
		{Qname: "1.0.36.10.in-addr.arpa.", Qtype: dns.TypePTR,
			Answer: []dns.RR{test.PTR("1.0.36.10.in-addr.arpa. 5 IN PTR ws-777779bd59-ftn4j." + zone)}},
		{Qname: "5.0.32.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNotAuth}, // outside 36.10
		{Qname: "200.0.36.10.in-addr.arpa.", Qtype: dns.TypePTR, Rcode: dns.RcodeNotAuth},
	})
}

func TestRefusedAndMalformed(t *testing.T) {
	p := newTestPlugin(t, seedStanza, seedPods(), nil)
	for _, m := range []*dns.Msg{
		new(dns.Msg).SetQuestion(zone, dns.TypeAXFR),
		new(dns.Msg).SetQuestion(zone, dns.TypeIXFR),
		func() *dns.Msg {
			m := new(dns.Msg).SetQuestion("ws-777779bd59-ftn4j."+zone, dns.TypeA)
			m.Question[0].Qclass = dns.ClassCHAOS
			return m
		}(),
	} {
		rec := dnstest.NewRecorder(&test.ResponseWriter{})
		rcode, err := p.ServeDNS(context.Background(), rec, m)
		if rcode != dns.RcodeRefused || err != nil {
			t.Errorf("%v: rcode %s, %v; want REFUSED for the server to write", m.Question[0], dns.RcodeToString[rcode], err)
		}
	}
	rec := dnstest.NewRecorder(&test.ResponseWriter{})
	if rcode, _ := p.ServeDNS(context.Background(), rec, new(dns.Msg)); rcode != dns.RcodeNotAuth {
		t.Errorf("no question: rcode %s, want the next plugin", dns.RcodeToString[rcode])
	}
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 44) + "." + zone
	if _, ok := dns.IsDomainName(long); !ok {
		t.Fatal("fixture name is not a valid name")
	}
	runCases(t, p, []test.Case{
		{Qname: long, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
		{Qname: `a\.b.` + zone, Qtype: dns.TypeA, Rcode: dns.RcodeNameError, Ns: []dns.RR{soa}},
	})
}
