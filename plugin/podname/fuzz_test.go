package podname

import (
	"context"
	"maps"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	"github.com/podname/podname/plugin/podname/index"
	"github.com/podname/podname/plugin/podname/internal/kube"
	"github.com/podname/podname/plugin/podname/internal/podtest"
	api "k8s.io/api/core/v1"
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
		po := kube.Project(pod).Indexed()
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
	f.Add("podname example.org {\n ixfr_journal 100 10m\n notify_interval 2s\n}")
	f.Fuzz(func(t *testing.T, corefile string) {
		c := caddy.NewTestController("dns", corefile)
		p, err := parse(c)
		if err == nil && p != nil && (len(p.Zones) == 0 || p.primary == "") {
			t.Fatalf("parsed %q to a stanza without a forward zone", corefile)
		}
	})
}

// FuzzTransfer feeds a stanza with journals a sequence of pod and Service
// events, three bytes each, some with older versions as a relist gives
// them. At every transfer the byte stream asks for, each zone's AXFR must
// be the zone at the previous transfer plus what an IXFR from its serial
// sends. After every event, a zone's serial must move if and only if its
// records did, except that a replayed event may complete a serial no
// transfer has given out.
func FuzzTransfer(f *testing.F) {
	f.Add([]byte{0, 1, 2, 7, 0, 0, 1, 17, 3, 129, 33, 7, 7, 0, 0})
	f.Add([]byte{0, 0, 255, 1, 6, 1, 5, 0, 0, 132, 2, 2, 7, 0, 0, 6, 0, 0, 4, 0, 0, 7, 0, 0})
	f.Add([]byte{2, 70, 19, 3, 200, 44, 7, 0, 0, 130, 70, 0, 131, 201, 45, 5, 1, 0, 7, 1, 1})
	f.Fuzz(func(t *testing.T, ops []byte) {
		seed := podtest.Pod("default", "seed", []string{"10.0.0.9"}, podtest.ResourceVersion(10))
		p := newTestPlugin(t, `podname mgmt.pix.yun.com 10.0.0.0/16 in-addr.arpa ip6.arpa`, []*api.Pod{seed}, nil)
		p.zs.keepJournals(24, time.Hour) // small: overflows too
		last := map[string]zoneAt{}
		check := func() {
			for _, z := range p.Zones {
				now := axfrAt(t, p, z)
				if before, ok := last[z]; ok {
					got, _ := applyIXFR(t, before, transferred(t, p, z, before.serial))
					if got.serial != now.serial || !maps.Equal(got.rrs, now.rrs) {
						t.Fatalf("%s: AXFR at %d != AXFR at %d + IXFR (serial %d)", z, now.serial, before.serial, got.serial)
					}
				}
				last[z] = now
			}
		}
		check()
		rv, held := 10, map[string]*kube.Pod{}
		for i := 0; i+2 < len(ops); i += 3 {
			op, a, b := ops[i], ops[i+1], ops[i+2]
			rv++
			at := rv
			if op&0x80 != 0 { // replayed by a list: no newer than what came before
				at = max(rv-1-int(a%8), 1)
			}
			type state struct {
				serial uint32
				served bool
				rrs    map[string]bool
			}
			before := map[string]state{}
			for _, z := range p.Zones {
				before[z] = state{p.serial(z), p.zs.byName[z].served.Load(), zoneRecords(p, z)}
			}

			ns := []string{"default", "team-b"}[a%2]
			switch op % 8 {
			case 0, 1, 2, 3, 4:
				name := []string{"ws-0", "ws-1", "a.b", "web", "x.db", "dns"}[a/2%6]
				key := ns + "/" + name
				old, cur := held[key], (*kube.Pod)(nil)
				if op%8 != 4 {
					cur = kube.Project(fuzzPod(ns, name, a, b, at))
				} else if old != nil { // a deletion comes with its own version
					old = old.At(uint64(at))
				}
				p.onPod(old, cur)
				held[key] = cur
			case 5, 6:
				name := []string{"ws", "db", "b"}[b%3]
				if op%8 == 5 {
					p.onService(nil, serviceAt(ns, name, map[string]string{"app": []string{"ws", "db"}[b/3%2]}, uint64(at)))
				} else {
					p.onService(serviceAt(ns, name, nil, uint64(at)), nil)
				}
			case 7:
				check()
			}
			for _, z := range p.Zones {
				was, serial, rrs := before[z], p.serial(z), zoneRecords(p, z)
				switch same := maps.Equal(rrs, was.rrs); {
				case same && serial != was.serial:
					t.Fatalf("%s: serial %d -> %d, records unchanged", z, was.serial, serial)
				case !same && serial == was.serial && (was.served || at == rv):
					t.Fatalf("%s: records changed under serial %d (given out %v, replayed %v)", z, serial, was.served, at != rv)
				}
			}
		}
		check()
	})
}

// fuzzPod is a pod from a small universe, so that names, IPs and Services
// collide often.
func fuzzPod(ns, name string, a, b byte, rv int) *api.Pod {
	var ips []string
	for i, ip := range []string{"10.0.0.1", "10.0.1.2", "10.1.0.3", "fd00::1", "fd00::2"} {
		if b&(1<<i) != 0 {
			ips = append(ips, ip)
		}
	}
	return podtest.Pod(ns, name, ips, podtest.ResourceVersion(rv),
		podtest.Hostname([]string{"", "web", "ws-0", "h"}[a/16%4]),
		podtest.Labels(map[string]string{"app": []string{"ws", "db"}[b>>5&1]}),
		podtest.Created(time.Duration(a>>6)*time.Hour))
}

// zoneRecords is what an AXFR of zone holds besides its apex, read without
// counting as a transfer.
func zoneRecords(p *PodName, zone string) map[string]bool {
	z, out := p.zs.byName[zone], map[string]bool{}
	add := func(r index.Record) {
		if rr := p.rr(z, r); rr != nil {
			out[rrKey(rr)] = true
		}
	}
	if z.reverse {
		p.idx.Pointers(z.prefix, add)
	} else {
		p.idx.Addresses(add)
	}
	return out
}
