package podname

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy"

	"github.com/podname/podname/plugin/podname/internal/podtest"
	"k8s.io/klog/v2"
)

func TestParse(t *testing.T) {
	cases := []struct {
		corefile string
		keys     []string // server block keys
		check    func(*PodName) bool
	}{
		{`podname`, []string{"mgmt.pix.yun.com.:53"}, func(p *PodName) bool {
			return slices.Equal(p.Zones, []string{"mgmt.pix.yun.com."}) && p.ttl == 5 &&
				p.startupTimeout == 5*time.Second && p.conn.Key() == "in-cluster" &&
				p.xfrOpts.journalRecords == 5000 && p.xfrOpts.journalAge == time.Hour && p.xfrOpts.notifyInterval == time.Second
		}},
		{`podname Mgmt.Pix.Yun.Com 10.36.0.0/16 ip6.arpa`, nil, func(p *PodName) bool {
			return slices.Equal(p.Zones, []string{"mgmt.pix.yun.com.", "36.10.in-addr.arpa.", "ip6.arpa."}) &&
				p.primary == "mgmt.pix.yun.com."
		}},
		{`podname in-addr.arpa example.org`, nil, func(p *PodName) bool { return p.primary == "example.org." }},
		{`podname 10.0.0.0/15 example.org`, nil, func(p *PodName) bool {
			return slices.Equal(p.Zones, []string{"0.10.in-addr.arpa.", "1.10.in-addr.arpa.", "example.org."})
		}},
		{"podname example.org {\n kubeconfig /etc/kube.conf ctx\n}", nil, func(p *PodName) bool {
			return p.conn.Kubeconfig == "/etc/kube.conf" && p.conn.Context == "ctx"
		}},
		{"podname example.org {\n endpoint https://127.0.0.1:6443\n}", nil, func(p *PodName) bool {
			return p.conn.Endpoint == "https://127.0.0.1:6443"
		}},
		{"podname example.org {\n namespaces prod default\n}", nil, func(p *PodName) bool {
			return slices.Equal(p.opts.Namespaces, []string{"prod", "default"})
		}},
		{"podname example.org {\n labels app in (ws, web), tier!=db\n}", nil, func(p *PodName) bool {
			return p.selector == "app in (web,ws),tier!=db"
		}},
		{"podname example.org {\n ttl 0\n}", nil, func(p *PodName) bool { return p.ttl == 0 }},
		{"podname example.org {\n ttl 3600\n}", nil, func(p *PodName) bool { return p.ttl == 3600 }},
		{"podname example.org {\n hostnetwork\n}", nil, func(p *PodName) bool { return p.opts.HostNetwork }},
		{"podname example.org {\n startup_timeout 250ms\n}", nil, func(p *PodName) bool {
			return p.startupTimeout == 250*time.Millisecond
		}},
		{"podname example.org {\n fallthrough\n}", nil, func(p *PodName) bool { return p.Fall.Through("x.example.org.") }},
		{"podname example.org {\n ixfr_journal 100 10m\n}", nil, func(p *PodName) bool {
			return p.xfrOpts.journalRecords == 100 && p.xfrOpts.journalAge == 10*time.Minute
		}},
		{"podname example.org {\n ixfr_journal 0\n}", nil, func(p *PodName) bool {
			return p.xfrOpts.journalRecords == 0 && p.xfrOpts.journalAge == time.Hour
		}},
		{"podname example.org {\n notify_interval 250ms\n}", nil, func(p *PodName) bool {
			return p.xfrOpts.notifyInterval == 250*time.Millisecond
		}},
		{"podname example.org {\n fallthrough in-addr.arpa\n}", nil, func(p *PodName) bool {
			return !p.Fall.Through("x.example.org.") && p.Fall.Through("1.0.0.10.in-addr.arpa.")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.corefile, func(t *testing.T) {
			c := caddy.NewTestController("dns", tc.corefile)
			c.ServerBlockKeys = tc.keys
			p, err := parse(c)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if !tc.check(p) {
				t.Fatalf("parsed to %+v", p)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		corefile string
		keys     []string
		want     string // in the error
	}{
		{`podname .`, nil, "root zone"},
		{`podname`, []string{".:53"}, "root zone"},
		{`podname 10.0.0.1`, nil, "needs a mask"},
		{`podname fd00::1`, nil, "needs a mask"},
		{`podname in-addr.arpa`, nil, "forward"},
		{`podname 10.0.0.0/8 ip6.arpa`, nil, "forward"},
		{`podname exa..mple.org`, nil, "not a valid domain name"},
		{`podname example.org:53`, nil, "no port"},
		{"podname example.org {\n bogus\n}", nil, "unknown property 'bogus'"},
		{"podname example.org {\n kubeconfig\n}", nil, "kubeconfig"},
		{"podname example.org {\n kubeconfig a b c\n}", nil, "kubeconfig"},
		{"podname example.org {\n endpoint\n}", nil, "endpoint"},
		{"podname example.org {\n endpoint ftp://x\n}", nil, "endpoint"},
		{"podname example.org {\n endpoint 127.0.0.1:6443\n}", nil, "endpoint"},
		{"podname example.org {\n kubeconfig /k\n endpoint http://x\n}", nil, "kubeconfig and endpoint"},
		{"podname example.org {\n namespaces\n}", nil, "namespaces"},
		{"podname example.org {\n namespaces Prod\n}", nil, "namespaces"},
		{"podname example.org {\n labels\n}", nil, "labels"},
		{"podname example.org {\n labels app in (ws\n}", nil, "labels"},
		{"podname example.org {\n labels =x\n}", nil, "labels"},
		{"podname example.org {\n ttl\n}", nil, "ttl"},
		{"podname example.org {\n ttl -1\n}", nil, "ttl"},
		{"podname example.org {\n ttl 3601\n}", nil, "ttl"},
		{"podname example.org {\n ttl five\n}", nil, "ttl"},
		{"podname example.org {\n ttl 5 6\n}", nil, "ttl"},
		{"podname example.org {\n ttl 5\n ttl 6\n}", nil, "ttl: given twice"},
		{"podname example.org {\n hostnetwork yes\n}", nil, "hostnetwork"},
		{"podname example.org {\n startup_timeout\n}", nil, "startup_timeout"},
		{"podname example.org {\n startup_timeout 5\n}", nil, "startup_timeout"},
		{"podname example.org {\n startup_timeout -1s\n}", nil, "startup_timeout"},
		{"podname example.org {\n fallthrough exa..mple\n}", nil, "fallthrough"},
		{"podname example.org {\n ixfr_journal\n}", nil, "ixfr_journal: wrong number of arguments"},
		{"podname example.org {\n ixfr_journal 1 1h 2\n}", nil, "ixfr_journal: wrong number of arguments"},
		{"podname example.org {\n ixfr_journal -1\n}", nil, "ixfr_journal: \"-1\" is not a number of records"},
		{"podname example.org {\n ixfr_journal 1000001\n}", nil, "ixfr_journal: \"1000001\""},
		{"podname example.org {\n ixfr_journal many\n}", nil, "ixfr_journal: \"many\""},
		{"podname example.org {\n ixfr_journal 10 0s\n}", nil, "ixfr_journal: \"0s\" is not a duration"},
		{"podname example.org {\n ixfr_journal 10 soon\n}", nil, "ixfr_journal: \"soon\""},
		{"podname example.org {\n notify_interval\n}", nil, "notify_interval: wrong number of arguments"},
		{"podname example.org {\n notify_interval 1s 2s\n}", nil, "notify_interval: wrong number of arguments"},
		{"podname example.org {\n notify_interval 0s\n}", nil, "notify_interval: \"0s\" is not a duration"},
		{"podname example.org {\n notify_interval 5\n}", nil, "notify_interval: \"5\""},
		{"podname example.org\npodname example.net", nil, "once per Server Block"},
	}
	for _, tc := range cases {
		t.Run(tc.corefile, func(t *testing.T) {
			c := caddy.NewTestController("dns", tc.corefile)
			c.ServerBlockKeys = tc.keys
			_, err := parse(c)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not name %q", err, tc.want)
			}
			if !strings.Contains(tc.want, "once per") && !strings.Contains(err.Error(), "Testfile:") {
				t.Fatalf("error %q does not give the line", err)
			}
		})
	}
}

func TestSetupConnectionErrors(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	err := setup(caddy.NewTestController("dns", `podname example.org`))
	if err == nil || !strings.Contains(err.Error(), "kubeconfig") || !strings.Contains(err.Error(), "endpoint") ||
		strings.Contains(err.Error(), "\n") {
		t.Fatalf("outside a cluster: error %v; want one line naming kubeconfig and endpoint", err)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	err = setup(caddy.NewTestController("dns", "podname example.org {\n kubeconfig "+missing+"\n}"))
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing kubeconfig: error %v; want one naming the file", err)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(bad, []byte("not: [yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := setup(caddy.NewTestController("dns", "podname example.org {\n kubeconfig "+bad+"\n}")); err == nil {
		t.Fatal("a broken kubeconfig was accepted")
	}
}

// TestSetupRoutesKlog: once a podname stanza is set up, even one that fails, client-go's klog
// lines come out through CoreDNS's logger.
func TestSetupRoutesKlog(t *testing.T) {
	logs := podtest.CaptureLog(t)
	if err := setup(caddy.NewTestController("dns", "podname example.org {\n bogus\n}")); err == nil {
		t.Fatal("a stanza with an unknown property was set up")
	}
	klog.InfoS("Caches populated", "type", "*v1.Pod")
	if want := `[INFO] plugin/podname: Caches populated type="*v1.Pod"`; logs.Count(want) != 1 {
		t.Errorf("log lacks %q:\n%s", want, logs.String())
	}
}
