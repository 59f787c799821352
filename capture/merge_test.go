package capture

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// splitPaths are the sample split by tcpdump filters (testdata/split/gen.sh).
var splitPaths = []string{filepath.Join("testdata", "split", "dns.pcap"), filepath.Join("testdata", "split", "rest.pcap.zst")}

// mergecapOrder returns what mergecap makes of the split inputs, from the
// order it took their frames in (testdata/split/mergecap-order.txt: the
// input of each merged frame).
func mergecapOrder(t *testing.T) []got {
	t.Helper()
	var parts [2][]got
	for i, path := range splitPaths {
		pkts, dmg, _ := readFiles(t, Options{}, path)
		if len(dmg) != 0 {
			t.Fatalf("%s: damage %v", path, dmg)
		}
		parts[i] = pkts
	}
	b, err := os.ReadFile(filepath.Join("testdata", "split", "mergecap-order.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var want []got
	for _, line := range strings.Fields(string(b)) {
		i := int(line[0] - '0')
		if len(parts[i]) == 0 {
			t.Fatalf("mergecap-order.txt takes more frames from input %d than it has", i)
		}
		want, parts[i] = append(want, parts[i][0]), parts[i][1:]
	}
	if len(parts[0])+len(parts[1]) != 0 {
		t.Fatalf("mergecap-order.txt leaves frames out")
	}
	return want
}

// TestMergeAsMergecap: a DNS-only capture beside a capture of the rest (the
// sample split by tcpdump filters) reads as mergecap merges them: the same
// frames in the same order. They were read one after the other before, and
// DNS answers then came after the flows they name. Given the other way
// round, or DNS from a stream, the result is the same.
func TestMergeAsMergecap(t *testing.T) {
	want := mergecapOrder(t)
	sample := samplePackets(t, len(want))
	for i := range want {
		// The sample has no two frames of one time: the merge restores it.
		if want[i].frame != sample[i].frame || !want[i].ts.Equal(sample[i].ts) {
			t.Fatalf("mergecap's frame %d differs from the sample's", i)
		}
	}
	check := func(t *testing.T, paths ...string) {
		t.Helper()
		pkts, dmg, st := readFiles(t, Options{}, paths...)
		if len(dmg) != 0 || st.Duplicates != 0 || st.Frames != len(want) {
			t.Errorf("damage %v, %d duplicates, %d frames; want none, 0, %d", dmg, st.Duplicates, st.Frames, len(want))
		}
		if len(pkts) != len(want) {
			t.Fatalf("read %d packets; want %d", len(pkts), len(want))
		}
		for i := range want {
			if pkts[i] != want[i] {
				t.Fatalf("packet %d = %v %d bytes at offset %d; mergecap has %v %d bytes at offset %d",
					i, pkts[i].ts, pkts[i].cap, pkts[i].off, want[i].ts, want[i].cap, want[i].off)
			}
		}
	}
	t.Run("dns_then_rest", func(t *testing.T) { check(t, splitPaths...) })
	t.Run("rest_then_dns", func(t *testing.T) { check(t, splitPaths[1], splitPaths[0]) })
	t.Run("dns_from_standard_input", func(t *testing.T) {
		stdinFrom(t, splitPaths[0])
		check(t, splitPaths[1], "-")
	})
}

// TestMergeOrder: packets come out by timestamp across inputs; of equal
// timestamps the earlier input's first; an input's packets in its own
// order even where its clock steps back; an input whose first packet is
// later is opened only when the merge reaches it.
func TestMergeOrder(t *testing.T) {
	dir := t.TempDir()
	frame := func(tag string) []byte { return ipv4UDP(t, tag) }
	s := time.Second
	mk := func(name string, recs ...rec) string {
		return writeFile(t, dir, name, buildPcap(pcapSpec{snap: 65535, linkType: uint32(LinkTypeRaw)}, recs...))
	}
	a := mk("a.pcap", rec{ts: t0, data: frame("a0")}, rec{ts: t0.Add(2 * s), data: frame("a2")}, rec{ts: t0.Add(4 * s), data: frame("a4")},
		rec{ts: t0.Add(1 * s), data: frame("a1-clock-step")}, rec{ts: t0.Add(6 * s), data: frame("a6")})
	b := mk("b.pcap", rec{ts: t0.Add(1 * s), data: frame("b1")}, rec{ts: t0.Add(2 * s), data: frame("b2")}, rec{ts: t0.Add(5 * s), data: frame("b5")})
	c := mk("c.pcap", rec{ts: t0.Add(2 * s), data: frame("c2")}, rec{ts: t0.Add(7 * s), data: frame("c7")})
	late := mk("late.pcap", rec{ts: t0.Add(10 * s), data: frame("l10")})
	n := len(frame(""))
	tags := func(pkts []got) []string {
		var out []string
		for _, p := range pkts {
			out = append(out, p.frame[n:])
		}
		return out
	}
	pkts, _, _ := readFiles(t, Options{}, late, c, b, a)
	// At 2 s: c (input 1), then b (2), then a (3).
	want := []string{"a0", "b1", "c2", "b2", "a2", "a4", "a1-clock-step", "b5", "a6", "c7", "l10"}
	if got := tags(pkts); !slices.Equal(got, want) {
		t.Errorf("order = %v; want %v", got, want)
	}
	pkts, _, _ = readFiles(t, Options{}, a, b, c, late)
	want = []string{"a0", "b1", "a2", "b2", "c2", "a4", "a1-clock-step", "b5", "a6", "c7", "l10"}
	if got := tags(pkts); !slices.Equal(got, want) {
		t.Errorf("order = %v; want %v", got, want)
	}
}

// TestMergeOpensFilesWhenDue: a rotated set of files that do not overlap
// holds one file open at a time.
func TestMergeOpensFilesWhenDue(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i := range 5 {
		ts := t0.Add(time.Duration(i) * time.Hour)
		paths = append(paths, writeFile(t, dir, "rot"+itoa(int64(i))+".pcap", buildPcap(pcapSpec{snap: 65535, linkType: uint32(LinkTypeRaw)},
			rec{ts: ts, data: ipv4UDP(t, "x")}, rec{ts: ts.Add(time.Minute), data: ipv4UDP(t, "y")})))
	}
	slices.Reverse(paths)
	s, err := OpenFiles(paths, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var p Packet
	most, frames := 0, 0
	for s.Next(&p) == nil {
		most = max(most, len(s.open))
		frames++
	}
	if most != 1 || frames != 10 {
		t.Errorf("read %d frames with up to %d files open; want 10 with 1", frames, most)
	}
}

// TestDuplicates: packets given twice (the same file twice, rotated files
// that overlap) are delivered once and counted; packets repeated within one
// input are kept.
func TestDuplicates(t *testing.T) {
	dir := t.TempDir()
	s := time.Second
	f := func(tag string) []byte { return ipv4UDP(t, tag) }
	recs := []rec{{ts: t0, data: f("a")}, {ts: t0.Add(s), data: f("b")}, {ts: t0.Add(s), data: f("b")}, {ts: t0.Add(2 * s), data: f("c")}, {ts: t0.Add(3 * s), data: f("d")}}
	whole := writeFile(t, dir, "whole.pcap", buildPcap(pcapSpec{snap: 65535, linkType: uint32(LinkTypeRaw)}, recs...))
	// Rotations that overlap by two packets, one of them in pcapng.
	first := writeFile(t, dir, "first.pcap", buildPcap(pcapSpec{snap: 65535, linkType: uint32(LinkTypeRaw)}, recs[:4]...))
	ng := newNg(binary.LittleEndian)
	ng.shb(1, 0)
	ng.idb(LinkTypeRaw, 0)
	for _, r := range recs[2:] {
		ng.epb(0, uint64(r.ts.UnixMicro()), r.data)
	}
	second := writeFile(t, dir, "second.pcapng", ng.buf)
	// The same times, other bytes: not duplicates.
	other := writeFile(t, dir, "other.pcap", buildPcap(pcapSpec{snap: 65535, linkType: uint32(LinkTypeRaw)}, rec{ts: t0, data: f("A")}, rec{ts: t0.Add(s), data: f("B")}))
	// The same bytes, another link type's frame: not a duplicate.
	eth := writeFile(t, dir, "eth.pcap", buildPcap(pcapSpec{snap: 65535, linkType: uint32(LinkTypeEthernet)}, rec{ts: t0, data: f("a")}))

	n := len(f(""))
	tests := []struct {
		name  string
		paths []string
		tags  string
		dups  []int // per input
	}{
		{"one_file_repeats_kept", []string{whole}, "a b b c d", []int{0}},
		{"same_file_twice", []string{whole, whole}, "a b b c d", []int{0, 5}},
		{"same_file_three_times", []string{whole, whole, whole}, "a b b c d", []int{0, 5, 5}},
		{"rotations_overlap", []string{second, first}, "a b b c d", []int{0, 2}},
		{"same_times_other_bytes", []string{whole, other}, "a A b b B c d", []int{0, 0}},
		{"other_link_type", []string{whole, eth}, "a a b b c d", []int{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pkts, _, st := readFiles(t, Options{}, tt.paths...)
			var tags []string
			for _, p := range pkts {
				tags = append(tags, p.frame[n:])
			}
			if got := strings.Join(tags, " "); got != tt.tags {
				t.Errorf("packets = %s; want %s", got, tt.tags)
			}
			total := 0
			for i, d := range tt.dups {
				total += d
				if st.Inputs[i].Duplicates != d {
					t.Errorf("Stats().Inputs[%d].Duplicates = %d; want %d", i, st.Inputs[i].Duplicates, d)
				}
			}
			if st.Duplicates != total || st.Frames != len(pkts) {
				t.Errorf("Stats() = %d duplicates, %d frames; want %d, %d", st.Duplicates, st.Frames, total, len(pkts))
			}
		})
	}
}
