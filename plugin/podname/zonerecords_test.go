package podname

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/podname/podname/plugin/podname/index"
)

// TestInZoneAsRecords: inZone, which decides plain names without building
// records, gives rr's verdict for every record and zone, among zones inside
// others, odd names and addresses; and it decides plain names itself.
func TestInZoneAsRecords(t *testing.T) {
	stanzas := []string{
		seedStanza,
		`podname example.org sub.example.org 10.in-addr.arpa in-addr.arpa ip6.arpa`,
		`podname EXAMPLE.org 0.1.10.in-addr.arpa d.f.ip6.arpa`,
		`podname ` + strings.Repeat("z", 63) + `.` + strings.Repeat("y", 63) + `.` + strings.Repeat("x", 60) + `.org in-addr.arpa`,
	}
	names := []string{
		"ws-1", "a.b", "web.dns", "Ws_1", "x.sub", "sub", "a..b", ".a", "a.", `a\.b`, `a\`, "a b", "é",
		strings.Repeat("n", 63), strings.Repeat("n", 64), strings.Repeat("n", 63) + "." + strings.Repeat("m", 63),
		strings.Repeat("a.", 100) + "a", strings.Repeat("a.", 120) + "a",
	}
	ips := []string{"10.0.1.2", "10.9.0.1", "192.0.2.1", "fd00::1", "::ffff:10.0.1.2", "fe80::1%eth0"}
	plain, checked := 0, 0
	for _, stanza := range stanzas {
		p := newTestPlugin(t, stanza, nil, nil)
		for _, z := range p.zs.zones {
			for _, name := range names {
				for _, ip := range ips {
					for _, ptr := range []bool{false, true} {
						r := index.Record{Name: name, IP: netip.MustParseAddr(ip), PTR: ptr}
						want := p.rr(z, r) != nil
						if got := p.inZone(z, r); got != want {
							t.Errorf("%s: inZone(%s, %+v) = %v, rr gives %v", stanza, z.name, r, got, want)
						}
						if _, sure := p.holds(z, r); sure && ptr == z.reverse && want {
							plain++
						}
						checked++
					}
				}
			}
		}
	}
	if plain == 0 || plain == checked {
		t.Fatalf("inZone decided %d of %d cases itself: the cases do not tell its ways apart", plain, checked)
	}
}
