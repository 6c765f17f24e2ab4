package faults

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/harness"
)

// gone is the expectation of a name that must be NXDOMAIN.
const gone = ""

// judge checks a reply to an A question for a name in zone: NOERROR with exactly ip, or
// NXDOMAIN with the zone's SOA when ip is gone. Its error says what came instead.
func judge(r *dns.Msg, ip string) error { return judgeIn(r, zone, ip) }

// judgeIn is judge for a name in another zone than the examples' own.
func judgeIn(r *dns.Msg, zone, ip string) error {
	got := harness.Addresses(r)
	if ip == gone {
		if r.Rcode != dns.RcodeNameError || len(r.Answer) != 0 || !soaOf(r, zone) {
			return fmt.Errorf("got %s %v (authority %v), want NXDOMAIN with the SOA of %s", dns.RcodeToString[r.Rcode], got, r.Ns, zone)
		}
		return nil
	}
	if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || !slices.Equal(got, []string{ip}) {
		return fmt.Errorf("got %s %v, want NOERROR [%s]", dns.RcodeToString[r.Rcode], got, ip)
	}
	return nil
}

// soaOf reports whether the authority section is zone's SOA alone.
func soaOf(r *dns.Msg, zone string) bool {
	if len(r.Ns) != 1 {
		return false
	}
	soa, ok := r.Ns[0].(*dns.SOA)
	return ok && strings.EqualFold(soa.Hdr.Name, dns.Fqdn(zone))
}

// ask sends the A question for name to c and judges the reply against ip.
func ask(c *harness.CoreDNS, name, ip string) error { return askIn(c, zone, name, ip) }

// askIn is ask for a name in another zone than the examples' own.
func askIn(c *harness.CoreDNS, zone, name, ip string) error {
	r, err := harness.Query(c.Addr(), name, dns.TypeA)
	if err != nil {
		return err
	}
	if err := judgeIn(r, zone, ip); err != nil {
		return fmt.Errorf("A %s at %s: %w", name, c.Addr(), err)
	}
	return nil
}

// askPTR asks the PTR of reverse and wants exactly target, or NXDOMAIN if target is gone.
func askPTR(c *harness.CoreDNS, reverse, target string) error {
	r, err := harness.Query(c.Addr(), reverse, dns.TypePTR)
	if err != nil {
		return err
	}
	got := ptrTargets(r)
	if target == gone {
		if r.Rcode != dns.RcodeNameError || len(r.Answer) != 0 {
			return fmt.Errorf("PTR %s at %s: got %s %v, want NXDOMAIN", reverse, c.Addr(), dns.RcodeToString[r.Rcode], got)
		}
		return nil
	}
	if r.Rcode != dns.RcodeSuccess || !slices.Equal(got, []string{target}) {
		return fmt.Errorf("PTR %s at %s: got %s %v, want NOERROR [%s]", reverse, c.Addr(), dns.RcodeToString[r.Rcode], got, target)
	}
	return nil
}

// ptrTargets lists the PTR targets of an answer.
func ptrTargets(r *dns.Msg) []string {
	var out []string
	for _, rr := range r.Answer {
		if p, ok := rr.(*dns.PTR); ok {
			out = append(out, p.Ptr)
		}
	}
	return out
}

