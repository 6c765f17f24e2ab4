package harness

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/miekg/dns"
)

// TestXFR transfers a zone of three messages from an in-process server and counts what came,
// and gets the rcode of a refusal.
func TestXFR(t *testing.T) {
	soa := &dns.SOA{Hdr: dns.RR_Header{Name: "z.", Rrtype: dns.TypeSOA, Class: dns.ClassINET}, Ns: "ns.z.", Mbox: "h.z.", Serial: 7}
	a := func(name string) dns.RR {
		return &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET}, A: net.IPv4(10, 0, 0, 1)}
	}
	messages := [][]dns.RR{{soa, a("a.z.")}, {a("b.z.")}, {a("c.z."), soa}}
	reply := func(r *dns.Msg, rrs []dns.RR) *dns.Msg {
		m := new(dns.Msg).SetReply(r)
		m.Answer = rrs
		return m
	}
	// What the server sends: each message after its 2-byte length.
	sent := 0
	for _, rrs := range messages {
		b, err := reply(new(dns.Msg).SetAxfr("z."), rrs).Pack()
		if err != nil {
			t.Fatal(err)
		}
		sent += 2 + len(b)
	}
	mux := dns.NewServeMux()
	mux.HandleFunc("z.", func(w dns.ResponseWriter, r *dns.Msg) {
		for _, rrs := range messages {
			if err := w.WriteMsg(reply(r, rrs)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	mux.HandleFunc("refused.", func(w dns.ResponseWriter, r *dns.Msg) {
		_ = w.WriteMsg(new(dns.Msg).SetRcode(r, dns.RcodeRefused))
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{Listener: l, Handler: mux}
	go srv.ActivateAndServe()
	t.Cleanup(func() { _ = srv.Shutdown() })

	r, err := XFR(l.Addr().String(), new(dns.Msg).SetAxfr("z."), XFROptions{Source: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeSuccess || r.Messages != 3 || len(r.RRs) != 5 || r.Bytes != sent || r.Elapsed <= 0 {
		t.Errorf("AXFR: rcode %d, %d messages, %d records, %d bytes, %s; want 0, 3, 5, %d, > 0", r.Rcode, r.Messages, len(r.RRs), r.Bytes, r.Elapsed, sent)
	}
	r, err = XFR(l.Addr().String(), new(dns.Msg).SetAxfr("refused."), XFROptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeRefused || len(r.RRs) != 0 {
		t.Errorf("refused AXFR: rcode %d, records %v", r.Rcode, r.RRs)
	}
}

// TestTransfers reads what named logs of its transfers: each the zone, whether incremental,
// and its counts once complete.
func TestTransfers(t *testing.T) {
	log := `28-Nov-2026 05:04:49.538 xfer-in: transfer of 'a.z/IN' from 127.0.0.1#15391: connected using 127.0.0.1#15391
28-Nov-2026 05:04:49.538 xfer-in: transfer of 'a.z/IN' from 127.0.0.1#15391: got nonincremental response
28-Nov-2026 05:04:49.539 xfer-in: transfer of 'a.z/IN' from 127.0.0.1#15391: Transfer status: success
28-Nov-2026 05:04:49.539 xfer-in: transfer of 'a.z/IN' from 127.0.0.1#15391: Transfer completed: 2 messages, 40 records, 1306 bytes, 0.001 secs (1306000 bytes/sec) (serial 1)
28-Nov-2026 05:04:50.100 xfer-in: transfer of 'a.z/IN' from 127.0.0.1#15391: got incremental response
28-Nov-2026 05:04:50.101 xfer-in: transfer of 'b.z/IN' from 127.0.0.1#15391: got incremental response
28-Nov-2026 05:04:50.102 xfer-in: transfer of 'a.z/IN' from 127.0.0.1#15391: Transfer completed: 1 messages, 5 records, 290 bytes, 0.001 secs (290000 bytes/sec) (serial 2)
`
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "named.log"), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &Secondary{Process: &Process{logPath: filepath.Join(dir, "named.log")}, Kind: "bind"}
	want := []Transfer{
		{Zone: "a.z.", Incremental: false, Messages: 2, Records: 40, Bytes: 1306},
		{Zone: "a.z.", Incremental: true, Messages: 1, Records: 5, Bytes: 290},
		{Zone: "b.z.", Incremental: true}, // not complete yet
	}
	if got := s.Transfers(); !slices.Equal(got, want) {
		t.Errorf("transfers:\n%+v\nwant:\n%+v", got, want)
	}
}
