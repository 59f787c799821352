package capture

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// samplePackets reads the first n packets of the sample, from which the
// compressed fixtures were made (testdata/compressed/gen.sh).
func samplePackets(t *testing.T, n int) []got {
	t.Helper()
	pkts, dmg, _ := readFiles(t, Options{}, filepath.Join("..", "testdata", "sample", "idle-1909.pcapng"))
	if len(dmg) != 0 || len(pkts) < n {
		t.Fatalf("sample: %d packets, damage %v", len(pkts), dmg)
	}
	return pkts[:n]
}

// TestCompressedFixtures reads captures compressed by the real tools: each
// must give the sample's first 40 packets, told by content, not by name.
func TestCompressedFixtures(t *testing.T) {
	want := samplePackets(t, 40)
	tests := []struct {
		file, compression string
	}{
		{"part.pcapng.gz", "gzip"},
		{"part.pcapng.zst", "zstd"},
		{"part.pcapng.xz", "xz"},
		{"part.pcapng.bz2", "bzip2"},
		{"part.pcapng.lz4", "lz4"},
		{"part-legacy.pcapng.lz4", "lz4"},
		{"part-blocks-sha256.pcapng.xz", "xz"},
		{"part-two-members.pcapng.gz", "gzip"},
		{"part-two-frames.pcapng.zst", "zstd"},
		{"part-two-streams.pcapng.xz", "xz"},
		{"part-two-streams.pcapng.bz2", "bzip2"},
		{"part-two-frames.pcapng.lz4", "lz4"},
	}
	for _, tt := range tests {
		t.Run(strings.NewReplacer(".", "_", "-", "_").Replace(tt.file), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "compressed", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			path := writeFile(t, t.TempDir(), "capture", data) // no extension
			pkts, dmg, st := readFiles(t, Options{}, path)
			if len(dmg) != 0 {
				t.Errorf("Damage() = %+v; want none", dmg)
			}
			if len(pkts) != len(want) {
				t.Fatalf("read %d packets; want %d", len(pkts), len(want))
			}
			for i := range want {
				if pkts[i] != want[i] {
					t.Errorf("packet %d = %+v; want %+v", i, pkts[i], want[i])
				}
			}
			if in := st.Inputs[0]; in.Compression != tt.compression || in.Format != "pcapng" || in.Frames != 40 || in.Bytes != int64(len(data)) {
				t.Errorf("Stats().Inputs[0] = %+v; want %s, pcapng, 40 frames, %d bytes", in, tt.compression, len(data))
			}
		})
	}
}

// TestCompressedDamage: a compressed capture cut short, or one whose decoder
// would need more memory than allowed, is damage: every packet before it is
// read, and the offset is one in the decompressed stream.
func TestCompressedDamage(t *testing.T) {
	tests := []struct {
		file    string
		kind    DamageKind
		packets int
		reason  string
	}{
		{"cut-part.pcapng.gz", DamageStopped, -1, "truncated pcapng block at decompressed offset "},
		{"cut-part-two-frames.pcapng.zst", DamageStopped, -1, "truncated pcapng block at decompressed offset "},
		{"cut-part-blocks-sha256.pcapng.xz", DamageStopped, -1, "truncated pcapng block at decompressed offset "},
		{"cut-part-two-streams.pcapng.bz2", DamageStopped, -1, "truncated pcapng block at decompressed offset "},
		{"cut-part-two-frames.pcapng.lz4", DamageStopped, -1, "truncated pcapng block at decompressed offset "},
		{"window-1gib.pcapng.zst", DamageUnreadable, 0, "a zstd frame that needs a window of 1024 MiB, over the 128 MiB limit"},
		{"dict-128mib.pcapng.xz", DamageUnreadable, 0, "an xz block that needs a dictionary of 128 MiB, over the 64 MiB limit"},
	}
	for _, tt := range tests {
		t.Run(strings.NewReplacer(".", "_", "-", "_").Replace(tt.file), func(t *testing.T) {
			path := filepath.Join("testdata", "compressed", tt.file)
			var dmg []Damage
			var pkts []got
			if tt.kind == DamageUnreadable {
				// Alone, it fails OpenFiles; beside another input, it is damage.
				_, err := OpenFiles([]string{path}, Options{})
				if err == nil || !strings.Contains(err.Error(), tt.reason) || !strings.Contains(err.Error(), path) {
					t.Errorf("OpenFiles(%s) error = %v; want one naming it and saying %q", path, err, tt.reason)
				}
				pkts, dmg, _ = readFiles(t, Options{}, path, filepath.Join("testdata", "compressed", "part.pcapng.zst"))
				pkts = pkts[:0]
			} else {
				pkts, dmg, _ = readFiles(t, Options{}, path)
			}
			if len(dmg) != 1 || dmg[0].Kind != tt.kind || !strings.Contains(dmg[0].Reason, tt.reason) || strings.Contains(dmg[0].Reason, "not a pcap") {
				t.Fatalf("Damage() = %+v; want one %v saying %q", dmg, tt.kind, tt.reason)
			}
			d := dmg[0]
			if tt.kind == DamageStopped {
				// The packets before the cut, all of them.
				want := samplePackets(t, 40)
				if len(pkts) == 0 || len(pkts) >= 40 {
					t.Fatalf("read %d packets; want some of the 40", len(pkts))
				}
				for i := range pkts {
					if pkts[i] != want[i] {
						t.Errorf("packet %d = %+v; want %+v", i, pkts[i], want[i])
					}
				}
				last := pkts[len(pkts)-1]
				if !d.Decompressed || d.Offset <= last.off || !strings.Contains(d.Reason, "decompressed offset "+itoa(d.Offset)) {
					t.Errorf("Damage() = %+v; want an offset in the decompressed stream after %d", d, last.off)
				}
			}
		})
	}
}
