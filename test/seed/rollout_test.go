package seed

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	meta "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/podname/podname/test/cluster"
	"github.com/podname/podname/test/harness"
)

// templateHash is the label the Deployment controller gives the pods of one pod template.
const templateHash = "pod-template-hash"

// rollout is a rolling update of the Deployment ws while a peer (ws.py watch) follows the
// registry and dials every entry. The test plays the kubelet's part: it starts ws.py serve for
// each new pod once it runs with an IP (the IP put on the loopback) and sends SIGTERM to the
// one of a pod being deleted.
type rollout struct {
	t                       *testing.T
	kube                    *cluster.Cluster
	python, script, zk, dir string
	servers                 map[string]*wsServer // by pod name, stopped ones too
	onLoopback              map[string]bool      // IPs already on lo
}

// run changes the pod template, plays the pods' part until only new pods run, each with its
// server, and the peer has dialled every new entry. It fails the test on any dial that reached
// a pod other than the one its entry names, reports the refused and NXDOMAIN ones, and returns
// the new pods.
func (r *rollout) run() []corev1.Pod {
	t := r.t
	var oldHash string
	for _, s := range r.servers {
		oldHash = s.pod.Labels[templateHash]
	}
	peer := r.startPeer()
	r.waitPeer(peer, r.liveEntries())

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	events := make(chan harness.PodEvent, 256)
	done, err := harness.WatchPods(ctx, r.kube.Client(), namespace, func(ev harness.PodEvent) {
		select {
		case events <- ev:
		case <-ctx.Done():
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// A new pod template: the Deployment's default RollingUpdate strategy (maxSurge 25%,
	// maxUnavailable 25%, so one pod at a time for two replicas) replaces every pod. A new pod
	// counts as available a second after it is ready, as with a readiness delay in a real
	// rollout: the window in which old and new entries, and reused IPs, overlap lasts seconds,
	// and the peer dials through all of it.
	patch := `{"spec":{"minReadySeconds":1,"template":{"metadata":{"annotations":{"podname.test/rollout":"1"}}}}}`
	if _, err := r.kube.Client().AppsV1().Deployments(namespace).Patch(ctx, "ws", types.StrategicMergePatchType,
		[]byte(patch), meta.PatchOptions{}); err != nil {
		t.Fatalf("patch Deployment ws: %v", err)
	}
	pods := map[string]*corev1.Pod{}
	for !r.settled(pods, oldHash) {
		select {
		case ev := <-events:
			r.see(ev, pods)
		case err := <-done:
			t.Fatalf("watch of pods ended: %v", err)
		case <-ctx.Done():
			t.Fatalf("rollout not done: pods %v, servers %v", slices.Sorted(maps.Keys(pods)), r.liveEntries())
		}
	}
	var newPods []corev1.Pod
	for _, name := range slices.Sorted(maps.Keys(pods)) {
		newPods = append(newPods, *pods[name])
	}
	r.waitPeer(peer, wantEntries(newPods))
	if err := peer.Stop(); err != nil {
		t.Fatalf("stop ws.py watch: %v", err)
	}
	if err := peer.ExitError(); err != nil {
		t.Errorf("ws.py watch ended by SIGTERM: %v, want exit 0\n%s", err, peer.Log())
	}
	r.judge(peer.Log())
	return newPods
}

// see plays the kubelet's part for one pod event: a pod being deleted has its server stopped,
// a running pod with an IP and no server gets one.
func (r *rollout) see(ev harness.PodEvent, pods map[string]*corev1.Pod) {
	t := r.t
	p := ev.Pod
	if p.Labels["app"] != "ws" {
		return
	}
	if ev.Deleted || p.DeletionTimestamp != nil {
		delete(pods, p.Name)
		if s := r.servers[p.Name]; s != nil && !s.stopped {
			s.stop(t)
			t.Logf("pod %s (%s) deleted: its ws got SIGTERM and ended", p.Name, p.Status.PodIP)
		}
		return
	}
	pods[p.Name] = p
	if r.servers[p.Name] != nil || p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
		return
	}
	reused := false
	for _, ip := range harness.PodIPs(*p) {
		for _, s := range r.servers {
			if !s.stopped && slices.Contains(harness.PodIPs(s.pod), ip) {
				t.Fatalf("pod %s runs with IP %s while the ws of pod %s still holds it", p.Name, ip, s.pod.Name)
			}
		}
		if r.onLoopback[ip] {
			reused = true
			continue
		}
		addToLoopback(t, ip)
		r.onLoopback[ip] = true
	}
	r.servers[p.Name] = startServer(t, r.python, r.script, r.zk, filepath.Join(r.dir, "pods", p.Name), *p)
	t.Logf("pod %s running with IP %s (reused: %t): its ws started", p.Name, p.Status.PodIP, reused)
}

// settled is whether the rollout is over: replicas pods, all of the new template, each with a
// running server, and every server of an old pod stopped.
func (r *rollout) settled(pods map[string]*corev1.Pod, oldHash string) bool {
	if len(pods) != replicas {
		return false
	}
	for name, p := range pods {
		if p.Labels[templateHash] == oldHash || r.servers[name] == nil {
			return false
		}
	}
	for _, s := range r.servers {
		if s.pod.Labels[templateHash] == oldHash && !s.stopped {
			return false
		}
	}
	return true
}

// liveEntries are the entries of the servers not stopped, sorted.
func (r *rollout) liveEntries() []string {
	var out []string
	for name, s := range r.servers {
		if !s.stopped {
			out = append(out, entry(name))
		}
	}
	slices.Sort(out)
	return out
}

// startPeer runs `ws.py watch` as a peer pod would, until it is stopped or t ends.
func (r *rollout) startPeer() *harness.Process {
	t := r.t
	dir := filepath.Join(r.dir, "watch")
	cmd := inMountNS(context.Background(), peerBinds(t, dir), r.python, r.script, "watch", r.zk)
	p, err := harness.Run(dir, "peer", cmd)
	if err != nil {
		t.Fatalf("ws.py watch: %v", err)
	}
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("ws.py watch log:\n%s", harness.LastLines(p.Log(), 100))
		}
	})
	return p
}

