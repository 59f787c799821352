package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/phonehome/phonehome/classify"
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

// TestExportHostileNames: names a packet could carry, in a run record, are
// refused in every format: not in the list, counted there and quoted in a
// comment, named quoted on stderr; the good names are listed.
func TestExportHostileNames(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "run.json")
	if code, _, errOut := runCaptured(t, "analyze", "-q", "--save", rec, "-o", os.DevNull, sample); code != 0 {
		t.Fatalf("analyze --save: exit status %d\n%s", code, errOut)
	}
	run, meta, err := classify.LoadRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	hostile := []string{
		"a.example.com\n0.0.0.0 settings-win.data.microsoft.com",
		"b.example.com/#\nserver=/example.net/6.6.6.6",
		"c.example.com.\" transparent\nlocal-zone: \"com.",
		"d.example.com^$important",
		"e.example.com##body",
		"evil\x1b[31m.example.com",
		"f.example.com\u202egnp.exe",
		"co.uk",
		"localhost",
	}
	proto := run.Names["edge.microsoft.com"]
	for _, h := range hostile {
		n := *proto
		n.Name = h
		run.Names[h] = &n
	}
	if err := classify.SaveRecord(rec, run, meta); err != nil {
		t.Fatal(err)
	}
	for _, format := range reports.BlockFormats {
		t.Run(format, func(t *testing.T) {
			code, out, errOut := runCaptured(t, "export", "--list", "seen", "--as", format, rec)
			if code != 0 {
				t.Fatalf("exit status %d\n%s", code, errOut)
			}
			mark := map[bool]string{true: "!", false: "#"}[format == "adblock"]
			for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				if strings.HasPrefix(line, mark) {
					continue
				}
				for _, bad := range []string{"example.com", "example.net", "server=", "transparent", "$", "##", "\x1b", "\u202e", "co.uk", "localhost", "6.6.6.6"} {
					if strings.Contains(line, bad) {
						t.Errorf("entry %q holds %q", line, bad)
					}
				}
			}
			if !strings.Contains(out, fmt.Sprintf("%d names refused", len(hostile))) {
				t.Errorf("the count of names refused is not said:\n%s", out)
			}
			for _, h := range hostile {
				q := strconv.QuoteToASCII(h)
				if !strings.Contains(out, mark+"   "+q+": ") || !strings.Contains(errOut, "phonehome: export: refused "+q+": ") {
					t.Errorf("%s is not shown quoted in the list and on stderr\n%s\n%s", q, out, errOut)
				}
			}
			if !strings.Contains(out, "edge.microsoft.com") {
				t.Errorf("the good names are not listed:\n%s", out)
			}
		})
	}
}
