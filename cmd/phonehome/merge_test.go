package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phonehome/phonehome/classify"
)

// TestMergeCommand analyses the sample's four pieces (testdata/sample/pieces)
// with --save, merges the records (one of them as a checkpoint directory)
// and reports the merged run: the packets of the whole sample, and the 3
// flows cut at the pieces' boundaries said on stderr and in the report.
func TestMergeCommand(t *testing.T) {
	dir := t.TempDir()
	var recs []string
	for i := 1; i <= 4; i++ {
		piece := filepath.Join("..", "..", "testdata", "sample", "pieces", "idle-1909-"+itoa(i)+".pcapng")
		rec := filepath.Join(dir, "piece"+itoa(i)+".json.gz")
		if code, _, stderr := runCaptured(t, "analyze", "-q", "--vm", "192.168.56.10", "--save", rec, "--label", "edition=home", "-o", os.DevNull, piece); code != exitOK {
			t.Fatalf("analyze %s: exit status %d: %s", piece, code, stderr)
		}
		recs = append(recs, rec)
	}
	// The third as a checkpoint directory.
	ckpt := filepath.Join(dir, "checkpoint")
	if err := os.Mkdir(ckpt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(recs[2], filepath.Join(ckpt, classify.CheckpointName)); err != nil {
		t.Fatal(err)
	}
	recs[2] = ckpt

	out := filepath.Join(dir, "merged.json")
	code, _, stderr := runCaptured(t, append([]string{"merge", "-o", out, "--label", "name=sample in four,build=1909"}, recs[3], recs[1], recs[0], recs[2])...)
	if code != exitOK {
		t.Fatalf("merge: exit status %d: %s", code, stderr)
	}
	for _, want := range []string{
		"phonehome: merged 4 runs of VM 192.168.56.10 into " + out + ":\n",
		"piece1.json.gz  2026-03-02 08:00:00 to 2026-03-02 08:00:32  150 packets, 18 flows\n",
		"merged: 2026-03-02 08:00:00 to 2026-03-02 12:30:20  912 packets, 100 flows\n",
		"phonehome: warning: 3 flows were cut at a file boundary and are counted twice",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("merge: stderr %q; want it to contain %q", stderr, want)
		}
	}
	if strings.Contains(stderr, "overlap") {
		t.Errorf("merge: stderr %q; want no overlap: the pieces follow each other", stderr)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(raw), "{") {
		t.Errorf("merge -o %s wrote %.20q; want JSON text, not gzip (the name does not end in .gz)", out, raw)
	}
	run, meta, err := classify.LoadRecord(out)
	if err != nil {
		t.Fatal(err)
	}
	// --label gave the name and build; the edition is the one the runs share.
	if run.Packets != 912 || meta.Label != "sample in four" || meta.Build != "1909" || meta.Edition != "home" {
		t.Errorf("merged record: %d packets, label %q, build %q, edition %q; want 912, %q, 1909, home", run.Packets, meta.Label, meta.Build, meta.Edition, "sample in four")
	}
	code, report, _ := runCaptured(t, "report", out)
	if code != exitOK || !strings.Contains(report, "  "+classify.BoundCutFlows+": 3 times\n") {
		t.Errorf("report of the merged run: exit status %d, report without the line %q:\n%s", code, classify.BoundCutFlows+": 3 times", report)
	}

	// The same run twice: said, by the input both read.
	code, _, stderr = runCaptured(t, "merge", "-o", filepath.Join(dir, "twice.json.gz"), recs[0], recs[0])
	if code != exitOK || !strings.Contains(stderr, "idle-1909-1.pcapng: its packets are counted twice") {
		t.Errorf("merge of one run twice: exit status %d, stderr %q; want 0 and the input read twice said", code, stderr)
	}
	// Pieces 1+3 and 2+4 merged, then merged: their spans interleave, but
	// no packet is in both: nothing to say.
	odd, even := filepath.Join(dir, "odd.json.gz"), filepath.Join(dir, "even.json.gz")
	runCaptured(t, "merge", "-o", odd, recs[0], recs[2])
	runCaptured(t, "merge", "-o", even, recs[1], recs[3])
	code, _, stderr = runCaptured(t, "merge", "-o", filepath.Join(dir, "all.json.gz"), odd, even)
	if code != exitOK || strings.Contains(stderr, "packets are counted twice") || strings.Contains(stderr, "overlap") {
		t.Errorf("merge of interleaved merges: exit status %d, stderr %q; want 0 and no overlap", code, stderr)
	}
}

func TestMergeCommandErrors(t *testing.T) {
	dir := t.TempDir()
	piece := filepath.Join("..", "..", "testdata", "sample", "pieces", "idle-1909-1.pcapng")
	a, b := filepath.Join(dir, "a.json.gz"), filepath.Join(dir, "b.json.gz")
	for rec, vm := range map[string]string{a: "192.168.56.10", b: "192.168.56.11"} {
		if code, _, stderr := runCaptured(t, "analyze", "-q", "--vm", vm, "--save", rec, "-o", os.DevNull, piece); code != exitOK && code != exitNothing {
			t.Fatalf("analyze: exit status %d: %s", code, stderr)
		}
	}
	out := filepath.Join(dir, "out.json.gz")
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"different_vms", []string{"merge", "-o", out, a, b}, exitFailure,
			"merge: " + a + " is a run of VM 192.168.56.10 and " + b + " of VM 192.168.56.11: merge the runs of one VM at a time"},
		{"no_output", []string{"merge", a}, exitUsage, "merge needs -o RUN"},
		{"no_run", []string{"merge", "-o", out}, exitUsage, "merge needs one run record or checkpoint directory at least"},
		{"not_a_record", []string{"merge", "-o", out, a, piece}, exitFailure, "not a run record (is it a capture? analyze reads those)"},
		{"empty_directory", []string{"merge", "-o", out, a, dir + "/"}, exitFailure, "a directory with no run.json.gz in it"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCaptured(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("phonehome %s: exit status %d, stderr %q; want %d and %q", strings.Join(tt.args, " "), code, stderr, tt.code, tt.want)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("phonehome %s wrote %s", strings.Join(tt.args, " "), out)
			}
		})
	}
}
