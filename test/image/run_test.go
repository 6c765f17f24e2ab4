package image

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/podname/podname/test/cluster"
	"github.com/podname/podname/test/harness"
)

const (
	zone        = "mgmt.pix.yun.com"
	overlay     = "overlays/standalone"
	wsNamespace = "default"
	wsReplicas  = 2
	// saDir is where the kubelet mounts a pod's ServiceAccount token, CA and namespace.
	saDir = "/var/run/secrets/kubernetes.io/serviceaccount"
)

// deployment is how deploy/overlays/standalone runs the image, read from its rendering.
type deployment struct {
	namespace, serviceAccount string
	replicas                  int
	selector                  string
	corefile                  string   // the ConfigMap's Corefile
	confDir                   string   // where the container has the ConfigMap
	args                      []string // the container's args
	flags                     []string // podman run flags for its securityContext
	dnsPort                   int
	health, ready, metrics    string // loopback URL of the liveness and readiness probes, and /metrics
}

// runInside is the image run as the standalone overlay runs it, in network namespace ns: the
// overlay's objects and the seed's Deployment on a test cluster, then the container three times.
// With every capability dropped (NET_BIND_SERVICE too) it must fail to start; with the overlay's
// securityContext it must answer every seed pod with dig, pass /health and /ready and count the
// pods in coredns_podname_pods, once reaching the API server with a kubeconfig it is given and
// once in-cluster style, with a ServiceAccount token, the cluster's CA and the namespace where a
// pod has them and KUBERNETES_SERVICE_HOST/PORT set.
func runInside(t *testing.T, ns string) {
	harness.RequireInNetns(t, ns)
	ref := os.Getenv(imageEnv)
	if ref == "" || os.Getenv(mountNSEnv) == "" {
		t.Fatalf("%s or %s is unset: run TestImage from outside the network namespace", imageEnv, mountNSEnv)
	}
	start := time.Now()
	step := func(what string) { t.Logf("%-28s %s", what, time.Since(start).Round(time.Millisecond)) }

	kube := harness.Cluster(t, cluster.Options{})
	step("cluster up")
	r := harness.Render(t, overlay)
	d := deployedAs(t, r)
	t.Logf("deploy/%s runs %v %v", overlay, d.flags, d.args)
	pods, indexed := installSeed(t, kube, r, d)
	step("overlay and seed pods running")

	api, err := url.Parse(kube.APIServerURL())
	if err != nil {
		t.Fatalf("API server URL %q: %v", kube.APIServerURL(), err)
	}
	conf := sharedDir(t, map[string][]byte{"Corefile": []byte(d.corefile)})
	sa := sharedDir(t, map[string][]byte{
		"token":     []byte(harness.ServiceAccountToken(t, kube, d.namespace, d.serviceAccount)),
		"ca.crt":    harness.ClusterCA(t, kube),
		"namespace": []byte(d.namespace),
	})
	inCluster := []string{"-v", conf + ":" + d.confDir + ":ro", "-v", sa + ":" + saDir + ":ro",
		"-e", "KUBERNETES_SERVICE_HOST=" + api.Hostname(), "-e", "KUBERNETES_SERVICE_PORT=" + api.Port()}

	t.Run("cap-drop-all", func(t *testing.T) {
		noBind := slices.Clone(d.flags)
		if i := slices.Index(noBind, "--cap-add"); i >= 0 {
			noBind = slices.Delete(noBind, i, i+2)
		}
		checkRefused(t, ref, d, append(noBind, inCluster...))
		step("cap-drop-all refused")
	})
	t.Run("kubeconfig", func(t *testing.T) {
		kubeDir := sharedDir(t, nil)
		kubeconfig := harness.ServiceAccountKubeconfig(t, kube, kubeDir, d.namespace, d.serviceAccount)
		if err := os.Chmod(kubeconfig, 0o644); err != nil {
			t.Fatal(err)
		}
		const mountAt = "/etc/podname-kube"
		corefile, err := harness.AdjustCorefile(d.corefile, harness.Adjust{Kubeconfig: mountAt + "/" + filepath.Base(kubeconfig)})
		if err != nil {
			t.Fatal(err)
		}
		withKubeconfig := sharedDir(t, map[string][]byte{"Corefile": []byte(corefile)})
		c := runContainer(t, ref, d, "kubeconfig", append(slices.Clone(d.flags),
			"-v", withKubeconfig+":"+d.confDir+":ro", "-v", kubeDir+":"+mountAt+":ro"))
		checkServes(t, c, d, pods, indexed)
		step("kubeconfig run served")
	})
	t.Run("in-cluster", func(t *testing.T) {
		c := runContainer(t, ref, d, "in-cluster", append(slices.Clone(d.flags), inCluster...))
		checkServes(t, c, d, pods, indexed)
		step("in-cluster run served")
	})
}

