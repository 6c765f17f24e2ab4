package podname

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/coredns/coredns/coremain"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// connection says how to reach the API server: a kubeconfig (and context),
// an endpoint URL, or, with neither, the in-cluster config.
type connection struct {
	kubeconfig, context string
	endpoint            string
}

// key identifies the connection for sharing watches between stanzas.
func (c connection) key() string {
	switch {
	case c.kubeconfig != "":
		return "kubeconfig=" + c.kubeconfig + ",context=" + c.context
	case c.endpoint != "":
		return "endpoint=" + c.endpoint
	}
	return "in-cluster"
}

// newClient builds a stanza's clientset; tests hand in a fake one.
var newClient = connection.client

// client builds a clientset that speaks protobuf, as CoreDNS's kubernetes
// plugin does.
func (c connection) client() (kubernetes.Interface, error) {
	cfg, err := c.restConfig()
	if err != nil {
		return nil, err
	}
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cfg.UserAgent = fmt.Sprintf("%s/%s podname (%s/%s/%s)", coremain.CoreName, coremain.CoreVersion,
		runtime.GOOS, runtime.GOARCH, runtime.Version())
	if cfg.DisableCompression, err = compression(cfg.DisableCompression); err != nil {
		return nil, err
	}
	cfg.Wrap(newReach(c.key()).wrap)
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create kubernetes client (%s): %w", c.key(), err)
	}
	return withSlimPods(client, cfg)
}

func (c connection) restConfig() (*rest.Config, error) {
	switch {
	case c.kubeconfig != "":
		cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
			&clientcmd.ClientConfigLoadingRules{ExplicitPath: c.kubeconfig},
			&clientcmd.ConfigOverrides{CurrentContext: c.context},
		).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", c.kubeconfig, err)
		}
		return cfg, nil
	case c.endpoint != "":
		return &rest.Config{Host: c.endpoint}, nil
	}
	cfg, err := rest.InClusterConfig()
	if errors.Is(err, rest.ErrNotInCluster) {
		return nil, errors.New("not running in a Kubernetes cluster: set kubeconfig or endpoint")
	}
	if err != nil {
		return nil, fmt.Errorf("in-cluster config: %w", err)
	}
	return cfg, nil
}

// compression is the clientset's DisableCompression given client-go's default, which the
// product keeps: the API server gzips its responses. Only the bench's build (the podname_bench
// tag, bench_switches.go) replaces it, to measure gzip on and off.
var compression = func(def bool) (bool, error) { return def, nil }
