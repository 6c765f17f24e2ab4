package seed

import (
	"context"
	"errors"
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

// wsServer is one pod's copy of the seed's program, running until the test ends.
type wsServer struct {
	pod     corev1.Pod
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
	waitErr error // read only after done is closed
}

// startServer runs `ws.py serve` as pod: its own /etc/hostname (the pod name, as the kubelet
// sets it for a pod without spec.hostname), the kubelet's /etc/hosts and resolv.conf. It is
// killed when t ends; an exit before that fails t.
func startServer(t *testing.T, python, script, registry, dir string, pod corev1.Pod) *wsServer {
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
	logPath := filepath.Join(dir, "ws.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("pod %s: create log: %v", pod.Name, err)
	}
	defer logf.Close() // the child has its own descriptor once started
	cmd := inMountNS(context.Background(), []bind{
		{paths["hostname"], "/etc/hostname"},
		{paths["hosts"], "/etc/hosts"},
		{paths["resolv.conf"], "/etc/resolv.conf"},
	}, python, script, "serve", registry)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("pod %s: start ws.py serve: %v", pod.Name, err)
	}
	s := &wsServer{pod: pod, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		if err := s.exited(); err != nil {
			t.Errorf("%v before the test ended\n%s", err, s.log())
		}
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			t.Errorf("pod %s: kill ws.py serve: %v", pod.Name, err)
		}
		<-s.done
		if t.Failed() {
			t.Logf("pod %s: ws.py serve log:\n%s", pod.Name, s.log())
		}
	})
	return s
}

// exited is nil while the server runs, and afterwards says how it ended.
func (s *wsServer) exited() error {
	select {
	case <-s.done:
		return fmt.Errorf("pod %s: ws.py serve exited: %v", s.pod.Name, s.waitErr)
	default:
		return nil
	}
}

// log is what the server has printed so far.
func (s *wsServer) log() string {
	b, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(b)
}