// deployedAs reads how the overlay's Deployment runs its one container: the podman flags for
// its securityContext, its args, its Corefile and where it has it, and its probes' ports.
func deployedAs(t *testing.T, r harness.Rendering) deployment {
	t.Helper()
	dep := harness.One[*appsv1.Deployment](t, r, "podname")
	spec := dep.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("%s: Deployment podname has %d containers, want 1", r.Dir, len(spec.Containers))
	}
	c := spec.Containers[0]
	d := deployment{namespace: dep.Namespace, serviceAccount: spec.ServiceAccountName, args: c.Args,
		selector: meta.FormatLabelSelector(dep.Spec.Selector), replicas: 1}
	if dep.Spec.Replicas != nil {
		d.replicas = int(*dep.Spec.Replicas)
	}
	psc, csc := spec.SecurityContext, c.SecurityContext
	if psc == nil || csc == nil || psc.RunAsUser == nil || psc.RunAsGroup == nil {
		t.Fatalf("%s: Deployment podname sets no runAsUser, runAsGroup or container securityContext", r.Dir)
	}
	d.flags = []string{"--user", fmt.Sprintf("%d:%d", *psc.RunAsUser, *psc.RunAsGroup)}
	if csc.ReadOnlyRootFilesystem != nil && *csc.ReadOnlyRootFilesystem {
		d.flags = append(d.flags, "--read-only")
	}
	if csc.AllowPrivilegeEscalation != nil && !*csc.AllowPrivilegeEscalation {
		d.flags = append(d.flags, "--security-opt", "no-new-privileges")
	}
	if csc.Capabilities != nil {
		for _, c := range csc.Capabilities.Drop {
			d.flags = append(d.flags, "--cap-drop", string(c))
		}
		for _, c := range csc.Capabilities.Add {
			d.flags = append(d.flags, "--cap-add", string(c))
		}
	}
	// seccompProfile RuntimeDefault is podman's default profile: no flag.

	if len(c.VolumeMounts) != 1 {
		t.Fatalf("%s: the container mounts %d volumes, want its ConfigMap only", r.Dir, len(c.VolumeMounts))
	}
	d.confDir = c.VolumeMounts[0].MountPath
	for _, v := range spec.Volumes {
		if v.Name == c.VolumeMounts[0].Name && v.ConfigMap != nil {
			d.corefile = harness.ConfigMapCorefile(t, r, v.ConfigMap.Name)
		}
	}
	if d.corefile == "" {
		t.Fatalf("%s: the container's volume %s is not a ConfigMap", r.Dir, c.VolumeMounts[0].Name)
	}

	port := func(p intstr.IntOrString) int {
		if p.Type == intstr.Int {
			return p.IntValue()
		}
		for _, cp := range c.Ports {
			if cp.Name == p.StrVal {
				return int(cp.ContainerPort)
			}
		}
		t.Fatalf("%s: the container has no port named %s", r.Dir, p.StrVal)
		return 0
	}
	probe := func(what string, p *corev1.Probe) string {
		if p == nil || p.HTTPGet == nil {
			t.Fatalf("%s: the container has no HTTP %s probe", r.Dir, what)
		}
		return fmt.Sprintf("http://127.0.0.1:%d%s", port(p.HTTPGet.Port), p.HTTPGet.Path)
	}
	d.health, d.ready = probe("liveness", c.LivenessProbe), probe("readiness", c.ReadinessProbe)
	d.metrics = fmt.Sprintf("http://127.0.0.1:%d/metrics", port(intstr.FromString("metrics")))
	d.dnsPort = port(intstr.FromString("dns"))
	return d
}

// installSeed applies the overlay (its namespace, ServiceAccount, RBAC and Deployment, whose
// pods kwok runs) and the seed's Deployment ws, and waits until both run. It returns the seed's
// pods and how many pods podname indexes in all.
func installSeed(t *testing.T, kube *cluster.Cluster, r harness.Rendering, d deployment) ([]corev1.Pod, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if _, err := harness.KubectlClean(ctx, kube.Kubeconfig(), "apply", "-k", r.Dir); err != nil {
		t.Fatal(err)
	}
	client := kube.Client()
	if _, err := client.AppsV1().Deployments(wsNamespace).Create(ctx, harness.WSDeployment(wsNamespace, wsReplicas), meta.CreateOptions{}); err != nil {
		t.Fatalf("create Deployment ws: %v", err)
	}
	pods := harness.Running(ctx, t, client, wsNamespace, harness.WSSelector, wsReplicas)
	harness.Running(ctx, t, client, d.namespace, d.selector, d.replicas)
	all, err := client.CoreV1().Pods("").List(ctx, meta.ListOptions{})
	if err != nil {
		t.Fatalf("list pods: %v", err)
	}
	indexed := 0
	for i := range all.Items {
		if harness.Indexable(&all.Items[i]) {
			indexed++
		}
	}
	return pods, indexed
}

