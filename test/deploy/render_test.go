package deploy

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/coredns/caddy/caddyfile"

	"github.com/podname/podname/test/harness"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// podnameRule is the one rule podname's ClusterRole may hold (plugin/podname/README.md, RBAC).
var podnameRule = rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods", "services"}, Verbs: []string{"get", "list", "watch"}}

// TestRenderBase: the base is podname's ClusterRole, exactly the README's rule, bound to the
// ServiceAccount the cluster's CoreDNS runs as.
func TestRenderBase(t *testing.T) {
	r := harness.Render(t, "base")
	if len(r.Objects) != 2 {
		t.Fatalf("deploy/base renders %d objects, want a ClusterRole and a ClusterRoleBinding:\n%s", len(r.Objects), r.YAML)
	}
	role := harness.One[*rbacv1.ClusterRole](t, r, "system:podname")
	checkPodnameRules(t, role.Rules)
	binding := harness.One[*rbacv1.ClusterRoleBinding](t, r, "system:podname")
	checkBinding(t, binding, "system:podname", "kube-system", "coredns")
}

// TestRenderReplaceClusterDNS: the overlay is kubeadm's CoreDNS with our image, the podname
// stanza added to kubeadm's Corefile and nothing else changed in it, podname's RBAC, a
// hardened pod spec, and no Service at all.
func TestRenderReplaceClusterDNS(t *testing.T) {
	r := harness.Render(t, "overlays/replace-cluster-dns")
	upstream := harness.Render(t, "upstream")

	if svcs := harness.All[*corev1.Service](r); len(svcs) != 0 {
		t.Errorf("the overlay renders Service %s; the kube-dns Service must stay out of it", svcs[0].Name)
	}
	d := harness.One[*appsv1.Deployment](t, r, "coredns")
	if d.Namespace != "kube-system" {
		t.Errorf("Deployment coredns is in namespace %q, want kube-system", d.Namespace)
	}
	// The Deployment's selector is immutable and the kube-dns Service selects its pods by it.
	want := map[string]string{"k8s-app": "kube-dns"}
	if d.Spec.Selector == nil || !maps.Equal(d.Spec.Selector.MatchLabels, want) || len(d.Spec.Selector.MatchExpressions) != 0 {
		t.Errorf("Deployment coredns selects %v, want kubeadm's %v", d.Spec.Selector, want)
	}
	if d.Spec.Template.Labels["k8s-app"] != "kube-dns" {
		t.Errorf("Deployment coredns's pods are labelled %v, want k8s-app=kube-dns for the kube-dns Service", d.Spec.Template.Labels)
	}
	if d.Spec.Template.Spec.PriorityClassName != "system-cluster-critical" {
		t.Errorf("Deployment coredns has priorityClassName %q, want system-cluster-critical", d.Spec.Template.Spec.PriorityClassName)
	}
	if sa := d.Spec.Template.Spec.ServiceAccountName; sa != "coredns" {
		t.Errorf("Deployment coredns runs as ServiceAccount %q, want coredns, the subject of podname's binding", sa)
	}
	checkDeployment(t, r, d)

	binding := harness.One[*rbacv1.ClusterRoleBinding](t, r, "system:podname")
	checkBinding(t, binding, "system:podname", "kube-system", "coredns")
	checkPodnameRules(t, harness.One[*rbacv1.ClusterRole](t, r, "system:podname").Rules)

	// Everything kubeadm has besides the Deployment and ConfigMap reaches the cluster unchanged.
	for _, name := range []string{"system:coredns"} {
		if got, want := harness.One[*rbacv1.ClusterRole](t, r, name), harness.One[*rbacv1.ClusterRole](t, upstream, name); !slices.EqualFunc(got.Rules, want.Rules, ruleEqual) {
			t.Errorf("ClusterRole %s differs from kubeadm's: %v, want %v", name, got.Rules, want.Rules)
		}
	}

	corefile := harness.ConfigMapCorefile(t, r, "coredns")
	file, err := os.ReadFile(filepath.Join(r.Dir, "Corefile"))
	if err != nil {
		t.Fatalf("read the overlay's Corefile: %v", err)
	}
	if corefile != string(file) {
		t.Errorf("the rendered ConfigMap coredns holds\n%s\nnot the overlay's Corefile\n%s", corefile, file)
	}
	rest, stanza := cutStanza(t, corefile, "podname")
	if kubeadm := harness.ConfigMapCorefile(t, upstream, "coredns"); rest != kubeadm {
		t.Errorf("without its podname stanza the Corefile is\n%s\nwhich is not kubeadm's\n%s", rest, kubeadm)
	}
	example, err := harness.Example("Corefile")
	if err != nil {
		t.Fatal(err)
	}
	_, exampleStanza := cutStanza(t, example, "podname")
	if strings.Join(strings.Fields(stanza), " ") != strings.Join(strings.Fields(exampleStanza), " ") {
		t.Errorf("the overlay's podname stanza\n%s\nis not corefile-examples/Corefile's\n%s", stanza, exampleStanza)
	}
}

