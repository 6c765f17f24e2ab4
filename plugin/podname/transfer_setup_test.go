package podname

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/core/dnsserver"
	coretest "github.com/coredns/coredns/test"

	"github.com/miekg/dns"
	"github.com/podname/podname/plugin/podname/internal/podtest"
	api "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fakeAPIServer serves a list of pods and no Services at resource version
// 10, and watches that stay open and quiet. It refuses watch-list streams,
// so client-go falls back to list and watch.
func fakeAPIServer(t *testing.T, pods ...*api.Pod) string {
	t.Helper()
	podList := &api.PodList{TypeMeta: meta.TypeMeta{Kind: "PodList", APIVersion: "v1"}, ListMeta: meta.ListMeta{ResourceVersion: "10"}}
	for _, p := range pods {
		podList.Items = append(podList.Items, *p)
	}
	svcList := &api.ServiceList{TypeMeta: meta.TypeMeta{Kind: "ServiceList", APIVersion: "v1"}, ListMeta: meta.ListMeta{ResourceVersion: "10"}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case q.Get("watch") == "true" && q.Get("sendInitialEvents") == "true":
			http.Error(w, "no watch-list", http.StatusBadRequest)
		case q.Get("watch") == "true":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		case strings.HasSuffix(r.URL.Path, "/pods"):
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(podList)
		case strings.HasSuffix(r.URL.Path, "/services"):
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(svcList)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv.URL
}

// withPodnameDirective puts podname into the directive order for the test,
// as cmd/coredns does, so a Corefile can name it and the transfer plugin
// finds it among the server's handlers.
func withPodnameDirective(t *testing.T) {
	t.Helper()
	if slices.Contains(dnsserver.Directives, Name) {
		return
	}
	saved := dnsserver.Directives
	i := slices.Index(saved, "kubernetes")
	dnsserver.Directives = slices.Insert(slices.Clone(saved), i, Name)
	t.Cleanup(func() { dnsserver.Directives = saved })
}

// serve starts CoreDNS in the process with corefile and returns its TCP address.
func serve(t *testing.T, corefile string) string {
	t.Helper()
	i, _, tcp, err := coretest.CoreDNSServerAndPorts(corefile)
	if err != nil {
		t.Fatalf("start CoreDNS with\n%s\n%v", corefile, err)
	}
	t.Cleanup(func() {
		// Stop leaves the shutdown callbacks, which stop podname's watch.
		for _, err := range i.ShutdownCallbacks() {
			t.Errorf("shut down: %v", err)
		}
		coretest.CoreDNSServerStop(i)
	})
	return tcp
}

// TestTransferThroughCorefile: with `transfer` in its server block, the
// server podname runs in sends its zone by AXFR to the addresses `to`
// allows; without it, to anyone else, or without the TSIG the tsig plugin
// requires, AXFR is REFUSED.
func TestTransferThroughCorefile(t *testing.T) {
	withPodnameDirective(t)
	url := fakeAPIServer(t, podtest.Pod("default", "ws-1", []string{"10.36.0.1"}, podtest.ResourceVersion(7)))
	stanza := "podname {\n endpoint " + url + "\n startup_timeout 10s\n}"
	for _, tc := range []struct {
		name, block string
		want        int // rcode, or -1 for a transfer
	}{
		{"transfer to all", "transfer {\n to *\n}\n" + stanza, -1},
		{"transfer to another address", "transfer {\n to 127.0.0.2:1\n}\n" + stanza, dns.RcodeRefused}, // loopback, nothing listens: the NOTIFY goes nowhere
		{"no transfer", stanza, dns.RcodeRefused},
		{"transfer of another zone", "transfer example.org {\n to *\n}\n" + stanza, dns.RcodeRefused},
		{"TSIG required, none given", "tsig {\n secret xfr.key. MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=\n require AXFR IXFR\n}\n" +
			"transfer {\n to *\n}\n" + stanza, dns.RcodeRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tcp := serve(t, zone+":0 {\n"+tc.block+"\n}")
			m := new(dns.Msg).SetQuestion(zone, dns.TypeAXFR)
			if tc.want >= 0 {
				c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
				r, _, err := c.Exchange(m, tcp)
				if err != nil || r.Rcode != tc.want {
					t.Fatalf("AXFR: %v, %v; want %s", r, err, dns.RcodeToString[tc.want])
				}
				return
			}
			envs, err := (&dns.Transfer{ReadTimeout: 5 * time.Second}).In(m, tcp)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for env := range envs {
				if env.Error != nil {
					t.Fatal(env.Error)
				}
				for _, rr := range env.RR {
					got = append(got, rrKey(rr))
				}
			}
			soa := "mgmt.pix.yun.com.\t5\tIN\tSOA\tns.dns.mgmt.pix.yun.com. hostmaster.mgmt.pix.yun.com. 10 7200 1800 86400 5"
			if len(got) < 4 || got[0] != soa || got[len(got)-1] != soa ||
				!slices.Contains(got, "ws-1.mgmt.pix.yun.com.\t5\tIN\tA\t10.36.0.1") {
				t.Fatalf("AXFR gave %v; want the pod between SOAs at the list's version 10", got)
			}
		})
	}
}
