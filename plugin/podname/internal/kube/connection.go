package kube

import (
	"errors"
	"fmt"
	"runtime"

	"github.com/coredns/coredns/coremain"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Connection says how to reach the API server: a kubeconfig (and context),
// an endpoint URL, or, with neither, the in-cluster config.
type Connection struct {
	Kubeconfig, Context string
	Endpoint            string
}

// Key identifies the connection for sharing watches between stanzas.
func (c Connection) Key() string {
	switch {
	case c.Kubeconfig != "":
		return "kubeconfig=" + c.Kubeconfig + ",context=" + c.Context
	case c.Endpoint != "":
		return "endpoint=" + c.Endpoint
	}
	return "in-cluster"
}

// Client builds a clientset that speaks protobuf, as CoreDNS's kubernetes
// plugin does.
func (c Connection) Client() (kubernetes.Interface, error) {
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
	cfg.Wrap(newReach(c.Key()).wrap)
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("create kubernetes client (%s): %w", c.Key(), err)
	}
	return withSlimPods(client, cfg)
}

func (c Connection) restConfig() (*rest.Config, error) {
	switch {
	case c.Kubeconfig != "":
		cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
			&clientcmd.ClientConfigLoadingRules{ExplicitPath: c.Kubeconfig},
			&clientcmd.ConfigOverrides{CurrentContext: c.Context},
		).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", c.Kubeconfig, err)
		}
		return cfg, nil
	case c.Endpoint != "":
		return &rest.Config{Host: c.Endpoint}, nil
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
