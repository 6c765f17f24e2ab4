package podname

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportGroups holds this repository's Go files to CoreDNS's presubmit
// rule (test/presubmit_test.go): at most three import groups, standard
// library, then github.com/coredns, then everything else, each group of
// one kind.
func TestImportGroups(t *testing.T) {
	var files []string
	for _, dir := range []string{".", "index", "internal/kube", "internal/podtest", "../../cmd/coredns"} {
		found, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(found) == 0 {
			t.Fatalf("no Go files in %s: %v (found %d)", dir, err, len(found))
		}
		files = append(files, found...)
	}
	for _, path := range files {
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string // one per group
		prev := 0
		for _, im := range f.Imports {
			line := fset.Position(im.Path.Pos()).Line
			kind := importKind(im.Path.Value)
			switch {
			case prev == 0 || line-prev > 1:
				kinds = append(kinds, kind)
			case kinds[len(kinds)-1] != kind:
				t.Errorf("%s: %s is not of its group's kind, %s", path, im.Path.Value, kinds[len(kinds)-1])
			}
			prev = line
		}
		if got := strings.Join(kinds, ", "); !validGroups[got] {
			t.Errorf("%s: import groups %s; want std, coredns, 3rd in that order, each at most once", path, got)
		}
	}
}

// validGroups are the orders of import groups presubmit accepts.
var validGroups = map[string]bool{
	"": true, "std": true, "coredns": true, "3rd": true,
	"std, coredns": true, "std, 3rd": true, "coredns, 3rd": true,
	"std, coredns, 3rd": true,
}

// importKind sorts an import path as presubmit does.
func importKind(path string) string {
	switch {
	case strings.Contains(path, "github.com/coredns"):
		return "coredns"
	case strings.Contains(path, "."):
		return "3rd"
	}
	return "std"
}
