package podname

import (
	"math/rand/v2"
	"testing"
)

// FuzzSlimDecode feeds the slim decoder arbitrary bytes, as a Pod, as a
// PodList and as an encoded object: malformed or truncated input gives an
// error and no projection, never a panic; input the generated code decodes
// too gives the projection project gives for its Pod.
func FuzzSlimDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 8 {
		b := marshal(f, randomPod(r))
		f.Add(b)
		f.Add(withUnknown(f, "Pod", b))
		f.Add(b[:len(b)/2])
	}
	f.Add(marshal(f, kubeletPod()))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodePod(b)
		if (err == nil) == (got == nil) {
			t.Fatalf("decodePod gave %v and %v", got, err)
		}
		if want, ferr := fullProjection(b); err == nil && ferr == nil {
			sameProjection(t, "pod", got, want)
		}
		if l, err := decodePodList(b); (err == nil) == (l == nil) {
			t.Fatalf("decodePodList gave %v and %v", l, err)
		}
		wire, _ := slimCodecs(t)
		if obj, _, err := wire.Decode(append(protoMagic[:len(protoMagic):len(protoMagic)], b...), nil, nil); (err == nil) == (obj == nil) {
			t.Fatalf("decoding an object gave %v and %v", obj, err)
		}
	})
}
