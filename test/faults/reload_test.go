package faults

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coredns/caddy/caddyfile"

	"github.com/podname/podname/test/harness"

	"k8s.io/client-go/kubernetes"
)

const (
	// reloads is how many times TestReloads changes the Corefile.
	reloads = 50
	// reloadEvery is the reload plugin's check interval: its minimum (2s; less is a setup
	// error), with no jitter (0s is allowed), so reloads come as fast as the plugin allows.
	reloadEvery = "2s 0s"
	// reloadTimeout bounds the wait for one reload.
	reloadTimeout = 20 * time.Second
)

// TestReloads changes the Corefile example reloads times (podname's ttl, so every reload
// rebuilds the podname stanza, while its watch, keyed by connection and labels, is shared and
// must survive). After each change it waits for the reload plugin's log of the new
// configuration's SHA512 and for "Reloading complete", while a probe asks the pods' names
// every 50ms and wants every answer right. Afterwards the goroutines in podname and
// in client-go's informers (pprof), the process's open sockets (/proc/PID/fd) and its
// connections to the API server, and the pod watches the API server holds, must all come back
// exactly to what they were before (the process's total of goroutines to at most that), and the
// shared watch must not have been restarted: no new list or watch of pods reached the API
// server.
//
// coredns talks to an API server of its own (a second one on the cluster's etcd), so that the
// watches it holds are coredns's alone while the other tests run theirs.
func TestReloads(t *testing.T) {
	t.Parallel()
	api := ownAPI(t)
	ns := api.namespace(t, "reload")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ips := api.staticPods(ctx, t, ns, nil, "r-0", "r-1")
	ports, err := harness.FreePorts("127.0.0.1", 1)
	if err != nil {
		t.Fatalf("port for pprof: %v", err)
	}
	pprof := fmt.Sprintf("127.0.0.1:%d", ports[0])
	base, a := harness.ReadExample(t, "Corefile"), harness.Loopback(t, api.kubeconfig)
	base = replaceOnce(t, base, "\n    reload\n", fmt.Sprintf("\n    reload %s\n    pprof %s\n", reloadEvery, pprof))
	stanza := "\n    podname mgmt.pix.yun.com in-addr.arpa ip6.arpa {\n"
	corefile := func(i int) string {
		return replaceOnce(t, base, stanza, fmt.Sprintf("%s        ttl %d\n", stanza, 10+i))
	}
	c := harness.Start(t, corefile(0), a)
	harness.Serving(ctx, t, c, zone)
	want := fqdns(ips)
	waitAnswers(ctx, t, []*harness.CoreDNS{c}, want)
	conf := filepath.Join(c.Dir, "Corefile")
	apiPort, err := urlPort(api.url)
	if err != nil {
		t.Fatal(err)
	}

	reload := func(i int) {
		t.Helper()
		text, err := harness.AdjustCorefile(corefile(i), a)
		if err != nil {
			t.Fatal(err)
		}
		sha, err := configSHA(conf, text)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeAtomically(conf, text); err != nil {
			t.Fatal(err)
		}
		if err := waitReloaded(ctx, c, i, sha); err != nil {
			t.Errorf("reload %d: %v", i, err)
			logStacks(t, pprof)
			t.FailNow()
		}
	}
	// A first reload before the baseline: goroutines that only start-up runs are gone by then.
	reload(1)
	m := &processMeter{pid: c.PID(), pprof: pprof, apiPort: apiPort, api: api.client}
	before, err := m.settled(ctx)
	if err != nil {
		t.Fatalf("baseline: %v", err)
	}
	requestsBefore, err := podRequests(ctx, api.client)
	if err != nil {
		t.Fatal(err)
	}

	readiness := watchReady(ctx, a.ReadyPort)
	// Queries keep coming during the reloads, as to a cluster's DNS, and must be answered right.
	// They also end what would otherwise stall a reload of an idle server: caddy hands the UDP
	// socket to the new instance through File and net.FilePacketConn, whose Fd puts the shared
	// socket in blocking mode for a moment (golang/go#29277). An old reader that enters recvmsg
	// then blocks in the kernel until a datagram comes, and closing it waits for that.
	pr := startProbe(ctx, t, []*harness.CoreDNS{c}, want, 50*time.Millisecond, 3*time.Minute)
	began := time.Now()
	for i := 2; i <= reloads+1; i++ {
		reload(i)
	}
	took := time.Since(began)
	res := pr.finish()
	t.Logf("DNS during the reloads: %d queries, %d wrong", res.Queries, res.Wrong)
	if res.Wrong > 0 || res.Queries == 0 || res.OutOfTime {
		t.Errorf("DNS during the reloads: %d of %d answers wrong (probe out of time: %v); first ones:\n%s",
			res.Wrong, res.Queries, res.OutOfTime, strings.Join(res.FirstWrong, "\n"))
	}
	checks, podnameUnready := readiness()
	t.Logf("/ready during the reloads: %d checks, %d answered 503 naming podname", checks, podnameUnready)
	if checks == 0 || podnameUnready > 0 {
		t.Errorf("/ready named podname not ready %d times in %d checks during reloads: a reload that keeps the watch must not unready the server",
			podnameUnready, checks)
	}
	waitAnswers(ctx, t, []*harness.CoreDNS{c}, want)

	// Every count must come back exactly, but the process's total goroutines, which may also
	// end below: the forward plugin's connection managers of replaced instances end on their
	// own time, and a count below the baseline is no leak. podname's own goroutines, counted
	// apart, must come back exactly.
	mctx, mcancel := context.WithTimeout(ctx, time.Minute)
	defer mcancel()
	var after meterReading
	back := func(r meterReading) bool {
		total := r.Goroutines <= before.Goroutines
		r.Goroutines = before.Goroutines
		return total && r == before
	}
	err = harness.Poll(mctx, "goroutines, sockets and pod watches back to their baseline", func() (bool, error) {
		var err error
		after, err = m.read(ctx)
		return err == nil && back(after), err
	})
	t.Logf("reloads: %d in %s (%s each) after one to warm up; baseline %s; after %s", reloads, took.Round(time.Millisecond),
		(took / reloads).Round(time.Millisecond), before, after)
	if err != nil {
		t.Errorf("after %d reloads, %s, want the baseline %s (total goroutines at most): %v", reloads, after, before, err)
	}
	requestsAfter, err := podRequests(ctx, api.client)
	if err != nil {
		t.Fatal(err)
	}
	if requestsAfter != requestsBefore {
		t.Errorf("its API server served %d lists and watches of pods before the reloads and %d after: the shared watch was restarted",
			requestsBefore, requestsAfter)
	}
}

