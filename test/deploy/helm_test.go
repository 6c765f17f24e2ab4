package deploy

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy/caddyfile"
	"github.com/miekg/dns"

	"github.com/podname/podname/test/cluster"
	"github.com/podname/podname/test/harness"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/diff"
)

// The release every chart test installs or renders, as deploy/README.md's commands name it:
// release podname in namespace podname, so that its namespaced objects carry the names of the
// standalone overlay's.
const (
	release          = "podname"
	releaseNamespace = "podname"
	// chartRole names the chart's ClusterRole and ClusterRoleBinding for that release.
	chartRole = "podname:podname:podname"
)

// fullValues sets every value of the chart away from its default.
var fullValues = filepath.Join("testdata", "podname-chart-values.yaml")

// chartDir is the chart's directory.
func chartDir(t *testing.T) string { return harness.DeployDir(t, "helm/podname") }

// helmTemplate runs `helm template` of the chart for the release with values (flags such as
// -f FILE or --set KEY=VALUE) and decodes the objects.
func helmTemplate(t *testing.T, values ...string) harness.Rendering {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := harness.HelmClean(t, ctx, "", append([]string{"template", release, chartDir(t), "-n", releaseNamespace}, values...)...)
	if err != nil {
		t.Fatalf("render deploy/helm/podname with %v: %v", values, err)
	}
	return harness.DecodeRendering(t, fmt.Sprintf("deploy/helm/podname with %v", values), chartDir(t), out)
}

// TestHelmLint: `helm lint --strict` finds nothing to warn of in the chart, with the default
// values and with every value set.
func TestHelmLint(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, values := range [][]string{nil, {"-f", fullValues}} {
		out, err := harness.HelmClean(t, ctx, "", append([]string{"lint", "--strict", chartDir(t)}, values...)...)
		if err != nil {
			t.Errorf("helm lint %v: %v\n%s", values, err, out)
			continue
		}
		if !strings.Contains(out, "1 chart(s) linted, 0 chart(s) failed") {
			t.Errorf("helm lint %v:\n%s", values, out)
		}
	}
}

