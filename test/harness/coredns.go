package harness

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/ports"
)

// CoreDNS is a running bin/coredns and the addresses its Corefile serves on.
type CoreDNS struct {
	*Process
	Endpoints
}

// Endpoints are where a coredns serves, each host:port, empty when its Corefile lacks the plugin.
type Endpoints struct {
	DNSAddr     string // the server block whose answers a test checks
	ReadyAddr   string // the ready plugin
	MetricsAddr string // the prometheus plugin
	PprofAddr   string // the pprof plugin
}

// Binary is bin/coredns as `make build` writes it.
func Binary() (string, error) { return BinaryNamed("coredns") }

// BinaryNamed is bin/NAME, as `make build` (coredns) or `make build-bench` (coredns-bench)
// writes it.
func BinaryNamed(name string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "bin", name)
	if _, err := os.Stat(bin); err != nil {
		target := map[string]string{"coredns": "build", "coredns-bench": "build-bench"}[name]
		return "", fmt.Errorf("%s missing: run make %s", bin, cmp.Or(target, "build"))
	}
	return bin, nil
}

// FreePorts returns n distinct ports free on bind for both TCP and UDP (see ports.Free).
func FreePorts(bind string, n int) ([]int, error) {
	return ports.Free(bind, n, true)
}

// LoopbackAdjust picks free loopback ports for a Corefile that reaches the
// API server with kubeconfig.
func LoopbackAdjust(kubeconfig string) (Adjust, error) {
	p, err := FreePorts("127.0.0.1", 5)
	if err != nil {
		return Adjust{}, err
	}
	return Adjust{Bind: "127.0.0.1", DNSPort: p[0], HealthPort: p[1], ReadyPort: p[2], MetricsPort: p[3],
		Kubeconfig: kubeconfig, Upstream: fmt.Sprintf("127.0.0.1:%d", p[4])}, nil
}

// StartCoreDNS writes corefile into dir and starts bin/coredns on it. It returns once the
// process runs; wait on WaitReady or WaitServing before asking it.
func StartCoreDNS(dir, corefile string, e Endpoints, o ProcessOptions) (*CoreDNS, error) {
	p, err := StartProcess(dir, corefile, o)
	if err != nil {
		return nil, err
	}
	return &CoreDNS{Process: p, Endpoints: e}, nil
}

// StartAdjusted is StartCoreDNS on a Corefile from corefile-examples/ or deploy/, adjusted by a.
func StartAdjusted(dir, corefile string, a Adjust) (*CoreDNS, error) {
	adjusted, err := AdjustCorefile(corefile, a)
	if err != nil {
		return nil, err
	}
	return StartCoreDNS(dir, adjusted, a.Endpoints(), ProcessOptions{})
}

// Addr is the DNS address it serves on.
func (c *CoreDNS) Addr() string { return c.DNSAddr }

// Ready returns the HTTP status of the ready plugin's /ready.
func (c *CoreDNS) Ready(ctx context.Context) (int, error) {
	code, err := Get(ctx, "http://"+c.ReadyAddr+"/ready", io.Discard)
	if err != nil {
		return 0, fmt.Errorf("coredns at %s: %w", c.DNSAddr, err)
	}
	return code, nil
}

// ReadyPoll is how often ReadyAfter asks /ready: the resolution of a sync time.
const ReadyPoll = 10 * time.Millisecond

// ReadyAfter polls /ready until it answers 200 and returns how long after the start that was.
// It fails at once if the process exits.
func (c *CoreDNS) ReadyAfter(ctx context.Context) (time.Duration, error) {
	if c.ReadyAddr == "" {
		return 0, errors.New("coredns /ready: the Corefile has no ready plugin")
	}
	t := time.NewTicker(ReadyPoll)
	defer t.Stop()
	for {
		if err := c.exited(); err != nil {
			return 0, fmt.Errorf("wait for coredns /ready: %w", err)
		}
		if code, err := c.Ready(ctx); err == nil && code == http.StatusOK {
			return time.Since(c.Started), nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("wait for coredns /ready: %w\n%s", ctx.Err(), LastLines(c.Log(), 20))
		case <-t.C:
		}
	}
}

