package e2e

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podname/podname/test/harness"
)

const zone = "mgmt.pix.yun.com"

// TestSeedDeployment is the write-up's case: a plain Deployment ws and a
// plain Service ws; every pod answers at <pod>.mgmt.pix.yun.com and
// <pod>.ws.mgmt.pix.yun.com with the IP the API server shows.
func TestSeedDeployment(t *testing.T) {
	ns := harness.Namespace(t, kube.Client(), "seed")
	ctx := context.Background()
	if _, err := kube.Client().CoreV1().Services(ns).Create(ctx, harness.WSService(ns), meta.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := kube.Client().AppsV1().Deployments(ns).Create(ctx, harness.WSDeployment(ns, 2), meta.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := harness.Running(ctx, t, kube.Client(), ns, "app=ws", 2)

	c := harness.StartExample(t, "Corefile", kube.Kubeconfig())
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.WaitReady(wctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range pods {
		for _, name := range []string{p.Name + "." + zone, p.Name + ".ws." + zone} {
			_, err := harness.WaitAnswer(wctx, c.Addr(), name, dns.TypeA, func(r *dns.Msg) bool {
				return r.Rcode == dns.RcodeSuccess && slices.Equal(harness.Addresses(r), []string{p.Status.PodIP})
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := harness.Dig(c.Addr(), name, "A")
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, []string{p.Status.PodIP}) {
				t.Fatalf("dig %s = %v, want %s", name, got, p.Status.PodIP)
			}
			t.Logf("%s -> %s", name, p.Status.PodIP)
		}
	}
}