// TestRenderStandalone: a namespace of its own that enforces Pod Security "restricted", a
// hardened Deployment, a Service that selects it, and podname's ClusterRole bound to its
// ServiceAccount under a binding that does not collide with the replace path's.
func TestRenderStandalone(t *testing.T) {
	r := harness.Render(t, "overlays/standalone")
	ns := harness.One[*corev1.Namespace](t, r, "podname")
	for _, mode := range []string{"enforce", "warn"} {
		if got := ns.Labels["pod-security.kubernetes.io/"+mode]; got != "restricted" {
			t.Errorf("namespace podname has pod-security.kubernetes.io/%s=%q, want restricted", mode, got)
		}
	}
	d := harness.One[*appsv1.Deployment](t, r, "podname")
	checkDeployment(t, r, d)
	sa := d.Spec.Template.Spec.ServiceAccountName
	harness.One[*corev1.ServiceAccount](t, r, sa)
	checkBinding(t, harness.One[*rbacv1.ClusterRoleBinding](t, r, "system:podname:standalone"), "system:podname", "podname", sa)
	checkPodnameRules(t, harness.One[*rbacv1.ClusterRole](t, r, "system:podname").Rules)
	if n := len(harness.All[*rbacv1.ClusterRoleBinding](r)); n != 1 {
		t.Errorf("the overlay renders %d ClusterRoleBindings, want only system:podname:standalone", n)
	}

	svc := harness.One[*corev1.Service](t, r, "podname")
	if svc.Namespace != d.Namespace {
		t.Errorf("Service podname is in %q, its Deployment in %q", svc.Namespace, d.Namespace)
	}
	if len(svc.Spec.Selector) == 0 || !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("Service podname selects %v, which misses the Deployment's pods %v", svc.Spec.Selector, d.Spec.Template.Labels)
	}
	var ports []string
	for _, p := range svc.Spec.Ports {
		ports = append(ports, fmt.Sprintf("%d/%s", p.Port, p.Protocol))
		if _, ok := containerPort(d.Spec.Template.Spec.Containers[0], p.TargetPort); !ok {
			t.Errorf("Service podname port %s targets %s, which the container does not declare", p.Name, p.TargetPort.String())
		}
	}
	if want := []string{"53/UDP", "53/TCP", "9153/TCP"}; !slices.Equal(ports, want) {
		t.Errorf("Service podname serves %v, want %v", ports, want)
	}
	if svc.Annotations["prometheus.io/scrape"] != "true" || svc.Annotations["prometheus.io/port"] != "9153" {
		t.Errorf("Service podname has annotations %v, want prometheus.io/scrape=true and prometheus.io/port=9153", svc.Annotations)
	}

	corefile := harness.ConfigMapCorefile(t, r, "podname")
	blocks, err := caddyfile.Parse("standalone Corefile", strings.NewReader(corefile), nil)
	if err != nil {
		t.Fatalf("the standalone Corefile does not parse: %v", err)
	}
	if len(blocks) != 1 || !slices.Equal(blocks[0].Keys, []string{zone + ":53"}) {
		t.Errorf("the standalone Corefile serves %v, want only %s:53", blocks, zone)
	}
}

