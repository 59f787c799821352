package catalog_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/catalog/internal/importer"
	"github.com/phonehome/phonehome/classify/match"
	"github.com/phonehome/phonehome/internal/testenv"
)

// sourcesDir is ../shared/catalog-sources relative to the repository root.
const sourcesDir = "../../shared/catalog-sources"

func loadAll(t *testing.T) []*catalog.Catalog {
	t.Helper()
	var cs []*catalog.Catalog
	for _, b := range catalog.Builds() {
		c, err := catalog.Load(b)
		if err != nil {
			t.Fatalf("Load(%q) = %v", b, err)
		}
		cs = append(cs, c)
	}
	return cs
}

func TestBuilds(t *testing.T) {
	want := []string{"windows-10-1709", "windows-10-1803", "windows-10-1809", "windows-10-1903", "windows-10-1909",
		"windows-10-2004", "windows-10-20H2", "windows-10-21H1", "windows-10-21H2", "windows-11"}
	if got := catalog.Builds(); !slices.Equal(got, want) {
		t.Errorf("Builds() = %v; want %v", got, want)
	}
}

func TestLoadUnknownBuild(t *testing.T) {
	_, err := catalog.Load("windows-10-1507")
	if !errors.Is(err, catalog.ErrUnknownBuild) || !strings.Contains(err.Error(), "windows-10-1507") || !strings.Contains(err.Error(), "windows-10-1909") {
		t.Errorf("Load(windows-10-1507) = %v; want ErrUnknownBuild naming the build and listing windows-10-1909", err)
	}
}

// TestEveryPatternCompiles compiles each edition's patterns, as
// reports.Compare does.
func TestEveryPatternCompiles(t *testing.T) {
	for _, c := range loadAll(t) {
		for _, ed := range c.Editions() {
			var pats []string
			for _, ep := range c.ForEdition(ed) {
				pats = append(pats, ep.Pattern)
			}
			if _, err := match.Compile(pats); err != nil {
				t.Errorf("%s, edition %s: match.Compile = %v", c.Build, ed, err)
			}
		}
	}
}

func TestEntriesSortedAndUnique(t *testing.T) {
	order := map[catalog.Edition]int{catalog.Enterprise: 0, catalog.Home: 1, catalog.Pro: 2, catalog.Education: 3}
	for _, c := range loadAll(t) {
		if len(c.Entries) == 0 {
			t.Errorf("%s: no entries", c.Build)
		}
		for i := 1; i < len(c.Entries); i++ {
			a, b := c.Entries[i-1], c.Entries[i]
			less := a.Pattern < b.Pattern ||
				a.Pattern == b.Pattern && (a.File < b.File ||
					a.File == b.File && (order[a.Listed] < order[b.Listed] ||
						a.Listed == b.Listed && a.Line < b.Line))
			if a.Pattern == b.Pattern && a.File == b.File && a.Listed == b.Listed {
				t.Errorf("%s: duplicate entry %q listed %s in %s at lines %d and %d", c.Build, a.Pattern, a.Listed, a.File, a.Line, b.Line)
			} else if !less {
				t.Errorf("%s: entries out of order: %q (%s:%d) before %q (%s:%d)", c.Build, a.Pattern, a.File, a.Line, b.Pattern, b.File, b.Line)
			}
		}
		for _, e := range c.Entries {
			if e.Commit == "" || e.File == "" || e.Line <= 0 || e.Destination == "" {
				t.Errorf("%s: entry %+v lacks provenance", c.Build, e)
			}
			if strings.ContainsAny(e.Pattern, `\`+"` ") || e.Pattern != strings.ToLower(e.Pattern[:hostEnd(e.Pattern)])+e.Pattern[hostEnd(e.Pattern):] {
				t.Errorf("%s: pattern %q is not normalised", c.Build, e.Pattern)
			}
		}
	}
}

func hostEnd(p string) int {
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return i
	}
	return len(p)
}

// TestGeneratedDataUpToDate regenerates the data from the pages and compares
// it with the committed files.
func TestGeneratedDataUpToDate(t *testing.T) {
	if _, err := os.Stat(filepath.Join(sourcesDir, "SOURCES.md")); err != nil {
		testenv.SkipOrFail(t, "pages not found at %s (../shared/catalog-sources from the repository root): %v; put the shared directory beside the repository", sourcesDir, err)
	}
	got, err := importer.Generate(os.DirFS(sourcesDir), importer.Command)
	if err != nil {
		t.Fatalf("Generate = %v", err)
	}
	committed, err := filepath.Glob("data/*.tsv")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range committed {
		if _, ok := got[filepath.Base(f)]; !ok {
			t.Errorf("%s is committed but not generated; run go generate ./catalog", f)
		}
	}
	for name, data := range got {
		want, err := os.ReadFile(filepath.Join("data", name))
		if err != nil {
			t.Errorf("data/%s: %v; run go generate ./catalog", name, err)
			continue
		}
		if string(want) != string(data) {
			t.Errorf("data/%s differs from the generator's output; run go generate ./catalog and review the diff", name)
		}
	}
	// Twice gives the same bytes (map order must not leak into the output).
	again, err := importer.Generate(os.DirFS(sourcesDir), importer.Command)
	if err != nil {
		t.Fatal(err)
	}
	for name := range got {
		if string(got[name]) != string(again[name]) {
			t.Errorf("Generate is not deterministic for %s", name)
		}
	}
}

func find(eps []catalog.Endpoint, pattern string) *catalog.Endpoint {
	for i := range eps {
		if eps[i].Pattern == pattern {
			return &eps[i]
		}
	}
	return nil
}

