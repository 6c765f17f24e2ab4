package podname

import (
	"net/netip"
	"slices"
	"testing"
)

func TestBoundAddrs(t *testing.T) {
	machine := []string{"127.0.0.1/8", "10.36.0.53/16", "::1/128", "fe80::1/64", "2001:db8::53/64"}
	cases := []struct {
		hosts []string
		want  []string
	}{
		{nil, []string{"10.36.0.53", "fe80::1", "2001:db8::53"}},
		{[]string{""}, []string{"10.36.0.53", "fe80::1", "2001:db8::53"}},
		{[]string{"127.0.0.1", "::1"}, nil},
		{[]string{"192.0.2.53", "::ffff:192.0.2.54", "2001:db8::1", "fe80::1%eth0", "not-an-ip"}, []string{"192.0.2.53", "192.0.2.54", "2001:db8::1"}},
	}
	for _, tc := range cases {
		calls := 0
		got := boundAddrs(tc.hosts, func() []string { calls++; return machine })
		var want []netip.Addr
		for _, w := range tc.want {
			want = append(want, netip.MustParseAddr(w))
		}
		if !slices.Equal(got, want) {
			t.Errorf("boundAddrs(%q) = %v, want %v", tc.hosts, got, want)
		}
		if bindsAll := len(tc.hosts) == 0 || tc.hosts[0] == ""; (calls == 1) != bindsAll {
			t.Errorf("boundAddrs(%q) read the machine's addresses %d times", tc.hosts, calls)
		}
	}
}