// TestHelmValues: the values name our image, make the chart create kube-system/coredns (the
// subject deploy/base binds), harden the pod, and add a podname stanza to the Corefile the
// chart writes; that Corefile, written as the chart's configmap.yaml template writes it, parses.
func TestHelmValues(t *testing.T) {
	v := readHelmValues(t)
	if got := v.Image.Repository + ":" + v.Image.Tag; got != image {
		t.Errorf("values image %s, want %s", got, image)
	}
	if !v.ServiceAccount.Create || v.ServiceAccount.Name != "coredns" || !v.RBAC.Create {
		t.Errorf("values serviceAccount %+v rbac %+v: want the chart to create ServiceAccount coredns and its RBAC", v.ServiceAccount, v.RBAC)
	}
	if v.ReplicaCount != 2 {
		t.Errorf("values replicaCount %d, want 2", v.ReplicaCount)
	}
	psc, sc := v.PodSecurityContext, v.SecurityContext
	if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("values podSecurityContext %+v: want runAsNonRoot and seccompProfile RuntimeDefault", psc)
	}
	for _, p := range containerHardening(sc) {
		t.Errorf("values securityContext: %s", p)
	}
	corefile := helmCorefile(v)
	if _, err := caddyfile.Parse("helm Corefile", strings.NewReader(corefile), nil); err != nil {
		t.Fatalf("the Corefile the chart writes from the values does not parse: %v\n%s", err, corefile)
	}
	_, stanza := cutStanza(t, corefile, "podname")
	if !strings.Contains(stanza, "podname "+zone+" ") {
		t.Errorf("the values' podname stanza does not serve %s:\n%s", zone, stanza)
	}
}

// checkPodnameRules fails t unless rules are exactly podnameRule.
func checkPodnameRules(t *testing.T, rules []rbacv1.PolicyRule) {
	t.Helper()
	if len(rules) != 1 || !ruleEqual(rules[0], podnameRule) {
		t.Errorf("podname's ClusterRole has rules %+v, want exactly %+v", rules, podnameRule)
	}
}

func ruleEqual(a, b rbacv1.PolicyRule) bool {
	return slices.Equal(a.APIGroups, b.APIGroups) && slices.Equal(a.Resources, b.Resources) && slices.Equal(a.Verbs, b.Verbs) &&
		len(a.ResourceNames) == len(b.ResourceNames) && len(a.NonResourceURLs) == len(b.NonResourceURLs)
}

// checkBinding fails t unless b binds ClusterRole role to exactly ServiceAccount ns/name.
func checkBinding(t *testing.T, b *rbacv1.ClusterRoleBinding, role, ns, name string) {
	t.Helper()
	if b.RoleRef != (rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role}) {
		t.Errorf("ClusterRoleBinding %s refers to %+v, want ClusterRole %s", b.Name, b.RoleRef, role)
	}
	want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}}
	if !slices.Equal(b.Subjects, want) {
		t.Errorf("ClusterRoleBinding %s binds %+v, want %+v", b.Name, b.Subjects, want)
	}
}