// waitPeer waits until the peer's registry is want and it has since dialled every entry of it
// with the entry's own pod answering.
func (r *rollout) waitPeer(peer *harness.Process, want []string) {
	t := r.t
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	err := harness.Poll(ctx, fmt.Sprintf("the peer to see and reach %v", want), func() (bool, error) {
		if peer.Exited() {
			return false, fmt.Errorf("ws.py watch exited: %v\n%s", peer.ExitError(), peer.Log())
		}
		for _, s := range r.servers {
			if err := s.exited(); err != nil && !s.stopped {
				return false, fmt.Errorf("%w\n%s", err, s.Log())
			}
		}
		lines := parseWatch(peer.Log())
		last := -1
		for i, l := range lines {
			if l.registry != nil {
				last = i
			}
		}
		if last < 0 || !slices.Equal(lines[last].registry, want) {
			return false, nil
		}
		ok := map[string]bool{}
		for _, l := range lines[last+1:] {
			if l.result == "ok" {
				ok[l.entry] = true
			}
		}
		return len(ok) == len(want), nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// judge fails the test for every dial of the peer that reached another pod than its entry's,
// and reports how many dials were refused, NXDOMAIN, or failed otherwise.
func (r *rollout) judge(log string) {
	t := r.t
	counts := map[string]int{}
	changes := 0
	for _, l := range parseWatch(log) {
		if l.registry != nil {
			changes++
			continue
		}
		counts[l.result]++
		switch l.result {
		case "ok":
		case "wrong":
			t.Errorf("peer: %s (%s) was answered by %s: another pod than the entry names", l.entry, l.ip, l.detail)
		default:
			t.Logf("peer: %s (%s): %s %s", l.entry, l.ip, l.result, l.detail)
		}
	}
	total := 0
	for _, n := range counts {
		total += n
	}
	t.Logf("peer: %d registry changes, %d dials: %d ok, %d wrong, %d refused, %d nxdomain, %d other errors",
		changes, total, counts["ok"], counts["wrong"], counts["refused"], counts["nxdomain"], counts["error"])
	for result := range counts {
		if !slices.Contains([]string{"ok", "wrong", "refused", "nxdomain", "error"}, result) {
			t.Errorf("peer printed result %q, which ws.py does not define", result)
		}
	}
}

// watchLine is one line of `ws.py watch`: a registry change, or a dial.
type watchLine struct {
	registry                  []string // the entries after a change; nil for a dial
	entry, ip, result, detail string
}

// parseWatch reads the lines `ws.py watch` printed, skipping its log lines ("ws: ...").
func parseWatch(log string) []watchLine {
	var out []watchLine
	for line := range strings.Lines(log) {
		if !strings.HasSuffix(line, "\n") {
			break // being written
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, "registry "):
			entries := strings.Split(strings.TrimPrefix(line, "registry "), ",")
			if entries[0] == "" {
				entries = []string{}
			}
			out = append(out, watchLine{registry: entries})
		case strings.HasPrefix(line, "dial "):
			f := strings.SplitN(strings.TrimPrefix(line, "dial "), " ", 4)
			for len(f) < 4 {
				f = append(f, "")
			}
			out = append(out, watchLine{entry: f[0], ip: f[1], result: f[2], detail: f[3]})
		}
	}
	return out
}
