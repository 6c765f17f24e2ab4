package kube

import (
	"testing"

	"github.com/podname/podname/plugin/podname/internal/podtest"
	api "k8s.io/api/core/v1"
)

// BenchmarkDecodePod decodes one realistic Pod's protobuf message: slim
// straight into the projection, full into a v1.Pod then project, as the
// transform did.
func BenchmarkDecodePod(b *testing.B) {
	raw := marshal(b, podtest.KubeletPod())
	b.Run("slim", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := decodePod(raw, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("full", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			p := &api.Pod{}
			if err := p.Unmarshal(raw); err != nil {
				b.Fatal(err)
			}
			Project(p)
		}
	})
}

// TestBenchPodProjects: the benchmark's pod decodes to the same projection
// both ways, so the benchmark compares like with like.
func TestBenchPodProjects(t *testing.T) {
	raw := marshal(t, podtest.KubeletPod())
	want, err := fullProjection(raw)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodePod(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	sameProjection(t, "bench pod", got, want)
	if !got.indexable || got.readySince == 0 {
		t.Fatalf("bench pod projects to %+v: not an indexed ready pod", got)
	}
}
