package seed

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/podname/podname/test/cluster"
	"github.com/podname/podname/test/harness"
)

const (
	dnsIP     = "10.96.0.10"   // the cluster DNS Service's usual IP, in the cluster's service CIDR
	podCIDR   = "10.36.0.0/24" // so pod IPs look like the write-up's 10.36.0.x
	zone      = "mgmt.pix.yun.com"
	wsPort    = "9999"
	namespace = "default"
	replicas  = 2
)

// TestSeedScenario is the write-up's scenario, for real. A plain Deployment ws (no subdomain, no
// hostname) and a plain Service ws run on the test cluster; each pod's IP is put on the network
// namespace's loopback, and the seed's program (ws.py serve) runs once per pod with the
// /etc/hostname, /etc/hosts and resolv.conf the kubelet would give it: it resolves its hostname,
// listens on that IP and registers <pod>.mgmt.pix.yun.com:9999 as an ephemeral znode in the
// test's ZooKeeper. A peer (ws.py dial) resolves every registered entry through glibc and
// bin/coredns, serving corefile-examples/Corefile on 10.96.0.10:53 with no rewrite, dials it,
// and must reach the pod the entry names. Then a rolling update replaces every pod while a
// peer (ws.py watch) keeps dialling the registry's entries (see rollout): no dial may reach
// another pod than its entry names, and afterwards the registry holds the new pods alone.
//
// It needs root: everything runs in a network namespace the test makes. Run from outside one, it
// makes the namespace and runs itself again inside (PODNAME_NETNS set), where the work is
// done. Without root it skips, unless CI=true, where that is a failure.
func TestSeedScenario(t *testing.T) {
	if ns := os.Getenv(harness.NetnsEnv); ns != "" {
		runInside(t, ns)
		return
	}
	runOutside(t)
}

// runInside is the scenario, in network namespace ns.
func runInside(t *testing.T, ns string) {
	harness.RequireInNetns(t, ns)
	python := os.Getenv(pythonEnv)
	if python == "" {
		t.Fatalf("%s is unset: run TestSeedScenario from outside the network namespace", pythonEnv)
	}
	script, err := filepath.Abs("ws.py")
	if err != nil {
		t.Fatalf("find ws.py: %v", err)
	}
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("ws.py: %v", err)
	}
	start := time.Now()
	step := func(what string) { t.Logf("%-32s %s", what, time.Since(start).Round(time.Millisecond)) }

	kube := harness.Cluster(t, cluster.Options{PodCIDR: podCIDR})
	step("cluster up")
	pods := deploySeed(t, kube)
	step("ws pods running")
	for _, p := range pods {
		if p.Spec.Subdomain != "" || p.Spec.Hostname != "" {
			t.Fatalf("pod %s has subdomain %q, hostname %q: the seed's Deployment sets neither", p.Name, p.Spec.Subdomain, p.Spec.Hostname)
		}
		for _, ip := range harness.PodIPs(p) {
			addToLoopback(t, ip)
		}
		t.Logf("pod %s has IP %s", p.Name, strings.Join(harness.PodIPs(p), ","))
	}

	dns := startCoreDNS(t, kube.Kubeconfig())
	step("coredns ready on " + dnsIP + ":53")

	dir := t.TempDir()
	zk := startZooKeeper(t, filepath.Join(dir, "zookeeper"))
	step("zookeeper answers on " + zk.Addr)
	servers := map[string]*wsServer{}
	for _, p := range pods {
		servers[p.Name] = startServer(t, python, script, zk.Addr, filepath.Join(dir, "pods", p.Name), p)
	}
	waitRegistered(t, servers)
	step("ws servers registered")
	if entries, want := list(t, python, script, zk.Addr), wantEntries(pods); !slices.Equal(entries, want) {
		t.Fatalf("registry holds %v, want %v", entries, want)
	}

	before := metrics(t, dns)
	answers := dial(t, python, script, filepath.Join(dir, "peer"), zk.Addr)
	step("peer dialled every entry")
	after := metrics(t, dns)
	checkAnswers(t, answers, pods)

	// The peer resolved as a pod does: ndots:5 sends each name through the search list first,
	// and the kubernetes plugin must answer every one NXDOMAIN (forward's upstream is dead and
	// would answer SERVFAIL) before podname answers the name as registered.
	nxdomain := counter(t, after, "coredns_dns_responses_total", map[string]string{"rcode": "NXDOMAIN"}) -
		counter(t, before, "coredns_dns_responses_total", map[string]string{"rcode": "NXDOMAIN"})
	hits := counter(t, after, "coredns_podname_requests_total", map[string]string{"result": "hit"}) -
		counter(t, before, "coredns_podname_requests_total", map[string]string{"result": "hit"})
	t.Logf("while the peer resolved: %v NXDOMAIN answers (search domains), %v podname hits", nxdomain, hits)
	if want := float64(len(pods) * len(searchDomains(namespace))); nxdomain < want {
		t.Errorf("%v NXDOMAIN answers while the peer resolved, want at least %v: one per entry and search domain", nxdomain, want)
	}
	if hits < float64(len(pods)) {
		t.Errorf("%v podname hits while the peer resolved, want at least %d", hits, len(pods))
	}
	if t.Failed() {
		return
	}

	r := &rollout{t: t, kube: kube, python: python, script: script, zk: zk.Addr, dir: dir,
		servers: servers, onLoopback: map[string]bool{}}
	for _, p := range pods {
		for _, ip := range harness.PodIPs(p) {
			r.onLoopback[ip] = true
		}
	}
	newPods := r.run()
	step("rollout done")
	if entries, want := list(t, python, script, zk.Addr), wantEntries(newPods); !slices.Equal(entries, want) {
		t.Fatalf("after the rollout the registry holds %v, want the new pods' %v", entries, want)
	}
	checkAnswers(t, dial(t, python, script, filepath.Join(dir, "peer"), zk.Addr), newPods)
	step("peer dialled every new entry")
}

