package podname

import (
	"net/netip"
	"strconv"
	"strings"
)

const (
	v4Suffix = ".in-addr.arpa."
	v6Suffix = ".ip6.arpa."
)

// reverseName reads a lowercase name below in-addr.arpa. or ip6.arpa.: a
// whole address gives a single-IP prefix, fewer labels an ancestor prefix.
func reverseName(name string) (netip.Prefix, bool) {
	switch {
	case strings.HasSuffix(name, v4Suffix):
		return reverse4(strings.Split(strings.TrimSuffix(name, v4Suffix), "."))
	case strings.HasSuffix(name, v6Suffix):
		return reverse6(strings.Split(strings.TrimSuffix(name, v6Suffix), "."))
	}
	return netip.Prefix{}, false
}

func reverse4(labels []string) (netip.Prefix, bool) {
	if len(labels) > 4 {
		return netip.Prefix{}, false
	}
	var b [4]byte
	for i, l := range labels {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 || n > 255 || strconv.Itoa(n) != l {
			return netip.Prefix{}, false // also refuses leading zeros
		}
		b[len(labels)-1-i] = byte(n)
	}
	return netip.PrefixFrom(netip.AddrFrom4(b), 8*len(labels)), true
}

func reverse6(labels []string) (netip.Prefix, bool) {
	if len(labels) > 32 {
		return netip.Prefix{}, false
	}
	var b [16]byte
	for i, l := range labels {
		if len(l) != 1 {
			return netip.Prefix{}, false
		}
		n, err := strconv.ParseUint(l, 16, 8)
		if err != nil {
			return netip.Prefix{}, false
		}
		pos := len(labels) - 1 - i // nibble position from the left
		if pos%2 == 0 {
			b[pos/2] |= byte(n) << 4
		} else {
			b[pos/2] |= byte(n)
		}
	}
	return netip.PrefixFrom(netip.AddrFrom16(b), 4*len(labels)), true
}
