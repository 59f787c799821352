package classify

import (
	"io"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/phonehome/phonehome/capture"
)

// framesOf reads every frame of a capture, copied, for replaying in parts.
func framesOf(t *testing.T, path string) []capture.Packet {
	t.Helper()
	src, err := capture.OpenFiles([]string{path}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []capture.Packet
	for {
		var p capture.Packet
		err := src.Next(&p)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		// Decoded slices point into the reader's buffer: decode a copy.
		frame := append([]byte(nil), p.Frame...)
		reassembled := p.Reassembled
		if reassembled > 0 {
			frame = nil // a rebuilt datagram: keep it as decoded, copied
			p.Payload = append([]byte(nil), p.Payload...)
			out = append(out, p)
			continue
		}
		q := capture.Packet{Timestamp: p.Timestamp, Offset: p.Offset, WireLen: p.WireLen, CapLen: p.CapLen, LinkType: p.LinkType, Interface: p.Interface, Frame: frame}
		capture.Decode(q.LinkType, q.Frame, &q)
		out = append(out, q)
	}
}

// TestSnapshotIsFinishOfWhatCameSoFar holds Snapshot, taken after k packets
// of a capture, against Finish of a fresh Classifier given those k packets
// alone, for several k; and checks that the snapshots changed nothing: the
// final run equals that of a Classifier that took none.
func TestSnapshotIsFinishOfWhatCameSoFar(t *testing.T) {
	for _, tc := range []struct {
		name string
		path string
		cfg  Config
	}{
		{"sample_vm_detected", filepath.Join("..", "testdata", "sample", "idle-1909.pcapng"), Config{}},
		{"sample_small_detect_window", filepath.Join("..", "testdata", "sample", "idle-1909.pcapng"), Config{DetectWindow: 8}},
		{"http_keepalive", filepath.Join("..", "testdata", "fixtures", "http-keepalive-three-requests.pcap"), Config{}},
		{"tls_out_of_order", filepath.Join("..", "testdata", "fixtures", "tls-out-of-order.pcap"), Config{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			frames := framesOf(t, tc.path)
			if len(frames) < 4 {
				t.Fatalf("%s: %d frames", tc.path, len(frames))
			}
			cuts := []int{1, len(frames) / 3, len(frames) / 2, len(frames) - 1, len(frames)}
			live := New(tc.cfg)
			at := 0
			for _, k := range cuts {
				for ; at < k; at++ {
					live.Add(&frames[at])
				}
				got := live.Snapshot()
				ref := New(tc.cfg)
				for i := range frames[:k] {
					ref.Add(&frames[i])
				}
				want := ref.Finish()
				if !reflect.DeepEqual(got, want) {
					t.Errorf("Snapshot after %d of %d packets differs from Finish over them:\n got %+v\nwant %+v", k, len(frames), got, want)
				}
			}
			final := live.Finish()
			ref := New(tc.cfg)
			for i := range frames {
				ref.Add(&frames[i])
			}
			if want := ref.Finish(); !reflect.DeepEqual(final, want) {
				t.Errorf("after snapshots, Finish = %+v; want %+v (as with no snapshot)", final, want)
			}
		})
	}
}

// TestSnapshotSharesNothing checks that a snapshot is its own: changing it
// changes neither the Classifier's run nor a later snapshot.
func TestSnapshotSharesNothing(t *testing.T) {
	frames := framesOf(t, filepath.Join("..", "testdata", "sample", "idle-1909.pcapng"))
	c := New(Config{})
	for i := range frames[:len(frames)/2] {
		c.Add(&frames[i])
	}
	first := c.Snapshot()
	want := c.Snapshot()
	for _, n := range first.Names {
		n.Flows += 1000
		n.Aliases = append(n.Aliases[:0], "changed")
		n.Evidence["x"] = 1
		if len(n.Protocols) > 0 {
			n.Protocols[0] = "changed"
		}
	}
	for k := range first.Excluded {
		first.Excluded[k].Flows += 1000
	}
	if got := c.Snapshot(); !reflect.DeepEqual(got, want) {
		t.Errorf("changing a snapshot changed the next one:\n got %+v\nwant %+v", got, want)
	}
}
