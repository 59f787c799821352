package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/catalog"
)

// TestCaptureWarnings renders a run of three live sessions, with every way
// a capture can leave it incomplete, in each format that carries the
// warnings: each is said, and the session line shows the filter in force,
// escaped as everything from outside is.
func TestCaptureWarnings(t *testing.T) {
	run := testRun(nameStat("settings-win.data.microsoft.com", "sni"))
	start := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	run.Sessions = []capture.Session{
		{Interface: "virbr0", LinkType: "Ethernet (1)", Filter: "not port 22\x1b[2J", Snaplen: 262144, Start: start,
			End: start.Add(time.Hour), Ended: capture.EndRunning, Received: 1000, Dropped: 7, IfDropped: 2,
			WriteError: "write /srv/pcap: no space left on device", WriteLost: 40},
		{Interface: "virbr0", Start: start.Add(2 * time.Hour), End: start.Add(3 * time.Hour), Ended: capture.EndInterfaceDown + ": The interface disappeared",
			CheckpointError: "rename: no such file or directory"},
		{Interface: "virbr0", Start: start.Add(4 * time.Hour), End: start.Add(5 * time.Hour), Ended: capture.EndRunning},
	}
	rep, err := Compare(run, load(t), []catalog.Edition{catalog.Pro})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"libpcap dropped 9 packets of 1,009 (kernel 7, interface 2)",
		"not running for 1h0m0s",
		"stopped without ending cleanly after its last checkpoint",
		"ended at 2026-12-01 11:00:00 UTC: interface-down: The interface disappeared",
		"--write failed (write /srv/pcap: no space left on device): 40 packets not written",
		"the last checkpoint failed (rename: no such file or directory)",
		"was still running, or stopped without ending cleanly",
	}
	for name, render := range map[string]func(*bytes.Buffer) error{
		"text":     func(b *bytes.Buffer) error { return Text(b, rep) },
		"markdown": func(b *bytes.Buffer) error { return Markdown(b, rep) },
		"html":     func(b *bytes.Buffer) error { return HTML(b, rep) },
	} {
		var b bytes.Buffer
		if err := render(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.Contains(out, "\x1b") {
			t.Errorf("%s: an escape from the filter reached the output", name)
		}
		if !strings.Contains(out, "not port 22") {
			t.Errorf("%s: the filter in force is not shown", name)
		}
		for _, w := range want {
			// Markdown escapes punctuation; compare without backslashes.
			if !strings.Contains(strings.ReplaceAll(out, "\\", ""), w) {
				t.Errorf("%s: no warning %q in:\n%s", name, w, out)
			}
		}
	}
	var b bytes.Buffer
	if err := JSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Sessions []struct {
			Gap     float64 `json:"gap_before_seconds"`
			Dropped uint64  `json:"dropped"`
		} `json:"capture_sessions"`
		Warnings []string `json:"capture_warnings"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Sessions) != 3 || doc.Sessions[1].Gap != 3600 || doc.Sessions[0].Dropped != 7 || len(doc.Warnings) != len(want)+1 {
		t.Errorf("JSON: sessions %+v, %d warnings; want 3 sessions (a 3600 s gap before the second, 7 dropped in the first) and %d warnings (two gaps):\n%s",
			doc.Sessions, len(doc.Warnings), len(want)+1, strings.Join(doc.Warnings, "\n"))
	}
}
