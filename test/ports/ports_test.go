package ports

import (
	"net"
	"slices"
	"strconv"
	"testing"
)

// free is Free on loopback, with the start of the ephemeral range it stays below.
func free(t *testing.T, n int, udp bool) (ports []int, high int) {
	t.Helper()
	high, err := ephemeralStart()
	if err != nil {
		t.Fatal(err)
	}
	ports, err = Free("127.0.0.1", n, udp)
	if err != nil {
		t.Fatal(err)
	}
	return ports, high
}

func TestFree(t *testing.T) {
	got, high := free(t, 20, true)
	seen := map[int]bool{}
	for _, p := range got {
		if p < low || p >= high {
			t.Errorf("port %d outside [%d, %d): it could be an outgoing connection's source port", p, low, high)
		}
		if seen[p] {
			t.Errorf("port %d returned twice", p)
		}
		seen[p] = true
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("port %d was returned but TCP cannot bind it: %v", p, err)
			continue
		}
		l.Close()
		u, err := net.ListenPacket("udp", addr)
		if err != nil {
			t.Errorf("port %d was returned but UDP cannot bind it: %v", p, err)
			continue
		}
		u.Close()
	}
	if len(got) != 20 {
		t.Fatalf("%d ports, want 20", len(got))
	}
}

// TestScanSkipsTaken: a port held by another listener is not returned, though the scan
// starts on it.
func TestScanSkipsTaken(t *testing.T) {
	ps, high := free(t, 1, false)
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(ps[0])))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got, err := scan("127.0.0.1", 3, false, high, ps[0]-low)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(got, ps[0]) {
		t.Errorf("port %d is held by a listener but was returned (%v)", ps[0], got)
	}
}
