package harness

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Adjust is what a Corefile from corefile-examples/ changes to run here:
// ports, the address to bind, and paths.
type Adjust struct {
	Bind        string // address every server block binds, e.g. 127.0.0.1
	DNSPort     int    // replaces :53 in server block keys
	HealthPort  int    // health listens on Bind:HealthPort
	ReadyPort   int    // ready listens on Bind:ReadyPort
	MetricsPort int    // prometheus listens on Bind:MetricsPort
	Kubeconfig  string // given to every podname and kubernetes stanza
	Upstream    string // replaces forward's /etc/resolv.conf, e.g. 127.0.0.1:1 (nothing there)
}

var (
	keyLine     = regexp.MustCompile(`^(\S*):53 \{$`)
	healthLine  = regexp.MustCompile(`^(\s*)health( \{)?$`)
	readyLine   = regexp.MustCompile(`^(\s*)ready$`)
	metricsLine = regexp.MustCompile(`^(\s*)prometheus :9153$`)
	forwardLine = regexp.MustCompile(`^(\s*)forward \. /etc/resolv\.conf( \{)?$`)
	stanzaLine  = regexp.MustCompile(`^(\s*)(podname|kubernetes)\b(.*?)( \{)?$`)
)

// Endpoints are the addresses a Corefile adjusted by a serves on.
func (a Adjust) Endpoints() Endpoints {
	addr := func(port int) string {
		if port == 0 {
			return ""
		}
		return net.JoinHostPort(a.Bind, strconv.Itoa(port))
	}
	return Endpoints{DNSAddr: addr(a.DNSPort), ReadyAddr: addr(a.ReadyPort), MetricsAddr: addr(a.MetricsPort)}
}

// AdjustCorefile rewrites a Corefile line by line as a says. It knows the shapes
// corefile-examples/ and deploy/ use and leaves every other line alone; a real port or path
// that a replaces, left after that, is an error, since the server would bind it on every
// address. What a leaves zero stays as it is (a container of its own binds the real ports).
func AdjustCorefile(text string, a Adjust) (string, error) {
	out := adjustLines(text, a)
	var left []string
	for real, set := range map[string]bool{
		":8080": a.HealthPort != 0, ":8181": a.ReadyPort != 0, ":9153": a.MetricsPort != 0,
		"/etc/resolv.conf": a.Upstream != "",
		// The seed scenario serves :53 on an address of its own.
		":53 ": a.DNSPort != 0 && a.DNSPort != 53, ":53\n": a.DNSPort != 0 && a.DNSPort != 53,
	} {
		if set {
			left = append(left, real)
		}
	}
	slices.Sort(left)
	for _, real := range left {
		if strings.Contains(out, real) {
			return "", fmt.Errorf("the Corefile keeps %q after adjusting; keep to the shapes harness.AdjustCorefile knows:\n%s", strings.TrimSpace(real), out)
		}
	}
	return out, nil
}

func adjustLines(text string, a Adjust) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		switch {
		case keyLine.MatchString(line) && a.DNSPort != 0:
			m := keyLine.FindStringSubmatch(line)
			out = append(out, fmt.Sprintf("%s:%d {", m[1], a.DNSPort))
			if a.Bind != "" {
				out = append(out, "    bind "+a.Bind)
			}
			continue
		case healthLine.MatchString(line) && a.HealthPort != 0:
			m := healthLine.FindStringSubmatch(line)
			line = fmt.Sprintf("%shealth %s:%d%s", m[1], a.Bind, a.HealthPort, m[2])
		case readyLine.MatchString(line) && a.ReadyPort != 0:
			m := readyLine.FindStringSubmatch(line)
			line = fmt.Sprintf("%sready %s:%d", m[1], a.Bind, a.ReadyPort)
		case metricsLine.MatchString(line) && a.MetricsPort != 0:
			m := metricsLine.FindStringSubmatch(line)
			line = fmt.Sprintf("%sprometheus %s:%d", m[1], a.Bind, a.MetricsPort)
		case forwardLine.MatchString(line) && a.Upstream != "":
			m := forwardLine.FindStringSubmatch(line)
			line = fmt.Sprintf("%sforward . %s%s", m[1], a.Upstream, m[2])
		case stanzaLine.MatchString(line) && a.Kubeconfig != "":
			m := stanzaLine.FindStringSubmatch(line)
			out = append(out, m[1]+m[2]+m[3]+" {", m[1]+"    kubeconfig "+a.Kubeconfig)
			if m[4] == "" {
				out = append(out, m[1]+"}")
			}
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// Example reads corefile-examples/NAME.
func Example(name string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(filepath.Join(root, "corefile-examples", name))
	if err != nil {
		return "", fmt.Errorf("read example Corefile: %w", err)
	}
	return string(b), nil
}

// RepoRoot is the directory holding the project's go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repo root: %w", err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/podname/podname\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find repo root: no podname go.mod above the working directory")
		}
		dir = parent
	}
}
