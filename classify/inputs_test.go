package classify

import (
	"io"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/phonehome/phonehome/capture"
)

// classifyFiles runs the classifier over the inputs read as one capture.
func classifyFiles(t *testing.T, paths ...string) (*Run, capture.Stats) {
	t.Helper()
	src, err := capture.OpenFiles(paths, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	c := New(Config{})
	var p capture.Packet
	for {
		err := src.Next(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		c.Add(&p)
	}
	if d := src.Damage(); len(d) != 0 {
		t.Fatalf("%v: damage %v", paths, d)
	}
	return c.Finish(), src.Stats()
}

// TestSplitCaptureAnalysedAsOne: a DNS-only capture beside a capture of the
// rest (the sample split by tcpdump filters, capture/testdata/split) is
// analysed as the capture they were split from, which is what mergecap
// makes of them (capture's TestMergeAsMergecap): the DNS answers come
// before the flows they name. Read one after the other, as before, they
// left 2 addresses unattributed where the sample has 1. The sample given
// twice is the sample: its duplicates are dropped.
func TestSplitCaptureAnalysedAsOne(t *testing.T) {
	sample := filepath.Join("..", "testdata", "sample", "idle-1909.pcapng")
	split := filepath.Join("..", "capture", "testdata", "split")
	want, _ := classifyFiles(t, sample)
	if len(want.Unattributed) != 1 {
		t.Fatalf("the sample has %d unattributed addresses; want 1 (testdata/sample/TRUTH.md)", len(want.Unattributed))
	}
	for _, tt := range []struct {
		name  string
		paths []string
		dups  int
	}{
		{"dns_and_rest", []string{filepath.Join(split, "dns.pcap"), filepath.Join(split, "rest.pcap.zst")}, 0},
		{"rest_and_dns", []string{filepath.Join(split, "rest.pcap.zst"), filepath.Join(split, "dns.pcap")}, 0},
		{"the_directory", []string{split}, 0},
		{"sample_twice", []string{sample, sample}, int(want.Packets)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, st := classifyFiles(t, tt.paths...)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("run of %v differs from the sample's: %d packets, %d names, %d unattributed; want %d, %d, %d",
					tt.paths, got.Packets, len(got.Names), len(got.Unattributed), want.Packets, len(want.Names), len(want.Unattributed))
			}
			if st.Duplicates != tt.dups {
				t.Errorf("Stats().Duplicates = %d; want %d", st.Duplicates, tt.dups)
			}
		})
	}
}