// TestHelmTemplate: with the default values the chart renders the standalone overlay's objects
// but its Namespace: the same pod spec (but the labels its selectors use), Service ports,
// Corefile and ClusterRole rule, bound to its own ServiceAccount under names of its own. With
// every value set, each one reaches its object and the pod stays as hardened.
func TestHelmTemplate(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		r := helmTemplate(t)
		overlay := harness.Render(t, "overlays/standalone")
		var kinds []string
		for _, o := range r.Objects {
			kinds = append(kinds, o.GetObjectKind().GroupVersionKind().Kind)
		}
		slices.Sort(kinds)
		if want := []string{"ClusterRole", "ClusterRoleBinding", "ConfigMap", "Deployment", "Service", "ServiceAccount"}; !slices.Equal(kinds, want) {
			t.Errorf("the chart renders %v, want %v", kinds, want)
		}

		d := harness.One[*appsv1.Deployment](t, r, release)
		checkDeployment(t, r, d)
		od := harness.One[*appsv1.Deployment](t, overlay, "podname")
		// The selectors are the chart's own (name and instance); everything else is the overlay's.
		got, want := d.Spec.Template.Spec.DeepCopy(), od.Spec.Template.Spec.DeepCopy()
		got.Affinity, want.Affinity = nil, nil
		if !equality.Semantic.DeepEqual(got, want) {
			t.Errorf("the chart's pod spec differs from the standalone overlay's (-overlay +chart):\n%s", diff.Diff(want, got))
		}
		if d.Namespace != releaseNamespace {
			t.Errorf("Deployment %s is in namespace %q, want the release's, %s", d.Name, d.Namespace, releaseNamespace)
		}
		if corefile, shipped := harness.ConfigMapCorefile(t, r, release), readFile(t, harness.DeployDir(t, "overlays/standalone/Corefile")); corefile != shipped {
			t.Errorf("the chart's Corefile\n%s\nis not the standalone overlay's\n%s", corefile, shipped)
		}

		svc, osvc := harness.One[*corev1.Service](t, r, release), harness.One[*corev1.Service](t, overlay, "podname")
		if !equality.Semantic.DeepEqual(svc.Spec.Ports, osvc.Spec.Ports) || !maps.Equal(svc.Annotations, osvc.Annotations) {
			t.Errorf("Service %s has ports %v and annotations %v, want the overlay's %v and %v", svc.Name, svc.Spec.Ports, svc.Annotations, osvc.Spec.Ports, osvc.Annotations)
		}
		checkSelects(t, svc.Spec.Selector, d)

		sa := harness.One[*corev1.ServiceAccount](t, r, d.Spec.Template.Spec.ServiceAccountName)
		checkPodnameRules(t, harness.One[*rbacv1.ClusterRole](t, r, chartRole).Rules)
		checkBinding(t, harness.One[*rbacv1.ClusterRoleBinding](t, r, chartRole), chartRole, releaseNamespace, sa.Name)
	})

	t.Run("every value", func(t *testing.T) {
		r := helmTemplate(t, "-f", fullValues)
		d := harness.One[*appsv1.Deployment](t, r, release)
		for _, p := range hardening(d) {
			t.Errorf("Deployment %s: %s", d.Name, p)
		}
		spec := d.Spec.Template.Spec
		c := spec.Containers[0]
		for _, check := range []struct {
			what      string
			got, want any
		}{
			{"replicas", *d.Spec.Replicas, int32(3)},
			{"image", c.Image, "registry.example.com/coredns-podname:v9.9.9"},
			{"imagePullPolicy", c.ImagePullPolicy, corev1.PullAlways},
			{"imagePullSecrets", spec.ImagePullSecrets, []corev1.LocalObjectReference{{Name: "registry-example"}}},
			{"memory limit", c.Resources.Limits.Memory().String(), "512Mi"},
			{"cpu request", c.Resources.Requests.Cpu().String(), "200m"},
			{"priorityClassName", spec.PriorityClassName, "system-cluster-critical"},
			{"serviceAccountName", spec.ServiceAccountName, "dns-reader"},
			{"nodeSelector pool", spec.NodeSelector["example.org/pool"], "dns"},
			{"tolerations", len(spec.Tolerations), 1},
			{"required anti-affinity", len(spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution), 1},
			{"pod label tier", d.Spec.Template.Labels["tier"], "dns"},
			{"pod annotation", d.Spec.Template.Annotations["example.org/owner"], "dns"},
		} {
			if !equality.Semantic.DeepEqual(check.got, check.want) {
				t.Errorf("Deployment %s: %s is %v, want %v", d.Name, check.what, check.got, check.want)
			}
		}
		// Every object carries commonLabels.
		for _, o := range r.Objects {
			m, err := meta.Accessor(o)
			if err != nil {
				t.Fatalf("%T has no metadata: %v", o, err)
			}
			if m.GetLabels()["team"] != "dns" {
				t.Errorf("%T %s has labels %v, want team=dns from commonLabels", o, m.GetName(), m.GetLabels())
			}
		}

		sa := harness.One[*corev1.ServiceAccount](t, r, "dns-reader")
		if sa.Annotations["example.org/role"] != "reader" {
			t.Errorf("ServiceAccount dns-reader has annotations %v, want example.org/role=reader", sa.Annotations)
		}
		checkBinding(t, harness.One[*rbacv1.ClusterRoleBinding](t, r, chartRole), chartRole, releaseNamespace, "dns-reader")
		checkPodnameRules(t, harness.One[*rbacv1.ClusterRole](t, r, chartRole).Rules)
		svc := harness.One[*corev1.Service](t, r, release)
		if svc.Annotations["example.org/scrape"] != "yes" {
			t.Errorf("Service %s has annotations %v, want example.org/scrape=yes", svc.Name, svc.Annotations)
		}

		corefile := harness.ConfigMapCorefile(t, r, release)
		blocks, err := caddyfile.Parse("chart Corefile", strings.NewReader(corefile), nil)
		if err != nil {
			t.Fatalf("the chart's Corefile does not parse: %v\n%s", err, corefile)
		}
		if want := []string{zone + ":53", "pods.example.org:53"}; len(blocks) != 1 || !slices.Equal(blocks[0].Keys, want) {
			t.Errorf("the chart's Corefile serves %v, want one block for %v", blocks, want)
		}
		_, stanza := cutStanza(t, corefile, "podname")
		if got, want := strings.Fields(stanza), strings.Fields("podname { namespaces prod staging labels tier in (web,ws) ttl 30 }"); !slices.Equal(got, want) {
			t.Errorf("the chart's podname stanza is %q, want %q", got, want)
		}

		pdb := harness.One[*policyv1.PodDisruptionBudget](t, r, release)
		if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 2 {
			t.Errorf("PodDisruptionBudget %s has maxUnavailable %v, want 2", pdb.Name, pdb.Spec.MaxUnavailable)
		}
		sel, err := metav1.LabelSelectorAsMap(pdb.Spec.Selector)
		if err != nil {
			t.Fatalf("PodDisruptionBudget %s selector: %v", pdb.Name, err)
		}
		checkSelects(t, sel, d)

		sm := harness.One[*unstructured.Unstructured](t, r, release)
		endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
		smSel, _, _ := unstructured.NestedStringMap(sm.Object, "spec", "selector", "matchLabels")
		if sm.GetKind() != "ServiceMonitor" || len(endpoints) != 1 || sm.GetLabels()["release"] != "prometheus" {
			t.Errorf("ServiceMonitor %s: %v", sm.GetName(), sm.Object)
		} else if ep := endpoints[0].(map[string]any); ep["port"] != "metrics" || ep["interval"] != "15s" {
			t.Errorf("ServiceMonitor %s scrapes %v, want port metrics every 15s", sm.GetName(), ep)
		}
		if len(smSel) == 0 || !labels.SelectorFromSet(smSel).Matches(labels.Set(svc.Labels)) {
			t.Errorf("ServiceMonitor %s selects %v, which misses Service %s %v", sm.GetName(), smSel, svc.Name, svc.Labels)
		}
	})
}

