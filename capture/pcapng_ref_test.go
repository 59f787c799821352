package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/pcapgo"

	"github.com/phonehome/phonehome/internal/testenv"
)

// TestPcapngAgainstPcapgo reads every undamaged pcapng file of the shared
// corpus and of testdata/ with our reader and with gopacket's pcapgo.NgReader,
// the reference, and requires the same packets: bytes, lengths, interfaces and
// timestamps. pcapgo converts 2^-n s units in whole steps of 1e9/2^n ns
// (rounded down), where ours is exact: timestamps may differ by less than
// that step. Simple packet blocks carry no timestamp: pcapgo gives none,
// ours the time of the packet before, so a zero time of pcapgo's is not held
// against ours.
func TestPcapngAgainstPcapgo(t *testing.T) {
	for _, src := range []struct {
		name     string
		patterns []string
		missing  string // what to do when nothing matches
	}{
		{"testdata", []string{"../testdata/sample/*.pcapng", "../testdata/fixtures/*.pcapng"},
			"the repository's sample is missing: restore testdata/ (git checkout testdata)"},
		{"shared_corpus", []string{"../../shared/corpus/dev/*.pcapng", "../../shared/corpus/dev/*.pcapng.gz"},
			"put the shared directory beside the repository"},
	} {
		t.Run(src.name, func(t *testing.T) {
			var paths []string
			for _, pattern := range src.patterns {
				m, _ := filepath.Glob(pattern)
				paths = append(paths, m...)
			}
			if len(paths) == 0 {
				testenv.SkipOrFail(t, "no pcapng files match %s: %s", strings.Join(src.patterns, " "), src.missing)
			}
			agreeWithPcapgo(t, paths)
		})
	}
}

// agreeWithPcapgo reads each pcapng file at paths with our reader and with
// pcapgo and requires the same packets, as TestPcapngAgainstPcapgo says.
func agreeWithPcapgo(t *testing.T, paths []string) {
	files, packets := 0, 0
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(path, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			if raw, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		want, ok := pcapgoPackets(raw)
		if !ok {
			continue // pcapgo refuses it or it is damaged: other tests cover those
		}
		got, dmg, _ := readFiles(t, Options{Defrag: DefragConfig{Off: true}}, writeFile(t, t.TempDir(), "x.pcapng", raw))
		if len(dmg) != 0 {
			t.Errorf("%s: damage %v; pcapgo reads it whole", path, dmg)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d packets; pcapgo %d", path, len(got), len(want))
			continue
		}
		for i := range got {
			g, w := got[i], want[i]
			d := g.ts.Sub(w.ts)
			if w.ts.IsZero() {
				d = 0
			}
			if g.frame != w.frame || g.cap != w.cap || g.wire != w.wire || g.iface != w.iface || d < 0 || d >= time.Microsecond {
				t.Errorf("%s: packet %d: %d/%d bytes, interface %d, %v; pcapgo %d/%d, %d, %v (or other bytes)",
					path, i, g.cap, g.wire, g.iface, g.ts, w.cap, w.wire, w.iface, w.ts)
				break
			}
		}
		files++
		packets += len(got)
	}
	t.Logf("%d pcapng files, %d packets: the same as pcapgo's", files, packets)
}

// pcapgoPackets reads a pcapng file with pcapgo; ok is false when pcapgo
// cannot read it to its end.
func pcapgoPackets(raw []byte) ([]got, bool) {
	r, err := pcapgo.NewNgReader(bytes.NewReader(raw), pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		return nil, false
	}
	var out []got
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out, true
		}
		if err != nil {
			return nil, false
		}
		out = append(out, got{ts: ci.Timestamp, frame: string(data), iface: ci.InterfaceIndex, wire: ci.Length, cap: ci.CaptureLength})
	}
}