// watchReady asks /ready on port every 10ms until the returned function is called, which
// returns the number of answers and of those that were 503 naming podname. Refused connections
// and 503s naming only other plugins are the ready plugin's and the kubernetes plugin's own
// doing on a reload, and are not counted.
func watchReady(ctx context.Context, port int) func() (checks, podnameUnready int) {
	stop := make(chan struct{})
	done := make(chan [2]int)
	cl := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		var n [2]int
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				done <- n
				return
			case <-ctx.Done():
				done <- n
				return
			case <-tick.C:
			}
			resp, err := cl.Get(fmt.Sprintf("http://127.0.0.1:%d/ready", port))
			if err != nil {
				continue
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			n[0]++
			if resp.StatusCode != http.StatusOK && strings.Contains(string(body), "podname") {
				n[1]++
			}
		}
	}()
	return func() (int, int) {
		close(stop)
		n := <-done
		return n[0], n[1]
	}
}

// configSHA is what the reload plugin logs for a Corefile: the SHA512 of the JSON of its parsed
// server blocks (tokens with their file and line), so comments alone do not change it.
func configSHA(path, text string) (string, error) {
	blocks, err := caddyfile.Parse(path, strings.NewReader(text), nil)
	if err != nil {
		return "", fmt.Errorf("parse Corefile: %w", err)
	}
	b, err := json.Marshal(blocks)
	if err != nil {
		return "", fmt.Errorf("encode Corefile: %w", err)
	}
	sum := sha512.Sum512(b)
	return hex.EncodeToString(sum[:]), nil
}