// TestHelmChart installs the chart with deploy/README.md's commands into one cluster and
// checks what a release does there: the API server accepts both renderings in a dry run (no
// Pod Security warning in a "restricted" namespace), `helm install` rolls the Deployment out,
// the chart's ServiceAccount holds exactly podname's rule, coredns run with the live Corefile
// as that ServiceAccount answers the release's pods' names (and takes the podname stanza of
// every value, which answers none of them), `helm upgrade` takes a new replica count and TTL,
// and `helm uninstall` removes the cluster-wide RBAC.
func TestHelmChart(t *testing.T) {
	c := harness.Cluster(t, cluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	kc := c.Kubeconfig()

	// deploy/README.md's install, first the namespace, labelled for Pod Security; the release
	// itself after the dry runs.
	install := readmeCommands(t, "helm install "+release)
	helmAt := slices.IndexFunc(install, func(args []string) bool { return args[0] == "helm" })
	if helmAt < 0 {
		t.Fatalf("deploy/README.md's install block runs no helm: %v", install)
	}
	for _, args := range install[:helmAt] {
		runCommand(t, ctx, kc, args)
	}

	t.Run("server-side dry run", func(t *testing.T) {
		// The ServiceMonitor of the full values needs its CRD.
		if _, err := harness.KubectlClean(ctx, kc, "apply", "-f", filepath.Join("testdata", "servicemonitor-crd.yaml")); err != nil {
			t.Fatalf("apply the ServiceMonitor CRD: %v", err)
		}
		if _, err := harness.KubectlClean(ctx, kc, "wait", "--for=condition=Established", "--timeout=60s", "crd/servicemonitors.monitoring.coreos.com"); err != nil {
			t.Fatal(err)
		}
		for _, values := range [][]string{nil, {"-f", fullValues}} {
			r := helmTemplate(t, values...)
			file := filepath.Join(t.TempDir(), "chart.yaml")
			if err := os.WriteFile(file, []byte(r.YAML), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := harness.KubectlClean(ctx, kc, "apply", "--dry-run=server", "-f", file)
			if err != nil {
				t.Errorf("server-side dry run of the chart with %v: %v", values, err)
				continue
			}
			if n := strings.Count(out, " created (server dry run)\n"); n != len(r.Objects) {
				t.Errorf("server-side dry run of the chart with %v: %d of %d objects created:\n%s", values, n, len(r.Objects), out)
			}
		}
		if _, err := c.Client().RbacV1().ClusterRoles().Get(ctx, chartRole, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("after the dry runs ClusterRole %s: %v, want NotFound", chartRole, err)
		}
	})
	if t.Failed() {
		return
	}

	start := time.Now()
	for _, args := range install[helmAt:] {
		runCommand(t, ctx, kc, args)
	}
	t.Logf("deploy/README.md's helm install and rollout status took %s", time.Since(start).Round(time.Millisecond))
	selector := "app.kubernetes.io/instance=" + release
	ips := waitRunning(t, ctx, c, releaseNamespace, selector, 2)
	waitEndpoints(t, ctx, c, releaseNamespace, release, ips)
	pods, err := c.Client().CoreV1().Pods(releaseNamespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if err != nil {
		t.Fatalf("list the release's pods: %v", err)
	}
	for _, p := range pods.Items {
		if got, want := p.Spec.Containers[0].Image, "registry.example.com/coredns-podname:v0.1.0"; got != want {
			t.Errorf("pod %s runs %s, want %s, the image deploy/README.md's helm install sets", p.Name, got, want)
		}
	}

	// The chart's RBAC, as the API server grants it to the pods' ServiceAccount.
	role, err := c.Client().RbacV1().ClusterRoles().Get(ctx, chartRole, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get ClusterRole %s: %v", chartRole, err)
	}
	checkPodnameRules(t, role.Rules)
	harness.CreateServiceAccount(t, c, releaseNamespace, "unbound")
	identity := harness.ServiceAccountKubeconfig(t, c, t.TempDir(), releaseNamespace, release)
	checkGrants(t, ctx, identity, harness.ServiceAccountKubeconfig(t, c, t.TempDir(), releaseNamespace, "unbound"), releaseNamespace+"/"+release)

	// serve runs coredns with the live ConfigMap's Corefile as the release's ServiceAccount and
	// checks it answers every pod of the release with ttl.
	serve := func(t *testing.T, ips map[string]string, ttl uint32) {
		cm, err := c.Client().CoreV1().ConfigMaps(releaseNamespace).Get(ctx, release, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get ConfigMap %s/%s: %v", releaseNamespace, release, err)
		}
		dnsServer := harness.Start(t, cm.Data["Corefile"], harness.Loopback(t, identity))
		waitReady(t, dnsServer)
		for _, name := range slices.Sorted(maps.Keys(ips)) {
			expectA(t, dnsServer.Addr(), name+"."+zone, ips[name])
			r, err := harness.Query(dnsServer.Addr(), name+"."+zone, dns.TypeA)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Answer) == 0 || r.Answer[0].Header().Ttl != ttl {
				t.Errorf("A %s.%s: %v, want TTL %d", name, zone, r.Answer, ttl)
			}
		}
	}
	t.Run("install", func(t *testing.T) { serve(t, ips, 5) })

	// The podname stanza of every value (namespaces, labels, ttl) is one coredns takes; the
	// second zone goes, as the harness adjusts one zone's port.
	t.Run("every value's Corefile", func(t *testing.T) {
		r := helmTemplate(t, "-f", fullValues, "--set", "podname.zones={"+zone+"}")
		dnsServer := harness.Start(t, harness.ConfigMapCorefile(t, r, release), harness.Loopback(t, identity))
		waitReady(t, dnsServer)
		// None of the release's pods is in namespace prod or staging, nor labelled tier=web or ws.
		reply, err := harness.Query(dnsServer.Addr(), slices.Sorted(maps.Keys(ips))[0]+"."+zone, dns.TypeA)
		if err != nil {
			t.Fatal(err)
		}
		if reply.Rcode != dns.RcodeNameError {
			t.Errorf("A of a pod outside the namespaces and labels: %s, want NXDOMAIN", dns.RcodeToString[reply.Rcode])
		}
	})

	t.Run("upgrade", func(t *testing.T) {
		// deploy/README.md's upgrade, which sets replicas=3, and a TTL as a second value.
		upgrade := readmeCommands(t, "helm upgrade "+release)
		if len(upgrade) != 1 || !slices.Contains(upgrade[0], "replicas=3") {
			t.Fatalf("deploy/README.md's upgrade block is %v, want one helm upgrade that sets replicas=3", upgrade)
		}
		runCommand(t, ctx, kc, append(upgrade[0], "--set", "podname.ttl=30", "--wait", "--timeout", "2m"))
		d, err := c.Client().AppsV1().Deployments(releaseNamespace).Get(ctx, release, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("get Deployment %s/%s: %v", releaseNamespace, release, err)
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas != 3 {
			t.Errorf("after helm upgrade --set replicas=3 Deployment %s has replicas %v", d.Name, d.Spec.Replicas)
		}
		serve(t, waitRunning(t, ctx, c, releaseNamespace, selector, 3), 30)
	})

	t.Run("uninstall", func(t *testing.T) {
		if out, err := harness.HelmClean(t, ctx, kc, "uninstall", release, "-n", releaseNamespace, "--wait", "--timeout", "2m"); err != nil {
			t.Fatalf("helm uninstall: %v\n%s", err, out)
		}
		if _, err := c.Client().RbacV1().ClusterRoleBindings().Get(ctx, chartRole, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("after helm uninstall ClusterRoleBinding %s: %v, want NotFound", chartRole, err)
		}
	})
}

// readmeCommands returns the commands of the sh block of deploy/README.md that contains marker,
// split into words, lines continued with a backslash joined; each command's words must also be
// a command of README.md, whose install section shows the same commands.
func readmeCommands(t *testing.T, marker string) [][]string {
	t.Helper()
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(readFile(t, harness.DeployDir(t, "README.md")), -1) {
		if strings.Contains(m[1], marker) {
			blocks = append(blocks, m[1])
		}
	}
	if len(blocks) != 1 {
		t.Fatalf("deploy/README.md has %d sh blocks with %q, want 1", len(blocks), marker)
	}
	top := strings.Join(strings.Fields(strings.ReplaceAll(readFile(t, harness.RepoPath(t, "README.md")), "\\\n", " ")), " ")
	var commands [][]string
	for _, line := range strings.Split(strings.ReplaceAll(blocks[0], "\\\n", " "), "\n") {
		if words := strings.Fields(line); len(words) != 0 {
			if !strings.Contains(top, strings.Join(words, " ")) {
				t.Errorf("README.md lacks deploy/README.md's command %q", strings.Join(words, " "))
			}
			commands = append(commands, words)
		}
	}
	return commands
}

// runCommand runs a kubectl or helm command of the README with the cluster's kubeconfig,
// paths below deploy/ taken from the repository root, failing t on an error or a warning.
func runCommand(t *testing.T, ctx context.Context, kubeconfig string, words []string) {
	t.Helper()
	args := slices.Clone(words[1:])
	for i, a := range args {
		if strings.HasPrefix(a, "deploy/") {
			args[i] = harness.RepoPath(t, a)
		}
	}
	var err error
	switch words[0] {
	case "kubectl":
		_, err = harness.KubectlClean(ctx, kubeconfig, args...)
	case "helm":
		_, err = harness.HelmClean(t, ctx, kubeconfig, args...)
	default:
		t.Fatalf("the README runs %s; the test knows kubectl and helm", words[0])
	}
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(words, " "), err)
	}
}

// checkSelects fails t unless selector is not empty and matches the pods of d.
func checkSelects(t *testing.T, selector map[string]string, d *appsv1.Deployment) {
	t.Helper()
	if len(selector) == 0 || !labels.SelectorFromSet(selector).Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("selector %v misses the pods of Deployment %s, labelled %v", selector, d.Name, d.Spec.Template.Labels)
	}
}

// readFile returns the contents of path, failing t if it cannot be read.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}
