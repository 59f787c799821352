package capture

import (
	"io"
	"reflect"
	"testing"
	"time"
)

// TestFileSetBounds reads a capture with an IPv4 datagram whose last
// fragment never comes (dropped after the timeout) and a fragment that
// rewrites bytes already received: Bounds names both, with the limit in
// force; with reassembly off, or on a capture without fragments, it is
// empty.
func TestFileSetBounds(t *testing.T) {
	data := udpData(t, string(make([]byte, 3000)))
	parts := split(7, 17, data, 1480)
	conflict := parts[0]
	conflict.data = append([]byte{}, conflict.data...)
	conflict.data[100] ^= 0xff
	var recs []rec
	ts := t0
	add := func(frame []byte, after time.Duration) {
		ts = ts.Add(after)
		recs = append(recs, rec{ts: ts, data: eth(0x0800, frame)})
	}
	add(parts[0].frame(), 0)
	add(conflict.frame(), time.Millisecond)
	add(ipv4TCP(t, "hello"), DefaultDefragTimeout+time.Second) // past the timeout: the datagram is dropped
	path := writeFile(t, t.TempDir(), "bounds.pcap", buildPcap(pcapSpec{snap: 65535, linkType: 1}, recs...))

	read := func(opt Options) []Bound {
		t.Helper()
		s, err := OpenFiles([]string{path}, opt)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var p Packet
		for s.Next(&p) != io.EOF {
		}
		return s.Bounds()
	}
	want := []Bound{
		{What: "IPv4 reassembly timeout: an incomplete datagram dropped", Limit: 30, Times: 1},
		{What: "IPv4 fragments overlapping with other bytes (an evasion?): the first bytes kept", Limit: 0, Times: 1},
	}
	if got := read(Options{}); !reflect.DeepEqual(got, want) {
		t.Errorf("Bounds() = %+v; want %+v", got, want)
	}
	if got := read(Options{Defrag: DefragConfig{Off: true}}); len(got) != 0 {
		t.Errorf("Bounds() with reassembly off = %+v; want none", got)
	}
	clean := writeFile(t, t.TempDir(), "clean.pcap", buildPcap(pcapSpec{snap: 65535, linkType: 1}, rec{ts: t0, data: eth(0x0800, ipv4TCP(t, "x"))}))
	s, err := OpenFiles([]string{clean}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var p Packet
	for s.Next(&p) != io.EOF {
	}
	if got := s.Bounds(); len(got) != 0 {
		t.Errorf("Bounds() of a capture without fragments = %+v; want none", got)
	}
}