// runArgs are podman's arguments to run ref as container name on the host's network (the
// namespace's) with flags and the Deployment's args.
func runArgs(ref string, d deployment, name string, flags []string) []string {
	args := append([]string{"run", "--rm", "--name", name, "--network", "host"}, flags...)
	return append(append(args, ref), d.args...)
}

// runContainer starts the image as a container named for what, with podman flags, the host's
// network (the namespace's) and the Deployment's args; it is stopped when t ends, its log
// printed if t failed.
func runContainer(t *testing.T, ref string, d deployment, what string, flags []string) *harness.CoreDNS {
	t.Helper()
	name := containerName(what)
	args := runArgs(ref, d, name, flags)
	p, err := harness.Run(t.TempDir(), "podman", podmanInNetns(context.Background(), args...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Errorf("stop container %s: %v", name, err)
		}
		// A podman that did not get to remove its container (killed) leaves it behind.
		_ = podmanInNetns(context.Background(), "rm", "--force", "--ignore", name).Run()
		if t.Failed() {
			t.Logf("podman %s\n%s", strings.Join(args, " "), p.Log())
		}
	})
	readyURL, err := url.Parse(d.ready)
	if err != nil {
		t.Fatal(err)
	}
	metricsURL, err := url.Parse(d.metrics)
	if err != nil {
		t.Fatal(err)
	}
	return &harness.CoreDNS{Process: p, Endpoints: harness.Endpoints{
		DNSAddr:     net.JoinHostPort("127.0.0.1", strconv.Itoa(d.dnsPort)),
		ReadyAddr:   readyURL.Host,
		MetricsAddr: metricsURL.Host,
	}}
}

// checkServes waits for c's readiness probe and its zone's SOA, then checks the liveness probe,
// an A answer from dig for every seed pod, and coredns_podname_pods.
func checkServes(t *testing.T, c *harness.CoreDNS, d deployment, pods []corev1.Pod, indexed int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	after, err := c.ReadyAfter(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("/ready answered 200 %s after podman run", after.Round(time.Millisecond))
	_, err = harness.WaitAnswer(ctx, c.DNSAddr, zone, dns.TypeSOA, func(r *dns.Msg) bool {
		return r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{d.health, d.ready} {
		if code, err := harness.Get(ctx, u, io.Discard); err != nil || code != http.StatusOK {
			t.Errorf("GET %s: status %d, %v", u, code, err)
		}
	}
	for _, p := range pods {
		got, err := harness.Dig(c.DNSAddr, p.Name+"."+zone, "A")
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{p.Status.PodIP}; !slices.Equal(got, want) {
			t.Errorf("dig %s.%s A: %v, want %v", p.Name, zone, got, want)
		}
	}
	if err := c.WaitMetric(ctx, "coredns_podname_pods", nil, float64(indexed)); err != nil {
		t.Error(err)
	}
}

// checkRefused runs the image with flags and expects it to fail before it serves: the binary's
// file capability cannot be granted, so the runtime's exec of it is refused.
func checkRefused(t *testing.T, ref string, d deployment, flags []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	name := containerName("cap-drop-all")
	args := runArgs(ref, d, name, flags)
	out, err := podmanInNetns(ctx, args...).CombinedOutput()
	_ = podmanInNetns(context.Background(), "rm", "--force", "--ignore", name).Run()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("podman %s: want a refusal, got %v:\n%s", strings.Join(args, " "), err, out)
	}
	if !strings.Contains(strings.ToLower(string(out)), "operation not permitted") {
		t.Errorf("podman %s failed without saying \"operation not permitted\": %v:\n%s", strings.Join(args, " "), err, out)
	}
	if _, err := harness.Query(net.JoinHostPort("127.0.0.1", strconv.Itoa(d.dnsPort)), zone, dns.TypeSOA); err == nil {
		t.Errorf("something answers on port %d after the refused start", d.dnsPort)
	}
	t.Logf("refused as expected: %s", harness.LastLines(strings.TrimSpace(string(out)), 1))
}