// wantEntries are the entries pods register, sorted.
func wantEntries(pods []corev1.Pod) []string {
	var want []string
	for _, p := range pods {
		want = append(want, entry(p.Name))
	}
	slices.Sort(want)
	return want
}

// entry is what the pod named pod registers.
func entry(pod string) string { return pod + "." + zone + ":" + wsPort }

// checkAnswers checks that the peer's answers are exactly one per pod, each from the pod's own
// IP and in its own name.
func checkAnswers(t *testing.T, answers map[string]peerAnswer, pods []corev1.Pod) {
	t.Helper()
	for _, p := range pods {
		a, ok := answers[entry(p.Name)]
		switch {
		case !ok:
			t.Errorf("%s: the peer printed no answer for it", entry(p.Name))
		case a.ip != p.Status.PodIP:
			t.Errorf("%s resolved to %s; the API server says pod %s has %s", entry(p.Name), a.ip, p.Name, p.Status.PodIP)
		case a.answer != p.Name:
			t.Errorf("%s (%s) answered %q, want its own pod name %q", entry(p.Name), a.ip, a.answer, p.Name)
		}
	}
	if len(answers) != len(pods) {
		t.Errorf("the peer answered for %d entries, want %d", len(answers), len(pods))
	}
}

// metrics is the text of CoreDNS's /metrics.
func metrics(t *testing.T, c *harness.CoreDNS) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	text, err := c.Metrics(ctx)
	if err != nil {
		t.Fatalf("coredns metrics: %v", err)
	}
	return text
}

// counter sums the samples of metric in the Prometheus text whose labels include match.
func counter(t *testing.T, text, metric string, match map[string]string) float64 {
	t.Helper()
	v, _, err := harness.MetricSum(text, metric, match)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// addToLoopback puts ip on lo, where the pod's program binds it.
func addToLoopback(t *testing.T, ip string) {
	t.Helper()
	prefix := ip + "/32"
	if strings.Contains(ip, ":") {
		prefix = ip + "/128"
	}
	if out, err := exec.Command("ip", "addr", "add", prefix, "dev", "lo").CombinedOutput(); err != nil {
		t.Fatalf("ip addr add %s dev lo: %v: %s", prefix, err, bytes.TrimSpace(out))
	}
}

// deploySeed creates the seed's Service and Deployment ws and returns the pods once all
// replicas run with IPs.
func deploySeed(t *testing.T, kube *cluster.Cluster) []corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if _, err := kube.Client().CoreV1().Services(namespace).Create(ctx, harness.WSService(namespace), meta.CreateOptions{}); err != nil {
		t.Fatalf("create Service ws: %v", err)
	}
	if _, err := kube.Client().AppsV1().Deployments(namespace).Create(ctx, harness.WSDeployment(namespace, replicas), meta.CreateOptions{}); err != nil {
		t.Fatalf("create Deployment ws: %v", err)
	}
	pods, err := harness.RunningPods(ctx, kube.Client(), namespace, harness.WSSelector, replicas)
	if err != nil {
		t.Fatal(err)
	}
	return pods
}

