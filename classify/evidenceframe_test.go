package classify

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var updateEvidence = flag.Bool("update-evidence", false, "rewrite classify/testdata/evidence-frames.golden")

// evidenceCases are the captures whose evidence frames are held against the
// golden and tshark: the sample, the sample in its four pieces (read as one
// capture: numbered per piece), and the fixtures that name something.
var evidenceCases = []struct {
	name  string
	paths []string
}{
	{"sample", []string{"../testdata/sample/idle-1909.pcapng"}},
	{"sample_pieces", []string{"../testdata/sample/pieces/idle-1909-1.pcapng", "../testdata/sample/pieces/idle-1909-2.pcapng",
		"../testdata/sample/pieces/idle-1909-3.pcapng", "../testdata/sample/pieces/idle-1909-4.pcapng"}},
	{"tls_go_two_segments", []string{"../testdata/fixtures/tls-go-mlkem-two-segments.pcap"}},
	{"tls_out_of_order", []string{"../testdata/fixtures/tls-out-of-order.pcap"}},
	{"tls_retransmitted", []string{"../testdata/fixtures/tls-retransmitted.pcap"}},
	{"http_keepalive", []string{"../testdata/fixtures/http-keepalive-three-requests.pcap"}},
}

// evidenceLines are the first evidence of every name and set of names of
// runs, one line each, "case kind name file frame", sorted.
func evidenceLines(t *testing.T) []string {
	var lines []string
	for _, c := range evidenceCases {
		run := classifyFiles(t, c.paths...)
		for _, k := range slices.Sorted(maps.Keys(run.Names)) {
			e := run.Names[k].FirstEvidence
			lines = append(lines, fmt.Sprintf("%s %s %s %s %d", c.name, e.Kind, k, filepath.Base(e.File), e.Frame))
		}
		for _, a := range run.Ambiguous {
			e := a.FirstEvidence
			lines = append(lines, fmt.Sprintf("%s %s %s %s %d", c.name, e.Kind, strings.Join(a.Names, ","), filepath.Base(e.File), e.Frame))
		}
	}
	slices.Sort(lines)
	return lines
}

// TestEvidenceFrames: the first evidence of each name is the frame the
// golden says (classify/testdata/evidence-frames.golden, rewritten with
// -update-evidence), and, where tshark is installed, each golden frame is
// the packet tshark reads that name from: the ClientHello's SNI (on its last
// segment, where tshark reassembles it), the request's Host, the DNS
// response's query name.
func TestEvidenceFrames(t *testing.T) {
	golden := filepath.Join("testdata", "evidence-frames.golden")
	got := strings.Join(evidenceLines(t), "\n") + "\n"
	if *updateEvidence {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (go test ./classify -run TestEvidenceFrames -update-evidence writes it)", err)
	}
	if got != string(want) {
		t.Errorf("evidence frames differ from %s:\n%s", golden, firstDiffLine(got, string(want)))
	}
	if testing.Short() {
		t.Skip("-short: the golden frames are not held against tshark's reading of them (6 s)")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not found: the golden frames are not held against tshark's reading of them")
	}
	paths := map[string]string{}
	for _, c := range evidenceCases {
		for _, p := range c.paths {
			paths[filepath.Base(p)] = p
		}
	}
	byFile := map[string][]string{} // file -> golden lines
	for _, line := range strings.Split(strings.TrimSpace(string(want)), "\n") {
		f := strings.Fields(line)
		byFile[f[3]] = append(byFile[f[3]], line)
	}
	for file, lines := range byFile {
		read := tsharkEvidence(t, tshark, paths[file])
		for _, line := range lines {
			f := strings.Fields(line)
			kind, name, frame := f[1], f[2], f[4]
			fields, ok := read[frame]
			if !ok {
				t.Errorf("%s: tshark reads no frame %s of %s", line, frame, file)
				continue
			}
			var saw string
			switch kind {
			case EvidenceSNI:
				saw = fields[0]
			case EvidenceHTTPHost:
				saw = fields[1]
			case EvidenceDNS:
				if fields[3] != "1" && fields[3] != "True" {
					t.Errorf("%s: frame %s of %s is no DNS response (dns.flags.response %q)", line, frame, file, fields[3])
				}
				saw = fields[2]
			case EvidenceDNSAmbiguous:
				saw = fields[2]
				if !slices.Contains(strings.Split(name, ","), strings.ToLower(saw)) {
					t.Errorf("%s: tshark reads %q from frame %s of %s; want one of the set", line, saw, frame, file)
				}
				continue
			}
			if !strings.EqualFold(saw, name) {
				t.Errorf("%s: tshark reads %q from frame %s of %s (%s); want %q", line, saw, frame, file, kind, name)
			}
		}
	}
}

// tsharkEvidence reads every frame of path with tshark (out-of-order
// segments reassembled): by frame number,
// its SNI, HTTP Host, DNS query name and DNS response flag.
func tsharkEvidence(t *testing.T, tshark, path string) map[string][4]string {
	t.Helper()
	// Reassembling out of order, as phonehome does (tshark's default is
	// not to: tls-out-of-order.pcap's ClientHello would name nothing).
	out, err := exec.Command(tshark, "-o", "tcp.reassemble_out_of_order:TRUE", "-n", "-r", path, "-T", "fields", "-E", "occurrence=f",
		"-e", "frame.number", "-e", "tls.handshake.extensions_server_name", "-e", "http.host",
		"-e", "dns.qry.name", "-e", "dns.flags.response").Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v", path, err)
	}
	m := map[string][4]string{}
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 5 {
			t.Fatalf("tshark -r %s: line %q; want 5 fields", path, line)
		}
		if _, err := strconv.Atoi(f[0]); err != nil {
			t.Fatalf("tshark -r %s: frame number %q", path, f[0])
		}
		m[f[0]] = [4]string{f[1], f[2], f[3], f[4]}
	}
	return m
}
