package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/podname/podname/test/bench"
)

// Write renders res into outFile, and puts beside it, in assetDir, the files the report links
// to and results.json, the run's figures as measured, from which Read and Write render it
// again.
func Write(res *bench.Results, outFile, assetDir, notes string) error {
	link, err := filepath.Rel(filepath.Dir(outFile), assetDir)
	if err != nil {
		return fmt.Errorf("asset dir relative to the report: %w", err)
	}
	rep, err := Render(res, Options{AssetDir: filepath.ToSlash(link), Notes: notes})
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	raw, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	rep.Files["results.json"] = string(raw) + "\n"
	for name, content := range rep.Files {
		p := filepath.Join(assetDir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(outFile), 0o755); err != nil {
		return err
	}
	return os.WriteFile(outFile, []byte(rep.Markdown), 0o644)
}

// Read loads the results.json a run wrote.
func Read(path string) (*bench.Results, error) {
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
