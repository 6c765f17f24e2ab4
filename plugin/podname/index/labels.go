package index

import (
	"slices"
	"strings"
	"sync"
	"unique"
	"unsafe"
)

// Labels is a pod's label set, interned: the replicas of one workload share
// one copy, which keeps the index small.
type Labels struct{ h unique.Handle[string] }

// sep cannot appear in a label key or value.
const sep = "\x00"

// labelScratch is MakeLabels' buffers, reused: a label set already interned
// then costs no allocation.
type labelScratch struct {
	keys []string
	buf  []byte
}

var labelScratches = sync.Pool{New: func() any { return new(labelScratch) }}

// MakeLabels interns a label set.
func MakeLabels(m map[string]string) Labels {
	s := labelScratches.Get().(*labelScratch)
	defer labelScratches.Put(s)
	for k := range m {
		s.keys = append(s.keys, k)
	}
	slices.Sort(s.keys)
	b := append(s.buf[:0], sep...)
	for _, k := range s.keys {
		b = append(b, k...)
		b = append(b, '=')
		b = append(b, m[k]...)
		b = append(b, sep...)
	}
	clear(s.keys) // the pool must not keep the caller's strings
	s.keys, s.buf = s.keys[:0], b
	// A view of the buffer: unique.Make copies a string it has not seen.
	return Labels{unique.Make(unsafe.String(unsafe.SliceData(b), len(b)))}
}

// matches reports whether the label set holds every needle of a selector.
func (l Labels) matches(needles []string) bool {
	if len(needles) == 0 || l == (Labels{}) {
		return false
	}
	s := l.h.Value()
	for _, n := range needles {
		if !strings.Contains(s, n) {
			return false
		}
	}
	return true
}

// selectorNeedles turns a Service selector into the substrings a matching
// label set contains.
func selectorNeedles(selector map[string]string) []string {
	needles := make([]string, 0, len(selector))
	for k, v := range selector {
		needles = append(needles, sep+k+"="+v+sep)
	}
	return needles
}
