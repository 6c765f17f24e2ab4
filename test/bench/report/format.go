package report

import (
	"fmt"
	"math"
	"time"

	"github.com/podname/podname/test/bench"
)

// count writes a pod count as CountLabel does.
func count(n int) string { return bench.CountLabel(float64(n)) }

// qps writes v with thousands separated by commas.
func qps(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	s := fmt.Sprintf("%.0f", v)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// number writes v with format, n/a if v is not a finite number.
func number(format string, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return fmt.Sprintf(format, v)
}

func mib(b float64) string           { return number("%.1f MiB", b/(1<<20)) }
func nbytes(b float64) string        { return qps(b) + " B" }
func millis(s float64) string        { return number("%.2f ms", s*1e3) }
func seconds(d time.Duration) string { return number("%.2f s", d.Seconds()) }
func times(a, b float64) string      { return number("%.2fx", a/b) }
func percent(a, b float64) string    { return number("%.2g%%", 100*a/b) }

// secondsOf writes ns nanoseconds, such as a median of durations, as seconds; n/a if it is
// not a number.
func secondsOf(ns float64) string { return number("%.2f s", ns/float64(time.Second)) }

// memTotal writes /proc/meminfo's "24684084 kB" as GiB.
func memTotal(s string) string {
	var kb float64
	if _, err := fmt.Sscanf(s, "%f kB", &kb); err != nil {
		return s
	}
	return fmt.Sprintf("%.1f GiB", kb/(1<<20))
}
