// Package deploy tests what deploy/ ships against a real API server (test/cluster) and the
// real coredns from `make build`: the kustomize renderings and the Helm chart's (with the helm
// of `make tools`), their server-side validation and installation, the RBAC they grant, the
// Corefiles inside them, and the metrics the Grafana dashboard reads, scraped by a real
// Prometheus. Each test that needs a cluster starts its own, so no test sees another's objects.
package deploy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podname/podname/test/cluster"
	"github.com/podname/podname/test/harness"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// zone is the zone every shipped Corefile serves.
const zone = "mgmt.pix.yun.com"

// image is the placeholder image every manifest and the Helm values name.
const image = "ghcr.io/podname/coredns-podname:v0.1.0"

// root is the repository root; deploy/ is below it.
var root string

func TestMain(m *testing.M) {
	var err error
	if root, err = harness.RepoRoot(); err != nil {
		fmt.Fprintln(os.Stderr, "deploy:", err)
		os.Exit(1)
	}
	// kubectl (with its kustomize) and helm come from the same build as the cluster.
	os.Exit(harness.Main(m, "deploy", "deploy-test", nil, harness.NeedCoreDNS, harness.NeedCluster))
}

// deployDir is deploy/<rel>.
func deployDir(rel string) string { return filepath.Join(root, "deploy", rel) }

// kubectl runs the cluster build's kubectl and returns its stdout and stderr; a failure
// quotes stderr. kubeconfig may be empty for commands that reach no server (kustomize).
func kubectl(ctx context.Context, kubeconfig string, args ...string) (stdout, stderr string, err error) {
	return run(exec.CommandContext(ctx, cluster.KubectlPath()), kubeconfig, args...)
}

// kubectlClean is kubectl that also fails on any warning, such as Pod Security's or a
// deprecated field's.
func kubectlClean(ctx context.Context, kubeconfig string, args ...string) (string, error) {
	return clean(kubectl(ctx, kubeconfig, args...))
}

// helm runs the Helm of make tools as kubectl runs kubectl, with its cache, configuration and
// data in t's temporary directory rather than the user's.
func helm(t *testing.T, ctx context.Context, kubeconfig string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, cluster.HelmPath())
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	return run(cmd, kubeconfig, args...)
}

// helmClean is helm that also fails on any warning.
func helmClean(t *testing.T, ctx context.Context, kubeconfig string, args ...string) (string, error) {
	t.Helper()
	return clean(helm(t, ctx, kubeconfig, args...))
}

// run runs cmd (a program, no arguments yet) with args, after --kubeconfig unless kubeconfig
// is empty, and returns its stdout and stderr; a failure quotes stderr and the command line.
func run(cmd *exec.Cmd, kubeconfig string, args ...string) (stdout, stderr string, err error) {
	if kubeconfig != "" {
		args = append([]string{"--kubeconfig", kubeconfig}, args...)
	}
	cmd.Args = append(cmd.Args, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), errOut.String(), fmt.Errorf("%s %s: %w\n%s", filepath.Base(cmd.Path), strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), errOut.String(), nil
}

// clean passes run's stdout and error on, and makes a warning on stderr (kubectl's "Warning:",
// Helm's "WARNING:") an error too.
func clean(stdout, stderr string, err error) (string, error) {
	if err == nil && strings.Contains(strings.ToLower(stderr), "warning:") {
		err = fmt.Errorf("warned:\n%s", stderr)
	}
	return stdout, err
}

// rendering is the output of `kubectl kustomize` of one directory.
type rendering struct {
	dir  string
	yaml string
	objs []runtime.Object
}

// render runs `kubectl kustomize deploy/<rel>` and decodes every document into a typed object.
func render(t *testing.T, rel string) rendering {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := kubectlClean(ctx, "", "kustomize", deployDir(rel))
	if err != nil {
		t.Fatalf("render deploy/%s: %v", rel, err)
	}
	return decodeRendering(t, "deploy/"+rel, deployDir(rel), out)
}

// decodeRendering decodes out, rendered by what from dir, failing t if it holds no objects.
func decodeRendering(t *testing.T, what, dir, out string) rendering {
	t.Helper()
	objs, err := decodeAll(out)
	if err != nil {
		t.Fatalf("decode the rendering of %s: %v", what, err)
	}
	if len(objs) == 0 {
		t.Fatalf("%s renders no objects", what)
	}
	return rendering{dir: dir, yaml: out, objs: objs}
}

