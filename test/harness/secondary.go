package harness

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Secondary is a real DNS server, BIND's named or Knot's knotd, on an address of the test's,
// following zones from a primary by AXFR and IXFR, and told of changes by NOTIFY.
type Secondary struct {
	*Process
	Kind string // "bind" or "knot"
	Addr string // host:port it answers on
}

// SecondaryOptions say what a Secondary follows and how.
type SecondaryOptions struct {
	Addr    string   // host:port to answer on
	Primary string   // host:port of the primary; NOTIFY is accepted from its host
	Zones   []string // the zones it follows
	Key     *TSIGKey // signs its transfer requests when set
	// Zone files it serves as primary itself, by zone: the company DNS of a shared zone.
	Own map[string]string
}

// TSIGKey is a shared secret for TSIG (RFC 8945), HMAC-SHA256.
type TSIGKey struct {
	Name   string // an absolute domain name, e.g. "xfr.podname."
	Secret string // base64
}

// StartBIND writes a named.conf into dir and starts named on it in the foreground. Its log has
// the xfer-in category at debug level 3, where named says whether a transfer was incremental.
func StartBIND(dir string, o SecondaryOptions) (*Secondary, error) {
	host, port, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("bind address %q: %w", o.Addr, err)
	}
	phost, pport, err := net.SplitHostPort(o.Primary)
	if err != nil && len(o.Zones) > 0 {
		return nil, fmt.Errorf("primary address %q: %w", o.Primary, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `options {
	directory %q;
	listen-on port %s { %s; };
	listen-on-v6 { none; };
	pid-file %q;
	session-keyfile %q;
	managed-keys-directory %q;
	recursion no;
	notify no;
	dnssec-validation no;
	allow-query { any; };
};
logging {
	channel out { stderr; severity debug 3; print-time yes; print-category yes; };
	category default { out; };
	category xfer-in { out; };
	category notify { out; };
};
`, dir, port, host, filepath.Join(dir, "named.pid"), filepath.Join(dir, "session.key"), dir)
	keyClause := ""
	if o.Key != nil {
		fmt.Fprintf(&b, "key %q { algorithm hmac-sha256; secret %q; };\n", o.Key.Name, o.Key.Secret)
		keyClause = fmt.Sprintf(" key %q", o.Key.Name)
	}
	for _, z := range o.Zones {
		fmt.Fprintf(&b, "zone %q { type secondary; primaries { %s port %s%s; }; file %q; };\n",
			dns.Fqdn(z), phost, pport, keyClause, filepath.Join(dir, strings.TrimSuffix(z, ".")+".db"))
	}
	for z, text := range o.Own {
		file := filepath.Join(dir, strings.TrimSuffix(z, ".")+".own.db")
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			return nil, fmt.Errorf("write zone file of %s: %w", z, err)
		}
		fmt.Fprintf(&b, "zone %q { type primary; file %q; };\n", dns.Fqdn(z), file)
	}
	conf := filepath.Join(dir, "named.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		return nil, fmt.Errorf("write named.conf: %w", err)
	}
	p, err := Run(dir, "named", exec.Command("named", "-f", "-u", "root", "-c", conf))
	if err != nil {
		return nil, err
	}
	return &Secondary{Process: p, Kind: "bind", Addr: o.Addr}, nil
}

// StartKnot writes a knot.conf into dir and starts knotd on it.
func StartKnot(dir string, o SecondaryOptions) (*Secondary, error) {
	host, port, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("knot address %q: %w", o.Addr, err)
	}
	phost, pport, err := net.SplitHostPort(o.Primary)
	if err != nil {
		return nil, fmt.Errorf("primary address %q: %w", o.Primary, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "server:\n    rundir: %q\n    listen: %s@%s\nlog:\n  - target: stderr\n    any: info\n", dir, host, port)
	fmt.Fprintf(&b, "database:\n    storage: %q\n", dir)
	keyLine := ""
	if o.Key != nil {
		fmt.Fprintf(&b, "key:\n  - id: %s\n    algorithm: hmac-sha256\n    secret: %s\n", o.Key.Name, o.Key.Secret)
		keyLine = "    key: " + o.Key.Name + "\n"
	}
	fmt.Fprintf(&b, "remote:\n  - id: primary\n    address: %s@%s\n%s", phost, pport, keyLine)
	fmt.Fprintf(&b, "acl:\n  - id: notify\n    address: %s\n    action: notify\n", phost)
	fmt.Fprintf(&b, "template:\n  - id: default\n    storage: %q\nzone:\n", dir)
	for _, z := range o.Zones {
		fmt.Fprintf(&b, "  - domain: %s\n    master: primary\n    acl: notify\n", dns.Fqdn(z))
	}
	conf := filepath.Join(dir, "knot.conf")
	if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
		return nil, fmt.Errorf("write knot.conf: %w", err)
	}
	p, err := Run(dir, "knotd", exec.Command("knotd", "-c", conf))
	if err != nil {
		return nil, err
	}
	return &Secondary{Process: p, Kind: "knot", Addr: o.Addr}, nil
}