// WaitReady waits for /ready to answer 200 and then for coredns to serve DNS (WaitListening):
// CoreDNS serves /ready before it opens its DNS sockets.
func (c *CoreDNS) WaitReady(ctx context.Context) error {
	if _, err := c.ReadyAfter(ctx); err != nil {
		return err
	}
	return c.WaitListening(ctx)
}

// WaitListening waits until coredns has logged that it serves DNSAddr (`:PORT on HOST`), so a
// reply cannot come from another process that took the port, and then answers a name in no
// zone of ours, with any reply.
func (c *CoreDNS) WaitListening(ctx context.Context) error {
	host, port, err := net.SplitHostPort(c.DNSAddr)
	if err != nil {
		return fmt.Errorf("coredns DNS address %q: %w", c.DNSAddr, err)
	}
	line := fmt.Sprintf(":%s on %s", port, host)
	err = Poll(ctx, "coredns log line "+line, func() (bool, error) {
		if err := c.exited(); err != nil {
			return false, err
		}
		return strings.Contains(c.Log(), line), nil
	})
	if err != nil {
		return err
	}
	_, err = WaitAnswer(ctx, c.DNSAddr, "serving.check.invalid.", dns.TypeA, func(*dns.Msg) bool { return true })
	return err
}

// WaitServing is WaitReady, then waits until the apex SOA of zone answers.
func (c *CoreDNS) WaitServing(ctx context.Context, zone string) error {
	if err := c.WaitReady(ctx); err != nil {
		return err
	}
	_, err := WaitAnswer(ctx, c.DNSAddr, zone, dns.TypeSOA, func(r *dns.Msg) bool {
		return r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1
	})
	if err != nil {
		return fmt.Errorf("coredns at %s: %w", c.DNSAddr, err)
	}
	return nil
}

// exited says how coredns ended, with the end of its log, or nil while it runs.
func (c *CoreDNS) exited() error {
	if !c.Exited() {
		return nil
	}
	return fmt.Errorf("coredns exited: %v\n%s", c.ExitError(), LastLines(c.Log(), 20))
}

// Metrics returns the text of /metrics.
func (c *CoreDNS) Metrics(ctx context.Context) (string, error) {
	if c.MetricsAddr == "" {
		return "", errors.New("coredns /metrics: the Corefile has no prometheus plugin")
	}
	var b strings.Builder
	url := "http://" + c.MetricsAddr + "/metrics"
	code, err := Get(ctx, url, &b)
	if err != nil {
		return "", err
	}
	if code != http.StatusOK {
		return "", fmt.Errorf("GET %s: status %d", url, code)
	}
	return b.String(), nil
}

// Metric is the sum of the series of metric name in /metrics whose labels include match; found
// is false if none does.
func (c *CoreDNS) Metric(ctx context.Context, name string, match map[string]string) (v float64, found bool, err error) {
	text, err := c.Metrics(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("metrics of coredns at %s: %w", c.DNSAddr, err)
	}
	if v, found, err = MetricSum(text, name, match); err != nil {
		return 0, false, fmt.Errorf("metrics of coredns at %s: %w", c.DNSAddr, err)
	}
	return v, found, nil
}

// WaitMetric waits until Metric(name, match) is want, and says the last value if it never is.
func (c *CoreDNS) WaitMetric(ctx context.Context, name string, match map[string]string, want float64) error {
	var last float64
	err := Poll(ctx, fmt.Sprintf("%s%v = %v", name, match, want), func() (bool, error) {
		var err error
		last, _, err = c.Metric(ctx, name, match)
		return err == nil && last == want, err
	})
	if err != nil {
		return fmt.Errorf("%w (last %v)", err, last)
	}
	return nil
}

// WaitConflicts waits until coredns_podname_conflicts of zone is n.
func (c *CoreDNS) WaitConflicts(ctx context.Context, zone string, n float64) error {
	return c.WaitMetric(ctx, "coredns_podname_conflicts", map[string]string{"zone": dns.Fqdn(zone)}, n)
}

// Get copies the body of url into w and returns the status code; ctx bounds the request.
func Get(ctx context.Context, url string, w io.Writer) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return 0, fmt.Errorf("read %s: %w", url, err)
	}
	return resp.StatusCode, nil
}

// Poll calls cond every 20ms until it holds, returns an error, or ctx ends.
func Poll(ctx context.Context, what string, cond func() (bool, error)) error {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}

// LastLines is the last n lines of text, for quoting the end of a log.
func LastLines(text string, n int) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
