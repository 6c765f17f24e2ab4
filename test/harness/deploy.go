package harness

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

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/podname/podname/test/cluster"
)

// RepoPath is rel below the repository root, failing t if the repository is not found.
func RepoPath(t testing.TB, rel string) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, rel)
}

// DeployDir is deploy/<rel> in the repository, failing t if the repository is not found.
func DeployDir(t testing.TB, rel string) string {
	t.Helper()
	return RepoPath(t, filepath.Join("deploy", rel))
}

// Kubectl runs the cluster build's kubectl and returns its stdout and stderr; a failure
// quotes stderr. kubeconfig may be empty for commands that reach no server (kustomize).
func Kubectl(ctx context.Context, kubeconfig string, args ...string) (stdout, stderr string, err error) {
	return run(exec.CommandContext(ctx, cluster.KubectlPath()), kubeconfig, args...)
}

// KubectlClean is Kubectl that also fails on any warning, such as Pod Security's or a
// deprecated field's.
func KubectlClean(ctx context.Context, kubeconfig string, args ...string) (string, error) {
	return clean(Kubectl(ctx, kubeconfig, args...))
}

// Helm runs the Helm of make tools as Kubectl runs kubectl, with its cache, configuration and
// data in t's temporary directory rather than the user's.
func Helm(t testing.TB, ctx context.Context, kubeconfig string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.CommandContext(ctx, cluster.HelmPath())
	cmd.Env = append(os.Environ(),
		"HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"))
	return run(cmd, kubeconfig, args...)
}

// HelmClean is Helm that also fails on any warning.
func HelmClean(t testing.TB, ctx context.Context, kubeconfig string, args ...string) (string, error) {
	t.Helper()
	return clean(Helm(t, ctx, kubeconfig, args...))
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

// Rendering is the output of `kubectl kustomize` of one directory of deploy/, or of `helm template`.
type Rendering struct {
	Dir     string
	YAML    string
	Objects []runtime.Object
}

// Render runs `kubectl kustomize deploy/<rel>` and decodes every document into a typed object.
func Render(t testing.TB, rel string) Rendering {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dir := DeployDir(t, rel)
	out, err := KubectlClean(ctx, "", "kustomize", dir)
	if err != nil {
		t.Fatalf("render deploy/%s: %v", rel, err)
	}
	return DecodeRendering(t, "deploy/"+rel, dir, out)
}

// DecodeRendering decodes out, rendered by what from dir, failing t if it holds no objects.
func DecodeRendering(t testing.TB, what, dir, out string) Rendering {
	t.Helper()
	objs, err := decodeAll(out)
	if err != nil {
		t.Fatalf("decode the rendering of %s: %v", what, err)
	}
	if len(objs) == 0 {
		t.Fatalf("%s renders no objects", what)
	}
	return Rendering{Dir: dir, YAML: out, Objects: objs}
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
		line, _, _ := bytes.Cut(bytes.TrimSpace(doc), []byte("\n"))
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(doc, nil, nil)
		if runtime.IsNotRegisteredError(err) {
			u := &unstructured.Unstructured{}
			if err := utilyaml.Unmarshal(doc, &u.Object); err != nil {
				return nil, fmt.Errorf("decode %q: %w", line, err)
			}
			obj = u
		} else if err != nil {
			return nil, fmt.Errorf("decode %q: %w", line, err)
		}
		objs = append(objs, obj)
	}
}

// All returns the objects of type T in r.
func All[T runtime.Object](r Rendering) []T {
	var out []T
	for _, o := range r.Objects {
		if v, ok := o.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// One returns the object of type T named name in r, failing t if there is not exactly one.
func One[T interface {
	runtime.Object
	GetName() string
}](t testing.TB, r Rendering, name string) T {
	t.Helper()
	var found []T
	for _, o := range All[T](r) {
		if o.GetName() == name {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("%s renders %d %T named %s, want 1", r.Dir, len(found), zero, name)
	}
	return found[0]
}

// ConfigMapCorefile returns the Corefile key of ConfigMap name in r.
func ConfigMapCorefile(t testing.TB, r Rendering, name string) string {
	t.Helper()
	cm := One[*corev1.ConfigMap](t, r, name)
	text, ok := cm.Data["Corefile"]
	if !ok {
		t.Fatalf("%s: ConfigMap %s has no key Corefile", r.Dir, name)
	}
	return text
}

// CreateServiceAccount creates ServiceAccount ns/name.
func CreateServiceAccount(t testing.TB, c *cluster.Cluster, ns, name string) {
	t.Helper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if _, err := c.Client().CoreV1().ServiceAccounts(ns).Create(context.Background(), sa, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create ServiceAccount %s/%s: %v", ns, name, err)
	}
}

// ServiceAccountToken mints an hour's token for ServiceAccount ns/name through the TokenRequest
// API, as the kubelet does for a pod running under it.
func ServiceAccountToken(t testing.TB, c *cluster.Cluster, ns, name string) string {
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
	return tr.Status.Token
}

// ClusterCA is the CA bundle that verifies the cluster's API server, from its kubeconfig.
func ClusterCA(t testing.TB, c *cluster.Cluster) []byte {
	t.Helper()
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
	return ca
}

// ServiceAccountKubeconfig writes, into dir, a kubeconfig that reaches the cluster as
// ServiceAccount ns/name with a token from ServiceAccountToken, as a pod running under it
// would, and returns its path.
func ServiceAccountKubeconfig(t testing.TB, c *cluster.Cluster, dir, ns, name string) string {
	t.Helper()
	user := "system:serviceaccount:" + ns + ":" + name
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["cluster"] = &clientcmdapi.Cluster{Server: c.APIServerURL(), CertificateAuthorityData: ClusterCA(t, c)}
	cfg.AuthInfos[user] = &clientcmdapi.AuthInfo{Token: ServiceAccountToken(t, c, ns, name)}
	cfg.Contexts[user] = &clientcmdapi.Context{Cluster: "cluster", AuthInfo: user}
	cfg.CurrentContext = user
	path := filepath.Join(dir, "kubeconfig-"+ns+"-"+name)
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatalf("write the kubeconfig of ServiceAccount %s/%s: %v", ns, name, err)
	}
	return path
}