// writeAtomically replaces path with text in one rename, so the reload plugin never reads half
// a Corefile.
func writeAtomically(path, text string) error {
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		return fmt.Errorf("write Corefile: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replace Corefile: %w", err)
	}
	return nil
}

// waitReloaded waits until c's log shows reload n complete with the configuration sha, and
// fails at once on a failed reload.
func waitReloaded(ctx context.Context, c *harness.CoreDNS, n int, sha string) error {
	rctx, cancel := context.WithTimeout(ctx, reloadTimeout)
	defer cancel()
	return harness.Poll(rctx, fmt.Sprintf("reload %d with SHA512 %.16s...", n, sha), func() (bool, error) {
		if c.Exited() {
			return false, fmt.Errorf("coredns exited")
		}
		log := c.Log()
		for _, bad := range []string{"reload failed", "Restart failed", "Corefile parse failed"} {
			if strings.Contains(log, bad) {
				return false, fmt.Errorf("coredns logged %q", bad)
			}
		}
		return strings.Count(log, "Reloading complete") >= n &&
			strings.Contains(log, "Running configuration SHA512 = "+sha), nil
	})
}

// meterReading is what TestReloads compares before and after.
type meterReading struct {
	Goroutines int // the process's, from pprof
	Podname    int // of those, the ones with podname's code on their stack
	Informers  int // and the ones in client-go's informers (podname's and the kubernetes plugin's)
	Sockets    int // open socket descriptors of the process
	APIConns   int // of those, TCP connections to the API server
	PodWatches int // pod watches the API server holds, from its /metrics
}

func (r meterReading) String() string {
	return fmt.Sprintf("%d goroutines (%d in podname, %d in informers), %d sockets (%d to the API server), %d pod watches on its API server",
		r.Goroutines, r.Podname, r.Informers, r.Sockets, r.APIConns, r.PodWatches)
}

// processMeter reads a coredns process's goroutines and sockets and the API server's watches.
type processMeter struct {
	pid     int
	pprof   string // host:port of the pprof plugin
	apiPort int
	api     kubernetes.Interface // a client of the API server coredns uses
}

// settled reads until three readings in a row agree, the process being idle.
func (m *processMeter) settled(ctx context.Context) (meterReading, error) {
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var last meterReading
	same := 0
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for i := 0; same < 3; i++ {
		if i == 100 {
			return last, fmt.Errorf("readings never settled in %d tries (last: %s)", i, last)
		}
		r, err := m.read(sctx)
		if err != nil {
			return r, err
		}
		if r == last {
			same++
		} else {
			last, same = r, 1
		}
		select {
		case <-sctx.Done():
			return last, fmt.Errorf("readings never settled (last: %s): %w", last, sctx.Err())
		case <-tick.C:
		}
	}
	return last, nil
}

func (m *processMeter) read(ctx context.Context) (meterReading, error) {
	var r meterReading
	var err error
	if r.Goroutines, r.Podname, r.Informers, err = goroutines(ctx, m.pprof); err != nil {
		return r, err
	}
	if r.Sockets, r.APIConns, err = sockets(m.pid, m.apiPort); err != nil {
		return r, err
	}
	if r.PodWatches, err = podWatches(ctx, m.api); err != nil {
		return r, err
	}
	return r, nil
}

// meterClient asks pprof without keep-alive: an idle connection would be one more socket and
// goroutine in the process being measured.
var meterClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// Stack frames of a goroutine profile that mark podname's own code and client-go's informers.
const (
	podnameFrame  = "github.com/podname/podname/plugin/podname"
	informerFrame = "k8s.io/client-go/tools/cache."
)

