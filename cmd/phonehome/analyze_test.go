package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
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
	if err := analyze(&out, &errOut, files, opt); err != nil {
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

// TestSampleGolden compares the text and JSON reports of the sample with the
// golden files; refresh them with go test ./cmd/phonehome -update.
func TestSampleGolden(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			got, _ := analyzeFile(t, analyzeOptions{format: format}, sample)
			golden := filepath.Join("testdata", "sample."+map[string]string{"text": "txt", "json": "json"}[format])
			// The report names the file as given; keep the golden files
			// independent of where the test runs from.
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
				t.Errorf("%s report differs from %s; if the change is intended, run go test ./cmd/phonehome -update and review the diff\n%s",
					format, golden, firstDiff(string(want), got))
			}
		})
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
