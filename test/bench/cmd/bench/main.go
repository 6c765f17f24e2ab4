// Command bench measures bin/coredns with podname beside CoreDNS's own plugins on a local
// cluster, writes the figures to docs/bench/results.json and renders BENCHMARKS.md from them
// (package bench says what it measures, package report how it is shown).
//
//	go -C test run ./bench/cmd/bench             # the full run: BENCHMARKS.md, docs/bench/
//	go -C test run ./bench/cmd/bench -smoke      # every step at a tiny size, into a temp dir
//
// It exits non-zero if any step fails or any answer was wrong; a run that measured everything
// but saw wrong answers still writes its report, which lists them.
package main

import (
	"context"
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
	"github.com/podname/podname/test/bench/report"
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
	assets := flag.String("assets", "", "directory for results.json, the plots and Corefiles; default docs/bench beside the report")
	notes := flag.String("notes", "", "Markdown file of notes written by hand, appended to the report")
	work := flag.String("work", "", "directory for the cluster, logs and raw output; default a new temporary one")
	sizes := flag.String("sizes", "", "comma-separated pod counts for memory and sync, overriding the default")
	runs := flag.Int("runs", 0, "runs per figure, overriding the default")
	throughputPods := flag.Int("throughput-pods", 0, "pods for throughput and latency, overriding the default")
	relistPods := flag.Int("relist-pods", 0, "pods for churn and the API server restart, overriding the default")
	micro := flag.Bool("micro", true, "run the plugin's Go benchmarks too")
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
	if err := bench.CheckDnsperf(); err != nil {
		return err
	}
	workDir := *work
	if workDir == "" {
		if workDir, err = os.MkdirTemp("", "podname-bench-"); err != nil {
			return fmt.Errorf("work dir: %w", err)
		}
	}
	outFile, assetDir := *out, *assets
	switch {
	case outFile == "" && *smoke:
		outFile = filepath.Join(workDir, "report", "BENCHMARKS.md")
	case outFile == "":
		outFile = filepath.Join(root, "BENCHMARKS.md")
	}
	if assetDir == "" {
		assetDir = filepath.Join(filepath.Dir(outFile), "docs", "bench")
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

	res, runErr := bench.Run(ctx, cfg, workDir, os.Stderr)
	if res == nil || (runErr != nil && len(res.Problems) == 0) {
		return fmt.Errorf("%w (cluster logs, Corefiles, coredns logs and dnsperf output kept in %s)", runErr, workDir)
	}
	res.Command = "go -C test run ./bench/cmd/bench"
	if len(os.Args) > 1 {
		res.Command += " " + strings.Join(os.Args[1:], " ")
	}
	if err := report.Write(res, outFile, assetDir, notesText); err != nil {
		return errors.Join(runErr, err)
	}
	if err := bench.RemoveClusterData(workDir); err != nil {
		return errors.Join(runErr, err)
	}
	if runErr != nil {
		fmt.Fprintf(os.Stderr, "bench: wrote %s and %s; raw output in %s\n", outFile, assetDir, workDir)
		return runErr
	}
	if *smoke && *work == "" {
		fmt.Fprintf(os.Stderr, "bench: smoke run passed in %s\n", res.Elapsed.Round(time.Second))
		return os.RemoveAll(workDir)
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s and %s in %s; raw output in %s\n", outFile, assetDir, res.Elapsed.Round(time.Second), workDir)
	return nil
}
