package reports

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/phonehome/phonehome/capture"
)

// TestDamageKindsRendered: every format says of each damaged input what
// its damage did (stopped, read on, not read) and where, and the JSON
// carries the kind, the count and whether the offset is decompressed.
func TestDamageKindsRendered(t *testing.T) {
	rep := hostileReport(t, "example.com")
	rep.Damage = []capture.Damage{
		{File: "cut.pcap.zst", Kind: capture.DamageStopped, Offset: 7, Decompressed: true, Reason: "truncated record"},
		{File: "fuzzed.pcap", Kind: capture.DamageReadOn, Offset: 747, Records: 3, Reason: "bad fraction"},
		{File: "missing.pcap", Kind: capture.DamageUnreadable, Reason: "cannot open: no such file or directory"},
	}
	lines := []string{
		"cut.pcap.zst stopped at byte 7 of the decompressed stream: truncated record",
		"fuzzed.pcap 3 records read on from byte 747: bad fraction",
		"missing.pcap not read: cannot open: no such file or directory",
	}
	for _, f := range []struct {
		name   string
		render func(io.Writer, *Report) error
		esc    func(string) string
	}{
		{"text", Text, func(s string) string { return s }},
		{"markdown", Markdown, MarkdownText},
		{"html", HTML, func(s string) string { return s }},
	} {
		t.Run(f.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := f.render(&b, rep); err != nil {
				t.Fatal(err)
			}
			for _, l := range lines {
				file, rest, _ := strings.Cut(l, " ")
				if want := f.esc(file) + " " + rest; !strings.Contains(b.String(), want) {
					t.Errorf("%s report does not say %q", f.name, want)
				}
			}
		})
	}
	var b bytes.Buffer
	if err := JSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Damage []map[string]any `json:"damage"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{
		{"file": "cut.pcap.zst", "kind": "stopped", "offset": 7.0, "decompressed": true, "reason": "truncated record"},
		{"file": "fuzzed.pcap", "kind": "read-on", "offset": 747.0, "records": 3.0, "reason": "bad fraction"},
		{"file": "missing.pcap", "kind": "unreadable", "offset": 0.0, "reason": "cannot open: no such file or directory"},
	}
	if len(got.Damage) != len(want) {
		t.Fatalf("JSON damage = %v; want %v", got.Damage, want)
	}
	for i := range want {
		for k, v := range want[i] {
			if got.Damage[i][k] != v {
				t.Errorf("JSON damage[%d][%q] = %v; want %v", i, k, got.Damage[i][k], v)
			}
		}
		if len(got.Damage[i]) != len(want[i]) {
			t.Errorf("JSON damage[%d] = %v; want exactly %v", i, got.Damage[i], want[i])
		}
	}
}

// TestDuplicatesRendered: the read line of every format says how many
// packets were dropped as duplicates, and only when some were; the JSON
// always has the count.
func TestDuplicatesRendered(t *testing.T) {
	for _, dups := range []uint64{0, 1, 912} {
		rep := hostileReport(t, "example.com")
		rep.Totals.DuplicatesDropped = dups
		want := ""
		switch dups {
		case 1:
			want = "; 1 duplicate packet dropped (the same time and bytes in another input)"
		case 912:
			want = "; 912 duplicate packets dropped (the same time and bytes in another input)"
		}
		for _, f := range []struct {
			name   string
			render func(io.Writer, *Report) error
			esc    func(string) string
		}{{"text", Text, func(s string) string { return s }}, {"markdown", Markdown, MarkdownText}, {"html", HTML, func(s string) string { return s }}} {
			var b bytes.Buffer
			if err := f.render(&b, rep); err != nil {
				t.Fatal(err)
			}
			has := strings.Contains(b.String(), "duplicate packet")
			if want == "" && has || want != "" && !strings.Contains(b.String(), want) {
				t.Errorf("%s report with %d duplicates: want %q in the read line", f.name, dups, want)
			}
		}
		var b bytes.Buffer
		if err := JSON(&b, rep); err != nil {
			t.Fatal(err)
		}
		var got struct {
			Totals map[string]any `json:"totals"`
		}
		if err := json.Unmarshal(b.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if v, ok := got.Totals["duplicates_dropped"]; !ok || v != float64(dups) {
			t.Errorf("JSON totals.duplicates_dropped = %v; want %d", v, dups)
		}
	}
}

// TestQuietInputsRendered: files skipped in a directory and empty inputs
// are listed, with the reason, in every format; the JSON lists every input.
func TestQuietInputsRendered(t *testing.T) {
	rep := hostileReport(t, "example.com")
	rep.Inputs = []capture.Input{
		{Name: "week/mon.pcap", Format: "pcap", Bytes: 100, Frames: 3},
		{Name: "week/newest.pcap", Empty: true},
		{Name: "week/notes.txt", Bytes: 16, Skipped: "not a pcap or pcapng file (magic 63617074)"},
	}
	lines := []string{
		"week/newest.pcap empty: it holds no packet",
		"week/notes.txt skipped: not a pcap or pcapng file (magic 63617074)",
	}
	for _, f := range []struct {
		name   string
		render func(io.Writer, *Report) error
		esc    func(string) string
	}{{"text", Text, func(s string) string { return s }}, {"markdown", Markdown, MarkdownText}, {"html", HTML, func(s string) string { return s }}} {
		var b bytes.Buffer
		if err := f.render(&b, rep); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.Contains(out, quietTitle) {
			t.Errorf("%s report has no %q", f.name, quietTitle)
		}
		for _, l := range lines {
			file, rest, _ := strings.Cut(l, " ")
			if want := f.esc(file) + " " + f.esc(rest); !strings.Contains(out, want) && !strings.Contains(out, f.esc(file)+" "+rest) {
				t.Errorf("%s report does not say %q", f.name, want)
			}
		}
		if strings.Contains(out, "week/mon.pcap") {
			t.Errorf("%s report lists an input that was read", f.name)
		}
	}
	rep.Inputs = rep.Inputs[:1]
	var b bytes.Buffer
	if err := Text(&b, rep); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), quietTitle) {
		t.Errorf("text report lists inputs without packets when there are none")
	}
}
