package faults

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/podname/podname/test/harness"

	"k8s.io/client-go/tools/clientcmd"
)

// tcpProxy forwards TCP connections from a fixed 127.0.0.1 port to the API server, so that one
// client (coredns) can be cut off while the API server keeps serving everyone else. TLS passes
// through untouched: the API server's certificate names 127.0.0.1, whatever the port.
type tcpProxy struct {
	addr       string // host:port it listens on, the same across Pause and Resume
	target     string
	kubeconfig string // of the API server behind it

	mu    sync.Mutex
	ln    net.Listener // nil while paused
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup // the accept loop and every forwarding goroutine
}

// proxy listens on a free loopback port and forwards to api until t ends.
func (api *apiServer) proxy(t *testing.T) *tcpProxy {
	t.Helper()
	u, err := url.Parse(api.url)
	if err != nil {
		t.Fatalf("URL of %s %q: %v", api.name, api.url, err)
	}
	port, err := harness.FreePorts("127.0.0.1", 1)
	if err != nil {
		t.Fatalf("proxy to %s: %v", api.name, err)
	}
	// A port below the ephemeral range: Resume listens on it again after a cut.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port[0])))
	if err != nil {
		t.Fatalf("proxy to %s: listen: %v", api.name, err)
	}
	p := &tcpProxy{addr: ln.Addr().String(), target: u.Host, kubeconfig: api.kubeconfig, conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(func() {
		p.Pause()
		p.wg.Wait()
	})
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Pause
			}
			p.forward(c)
		}
	})
}

// forward connects c to the target and copies both ways until either side closes.
func (p *tcpProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.ln == nil { // paused between Accept and here
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// One direction ending ends the connection: the client sees it cut, as on a real outage.
		dst.Close()
		src.Close()
		p.mu.Lock()
		delete(p.conns, dst)
		delete(p.conns, src)
		p.mu.Unlock()
	}
	p.wg.Go(func() { pipe(up, c) })
	p.wg.Go(func() { pipe(c, up) })
}

// Pause stops accepting (new connections are refused) and cuts every open connection.
func (p *tcpProxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// Cut pauses p, failing t if p carried no connection: coredns, which holds a watch through p,
// would then not be reaching the API server through it, and the pause would cut nothing.
func (p *tcpProxy) Cut(t *testing.T) {
	t.Helper()
	if n := p.Open(); n == 0 {
		t.Fatalf("proxy to %s carries no connection to cut", p.target)
	}
	p.Pause()
}

// Resume listens on the same address again.
func (p *tcpProxy) Resume() error {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return fmt.Errorf("proxy to %s: listen again on %s: %w", p.target, p.addr, err)
	}
	p.serve(ln)
	return nil
}

// Open is the number of connections forwarded now (each counts once, not per side).
func (p *tcpProxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns) / 2
}

// Kubeconfig writes a copy of the API server's kubeconfig that reaches it through the proxy,
// and returns its path.
func (p *tcpProxy) Kubeconfig(t *testing.T) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(p.kubeconfig)
	if err != nil {
		t.Fatalf("load kubeconfig %s: %v", p.kubeconfig, err)
	}
	if len(cfg.Clusters) == 0 {
		t.Fatalf("kubeconfig %s has no cluster", p.kubeconfig)
	}
	for _, c := range cfg.Clusters {
		c.Server = "https://" + p.addr
	}
	path := filepath.Join(t.TempDir(), "kubeconfig-proxy")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatalf("write proxy kubeconfig: %v", err)
	}
	return path
}
