package phonehome_test

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/phonehome/phonehome"

// layer is what one package of ours may depend on, directly or through
// others. Test files are free: only the package itself is held to it.
type layer struct {
	job      string   // what the package is for, quoted in failures
	ours     []string // packages of ours it may depend on, by path from the repository root
	anyOurs  bool     // it may depend on every package of ours (commands: wiring)
	stdOnly  bool     // it may depend on nothing outside the standard library and ours
	testOnly bool     // only tests may import it
}

// layers names every package of the module (go list ./...) and every
// program under a testdata/ directory (which go list ./... leaves out), by
// its path from the repository root. The library keeps the order packets
// travel (source, decode, extract, attribute, aggregate, diff, render).
func layers() map[string]layer {
	return map[string]layer{
		".":                         {job: "the module's doc comment", stdOnly: true},
		"capture":                   {job: "capture readers and decoding"},
		"classify/extract":          {job: "wire parsers: pure functions over []byte, no gopacket", stdOnly: true},
		"classify/match":            {job: "the compiled pattern index"},
		"catalog/internal/mdpages":  {job: "reading Microsoft's endpoint pages"},
		"catalog/internal/importer": {job: "pages to catalog data", ours: []string{"catalog/internal/mdpages"}},
		"catalog": {job: "the embedded endpoint catalog",
			ours: []string{"catalog/internal/importer", "catalog/internal/mdpages"}},
		"classify": {job: "attribution and the run record",
			ours: []string{"capture", "classify/extract", "classify/match", "catalog"}},
		// catalog/internal/mdpages through catalog: user catalogs are read
		// with the pages' destination and protocol rules.
		"reports": {job: "compare and render",
			ours: []string{"classify", "classify/match", "catalog", "catalog/internal/mdpages", "capture", "classify/extract"}},
		"catalog/gen":   {job: "go generate's catalog importer", ours: []string{"catalog/internal/importer", "catalog/internal/mdpages"}},
		"cmd/phonehome": {job: "the command: wiring", anyOurs: true},
		"cmd/mkcapture": {job: "the benchmark's capture maker", anyOurs: true},
		"internal/testenv": {job: "what a test does when the corpus or a program is missing",
			stdOnly: true, testOnly: true},
		"internal/netns": {job: "a test's own network: two namespaces joined by a veth",
			ours: []string{"internal/testenv"}, stdOnly: true, testOnly: true},
		// Fixture generators drive real clients; they must not share code
		// with what their fixtures test.
		"classify/extract/testdata/gen": {job: "the parsers' fixture generator", stdOnly: true},
		"testdata/gen":                  {job: "the capture fixture generator (a module of its own)", stdOnly: true},
	}
}

// pkg is one package as go list -deps describes it.
type pkg struct {
	path     string // import path
	rel      string // path from the repository root, for ours
	std      bool
	listed   bool // named by the patterns, not only a dependency
	deps     []string
	external bool // outside the standard library and this repository
}

// TestImportDirection holds every package of ours to its line in layers:
// a package missing from the table fails, so a new one cannot slip past.
func TestImportDirection(t *testing.T) {
	rules := layers()
	pkgs := listPackages(t)
	byPath := map[string]pkg{}
	for _, p := range pkgs {
		byPath[p.path] = p
	}
	seen := map[string]bool{}
	for _, p := range pkgs {
		if !p.listed || p.std || p.external {
			continue
		}
		seen[p.rel] = true
		rule, ok := rules[p.rel]
		if !ok {
			t.Errorf("package %s is not in layers (layers_test.go): add it with the packages of ours it may import", p.rel)
			continue
		}
		for _, d := range p.deps {
			dep := byPath[d]
			switch {
			case dep.std || dep.path == p.path:
			case dep.external:
				if rule.stdOnly {
					t.Errorf("%s (%s) depends on %s; it may use only the standard library and %v of ours", p.rel, rule.job, d, rule.ours)
				}
			case rules[dep.rel].testOnly && !rule.testOnly:
				t.Errorf("%s (%s) imports %s, which only tests may import", p.rel, rule.job, dep.rel)
			case !rule.anyOurs && !slices.Contains(rule.ours, dep.rel):
				t.Errorf("%s (%s) depends on %s; it may depend only on %v of ours", p.rel, rule.job, dep.rel, rule.ours)
			}
		}
	}
	for rel := range rules {
		if !seen[rel] {
			t.Errorf("layers (layers_test.go) names %s, which is not a package: remove it", rel)
		}
	}
}

// listPackages runs go list -deps over every package of the module and
// every directory of Go files that ./... leaves out (under testdata/, or in
// a module of its own), each in the module that holds it.
func listPackages(t *testing.T) []pkg {
	t.Helper()
	byModule := map[string][]string{".": {"./..."}} // module root -> patterns
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		dir := filepath.Dir(p)
		root := moduleRoot(dir)
		if root == "." && !slices.Contains(strings.Split(dir, string(filepath.Separator)), "testdata") {
			return nil // in ./...
		}
		rel, _ := filepath.Rel(root, dir)
		pattern := "./" + filepath.ToSlash(rel)
		if !slices.Contains(byModule[root], pattern) {
			byModule[root] = append(byModule[root], pattern)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []pkg
	for root, patterns := range byModule {
		cmd := exec.Command("go", append([]string{"list", "-deps", "-f",
			`{{.ImportPath}}	{{.Standard}}	{{.DepOnly}}	{{join .Deps " "}}`}, patterns...)...)
		cmd.Dir = root
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		raw, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s in %s: %v\n%s", strings.Join(patterns, " "), root, err, stderr.Bytes())
		}
		sc := bufio.NewScanner(bytes.NewReader(raw))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			f := strings.Split(sc.Text(), "\t")
			p := pkg{path: f[0], std: f[1] == "true", listed: f[2] == "false", deps: strings.Fields(f[3])}
			if f[0] == module {
				p.rel = "."
			} else if rel, ok := strings.CutPrefix(f[0], module+"/"); ok {
				p.rel = rel
			} else {
				p.external = !p.std
			}
			out = append(out, p)
		}
	}
	return out
}

// moduleRoot returns the directory of the go.mod that holds dir, a path
// below the repository root.
func moduleRoot(dir string) string {
	for d := dir; d != "."; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return "."
}
