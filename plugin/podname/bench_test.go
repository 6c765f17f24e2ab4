package podname

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coredns/coredns/plugin/file"
	"github.com/coredns/coredns/plugin/test"

	"github.com/miekg/dns"
	"github.com/podname/podname/plugin/podname/index"
	"github.com/podname/podname/plugin/podname/internal/kube"
	"github.com/podname/podname/plugin/podname/internal/podtest"
	api "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/cache"
)

// benchPods is the index size the benchmarks answer from.
const benchPods = 100_000

// benchPod makes the i-th pod of a cluster of 1,000 Deployments with 100
// replicas each, as the API server would send it.
func benchPod(i int) (name, ip string, podFor func() *api.Pod) {
	deploy, replica := i/100, i%100
	name = fmt.Sprintf("app%03d-5d8f7c9b4-%05d", deploy, replica)
	ip = fmt.Sprintf("10.%d.%d.%d", 64+i>>16, (i>>8)&255, i&255)
	return name, ip, func() *api.Pod {
		p := podtest.Pod(fmt.Sprintf("ns%02d", deploy%50), name, []string{ip})
		p.Labels = map[string]string{"app": fmt.Sprintf("app%03d", deploy), "pod-template-hash": "5d8f7c9b4"}
		p.Spec.Hostname = ""
		return p
	}
}

// loadedPlugin is a plugin with benchPods pods indexed through the
// transform and the event handler, as the watch would leave it.
func loadedPlugin(b *testing.B) *PodName {
	b.Helper()
	p := newTestPlugin(&testing.T{}, seedStanza, nil, nil)
	for i := range benchPods {
		_, _, podFor := benchPod(i)
		p.onPod(nil, kube.Project(podFor()))
	}
	return p
}

// fileBaseline is CoreDNS's file plugin serving the same names and IPs:
// the in-tree way to answer a static zone, run beside podname.
func fileBaseline(b *testing.B) *file.File {
	b.Helper()
	var zone strings.Builder
	fmt.Fprintf(&zone, "$ORIGIN %s\n@ 5 IN SOA ns.dns.%s hostmaster.%s 1 7200 1800 86400 5\n", seedZone, seedZone, seedZone)
	for i := range benchPods {
		name, ip, _ := benchPod(i)
		fmt.Fprintf(&zone, "%s 5 IN A %s\n", name, ip)
	}
	z, err := file.Parse(strings.NewReader(zone.String()), seedZone, "bench", 0)
	if err != nil {
		b.Fatal(err)
	}
	return &file.File{Zones: file.Zones{Z: map[string]*file.Zone{seedZone: z}, Names: []string{seedZone}}}
}

const seedZone = "mgmt.pix.yun.com."

type dnsHandler interface {
	ServeDNS(context.Context, dns.ResponseWriter, *dns.Msg) (int, error)
}

func BenchmarkServeDNS(b *testing.B) {
	handlers := map[string]dnsHandler{"podname": loadedPlugin(b), "file": fileBaseline(b)}
	hitName, _, _ := benchPod(benchPods / 2)
	queries := map[string]*dns.Msg{
		"hit":  new(dns.Msg).SetQuestion(hitName+"."+seedZone, dns.TypeA),
		"miss": new(dns.Msg).SetQuestion("app999-nothere-00000."+seedZone, dns.TypeA),
	}
	for _, q := range []string{"hit", "miss"} {
		for _, h := range []string{"podname", "file"} {
			b.Run(q+"/"+h, func(b *testing.B) {
				w := &test.ResponseWriter{}
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if _, err := handlers[h].ServeDNS(ctx, w, queries[q]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkIndexMemory reports the heap each indexed pod costs: its
// projection in an informer-style store plus the index's entries.
func BenchmarkIndexMemory(b *testing.B) {
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		store := cache.NewStore(cache.MetaNamespaceKeyFunc)
		idx := index.New(index.Options{}, index.NewServices())
		for i := range benchPods {
			_, _, podFor := benchPod(i)
			o := kube.Project(podFor())
			if err := store.Add(o); err != nil {
				b.Fatal(err)
			}
			idx.Update(nil, o.Indexed())
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/benchPods, "bytes/pod")
		if idx.Len() != benchPods || len(store.ListKeys()) != benchPods {
			b.Fatalf("indexed %d, stored %d", idx.Len(), len(store.ListKeys()))
		}
		runtime.KeepAlive(store)
	}
}

// BenchmarkTransfer: an AXFR of the benchPods zone, and an IXFR of it after
// 50 pods changed address, with the records each sends.
func BenchmarkTransfer(b *testing.B) {
	pods := make([]*api.Pod, benchPods)
	for i := range pods {
		_, _, podFor := benchPod(i)
		pods[i] = podFor()
		pods[i].ResourceVersion = "10" // serial 0 would ask for an AXFR
	}
	p := newTestPlugin(&testing.T{}, seedStanza, pods, nil)
	p.zs.keepJournals(defaultJournalRecords, time.Hour)
	base := p.serial(seedZone)
	for i := range 50 {
		old := kube.Project(pods[i])
		moved := pods[i].DeepCopy()
		moved.Status.PodIPs = []api.PodIP{{IP: fmt.Sprintf("10.250.0.%d", i)}}
		moved.ResourceVersion = strconv.Itoa(11 + i)
		p.onPod(old, kube.Project(moved))
	}
	for name, serial := range map[string]uint32{"axfr": 0, "ixfr-after-50": base} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n = len(transferred(b, p, seedZone, serial))
			}
			b.ReportMetric(float64(n), "records")
		})
	}
}

// BenchmarkPodEvent: one pod moving address in the benchPods index, as the
// watch hands it over: the index and the zones' serials, with the journals
// a server block with the transfer plugin keeps, and without (no transfer
// plugin: nothing reads the records a change altered, only the serials).
func BenchmarkPodEvent(b *testing.B) {
	for _, journal := range []bool{true, false} {
		name := "journal"
		if !journal {
			name = "no-journal"
		}
		b.Run(name, func(b *testing.B) {
			p := loadedPlugin(b)
			if journal {
				p.zs.keepJournals(defaultJournalRecords, time.Hour)
			}
			_, _, podFor := benchPod(benchPods / 2)
			pods := [2]*kube.Pod{kube.Project(podFor()), nil}
			moved := podFor()
			moved.Status.PodIPs = []api.PodIP{{IP: "10.250.0.1"}}
			pods[1] = kube.Project(moved)
			before := p.serial(seedZone)
			b.ReportAllocs()
			// The index holds pods[0] to begin with: the first event moves
			// it to pods[1], the next moves it back. Each event brings a
			// projection of its own at a newer version, as the watch does;
			// they are made ahead, with the timer stopped.
			events := make([]*kube.Pod, 4096)
			old, n, next := pods[0], 0, len(events)
			for b.Loop() {
				if next == len(events) {
					b.StopTimer()
					for k := range events {
						events[k] = pods[(n+1+k)%2].At(uint64(n + 1 + k))
					}
					next = 0
					b.StartTimer()
				}
				n++
				cur := events[next]
				next++
				p.onPod(old, cur)
				old = cur
			}
			if p.serial(seedZone) == before {
				b.Fatalf("zone %s kept serial %d through %d changes", seedZone, before, n)
			}
		})
	}
}
