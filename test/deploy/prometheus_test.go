package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/cluster"
	"github.com/podname/podname/test/harness"
)

// TestPrometheusScrape: a real Prometheus scraping the real coredns (the standalone Corefile)
// every second sees exactly what the test did: the pods it created, indexed; the queries it
// sent, counted by result; one add event per pod. Every query of the Grafana dashboard then
// runs on Prometheus's own engine and returns data, and every podname metric has a panel.
func TestPrometheusScrape(t *testing.T) {
	bin := needPrometheus(t)
	c := harness.Cluster(t, cluster.Options{})
	ips := runPods(t, c, "prom-a", "prom-b", "prom-c")
	names := slices.Sorted(maps.Keys(ips))

	dnsServer := harness.Start(t, harness.ConfigMapCorefile(t, harness.Render(t, "overlays/standalone"), "podname"), harness.Loopback(t, c.Kubeconfig()))
	waitReady(t, dnsServer)

	// Each query exactly once: a retry would be counted too.
	const hits, misses = 7, 2
	for i := range hits {
		name := names[i%len(names)]
		expectA(t, dnsServer.Addr(), name+"."+zone, ips[name])
	}
	for i := range misses {
		name := fmt.Sprintf("no-such-pod-%d.%s", i, zone)
		r, err := harness.Query(dnsServer.Addr(), name, dns.TypeA)
		if err != nil {
			t.Fatal(err)
		}
		if r.Rcode != dns.RcodeNameError {
			t.Fatalf("A %s: %s, want NXDOMAIN", name, dns.RcodeToString[r.Rcode])
		}
	}

	target := dnsServer.MetricsAddr
	prom := startPrometheus(t, bin, target)
	// Each wait has its own deadline, so one missing series does not hide the state of the rest.
	wait := func(what string, cond func(ctx context.Context) (bool, error)) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return harness.Poll(ctx, what, func() (bool, error) {
			ok, err := cond(ctx)
			if err != nil && ctx.Err() != nil {
				return false, nil // the deadline cut a request short; Poll reports the deadline
			}
			return ok, err
		})
	}
	for _, check := range []struct {
		query string
		want  map[string]float64 // by the value of the label the query keeps; "" when it keeps none
		label string
	}{
		{`up{job="coredns"}`, map[string]float64{"": 1}, ""},
		{`sum(coredns_podname_pods)`, map[string]float64{"": float64(len(ips))}, ""},
		{`sum by (result) (coredns_podname_requests_total)`, map[string]float64{"hit": hits, "nxdomain": misses}, "result"},
		{`sum by (event) (coredns_podname_pod_events_total{event="add"})`, map[string]float64{"add": float64(len(ips))}, "event"},
	} {
		var got map[string]float64
		err := wait(fmt.Sprintf("Prometheus: %s = %v", check.query, check.want), func(ctx context.Context) (bool, error) {
			res, err := prom.query(ctx, check.query)
			if err != nil {
				return false, err
			}
			got = map[string]float64{}
			for _, s := range res {
				got[s.Metric[check.label]] = s.value
			}
			return maps.Equal(got, check.want), nil
		})
		if err != nil {
			t.Errorf("%v (last: %v)", err, got)
		}
	}

	// The dashboard's panels, with its variables as Grafana fills them in for "All" and a
	// short range, and its variables' label_values(metric, label) as the series query it is.
	panels, variables := dashboardQueries(t)
	vars := strings.NewReplacer(`$instance`, `.*`, `$__rate_interval`, `10s`)
	queries := map[string]string{} // query to the label its results must carry, if any
	for _, expr := range panels {
		queries[vars.Replace(expr)] = ""
	}
	for _, v := range variables {
		m := regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`).FindStringSubmatch(v)
		if m == nil {
			t.Errorf("dashboard variable query %s: want label_values(metric, label)", v)
			continue
		}
		queries[fmt.Sprintf("group by (%s) (%s)", m[2], m[1])] = m[2]
	}
	for _, query := range slices.Sorted(maps.Keys(queries)) {
		label := queries[query]
		err := wait("Prometheus to return data for the dashboard's "+query, func(ctx context.Context) (bool, error) {
			res, err := prom.query(ctx, query)
			return len(res) > 0 && (label == "" || res[0].Metric[label] != ""), err
		})
		if err != nil {
			t.Error(err)
		}
	}
	// And the other way: every podname metric coredns exports has a panel.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	scraped, err := prom.names(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if missing := unshown(scraped, slices.Concat(panels, variables)); len(missing) > 0 {
		t.Errorf("coredns exports %q, which no panel of the dashboard shows (Prometheus scraped %q)", missing, scraped)
	}
}

// needPrometheus returns the path of the prometheus binary (Debian package prometheus),
// failing t in one line when it is missing.
func needPrometheus(t *testing.T) string {
	t.Helper()
	harness.Require(t, "deploy-test", harness.NeedCommand("prometheus", "prometheus"))
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// prometheus is a running Prometheus server on loopback.
type prometheus struct {
	url string
	dir string
}

// startPrometheus runs Prometheus on a free loopback port, scraping target every second into a
// temporary TSDB, and stops it when t ends.
func startPrometheus(t *testing.T, bin, target string) *prometheus {
	t.Helper()
	dir := t.TempDir()
	ports, err := harness.FreePorts("127.0.0.1", 1)
	if err != nil {
		t.Fatalf("pick a port for Prometheus: %v", err)
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
- job_name: coredns
  static_configs:
  - targets: [%q]
`, target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatalf("write Prometheus config: %v", err)
	}
	logPath := filepath.Join(dir, "prometheus.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("create Prometheus log: %v", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	cmd := exec.Command(bin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
	)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start Prometheus: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait(); logf.Close() }()
	exited := false
	t.Cleanup(func() {
		if !exited {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-done:
			case <-time.After(15 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
		}
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("Prometheus log (%s):\n%s", logPath, b)
		}
	})

	p := &prometheus{url: "http://" + addr, dir: dir}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = harness.Poll(ctx, "Prometheus /-/ready", func() (bool, error) {
		select {
		case err := <-done:
			exited = true
			return false, fmt.Errorf("prometheus exited: %v", err)
		default:
		}
		code, _, err := get(ctx, p.url+"/-/ready")
		return err == nil && code == http.StatusOK, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sample is one series of an instant vector.
type sample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
	value  float64
}

// query evaluates an instant query through Prometheus's HTTP API.
func (p *prometheus) query(ctx context.Context, q string) ([]sample, error) {
	code, body, err := get(ctx, p.url+"/api/v1/query?query="+url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	var resp struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string   `json:"resultType"`
			Result     []sample `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, fmt.Errorf("query %s: HTTP %d, %w: %s", q, code, err, body)
	}
	if resp.Status != "success" {
		return nil, fmt.Errorf("query %s: %s: %s", q, resp.ErrorType, resp.Error)
	}
	if resp.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: a %s, want a vector", q, resp.Data.ResultType)
	}
	for i, s := range resp.Data.Result {
		str, ok := s.Value[1].(string)
		if !ok {
			return nil, fmt.Errorf("query %s: value %v is not a string", q, s.Value)
		}
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %q: %w", q, str, err)
		}
		resp.Data.Result[i].value = v
	}
	return resp.Data.Result, nil
}

// names are the metric names Prometheus holds series of.
func (p *prometheus) names(ctx context.Context) ([]string, error) {
	code, body, err := get(ctx, p.url+"/api/v1/label/__name__/values")
	if err != nil {
		return nil, err
	}
	var resp struct {
		Status string   `json:"status"`
		Data   []string `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.Status != "success" {
		return nil, fmt.Errorf("metric names: HTTP %d, %v: %s", code, err, body)
	}
	return resp.Data, nil
}

// get returns the status and body of a GET of u.
func get(ctx context.Context, u string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("request %s: %w", u, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("get %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("read %s: %w", u, err)
	}
	return resp.StatusCode, body, nil
}
