// Command bench measures bin/coredns with podname beside CoreDNS's own plugins on a local
// cluster and writes BENCHMARKS.md with its plots (package bench says what and how).
//
//	go -C test run ./bench/cmd/bench             # the full run: BENCHMARKS.md, docs/bench/*.svg
//	go -C test run ./bench/cmd/bench -smoke      # every step at a tiny size, into a temp dir
//
// It exits non-zero if any step fails or any answer was wrong; a run that measured everything
// but saw wrong answers still writes its report, which lists them.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/podname/podname/test/bench"
	"github.com/podname/podname/test/harness"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	smoke := flag.Bool("smoke", false, "every step at a tiny size, report into a temporary directory (seconds, figures meaningless)")
	out := flag.String("out", "", "Markdown report; default BENCHMARKS.md at the repository root, or a temporary directory with -smoke")
	plots := flag.String("plots", "", "directory for the SVG plots; default docs/bench beside the report")
	notes := flag.String("notes", "", "Markdown file of notes written by hand, appended to the report")
	work := flag.String("work", "", "directory for the cluster, logs and raw output; default a new temporary one")
	sizes := flag.String("sizes", "", "comma-separated pod counts for memory and sync, overriding the default")
	runs := flag.Int("runs", 0, "runs per figure, overriding the default")
	throughputPods := flag.Int("throughput-pods", 0, "pods for throughput and latency, overriding the default")
	relistPods := flag.Int("relist-pods", 0, "pods for churn and the API server restart, overriding the default")
	micro := flag.Bool("micro", true, "run the plugin's Go benchmarks too")
	from := flag.String("from", "", "measure nothing: write the report from the results.json of an earlier run")
	timeout := flag.Duration("timeout", 0, "bound on the whole run; default 1h, or 5m with -smoke")
	flag.Parse()

	cfg := bench.FullConfig()
	if *smoke {
		cfg = bench.SmokeConfig()
	}
	if *sizes != "" {
		cfg.Sizes = nil
		for f := range strings.SplitSeq(*sizes, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return fmt.Errorf("-sizes %q: %w", *sizes, err)
			}
			cfg.Sizes = append(cfg.Sizes, n)
		}
	}
	if *runs > 0 {
		cfg.Runs = *runs
	}
	if *throughputPods > 0 {
		cfg.ThroughputPods = *throughputPods
	}
	if *relistPods > 0 {
		cfg.RelistPods = *relistPods
	}
	if !*micro {
		cfg.MicroArgs = nil
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if *timeout == 0 {
		*timeout = time.Hour
		if *smoke {
			*timeout = 5 * time.Minute
		}
	}

	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	if *from == "" {
		if err := bench.CheckDnsperf(); err != nil {
			return err
		}
	}
	workDir := *work
	if workDir == "" {
		if workDir, err = os.MkdirTemp("", "podname-bench-"); err != nil {
			return fmt.Errorf("work dir: %w", err)
		}
	}
	outFile, plotDir := *out, *plots
	switch {
	case outFile == "" && *smoke:
		outFile = filepath.Join(workDir, "report", "BENCHMARKS.md")
	case outFile == "":
		outFile = filepath.Join(root, "BENCHMARKS.md")
	}
	if plotDir == "" {
		plotDir = filepath.Join(filepath.Dir(outFile), "docs", "bench")
	}
	var notesText string
	if *notes != "" {
		b, err := os.ReadFile(*notes)
		if err != nil {
			return fmt.Errorf("notes: %w", err)
		}
		notesText = string(b)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	var res *bench.Results
	var runErr error
	if *from != "" {
		if res, err = readResults(*from); err != nil {
			return err
		}
	} else {
		res, runErr = bench.Run(ctx, cfg, workDir, os.Stderr)
	}
	if res == nil || (runErr != nil && len(res.Problems) == 0) {
		return fmt.Errorf("%w (cluster logs, Corefiles, coredns logs and dnsperf output kept in %s)", runErr, workDir)
	}
	if *from == "" {
		res.Command = "go -C test run ./bench/cmd/bench"
		if len(os.Args) > 1 {
			res.Command += " " + strings.Join(os.Args[1:], " ")
		}
	}
	if err := write(res, outFile, plotDir, notesText, workDir); err != nil {
		return errors.Join(runErr, err)
	}
	if *from != "" {
		fmt.Fprintf(os.Stderr, "bench: wrote %s and %s from %s\n", outFile, plotDir, *from)
		if *work == "" {
			return os.RemoveAll(workDir)
		}
		return nil
	}
	if err := bench.RemoveClusterData(workDir); err != nil {
		return errors.Join(runErr, err)
	}
	if runErr != nil {
		fmt.Fprintf(os.Stderr, "bench: wrote %s and %s; raw output in %s\n", outFile, plotDir, workDir)
		return runErr
	}
	if *smoke && *work == "" {
		fmt.Fprintf(os.Stderr, "bench: smoke run passed in %s\n", res.Elapsed.Round(time.Second))
		return os.RemoveAll(workDir)
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s and %s in %s; raw output in %s\n", outFile, plotDir, res.Elapsed.Round(time.Second), workDir)
	return nil
}

// write renders the report into outFile and its plots into plotDir, and the raw results as
// JSON into the work dir.
func write(res *bench.Results, outFile, plotDir, notes, workDir string) error {
	link, err := filepath.Rel(filepath.Dir(outFile), plotDir)
	if err != nil {
		return fmt.Errorf("plot dir relative to the report: %w", err)
	}
	rep, err := bench.BuildReport(res, bench.ReportOptions{PlotDir: link, Notes: notes})
	if err != nil {
		return fmt.Errorf("build report: %w", err)
	}
	if err := os.MkdirAll(plotDir, 0o755); err != nil {
		return fmt.Errorf("plot dir: %w", err)
	}
	for name, svg := range rep.Plots {
		if err := os.WriteFile(filepath.Join(plotDir, name), []byte(svg), 0o644); err != nil {
			return fmt.Errorf("write plot: %w", err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(outFile), 0o755); err != nil {
		return fmt.Errorf("report dir: %w", err)
	}
	if err := os.WriteFile(outFile, []byte(rep.Markdown), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	raw, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(workDir, "results.json"), raw, 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// readResults loads the results.json an earlier run wrote.
func readResults(path string) (*bench.Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var res bench.Results
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, fmt.Errorf("read results %s: %w", path, err)
	}
	return &res, nil
}
