package podname

import "testing"

func TestMatchZone(t *testing.T) {
	zones := []string{"mgmt.pix.yun.com.", "prod.mgmt.pix.yun.com.", "in-addr.arpa."}
	for qname, want := range map[string]string{
		"a.mgmt.pix.yun.com.":      "mgmt.pix.yun.com.",
		"A.MGMT.Pix.yun.com.":      "mgmt.pix.yun.com.",
		"mgmt.pix.yun.com.":        "mgmt.pix.yun.com.",
		"a.prod.mgmt.pix.yun.com.": "prod.mgmt.pix.yun.com.",
		"xmgmt.pix.yun.com.":       "",
		`a\.mgmt.pix.yun.com.`:     "",
		`a\\.mgmt.pix.yun.com.`:    "mgmt.pix.yun.com.",
		"pix.yun.com.":             "",
		"1.0.0.10.in-addr.arpa.":   "in-addr.arpa.",
		".":                        "",
		"com.":                     "",
	} {
		if got := matchZone(zones, qname); got != want {
			t.Errorf("matchZone(%q) = %q, want %q", qname, got, want)
		}
	}
}
