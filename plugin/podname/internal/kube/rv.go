package kube

import (
	"strconv"

	"k8s.io/apimachinery/pkg/util/resourceversion"
)

// parseRV reads a resourceVersion as the integer KEP-5504 makes it (the
// apimachinery helper compares two but gives no value); 0 when it is
// malformed or does not fit in 64 bits.
func parseRV(s string) uint64 {
	if _, err := resourceversion.CompareResourceVersion(s, s); err != nil {
		return 0
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0
	}
	return n
}
