//go:build podname_bench

package kube

import (
	"fmt"
	"os"
)

// The bench's build (go build -tags podname_bench, make build-bench) reads two switches from
// coredns's environment, so one run measures what the product does beside what it does not:
// PODNAME_BENCH_DECODE=full decodes pods whole; PODNAME_BENCH_COMPRESSION=on|off sets gzip of
// the API server's responses. The product's build has neither.
const (
	benchDecodeEnv      = "PODNAME_BENCH_DECODE"
	benchCompressionEnv = "PODNAME_BENCH_COMPRESSION"
)

func init() {
	if v := os.Getenv(benchDecodeEnv); v != "" {
		fullDecode = v == "full"
		log.Infof("%s=%s: pods decoded %s", benchDecodeEnv, v, map[bool]string{true: "in full", false: "slim"}[fullDecode])
	}
	if v := os.Getenv(benchCompressionEnv); v != "" {
		log.Infof("%s=%s: gzip of API responses %s", benchCompressionEnv, v, v)
		compression = func(def bool) (bool, error) { return benchCompression(v, def) }
	}
}

// benchCompression is DisableCompression as value (of benchCompressionEnv) sets it: "on"
// false, "off" true, empty def. Any other value is an error.
func benchCompression(value string, def bool) (bool, error) {
	switch value {
	case "":
		return def, nil
	case "on":
		return false, nil
	case "off":
		return true, nil
	}
	return def, fmt.Errorf("%s=%q: want on or off", benchCompressionEnv, value)
}
