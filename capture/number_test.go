package capture

import (
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// numbered is what a reader said of one frame: its lengths, to be held
// against tshark's frame of the same number.
type numbered struct{ wire, capLen int }

// readNumbered reads paths as one FileSet and returns, per input name, the
// frames it delivered by Packet.Number, failing when an input's numbers
// are not 1, 2, 3... with the duplicates' numbers left out.
func readNumbered(t *testing.T, paths []string) (map[string]map[int64]numbered, Stats) {
	t.Helper()
	s, err := OpenFiles(paths, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := map[string]map[int64]numbered{}
	last := map[int]int64{}
	var p Packet
	for {
		err := s.Next(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Reassembled > 0 {
			continue // not a frame; it has the completing fragment's number
		}
		if p.Number <= last[p.Input] {
			t.Fatalf("input %d: frame %d after frame %d; want numbers rising", p.Input, p.Number, last[p.Input])
		}
		last[p.Input] = p.Number
		name := s.InputName(p.Input)
		if got[name] == nil {
			got[name] = map[int64]numbered{}
		}
		got[name][p.Number] = numbered{p.WireLen, p.CapLen}
	}
	st := s.Stats()
	for i, in := range st.Inputs {
		if n := int64(in.Frames + in.Duplicates); last[i] > n {
			t.Errorf("%s: frame number %d; want at most %d (frames %d + duplicates %d)", in.Name, last[i], n, in.Frames, in.Duplicates)
		}
	}
	return got, st
}

// tsharkFrames returns tshark's frame.len and frame.cap_len of every frame
// of path, by frame.number.
func tsharkFrames(t *testing.T, tshark, path string) map[int64]numbered {
	t.Helper()
	out, err := exec.Command(tshark, "-n", "-r", path, "-T", "fields", "-e", "frame.number", "-e", "frame.len", "-e", "frame.cap_len").Output()
	if err != nil {
		t.Fatalf("tshark -r %s: %v", path, err)
	}
	m := map[int64]numbered{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("tshark -r %s: line %q; want 3 fields", path, line)
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		w, _ := strconv.Atoi(f[1])
		c, _ := strconv.Atoi(f[2])
		m[n] = numbered{w, c}
	}
	return m
}

// TestFrameNumbersAreTsharks reads the fixtures and the sample's four
// pieces as one set of inputs merged by time, the whole sample given twice
// (so every frame of the second copy is a duplicate, dropped with its
// number), and holds each frame's number against tshark's frame of that
// number in that file: the same lengths, and every frame tshark numbers
// delivered or dropped as a duplicate.
func TestFrameNumbersAreTsharks(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: tshark reads 20 files (10 s)")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not found: frame numbers not held against Wireshark's (TestFrameNumbersOfPieces still checks the numbering)")
	}
	paths, _ := filepath.Glob("../testdata/fixtures/*.pcap*")
	pieces, _ := filepath.Glob("../testdata/sample/pieces/*.pcapng")
	paths = append(paths, pieces...)
	paths = append(paths, "../testdata/sample/idle-1909.pcapng", "../testdata/sample/idle-1909.pcapng")
	got, st := readNumbered(t, paths)
	if st.Duplicates == 0 {
		t.Fatalf("Duplicates = 0; want the second copy of the sample dropped")
	}
	for _, in := range st.Inputs {
		if in.Frames == 0 {
			continue
		}
		want := tsharkFrames(t, tshark, in.Name)
		if len(got[in.Name]) != in.Frames {
			t.Errorf("%s: %d numbers for %d frames", in.Name, len(got[in.Name]), in.Frames)
		}
		if in.Frames+in.Duplicates != len(want) {
			t.Errorf("%s: %d frames and %d duplicates; tshark numbers %d", in.Name, in.Frames, in.Duplicates, len(want))
		}
		for n, g := range got[in.Name] {
			if w, ok := want[n]; !ok || g != w {
				t.Errorf("%s frame %d: wire %d, captured %d; tshark's frame %d: %d, %d", in.Name, n, g.wire, g.capLen, n, w.wire, w.capLen)
			}
		}
	}
}

// TestFrameNumbersOfPieces reads the sample's four pieces as one capture
// and checks each input is numbered from 1 on its own, without tshark: the
// frame counts are those the pieces' README gives by their sizes.
func TestFrameNumbersOfPieces(t *testing.T) {
	pieces, _ := filepath.Glob("../testdata/sample/pieces/*.pcapng")
	if len(pieces) < 2 {
		t.Fatalf("pieces: %v; want the sample's four", pieces)
	}
	got, st := readNumbered(t, pieces)
	for _, in := range st.Inputs {
		nums := got[in.Name]
		for n := int64(1); n <= int64(in.Frames); n++ {
			if _, ok := nums[n]; !ok {
				t.Errorf("%s: no frame %d of %d", in.Name, n, in.Frames)
			}
		}
	}
}
