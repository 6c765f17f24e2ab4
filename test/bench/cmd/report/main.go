// Command report renders BENCHMARKS.md from the results.json of a bench run, with the plots,
// Corefiles and goals.json beside it; it measures nothing.
//
//	go -C test run ./bench/cmd/report    # docs/bench/results.json into BENCHMARKS.md
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/podname/podname/test/bench/report"
	"github.com/podname/podname/test/harness"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := harness.RepoRoot()
	if err != nil {
		return err
	}
	results := flag.String("results", filepath.Join(root, "docs", "bench", "results.json"), "the results.json of a run")
	out := flag.String("out", filepath.Join(root, "BENCHMARKS.md"), "the Markdown report")
	assets := flag.String("assets", "", "directory of the plots, Corefiles and results.json; default the results' own")
	notes := flag.String("notes", filepath.Join(root, "test", "bench", "NOTES.md"), "Markdown notes written by hand, appended to the report")
	flag.Parse()
	res, err := report.Read(*results)
	if err != nil {
		return err
	}
	var text []byte
	if *notes != "" {
		if text, err = os.ReadFile(*notes); err != nil {
			return fmt.Errorf("notes: %w", err)
		}
	}
	if *assets == "" {
		*assets = filepath.Dir(*results)
	}
	return report.Write(res, *out, *assets, string(text))
}
