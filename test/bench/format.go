package bench

import (
	"fmt"
	"strconv"
)

// Plural writes n and word, with an s unless n is 1.
func Plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// PlainNumber writes v with at most six significant digits.
func PlainNumber(v float64) string {
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// CountLabel writes 1000 as 1k and 1e6 as 1M.
func CountLabel(v float64) string {
	switch {
	case v >= 1e6:
		return PlainNumber(v/1e6) + "M"
	case v >= 1e3:
		return PlainNumber(v/1e3) + "k"
	}
	return PlainNumber(v)
}
