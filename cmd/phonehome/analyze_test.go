package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const sample = "../../testdata/sample/idle-1909.pcapng"

// truthFlow is one flow of a TRUTH.json written by testdata/gen.
type truthFlow struct {
	Proto    string `json:"proto"`
	Src      string `json:"src"`
	Dst      string `json:"dst"`
	Name     string `json:"expected_name"`
	Evidence string `json:"evidence"`
	Excluded string `json:"excluded"`
}

type truthFile struct {
	Flows []truthFlow `json:"flows"`
}

type flowLine struct {
	Proto    string `json:"proto"`
	Src      string `json:"src"`
	SPort    int    `json:"sport"`
	Dst      string `json:"dst"`
	DPort    int    `json:"dport"`
	Name     string `json:"name"`
	Evidence string `json:"evidence"`
	Scope    string `json:"scope"`
}

// analyzeFile runs analyze as the command line would and returns the report
// and the --flows lines keyed by "proto a b" with the endpoints sorted.
func analyzeFile(t *testing.T, opt analyzeOptions, files ...string) (string, map[string]flowLine) {
	t.Helper()
	opt.flows = filepath.Join(t.TempDir(), "flows.jsonl")
	if opt.editions == "" {
		opt.editions = "all"
	}
	if opt.build == "" {
		opt.build = "1909"
	}
	if opt.format == "" {
		opt.format = "text"
	}
	var out, errOut bytes.Buffer
	// Nothing in scope is a result too: a DNS-only fixture has no flow in
	// scope, and its flows are checked all the same.
	if err := analyze(&out, &errOut, files, opt); err != nil && !errors.Is(err, errNothingInScope) {
		t.Fatalf("analyze %v: %v\n%s", files, err, errOut.String())
	}
	fh, err := os.Open(opt.flows)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	flows := map[string]flowLine{}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var l flowLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("--flows line %q: %v", sc.Text(), err)
		}
		flows[flowID(l.Proto, l.Src+":"+itoa(l.SPort), l.Dst+":"+itoa(l.DPort))] = l
	}
	return out.String(), flows
}

func itoa(n int) string { return strconv.Itoa(n) }

func flowID(proto, a, b string) string {
	e := []string{a, b}
	sort.Strings(e)
	return proto + " " + e[0] + " " + e[1]
}

// scopeOf maps the generator's words for an exclusion to a scope reason.
func scopeOf(excluded string) string {
	switch {
	case excluded == "":
		return "in"
	case strings.HasPrefix(excluded, "private destination"):
		return "private-destination"
	case strings.HasPrefix(excluded, "not started by the VM"):
		return "not-started-by-vm"
	case strings.HasPrefix(excluded, "ipv6"):
		return "ipv6"
	}
	return excluded
}

// checkTruth checks every IPv4 flow of a TRUTH.json against the --flows output.
func checkTruth(t *testing.T, truth truthFile, flows map[string]flowLine) {
	t.Helper()
	checked := 0
	for _, tf := range truth.Flows {
		if strings.Contains(tf.Src, "[") || strings.Count(tf.Src, ":") > 1 {
			continue // IPv6: counted by packet, not as a flow
		}
		got, ok := flows[flowID(tf.Proto, tf.Src, tf.Dst)]
		if !ok {
			t.Errorf("flow %s %s -> %s: not in --flows output", tf.Proto, tf.Src, tf.Dst)
			continue
		}
		checked++
		wantEvidence := tf.Evidence
		if wantEvidence == "none" {
			wantEvidence = ""
		}
		wantScope := scopeOf(tf.Excluded)
		if got.Scope != wantScope {
			t.Errorf("flow %s %s -> %s: scope = %q; want %q", tf.Proto, tf.Src, tf.Dst, got.Scope, wantScope)
		}
		if wantScope == "in" && (got.Name != tf.Name || got.Evidence != wantEvidence) {
			t.Errorf("flow %s %s -> %s: name, evidence = %q, %q; want %q, %q",
				tf.Proto, tf.Src, tf.Dst, got.Name, got.Evidence, tf.Name, wantEvidence)
		}
	}
	if checked == 0 {
		t.Errorf("no flow of the truth was checked")
	}
}

func readTruth(t *testing.T, path string) truthFile {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tf truthFile
	if err := json.Unmarshal(raw, &tf); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tf
}

