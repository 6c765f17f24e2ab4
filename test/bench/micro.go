package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// MicroResult is the Go benchmarks of plugin/podname: each benchmark's metrics (ns/op, B/op,
// allocs/op, bytes/pod) in every run.
type MicroResult struct {
	Command string
	Runs    map[string]map[string][]float64 // benchmark -> unit -> one value per run
	Order   []string                        // benchmarks in the order go test printed them
	Output  string
}

// Microbenchmarks runs the plugin's Go benchmarks with args after `go test` (the package last)
// from the repository root.
func Microbenchmarks(ctx context.Context, root string, args []string) (*MicroResult, error) {
	cmd := exec.CommandContext(ctx, "go", append([]string{"test"}, args...)...)
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	command := "go test " + strings.Join(args, " ")
	if err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", command, err, out)
	}
	res, err := ParseMicro(strings.NewReader(string(out)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", command, err)
	}
	res.Command, res.Output = command, string(out)
	return res, nil
}

// benchLine is a result line: name, iterations, then value-unit pairs.
var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// ParseMicro reads `go test -bench` output.
func ParseMicro(r io.Reader) (*MicroResult, error) {
	res := &MicroResult{Runs: map[string]map[string][]float64{}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		name, f := m[1], strings.Fields(m[2])
		if len(f)%2 != 0 {
			return nil, fmt.Errorf("benchmark line %q: values and units do not pair up", sc.Text())
		}
		if res.Runs[name] == nil {
			res.Runs[name] = map[string][]float64{}
			res.Order = append(res.Order, name)
		}
		for i := 0; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark line %q: %w", sc.Text(), err)
			}
			res.Runs[name][f[i+1]] = append(res.Runs[name][f[i+1]], v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read benchmark output: %w", err)
	}
	if len(res.Order) == 0 {
		return nil, fmt.Errorf("no benchmark results")
	}
	return res, nil
}

// Median is the median of unit over the runs of benchmark name, NaN if absent.
func (m *MicroResult) Median(name, unit string) float64 {
	return Median(m.Runs[name][unit])
}
