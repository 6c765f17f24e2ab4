package harness

import (
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// XFROptions say how XFR asks.
type XFROptions struct {
	Source string   // the local address to ask from; empty: the system's choice
	Key    *TSIGKey // signs the request when set
}

// XFRReply is what one zone transfer brought and what it cost.
type XFRReply struct {
	// Rcode is the server's, NOERROR unless it refused; RRs are then empty.
	Rcode int
	RRs   []dns.RR
	// Messages is how many DNS messages came; Bytes how many bytes the TCP connection carried
	// from the server, the 2-byte length before each message included.
	Messages, Bytes int
	// Elapsed is from the request to the last message.
	Elapsed time.Duration
}

// XFR sends req, an AXFR or IXFR (dns.Msg's SetAxfr or SetIxfr), to server over TCP and reads
// the transfer with miekg/dns's Transfer client. A refusal is a reply with its Rcode, not an
// error.
func XFR(server string, req *dns.Msg, o XFROptions) (XFRReply, error) {
	qtype := dns.TypeToString[req.Question[0].Qtype]
	zone := req.Question[0].Name
	d := net.Dialer{Timeout: 2 * time.Second}
	if o.Source != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(o.Source)}
	}
	conn, err := d.Dial("tcp", server)
	if err != nil {
		return XFRReply{}, fmt.Errorf("%s %s: dial %s: %w", qtype, zone, server, err)
	}
	counted := &countingConn{Conn: conn}
	// A large zone's first message waits for the whole zone to be taken and sorted.
	tr := &dns.Transfer{Conn: &dns.Conn{Conn: counted}, ReadTimeout: 10 * time.Second}
	if o.Key != nil {
		tr.TsigSecret = map[string]string{o.Key.Name: o.Key.Secret}
		req.SetTsig(o.Key.Name, dns.HmacSHA256, 300, time.Now().Unix())
	}
	start := time.Now()
	envs, err := tr.In(req, server)
	if err != nil {
		conn.Close()
		return XFRReply{}, fmt.Errorf("%s %s at %s: %w", qtype, zone, server, err)
	}
	var r XFRReply
	for env := range envs {
		if env.Error != nil {
			if msg := env.Error.Error(); strings.Contains(msg, "bad xfr rcode") {
				return XFRReply{Rcode: rcodeOf(msg)}, nil
			}
			return XFRReply{}, fmt.Errorf("%s %s at %s: %w", qtype, zone, server, env.Error)
		}
		r.Messages++
		r.RRs = append(r.RRs, env.RR...)
	}
	r.Elapsed, r.Bytes = time.Since(start), counted.read
	return r, nil
}

// countingConn counts the bytes read through it.
type countingConn struct {
	net.Conn
	read int
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read += n
	return n, err
}

// rcodeOf reads the rcode from miekg/dns's "dns: bad xfr rcode: N" error.
func rcodeOf(msg string) int {
	var n int
	if _, err := fmt.Sscanf(msg[strings.LastIndex(msg, ":")+1:], "%d", &n); err != nil {
		return -1
	}
	return n
}
