// Command coredns is CoreDNS with every in-tree plugin plus podname.
package main

import (
	"github.com/coredns/coredns/core/dnsserver"
	_ "github.com/coredns/coredns/core/plugin" // every in-tree plugin
	"github.com/coredns/coredns/coremain"

	"github.com/podname/podname/plugin/podname"
)

// before is the directive podname runs just ahead of: in reverse zones both
// own, a pod's PTR names its podname host and the rest falls through.
const before = "kubernetes"

func init() {
	dnsserver.Directives = insertBefore(dnsserver.Directives, podname.Name, before)
}

// insertBefore returns directives with name placed just ahead of anchor.
// It panics when anchor is missing: a build without it is a wrong build.
func insertBefore(directives []string, name, anchor string) []string {
	for i, d := range directives {
		if d == anchor {
			out := make([]string, 0, len(directives)+1)
			out = append(out, directives[:i]...)
			out = append(out, name)
			return append(out, directives[i:]...)
		}
	}
	panic("coredns: directive " + anchor + " not found")
}

func main() {
	coremain.Run()
}
