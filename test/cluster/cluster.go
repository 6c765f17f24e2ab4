package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Cluster is a running control plane with one fake node. Its methods are safe for concurrent use.
type Cluster struct {
	opts      Options
	dir       string
	removeDir bool // Start made dir, so Stop removes it
	token     string

	etcdURL       string
	apiServerURL  string
	apiServerArgs []string // kept so that StartAPIServer brings back the same server

	kubeconfig string
	restConfig *rest.Config
	client     kubernetes.Interface

	mu      sync.Mutex
	order   []string            // component names in start order; Stop goes backwards
	procs   map[string]*process // running components; the API server is absent while stopped
	stopped bool
}

// Start starts etcd, the API server, the controller manager, the scheduler and kwok, registers
// the fake node NodeName and returns once it is Ready for pods (and kwok has run one pod, so
// that pods started together get distinct IPs; see primeIPPool). If any step fails, Start stops
// what it started and its error names the component and quotes the end of its log.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.StartTimeout)
		defer cancel()
	}
	c, err := newCluster(opts)
	if err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	if err := c.start(ctx); err != nil {
		// The failed component's exit is already in err; only a failure to stop is news.
		return nil, errors.Join(fmt.Errorf("start cluster: %w", err), c.stop(false))
	}
	return c, nil
}

// newCluster prepares the cluster's directories and credentials without starting anything.
func newCluster(opts Options) (*Cluster, error) {
	c := &Cluster{opts: opts, procs: map[string]*process{}}
	if opts.Dir == "" {
		dir, err := os.MkdirTemp("", "podname-cluster-")
		if err != nil {
			return nil, fmt.Errorf("create cluster dir: %w", err)
		}
		c.dir, c.removeDir = dir, true
	} else {
		if err := ensureEmptyDir(opts.Dir); err != nil {
			return nil, err
		}
		c.dir = opts.Dir
	}
	if c.opts.LogDir == "" {
		c.opts.LogDir = filepath.Join(c.dir, "logs")
	}
	if err := os.MkdirAll(c.opts.LogDir, 0o755); err != nil {
		return nil, errors.Join(fmt.Errorf("create log dir: %w", err), c.removeOwnDir())
	}
	token, err := newToken()
	if err != nil {
		return nil, errors.Join(err, c.removeOwnDir())
	}
	c.token = token
	c.kubeconfig = filepath.Join(c.dir, "kubeconfig")
	if err := writeTokenFile(c.path(tokenFile), token); err != nil {
		return nil, errors.Join(err, c.removeOwnDir())
	}
	if err := writeServiceAccountKey(c.path(serviceAccountKeyFile)); err != nil {
		return nil, errors.Join(err, c.removeOwnDir())
	}
	return c, nil
}

// Files and directories inside the cluster's dir.
const (
	etcdDataDir           = "etcd"
	certDir               = "certs"
	caFile                = "ca.crt" // the CA that signed the API server's certificate
	tokenFile             = "token.csv"
	serviceAccountKeyFile = "service-account.key"
)

// path is name inside the cluster's dir.
func (c *Cluster) path(name string) string {
	return filepath.Join(c.dir, name)
}

// ensureEmptyDir creates dir, or checks that it exists and is empty: leftovers of an earlier
// cluster (etcd data, a node) would make this one start in a state nobody chose.
func ensureEmptyDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create cluster dir: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("read cluster dir: %w", err)
	}
	if len(entries) != 0 {
		return fmt.Errorf("cluster dir %s is not empty", dir)
	}
	return nil
}

// start runs each start-up step in order; a failed step's error quotes its component's log.
func (c *Cluster) start(ctx context.Context) error {
	steps := []struct {
		component string
		run       func(context.Context) error
	}{
		{etcdName, c.startEtcd},
		{apiServerName, c.startFirstAPIServer},
		{apiServerName, c.ensureDefaultServiceAccount},
		{controllerManagerName, c.startControllerManager},
		{schedulerName, c.startScheduler},
		{kwokName, c.startKwok},
		{kwokName, c.registerNode},
		{kwokName, c.primeIPPool},
	}
	for _, step := range steps {
		if err := step.run(ctx); err != nil {
			// A step can fail because another component died, whose log then says why.
			logOf := step.component
			if exited, ok := errors.AsType[*exitedError](err); ok {
				logOf = exited.component
			}
			return c.withLog(logOf, fmt.Errorf("%s: %w", step.component, err))
		}
	}
	return nil
}

