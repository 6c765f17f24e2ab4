package index

import (
	"maps"
	"slices"
	"strings"
	"unique"
)

// Labels is a pod's label set, interned: the replicas of one workload share
// one copy, which keeps the index small.
type Labels struct{ h unique.Handle[string] }

// sep cannot appear in a label key or value.
const sep = "\x00"

// MakeLabels interns a label set.
func MakeLabels(m map[string]string) Labels {
	var b strings.Builder
	b.WriteString(sep)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(m[k])
		b.WriteString(sep)
	}
	return Labels{unique.Make(b.String())}
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
