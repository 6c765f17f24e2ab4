package harness

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/podname/podname/test/ports"
)

// CoreDNS is a running coredns on an example Corefile with adjusted ports and paths.
type CoreDNS struct {
	*Process
	Adjust Adjust // the ports and paths it runs with
}

// Binary is bin/coredns as `make build` writes it.
func Binary() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "bin", "coredns")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%s missing: run make build", bin)
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

// StartCoreDNS writes corefile into dir and starts the binary on it. It
// returns once the process runs; wait on WaitReady or a query for service.
func StartCoreDNS(dir, corefile string, a Adjust) (*CoreDNS, error) {
	p, err := StartProcess(dir, corefile, ProcessOptions{})
	if err != nil {
		return nil, err
	}
	return &CoreDNS{Process: p, Adjust: a}, nil
}

// Addr is the DNS address it serves on.
func (c *CoreDNS) Addr() string {
	return net.JoinHostPort(c.Adjust.Bind, strconv.Itoa(c.Adjust.DNSPort))
}

// Ready returns the HTTP status of the ready plugin's /ready.
func (c *CoreDNS) Ready(ctx context.Context) (int, error) {
	return httpStatus(ctx, fmt.Sprintf("http://%s/ready", net.JoinHostPort(c.Adjust.Bind, strconv.Itoa(c.Adjust.ReadyPort))))
}

// WaitReady polls /ready until it answers 200 and then DNS until the
// server replies (CoreDNS serves /ready before it opens its DNS sockets),
// or the process exits, or ctx ends.
func (c *CoreDNS) WaitReady(ctx context.Context) error {
	err := Poll(ctx, "coredns /ready", func() (bool, error) {
		if c.Exited() {
			return false, fmt.Errorf("coredns exited: %v\n%s", c.ExitError(), c.Log())
		}
		code, err := c.Ready(ctx)
		return err == nil && code == http.StatusOK, nil
	})
	if err != nil {
		return err
	}
	// A name in no zone of ours: any reply, even an error, means serving.
	return Poll(ctx, "coredns to answer DNS", func() (bool, error) {
		_, err := Query(c.Addr(), "serving.check.invalid.", 1)
		return err == nil, nil
	})
}

// Metrics returns the text of /metrics.
func (c *CoreDNS) Metrics(ctx context.Context) (string, error) {
	url := fmt.Sprintf("http://%s/metrics", net.JoinHostPort(c.Adjust.Bind, strconv.Itoa(c.Adjust.MetricsPort)))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", url, err)
	}
	return string(b), nil
}

// Metric is the sum of the series of metric name in /metrics whose labels include match; found
// is false if none does.
func (c *CoreDNS) Metric(ctx context.Context, name string, match map[string]string) (v float64, found bool, err error) {
	text, err := c.Metrics(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("metrics of coredns at %s: %w", c.Addr(), err)
	}
	if v, found, err = MetricSum(text, name, match); err != nil {
		return 0, false, fmt.Errorf("metrics of coredns at %s: %w", c.Addr(), err)
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

func httpStatus(ctx context.Context, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
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