// decodeAll decodes a multi-document YAML stream: built-in kinds into their types, others
// (a ServiceMonitor) into unstructured objects.
func decodeAll(text string) ([]runtime.Object, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(text)))
	var objs []runtime.Object
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("split YAML documents: %w", err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if runtime.IsNotRegisteredError(err) {
			u := &unstructured.Unstructured{}
			if err := utilyaml.Unmarshal(doc, &u.Object); err != nil {
				return nil, fmt.Errorf("decode %q: %w", firstLine(doc), err)
			}
			obj = u
		} else if err != nil {
			return nil, fmt.Errorf("decode %q: %w", firstLine(doc), err)
		}
		objs = append(objs, obj)
	}
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(bytes.TrimSpace(b), []byte("\n"))
	return string(line)
}

// all returns the objects of type T in r.
func all[T runtime.Object](r rendering) []T {
	var out []T
	for _, o := range r.objs {
		if v, ok := o.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// one returns the object of type T named name in r, failing t if there is not exactly one.
func one[T interface {
	runtime.Object
	GetName() string
}](t *testing.T, r rendering, name string) T {
	t.Helper()
	var found []T
	for _, o := range all[T](r) {
		if o.GetName() == name {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("%s renders %d %T named %s, want 1", r.dir, len(found), zero, name)
	}
	return found[0]
}

// corefileOf returns the Corefile key of ConfigMap name in r.
func corefileOf(t *testing.T, r rendering, name string) string {
	t.Helper()
	cm := one[*corev1.ConfigMap](t, r, name)
	text, ok := cm.Data["Corefile"]
	if !ok {
		t.Fatalf("%s: ConfigMap %s has no key Corefile", r.dir, name)
	}
	return text
}

// waitReady waits for /ready and the DNS listener. It asks nothing in the zone, which the
// metrics tests count.
func waitReady(t *testing.T, c *harness.CoreDNS) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
}

// serviceAccountKubeconfig mints a token for ServiceAccount ns/name through the TokenRequest
// API and writes a kubeconfig that reaches the cluster as that ServiceAccount, as a pod
// running under it would.
func serviceAccountKubeconfig(t *testing.T, c *cluster.Cluster, ns, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	expiry := int64(3600)
	tr, err := c.Client().CoreV1().ServiceAccounts(ns).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}},
		metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("request a token for ServiceAccount %s/%s: %v", ns, name, err)
	}
	admin, err := clientcmd.LoadFromFile(c.Kubeconfig())
	if err != nil {
		t.Fatalf("load the cluster's kubeconfig: %v", err)
	}
	current, ok := admin.Contexts[admin.CurrentContext]
	if !ok || admin.Clusters[current.Cluster] == nil {
		t.Fatalf("the cluster's kubeconfig %s has no cluster for its current context %q", c.Kubeconfig(), admin.CurrentContext)
	}
	ca := admin.Clusters[current.Cluster].CertificateAuthorityData
	if len(ca) == 0 {
		t.Fatalf("the cluster's kubeconfig %s embeds no CA", c.Kubeconfig())
	}
	user := "system:serviceaccount:" + ns + ":" + name
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["cluster"] = &clientcmdapi.Cluster{Server: c.APIServerURL(), CertificateAuthorityData: ca}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts[user] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: user}
	cfg.CurrentContext = user
	path := filepath.Join(t.TempDir(), "kubeconfig-"+ns+"-"+name)
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatalf("write the kubeconfig of ServiceAccount %s/%s: %v", ns, name, err)
	}
	return path
}

// createServiceAccount creates ServiceAccount ns/name.
func createServiceAccount(t *testing.T, c *cluster.Cluster, ns, name string) {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if _, err := c.Client().CoreV1().ServiceAccounts(ns).Create(context.Background(), sa, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ServiceAccount %s/%s: %v", ns, name, err)
	}
}

// runPods creates one plain pod per name in the default namespace and waits until kwok runs
// them; it returns each pod's IP by name.
func runPods(t *testing.T, c *cluster.Cluster, names ...string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pods := c.Client().CoreV1().Pods(metav1.NamespaceDefault)
	for _, name := range names {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "deploy-test"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: "app", Image: "registry.example/app:1",
			}}},
		}
		if _, err := pods.Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create pod %s: %v", name, err)
		}
	}
	return waitRunning(t, ctx, c, metav1.NamespaceDefault, "app=deploy-test", len(names))
}

// waitRunning waits until exactly n pods match selector in ns, all Running with an IP, and
// returns their IPs by name.
func waitRunning(t *testing.T, ctx context.Context, c *cluster.Cluster, ns, selector string, n int) map[string]string {
	t.Helper()
	ips := map[string]string{}
	for _, p := range harness.Running(ctx, t, c.Client(), ns, selector, n) {
		ips[p.Name] = p.Status.PodIP
	}
	return ips
}