// startCoreDNS serves corefile-examples/Corefile on dnsIP:53 with the cluster's kubeconfig and
// a dead upstream, and returns once it serves the zone.
func startCoreDNS(t *testing.T, kubeconfig string) *harness.CoreDNS {
	t.Helper()
	text := harness.ReadExample(t, "Corefile")
	// The point of the scenario: the seed's rewrite workaround is not needed.
	if strings.Contains(text, "rewrite") {
		t.Fatal("corefile-examples/Corefile uses rewrite; the scenario runs without the seed's workaround")
	}
	ports, err := harness.FreePorts(dnsIP, 3)
	if err != nil {
		t.Fatalf("ports on %s: %v", dnsIP, err)
	}
	// Nothing listens there: a query that reaches forward fails, so the peer's answers can
	// only come from podname and kubernetes.
	dead, err := harness.FreePorts("127.0.0.1", 1)
	if err != nil {
		t.Fatalf("upstream port: %v", err)
	}
	a := harness.Adjust{Bind: dnsIP, DNSPort: 53, HealthPort: ports[0], ReadyPort: ports[1], MetricsPort: ports[2],
		Kubeconfig: kubeconfig, Upstream: fmt.Sprintf("127.0.0.1:%d", dead[0])}
	c := harness.Start(t, text, a)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	harness.Serving(ctx, t, c, zone)
	return c
}

// waitRegistered waits until every server says it registered, failing at once if one exits.
func waitRegistered(t *testing.T, servers map[string]*wsServer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	for _, s := range servers {
		err := harness.Poll(ctx, "pod "+s.pod.Name+" to register", func() (bool, error) {
			if err := s.exited(); err != nil {
				return false, fmt.Errorf("%w\n%s", err, s.Log())
			}
			return strings.Contains(s.Log(), ", registered "+entry(s.pod.Name)), nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// startZooKeeper runs ZooKeeper on a free loopback port until t ends.
func startZooKeeper(t *testing.T, dir string) *harness.ZooKeeper {
	t.Helper()
	ports, err := harness.FreePorts("127.0.0.1", 1)
	if err != nil {
		t.Fatalf("zookeeper port: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	zk, err := harness.StartZooKeeper(ctx, dir, fmt.Sprintf("127.0.0.1:%d", ports[0]))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := zk.Stop(); err != nil {
			t.Errorf("stop zookeeper: %v", err)
		}
		if t.Failed() {
			t.Logf("zookeeper log, its end:\n%s", harness.LastLines(zk.Log(), 40))
		}
	})
	return zk
}

// list is the registry's entries, sorted, as `ws.py list` prints them.
func list(t *testing.T, python, script, zk string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, script, "list", zk).Output()
	if err != nil {
		t.Fatalf("ws.py list: %v", err)
	}
	return strings.Fields(string(out))
}

// peerBinds are the /etc files of a peer pod, written into dir: the kubelet's resolv.conf and
// a hosts file naming none of the ws pods.
func peerBinds(t *testing.T, dir string) []bind {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("peer: %v", err)
	}
	paths, err := writeFiles(dir, map[string]string{
		"hosts":       kubeletHosts("peer", nil),
		"resolv.conf": kubeletResolvConf(namespace),
	})
	if err != nil {
		t.Fatalf("peer: %v", err)
	}
	return []bind{{paths["hosts"], "/etc/hosts"}, {paths["resolv.conf"], "/etc/resolv.conf"}}
}

// peerAnswer is what the peer got for one registry entry.
type peerAnswer struct{ ip, answer string }

// dial runs `ws.py dial` as a peer pod would, with the kubelet's resolv.conf and a hosts file
// naming none of the ws pods, and returns its answers by entry.
func dial(t *testing.T, python, script, dir, zk string) map[string]peerAnswer {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := inMountNS(ctx, peerBinds(t, dir), python, script, "dial", zk)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	for line := range strings.Lines(stderr.String()) {
		t.Logf("peer: %s", strings.TrimSpace(line))
	}
	answers := map[string]peerAnswer{}
	for line := range strings.Lines(stdout.String()) {
		line = strings.TrimSpace(line)
		f := strings.Split(line, " -> ")
		if len(f) != 3 {
			t.Errorf("peer: %s", line)
			continue
		}
		t.Logf("peer: %s", line)
		answers[f[0]] = peerAnswer{ip: f[1], answer: f[2]}
	}
	if runErr != nil {
		t.Fatalf("ws.py dial: %v", runErr)
	}
	return answers
}