// Serial is the serial of the SOA s answers for zone, or an error if it answers none.
func (s *Secondary) Serial(zone string) (uint32, error) {
	n, err := Serial(s.Addr, zone)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", s.Kind, err)
	}
	return n, nil
}

// WaitSerial waits until s serves zone at serial, or at a later one (RFC 1982).
func (s *Secondary) WaitSerial(ctx context.Context, zone string, serial uint32) error {
	var last uint32
	var lastErr error
	err := Poll(ctx, fmt.Sprintf("%s to serve %s at serial %d", s.Kind, zone, serial), func() (bool, error) {
		if s.Exited() {
			return false, fmt.Errorf("%s exited: %v\n%s", s.Kind, s.ExitError(), LastLines(s.Log(), 20))
		}
		last, lastErr = s.Serial(zone)
		return lastErr == nil && int32(last-serial) >= 0, nil
	})
	if err != nil {
		return fmt.Errorf("%w (last serial %d, %v)", err, last, lastErr)
	}
	return nil
}

// Transfer is one incoming zone transfer a secondary logged.
type Transfer struct {
	Zone        string
	Incremental bool // an IXFR that came as one, not a full zone
	// What named counted once the transfer completed: DNS messages, records and their bytes
	// (without TCP's 2-byte lengths). Zero for Knot, and for a transfer named has not finished.
	Messages, Records, Bytes int
}

var (
	// named at debug 3: "transfer of 'ZONE/IN' from ...: got incremental response" (or nonincremental).
	bindTransfer = regexp.MustCompile(`transfer of '([^/]+)/IN' from \S+: got (non)?incremental response`)
	// and once it is over: "transfer of 'ZONE/IN' from ...: Transfer completed: 1 messages, 4 records, 306 bytes, ..."
	bindCompleted = regexp.MustCompile(`transfer of '([^/]+)/IN' from \S+: Transfer completed: (\d+) messages, (\d+) records, (\d+) bytes`)
	// knotd: "[ZONE.] IXFR, incoming, remote ..., finished" or "[ZONE.] AXFR, incoming, ..., finished".
	knotTransfer = regexp.MustCompile(`\[([^\]]+)\] (IXFR|AXFR), incoming, remote \S+, finished`)
)

// Transfers lists the transfers s has logged so far, oldest first.
func (s *Secondary) Transfers() []Transfer {
	var out []Transfer
	for line := range strings.Lines(s.Log()) {
		switch s.Kind {
		case "bind":
			if m := bindTransfer.FindStringSubmatch(line); m != nil {
				out = append(out, Transfer{Zone: dns.Fqdn(m[1]), Incremental: m[2] == ""})
			}
			// The counts close the zone's last transfer; named transfers one zone at a time.
			if m := bindCompleted.FindStringSubmatch(line); m != nil {
				for i := len(out) - 1; i >= 0; i-- {
					if out[i].Zone == dns.Fqdn(m[1]) {
						if out[i].Messages == 0 {
							out[i].Messages, _ = strconv.Atoi(m[2])
							out[i].Records, _ = strconv.Atoi(m[3])
							out[i].Bytes, _ = strconv.Atoi(m[4])
						}
						break
					}
				}
			}
		case "knot":
			if m := knotTransfer.FindStringSubmatch(line); m != nil {
				out = append(out, Transfer{Zone: dns.Fqdn(m[1]), Incremental: m[2] == "IXFR"})
			}
		}
	}
	return out
}
