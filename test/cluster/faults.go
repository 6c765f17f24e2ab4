package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"k8s.io/client-go/rest"
)

// EtcdURL is etcd's client URL (http on 127.0.0.1), for tests that talk to etcd directly, for
// example through its gRPC gateway (/v3/kv/range, /v3/kv/compaction).
func (c *Cluster) EtcdURL() string { return c.etcdURL }

// StopEtcd stops etcd and waits for it to exit, leaving the API server and every other component
// running, as a failure of the datastore would. The function it returns starts etcd again with
// the same flags and data dir and waits for its /health; calls after the first return nil, so a
// test can both call it and register it as a cleanup.
func (c *Cluster) StopEtcd() (start func(context.Context) error, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.procs[etcdName]
	if !ok {
		return nil, errors.New("stop etcd: not running")
	}
	// The flags name the ports and the data dir; the same ones bring back the same member.
	args := p.cmd.Args[1:]
	delete(c.procs, etcdName)
	if err := p.stop(); err != nil {
		return nil, err
	}
	var once sync.Once
	return func(ctx context.Context) error {
		var err error
		once.Do(func() { err = c.startEtcdAgain(ctx, args) })
		return err
	}, nil
}

// startEtcdAgain runs etcd with args and waits for its /health.
func (c *Cluster) startEtcdAgain(ctx context.Context, args []string) error {
	p, err := c.run(etcdName, args)
	if err != nil {
		return fmt.Errorf("restart etcd: %w", err)
	}
	if err := waitFor(ctx, "etcd /health", []*process{p}, httpGetOK(probeClient, c.etcdURL+"/health", "")); err != nil {
		return c.withLog(etcdName, fmt.Errorf("restart etcd: %w", err))
	}
	return nil
}

// ExtraAPIServer is another kube-apiserver on the cluster's etcd, with the same flags,
// certificate and credentials as the first but its own port, as a highly available control
// plane has several. No component talks to it: what it holds (its /metrics' open watches, for
// example) is its clients' alone, and it keeps serving while the first is stopped.
type ExtraAPIServer struct {
	name            string // of its process and log: kube-apiserver-<port>
	url, kubeconfig string
	args            []string // kept so that Start brings back the same server
	restConfig      *rest.Config
	c               *Cluster
}

// StartExtraAPIServer starts an ExtraAPIServer and waits until it is ready. Cluster.Stop stops
// it if the caller has not.
func (c *Cluster) StartExtraAPIServer(ctx context.Context) (*ExtraAPIServer, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa(ports[0])
	args := make([]string, 0, len(c.apiServerArgs))
	for _, a := range c.apiServerArgs {
		if strings.HasPrefix(a, "--secure-port=") {
			a = "--secure-port=" + port
		}
		args = append(args, a)
	}
	e := &ExtraAPIServer{name: apiServerName + "-" + port, url: loopbackURL("https", ports[0]),
		kubeconfig: c.path("kubeconfig-" + port), args: args, c: c}
	if err := e.Start(ctx); err != nil {
		return nil, errors.Join(err, e.Stop())
	}
	ca, err := os.ReadFile(c.path(caFile))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("read CA certificate: %w", err), e.Stop())
	}
	if err := writeKubeconfig(e.kubeconfig, e.url, ca, c.token); err != nil {
		return nil, errors.Join(err, e.Stop())
	}
	if e.restConfig, err = restConfigFrom(e.kubeconfig); err != nil {
		return nil, errors.Join(err, e.Stop())
	}
	return e, nil
}

// URL is the API server's https URL.
func (e *ExtraAPIServer) URL() string { return e.url }

// Kubeconfig is the path of an admin kubeconfig for this API server.
func (e *ExtraAPIServer) Kubeconfig() string { return e.kubeconfig }

// RESTConfig returns a copy of the admin client configuration for this API server.
func (e *ExtraAPIServer) RESTConfig() *rest.Config { return rest.CopyConfig(e.restConfig) }

// Start starts the API server again after Stop, on the same port with the same flags, and
// waits until it is ready.
func (e *ExtraAPIServer) Start(ctx context.Context) error {
	p, err := e.c.runAs(e.name, apiServerName, e.args)
	if err != nil {
		return err
	}
	if err := waitFor(ctx, e.name+" /readyz", []*process{p}, httpGetOK(probeClient, e.url+"/readyz", e.c.token)); err != nil {
		return e.c.withLog(e.name, fmt.Errorf("start %s: %w", e.name, err))
	}
	return nil
}

// Stop stops this API server and waits for it to exit; calls after the first return nil.
func (e *ExtraAPIServer) Stop() error {
	e.c.mu.Lock()
	defer e.c.mu.Unlock()
	p, ok := e.c.procs[e.name]
	if !ok {
		return nil
	}
	delete(e.c.procs, e.name)
	return p.stop()
}
