package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phonehome/phonehome/reports"
)

// comparePairs are the sample held against each capture of testdata/compare
// (and against itself on another build's page), with the exit status of
// each --fail-on value: what the capture's README line says changed.
var comparePairs = []struct {
	name string
	args []string
	exit map[string]int // --fail-on value -> exit status
}{
	{"removed", []string{sample, compareDir + "/removed.pcapng.gz"},
		map[string]int{"new": 0, "new-undocumented": 0, "gone": 6, "any": 6, "new,gone": 6}},
	{"new-undocumented", []string{sample, compareDir + "/new-undocumented.pcapng.gz"},
		map[string]int{"new": 6, "new-undocumented": 6, "gone": 0, "any": 6, "gone,new-undocumented": 6}},
	{"tls-to-http", []string{sample, compareDir + "/tls-to-http.pcapng.gz"},
		map[string]int{"new": 0, "new-undocumented": 0, "gone": 0, "any": 6}},
	{"page-only", []string{"--label-of", "2=build=2004", sample, sample},
		map[string]int{"new": 0, "new-undocumented": 0, "gone": 0, "any": 6}},
	{"itself", []string{sample, sample},
		map[string]int{"": 0, "new": 0, "new-undocumented": 0, "gone": 0, "any": 0, "new,new-undocumented,gone,any": 0}},
}

// TestCompareGolden renders each pair in text, JSON and Markdown, and the
// three fixtures after the sample as a matrix.
func TestCompareGolden(t *testing.T) {
	ext := map[string]string{"text": "txt", "json": "json", "markdown": "md"}
	for _, p := range comparePairs {
		for _, format := range []string{"text", "json", "markdown"} {
			t.Run(p.name+"_"+format, func(t *testing.T) {
				code, out, errOut := runCaptured(t, append([]string{"compare", "-q", "--format", format}, p.args...)...)
				if code != 0 {
					t.Fatalf("exit status %d; want 0 without --fail-on\n%s", code, errOut)
				}
				goldenCheck(t, "compare-"+p.name+"."+ext[format], out)
			})
		}
	}
	t.Run("matrix_text", func(t *testing.T) {
		code, out, errOut := runCaptured(t, "compare", "-q", sample, compareDir+"/removed.pcapng.gz",
			compareDir+"/new-undocumented.pcapng.gz", compareDir+"/tls-to-http.pcapng.gz")
		if code != 0 {
			t.Fatalf("exit status %d; want 0\n%s", code, errOut)
		}
		goldenCheck(t, "compare-matrix.txt", out)
	})
}

// TestCompareJSONContract checks what the README's schema table promises of
// the JSON: the version, and the empty lists written as [] rather than null.
func TestCompareJSONContract(t *testing.T) {
	code, out, errOut := runCaptured(t, "compare", "-q", "--format", "json", sample, sample)
	if code != 0 {
		t.Fatalf("exit status %d\n%s", code, errOut)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if v, _ := doc["schema_version"].(float64); int(v) != reports.RegressionSchemaVersion {
		t.Errorf("schema_version = %v; want %d", doc["schema_version"], reports.RegressionSchemaVersion)
	}
	ch, _ := doc["changes"].(map[string]any)
	for _, k := range []string{"new", "gone", "documented_now_seen", "documented_no_longer_seen", "moved", "protocols", "traffic"} {
		if l, ok := ch[k].([]any); !ok || len(l) != 0 {
			t.Errorf("changes.%s = %v; want []", k, ch[k])
		}
	}
	if _, ok := doc["matrix"]; ok {
		t.Errorf("two runs: matrix present; want it absent")
	}
}

// TestCompareFailOn runs every --fail-on value on every pair: 6 when the
// comparison finds it, 0 otherwise, whatever changed.
func TestCompareFailOn(t *testing.T) {
	for _, p := range comparePairs {
		for what, want := range p.exit {
			t.Run(p.name+"_"+strings.ReplaceAll(what, ",", "_"), func(t *testing.T) {
				args := append([]string{"compare", "-q", "--fail-on", what}, p.args...)
				code, _, errOut := runCaptured(t, args...)
				if code != want {
					t.Errorf("compare --fail-on %q %s: exit status %d; want %d\n%s", what, p.name, code, want, errOut)
				}
				if said := strings.Contains(errOut, "(exit status 6)"); said != (want == exitRegression) {
					t.Errorf("stderr %q; want it to say exit status 6: %v", errOut, want == exitRegression)
				}
			})
		}
	}
}

// TestCompareInputs takes runs as a run record, a checkpoint directory and
// captures of one run given by --run, and labels them from the record, from
// --label-of and by default.
func TestCompareInputs(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "old.json.gz")
	if code, _, errOut := runCaptured(t, "analyze", "-q", "--save", rec, "--label", "build=2004,edition=home,name=old",
		"-o", filepath.Join(dir, "r.txt"), sample); code != 0 {
		t.Fatalf("analyze --save: %d\n%s", code, errOut)
	}
	ckpt := filepath.Join(dir, "ckpt")
	if err := os.Mkdir(ckpt, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ckpt, "run.json.gz"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCaptured(t, "compare", "-q", "--format", "json", "--label-of", "2=edition=home",
		"--label-of", "three=build=21H1", rec, ckpt, "--run", "three="+sample)
	if code != 0 {
		t.Fatalf("exit status %d\n%s", code, errOut)
	}
	var reg reports.Regression
	if err := json.Unmarshal([]byte(out), &reg); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range reg.Runs {
		got = append(got, r.Name+" "+r.Build+" "+r.Edition+" ("+r.LabelFrom+")")
	}
	want := []string{
		"old windows-10-2004 home (build from the run record, edition from the run record)",
		"old windows-10-2004 home (build from the run record, edition from --label-of)",
		"three windows-10-21H1 pro (build from --label-of, edition by default)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("runs:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(reg.Matrix) == 0 {
		t.Errorf("three runs: no matrix")
	}
}

func TestCompareUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"one_run", []string{sample}},
		{"no_run", nil},
		{"fail_on_unknown", []string{"--fail-on", "changed", sample, sample}},
		{"format_csv", []string{"--format", "csv", sample, sample}},
		{"ratio_one", []string{"--ratio", "1", sample, sample}},
		{"min_flows_zero", []string{"--min-flows", "0", sample, sample}},
		{"label_of_no_such_run", []string{"--label-of", "3=build=2004", sample, sample}},
		{"label_of_no_such_name", []string{"--label-of", "x=build=2004", sample, sample}},
		{"label_of_bad_key", []string{"--label-of", "1=colour=blue", sample, sample}},
		{"edition_without_page", []string{"--label-of", "2=build=21H2", sample, sample}},
		{"run_without_files", []string{"--run", "x=", sample}},
		{"unknown_build", []string{"--build", "95", sample, sample}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCaptured(t, append([]string{"compare", "-q"}, tc.args...)...)
			if code != exitUsage {
				t.Errorf("exit status %d; want %d\n%s", code, exitUsage, errOut)
			}
		})
	}
	// A build from a run record is blamed on the record, not on --build.
	rec := filepath.Join(t.TempDir(), "run.json.gz")
	runCaptured(t, "analyze", "-q", "--save", rec, "--label", "build=22H9", "-o", filepath.Join(t.TempDir(), "r.txt"), sample)
	if code, _, errOut := runCaptured(t, "compare", "-q", rec, sample); code != exitUsage || !strings.Contains(errOut, `build from the run record "22H9"`) {
		t.Errorf("compare of a record labelled build=22H9: exit status %d, stderr %q; want %d and the record named", code, errOut, exitUsage)
	}
	if code, _, _ := runCaptured(t, "compare", "-q", sample, "no-such-file.pcap"); code != exitFailure {
		t.Errorf("compare with a missing file: exit status %d; want %d", code, exitFailure)
	}
}

