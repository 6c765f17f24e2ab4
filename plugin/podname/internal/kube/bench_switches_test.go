//go:build podname_bench

package kube

import "testing"

func TestBenchCompression(t *testing.T) {
	for _, tc := range []struct {
		value   string
		def     bool
		disable bool
	}{
		{"", false, false},
		{"", true, true},
		{"on", true, false},
		{"off", false, true},
	} {
		got, err := benchCompression(tc.value, tc.def)
		if err != nil || got != tc.disable {
			t.Errorf("benchCompression(%q, %v) = %v, %v; want %v, nil", tc.value, tc.def, got, err, tc.disable)
		}
	}
	for _, value := range []string{"yes", "ON", "true", " off"} {
		if _, err := benchCompression(value, false); err == nil {
			t.Errorf("benchCompression(%q): no error", value)
		}
	}
}

func TestClientBenchCompressionUnknown(t *testing.T) {
	saved := compression
	t.Cleanup(func() { compression = saved })
	compression = func(def bool) (bool, error) { return benchCompression("gzip", def) }
	if _, err := (Connection{Endpoint: "http://127.0.0.1:1"}).Client(); err == nil {
		t.Fatalf("client with %s=gzip: no error", benchCompressionEnv)
	}
}
