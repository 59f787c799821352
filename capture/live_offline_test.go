//go:build cgo

package capture

import (
	"io"
	"path/filepath"
	"testing"
	"time"
)

// openLiveFile reads a capture file through libpcap's own reader as a Live
// source: the live path (libpcap's zero-copy read, decode, reassembly, the
// idle signal) without root or an interface.
func openLiveFile(t testing.TB, path string) *Live {
	t.Helper()
	h, err := openPcapFile(path)
	if err != nil {
		t.Fatal(err)
	}
	l := newLive(h, "file", LiveOptions{Timeout: 250 * time.Millisecond})
	t.Cleanup(func() { l.Close() })
	return l
}

// TestLiveReadsWhatFilesRead checks that the live path gives the packets
// the file reader gives, in order, with an ErrIdle before the first packet
// and whenever 250 ms of capture time passed, and none otherwise.
func TestLiveReadsWhatFilesRead(t *testing.T) {
	path := filepath.Join("..", "testdata", "fixtures", "tls-openssl.pcap")
	fs, err := OpenFiles([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	l := openLiveFile(t, path)
	var last time.Time
	var n, idles int
	for {
		var want, got Packet
		werr := fs.Next(&want)
		var gerr error
		for {
			gerr = l.Next(&got)
			if gerr != ErrIdle {
				break
			}
			idles++
		}
		if werr == io.EOF && gerr == io.EOF {
			break
		}
		if werr != nil || gerr != nil {
			t.Fatalf("packet %d: file reader %v, live %v", n, werr, gerr)
		}
		if !got.Timestamp.Equal(want.Timestamp) || got.WireLen != want.WireLen || string(got.Frame) != string(want.Frame) ||
			got.Src != want.Src || got.Dst != want.Dst || got.SrcPort != want.SrcPort || string(got.Payload) != string(want.Payload) {
			t.Fatalf("packet %d: live %+v; want %+v", n, got, want)
		}
		if n == 0 || got.Timestamp.Sub(last) >= 250*time.Millisecond {
			idles--
			last = got.Timestamp
		}
		n++
	}
	if n == 0 || idles != 0 {
		t.Errorf("read %d packets, %d ErrIdle not where 250 ms of capture time passed (negative: missing)", n, idles)
	}
}

// TestLiveAllocatesNothingPerPacket proves the live path allocates nothing
// per packet: libpcap's buffer is read in place and decoded into the
// caller's Packet.
func TestLiveAllocatesNothingPerPacket(t *testing.T) {
	l := openLiveFile(t, filepath.Join("..", "testdata", "sample", "idle-1909.pcapng"))
	var p Packet
	for i := 0; i < 10; i++ { // warm up: the first packets size what is reused
		l.Next(&p)
	}
	allocs := testing.AllocsPerRun(200, func() {
		if err := l.Next(&p); err == io.EOF {
			t.Fatal("the sample ran out: read fewer packets")
		}
	})
	if allocs != 0 {
		t.Errorf("Live.Next allocates %.2f times per packet; want 0", allocs)
	}
}

// TestLiveReadsManyBatches reads, through the live path, a capture of many
// more frames than one batch holds, with frames of every size up to the
// snap length: every frame comes out, in order, as our reader gives it.
func TestLiveReadsManyBatches(t *testing.T) {
	src := filepath.Join("..", "testdata", "sample", "idle-1909.pcapng")
	frames := readFrames(t, src)
	dir := t.TempDir()
	w, err := NewWriter(WriterOptions{Dir: dir, LinkType: LinkTypeEthernet, Snaplen: DefaultSnaplen, Interface: "test"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1_800_000_000, 0)
	big := make([]byte, DefaultSnaplen) // a frame of the snap length: the batch's worst case
	var want [][]byte
	for i := 0; len(want) < 3*batchFrames+17; i++ {
		f := frames[i%len(frames)]
		if i%1000 == 999 {
			f = big
		}
		if err := w.WritePacket(start.Add(time.Duration(len(want))*time.Millisecond), f, len(f)); err != nil {
			t.Fatal(err)
		}
		want = append(want, f)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	l := openLiveFile(t, w.Files()[0])
	n := 0
	for {
		var p Packet
		err := l.Next(&p)
		if err == ErrIdle {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n < len(want) && string(p.Frame) != string(want[n]) {
			t.Fatalf("frame %d: %d bytes; want %d", n, len(p.Frame), len(want[n]))
		}
		n++
	}
	if n != len(want) {
		t.Errorf("read %d frames through the live path; want %d (%d batches of %d)", n, len(want), len(want)/batchFrames+1, batchFrames)
	}
}

// readFrames reads the frames of a capture with our reader, copied.
func readFrames(t *testing.T, path string) [][]byte {
	t.Helper()
	fs, err := OpenFiles([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fs.Close()
	var out [][]byte
	for {
		var p Packet
		if err := fs.Next(&p); err != nil {
			return out
		}
		if p.Reassembled == 0 {
			out = append(out, append([]byte(nil), p.Frame...))
		}
	}
}

// TestLiveStopKeepsTheHeldPacket stops the source in the poll that an
// ErrIdle for 250 ms of capture time allows (how a signal or --duration
// stops a busy capture): the packet read from libpcap before that ErrIdle
// is still delivered, and tapped for --write, before io.EOF. libpcap
// counted it as received; dropping it would lose it from the report and
// the files alike.
func TestLiveStopKeepsTheHeldPacket(t *testing.T) {
	l := openLiveFile(t, filepath.Join("..", "testdata", "sample", "idle-1909.pcapng"))
	var tapped int
	l.Tap = func(time.Time, []byte, int) { tapped++ }
	var p Packet
	delivered := 0
	for {
		err := l.Next(&p)
		if err == io.EOF {
			t.Fatal("the capture ran out before an ErrIdle after a packet: pick a capture longer than 250 ms")
		}
		if err == nil {
			delivered++
			continue
		}
		if err == ErrIdle && delivered > 0 {
			break // a packet is held: the caller polls now
		}
	}
	l.Stop(EndStopped)
	if err := l.Next(&p); err != nil {
		t.Fatalf("Next after Stop with a packet held = %v; want the held packet", err)
	}
	delivered++
	// Then the rest of the batch libpcap handed over, if any, and the end.
	for {
		err := l.Next(&p)
		if err == io.EOF {
			break
		}
		if err == ErrIdle {
			continue // 250 ms of capture time again: the caller polls
		}
		if err != nil {
			t.Fatalf("Next after Stop = %v; want the batch's frames, then io.EOF", err)
		}
		delivered++
	}
	if l.h.pending() {
		t.Errorf("io.EOF with frames of the batch not delivered")
	}
	if tapped != delivered {
		t.Errorf("tapped %d packets, delivered %d; want every delivered packet tapped", tapped, delivered)
	}
}