// TestCompareDamagedInput: a run read from a cut capture exits with 3, as
// analyze does, and its damage is on stderr; a --fail-on finding wins (6).
func TestCompareDamagedInput(t *testing.T) {
	raw, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcapng")
	if err := os.WriteFile(cut, raw[:len(raw)/2+7], 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCaptured(t, "compare", "-q", sample, cut)
	if code != exitDamaged || !strings.Contains(errOut, "run 2: "+cut+" stopped at byte ") {
		t.Errorf("compare with a cut capture: exit status %d, stderr %q; want %d and the damage of run 2", code, errOut, exitDamaged)
	}
	if code, _, errOut := runCaptured(t, "compare", "-q", "--fail-on", "gone", sample, cut); code != exitRegression {
		t.Errorf("compare --fail-on gone with a cut capture: exit status %d; want %d\n%s", code, exitRegression, errOut)
	}
}

// TestCompareUserCatalog holds both runs against a user catalog: the new
// name is new and undocumented by that catalog, every run says where its
// page came from, there is no page change, and a broken catalog is a usage
// error naming its line.
func TestCompareUserCatalog(t *testing.T) {
	const cat = "../../testdata/catalogs/example.tsv"
	code, out, errOut := runCaptured(t, "compare", "-q", "--format", "json", "--catalog", cat, sample, compareDir+"/new-undocumented.pcapng.gz")
	if code != 0 {
		t.Fatalf("compare --catalog: exit status %d\n%s", code, errOut)
	}
	var reg reports.Regression
	if err := json.Unmarshal([]byte(out), &reg); err != nil {
		t.Fatal(err)
	}
	for _, r := range reg.Runs {
		if !strings.Contains(r.LabelFrom, "page from --catalog") {
			t.Errorf("run %s: label from %q; want the page from --catalog", r.Name, r.LabelFrom)
		}
	}
	if len(reg.Changes.New) != 1 || reg.Changes.New[0].Key != "telemetry.example-vendor.test" || reg.Changes.New[0].Documented {
		t.Errorf("new endpoints = %+v; want telemetry.example-vendor.test, not documented", reg.Changes.New)
	}
	if p := reg.Changes.Page; len(p.Added)+len(p.Removed) != 0 {
		t.Errorf("page changes %+v; want none: both runs have one catalog", p)
	}
	bad := filepath.Join(t.TempDir(), "bad.tsv")
	os.WriteFile(bad, []byte("pattern\tprotocols\nexample.com\tFTP\n"), 0o644)
	if code, _, errOut := runCaptured(t, "compare", "-q", "--catalog", bad, sample, sample); code != exitUsage || !strings.Contains(errOut, "bad.tsv:2:") {
		t.Errorf("compare --catalog BROKEN: exit status %d, stderr %q; want %d and bad.tsv:2:", code, errOut, exitUsage)
	}
}
