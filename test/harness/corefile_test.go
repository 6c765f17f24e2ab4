package harness

import (
	"os"
	"strings"
	"testing"

	"github.com/coredns/caddy/caddyfile"
)

func TestAdjustCorefile(t *testing.T) {
	for _, name := range []string{"Corefile", "multi-namespace.Corefile", "reverse.Corefile", "labels.Corefile"} {
		text, err := Example(name)
		if err != nil {
			t.Fatal(err)
		}
		a := Adjust{Bind: "127.0.0.1", DNSPort: 1053, HealthPort: 1054, ReadyPort: 1055, MetricsPort: 1056,
			Kubeconfig: "/tmp/kc", Upstream: "127.0.0.1:1057"}
		out, err := AdjustCorefile(text, a)
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := caddyfile.Parse(name, strings.NewReader(out), nil)
		if err != nil {
			t.Fatalf("%s adjusted does not parse: %v\n%s", name, err, out)
		}
		for _, b := range blocks {
			for _, k := range b.Keys {
				if !strings.HasSuffix(k, ":1053") {
					t.Errorf("%s: key %s keeps its port", name, k)
				}
			}
		}
		for _, bad := range []string{":53 ", ":9153", "/etc/resolv.conf"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s: %q left in\n%s", name, bad, out)
			}
		}
		stanzas := 0
		for _, line := range strings.Split(text, "\n") {
			if stanzaLine.MatchString(line) {
				stanzas++
			}
		}
		if got := strings.Count(out, "kubeconfig /tmp/kc"); stanzas == 0 || got != stanzas {
			t.Errorf("%s: kubeconfig given to %d of %d stanzas\n%s", name, got, stanzas, out)
		}
	}
}

// TestAdjustCorefileKubeconfigOnly gives a deploy/ Corefile a kubeconfig and changes nothing
// else, as for a container that binds the real ports in a network namespace of its own.
func TestAdjustCorefileKubeconfigOnly(t *testing.T) {
	text, err := os.ReadFile(DeployDir(t, "overlays/standalone/Corefile"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := AdjustCorefile(string(text), Adjust{Kubeconfig: "/kube/config"})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(string(text), "    podname\n", "    podname {\n        kubeconfig /kube/config\n    }\n", 1)
	if want == string(text) {
		t.Fatal("deploy/overlays/standalone/Corefile has no bare podname line to give a kubeconfig")
	}
	if out != want {
		t.Errorf("adjusted:\n%s\nwant:\n%s", out, want)
	}
}
