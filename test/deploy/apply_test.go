package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/cluster"
	"github.com/podname/podname/test/harness"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestServerSideDryRun: the API server accepts every object of the base and of each overlay
// as rendered (schema, defaults, admission), creates none of them, and its Pod Security
// admission finds both overlays' pod templates "restricted".
func TestServerSideDryRun(t *testing.T) {
	c := harness.Cluster(t, cluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	for _, dir := range []string{"base", "overlays/replace-cluster-dns", "overlays/standalone"} {
		r := harness.Render(t, dir)
		// A dry run creates nothing, so objects in a namespace the same rendering creates
		// would be refused for want of it; such namespaces (with their Pod Security labels,
		// which the dry run's admission reads) are applied for real first.
		namespaces := harness.All[*corev1.Namespace](r)
		for _, ns := range namespaces {
			ns.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}
			b, err := json.Marshal(ns)
			if err != nil {
				t.Fatalf("encode namespace %s: %v", ns.Name, err)
			}
			file := filepath.Join(t.TempDir(), "namespace.json")
			if err := os.WriteFile(file, b, 0o644); err != nil {
				t.Fatalf("write namespace %s: %v", ns.Name, err)
			}
			if _, err := harness.KubectlClean(ctx, c.Kubeconfig(), "apply", "-f", file); err != nil {
				t.Fatalf("apply namespace %s of deploy/%s: %v", ns.Name, dir, err)
			}
		}
		out, err := harness.KubectlClean(ctx, c.Kubeconfig(), "apply", "--dry-run=server", "-k", r.Dir)
		if err != nil {
			t.Errorf("server-side dry run of deploy/%s: %v", dir, err)
			continue
		}
		// One "created (server dry run)" line per rendered object: none skipped, none existing.
		if n, want := strings.Count(out, " created (server dry run)\n"), len(r.Objects)-len(namespaces); n != want {
			t.Errorf("server-side dry run of deploy/%s: %d of %d objects created:\n%s", dir, n, want, out)
		}
	}
	// A dry run that wrote anything would make every later apply a lie.
	if _, err := c.Client().RbacV1().ClusterRoles().Get(ctx, "system:podname", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("after the dry runs ClusterRole system:podname: %v, want NotFound", err)
	}
	if _, err := c.Client().AppsV1().Deployments("podname").Get(ctx, "podname", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("after the dry runs Deployment podname/podname: %v, want NotFound", err)
	}

	// kube-system cannot enforce "restricted" (other system pods need more), so the replace
	// overlay's pods are checked here: each template is a Pod, dry-run created in a namespace
	// that enforces it.
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "restricted", Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted",
	}}}
	if _, err := c.Client().CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create namespace restricted: %v", err)
	}
	for _, dir := range []string{"overlays/replace-cluster-dns", "overlays/standalone"} {
		for _, d := range harness.All[*appsv1.Deployment](harness.Render(t, dir)) {
			harness.CreateServiceAccount(t, c, ns.Name, d.Spec.Template.Spec.ServiceAccountName)
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: d.Name, Namespace: ns.Name, Labels: d.Spec.Template.Labels},
				Spec:       d.Spec.Template.Spec,
			}
			_, err := c.Client().CoreV1().Pods(ns.Name).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
			if err != nil {
				t.Errorf("the pod template of deploy/%s Deployment %s under Pod Security restricted: %v", dir, d.Name, err)
			}
		}
	}
}

