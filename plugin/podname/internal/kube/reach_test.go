package kube

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/podname/podname/plugin/podname/internal/podtest"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestReachLogsOutageOnce: a client whose API server goes away logs one
// warning however often it retries, and one line when it gets through again.
func TestReachLogsOutageOnce(t *testing.T) {
	logs := podtest.CaptureLog(t)
	arrived := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/namespaces/slow/") {
			arrived <- struct{}{}
			<-r.Context().Done() // held until the client gives up
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"kind":"PodList","apiVersion":"v1","metadata":{},"items":[]}`))
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	client, err := Connection{Endpoint: srv.URL}.Client()
	if err != nil {
		t.Fatal(err)
	}
	list := func() error {
		_, err := client.CoreV1().Pods("").List(context.Background(), meta.ListOptions{})
		return err
	}
	if err := list(); err != nil {
		t.Fatalf("list with the server up: %v", err)
	}
	// The API server goes away: its port refuses connections.
	srv.Listener.Close()
	srv.CloseClientConnections()
	for range 3 {
		if list() == nil {
			t.Fatal("list succeeded with the server gone")
		}
	}
	if n := logs.Count("cannot reach the API server"); n != 1 {
		t.Fatalf("%d outage warnings for three failed requests, want 1:\n%s", n, logs.String())
	}
	// It comes back on the same address.
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s again to bring the server back: %v", addr, err)
	}
	back := &http.Server{Handler: srv.Config.Handler}
	go back.Serve(l)
	defer back.Close()
	if err := list(); err != nil {
		t.Fatalf("list with the server back: %v", err)
	}
	if n := logs.Count("API server reachable again"); n != 1 {
		t.Fatalf("%d recovery lines, want 1:\n%s", n, logs.String())
	}
	if !regexp.MustCompile(`reachable again \(endpoint=\S+\) after \d+(\.\d+)?s\n`).MatchString(logs.String()) {
		t.Fatalf("the recovery line does not give the outage in seconds:\n%s", logs.String())
	}
	// A request we cancel ourselves (a stopped watch) is not an outage.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	if _, err := client.CoreV1().Pods("slow").List(ctx, meta.ListOptions{}); err == nil {
		t.Fatal("a cancelled list succeeded")
	}
	if n := logs.Count("cannot reach the API server"); n != 1 {
		t.Fatalf("a cancelled request was logged as an outage:\n%s", logs.String())
	}
}

func TestSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		12300 * time.Millisecond:   "12.3s",
		40 * time.Millisecond:      "0.04s",
		1234567 * time.Microsecond: "1.235s",
		time.Minute:                "60s",
		0:                          "0s",
	} {
		if got := seconds(d); got != want {
			t.Errorf("seconds(%v) = %q, want %q", d, got, want)
		}
	}
}
