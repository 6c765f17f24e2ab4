package podname

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/podname/podname/plugin/podname/internal/kube"
	api "k8s.io/api/core/v1"
)

// largeZone is the pod count of the tests that transfer a big zone.
const largeZone = 10_000

// churned pods change address in every round of churn; their addresses
// tell which event a transfer's state followed.
const churned = 100

// churnPod is benchPod i after event n of the churn (n = 0: as listed). Event
// n moves pod (n-1) % churned to an address naming n's round.
func churnPod(i, n int) *api.Pod {
	_, _, podFor := benchPod(i)
	pod := podFor()
	if i >= churned || n <= i {
		return pod // not churned, or not moved yet
	}
	last := n - (n-1-i)%churned // the last event up to n that moved pod i
	round := (last - 1) / churned
	pod.Status.PodIPs = []api.PodIP{{IP: fmt.Sprintf("10.250.%d.%d", round%250, i)}}
	return pod
}

// TestAXFRSnapshotWhileChurning: transfers of a large zone taken while its
// pods keep changing each hold exactly the state at their SOA's serial.
func TestAXFRSnapshotWhileChurning(t *testing.T) {
	pods := make([]*api.Pod, largeZone)
	for i := range pods {
		pods[i] = churnPod(i, 0)
	}
	p := newTestPlugin(t, `podname mgmt.pix.yun.com`, pods, nil)
	const base = 1000 // event n carries resource version base+n
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 1; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			i := (n - 1) % churned
			old, cur := kube.Project(churnPod(i, n-1)), kube.Project(churnPod(i, n)).At(base+uint64(n))
			p.onPod(old, cur)
		}
	}()
	defer wg.Wait()
	defer close(stop)
	seen := map[uint32]bool{}
	deadline := time.Now().Add(time.Minute)
	for len(seen) < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("a minute of churn gave transfers at %d serials, want 10", len(seen))
		}
		rrs := transferred(t, p, zone, 0)
		serial := rrs[0].(*dns.SOA).Serial
		if serial <= base {
			continue // the churn has not begun
		}
		seen[serial] = true
		want := map[string]string{}
		for i := range largeZone {
			pod := churnPod(i, int(serial-base))
			want[pod.Name+"."+zone] = pod.Status.PodIPs[0].IP
		}
		got := map[string]string{}
		for _, rr := range rrs {
			if a, ok := rr.(*dns.A); ok && a.Hdr.Name != "ns.dns."+zone {
				if _, dup := got[a.Hdr.Name]; dup {
					t.Fatalf("serial %d: %s twice", serial, a.Hdr.Name)
				}
				got[a.Hdr.Name] = a.A.String()
			}
		}
		if len(got) != len(want) {
			t.Fatalf("serial %d: %d names transferred, want %d", serial, len(got), len(want))
		}
		for name, ip := range want {
			if got[name] != ip {
				t.Fatalf("serial %d: %s is %s in the transfer, %s in the state at that serial", serial, name, got[name], ip)
			}
		}
	}
}