// waitAnswers polls every server until every name answers as want says (an IP, or gone for
// NXDOMAIN), and returns how long that took. A timeout names one name still answering wrong.
func waitAnswers(ctx context.Context, t *testing.T, servers []*harness.CoreDNS, want map[string]string) time.Duration {
	t.Helper()
	start := time.Now()
	names := slices.Sorted(maps.Keys(want))
	var last error
	err := harness.Poll(ctx, fmt.Sprintf("%d names to answer as the API says", len(want)), func() (bool, error) {
		for _, c := range servers {
			for _, name := range names {
				if last = ask(c, name, want[name]); last != nil {
					return false, nil
				}
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("%v (last: %v)", err, last)
	}
	return time.Since(start)
}

// probe asks every name of a fixed set on every server, and each server's /ready, once per
// period, until finished: during a fault, each answer must be exactly the expected IP and
// /ready must stay 200.
type probe struct {
	servers []*harness.CoreDNS
	want    map[string]string // absolute name -> its one IP
	stop    chan struct{}
	once    sync.Once
	done    chan struct{}
	res     probeResult
}

// probeResult counts what a probe saw.
type probeResult struct {
	Rounds, Queries, Wrong   int
	ReadyChecks, NotReady    int
	Elapsed                  time.Duration
	OutOfTime                bool     // the probe hit its limit before finish was called
	FirstWrong, FirstUnready []string // a few examples, with the time since the start
}

// maxExamples bounds the examples a probe keeps of each kind of failure.
const maxExamples = 10

// startProbe starts asking; limit bounds how long it may run, and t's end stops it if finish
// was never called.
func startProbe(ctx context.Context, t *testing.T, servers []*harness.CoreDNS, want map[string]string, period, limit time.Duration) *probe {
	p := &probe{servers: servers, want: maps.Clone(want), stop: make(chan struct{}), done: make(chan struct{})}
	go p.run(ctx, period, limit)
	t.Cleanup(func() { p.finish() })
	return p
}

func (p *probe) run(ctx context.Context, period, limit time.Duration) {
	defer close(p.done)
	start := time.Now()
	names := slices.Sorted(maps.Keys(p.want))
	tick := time.NewTicker(period)
	defer tick.Stop()
	maxRounds := int(limit/period) + 1
	for p.res.Rounds = 0; p.res.Rounds < maxRounds; p.res.Rounds++ {
		if time.Since(start) > limit {
			break
		}
		for _, c := range p.servers {
			for _, name := range names {
				p.res.Queries++
				if err := ask(c, name, p.want[name]); err != nil {
					p.res.Wrong++
					if len(p.res.FirstWrong) < maxExamples {
						p.res.FirstWrong = append(p.res.FirstWrong, fmt.Sprintf("%s: %v", time.Since(start).Round(time.Millisecond), err))
					}
				}
			}
			p.res.ReadyChecks++
			rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			ok, err := isReady(rctx, c)
			cancel()
			if !ok {
				p.res.NotReady++
				if len(p.res.FirstUnready) < maxExamples {
					p.res.FirstUnready = append(p.res.FirstUnready, fmt.Sprintf("%s: coredns at %s not ready (%v)", time.Since(start).Round(time.Millisecond), c.Addr(), err))
				}
			}
		}
		select {
		case <-p.stop:
			p.res.Elapsed = time.Since(start)
			return
		case <-ctx.Done():
			p.res.Elapsed = time.Since(start)
			return
		case <-tick.C:
		}
	}
	p.res.OutOfTime = true
	p.res.Elapsed = time.Since(start)
}

// finish stops the probe after its current round and returns what it saw.
func (p *probe) finish() probeResult {
	p.once.Do(func() { close(p.stop) })
	<-p.done
	return p.res
}

// check fails t if the probe saw a wrong answer or a /ready other than 200, or ran out of
// time; what names the fault for the message.
func (r probeResult) check(t *testing.T, what string) {
	t.Helper()
	if r.Wrong > 0 {
		t.Errorf("%s: %d of %d answers wrong; first ones:\n%s", what, r.Wrong, r.Queries, strings.Join(r.FirstWrong, "\n"))
	}
	if r.NotReady > 0 {
		t.Errorf("%s: /ready not 200 in %d of %d checks; first ones:\n%s", what, r.NotReady, r.ReadyChecks, strings.Join(r.FirstUnready, "\n"))
	}
	if r.OutOfTime {
		t.Errorf("%s: the probe reached its time limit (%s) before the fault ended", what, r.Elapsed.Round(time.Millisecond))
	}
	if r.Queries == 0 {
		t.Errorf("%s: the probe asked nothing", what)
	}
}

// fqdns maps pod names to absolute names in the zone, keeping the IPs.
func fqdns(ips map[string]string) map[string]string {
	out := make(map[string]string, len(ips))
	for name, ip := range ips {
		out[fqdn(name)] = ip
	}
	return out
}

// TestJudge shows the probe's judge can fail: every reply but the expected one is an error.
// It needs no cluster.
func TestJudge(t *testing.T) {
	name := fqdn("ws-0")
	reply := func(rcode int, ips ...string) *dns.Msg {
		m := new(dns.Msg).SetQuestion(name, dns.TypeA)
		m.Rcode = rcode
		for _, ip := range ips {
			rr, err := dns.NewRR(name + " 5 IN A " + ip)
			if err != nil {
				t.Fatal(err)
			}
			m.Answer = append(m.Answer, rr)
		}
		if rcode == dns.RcodeNameError {
			soa, err := dns.NewRR(dns.Fqdn(zone) + " 5 IN SOA ns.dns." + dns.Fqdn(zone) + " hostmaster." + dns.Fqdn(zone) + " 1 7200 1800 86400 5")
			if err != nil {
				t.Fatal(err)
			}
			m.Ns = []dns.RR{soa}
		}
		return m
	}
	for _, tc := range []struct {
		r    *dns.Msg
		want string
		ok   bool
	}{
		{reply(dns.RcodeSuccess, "10.0.0.1"), "10.0.0.1", true},
		{reply(dns.RcodeSuccess, "10.0.0.2"), "10.0.0.1", false},
		{reply(dns.RcodeSuccess, "10.0.0.1", "10.0.0.2"), "10.0.0.1", false},
		{reply(dns.RcodeSuccess), "10.0.0.1", false},
		{reply(dns.RcodeServerFailure), "10.0.0.1", false},
		{reply(dns.RcodeNameError), "10.0.0.1", false},
		{reply(dns.RcodeNameError), gone, true},
		{reply(dns.RcodeSuccess, "10.0.0.1"), gone, false},
		{reply(dns.RcodeServerFailure), gone, false},
	} {
		if err := judge(tc.r, tc.want); (err == nil) != tc.ok {
			t.Errorf("judge(%s %v, want %q) = %v, want ok=%v", dns.RcodeToString[tc.r.Rcode], harness.Addresses(tc.r), tc.want, err, tc.ok)
		}
	}
}
