package seed

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podname/podname/test/harness"
	corev1 "k8s.io/api/core/v1"
)

// kubeletHosts is the /etc/hosts the kubelet writes for a pod without hostNetwork, subdomain or
// hostAliases: its header, the localhost lines, and one line per pod IP naming the hostname.
func kubeletHosts(hostname string, podIPs []string) string {
	var b strings.Builder
	b.WriteString("# Kubernetes-managed hosts file.\n")
	b.WriteString("127.0.0.1\tlocalhost\n")
	b.WriteString("::1\tlocalhost ip6-localhost ip6-loopback\n")
	b.WriteString("fe00::0\tip6-localnet\n")
	b.WriteString("fe00::0\tip6-mcastprefix\n")
	b.WriteString("fe00::1\tip6-allnodes\n")
	b.WriteString("fe00::2\tip6-allrouters\n")
	for _, ip := range podIPs {
		fmt.Fprintf(&b, "%s\t%s\n", ip, hostname)
	}
	return b.String()
}

// kubeletResolvConf is the /etc/resolv.conf the kubelet writes for a ClusterFirst pod in
// namespace ns. The kubelet would append the node's search domains; this node has none, so
// every search domain is one the kubernetes plugin answers, with no upstream involved.
func kubeletResolvConf(ns string) string {
	return fmt.Sprintf("nameserver %s\nsearch %s\noptions ndots:5\n", dnsIP, strings.Join(searchDomains(ns), " "))
}

// searchDomains is the search list of a ClusterFirst pod in namespace ns.
func searchDomains(ns string) []string {
	return []string{ns + ".svc.cluster.local", "svc.cluster.local", "cluster.local"}
}

// bind is a file bind-mounted over target in a process's own mount namespace.
type bind struct{ file, target string }

// mountScript bind-mounts each FILE TARGET pair given before "--", then execs what follows.
const mountScript = `set -e
while [ "$1" != -- ]; do mount --bind "$1" "$2"; shift 2; done
shift
exec "$@"`

// inMountNS is a command running argv in a mount namespace of its own with binds in place, as
// the kubelet bind-mounts a pod's /etc files into its containers. The mounts vanish with it.
func inMountNS(ctx context.Context, binds []bind, argv ...string) *exec.Cmd {
	args := []string{"-m", "--propagation", "private", "sh", "-c", mountScript, "sh"}
	for _, b := range binds {
		args = append(args, b.file, b.target)
	}
	args = append(args, "--")
	args = append(args, argv...)
	cmd := exec.CommandContext(ctx, "unshare", args...)
	// unshare and sh exec in turn, so the process started is the one that ends up running argv.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// writeFiles writes each name -> content into dir and returns their paths by name.
func writeFiles(dir string, files map[string]string) (map[string]string, error) {
	paths := make(map[string]string, len(files))
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return nil, fmt.Errorf("write %s: %w", path, err)
		}
		paths[name] = path
	}
	return paths, nil
}

// wsServer is one pod's copy of the seed's program.
type wsServer struct {
	*harness.Process
	pod     corev1.Pod
	stopped bool // by stop, as the kubelet stops a pod being deleted
}

// startServer runs `ws.py serve` as pod: its own /etc/hostname (the pod name, as the kubelet
// sets it for a pod without spec.hostname), the kubelet's /etc/hosts and resolv.conf. It runs
// until stop or the end of t; an exit before either fails t.
func startServer(t *testing.T, python, script, zk, dir string, pod corev1.Pod) *wsServer {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("pod %s: %v", pod.Name, err)
	}
	paths, err := writeFiles(dir, map[string]string{
		"hostname":    pod.Name + "\n",
		"hosts":       kubeletHosts(pod.Name, harness.PodIPs(pod)),
		"resolv.conf": kubeletResolvConf(pod.Namespace),
	})
	if err != nil {
		t.Fatalf("pod %s: %v", pod.Name, err)
	}
	cmd := inMountNS(context.Background(), []bind{
		{paths["hostname"], "/etc/hostname"},
		{paths["hosts"], "/etc/hosts"},
		{paths["resolv.conf"], "/etc/resolv.conf"},
	}, python, script, "serve", zk)
	p, err := harness.Run(dir, "ws", cmd)
	if err != nil {
		t.Fatalf("pod %s: ws.py serve: %v", pod.Name, err)
	}
	s := &wsServer{Process: p, pod: pod}
	t.Cleanup(func() {
		if err := s.exited(); err != nil && !s.stopped {
			t.Errorf("%v before the test ended\n%s", err, s.Log())
		}
		p.Kill()
		if t.Failed() {
			t.Logf("pod %s: ws.py serve log:\n%s", pod.Name, s.Log())
		}
	})
	return s
}

// stop sends the server SIGTERM, as the kubelet does to a pod being deleted, and waits for it:
// it must close its ZooKeeper session and exit 0.
func (s *wsServer) stop(t *testing.T) {
	t.Helper()
	if err := s.exited(); err != nil {
		t.Fatalf("%v before it was stopped\n%s", err, s.Log())
	}
	s.stopped = true
	if err := s.Stop(); err != nil {
		t.Fatalf("pod %s: stop ws.py serve: %v", s.pod.Name, err)
	}
	if err := s.ExitError(); err != nil {
		t.Errorf("pod %s: ws.py serve ended by SIGTERM: %v, want exit 0\n%s", s.pod.Name, err, s.Log())
	}
}

// exited is nil while the server runs, and afterwards says how it ended.
func (s *wsServer) exited() error {
	if !s.Exited() {
		return nil
	}
	return fmt.Errorf("pod %s: ws.py serve exited: %v", s.pod.Name, s.ExitError())
}
