package e2e

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/harness"
)

// ask sends one question to server with both clients, the Go client and the
// real dig, and returns the first failure of want on either reply.
func ask(server, name string, qtype uint16, want check) error {
	r, err := harness.Query(server, name, qtype)
	if err != nil {
		return err
	}
	if err := want(r); err != nil {
		return fmt.Errorf("%s %s (Go client): %w", dns.TypeToString[qtype], name, err)
	}
	r, err = digMsg(server, name, dns.TypeToString[qtype])
	if err != nil {
		return err
	}
	if err := want(r); err != nil {
		return fmt.Errorf("%s %s (dig): %w", dns.TypeToString[qtype], name, err)
	}
	return nil
}

// digMsg runs the real dig against server and rebuilds its reply as a
// dns.Msg (rcode, AA, answer and authority), so one check serves both clients.
func digMsg(server, name, qtype string) (*dns.Msg, error) {
	host, port, err := net.SplitHostPort(server)
	if err != nil {
		return nil, fmt.Errorf("dig %s %s: server %q: %w", name, qtype, server, err)
	}
	out, err := exec.Command("dig", "@"+host, "-p", port, "+noall", "+comments", "+answer", "+authority",
		"+tries=1", "+time=2", name, qtype).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("dig %s %s: %w: %s", name, qtype, err, out)
	}
	m, err := parseDig(string(out))
	if err != nil {
		return nil, fmt.Errorf("dig %s %s: %w\n%s", name, qtype, err, out)
	}
	return m, nil
}

func parseDig(out string) (*dns.Msg, error) {
	m := new(dns.Msg)
	header, section := false, ""
	for line := range strings.Lines(out) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, ";; ->>HEADER<<-"):
			_, status, ok := strings.Cut(line, "status: ")
			status, _, _ = strings.Cut(status, ",")
			rcode, known := dns.StringToRcode[status]
			if !ok || !known {
				return nil, fmt.Errorf("no status in %q", line)
			}
			m.Rcode, header = rcode, true
		case strings.HasPrefix(line, ";; flags:"):
			flags, _, _ := strings.Cut(strings.TrimPrefix(line, ";; flags:"), ";")
			m.Authoritative = slices.Contains(strings.Fields(flags), "aa")
		case strings.HasPrefix(line, ";; ") && strings.HasSuffix(line, " SECTION:"):
			section = strings.TrimSuffix(strings.TrimPrefix(line, ";; "), " SECTION:")
		case line == "" || strings.HasPrefix(line, ";"):
		default:
			rr, err := dns.NewRR(line)
			if err != nil {
				return nil, fmt.Errorf("record %q: %w", line, err)
			}
			switch section {
			case "ANSWER":
				m.Answer = append(m.Answer, rr)
			case "AUTHORITY":
				m.Ns = append(m.Ns, rr)
			default:
				return nil, fmt.Errorf("record %q outside the answer and authority sections", line)
			}
		}
	}
	if !header {
		return nil, errors.New("no header in dig's output")
	}
	return m, nil
}

// check judges a reply; its error says what is wrong with it.
type check func(*dns.Msg) error

// addresses wants NOERROR with exactly these A or AAAA addresses.
func addresses(ips ...string) check {
	return func(r *dns.Msg) error {
		got := harness.Addresses(r)
		slices.Sort(got)
		want := slices.Sorted(slices.Values(ips))
		if r.Rcode != dns.RcodeSuccess || !slices.Equal(got, want) {
			return fmt.Errorf("got %s %v, want NOERROR %v", dns.RcodeToString[r.Rcode], got, want)
		}
		return nil
	}
}

// pointer wants NOERROR with exactly one PTR to target.
func pointer(target string) check {
	return func(r *dns.Msg) error {
		var got []string
		for _, rr := range r.Answer {
			if p, ok := rr.(*dns.PTR); ok {
				got = append(got, p.Ptr)
			}
		}
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || !slices.Equal(got, []string{target}) {
			return fmt.Errorf("got %s %v, want NOERROR PTR %s", dns.RcodeToString[r.Rcode], r.Answer, target)
		}
		return nil
	}
}

// nxdomain wants NXDOMAIN, no answer, and zone's SOA in authority.
func nxdomain(zone string) check { return negative(dns.RcodeNameError, zone) }

// nodata wants NOERROR, no answer, and zone's SOA in authority.
func nodata(zone string) check { return negative(dns.RcodeSuccess, zone) }

func negative(rcode int, zone string) check {
	return func(r *dns.Msg) error {
		want := fmt.Sprintf("%s, no answer, SOA %s in authority", dns.RcodeToString[rcode], dns.Fqdn(zone))
		if r.Rcode != rcode || len(r.Answer) != 0 || len(r.Ns) != 1 {
			return fmt.Errorf("got %s answer %v authority %v, want %s", dns.RcodeToString[r.Rcode], r.Answer, r.Ns, want)
		}
		if soa, ok := r.Ns[0].(*dns.SOA); !ok || !strings.EqualFold(soa.Hdr.Name, dns.Fqdn(zone)) {
			return fmt.Errorf("got authority %v, want %s", r.Ns, want)
		}
		return nil
	}
}

// rcodeIs wants the rcode alone.
func rcodeIs(rcode int) check {
	return func(r *dns.Msg) error {
		if r.Rcode != rcode {
			return fmt.Errorf("got %s %v, want %s", dns.RcodeToString[r.Rcode], r.Answer, dns.RcodeToString[rcode])
		}
		return nil
	}
}
