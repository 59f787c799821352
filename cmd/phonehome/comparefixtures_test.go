package main

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/phonehome/phonehome/reports"
)

// compareDir holds the captures made from the sample for the tests of
// `phonehome compare` (testdata/gen/make-compare-fixtures.sh; each differs
// from the sample as testdata/compare/README.md says).
const compareDir = "../../testdata/compare"

// reportView is what the compare fixtures change in one edition of a report.
type reportView struct {
	seen  map[string]string // documented pattern seen -> "names | protocols seen"
	undoc map[string]string // undocumented name -> protocols seen
}

// analyzeViews runs analyze --build 1909 --format json on file as the command
// line would and returns each edition's view of the report.
func analyzeViews(t *testing.T, file string) map[string]reportView {
	t.Helper()
	code, stdout, stderr := runCaptured(t, "analyze", "--build", "1909", "--format", "json", file)
	if code != exitOK {
		t.Fatalf("analyze %s: exit status %d; want %d\n%s", file, code, exitOK, stderr)
	}
	var rep reports.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("analyze %s: report: %v", file, err)
	}
	views := map[string]reportView{}
	for _, e := range rep.Editions {
		v := reportView{seen: map[string]string{}, undoc: map[string]string{}}
		for _, s := range e.DocumentedSeen {
			v.seen[s.Pattern] = strings.Join(s.Names, " ") + " | " + strings.Join(s.ProtocolsSeen, ", ")
		}
		for _, u := range e.Undocumented {
			v.undoc[u.Name] = strings.Join(u.Protocols, ", ")
		}
		views[e.Edition] = v
	}
	return views
}

// TestCompareFixtures holds each capture of testdata/compare against the
// sample, edition by edition, through analyze's JSON report: the fixture
// differs from the sample by what its README line says and by nothing else
// (every other pattern seen, its names and protocols, and every other
// undocumented name are the same).
func TestCompareFixtures(t *testing.T) {
	base := analyzeViews(t, sample)
	if len(base) != 4 {
		t.Fatalf("sample: %d editions; want 4 (home, pro, education, enterprise)", len(base))
	}
	const (
		removedName = "licensing.mp.microsoft.com"
		newName     = "telemetry.example-vendor.test"
		httpName    = "arc.msn.com"
	)
	for _, tt := range []struct {
		name, file string
		// change turns a copy of the sample's view into the fixture's,
		// checking the sample's side as it goes.
		change func(t *testing.T, edition string, v reportView)
	}{
		{"removed_endpoint", "removed.pcapng.gz", func(t *testing.T, edition string, v reportView) {
			n := 0
			for p, s := range v.seen {
				if strings.HasPrefix(s, removedName+" | ") {
					delete(v.seen, p)
					n++
				}
			}
			if n == 0 {
				t.Errorf("sample, %s: %s under no pattern seen; want it seen", edition, removedName)
			}
		}},
		{"new_undocumented_name", "new-undocumented.pcapng.gz", func(t *testing.T, edition string, v reportView) {
			if p, ok := v.undoc[newName]; ok {
				t.Errorf("sample, %s: %s undocumented (%s); want it absent", edition, newName, p)
			}
			v.undoc[newName] = "TLS 1.3"
		}},
		{"tls_to_http", "tls-to-http.pcapng.gz", func(t *testing.T, edition string, v reportView) {
			n := 0
			for p, s := range v.seen {
				if protocols, ok := strings.CutPrefix(s, httpName+" | "); ok {
					if !strings.HasPrefix(protocols, "TLS ") || strings.Contains(protocols, "HTTP") {
						t.Errorf("sample, %s: %s protocols seen %q; want TLS only", edition, p, protocols)
					}
					v.seen[p] = httpName + " | HTTP"
					n++
				}
			}
			if n == 0 {
				t.Errorf("sample, %s: %s under no pattern seen; want it seen", edition, httpName)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := analyzeViews(t, filepath.Join(compareDir, tt.file))
			for _, edition := range slices.Sorted(maps.Keys(base)) {
				want := reportView{seen: maps.Clone(base[edition].seen), undoc: maps.Clone(base[edition].undoc)}
				tt.change(t, edition, want)
				g := got[edition]
				for _, d := range []struct {
					what      string
					got, want map[string]string
				}{{"documented seen", g.seen, want.seen}, {"undocumented", g.undoc, want.undoc}} {
					for _, k := range slices.Sorted(maps.Keys(d.want)) {
						if gv, ok := d.got[k]; !ok || gv != d.want[k] {
							t.Errorf("%s, %s, %s %s = %q (present %v); want %q", tt.file, edition, d.what, k, gv, ok, d.want[k])
						}
					}
					for _, k := range slices.Sorted(maps.Keys(d.got)) {
						if _, ok := d.want[k]; !ok {
							t.Errorf("%s, %s, %s %s = %q; want it absent", tt.file, edition, d.what, k, d.got[k])
						}
					}
				}
			}
		})
	}
}
