package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/phonehome/phonehome/catalog"
)

// TestCatalogFileNamed: a run held against a user catalog says which file,
// in every format that has a header; Microsoft's pages add nothing.
func TestCatalogFileNamed(t *testing.T) {
	cat, err := catalog.Parse("mine\x1b.tsv", strings.NewReader("# name: mine\npattern\nsettings-win.data.microsoft.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	run := testRun(nameStat("settings-win.data.microsoft.com", "sni"))
	rep, err := Compare(run, cat, []catalog.Edition{catalog.Pro})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Build != "mine" || rep.CatalogFile != "mine\x1b.tsv" || len(rep.Editions[0].DocumentedSeen) != 1 {
		t.Fatalf("Compare: Build %q, CatalogFile %q, seen %d; want mine, mine\\x1b.tsv, 1", rep.Build, rep.CatalogFile, len(rep.Editions[0].DocumentedSeen))
	}
	for name, want := range map[string]string{
		"text":     `  catalog  mine\x1b.tsv (a user catalog)` + "\n",
		"markdown": `- catalog: mine\\x1b.tsv (a user catalog)`,
		"html":     `mine\x1b.tsv (a user catalog)`,
		"json":     `"catalog_file": "mine\u001b.tsv"`,
	} {
		var b bytes.Buffer
		if err := map[string]func(*bytes.Buffer, *Report) error{
			"text":     func(w *bytes.Buffer, r *Report) error { return Text(w, r) },
			"markdown": func(w *bytes.Buffer, r *Report) error { return Markdown(w, r) },
			"html":     func(w *bytes.Buffer, r *Report) error { return HTML(w, r) },
			"json":     func(w *bytes.Buffer, r *Report) error { return JSON(w, r) },
		}[name](&b, rep); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), want) {
			t.Errorf("%s report has no %q", name, want)
		}
	}
	rep, err = Compare(run, load(t), []catalog.Edition{catalog.Pro})
	if err != nil {
		t.Fatal(err)
	}
	if js, _ := json.Marshal(rep); rep.CatalogFile != "" || bytes.Contains(js, []byte("catalog_file")) {
		t.Errorf("report against the pages has catalog_file %q", rep.CatalogFile)
	}
}
