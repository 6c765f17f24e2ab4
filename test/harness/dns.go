package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Query asks server one question over UDP.
func Query(server, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg).SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, server)
	if err != nil {
		return nil, fmt.Errorf("query %s %s at %s: %w", dns.TypeToString[qtype], name, server, err)
	}
	return r, nil
}

// Serial is the serial of the SOA server answers for zone, or an error if it answers none.
func Serial(server, zone string) (uint32, error) {
	r, err := Query(server, zone, dns.TypeSOA)
	if err != nil {
		return 0, err
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa.Serial, nil
		}
	}
	return 0, fmt.Errorf("%s: no SOA for %s (%s)", server, zone, dns.RcodeToString[r.Rcode])
}

// Addresses returns the A or AAAA addresses of an answer.
func Addresses(r *dns.Msg) []string {
	var out []string
	for _, rr := range r.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.AAAA:
			out = append(out, rr.AAAA.String())
		}
	}
	return out
}

// Dig runs the real dig against server and returns its +short answer lines. qtype "-x" asks
// the PTR of the address name, as dig -x does.
func Dig(server, name, qtype string) ([]string, error) {
	host, port, err := net.SplitHostPort(server)
	if err != nil {
		return nil, err
	}
	args := []string{"@" + host, "-p", port, "+short", "+tries=1", "+time=2", name, qtype}
	if qtype == "-x" {
		args[len(args)-2], args[len(args)-1] = "-x", name
	}
	out, err := exec.Command("dig", args...).CombinedOutput()
	if errors.Is(err, exec.ErrNotFound) {
		return nil, errors.New("dig missing: run make deps")
	}
	if err != nil {
		return nil, fmt.Errorf("dig %s %s: %w: %s", qtype, name, err, out)
	}
	return strings.Fields(string(out)), nil
}

// WaitAnswer queries server until ok accepts the reply or ctx ends; failed
// exchanges (a server still starting) count as not yet, and the last reply
// or error is in the timeout's message.
func WaitAnswer(ctx context.Context, server, name string, qtype uint16, ok func(*dns.Msg) bool) (*dns.Msg, error) {
	var last *dns.Msg
	var lastErr error
	err := Poll(ctx, fmt.Sprintf("%s %s", dns.TypeToString[qtype], name), func() (bool, error) {
		last, lastErr = Query(server, name, qtype)
		return lastErr == nil && ok(last), nil
	})
	if err != nil {
		if lastErr != nil {
			return nil, fmt.Errorf("%w (last error: %v)", err, lastErr)
		}
		return nil, fmt.Errorf("%w (last reply: %v)", err, last)
	}
	return last, nil
}
