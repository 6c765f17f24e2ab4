package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// startFirstAPIServer picks the API server's port and flags for the cluster's life, starts it,
// and writes the kubeconfig and clients once it has made its certificate.
func (c *Cluster) startFirstAPIServer(ctx context.Context) error {
	ports, err := freePorts(1)
	if err != nil {
		return err
	}
	c.apiServerURL = loopbackURL("https", ports[0])
	c.apiServerArgs = []string{
		"--etcd-servers=" + c.etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		// The reconciler of the kubernetes Service's endpoints refuses a loopback address and
		// stops the server; nothing here reaches the API server through that Service.
		"--endpoint-reconciler-type=none",
		"--secure-port=" + strconv.Itoa(ports[0]),
		// The API server makes a CA and a serving certificate here as apiserver.crt (serving
		// certificate first), and reuses them on a restart.
		"--cert-dir=" + c.path(certDir),
		"--token-auth-file=" + c.path(tokenFile),
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=" + serviceCIDR,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + c.path(serviceAccountKeyFile),
		"--service-account-signing-key-file=" + c.path(serviceAccountKeyFile),
		// Without a drain period for watches, SIGTERM leaves the watch connections of the
		// components open and the server waits 60s on them before it gives up and exits.
		"--shutdown-watch-termination-grace-period=1s",
	}
	if err := c.runAPIServer(ctx); err != nil {
		return err
	}

	bundle, err := os.ReadFile(filepath.Join(c.path(certDir), "apiserver.crt"))
	if err != nil {
		return fmt.Errorf("read the API server's certificate: %w", err)
	}
	ca, err := caCertificates(bundle)
	if err != nil {
		return fmt.Errorf("the API server's certificate: %w", err)
	}
	if err := os.WriteFile(c.path(caFile), ca, 0o644); err != nil {
		return fmt.Errorf("write CA certificate: %w", err)
	}
	if err := writeKubeconfig(c.kubeconfig, c.apiServerURL, ca, c.token); err != nil {
		return err
	}
	if c.restConfig, err = restConfigFrom(c.kubeconfig); err != nil {
		return err
	}
	if c.client, err = kubernetes.NewForConfig(c.restConfig); err != nil {
		return fmt.Errorf("create client: %w", err)
	}
	return nil
}

// runAPIServer starts the API server with the cluster's flags and waits for /readyz.
func (c *Cluster) runAPIServer(ctx context.Context) error {
	p, err := c.run(apiServerName, c.apiServerArgs)
	if err != nil {
		return err
	}
	return waitFor(ctx, "kube-apiserver /readyz", []*process{p}, httpGetOK(probeClient, c.apiServerURL+"/readyz", c.token))
}

// StopAPIServer stops the API server and waits for it to exit, leaving etcd and every other
// component running, as an outage of the control plane would.
func (c *Cluster) StopAPIServer() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.procs[apiServerName]
	if !ok {
		return errors.New("stop kube-apiserver: not running")
	}
	delete(c.procs, apiServerName)
	return p.stop()
}

// StartAPIServer starts the API server again after StopAPIServer (or after it was killed),
// on the same port with the same certificate, credentials and etcd, and waits until it is
// ready. Clients made before keep working once they reconnect.
func (c *Cluster) StartAPIServer(ctx context.Context) error {
	if err := c.runAPIServer(ctx); err != nil {
		return c.withLog(apiServerName, fmt.Errorf("restart kube-apiserver: %w", err))
	}
	return nil
}

// ensureDefaultServiceAccount creates the default ServiceAccount in the default namespace,
// without which the API server refuses pods there. The controller manager would create it
// too, later; doing it now keeps tests from racing it. The namespace itself appears shortly
// after the API server is ready, so NotFound means not yet.
func (c *Cluster) ensureDefaultServiceAccount(ctx context.Context) error {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: metav1.NamespaceDefault}}
	return waitFor(ctx, "default ServiceAccount", c.running(etcdName, apiServerName), func(ctx context.Context) error {
		_, err := c.client.CoreV1().ServiceAccounts(sa.Namespace).Create(ctx, sa, metav1.CreateOptions{})
		switch {
		case err == nil, apierrors.IsAlreadyExists(err):
			return nil
		case apierrors.IsNotFound(err):
			return notYet(err)
		default:
			return fmt.Errorf("create default ServiceAccount: %w", err)
		}
	})
}