// checkDeployment fails t where Deployment d falls short of the hardened CoreDNS pod spec,
// or where its Corefile does not serve the probes and metrics the pod spec points at.
func checkDeployment(t *testing.T, r harness.Rendering, d *appsv1.Deployment) {
	t.Helper()
	for _, p := range hardening(d) {
		t.Errorf("Deployment %s/%s: %s", d.Namespace, d.Name, p)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("Deployment %s/%s: replicas is not 2", d.Namespace, d.Name)
	}
	c := d.Spec.Template.Spec.Containers[0]
	if c.Image != image {
		t.Errorf("Deployment %s/%s runs image %s, want %s", d.Namespace, d.Name, c.Image, image)
	}
	var cm string
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.ConfigMap != nil {
			cm = v.ConfigMap.Name
		}
	}
	if cm == "" {
		t.Fatalf("Deployment %s/%s mounts no ConfigMap", d.Namespace, d.Name)
	}
	corefile := harness.ConfigMapCorefile(t, r, cm)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^\s*health \{\n\s*lameduck \d+s\n\s*\}$`), // /health on :8080, failing only after lameduck
		regexp.MustCompile(`(?m)^\s*ready$`),                              // /ready on :8181
		regexp.MustCompile(`(?m)^\s*prometheus :9153$`),                   // /metrics on :9153
		regexp.MustCompile(`(?m)^\s*podname\b`),
	} {
		if !want.MatchString(corefile) {
			t.Errorf("the Corefile of Deployment %s/%s has no line matching %s:\n%s", d.Namespace, d.Name, want, corefile)
		}
	}
}

// hardening lists how d falls short of the pod spec upstream CoreDNS ships (kubeadm,
// coredns/deployment), hardened further: non-root, RuntimeDefault seccomp. The replica count
// is the caller's to judge.
func hardening(d *appsv1.Deployment) []string {
	var bad []string
	spec := d.Spec.Template.Spec
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		bad = append(bad, "pod securityContext lacks runAsNonRoot: true")
	}
	if psc == nil || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		bad = append(bad, "pod securityContext lacks a non-zero runAsUser")
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		bad = append(bad, "pod securityContext lacks seccompProfile RuntimeDefault")
	}
	if !antiAffine(d) {
		bad = append(bad, "no pod anti-affinity on kubernetes.io/hostname that selects its own pods")
	}
	if len(spec.Containers) != 1 {
		return append(bad, fmt.Sprintf("%d containers, want 1", len(spec.Containers)))
	}
	c := spec.Containers[0]
	if c.SecurityContext == nil {
		bad = append(bad, "container has no securityContext")
	} else {
		bad = append(bad, containerHardening(*c.SecurityContext)...)
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
		port  int32
	}{{"livenessProbe", c.LivenessProbe, "/health", 8080}, {"readinessProbe", c.ReadinessProbe, "/ready", 8181}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			bad = append(bad, p.name+" is not an HTTP GET")
			continue
		}
		port, ok := containerPort(c, p.probe.HTTPGet.Port)
		if p.probe.HTTPGet.Path != p.path || !ok || port != p.port {
			bad = append(bad, fmt.Sprintf("%s gets %s on %s, want %s on %d", p.name, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port.String(), p.path, p.port))
		}
	}
	var ports []string
	for _, p := range c.Ports {
		ports = append(ports, fmt.Sprintf("%s=%d/%s", p.Name, p.ContainerPort, p.Protocol))
	}
	for _, want := range []string{"dns=53/UDP", "dns-tcp=53/TCP", "metrics=9153/TCP"} {
		if !slices.Contains(ports, want) {
			bad = append(bad, fmt.Sprintf("container ports %v lack %s", ports, want))
		}
	}
	if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		bad = append(bad, fmt.Sprintf("resources %v: want cpu and memory requests and a memory limit", c.Resources))
	}
	ro := false
	for _, m := range c.VolumeMounts {
		ro = ro || (m.MountPath == "/etc/coredns" && m.ReadOnly)
	}
	if !ro || !slices.Equal(c.Args, []string{"-conf", "/etc/coredns/Corefile"}) {
		bad = append(bad, fmt.Sprintf("args %v with mounts %v: want -conf /etc/coredns/Corefile from a read-only mount", c.Args, c.VolumeMounts))
	}
	return bad
}

// containerHardening lists how sc falls short of upstream CoreDNS's container securityContext.
func containerHardening(sc corev1.SecurityContext) []string {
	var bad []string
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		bad = append(bad, "allowPrivilegeEscalation is not false")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		bad = append(bad, "readOnlyRootFilesystem is not true")
	}
	if sc.Privileged != nil && *sc.Privileged {
		bad = append(bad, "privileged")
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) ||
		!slices.Equal(sc.Capabilities.Add, []corev1.Capability{"NET_BIND_SERVICE"}) {
		bad = append(bad, fmt.Sprintf("capabilities %+v, want drop ALL, add only NET_BIND_SERVICE", sc.Capabilities))
	}
	return bad
}

// antiAffine reports whether d spreads its own pods across nodes.
func antiAffine(d *appsv1.Deployment) bool {
	a := d.Spec.Template.Spec.Affinity
	if a == nil || a.PodAntiAffinity == nil {
		return false
	}
	terms := slices.Clone(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution)
	for _, w := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
		terms = append(terms, w.PodAffinityTerm)
	}
	for _, term := range terms {
		sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
		if err == nil && term.TopologyKey == "kubernetes.io/hostname" && !sel.Empty() && sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			return true
		}
	}
	return false
}

// containerPort resolves a probe's or Service's target port, by number or by name, in c.
func containerPort(c corev1.Container, port intstr.IntOrString) (int32, bool) {
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return p.ContainerPort, true
		}
	}
	return 0, false
}

// cutStanza removes the first stanza of plugin (its line and, if it opens a block, up to the
// brace that closes it) from corefile, and returns what is left and the stanza.
func cutStanza(t *testing.T, corefile, plugin string) (rest, stanza string) {
	t.Helper()
	lines := strings.SplitAfter(corefile, "\n")
	for i, line := range lines {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != plugin {
			continue
		}
		end := i
		if strings.HasSuffix(strings.TrimSpace(line), "{") {
			indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
			for end = i + 1; end < len(lines) && strings.TrimRight(lines[end], "\n") != indent+"}"; end++ {
			}
			if end == len(lines) {
				t.Fatalf("the %s stanza never closes:\n%s", plugin, corefile)
			}
		}
		return strings.Join(lines[:i], "") + strings.Join(lines[end+1:], ""), strings.Join(lines[i:end+1], "")
	}
	t.Fatalf("no %s stanza in\n%s", plugin, corefile)
	return "", ""
}

// helmValues is the part of the CoreDNS chart's values that deploy/helm/coredns-values.yaml sets and
// these tests read.
type helmValues struct {
	Image struct {
		Repository string `json:"repository"`
		Tag        string `json:"tag"`
	} `json:"image"`
	ReplicaCount   int `json:"replicaCount"`
	ServiceAccount struct {
		Create bool   `json:"create"`
		Name   string `json:"name"`
	} `json:"serviceAccount"`
	RBAC struct {
		Create bool `json:"create"`
	} `json:"rbac"`
	PodSecurityContext corev1.PodSecurityContext `json:"podSecurityContext"`
	SecurityContext    corev1.SecurityContext    `json:"securityContext"`
	Servers            []struct {
		Zones []struct {
			Zone   string `json:"zone"`
			Scheme string `json:"scheme"`
		} `json:"zones"`
		Port    int `json:"port"`
		Plugins []struct {
			Name        string `json:"name"`
			Parameters  string `json:"parameters"`
			ConfigBlock string `json:"configBlock"`
		} `json:"plugins"`
	} `json:"servers"`
}

func readHelmValues(t *testing.T) helmValues {
	t.Helper()
	b, err := os.ReadFile(harness.DeployDir(t, "helm/coredns-values.yaml"))
	if err != nil {
		t.Fatalf("read deploy/helm/coredns-values.yaml: %v", err)
	}
	var v helmValues
	if err := utilyaml.Unmarshal(b, &v); err != nil {
		t.Fatalf("parse deploy/helm/coredns-values.yaml: %v", err)
	}
	if len(v.Servers) == 0 {
		t.Fatal("deploy/helm/coredns-values.yaml has no servers")
	}
	return v
}

// helmCorefile writes the Corefile the chart's templates/configmap.yaml writes from v's
// servers: each server's zones (scheme + zone, default ".") and port, then one line per plugin
// (name, parameters) with its configBlock indented in braces. It mirrors the template; it is not
// the chart, which this machine cannot fetch.
func helmCorefile(v helmValues) string {
	var b strings.Builder
	for _, s := range v.Servers {
		var zones []string
		for _, z := range s.Zones {
			zones = append(zones, z.Scheme+cmp.Or(z.Zone, "."))
		}
		if len(zones) == 0 {
			zones = []string{"."}
		}
		key := strings.Join(zones, " ")
		if s.Port != 0 {
			key += fmt.Sprintf(":%d", s.Port)
		}
		b.WriteString(key + " {\n")
		for _, p := range s.Plugins {
			b.WriteString("    " + p.Name)
			if p.Parameters != "" {
				b.WriteString(" " + p.Parameters)
			}
			if p.ConfigBlock != "" {
				b.WriteString(" {\n")
				for _, line := range strings.Split(p.ConfigBlock, "\n") {
					b.WriteString("        " + line + "\n")
				}
				b.WriteString("    }")
			}
			b.WriteString("\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}