// goroutines reads pprof's goroutine profile: the total of its first line, and how many
// goroutines have podname's code, and client-go's informers, on their stack.
func goroutines(ctx context.Context, addr string) (total, podname, informers int, err error) {
	body, u, err := goroutineProfile(ctx, addr, 1)
	if err != nil {
		return 0, 0, 0, err
	}
	// The profile is a header line, then blocks "N @ pcs" followed by "#\tpc\tframe\tfile"
	// lines, separated by blank lines.
	blocks := strings.Split(string(body), "\n\n")
	head, ok := strings.CutPrefix(blocks[0], "goroutine profile: total ")
	if !ok {
		return 0, 0, 0, fmt.Errorf("GET %s: no goroutine profile header", u)
	}
	line, _, _ := strings.Cut(head, "\n")
	if total, err = strconv.Atoi(strings.TrimSpace(line)); err != nil {
		return 0, 0, 0, fmt.Errorf("GET %s: header %q: %w", u, line, err)
	}
	for _, b := range blocks {
		b = strings.TrimPrefix(b, "goroutine profile: total "+line+"\n")
		count, _, ok := strings.Cut(b, " @ ")
		if !ok {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(count))
		if err != nil {
			return 0, 0, 0, fmt.Errorf("GET %s: block %q: %w", u, count, err)
		}
		if strings.Contains(b, podnameFrame) {
			podname += n
		}
		if strings.Contains(b, informerFrame) {
			informers += n
		}
	}
	return total, podname, informers, nil
}

// sockets counts the socket descriptors of process pid and, among them, the TCP connections
// established to port on 127.0.0.1.
func sockets(pid, port int) (all, toPort int, err error) {
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, fmt.Errorf("descriptors of coredns: %w", err)
	}
	inodes := map[string]bool{}
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed since the listing
		}
		if inode, ok := strings.CutPrefix(target, "socket:["); ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	table, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/tcp", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("TCP table of coredns: %w", err)
	}
	remote := fmt.Sprintf("0100007F:%04X", port)
	for line := range bytes.Lines(table) {
		f := strings.Fields(string(line))
		// sl local rem st tx:rx tr:when retrnsmt uid timeout inode
		if len(f) < 10 || f[2] != remote || f[3] != "01" {
			continue
		}
		if inodes[f[9]] {
			toPort++
		}
	}
	return len(inodes), toPort, nil
}

// urlPort is the port of an https URL.
func urlPort(raw string) (int, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return 0, fmt.Errorf("URL %q: %w", raw, err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		return 0, fmt.Errorf("URL %q: port: %w", raw, err)
	}
	return port, nil
}

// logStacks logs the stack of every goroutine in coredns that runs a reload (caddy's Restart)
// and keeps the whole dump in a file, so a reload that hangs says where.
func logStacks(t *testing.T, pprof string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	body, _, err := goroutineProfile(ctx, pprof, 2)
	if err != nil {
		t.Log(err)
		return
	}
	f, err := os.CreateTemp("", "podname-reload-stacks-*.txt")
	if err == nil {
		_, err = f.Write(body)
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		t.Logf("keep goroutine stacks: %v", err)
	} else {
		t.Logf("coredns goroutine stacks kept in %s", f.Name())
	}
	// debug=2 separates goroutines by blank lines.
	for _, g := range strings.Split(string(body), "\n\n") {
		if strings.Contains(g, "caddy.(*Instance).Restart") {
			t.Logf("a reload in progress:\n%s", g)
		}
	}
}

// goroutineProfile is pprof's goroutine profile at addr in the form debug asks (1: counts of
// identical stacks, 2: every goroutine's stack), and the URL it came from.
func goroutineProfile(ctx context.Context, addr string, debug int) (body []byte, url string, err error) {
	u := fmt.Sprintf("http://%s/debug/pprof/goroutine?debug=%d", addr, debug)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, u, fmt.Errorf("GET %s: %w", u, err)
	}
	resp, err := meterClient.Do(req)
	if err != nil {
		return nil, u, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, u, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if body, err = io.ReadAll(io.LimitReader(resp.Body, 64<<20)); err != nil {
		return nil, u, fmt.Errorf("GET %s: %w", u, err)
	}
	return body, u, nil
}
