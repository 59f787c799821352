package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phonehome/phonehome/classify"
)

// TestReportEqualsAnalyze analyzes the sample and some fixtures (damaged,
// with nothing in scope, cut by a snap length, tunnelled) with --save, and
// holds phonehome report of each record against analyze of the capture:
// the same report byte for byte in every format and for several editions and
// builds, the same stderr and the same exit status.
func TestReportEqualsAnalyze(t *testing.T) {
	raw, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cut := filepath.Join(dir, "cut.pcapng")
	if err := os.WriteFile(cut, raw[:len(raw)/2+7], 0o644); err != nil {
		t.Fatal(err)
	}
	inputs := [][]string{
		{sample},
		{cut},
		{"../../testdata/fixtures/sample-snap262.pcapng.gz"},
		{"../../testdata/fixtures/dns-cname-chain.pcap", "../../testdata/fixtures/http-keepalive-three-requests.pcap",
			"../../testdata/fixtures/tls-openssl.pcap"},
		{"../../testdata/tunnels/erspan-ii.pcap"},
		{"testdata/nothing/ipv6-only.pcap"},
		{"testdata/nothing/unsupported-link-type.pcap"},
	}
	views := []reportOptions{
		{editions: "all", build: "1909"},
		{editions: "pro,enterprise", build: "2004"},
		{editions: "enterprise", build: "21H2"},
		{editions: "home", build: "11"},
	}
	for i, files := range inputs {
		t.Run(filepath.Base(files[0]), func(t *testing.T) {
			rec := filepath.Join(dir, "run"+itoa(i)+".json.gz")
			var saveOut, saveErr bytes.Buffer
			opt := analyzeOptions{reportOptions: reportOptions{editions: "all", build: "1909", format: "text"}, save: rec}
			saveStatus := analyze(&saveOut, &saveErr, files, opt)
			for _, v := range views {
				for _, format := range []string{"text", "json", "csv", "markdown", "html"} {
					v.format = format
					var aOut, aErr, rOut, rErr bytes.Buffer
					aStatus := analyze(&aOut, &aErr, files, analyzeOptions{reportOptions: v})
					rStatus := report(&rOut, &rErr, rec, v)
					what := "--edition " + v.editions + " --build " + v.build + " --format " + format
					if !errors.Is(rStatus, aStatus) && rStatus != aStatus {
						t.Errorf("%s: report = %v; analyze = %v", what, rStatus, aStatus)
					}
					if aOut.Len() == 0 {
						t.Errorf("%s: analyze wrote no report", what)
					}
					if d := firstDiff(aOut.String(), rOut.String()); d != "" {
						t.Errorf("%s: report differs from analyze: %s", what, d)
					}
					if aErr.String() != rErr.String() {
						t.Errorf("%s: report's stderr %q; analyze's %q", what, rErr.String(), aErr.String())
					}
				}
			}
			if !errors.Is(saveStatus, errDamaged) && !errors.Is(saveStatus, errNothingInScope) && saveStatus != nil {
				t.Fatalf("analyze --save: %v", saveStatus)
			}
		})
	}
}

