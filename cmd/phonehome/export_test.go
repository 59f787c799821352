package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phonehome/phonehome/reports"
)

// TestExportGolden writes, in every format, the undocumented names of the
// sample and of testdata/compare/new-undocumented (its one new name,
// telemetry.example-vendor.test, is the difference), and the patterns of
// 1909's Pro page (no run).
func TestExportGolden(t *testing.T) {
	runs := []struct {
		name string
		args []string
	}{
		{"sample", []string{"--list", "undocumented", sample}},
		{"new-undocumented", []string{"--list", "undocumented", compareDir + "/new-undocumented.pcapng.gz"}},
		{"documented", []string{"--list", "documented", "--build", "1909", "--edition", "pro"}},
	}
	for _, r := range runs {
		for _, format := range reports.BlockFormats {
			t.Run(r.name+"_"+format, func(t *testing.T) {
				code, out, errOut := runCaptured(t, append([]string{"export", "-q", "--as", format}, r.args...)...)
				if code != 0 {
					t.Fatalf("exit status %d; want 0\n%s", code, errOut)
				}
				goldenCheck(t, "export-"+r.name+"-"+format+".txt", out)
			})
		}
	}
}

// TestExportNewName: the capture with one new undocumented name lists it,
// and only it, beyond the sample's list.
func TestExportNewName(t *testing.T) {
	_, base, _ := runCaptured(t, "export", "-q", "--as", "pihole", sample)
	_, added, _ := runCaptured(t, "export", "-q", "--as", "pihole", compareDir+"/new-undocumented.pcapng.gz")
	entries := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, l := range strings.Split(s, "\n") {
			if l != "" && !strings.HasPrefix(l, "#") {
				m[l] = true
			}
		}
		return m
	}
	b, a := entries(base), entries(added)
	for n := range b {
		if !a[n] {
			t.Errorf("%s is in the sample's list and not in new-undocumented's", n)
		}
	}
	if len(a) != len(b)+1 || !a["telemetry.example-vendor.test"] {
		t.Errorf("new-undocumented lists %d names, the sample %d; want telemetry.example-vendor.test more", len(a), len(b))
	}
}

// TestExportRunRecord: a run record gives the list its captures give, held
// against the page its label names unless --build or --edition say
// otherwise; -o writes the file.
func TestExportRunRecord(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "run.json.gz")
	if code, _, errOut := runCaptured(t, "analyze", "-q", "--save", rec, "--label", "build=21H2,edition=enterprise", "-o", os.DevNull, sample); code != 0 {
		t.Fatalf("analyze --save: exit status %d\n%s", code, errOut)
	}
	code, out, errOut := runCaptured(t, "export", "--list", "seen", "--as", "hosts", rec)
	if code != 0 {
		t.Fatalf("export: exit status %d\n%s", code, errOut)
	}
	if !strings.Contains(out, "# page: Windows 10 21H2 connection endpoints, edition enterprise (build from the run record, edition from the run record)") {
		t.Errorf("the label's page is not said:\n%s", out)
	}
	_, fromCaptures, _ := runCaptured(t, "export", "-q", "--list", "seen", "--as", "hosts", "--build", "21H2", "--edition", "enterprise", sample)
	entries := func(s string) string {
		var keep []string
		for _, l := range strings.Split(s, "\n") {
			if !strings.HasPrefix(l, "#") {
				keep = append(keep, l)
			}
		}
		return strings.Join(keep, "\n")
	}
	if entries(out) != entries(fromCaptures) {
		t.Errorf("the record's list:\n%s\nthe captures':\n%s", entries(out), entries(fromCaptures))
	}
	list := filepath.Join(dir, "block.conf")
	code, out, errOut = runCaptured(t, "export", "--as", "dnsmasq", "--build", "1909", "--edition", "home", "-o", list, rec)
	if code != 0 || out != "" {
		t.Fatalf("export -o: exit status %d, stdout %q\n%s", code, out, errOut)
	}
	got, err := os.ReadFile(list)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(got), "edition home (build from --build, edition from --edition)") || !strings.Contains(string(got), "address=/edge.microsoft.com/0.0.0.0\n") {
		t.Errorf("-o %s:\n%s", list, got)
	}
	if !strings.Contains(errOut, "phonehome: export: 6 dnsmasq entries; 0 names refused") {
		t.Errorf("stderr %q; want the counts", errOut)
	}
}

func TestExportUsage(t *testing.T) {
	for _, tt := range []struct {
		name   string
		args   []string
		stderr string
	}{
		{"unknown_list", []string{"--list", "blocked", sample}, `--list "blocked": want undocumented, seen, documented`},
		{"unknown_format", []string{"--as", "squid", sample}, `--as "squid": want hosts, dnsmasq, unbound, adblock, pihole`},
		{"no_run", []string{"--list", "seen"}, "export --list seen needs a run"},
		{"no_page_for_edition", []string{"--build", "21H2", "--edition", "home", sample}, "Windows 10 21H2 has no page for home (build from --build, edition from --edition); it has pages for enterprise: give one with --edition"},
		{"unknown_build", []string{"--list", "documented", "--build", "1999"}, `--build "1999": no pages for that build`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCaptured(t, append([]string{"export", "-q"}, tt.args...)...)
			if code != exitUsage || out != "" || !strings.Contains(errOut, tt.stderr) {
				t.Errorf("exit status %d, stdout %q, stderr %q; want %d, nothing, and %q", code, out, errOut, exitUsage, tt.stderr)
			}
		})
	}
}

// TestExportNothingInScope: a capture in which nothing is in scope gives
// an empty list, says why, and exits with status 4 as report does.
func TestExportNothingInScope(t *testing.T) {
	code, out, errOut := runCaptured(t, "export", "-q", "testdata/nothing/ipv6-only.pcap")
	if code != exitNothing {
		t.Errorf("exit status %d; want %d\n%s", code, exitNothing, errOut)
	}
	if !strings.Contains(out, "# 0 entries; 0 names refused") || !strings.Contains(errOut, "exit status 4") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
}