// TestPcapngTimestamps pins what pcapgo did differently: if_tsresol 0 is
// whole seconds (10^0, as the format says; pcapgo read it as microseconds),
// power-of-two units are converted exactly (pcapgo was off by up to 55 ms at
// 2^-32), and if_tsoffset counts only when it is the 8 bytes the format
// gives it (pcapgo read leftover bytes of another option). Both byte orders.
func TestPcapngTimestamps(t *testing.T) {
	frame := eth(0x0800, ipv4TCP(t, "x"))
	off8 := func(o byteOrder, v int64) []byte { return o.AppendUint64(nil, uint64(v)) }
	for _, o := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		tests := []struct {
			name string
			opts func(n *ng) [][]byte
			ts   uint64
			want time.Time
		}{
			{"default_microseconds", func(n *ng) [][]byte { return nil }, 1_700_000_000_123_456, time.Unix(1_700_000_000, 123_456_000)},
			{"tsresol_0_seconds", func(n *ng) [][]byte { return [][]byte{n.opt(ngOptTSResol, []byte{0})} }, 1_700_000_000, time.Unix(1_700_000_000, 0)},
			{"tsresol_10^-9", func(n *ng) [][]byte { return [][]byte{n.opt(ngOptTSResol, []byte{9})} }, 1_700_000_000_123_456_789, time.Unix(1_700_000_000, 123_456_789)},
			{"tsresol_10^-12", func(n *ng) [][]byte { return [][]byte{n.opt(ngOptTSResol, []byte{12})} }, 1_700_000_000_123_456_789, time.Unix(1_700_000, 123_456)},
			{"tsresol_2^-32", func(n *ng) [][]byte { return [][]byte{n.opt(ngOptTSResol, []byte{0x80 | 32})} }, 1_700_000_000<<32 | 3<<30, time.Unix(1_700_000_000, 750_000_000)},
			{"tsresol_2^-10", func(n *ng) [][]byte { return [][]byte{n.opt(ngOptTSResol, []byte{0x80 | 10})} }, 5<<10 | 1, time.Unix(5, 976_562)},
			{"tsoffset", func(n *ng) [][]byte { return [][]byte{n.opt(ngOptTSOffset, off8(o, 3600))} }, 1_000_000, time.Unix(3601, 0)},
			{"tsoffset_negative", func(n *ng) [][]byte { return [][]byte{n.opt(ngOptTSOffset, off8(o, -1))} }, 1_000_000, time.Unix(0, 0)},
			{"tsoffset_not_8_bytes_ignored", func(n *ng) [][]byte {
				return [][]byte{n.opt(2, []byte("eth0-and-more-bytes")), n.opt(ngOptTSOffset, []byte{1, 2, 3, 4})}
			}, 1_000_000, time.Unix(1, 0)},
		}
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%v/%s", o, tt.name), func(t *testing.T) {
				n := newNg(o)
				n.shb(1, 0)
				n.idb(1, 0, tt.opts(n)...)
				n.epb(0, tt.ts, frame)
				pkts, dmg, _ := readFiles(t, Options{}, writeFile(t, t.TempDir(), "x.pcapng", n.buf))
				if len(dmg) != 0 || len(pkts) != 1 {
					t.Fatalf("%d packets, damage %v; want 1, none", len(pkts), dmg)
				}
				if !pkts[0].ts.Equal(tt.want) {
					t.Errorf("timestamp %v; want %v", pkts[0].ts, tt.want.UTC())
				}
			})
		}
	}
}

// TestPcapngInterfaceBound: a section may describe ngMaxInterfaces
// interfaces; one more is damage, so a file of nothing but interface blocks
// cannot grow the reader's table without bound.
func TestPcapngInterfaceBound(t *testing.T) {
	frame := eth(0x0800, ipv4TCP(t, "x"))
	n := newNg(binary.LittleEndian)
	n.shb(1, 0)
	for range ngMaxInterfaces {
		n.idb(1, 0)
	}
	n.epb(ngMaxInterfaces-1, 1, frame)
	off := len(n.buf)
	n.idb(1, 0)
	n.epb(0, 2, frame)
	pkts, dmg, _ := readFiles(t, Options{}, writeFile(t, t.TempDir(), "x.pcapng", n.buf))
	if len(pkts) != 1 || len(dmg) != 1 || dmg[0].Offset != int64(off) || !strings.Contains(dmg[0].Reason, "already describes 65536 interfaces") {
		t.Errorf("%d packets, damage %+v; want 1 packet, then damage at %d", len(pkts), dmg, off)
	}
}
