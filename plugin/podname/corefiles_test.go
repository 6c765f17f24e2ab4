package podname

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/coredns/caddy"
	"github.com/coredns/caddy/caddyfile"
	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/core/plugin" // every in-tree directive
	"github.com/coredns/coredns/plugin/kubernetes"
)

// corefileBlock finds ~~~ corefile / ```corefile blocks in Markdown.
var corefileBlock = regexp.MustCompile("(?s)(?:~~~|```) ?corefile\n(.*?)(?:~~~|```)")

// TestCorefiles parses every Corefile we ship or show: the examples and
// the Corefile blocks of the READMEs. Every directive must exist, and the
// podname and kubernetes stanzas must pass their own parsers.
func TestCorefiles(t *testing.T) {
	inputs := map[string]string{}
	examples, err := filepath.Glob("../../corefile-examples/*Corefile")
	if err != nil || len(examples) < 3 {
		t.Fatalf("corefile-examples: %v (found %d)", err, len(examples))
	}
	for _, f := range examples {
		inputs[f] = read(t, f)
	}
	for _, readme := range []string{"README.md", "../../README.md"} {
		for i, m := range corefileBlock.FindAllStringSubmatch(read(t, readme), -1) {
			inputs[readme+"#"+string(rune('1'+i))] = m[1]
		}
	}
	directives := append(slices.Clone(dnsserver.Directives), Name)
	stanzas := 0
	for name, text := range inputs {
		blocks, err := caddyfile.Parse(name, strings.NewReader(text), directives)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, b := range blocks {
			if tokens, ok := b.Tokens[Name]; ok {
				stanzas++
				if _, err := parse(controller(name, b, tokens)); err != nil {
					t.Errorf("%s: podname: %v", name, err)
				}
			}
			if tokens, ok := b.Tokens["kubernetes"]; ok {
				c := controller(name, b, tokens)
				c.Next()
				if _, err := kubernetes.ParseStanza(c); err != nil {
					t.Errorf("%s: kubernetes: %v", name, err)
				}
			}
		}
	}
	if stanzas < len(examples) {
		t.Fatalf("found %d podname stanzas in %d inputs", stanzas, len(inputs))
	}
}

func controller(file string, b caddyfile.ServerBlock, tokens []caddyfile.Token) *caddy.Controller {
	c := caddy.NewTestController("dns", "")
	c.Dispenser = caddyfile.NewDispenserTokens(file, tokens)
	c.ServerBlockKeys = b.Keys
	return c
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
