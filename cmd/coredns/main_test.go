package main

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/coredns/caddy"
	"github.com/coredns/coredns/core/dnsserver"

	"github.com/podname/podname/plugin/podname"
)

func TestDirectiveOrder(t *testing.T) {
	at := func(name string) int {
		i := slices.Index(dnsserver.Directives, name)
		if i < 0 {
			t.Fatalf("directive %s missing", name)
		}
		return i
	}
	pod := at("podname")
	if at("kubernetes") != pod+1 {
		t.Fatalf("podname at %d, kubernetes at %d: podname must run just before kubernetes", pod, at("kubernetes"))
	}
	for _, before := range []string{"rewrite", "cache", "hosts", "k8s_external"} {
		if at(before) > pod {
			t.Errorf("%s must run before podname", before)
		}
	}
	for _, after := range []string{"file", "forward"} {
		if at(after) < pod {
			t.Errorf("%s must run after podname", after)
		}
	}
	if n := strings.Count(strings.Join(dnsserver.Directives, " ")+" ", "podname "); n != 1 {
		t.Errorf("podname listed %d times", n)
	}
}

func TestPluginRegistered(t *testing.T) {
	// CoreDNS 1.15's -plugins drops the "dns." prefix it registers under.
	if !slices.Contains(caddy.ListPlugins()["others"], "dns.podname") {
		t.Fatal("podname is not registered as dns.podname")
	}
	if !slices.Contains(strings.Split(caddy.DescribePlugins(), "\n"), "podname") {
		t.Fatal("coredns -plugins would not list podname")
	}
}

func TestInsertBeforeMissingAnchor(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a missing anchor did not panic")
		}
	}()
	insertBefore([]string{"a"}, "b", "nope")
}

// TestReadmePluginCfg: the plugin README's plugin.cfg line, for those who build podname into
// their own CoreDNS, names the package this build imports and places it where this build does.
func TestReadmePluginCfg(t *testing.T) {
	b, err := os.ReadFile("../../plugin/podname/README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	pkg := reflect.TypeFor[podname.PodName]().PkgPath()
	if line := podname.Name + ":" + pkg; !strings.Contains(readme, "\n"+line+"\n") {
		t.Errorf("plugin/podname/README.md has no plugin.cfg line %q", line)
	}
	flat := strings.Join(strings.Fields(readme), " ")
	if anchor := "just before `" + before + ":" + before + "`"; !strings.Contains(flat, anchor) {
		t.Errorf("plugin/podname/README.md does not place podname %q", anchor)
	}
}