// TestReportCommand runs report as main does: the exit status of a damaged
// run, -o, a checkpoint directory, and the errors for a directory with no
// checkpoint and a file that is no record.
func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	raw, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.pcapng")
	os.WriteFile(cut, raw[:len(raw)/2+7], 0o644)
	ckpt := filepath.Join(dir, "ckpt")
	os.Mkdir(ckpt, 0o755)
	rec := filepath.Join(ckpt, classify.CheckpointName)
	out := filepath.Join(dir, "analyze.html")
	if code, stdout, _ := runCaptured(t, "analyze", "--save", rec, "--format", "html", "-o", out, cut); code != exitDamaged || stdout != "" {
		t.Fatalf("analyze --save -o on a cut capture: exit status %d, stdout %.40q; want %d and nothing on stdout", code, stdout, exitDamaged)
	}
	want, _ := os.ReadFile(out)
	if !bytes.HasPrefix(want, []byte("<!DOCTYPE html>")) && !bytes.Contains(want[:min(200, len(want))], []byte("<html")) {
		t.Errorf("analyze -o wrote %.60q; want the HTML report", want)
	}
	code, stdout, stderr := runCaptured(t, "report", "--format", "html", ckpt)
	if code != exitDamaged || stdout != string(want) || !strings.Contains(stderr, "cut.pcapng stopped at byte ") {
		t.Errorf("report DIR: exit status %d, stderr %q, same report: %v; want %d, the damage, the same report", code, stderr, stdout == string(want), exitDamaged)
	}
	out2 := filepath.Join(dir, "report.html")
	if code, _, _ := runCaptured(t, "report", "--format", "html", "-o", out2, rec); code != exitDamaged {
		t.Errorf("report -o: exit status %d; want %d", code, exitDamaged)
	}
	if got, _ := os.ReadFile(out2); !bytes.Equal(got, want) {
		t.Errorf("report -o FILE wrote another report than analyze -o FILE")
	}
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no_checkpoint_yet", []string{"report", empty}, exitFailure, "no checkpoint has been written there yet"},
		{"not_a_record", []string{"report", sample}, exitFailure, "where a run record starts with"},
		{"missing", []string{"report", filepath.Join(dir, "none.json")}, exitFailure, "no such file"},
		{"two_records", []string{"report", rec, rec}, exitUsage, "report needs one run record"},
		{"bad_format", []string{"report", "--format", "xml", rec}, exitUsage, `--format "xml"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCaptured(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("phonehome %s: exit status %d, stderr %q; want %d and %q", strings.Join(tt.args, " "), code, stderr, tt.code, tt.want)
			}
		})
	}
}

// TestLabel checks --label: kept in the record analyze --save writes, and
// refused when malformed or without --save.
func TestLabel(t *testing.T) {
	rec := filepath.Join(t.TempDir(), "run.json.gz")
	if code, _, stderr := runCaptured(t, "analyze", "-q", "--save", rec, "--label", "build=21H1, Edition=Pro,name=week 3", "-o", filepath.Join(t.TempDir(), "report.txt"), sample); code != 0 {
		t.Fatalf("analyze --save --label: exit status %d, stderr %q", code, stderr)
	}
	_, meta, err := classify.LoadRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	if meta.Build != "21H1" || meta.Edition != "pro" || meta.Label != "week 3" {
		t.Errorf("record meta = build %q, edition %q, label %q; want 21H1, pro, week 3", meta.Build, meta.Edition, meta.Label)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"no_save", []string{"analyze", "--label", "build=21H1", sample}, "give --save too"},
		{"not_key_value", []string{"analyze", "--save", rec, "--label", "21H1", sample}, "is not key=value"},
		{"unknown_key", []string{"analyze", "--save", rec, "--label", "os=win", sample}, `unknown key "os"`},
		{"bad_edition", []string{"analyze", "--save", rec, "--label", "edition=ultimate", sample}, `edition "ultimate"`},
		{"capture_no_checkpoint", []string{"capture", "-i", "lo", "--label", "build=21H1"}, "give --checkpoint too"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCaptured(t, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Errorf("phonehome %s: exit status %d, stderr %q; want %d and %q", strings.Join(tt.args, " "), code, stderr, exitUsage, tt.want)
			}
		})
	}
}

// TestColorFlag: --color always styles the text report, never and auto
// (not on a terminal here) do not, another value is a usage error.
func TestColorFlag(t *testing.T) {
	for _, tt := range []struct {
		color string
		code  int
		ansi  bool
	}{{"always", 0, true}, {"never", 0, false}, {"auto", 0, false}, {"sometimes", exitUsage, false}} {
		code, out, stderr := runCaptured(t, "analyze", "-q", "--color", tt.color, sample)
		if code != tt.code || strings.Contains(out, "\x1b[") != tt.ansi {
			t.Errorf("--color %s: exit status %d, styled %v, stderr %q; want %d, %v", tt.color, code, strings.Contains(out, "\x1b["), stderr, tt.code, tt.ansi)
		}
	}
}

// TestFlowsFlush: a flush writes the lines so far, so a reader of a live
// capture's --flows file sees each flow soon after it ends; lines written
// after it come with the close.
func TestFlowsFlush(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flows.jsonl")
	var cfg classify.Config
	closeFn, flush, err := openFlows(path, &cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	lines := func() int {
		b, _ := os.ReadFile(path)
		return strings.Count(string(b), "\n")
	}
	cfg.OnFlow(&classify.FlowRecord{Proto: "tcp", Name: "a.example"})
	if n := lines(); n != 0 {
		t.Fatalf("%d lines before the flush; want 0 (buffered)", n)
	}
	if err := flush(); err != nil || lines() != 1 {
		t.Fatalf("after the flush: %d lines, %v; want 1", lines(), err)
	}
	cfg.OnFlow(&classify.FlowRecord{Proto: "udp", Name: "b.example"})
	if err := closeFn(); err != nil || lines() != 2 {
		t.Fatalf("after the close: %d lines, %v; want 2", lines(), err)
	}
}