// withLog appends the last lines of component's log to err, which names the component.
func (c *Cluster) withLog(component string, err error) error {
	log := c.logPath(component)
	return fmt.Errorf("%w\n--- last %d lines of %s ---\n%s", err, logTailLines, log, fileTail(log, logTailLines))
}

// logPath is the log file of component.
func (c *Cluster) logPath(component string) string {
	return filepath.Join(c.opts.LogDir, component+".log")
}

// run starts component's binary with args and records it for Stop.
func (c *Cluster) run(component string, args []string) (*process, error) {
	return c.runAs(component, component, args)
}

// runAs starts component's binary with args as the process name (the component itself, or a
// second instance of it) and records it for Stop.
func (c *Cluster) runAs(name, component string, args []string) (*process, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil, fmt.Errorf("start %s: cluster is stopped", name)
	}
	// An entry that has exited (crashed, or killed by a test through PIDs) may be replaced.
	if p, ok := c.procs[name]; ok && p.exitError() == nil {
		return nil, fmt.Errorf("start %s: already running", name)
	}
	p, err := startProcess(name, filepath.Join(c.opts.BinDir, binaryFile(component)), args, c.logPath(name))
	if err != nil {
		return nil, err
	}
	c.procs[name] = p
	if !slices.Contains(c.order, name) {
		c.order = append(c.order, name)
	}
	return p, nil
}

// running returns the running processes of components, skipping those not running.
func (c *Cluster) running(components ...string) []*process {
	c.mu.Lock()
	defer c.mu.Unlock()
	var procs []*process
	for _, name := range components {
		if p, ok := c.procs[name]; ok {
			procs = append(procs, p)
		}
	}
	return procs
}

// Stop stops every component in the reverse order of their start and waits for them to exit,
// then removes the cluster's dir if Start created it. It reports components that had exited
// on their own before. Calls after the first return nil.
func (c *Cluster) Stop() error {
	return c.stop(true)
}

// stop is Stop, reporting components that had exited on their own only if reportExits.
func (c *Cluster) stop(reportExits bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	c.stopped = true
	var errs []error
	for i := len(c.order) - 1; i >= 0; i-- {
		p, ok := c.procs[c.order[i]]
		if !ok {
			continue
		}
		if err := p.exitError(); err != nil && reportExits {
			errs = append(errs, fmt.Errorf("before Stop: %w (log: %s)", err, p.logPath))
		}
		if err := p.stop(); err != nil {
			errs = append(errs, err)
		}
		delete(c.procs, c.order[i])
	}
	errs = append(errs, c.removeOwnDir())
	return errors.Join(errs...)
}

// removeOwnDir removes the cluster's dir if Start created it.
func (c *Cluster) removeOwnDir() error {
	if !c.removeDir {
		return nil
	}
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("remove cluster dir: %w", err)
	}
	return nil
}

// Kubeconfig is the path of an admin kubeconfig for the cluster, with the CA embedded.
func (c *Cluster) Kubeconfig() string { return c.kubeconfig }

// RESTConfig returns a copy of the admin client configuration, free for the caller to change.
func (c *Cluster) RESTConfig() *rest.Config { return rest.CopyConfig(c.restConfig) }

// Client is an admin clientset for the cluster.
func (c *Cluster) Client() kubernetes.Interface { return c.client }

// APIServerURL is the API server's https URL; it stays the same across StartAPIServer.
func (c *Cluster) APIServerURL() string { return c.apiServerURL }

// Logs is the directory holding <component>.log for each component.
func (c *Cluster) Logs() string { return c.opts.LogDir }

// Dir is the directory holding etcd's data, the credentials and the kubeconfig.
func (c *Cluster) Dir() string { return c.dir }

// PodCIDR is the fake node's pod CIDR, from which its pods get their IPs.
func (c *Cluster) PodCIDR() string { return c.opts.PodCIDR }

// PIDs maps each running component to its process ID, which is also its process group ID.
func (c *Cluster) PIDs() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	pids := make(map[string]int, len(c.procs))
	for name, p := range c.procs {
		pids[name] = p.pid()
	}
	return pids
}
