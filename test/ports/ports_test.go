package ports

import (
	"net"
	"slices"
	"strconv"
	"testing"
)

func TestFree(t *testing.T) {
	high, err := ephemeralStart()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Free("127.0.0.1", 20, true)
	if err != nil {
		t.Fatal(err)
	}
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
	high, err := ephemeralStart()
	if err != nil {
		t.Fatal(err)
	}
	ps, err := Free("127.0.0.1", 1, false)
	if err != nil {
		t.Fatal(err)
	}
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
