package faults

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/podname/podname/test/cluster"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// apiServer is one API server of the cluster, as a test reaches it.
type apiServer struct {
	name       string // for messages
	url        string
	kubeconfig string
	config     *rest.Config
	client     kubernetes.Interface
	extra      *cluster.ExtraAPIServer // nil for the main one
}

// mainAPI is the cluster's own API server, the one every component uses and the faults stop.
func mainAPI() *apiServer {
	return &apiServer{name: "the main API server", url: kube.APIServerURL(), kubeconfig: kube.Kubeconfig(),
		config: kube.RESTConfig(), client: kube.Client()}
}

// replica is the second API server the parallel tests share, started on first use and stopped
// with the cluster. They reach the cluster through it so that the outage of the main one, which
// TestAPIServerOutage runs at the same time, does not concern them; their pods are on the static
// node and need no controller.
var replica struct {
	sync.Mutex
	api *apiServer
}

// replicaAPI returns the shared second API server, starting it if needed.
func replicaAPI(t *testing.T) *apiServer {
	t.Helper()
	replica.Lock()
	defer replica.Unlock()
	if replica.api == nil {
		replica.api = extraAPI(t, "the replica API server", false)
	}
	return replica.api
}

// ownAPI starts an API server for t alone, stopped when t ends: what it holds (its watches)
// is t's alone.
func ownAPI(t *testing.T) *apiServer {
	t.Helper()
	return extraAPI(t, "an API server of its own", true)
}

// extraAPI starts a second API server on the cluster's etcd; stopWithTest stops it when t
// ends, else the cluster's Stop does.
func extraAPI(t *testing.T, name string, stopWithTest bool) *apiServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e, err := kube.StartExtraAPIServer(ctx)
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	if stopWithTest {
		t.Cleanup(func() {
			if err := e.Stop(); err != nil {
				t.Errorf("stop %s: %v", name, err)
			}
		})
	}
	api, err := apiServerOf(name, e)
	if err != nil {
		t.Fatal(err)
	}
	return api
}

func apiServerOf(name string, e *cluster.ExtraAPIServer) (*apiServer, error) {
	cfg := e.RESTConfig()
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("client of %s: %w", name, err)
	}
	return &apiServer{name: name, url: e.URL(), kubeconfig: e.Kubeconfig(), config: cfg, client: client, extra: e}, nil
}
