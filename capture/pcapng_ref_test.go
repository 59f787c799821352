package capture

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket/pcapgo"
)

// TestPcapngAgainstPcapgo reads every undamaged pcapng file of the shared
// corpus and of testdata/ with our reader and with gopacket's pcapgo.NgReader,
// the reference, and requires the same packets: bytes, lengths, interfaces and
// timestamps. pcapgo converts 2^-n s units in whole steps of 1e9/2^n ns
// (rounded down), where ours is exact: timestamps may differ by less than
// that step. Simple packet blocks carry no timestamp: both give none.
func TestPcapngAgainstPcapgo(t *testing.T) {
	var paths []string
	for _, pattern := range []string{"../testdata/sample/*.pcapng", "../testdata/fixtures/*.pcapng", "../../shared/corpus/dev/*.pcapng", "../../shared/corpus/dev/*.pcapng.gz"} {
		m, _ := filepath.Glob(pattern)
		paths = append(paths, m...)
	}
	if len(paths) == 0 {
		t.Skip("no pcapng files found in testdata/ or ../shared/corpus/dev")
	}
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
