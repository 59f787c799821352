package classify

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/phonehome/phonehome/capture"
)

// classifyFiles analyses the inputs read as one capture.
func classifyFiles(t *testing.T, paths ...string) *Run {
	t.Helper()
	src, err := capture.OpenFiles(paths, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	run, err := Analyze(src, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Damage) != 0 {
		t.Fatalf("%v: damage %v", paths, run.Damage)
	}
	return run
}

// withoutFrames is run with the File and Frame of every FirstEvidence
// cleared (a run of the same packets from other files has others).
func withoutFrames(run *Run) *Run {
	c := *run
	c.Names = map[string]*NameStat{}
	for k, n := range run.Names {
		n := *n
		n.FirstEvidence.File, n.FirstEvidence.Frame = "", 0
		c.Names[k] = &n
	}
	c.Ambiguous = map[string]*AmbiguousStat{}
	for k, a := range run.Ambiguous {
		a := *a
		a.FirstEvidence.File, a.FirstEvidence.Frame = "", 0
		c.Ambiguous[k] = &a
	}
	return &c
}

// TestSplitCaptureAnalysedAsOne: a DNS-only capture beside a capture of the
// rest (the sample split by tcpdump filters, capture/testdata/split) is
// analysed as the capture they were split from, which is what mergecap
// makes of them (capture's TestMergeAsMergecap): the DNS answers come
// before the flows they name. Read one after the other, as before, they
// left 2 addresses unattributed where the sample has 1. The sample given
// twice is the sample: its duplicates are dropped, and Run.Duplicates
// counts them.
func TestSplitCaptureAnalysedAsOne(t *testing.T) {
	sample := filepath.Join("..", "testdata", "sample", "idle-1909.pcapng")
	split := filepath.Join("..", "capture", "testdata", "split")
	want := classifyFiles(t, sample)
	want.InputStats = nil // what was read of which file differs
	if len(want.Unattributed) != 1 {
		t.Fatalf("the sample has %d unattributed addresses; want 1 (testdata/sample/TRUTH.md)", len(want.Unattributed))
	}
	for _, tt := range []struct {
		name  string
		paths []string
		dups  uint64
	}{
		{"dns_and_rest", []string{filepath.Join(split, "dns.pcap"), filepath.Join(split, "rest.pcap.zst")}, 0},
		{"rest_and_dns", []string{filepath.Join(split, "rest.pcap.zst"), filepath.Join(split, "dns.pcap")}, 0},
		{"the_directory", []string{split}, 0},
		{"sample_twice", []string{sample, sample}, want.Packets},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := classifyFiles(t, tt.paths...)
			dups := got.Duplicates
			got.Duplicates, got.InputStats = 0, nil
			// Which file holds the evidence, and its frame number
			// there, differ: TestEvidenceFrames checks them.
			if !reflect.DeepEqual(withoutFrames(got), withoutFrames(want)) {
				t.Errorf("run of %v differs from the sample's: %d packets, %d names, %d unattributed; want %d, %d, %d",
					tt.paths, got.Packets, len(got.Names), len(got.Unattributed), want.Packets, len(want.Names), len(want.Unattributed))
			}
			if dups != tt.dups {
				t.Errorf("Run.Duplicates = %d; want %d", dups, tt.dups)
			}
		})
	}
}
