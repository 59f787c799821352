package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// packetsOf reads every packet of paths through next, copying what the
// packet points at, and returns them with the error that ended reading.
func packetsOf(t *testing.T, next func(*Packet) error) ([]Packet, error) {
	t.Helper()
	var out []Packet
	var p Packet
	for {
		err := next(&p)
		if err != nil {
			return out, err
		}
		q := p
		q.Frame = bytes.Clone(p.Frame)
		q.Payload = bytes.Clone(p.Payload)
		out = append(out, q)
	}
}

// TestReadAheadSameAsFileSet reads captures of several formats and link
// types, and more packets than several batches hold, both ways: every packet
// must come out the same, in the same order, with the same damage.
func TestReadAheadSameAsFileSet(t *testing.T) {
	files, _ := filepath.Glob("../testdata/fixtures/*.pcap*")
	files = append(files, "../testdata/sample/idle-1909.pcapng")
	more, _ := filepath.Glob("testdata/*.pcap*")
	files = append(files, more...)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			a, err := OpenFiles([]string{f, f, f}, Options{}) // three times over: more than a batch
			if err != nil {
				t.Fatal(err)
			}
			want, wantErr := packetsOf(t, a.Next)
			b, err := OpenFiles([]string{f, f, f}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			r := NewReadAhead(b)
			defer r.Close()
			got, gotErr := packetsOf(t, r.Next)
			if wantErr != io.EOF || gotErr != io.EOF {
				t.Fatalf("errors = %v, %v; want io.EOF", wantErr, gotErr)
			}
			if len(got) != len(want) {
				t.Fatalf("read ahead %d packets; want %d", len(got), len(want))
			}
			for i := range want {
				w, g := want[i], got[i]
				if !bytes.Equal(w.Frame, g.Frame) || !bytes.Equal(w.Payload, g.Payload) {
					t.Fatalf("packet %d: frame or payload differ", i)
				}
				w.Frame, w.Payload, g.Frame, g.Payload = nil, nil, nil, nil
				if !reflect.DeepEqual(w, g) {
					t.Fatalf("packet %d = %+v; want %+v", i, g, w)
				}
			}
			if d1, d2 := a.Damage(), r.Source().Damage(); len(d1) != len(d2) {
				t.Errorf("damage = %v; want %v", d2, d1)
			}
		})
	}
}

// manySamples names the sample enough times that reading it fills more
// batches than circulate, so batches and their arenas are reused.
func manySamples() []string {
	var files []string
	for i := 0; i < 30; i++ { // 30 x 912 packets: 6 batches of 4096 and more
		files = append(files, "../testdata/sample/idle-1909.pcapng")
	}
	return files
}

// TestReadAheadReusesBatches reads more packets than all batches hold at
// once, both ways, and compares them packet by packet.
func TestReadAheadReusesBatches(t *testing.T) {
	a, err := OpenFiles(manySamples(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := packetsOf(t, a.Next)
	b, err := OpenFiles(manySamples(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := NewReadAhead(b)
	defer r.Close()
	got, _ := packetsOf(t, r.Next)
	if len(want) <= readAheadBatches*readAheadPackets || len(got) != len(want) {
		t.Fatalf("read ahead %d packets, FileSet %d; want equal, and more than the %d the batches hold",
			len(got), len(want), readAheadBatches*readAheadPackets)
	}
	for i := range want {
		if !bytes.Equal(want[i].Frame, got[i].Frame) || !bytes.Equal(want[i].Payload, got[i].Payload) ||
			!want[i].Timestamp.Equal(got[i].Timestamp) {
			t.Fatalf("packet %d differs", i)
		}
	}
}

func TestReadAheadAllocatesNothing(t *testing.T) {
	s, err := OpenFiles(manySamples(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := NewReadAhead(s)
	defer r.Close()
	var p Packet
	for i := 0; i < (readAheadBatches+1)*readAheadPackets; i++ { // every batch used once
		if err := r.Next(&p); err != nil {
			t.Fatal(err)
		}
	}
	if n := testing.AllocsPerRun(5000, func() { r.Next(&p) }); n != 0 {
		t.Errorf("allocations per ReadAhead.Next = %v; want 0", n)
	}
}

func TestReadAheadCloseEarly(t *testing.T) {
	s, err := OpenFiles([]string{"../testdata/sample/idle-1909.pcapng"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := NewReadAhead(s)
	var p Packet
	r.Next(&p)
	r.Close() // must return although the reader is blocked handing batches over
	r.Close()
}

func TestProgress(t *testing.T) {
	files := []string{"../testdata/sample/idle-1909.pcapng", "testdata/zeek__dns-svcb.pcap"}
	s, err := OpenFiles(files, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
	}
	if done, tot := s.Progress(); done != 0 || tot != total {
		t.Errorf("Progress() before reading = %d, %d; want 0, %d", done, tot, total)
	}
	r := NewReadAhead(s)
	defer r.Close()
	var p Packet
	for r.Next(&p) == nil {
		if done, _ := s.Progress(); done < 0 || done > total {
			t.Fatalf("Progress() = %d; want within 0..%d", done, total)
		}
	}
	if done, _ := s.Progress(); done != total {
		t.Errorf("Progress() at the end = %d; want %d", done, total)
	}
}

// TestReadAheadAcrossChunks reads files of several read chunks, with records
// and blocks cut by chunk boundaries and some of 200 kB, both
// ways: frames lent from chunks and frames joined across them must come out
// the same, also when the batches outnumber the chunk buffers many times.
func TestReadAheadAcrossChunks(t *testing.T) {
	var recs []rec
	n := newNg(binary.LittleEndian)
	n.shb(1, 0)
	n.idb(1, 0)
	for i, total := 0, 0; total < 12*chunkSize; i++ {
		size := 60 + (i*53)%1500
		if i%2000 == 1999 {
			size = 200_000 + i // under MaxSnap, often across a chunk boundary
		}
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(i ^ j)
		}
		recs = append(recs, rec{ts: t0.Truncate(time.Microsecond).Add(time.Duration(i) * time.Microsecond), data: data})
		n.epb(0, uint64(t0.UnixMicro())+uint64(i), data)
		total += 16 + size
	}
	dir := t.TempDir()
	files := []string{
		writeFile(t, dir, "big.pcap", buildPcap(pcapSpec{linkType: 1}, recs...)),
		writeFile(t, dir, "big.pcapng", n.buf),
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			a, err := OpenFiles([]string{f}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			want, _ := packetsOf(t, a.Next)
			b, err := OpenFiles([]string{f}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			r := NewReadAhead(b)
			defer r.Close()
			got, err := packetsOf(t, r.Next)
			if err != io.EOF || len(got) != len(want) || len(want) != len(recs) {
				t.Fatalf("read ahead %d packets (%v); want %d, as FileSet reads %d", len(got), err, len(recs), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i].Frame, want[i].Frame) || got[i].Offset != want[i].Offset || !got[i].Timestamp.Equal(want[i].Timestamp) {
					t.Fatalf("packet %d differs: offset %d, %d bytes; want offset %d, %d bytes", i, got[i].Offset, len(got[i].Frame), want[i].Offset, len(want[i].Frame))
				}
			}
		})
	}
}
