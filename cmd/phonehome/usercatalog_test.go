package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/phonehome/phonehome/reports"
)

const exampleCatalog = "../../testdata/catalogs/example.tsv"

// TestAnalyzeUserCatalog holds the sample against the example catalog.
func TestAnalyzeUserCatalog(t *testing.T) {
	out, _ := analyzeFile(t, analyzeOptions{reportOptions: reportOptions{catalog: exampleCatalog, format: "json"}}, sample)
	var rep reports.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Build != "example-allow-list" || rep.CatalogFile != exampleCatalog {
		t.Errorf("report build %q, catalog_file %q; want example-allow-list, %s", rep.Build, rep.CatalogFile, exampleCatalog)
	}
	type lists struct{ seen, notSeen []string }
	want := map[string]lists{
		"home":       {seen: []string{"*.delivery.mp.microsoft.com", "*.update.microsoft.com", "*.windowsupdate.com", "login.live.com"}},
		"pro":        {seen: []string{"*.delivery.mp.microsoft.com", "*.update.microsoft.com", "*.windowsupdate.com", "login.live.com"}, notSeen: []string{"intranet.example.com"}},
		"education":  {seen: []string{"*.delivery.mp.microsoft.com", "*.update.microsoft.com", "*.windowsupdate.com", "login.live.com"}},
		"enterprise": {seen: []string{"*.delivery.mp.microsoft.com", "*.update.microsoft.com", "*.windowsupdate.com", "login.live.com", "settings-win.data.microsoft.com"}, notSeen: []string{"intranet.example.com"}},
	}
	if len(rep.Editions) != 4 {
		t.Fatalf("%d editions; want 4", len(rep.Editions))
	}
	for _, ed := range rep.Editions {
		var got lists
		for _, s := range ed.DocumentedSeen {
			got.seen = append(got.seen, s.Pattern)
		}
		for _, s := range ed.DocumentedNotSeen {
			got.notSeen = append(got.notSeen, s.Pattern)
		}
		var undoc []string
		for _, u := range ed.Undocumented {
			undoc = append(undoc, u.Name)
		}
		sort.Strings(undoc)
		w := want[ed.Edition]
		if !slices.Equal(got.seen, w.seen) || !slices.Equal(got.notSeen, w.notSeen) {
			t.Errorf("%s: seen %q, not seen %q; want %q, %q", ed.Edition, got.seen, got.notSeen, w.seen, w.notSeen)
		}
		settings := slices.Contains(undoc, "settings-win.data.microsoft.com")
		if settings == (ed.Edition == "enterprise") || !slices.Contains(undoc, "v10.events.data.microsoft.com") || slices.Contains(undoc, "login.live.com") {
			t.Errorf("%s: undocumented %q; want v10.events, settings-win only outside Enterprise, no login.live.com", ed.Edition, undoc)
		}
	}
	text, _ := analyzeFile(t, analyzeOptions{reportOptions: reportOptions{catalog: exampleCatalog, editions: "pro"}}, sample)
	if !strings.HasPrefix(text, "phonehome: capture held against example-allow-list connection endpoints\n  catalog  "+exampleCatalog+" (a user catalog)\n") {
		t.Errorf("text report starts %.200q; want the catalog named", text)
	}
}

// TestCatalogFlag: --catalog is on analyze, capture and report; a file
// that does not parse is a usage error at its first problem's line.
func TestCatalogFlag(t *testing.T) {
	root := newRootCmd()
	for _, name := range []string{"analyze", "capture", "report"} {
		c, _, err := root.Find([]string{name})
		if err != nil || c.Flags().Lookup("catalog") == nil {
			t.Errorf("phonehome %s has no --catalog", name)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.tsv")
	if err := os.WriteFile(bad, []byte("# name: x\npattern\teditions\nok.example\t\nx.example\tserver\ny example\t\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCaptured(t, "analyze", "--catalog", bad, sample)
	want := "phonehome: --catalog: " + bad + `:4: editions: "server" is no edition`
	if code != exitUsage || !strings.HasPrefix(stderr, want) || !strings.Contains(stderr, "(and 1 more problem: phonehome catalog validate "+bad+" lists it)") {
		t.Errorf("analyze --catalog bad: exit %d, stderr %q; want %d, %q...", code, stderr, exitUsage, want)
	}
	if code, _, stderr := runCaptured(t, "report", "--catalog", "no-such.tsv", "x.json"); code != exitUsage || !strings.Contains(stderr, "--catalog: catalog: open no-such.tsv") {
		t.Errorf("report --catalog no-such.tsv: exit %d, %q; want %d, the file named", code, stderr, exitUsage)
	}
	if _, err := resolveCatalog("1909", ""); err != nil {
		t.Errorf("resolveCatalog(1909) = %v", err)
	}
}
