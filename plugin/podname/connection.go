package podname

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"

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
	if cfg.DisableCompression, err = benchCompression(os.Getenv(benchCompressionEnv), cfg.DisableCompression); err != nil {
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

// benchCompressionEnv, for benchmarks only, turns gzip of API responses on or off; unset keeps
// client-go's default.
const benchCompressionEnv = "PODNAME_BENCH_COMPRESSION"

var logCompression sync.Once

// benchCompression is DisableCompression as value (of benchCompressionEnv) sets it: "on"
// false, "off" true, empty def. Any other value is an error.
func benchCompression(value string, def bool) (bool, error) {
	var disable bool
	switch value {
	case "":
		return def, nil
	case "on":
		disable = false
	case "off":
		disable = true
	default:
		return def, fmt.Errorf("%s=%q: want on or off", benchCompressionEnv, value)
	}
	logCompression.Do(func() { log.Infof("%s=%s: gzip of API responses %s", benchCompressionEnv, value, value) })
	return disable, nil
}