// TestSampleMatchesTruth checks every flow of the sample capture against the
// truth its generator wrote: name, evidence and scope.
func TestSampleMatchesTruth(t *testing.T) {
	_, flows := analyzeFile(t, analyzeOptions{}, sample)
	checkTruth(t, readTruth(t, "../../testdata/sample/TRUTH.json"), flows)
}

// TestFixturesMatchTruth does the same for each single-purpose fixture: every
// link type, split, reordered and retransmitted ClientHellos, DNS over TCP.
func TestFixturesMatchTruth(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/fixtures/TRUTH.json")
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]truthFile
	if err := json.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(strings.NewReplacer(".", "_", "-", "_").Replace(name), func(t *testing.T) {
			_, flows := analyzeFile(t, analyzeOptions{vm: "192.168.56.10"}, filepath.Join("../../testdata/fixtures", name))
			checkTruth(t, all[name], flows)
		})
	}
}

// TestSampleGolden compares the sample's report in every format with the
// golden files; refresh them with go test ./cmd/phonehome -update.
func TestSampleGolden(t *testing.T) {
	ext := map[string]string{"text": "txt", "json": "json", "csv": "csv", "markdown": "md", "html": "html"}
	for _, format := range []string{"text", "json", "csv", "markdown", "html"} {
		t.Run(format, func(t *testing.T) {
			got, _ := analyzeFile(t, analyzeOptions{reportOptions: reportOptions{format: format}}, sample)
			goldenCheck(t, "sample."+ext[format], got)
		})
	}
}

// goldenCheck compares got with testdata/name, or writes it with -update.
// A report names its files as given: they are made independent of where
// the test runs from.
func goldenCheck(t *testing.T, name, got string) {
	t.Helper()
	golden := filepath.Join("testdata", name)
	got = strings.ReplaceAll(got, "../../testdata/", "testdata/")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/phonehome -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs; if the change is intended, run go test ./cmd/phonehome -update and review the diff\n%s",
			golden, firstDiff(string(want), got))
	}
}

func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return "line " + itoa(i+1) + ":\n  want " + a + "\n  got  " + b
		}
	}
	return ""
}

