// Command demo shows podname working on a local cluster with no set-up:
// it starts the test cluster, applies the seed's Deployment and Service ws,
// serves corefile-examples/Corefile on 127.0.0.1:1053 with bin/coredns,
// and prints each pod's name, the dig command to ask for it, and the
// answer. It keeps serving until Ctrl-C, or exits at once with -once.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"

	"github.com/podname/podname/test/cluster"
	"github.com/podname/podname/test/harness"

	corev1 "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func main() {
	once := flag.Bool("once", false, "exit after printing the answers (CI runs it so)")
	port := flag.Int("port", 1053, "DNS port on 127.0.0.1")
	flag.Parse()
	if err := run(*once, *port); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

const zone = "mgmt.pix.yun.com"

func run(once bool, port int) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	dir, err := os.MkdirTemp("", "podname-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	say("starting a local cluster (etcd, kube-apiserver, controller-manager, scheduler, kwok)")
	if err := cluster.CheckBinaries(); err != nil {
		return err
	}
	start := time.Now()
	kube, err := cluster.Start(ctx, cluster.Options{Dir: filepath.Join(dir, "cluster"), PodCIDR: "10.36.0.0/24"})
	if err != nil {
		return err
	}
	defer func() {
		say("tearing down")
		if err := kube.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "demo: stop cluster:", err)
		}
	}()
	say("cluster up in %s; KUBECONFIG=%s (kubectl: %s)", time.Since(start).Round(time.Millisecond), kube.Kubeconfig(), cluster.KubectlPath())

	say("applying the seed's Deployment ws (2 replicas, no subdomain) and Service ws")
	if err := applySeed(ctx, kube); err != nil {
		return err
	}
	pods, err := waitPods(ctx, kube, 2)
	if err != nil {
		return err
	}

	text, err := harness.Example("Corefile")
	if err != nil {
		return err
	}
	a, err := harness.LoopbackAdjust(kube.Kubeconfig())
	if err != nil {
		return err
	}
	a.DNSPort = port
	c, err := harness.StartAdjusted(dir, text, a)
	if err != nil {
		return err
	}
	defer func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "demo:", err)
		}
	}()
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.WaitReady(wctx); err != nil {
		return err
	}
	say("coredns serving corefile-examples/Corefile on %s (metrics: http://127.0.0.1:%d/metrics)", c.Addr(), a.MetricsPort)

	var wrong []string
	for _, p := range pods {
		fmt.Printf("\n  pod %s (IP in the API: %s)\n", p.Name, p.Status.PodIP)
		for _, name := range []string{p.Name + "." + zone, p.Name + ".ws." + zone} {
			if _, err := harness.WaitAnswer(wctx, c.Addr(), name, dns.TypeA, func(r *dns.Msg) bool { return r.Rcode == dns.RcodeSuccess }); err != nil {
				return err
			}
			got, err := harness.Dig(c.Addr(), name, "A")
			if err != nil {
				return err
			}
			fmt.Printf("  $ dig @127.0.0.1 -p %d %s +short\n  %s\n", port, name, strings.Join(got, " "))
			if !slices.Equal(got, []string{p.Status.PodIP}) {
				wrong = append(wrong, name)
			}
		}
		got, err := harness.Dig(c.Addr(), p.Status.PodIP, "-x")
		if err != nil {
			return err
		}
		fmt.Printf("  $ dig @127.0.0.1 -p %d -x %s +short\n  %s\n", port, p.Status.PodIP, strings.Join(got, " "))
		if !slices.Equal(got, []string{p.Name + "." + zone + "."}) {
			wrong = append(wrong, "PTR "+p.Status.PodIP)
		}
	}
	fmt.Println()
	if len(wrong) > 0 {
		return fmt.Errorf("wrong answers for %v\n%s", wrong, c.Log())
	}
	stopOutside, err := outside(wctx, dir, kube, pods[0])
	if err != nil {
		return err
	}
	defer stopOutside()
	if once {
		say("every pod answered with its own IP")
		return nil
	}
	say("serving until Ctrl-C; try: %s --kubeconfig %s scale deployment ws --replicas 5", cluster.KubectlPath(), kube.Kubeconfig())
	<-ctx.Done()
	return nil
}

// outside runs corefile-examples/transfer.Corefile with BIND as its secondary, as the company
// DNS would be, and asks BIND for pod's name. The returned func stops both.
func outside(ctx context.Context, dir string, kube *cluster.Cluster, pod corev1.Pod) (stop func(), err error) {
	var stops []func() error
	stop = func() {
		for _, s := range slices.Backward(stops) {
			if err := s(); err != nil {
				fmt.Fprintln(os.Stderr, "demo:", err)
			}
		}
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	port, err := harness.FreePorts("127.0.0.1", 1)
	if err != nil {
		return nil, err
	}
	bindAddr := fmt.Sprintf("127.0.0.1:%d", port[0])
	text, err := harness.Example("transfer.Corefile")
	if err != nil {
		return nil, err
	}
	a, err := harness.LoopbackAdjust(kube.Kubeconfig())
	if err != nil {
		return nil, err
	}
	primaryDir, bindDir := filepath.Join(dir, "primary"), filepath.Join(dir, "bind")
	for _, d := range []string{primaryDir, bindDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, err
		}
	}
	primary, err := harness.StartAdjusted(primaryDir, strings.Replace(text, "to 10.1.0.53", "to "+bindAddr, 1), a)
	if err != nil {
		return nil, err
	}
	stops = append(stops, primary.Stop)
	if err := primary.WaitServing(ctx, zone); err != nil {
		return nil, err
	}
	bind, err := harness.StartBIND(bindDir, harness.SecondaryOptions{Addr: bindAddr, Primary: primary.Addr(), Zones: []string{zone, "36.10.in-addr.arpa"}})
	if err != nil {
		return nil, err
	}
	stops = append(stops, bind.Stop)
	name := pod.Name + "." + zone
	if _, err := harness.WaitAnswer(ctx, bindAddr, name, dns.TypeA, func(r *dns.Msg) bool { return len(r.Answer) > 0 }); err != nil {
		return nil, fmt.Errorf("BIND, a secondary of podname: %w\n%s", err, bind.Log())
	}
	got, err := harness.Dig(bindAddr, name, "A")
	if err != nil {
		return nil, err
	}
	say("BIND on %s follows podname's zones by zone transfer (corefile-examples/transfer.Corefile), as a company DNS would:", bindAddr)
	fmt.Printf("  $ dig @127.0.0.1 -p %d %s +short\n  %s\n\n", port[0], name, strings.Join(got, " "))
	if !slices.Equal(got, []string{pod.Status.PodIP}) {
		return nil, fmt.Errorf("BIND answers %s with %v, want %s", name, got, pod.Status.PodIP)
	}
	return stop, nil
}

func say(format string, args ...any) { fmt.Printf("demo: "+format+"\n", args...) }

func applySeed(ctx context.Context, kube *cluster.Cluster) error {
	if _, err := kube.Client().CoreV1().Services("default").Create(ctx, harness.WSService("default"), meta.CreateOptions{}); err != nil {
		return fmt.Errorf("create Service ws: %w", err)
	}
	if _, err := kube.Client().AppsV1().Deployments("default").Create(ctx, harness.WSDeployment("default", 2), meta.CreateOptions{}); err != nil {
		return fmt.Errorf("create Deployment ws: %w", err)
	}
	return nil
}

func waitPods(ctx context.Context, kube *cluster.Cluster, n int) ([]corev1.Pod, error) {
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	return harness.RunningPods(wctx, kube.Client(), "default", harness.WSSelector, n)
}
