package kube

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/podname/podname/plugin/podname/internal/podtest"
	"k8s.io/klog/v2"
)

// TestKlogThroughCoreDNS: once routed, client-go's klog lines come out
// through CoreDNS's logger.
func TestKlogThroughCoreDNS(t *testing.T) {
	logs := podtest.CaptureLog(t)
	RouteKlog()
	klog.InfoS("Caches populated", "type", "*v1.Pod", "reflector", "podname")
	klog.ErrorS(errors.New("connection refused"), "Failed to watch", "resource", "pods", "odd")
	logr.New(klogSink{log: log}).WithValues("watch", "0f1e2d3c", "odd").WithValues("n", 2).Info("values kept")
	for _, want := range []string{
		`[INFO] plugin/podname: Caches populated type="*v1.Pod" reflector="podname"`,
		`[ERROR] plugin/podname: Failed to watch: connection refused resource="pods" odd="(MISSING)"`,
		`[INFO] plugin/podname: values kept watch="0f1e2d3c" odd="(MISSING)" n=2`,
	} {
		if logs.Count(want) != 1 {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "klog_test.go") {
		t.Errorf("klog wrote its own header:\n%s", logs.String())
	}
}