// TestGzipAndRotatedSet analyses the sample gzip-compressed, and cut in two
// files given in the wrong order: the report must be the one of the sample.
func TestGzipAndRotatedSet(t *testing.T) {
	raw, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(raw)
	zw.Close()
	gz := filepath.Join(dir, "idle.pcapng.gz")
	if err := os.WriteFile(gz, zb.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	want, _ := analyzeFile(t, analyzeOptions{reportOptions: reportOptions{format: "json"}}, sample)
	got, _ := analyzeFile(t, analyzeOptions{reportOptions: reportOptions{format: "json"}}, gz)
	if strip(got) != strip(want) {
		t.Errorf("report of the gzip-compressed sample differs from the sample's:\n%s", firstDiff(strip(want), strip(got)))
	}

	// Rotate: the header blocks (section and interface) start each file,
	// the packet blocks are shared out, and the files are named so that
	// their names sort against their order in time.
	blocks := pcapngBlocks(t, raw)
	head, packets := blocks[:2], blocks[2:]
	var first, second []byte
	for _, b := range head {
		first = append(first, b...)
		second = append(second, b...)
	}
	for i, b := range packets {
		if i < len(packets)/2 {
			first = append(first, b...)
		} else {
			second = append(second, b...)
		}
	}
	a, b := filepath.Join(dir, "b-early.pcapng"), filepath.Join(dir, "a-late.pcapng")
	os.WriteFile(a, first, 0o644)
	os.WriteFile(b, second, 0o644)
	got, _ = analyzeFile(t, analyzeOptions{reportOptions: reportOptions{format: "json"}}, b, a)
	if stripFrames(got) != stripFrames(want) {
		t.Errorf("report of the sample rotated into two files differs from the sample's:\n%s", firstDiff(stripFrames(want), stripFrames(got)))
	}
}

// pcapngBlocks splits a little-endian pcapng file into its blocks.
func pcapngBlocks(t *testing.T, b []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(b) >= 12 {
		n := int(binary.LittleEndian.Uint32(b[4:8]))
		if n < 12 || n > len(b) {
			t.Fatalf("pcapng block length %d", n)
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	if len(out) < 3 || binary.LittleEndian.Uint32(out[1][:4]) != 1 {
		t.Fatalf("sample does not start with a section and one interface block")
	}
	return out
}

// strip drops the "files" and "inputs" lists, which name the inputs.
func strip(report string) string { return stripReport(report, false) }

// stripFrames is strip, the frame numbers of the first evidence cleared
// too: a capture cut into files numbers each file's frames from 1.
func stripFrames(report string) string { return stripReport(report, true) }

func stripReport(report string, frames bool) string {
	var m map[string]any
	if err := json.Unmarshal([]byte(report), &m); err != nil {
		return report
	}
	delete(m, "files")
	delete(m, "inputs") // what was read of each file
	stripEvidence(m, frames)
	b, _ := json.MarshalIndent(m, "", " ")
	return string(b)
}

// stripEvidence clears the file (and, with frames, the frame number) of
// every first_evidence in v.
func stripEvidence(v any, frames bool) {
	switch v := v.(type) {
	case map[string]any:
		if e, ok := v["first_evidence"].(map[string]any); ok {
			delete(e, "file")
			if frames {
				delete(e, "frame")
			}
		}
		for _, x := range v {
			stripEvidence(x, frames)
		}
	case []any:
		for _, x := range v {
			stripEvidence(x, frames)
		}
	}
}

// TestDamagedCaptureExitStatus cuts the sample in the middle of a record, as
// a capture still being written is: the run finishes with errDamaged (exit
// status 3), says where on stderr and in the report, and keeps the flows
// before the cut.
func TestDamagedCaptureExitStatus(t *testing.T) {
	raw, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcapng")
	if err := os.WriteFile(cut, raw[:len(raw)/2+7], 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	err = analyze(&out, &errOut, []string{cut}, analyzeOptions{reportOptions: reportOptions{editions: "home", build: "1909", format: "json"}})
	if !errors.Is(err, errDamaged) {
		t.Fatalf("analyze on a cut file = %v; want errDamaged", err)
	}
	if !strings.Contains(errOut.String(), "cut.pcapng stopped at byte ") {
		t.Errorf("stderr = %q; want the file and the byte offset of the damage", errOut.String())
	}
	var rep struct {
		Damage []struct {
			File   string `json:"file"`
			Offset int64  `json:"offset"`
		} `json:"damage"`
		Totals struct {
			Flows int `json:"flows_in_scope"`
		} `json:"totals"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Damage) != 1 || rep.Damage[0].Offset <= 0 || rep.Damage[0].Offset > int64(len(raw)/2+7) {
		t.Errorf("damage = %+v; want one place before byte %d", rep.Damage, len(raw)/2+7)
	}
	if rep.Totals.Flows < 10 {
		t.Errorf("flows in scope before the cut = %d; want the first half's (at least 10)", rep.Totals.Flows)
	}
	if code := run([]string{"analyze", "--edition", "home", cut}); code != exitDamaged {
		t.Errorf("exit status = %d; want %d", code, exitDamaged)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"analyze"},
		{"analyze", "--edition", "server", sample},
		{"analyze", "--vm", "fe80::1", sample},
		{"analyze", "--format", "xml", sample},
		{"analyze", "--build", "95", sample},
		{"analyze", "--no-such-flag", sample},
	} {
		if code := run(args); code != exitUsage {
			t.Errorf("phonehome %s: exit status %d; want %d", strings.Join(args, " "), code, exitUsage)
		}
	}
	if code := run([]string{"analyze", "no-such-file.pcap"}); code != exitFailure {
		t.Errorf("phonehome analyze no-such-file.pcap: exit status %d; want %d", code, exitFailure)
	}
}

// TestUnknownCommand: a command or help topic that does not exist is a usage
// error (exit 2) whose message names the commands there are; phonehome and
// help alone still print the help and succeed.
func TestUnknownCommand(t *testing.T) {
	for _, tt := range []struct {
		name   string
		args   []string
		stderr []string
	}{
		{"unknown_command", []string{"bogus"},
			[]string{`phonehome: unknown command "bogus" for "phonehome"; its commands are analyze, capture, catalog, compare, completion, export, help, interfaces, merge, report, version`, "Run 'phonehome --help' for usage."}},
		{"misspelt_command", []string{"analyz", "x.pcap"},
			[]string{`unknown command "analyz" for "phonehome"; its commands are analyze, capture, catalog, compare, completion, export, help, interfaces, merge, report, version; did you mean "analyze"?`}},
		{"unknown_help_topic", []string{"help", "bogus"},
			[]string{`phonehome: help bogus: unknown command "bogus" for "phonehome"; its commands are analyze, capture, catalog, compare, completion, export, help, interfaces, merge, report, version`, "Run 'phonehome --help' for usage."}},
		{"help_topic_past_a_command", []string{"help", "analyze", "bogus"},
			[]string{`phonehome: help analyze bogus: unknown command "bogus" for "phonehome analyze", which has no commands`}},
		{"unknown_completion_shell", []string{"completion", "bogus"},
			[]string{`unknown command "bogus" for "phonehome completion"; its commands are bash, fish, powershell, zsh`, "Run 'phonehome completion --help' for usage."}},
		{"unknown_root_flag", []string{"--bogus"}, []string{"phonehome: unknown flag: --bogus\nRun 'phonehome --help' for usage.\n"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCaptured(t, tt.args...)
			if code != exitUsage {
				t.Errorf("phonehome %s: exit status %d; want %d", strings.Join(tt.args, " "), code, exitUsage)
			}
			if stdout != "" {
				t.Errorf("phonehome %s: stdout %q; want nothing", strings.Join(tt.args, " "), stdout)
			}
			for _, want := range tt.stderr {
				if !strings.Contains(stderr, want) {
					t.Errorf("phonehome %s: stderr %q; want it to contain %q", strings.Join(tt.args, " "), stderr, want)
				}
			}
		})
	}
	for _, args := range [][]string{{}, {"help"}, {"help", "analyze"}, {"analyze", "--help"}, {"completion"}} {
		code, stdout, stderr := runCaptured(t, args...)
		if code != exitOK || !strings.Contains(stdout, "Usage:") || stderr != "" {
			t.Errorf("phonehome %s: exit status %d, stdout %.40q, stderr %q; want %d, the help, nothing", strings.Join(args, " "), code, stdout, stderr, exitOK)
		}
	}
}

// TestEditionWithoutPage: 21H2 has an Enterprise page only. Asking for Home
// alone is a usage error that says so; asking for all reports Enterprise and
// says, on stderr and in the report, that the others have no page.
func TestEditionWithoutPage(t *testing.T) {
	var out, errOut bytes.Buffer
	err := analyze(&out, &errOut, []string{sample}, analyzeOptions{reportOptions: reportOptions{editions: "home", build: "21H2", format: "text"}})
	var u usageError
	if !errors.As(err, &u) {
		t.Fatalf("analyze --build 21H2 --edition home = %v; want a usage error", err)
	}
	if want := "--edition home: Windows 10 21H2 has no page for home; it has pages for enterprise"; !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q; want it to contain %q", err, want)
	}
	if out.Len() != 0 {
		t.Errorf("a report was written:\n%s", out.String())
	}
	code, stdout, stderr := runCaptured(t, "analyze", "--build", "21H2", "--edition", "home,pro", sample)
	if code != exitUsage || stdout != "" || !strings.Contains(stderr, "Windows 10 21H2 has no page for home, pro") {
		t.Errorf("phonehome analyze --build 21H2 --edition home,pro: exit status %d, stdout %q, stderr %q; want %d, nothing, the editions without a page",
			code, stdout, stderr, exitUsage)
	}

	for _, format := range []string{"text", "json", "csv", "markdown", "html"} {
		t.Run(format, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := analyze(&out, &errOut, []string{sample}, analyzeOptions{reportOptions: reportOptions{editions: "all", build: "21H2", format: format}})
			if err != nil {
				t.Fatalf("analyze --build 21H2 --edition all = %v; want success", err)
			}
			if want := "phonehome: Windows 10 21H2 has no page for home, pro, education: reporting enterprise only\n"; errOut.String() != want {
				t.Errorf("stderr = %q; want %q", errOut.String(), want)
			}
			want := map[string]string{
				"text":     "  no page  Windows 10 21H2 has no page for Home, Pro, Education: not reported\n",
				"json":     `"editions_without_page": [`,
				"csv":      `"education","no_page",`,
				"markdown": "- no page: Windows 10 21H2 has no page for Home, Pro, Education: not reported\n",
				"html":     "<dd>Windows 10 21H2 has no page for Home, Pro, Education: not reported</dd>",
			}[format]
			if !strings.Contains(out.String(), want) {
				t.Errorf("%s report does not say which editions have no page: want %q", format, want)
			}
			if strings.Contains(strings.ToLower(out.String()), "== home") {
				t.Errorf("%s report has a section for Home", format)
			}
		})
	}
	if code, _, _ := runCaptured(t, "analyze", "--build", "21H2", "--edition", "all", sample); code != exitOK {
		t.Errorf("phonehome analyze --build 21H2 --edition all: exit status %d; want %d", code, exitOK)
	}
}

// runCaptured runs the command line as main does, with os.Stdout and
// os.Stderr sent to files, and returns the exit status and what was written.
func runCaptured(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	dir := t.TempDir()
	outFile, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	errFile, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = outFile, errFile
	code = run(args)
	os.Stdout, os.Stderr = oldOut, oldErr
	outFile.Close()
	errFile.Close()
	o, _ := os.ReadFile(outFile.Name())
	e, _ := os.ReadFile(errFile.Name())
	return code, string(o), string(e)
}

func TestProgressLine(t *testing.T) {
	got := progressLine(250e6, 1e9, 450_000, time.Second)
	want := "phonehome: 250 MB of 1.0 GB (25%), 450,000 packets, 450 k packets/s, 3s left"
	if got != want {
		t.Errorf("progressLine = %q; want %q", got, want)
	}
	// Only streams: their length is not known, so no bytes of a total.
	got = progressLine(0, 0, 450_000, time.Second)
	want = "phonehome: 450,000 packets, 450 k packets/s, reading a stream"
	if got != want {
		t.Errorf("progressLine(streams only) = %q; want %q", got, want)
	}
	// Not a terminal: nothing is drawn.
	var b bytes.Buffer
	p := newProgress(&b, false)
	p.update(1, 2, 3)
	p.done()
	if b.Len() != 0 {
		t.Errorf("progress wrote %q to a non-terminal", b.String())
	}
}

// TestNothingInScopeExitStatus runs the captures of testdata/nothing (cut
// from the sample by real tools, see testdata/README.md) and the sample with
// a --vm that starts no flow: each finishes with exit status 4, a warning on
// stderr that says why, and the same warning at the top of the report; 3
// (damage) wins over 4.
func TestNothingInScopeExitStatus(t *testing.T) {
	const head = "nothing in scope: no IPv4 flow started by the VM towards a public address: "
	dir := filepath.Join("testdata", "nothing")
	for _, tt := range []struct {
		name string
		args []string
		why  string
	}{
		{"ipv6_only", []string{filepath.Join(dir, "ipv6-only.pcap")},
			"no local address started an IPv4 flow; the 30 packets read were excluded as ipv6 (30)"},
		{"arp_only", []string{filepath.Join(dir, "arp-only.pcap")},
			"no local address started an IPv4 flow; the 2 packets read were excluded as non-ip (2)"},
		{"no_packets", []string{filepath.Join(dir, "no-packets.pcap")}, "the input holds no packets"},
		{"empty_file", []string{filepath.Join(dir, "empty.pcap")}, ""}, // damaged today, or empty: see below
		{"unsupported_link_type", []string{filepath.Join(dir, "unsupported-link-type.pcap")},
			"none of the 20 frames read could be decoded, being of link types phonehome cannot read: LINKTYPE 220 (20 frames)"},
		{"vm_starts_no_flow", []string{"--vm", "192.168.56.99", sample},
			"192.168.56.99, given with --vm, started no flow; the local address that started the most is 192.168.56.10 (95 flows): try --vm 192.168.56.10"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCaptured(t, append([]string{"analyze", "--edition", "home", "--format", "json"}, tt.args...)...)
			var rep struct {
				NothingInScope string `json:"nothing_in_scope"`
				Damage         []any  `json:"damage"`
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("report: %v\n%s", err, stdout)
			}
			if !strings.HasPrefix(rep.NothingInScope, head+tt.why) {
				t.Errorf("nothing_in_scope = %q; want it to start %q", rep.NothingInScope, head+tt.why)
			}
			// An empty file is reported as damage until capture says
			// "empty" instead: exit status 3 wins over 4 then.
			want, status := exitNothing, " (exit status 4)\n"
			if len(rep.Damage) > 0 {
				want, status = exitDamaged, "\n"
			}
			if code != want {
				t.Errorf("exit status %d; want %d", code, want)
			}
			if line := "phonehome: warning: " + rep.NothingInScope + status; rep.NothingInScope == "" || !strings.Contains(stderr, line) {
				t.Errorf("stderr = %q; want the line %q", stderr, line)
			}
			code, stdout, _ = runCaptured(t, append([]string{"analyze", "--edition", "home"}, tt.args...)...)
			if lines := strings.SplitN(stdout, "\n", 3); code != want || len(lines) < 2 || lines[1] != "  WARNING  "+rep.NothingInScope {
				t.Errorf("text report, exit status %d, starts %q; want %d and the warning on the second line", code, lines[:min(2, len(lines))], want)
			}
		})
	}
	// The sample has flows in scope: no warning, exit status 0.
	if code, _, stderr := runCaptured(t, "analyze", "--edition", "home", sample); code != exitOK || strings.Contains(stderr, "nothing in scope") {
		t.Errorf("sample: exit status %d, stderr %q; want %d and no warning", code, stderr, exitOK)
	}
}

// TestStderrEscapesNames: a file name from the command line, and what a
// capture holds, reach stderr escaped as the report escapes them
// (reports.Terminal), in every message that names them: a missing file, a
// file that is no capture, a damaged one, a --flows file that cannot be
// made, an unknown command or help topic.
func TestStderrEscapesNames(t *testing.T) {
	dir := t.TempDir()
	hostile := "x\x1b]0;title\x07\u202e.pcap"
	escaped := `x\x1b]0;title\x07\u202e.pcap`
	notCapture := filepath.Join(dir, "not-"+hostile)
	if err := os.WriteFile(notCapture, []byte("abcd"), 0o644); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	damaged := filepath.Join(dir, "cut-"+hostile)
	if err := os.WriteFile(damaged, raw[:len(raw)/2+7], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"missing_file", []string{"analyze", filepath.Join(dir, hostile)}, filepath.Join(dir, escaped) + ": cannot open"},
		{"not_a_capture", []string{"analyze", notCapture}, filepath.Join(dir, "not-"+escaped) + ": not a pcap"},
		{"damaged", []string{"analyze", "--format", "json", damaged}, filepath.Join(dir, "cut-"+escaped) + " stopped at byte "},
		{"flows_file", []string{"analyze", "--flows", filepath.Join(dir, "no-such-dir", hostile), sample}, "--flows: open " + filepath.Join(dir, "no-such-dir", escaped)},
		{"unknown_command", []string{hostile}, `unknown command "x\\x1b]0;title\\a\\u202e.pcap"`},
		{"help_topic", []string{"help", hostile}, `help "x\\x1b]0;title\\a\\u202e.pcap": unknown command`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, stderr := runCaptured(t, tt.args...)
			for _, bad := range []string{"\x1b", "\x07", "\u202e"} {
				if strings.Contains(stderr, bad) {
					t.Errorf("stderr holds %q raw: %q", bad, stderr)
				}
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr = %q; want it to contain %q", stderr, tt.want)
			}
		})
	}
}

// TestNoDoubleSpaceInUsage: no message of the command line holds a double
// space ("phonehome  --help", "help  :": an empty command name or argument),
// nor does a help text in its usage lines; an argument check of cobra's
// fails as a usage error.
func TestNoDoubleSpaceInUsage(t *testing.T) {
	words := []string{"", "help", "analyze", "completion", "bash", "version", "--bogus", "-h", "x", " ", "--version"}
	for _, a := range words {
		for _, b := range words {
			for _, c := range []string{"", "x", "--bogus", ""} {
				var args []string
				for _, w := range []string{a, b, c} {
					if w != "" {
						args = append(args, w)
					}
				}
				if a == "" && b == "" {
					args = append(args, "") // an empty argument, as the shell passes ''
				}
				if a == "analyze" && (b == " " || c == " ") {
					continue // a file named " ": the message names it as it is
				}
				_, stdout, stderr := runCaptured(t, args...)
				// Messages (stderr) hold no double space; help texts say
				// no "phonehome  " (the bash script pads a comment).
				if strings.Contains(stderr, "  ") || strings.Contains(stdout, "phonehome  --help") || strings.Contains(stdout, "phonehome  [") {
					t.Errorf("phonehome %q: output holds a double space:\n%s%s", args, stderr, stdout)
				}
			}
		}
	}
	if code, _, stderr := runCaptured(t, "completion", "bash", "x"); code != exitUsage || !strings.Contains(stderr, "Run 'phonehome completion bash --help' for usage.") {
		t.Errorf("phonehome completion bash x: exit status %d, stderr %q; want %d and where the usage is", code, stderr, exitUsage)
	}
	if code, _, stderr := runCaptured(t, "help", " ", "x"); code != exitUsage || !strings.Contains(stderr, `phonehome: help " " x: unknown command " "`) {
		t.Errorf("phonehome help ' ' x: exit status %d, stderr %q; want %d and the topic quoted", code, stderr, exitUsage)
	}
}