// TestInstallReplaceClusterDNS installs the overlay the way an operator would on a kubeadm
// cluster: kubeadm's CoreDNS objects and kube-dns Service exist and run, then `kubectl apply -k`.
// The Deployment rolls out our image (kwok plays the kubelet), the kube-dns Service is the same
// object with the same clusterIP and now selects the new pods, and coredns run with the
// Corefile and the identity the pods get (the live ConfigMap, a token of kube-system/coredns)
// answers the pods' names, their PTRs and cluster.local.
func TestInstallReplaceClusterDNS(t *testing.T) {
	c := harness.Cluster(t, cluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	kc := c.Kubeconfig()

	// kubeadm creates its objects through the API, without kubectl's last-applied annotation;
	// kubectl create does the same.
	if _, err := harness.KubectlClean(ctx, kc, "create", "-k", harness.DeployDir(t, "upstream")); err != nil {
		t.Fatalf("create kubeadm's CoreDNS: %v", err)
	}
	if _, err := harness.KubectlClean(ctx, kc, "create", "-f", filepath.Join("testdata", "kube-dns-service.yaml")); err != nil {
		t.Fatalf("create kubeadm's kube-dns Service: %v", err)
	}
	rollout(t, ctx, kc, "kube-system", "coredns")
	before, err := c.Client().CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get Service kube-dns: %v", err)
	}

	// Warnings are expected here: kubectl notes that kubeadm's objects lack its annotation.
	out, stderr, err := harness.Kubectl(ctx, kc, "apply", "-k", harness.DeployDir(t, "overlays/replace-cluster-dns"))
	if err != nil {
		t.Fatalf("apply the replace overlay: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if line != "" && !strings.Contains(line, "missing the kubectl.kubernetes.io/last-applied-configuration annotation") {
			t.Errorf("kubectl apply -k overlays/replace-cluster-dns said: %s", line)
		}
	}
	t.Logf("kubectl apply -k overlays/replace-cluster-dns:\n%s", out)
	rollout(t, ctx, kc, "kube-system", "coredns")

	ips := waitRunning(t, ctx, c, "kube-system", "k8s-app=kube-dns", 2)
	pods, err := c.Client().CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=kube-dns"})
	if err != nil {
		t.Fatalf("list the coredns pods: %v", err)
	}
	for _, p := range pods.Items {
		if got := p.Spec.Containers[0].Image; got != image {
			t.Errorf("pod %s runs %s, want %s", p.Name, got, image)
		}
	}

	after, err := c.Client().CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get Service kube-dns after the apply: %v", err)
	}
	if after.UID != before.UID || after.ResourceVersion != before.ResourceVersion || after.Spec.ClusterIP != "10.96.0.10" {
		t.Errorf("Service kube-dns changed: uid %s->%s, resourceVersion %s->%s, clusterIP %s->%s",
			before.UID, after.UID, before.ResourceVersion, after.ResourceVersion, before.Spec.ClusterIP, after.Spec.ClusterIP)
	}
	waitEndpoints(t, ctx, c, "kube-system", "kube-dns", ips)

	cm, err := c.Client().CoreV1().ConfigMaps("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get ConfigMap coredns: %v", err)
	}
	shipped, err := os.ReadFile(harness.DeployDir(t, "overlays/replace-cluster-dns/Corefile"))
	if err != nil {
		t.Fatalf("read the overlay's Corefile: %v", err)
	}
	if cm.Data["Corefile"] != string(shipped) {
		t.Fatalf("ConfigMap kube-system/coredns holds\n%s\nnot the overlay's Corefile", cm.Data["Corefile"])
	}

	dnsServer := harness.Start(t, cm.Data["Corefile"], harness.Loopback(t, harness.ServiceAccountKubeconfig(t, c, t.TempDir(), "kube-system", "coredns")))
	waitReady(t, dnsServer)
	for name, ip := range ips {
		expectA(t, dnsServer.Addr(), name+"."+zone, ip)
		expectPTR(t, dnsServer.Addr(), ip, name+"."+zone+".")
	}
	// The kubernetes plugin still answers, through kubeadm's ClusterRole on the same identity.
	expectA(t, dnsServer.Addr(), "kube-dns.kube-system.svc.cluster.local", "10.96.0.10")
}

