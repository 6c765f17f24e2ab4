package kube

import "testing"

func TestParseRV(t *testing.T) {
	for s, want := range map[string]uint64{
		"1": 1, "4294967296": 1 << 32, "18446744073709551615": 1<<64 - 1,
		"": 0, "0": 0, "007": 0, "12a": 0, "-1": 0, "18446744073709551616": 0,
	} {
		if got := parseRV(s); got != want {
			t.Errorf("parseRV(%q) = %d, want %d", s, got, want)
		}
	}
}
