package e2e

import (
	"context"
	"encoding/binary"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/harness"
)

// wireQuery builds a query by hand, so it can be what no library would
// send: labels given raw, any QDCOUNT, any class.
func wireQuery(id uint16, qdcount uint16, labels []string, qtype, qclass uint16) []byte {
	b := make([]byte, 12, 512)
	binary.BigEndian.PutUint16(b[0:], id)
	b[2] = 0x01 // RD
	binary.BigEndian.PutUint16(b[4:], qdcount)
	for range max(qdcount, 1) {
		for _, l := range labels {
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
		b = append(b, 0)
		b = binary.BigEndian.AppendUint16(b, qtype)
		b = binary.BigEndian.AppendUint16(b, qclass)
	}
	if qdcount == 0 {
		b = b[:12]
	}
	return b
}

// exchangeRaw sends wire over UDP and returns the reply's header fields.
func exchangeRaw(t *testing.T, addr string, wire []byte) (rcode int, ok bool) {
	t.Helper()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(wire); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 65535)
	n, err := conn.Read(buf)
	if err != nil {
		return 0, false // no reply: dropped
	}
	if n < 12 {
		t.Fatalf("reply of %d bytes is not a DNS message", n)
	}
	if binary.BigEndian.Uint16(buf[0:]) != binary.BigEndian.Uint16(wire[0:]) {
		t.Fatal("reply has another ID")
	}
	return int(buf[3] & 0x0f), true
}

// TestHostileQueries sends malformed and odd queries to the real binary:
// each gets a well-formed answer (or, for what cannot be parsed, none),
// and the server keeps answering correctly after every one.
func TestHostileQueries(t *testing.T) {
	ns := harness.Namespace(t, kube.Client(), "hostile")
	// A name no other test of the package uses: a namespace another test
	// left is deleted in the background, and its older pod would win it.
	pod := harness.CreatePod(t, kube.Client(), ns, "hostile-0")
	c := harness.StartExample(t, "Corefile", kube.Kubeconfig())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
	good := "hostile-0." + zone + "."
	if _, err := harness.WaitAnswer(ctx, c.Addr(), good, dns.TypeA, func(r *dns.Msg) bool {
		return slices.Equal(harness.Addresses(r), []string{pod.Status.PodIP})
	}); err != nil {
		t.Fatal(err)
	}
	stillServing := func(after string) {
		t.Helper()
		for _, proto := range []string{"udp", "tcp"} {
			cl := &dns.Client{Net: proto, Timeout: 2 * time.Second}
			r, _, err := cl.Exchange(new(dns.Msg).SetQuestion(good, dns.TypeA), c.Addr())
			if err != nil || !slices.Equal(harness.Addresses(r), []string{pod.Status.PodIP}) {
				t.Fatalf("after %s, %s query for %s: %v %v", after, proto, good, r, err)
			}
		}
		if c.Exited() {
			t.Fatalf("coredns exited after %s", after)
		}
	}
	zoneLabels := strings.Split(zone, ".")
	long63 := strings.Repeat("a", 63)
	// 4 labels of 63 plus the zone: past 255 octets.
	tooLong := append([]string{long63, long63, long63, long63}, zoneLabels...)
	atLimit := append([]string{long63, long63, long63, strings.Repeat("b", 255-3*64-(len(zone)+2)-1)}, zoneLabels...)
	raw := []struct {
		name   string
		wire   []byte
		rcodes []int // acceptable rcodes; empty: no reply at all (nothing to answer)
	}{
		{"name over 255 octets", wireQuery(1, 1, tooLong, dns.TypeA, dns.ClassINET), []int{dns.RcodeFormatError}},
		{"name of 255 octets", wireQuery(2, 1, atLimit, dns.TypeA, dns.ClassINET), []int{dns.RcodeNameError}},
		{"label over 63", wireQuery(3, 1, append([]string{strings.Repeat("c", 64)}, zoneLabels...), dns.TypeA, dns.ClassINET), []int{dns.RcodeFormatError}},
		{"QDCOUNT 0", wireQuery(4, 0, nil, 0, 0), []int{dns.RcodeFormatError}},
		{"QDCOUNT 2", wireQuery(5, 2, []string{"hostile-0", "mgmt", "pix", "yun", "com"}, dns.TypeA, dns.ClassINET), []int{dns.RcodeFormatError}},
		{"class CHAOS", wireQuery(6, 1, []string{"hostile-0", "mgmt", "pix", "yun", "com"}, dns.TypeA, dns.ClassCHAOS), []int{dns.RcodeRefused}},
		{"class NONE", wireQuery(7, 1, []string{"hostile-0", "mgmt", "pix", "yun", "com"}, dns.TypeA, dns.ClassNONE), []int{dns.RcodeRefused}},
		{"unknown type", wireQuery(8, 1, []string{"hostile-0", "mgmt", "pix", "yun", "com"}, 65280, dns.ClassINET), []int{dns.RcodeSuccess}},
		{"AXFR over UDP", wireQuery(9, 1, zoneLabels, dns.TypeAXFR, dns.ClassINET), []int{dns.RcodeRefused}},
		{"truncated header", []byte{0, 10, 1, 0, 0, 1}, nil},
		{"question cut short", wireQuery(11, 1, []string{"ws-0", "mgmt"}, dns.TypeA, dns.ClassINET)[:20], []int{dns.RcodeFormatError}},
	}
	for _, tc := range raw {
		rcode, ok := exchangeRaw(t, c.Addr(), tc.wire)
		switch {
		case !ok && len(tc.rcodes) > 0, ok && len(tc.rcodes) == 0:
			t.Errorf("%s: replied %v, want %v", tc.name, ok, rcodeNames(tc.rcodes))
		case ok && !slices.Contains(tc.rcodes, rcode):
			t.Errorf("%s: rcode %s, want %v", tc.name, dns.RcodeToString[rcode], rcodeNames(tc.rcodes))
		}
		stillServing(tc.name)
	}

	// EDNS with odd buffer sizes and options, over UDP and TCP.
	for _, size := range []uint16{0, 1, 511, 512, 1232, 4096, 65535} {
		for _, proto := range []string{"udp", "tcp"} {
			m := new(dns.Msg).SetQuestion(good, dns.TypeA)
			m.SetEdns0(size, true)
			opt := m.IsEdns0()
			opt.Option = append(opt.Option, &dns.EDNS0_LOCAL{Code: 65001, Data: []byte("odd")},
				&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
			cl := &dns.Client{Net: proto, Timeout: 2 * time.Second}
			r, _, err := cl.Exchange(m, c.Addr())
			if err != nil {
				t.Fatalf("EDNS bufsize %d over %s: %v", size, proto, err)
			}
			if r.Rcode != dns.RcodeSuccess || !slices.Equal(harness.Addresses(r), []string{pod.Status.PodIP}) {
				t.Fatalf("EDNS bufsize %d over %s: %v", size, proto, r)
			}
		}
	}
	m := new(dns.Msg).SetQuestion(good, dns.TypeA)
	m.SetEdns0(4096, false)
	m.IsEdns0().SetVersion(1)
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, c.Addr())
	if err == nil && r.Rcode != dns.RcodeBadVers {
		t.Errorf("EDNS version 1: rcode %s, want BADVERS", dns.RcodeToString[r.Rcode])
	} else if err != nil {
		t.Errorf("EDNS version 1: %v", err)
	}
	stillServing("EDNS")
}

func rcodeNames(rcodes []int) []string {
	var out []string
	for _, r := range rcodes {
		out = append(out, dns.RcodeToString[r])
	}
	return out
}
