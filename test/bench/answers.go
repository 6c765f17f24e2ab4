package bench

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// dnsClient asks over UDP on loopback; an answer takes well under a millisecond, so a second
// means a lost packet or a stuck server.
var dnsClient = &dns.Client{Timeout: time.Second}

// Answer is what a server said for an A query: its RCODE and addresses.
type Answer struct {
	Rcode int
	IPs   []netip.Addr
}

// AskA asks server for the A records of name.
func AskA(ctx context.Context, server, name string) (Answer, error) {
	m := new(dns.Msg).SetQuestion(dns.Fqdn(name), dns.TypeA)
	r, _, err := dnsClient.ExchangeContext(ctx, m, server)
	if err != nil {
		return Answer{}, fmt.Errorf("query A %s at %s: %w", name, server, err)
	}
	a := Answer{Rcode: r.Rcode}
	for _, rr := range r.Answer {
		if rr, ok := rr.(*dns.A); ok {
			if ip, ok := netip.AddrFromSlice(rr.A); ok {
				a.IPs = append(a.IPs, ip.Unmap())
			}
		}
	}
	return a, nil
}

// is reports whether a is exactly the one address ip.
func (a Answer) is(ip netip.Addr) bool {
	return a.Rcode == dns.RcodeSuccess && len(a.IPs) == 1 && a.IPs[0] == ip
}

// wrongFor reports whether a names an address that is not ip: a wrong answer, as opposed to one
// not there yet (NXDOMAIN) or a server not ready (SERVFAIL).
func (a Answer) wrongFor(ip netip.Addr) bool {
	for _, got := range a.IPs {
		if got != ip {
			return true
		}
	}
	return false
}

// Expect is a name and the address it must resolve to or, if Gone, the address it had before
// it must be NXDOMAIN.
type Expect struct {
	Name string
	IP   netip.Addr
	Gone bool
}

// holds reports whether a is the answer e wants.
func (e Expect) holds(a Answer) bool {
	if e.Gone {
		return a.Rcode == dns.RcodeNameError
	}
	return a.is(e.IP)
}

// want is what e wants, for a message.
func (e Expect) want() string {
	if e.Gone {
		return "NXDOMAIN"
	}
	return e.IP.String()
}

// Verified is the outcome of AwaitAnswers.
type Verified struct {
	Names int
	Wrong int      // answers that named another address
	Bad   []string // a few examples of wrong answers
}

// AwaitAnswers asks server for every name until each resolves to its address (or, Gone, is
// NXDOMAIN), with workers concurrent askers, until ctx ends. An NXDOMAIN or SERVFAIL is a name
// not there yet (an informer still filling up), the old address one not gone yet; an answer with
// another address is counted as wrong.
func AwaitAnswers(ctx context.Context, server string, want []Expect, workers int) (Verified, error) {
	res := Verified{Names: len(want)}
	var mu sync.Mutex
	var wrong atomic.Int64
	pending := want
	for round := 0; len(pending) > 0; round++ {
		if round > 0 {
			select {
			case <-ctx.Done():
				res.Wrong = int(wrong.Load())
				e := pending[0]
				return res, fmt.Errorf("%d of %d names at %s never answered right (first: %s, want %s): %w",
					len(pending), len(want), server, e.Name, e.want(), ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
		var next []Expect
		var wg sync.WaitGroup
		work := make(chan Expect)
		for range workers {
			wg.Go(func() {
				for e := range work {
					a, err := AskA(ctx, server, e.Name)
					ok := err == nil && e.holds(a)
					if err == nil && a.wrongFor(e.IP) {
						wrong.Add(1)
						mu.Lock()
						if len(res.Bad) < 5 {
							res.Bad = append(res.Bad, fmt.Sprintf("%s: got %v, want %s", e.Name, a.IPs, e.want()))
						}
						mu.Unlock()
					}
					if !ok {
						mu.Lock()
						next = append(next, e)
						mu.Unlock()
					}
				}
			})
		}
		for _, e := range pending {
			work <- e
		}
		close(work)
		wg.Wait()
		pending = next
	}
	res.Wrong = int(wrong.Load())
	return res, nil
}
