package deploy

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/podname/podname/test/cluster"
	"github.com/podname/podname/test/harness"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestShippedCorefiles runs the Corefile each install path ships, as rendered (the ConfigMap
// of each overlay) or as the chart writes it from deploy/helm/coredns-values.yaml, with only ports,
// the kubeconfig and forward's upstream changed by harness.AdjustCorefile. Each answers the
// pods' names; the two that replace the cluster DNS also answer the pods' PTRs from podname and
// cluster.local from the kubernetes plugin after it.
func TestShippedCorefiles(t *testing.T) {
	c := harness.Cluster(t, cluster.Options{})
	ips := runPods(t, c, "shipped-a", "shipped-b")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	api, err := c.Client().CoreV1().Services(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get Service default/kubernetes: %v", err)
	}

	for _, tc := range []struct {
		name        string
		corefile    func(t *testing.T) string
		clusterZone bool // also serves cluster.local and the pods' PTRs
	}{
		{"replace-cluster-dns", func(t *testing.T) string {
			return harness.ConfigMapCorefile(t, harness.Render(t, "overlays/replace-cluster-dns"), "coredns")
		}, true},
		{"standalone", func(t *testing.T) string {
			return harness.ConfigMapCorefile(t, harness.Render(t, "overlays/standalone"), "podname")
		}, false},
		{"helm", func(t *testing.T) string { return helmCorefile(readHelmValues(t)) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dnsServer := harness.Start(t, tc.corefile(t), harness.Loopback(t, c.Kubeconfig()))
			waitReady(t, dnsServer)
			for _, name := range slices.Sorted(maps.Keys(ips)) {
				expectA(t, dnsServer.Addr(), name+"."+zone, ips[name])
				if tc.clusterZone {
					expectPTR(t, dnsServer.Addr(), ips[name], name+"."+zone+".")
				}
			}
			if tc.clusterZone {
				expectA(t, dnsServer.Addr(), "kubernetes.default.svc.cluster.local", api.Spec.ClusterIP)
			}
		})
	}
}
