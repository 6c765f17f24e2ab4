// Package ports picks free loopback ports for the test cluster, coredns and the tools the tests
// run.
package ports

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// low is the first port Free considers; the ones below are left to well-known services.
const low = 10000

// Free returns n distinct ports that were free on bind a moment ago, for TCP and, with udp,
// for UDP too. They are held open together so that none is returned twice, then released for
// a server to bind. They lie below the kernel's ephemeral range: a server stopped and started
// again on its port (as the fault tests do) cannot find it taken meanwhile as the source port
// of an outgoing connection, which a port the kernel handed out for ":0" can be.
func Free(bind string, n int, udp bool) ([]int, error) {
	high, err := ephemeralStart()
	if err != nil {
		return nil, err
	}
	return scan(bind, n, udp, high, rand.IntN(max(high-low, 1)))
}

// scan looks for n free ports in [low, high), from low+start on and round.
func scan(bind string, n int, udp bool, high, start int) ([]int, error) {
	span := high - low
	if span < n {
		return nil, fmt.Errorf("free ports: the ephemeral range starts at %d, leaving no room below it", high)
	}
	var held []io.Closer
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	ports := make([]int, 0, n)
	for i := 0; i < span && len(ports) < n; i++ {
		port := low + (start+i)%span
		addr := net.JoinHostPort(bind, strconv.Itoa(port))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		held = append(held, l)
		if udp {
			u, err := net.ListenPacket("udp", addr)
			if err != nil {
				continue
			}
			held = append(held, u)
		}
		ports = append(ports, port)
	}
	if len(ports) < n {
		return nil, fmt.Errorf("free ports: only %d of %d free on %s between %d and %d", len(ports), n, bind, low, high)
	}
	return ports, nil
}

// rangeFile holds the kernel's ephemeral port range, "first last".
const rangeFile = "/proc/sys/net/ipv4/ip_local_port_range"

// ephemeralStart is the first port of the kernel's ephemeral range.
func ephemeralStart() (int, error) {
	b, err := os.ReadFile(rangeFile)
	if err != nil {
		return 0, fmt.Errorf("free ports: %w", err)
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return 0, fmt.Errorf("free ports: %s holds %q, want two ports", rangeFile, b)
	}
	port, err := strconv.Atoi(fields[0])
	if err != nil {
		return 0, fmt.Errorf("free ports: %s: %w", rangeFile, err)
	}
	return port, nil
}
