// Package podtest holds the fixtures podname's tests share: Pods and
// Services as the API server would send them, a wait, and the log.
package podtest

import (
	"bytes"
	golog "log"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	api "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Base is the creation time of the fixtures; later pods are younger.
var Base = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// PodOpt changes a fixture Pod.
type PodOpt func(*api.Pod)

// Pod is a Running pod of the seed's Deployment with the given IPs.
func Pod(ns, name string, ips []string, opts ...PodOpt) *api.Pod {
	p := &api.Pod{
		ObjectMeta: meta.ObjectMeta{
			Namespace: ns, Name: name,
			Labels:            map[string]string{"app": "ws", "pod-template-hash": "777779bd59"},
			CreationTimestamp: meta.NewTime(Base),
		},
		Status: api.PodStatus{Phase: api.PodRunning},
	}
	for _, ip := range ips {
		p.Status.PodIPs = append(p.Status.PodIPs, api.PodIP{IP: ip})
	}
	if len(ips) > 0 {
		p.Status.PodIP = ips[0]
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Created makes the pod d younger than Base.
func Created(d time.Duration) PodOpt {
	return func(p *api.Pod) { p.CreationTimestamp = meta.NewTime(Base.Add(d)) }
}

// Hostname sets spec.hostname.
func Hostname(h string) PodOpt { return func(p *api.Pod) { p.Spec.Hostname = h } }

// Override sets spec.hostnameOverride.
func Override(h string) PodOpt { return func(p *api.Pod) { p.Spec.HostnameOverride = &h } }

// HostNetwork puts the pod in the node's network.
func HostNetwork() PodOpt { return func(p *api.Pod) { p.Spec.HostNetwork = true } }

// Phase sets status.phase.
func Phase(ph api.PodPhase) PodOpt { return func(p *api.Pod) { p.Status.Phase = ph } }

// Labels replaces the pod's labels.
func Labels(l map[string]string) PodOpt { return func(p *api.Pod) { p.Labels = l } }

// ResourceVersion sets metadata.resourceVersion.
func ResourceVersion(rv int) PodOpt {
	return func(p *api.Pod) { p.ResourceVersion = strconv.Itoa(rv) }
}

// Terminating gives the pod a deletionTimestamp.
func Terminating() PodOpt {
	return func(p *api.Pod) { t := meta.NewTime(Base); p.DeletionTimestamp = &t }
}

// Service is a Service with the given selector.
func Service(ns, name string, selector map[string]string) *api.Service {
	return &api.Service{ObjectMeta: meta.ObjectMeta{Namespace: ns, Name: name}, Spec: api.ServiceSpec{Selector: selector}}
}

// Pick returns one of xs at random.
func Pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

// WaitFor polls cond until it holds or the deadline passes.
func WaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Log is what the plugin logs during a test.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// CaptureLog collects the process's log output until the test ends.
func CaptureLog(t *testing.T) *Log {
	t.Helper()
	l := &Log{}
	out := golog.Writer()
	golog.SetOutput(l)
	t.Cleanup(func() { golog.SetOutput(out) })
	return l
}

func (l *Log) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(b)
}

// Count is how often s was logged.
func (l *Log) Count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), s)
}

// String is all that was logged.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