// TestInstallStandalone installs the standalone overlay with `kubectl apply -k`: no warning
// (Pod Security "restricted" warns and enforces in its namespace), the Deployment rolls out,
// its Service selects both pods, coredns run with the live ConfigMap as ServiceAccount
// podname/podname answers the pods' names, and the stanza deploy/README.md gives the cluster's
// CoreDNS forwards the zone to it.
func TestInstallStandalone(t *testing.T) {
	c := harness.Cluster(t, cluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	kc := c.Kubeconfig()

	out, err := harness.KubectlClean(ctx, kc, "apply", "-k", harness.DeployDir(t, "overlays/standalone"))
	if err != nil {
		t.Fatalf("apply the standalone overlay: %v", err)
	}
	t.Logf("kubectl apply -k overlays/standalone:\n%s", out)
	rollout(t, ctx, kc, "podname", "podname")
	ips := waitRunning(t, ctx, c, "podname", "app.kubernetes.io/name=podname", 2)
	svc, err := c.Client().CoreV1().Services("podname").Get(ctx, "podname", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get Service podname/podname: %v", err)
	}
	if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == corev1.ClusterIPNone {
		t.Fatalf("Service podname/podname has clusterIP %q; the cluster's CoreDNS forwards to it", svc.Spec.ClusterIP)
	}
	waitEndpoints(t, ctx, c, "podname", "podname", ips)

	cm, err := c.Client().CoreV1().ConfigMaps("podname").Get(ctx, "podname", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get ConfigMap podname/podname: %v", err)
	}
	standalone := harness.Start(t, cm.Data["Corefile"], harness.Loopback(t, harness.ServiceAccountKubeconfig(t, c, t.TempDir(), "podname", "podname")))
	waitReady(t, standalone)
	for name, ip := range ips {
		expectA(t, standalone.Addr(), name+"."+zone, ip)
	}

	// The cluster's CoreDNS, with the README's stanza forwarding to the Service (here, to the
	// standalone server's loopback address), answers the same names.
	stanza := readmeForwardStanza(t)
	a := harness.Loopback(t, "")
	clusterDNS := harness.Start(t, strings.ReplaceAll(stanza, serviceIPPlaceholder, standalone.Addr()), a)
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	for name, ip := range ips {
		if _, err := harness.WaitAnswer(wctx, clusterDNS.Addr(), name+"."+zone, dns.TypeA, func(r *dns.Msg) bool {
			return r.Rcode == dns.RcodeSuccess && slices.Equal(harness.Addresses(r), []string{ip})
		}); err != nil {
			t.Errorf("the README's forward stanza: %v", err)
		}
	}
}

// serviceIPPlaceholder stands for the standalone Service's clusterIP in deploy/README.md.
const serviceIPPlaceholder = "PODNAME_SERVICE_IP"

// readmeForwardStanza returns the corefile block of deploy/README.md that forwards to
// serviceIPPlaceholder.
func readmeForwardStanza(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(harness.DeployDir(t, "README.md"))
	if err != nil {
		t.Fatalf("read deploy/README.md: %v", err)
	}
	var found []string
	for _, m := range regexp.MustCompile("(?s)```corefile\n(.*?)```").FindAllStringSubmatch(string(b), -1) {
		if strings.Contains(m[1], "forward . "+serviceIPPlaceholder) {
			found = append(found, m[1])
		}
	}
	if len(found) != 1 {
		t.Fatalf("deploy/README.md has %d corefile blocks with forward . %s, want 1", len(found), serviceIPPlaceholder)
	}
	return dedent(found[0])
}

// dedent removes the indentation of a Markdown list item from every line of block.
func dedent(block string) string {
	lines := strings.Split(block, "\n")
	indent := -1
	for _, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		if n := len(line) - len(strings.TrimLeft(line, " ")); indent < 0 || n < indent {
			indent = n
		}
	}
	for i, line := range lines {
		if len(line) >= indent && indent > 0 {
			lines[i] = line[indent:]
		}
	}
	return strings.Join(lines, "\n")
}

// rollout waits for `kubectl rollout status` of Deployment ns/name.
func rollout(t *testing.T, ctx context.Context, kubeconfig, ns, name string) {
	t.Helper()
	if _, err := harness.KubectlClean(ctx, kubeconfig, "-n", ns, "rollout", "status", "deployment/"+name, "--timeout=90s"); err != nil {
		t.Fatalf("rollout of Deployment %s/%s: %v", ns, name, err)
	}
}

// waitEndpoints waits until the EndpointSlices of Service ns/name hold exactly the ready
// addresses ips (pod name to IP).
func waitEndpoints(t *testing.T, ctx context.Context, c *cluster.Cluster, ns, name string, ips map[string]string) {
	t.Helper()
	want := slices.Sorted(maps.Values(ips))
	var got []string
	err := harness.Poll(ctx, fmt.Sprintf("EndpointSlices of Service %s/%s to hold %v", ns, name, want), func() (bool, error) {
		list, err := c.Client().DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + name})
		if err != nil {
			return false, fmt.Errorf("list EndpointSlices: %w", err)
		}
		got = got[:0]
		for _, s := range list.Items {
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready {
					got = append(got, e.Addresses...)
				}
			}
		}
		slices.Sort(got)
		return slices.Equal(got, want), nil
	})
	if err != nil {
		t.Fatalf("%v (last: %v)", err, got)
	}
}

// expectA fails t unless server answers name's A query with exactly ip, at once.
func expectA(t *testing.T, server, name, ip string) {
	t.Helper()
	r, err := harness.Query(server, name, dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rcode != dns.RcodeSuccess || !slices.Equal(harness.Addresses(r), []string{ip}) {
		t.Errorf("A %s: %s %v, want NOERROR %s", name, dns.RcodeToString[r.Rcode], harness.Addresses(r), ip)
	}
}

// expectPTR fails t unless server answers the PTR query of ip with exactly target.
func expectPTR(t *testing.T, server, ip, target string) {
	t.Helper()
	rev, err := dns.ReverseAddr(ip)
	if err != nil {
		t.Fatalf("reverse name of %s: %v", ip, err)
	}
	r, err := harness.Query(server, rev, dns.TypePTR)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rr := range r.Answer {
		if p, ok := rr.(*dns.PTR); ok {
			got = append(got, p.Ptr)
		}
	}
	if r.Rcode != dns.RcodeSuccess || !slices.Equal(got, []string{target}) {
		t.Errorf("PTR %s: %s %v, want NOERROR %s", rev, dns.RcodeToString[r.Rcode], got, target)
	}
}