func TestWindows10_1909(t *testing.T) {
	c, err := catalog.Load("windows-10-1909")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Editions(), []catalog.Edition{catalog.Enterprise, catalog.Home, catalog.Pro, catalog.Education}; !slices.Equal(got, want) {
		t.Errorf("Editions() = %v; want %v", got, want)
	}
	const nonEnt = "windows-endpoints-1909-non-enterprise-editions.md"
	const ent = "manage-windows-1909-endpoints.md"
	tests := []struct {
		name     string
		edition  catalog.Edition
		pattern  string
		listed   catalog.Edition // first source's listing edition
		file     string
		present  bool
		protocol []catalog.Protocol
	}{
		{"home_displaycatalog_escaped_star", catalog.Home, "*displaycatalog.mp.microsoft.com/*", catalog.Home, nonEnt, true, []catalog.Protocol{catalog.HTTP, catalog.HTTPS, catalog.TLS12}},
		{"home_star_suffix", catalog.Home, "*dl.delivery.mp.microsoft.com", catalog.Home, nonEnt, true, []catalog.Protocol{catalog.HTTP}},
		{"home_trailing_star", catalog.Home, "watson.telemetry.microsoft.com*", catalog.Home, nonEnt, true, []catalog.Protocol{catalog.HTTPS, catalog.TLS12}},
		{"home_host_path", catalog.Home, "ctldl.windowsupdate.com/*", catalog.Home, nonEnt, true, []catalog.Protocol{catalog.HTTP}},
		{"home_enterprise_base", catalog.Home, "watson.*.microsoft.com", catalog.Enterprise, ent, true, []catalog.Protocol{catalog.TLS12}},
		{"education_upper_case_host", catalog.Education, "watson.telemetry.microsoft.com/telemetry.request", catalog.Education, nonEnt, true, []catalog.Protocol{catalog.HTTPS}},
		{"education_upper_case_location", catalog.Education, "inference.location.live.net", catalog.Education, nonEnt, true, []catalog.Protocol{catalog.TLS12}},
		{"enterprise_not_home_rows", catalog.Enterprise, "api.asm.skype.com", "", "", false, nil},
		{"pro_not_home_rows", catalog.Pro, "api.asm.skype.com", "", "", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := find(c.ForEdition(tt.edition), tt.pattern)
			if (ep != nil) != tt.present {
				t.Fatalf("ForEdition(%s) has %q = %v; want %v", tt.edition, tt.pattern, ep != nil, tt.present)
			}
			if ep == nil {
				return
			}
			s := ep.Sources[0]
			if s.Listed != tt.listed || s.File != tt.file {
				t.Errorf("ForEdition(%s)[%q].Sources[0] = %s in %s; want %s in %s", tt.edition, tt.pattern, s.Listed, s.File, tt.listed, tt.file)
			}
			if !slices.Equal(ep.Protocols, tt.protocol) {
				t.Errorf("ForEdition(%s)[%q].Protocols = %v; want %v", tt.edition, tt.pattern, ep.Protocols, tt.protocol)
			}
			if s.Commit != "ef06a8e095b34287b798aa9eefe1ba3736ab0be1" {
				t.Errorf("ForEdition(%s)[%q] commit = %q", tt.edition, tt.pattern, s.Commit)
			}
		})
	}

	// The Education row keeps its original spelling.
	ep := find(c.ForEdition(catalog.Education), "watson.telemetry.microsoft.com/telemetry.request")
	if ep == nil || ep.Sources[0].Destination != "Watson.telemetry.microsoft.com/telemetry.request" {
		t.Errorf("Education watson row = %+v; want destination as written", ep)
	}
	// A pattern on both the Home page and the Enterprise base has both
	// sources, Home first.
	ep = find(c.ForEdition(catalog.Home), "arc.msn.com")
	if ep == nil || len(ep.Sources) != 2 || ep.Sources[0].Listed != catalog.Home || ep.Sources[1].Listed != catalog.Enterprise {
		t.Errorf("Home arc.msn.com = %+v; want a Home source then an Enterprise one", ep)
	}
	// Every Enterprise entry reaches every edition.
	for _, e := range c.Entries {
		if e.Listed == catalog.Enterprise && len(e.Editions) != 4 {
			t.Errorf("Enterprise entry %q applies to %v; want all four editions", e.Pattern, e.Editions)
		}
	}
}

func TestEnterpriseOnlyBuild(t *testing.T) {
	c, err := catalog.Load("windows-10-21H2")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Editions(); !slices.Equal(got, []catalog.Edition{catalog.Enterprise}) {
		t.Errorf("21H2 Editions() = %v; want [enterprise]", got)
	}
	if got := c.ForEdition(catalog.Home); got != nil {
		t.Errorf("21H2 ForEdition(home) = %d endpoints; want nil", len(got))
	}
}

func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := catalog.Load("windows-11"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBuildTitle(t *testing.T) {
	for _, tt := range []struct{ build, want string }{
		{"windows-10-1909", "Windows 10 1909"},
		{"windows-10-21H2", "Windows 10 21H2"},
		{"windows-11", "Windows 11"},
		{"windows-", "windows-"},
		{"server-2022", "server-2022"},
	} {
		if got := catalog.BuildTitle(tt.build); got != tt.want {
			t.Errorf("BuildTitle(%q) = %q; want %q", tt.build, got, tt.want)
		}
	}
	for _, b := range catalog.Builds() {
		if got := catalog.BuildTitle(b); !strings.HasPrefix(got, "Windows 1") || strings.Contains(got, "-") {
			t.Errorf("BuildTitle(%q) = %q; want \"Windows 10 ...\" or \"Windows 11\"", b, got)
		}
	}
}
