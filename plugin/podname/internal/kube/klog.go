package kube

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	clog "github.com/coredns/coredns/plugin/pkg/log"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"
)

// RouteKlog sends client-go's klog output through CoreDNS's logger, as the
// kubernetes plugin does. klog is process-wide, so once a process is enough.
// It never calls klog.InitFlags: a second call panics on reload.
var RouteKlog = sync.OnceFunc(func() { klog.SetLogger(logr.New(klogSink{log: log})) })

// klogSink is a logr.LogSink that writes through a CoreDNS logger. klog
// checks verbosity before it calls the sink.
type klogSink struct {
	log    clog.P
	values []any // key/value pairs from WithValues, always of even length
}

func (klogSink) Init(logr.RuntimeInfo) {}

func (klogSink) Enabled(int) bool { return true }

func (s klogSink) Info(_ int, msg string, kv ...any) { s.log.Info(s.line(msg, nil, kv)) }

func (s klogSink) Error(err error, msg string, kv ...any) { s.log.Error(s.line(msg, err, kv)) }

func (s klogSink) WithValues(kv ...any) logr.LogSink {
	s.values = append(slices.Clip(s.values), kv...)
	if len(s.values)%2 != 0 {
		s.values = append(s.values, missingValue) // as klog pads, so later pairs stay pairs
	}
	return s
}

func (s klogSink) WithName(string) logr.LogSink { return s }

// missingValue is what klog prints for a key without a value.
const missingValue = "(MISSING)"

// line renders the message, the error, then the key/value pairs: client-go
// puts most of its context (the resource, the reflector) in the pairs.
func (s klogSink) line(msg string, err error, kv []any) string {
	var b strings.Builder
	b.WriteString(msg)
	if err != nil {
		b.WriteString(": ")
		b.WriteString(err.Error())
	}
	kv = append(slices.Clip(s.values), kv...)
	for i := 0; i < len(kv); i += 2 {
		var v any = missingValue
		if i+1 < len(kv) {
			v = kv[i+1]
		}
		switch v := v.(type) {
		case string:
			fmt.Fprintf(&b, " %v=%q", kv[i], v)
		case error:
			fmt.Fprintf(&b, " %v=%q", kv[i], v.Error())
		default:
			fmt.Fprintf(&b, " %v=%v", kv[i], v)
		}
	}
	return b.String()
}
