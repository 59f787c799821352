package capture

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"
)

// Fragment builders: raw IPv4 fragments (link type LinkTypeIPv4) of a
// datagram from srcIP4 to dstIP4.

// fragment is one IPv4 fragment: data at byte offset off (a multiple of 8
// unless a test lies), more the MF flag.
type fragment struct {
	id    uint16
	proto uint8
	off   int
	more  bool
	data  []byte
	ihl   int       // header length, 0: 20
	src   [4]byte   // zero: srcIP4
	at    time.Time // zero: t0
}

func (f fragment) frame() []byte {
	ihl := f.ihl
	if ihl == 0 {
		ihl = 20
	}
	b := make([]byte, ihl, ihl+len(f.data))
	b[0] = 0x40 | byte(ihl/4)
	binary.BigEndian.PutUint16(b[2:4], uint16(ihl+len(f.data)))
	binary.BigEndian.PutUint16(b[4:6], f.id)
	fl := uint16(f.off/8) & 0x1fff
	if f.more {
		fl |= 0x2000
	}
	binary.BigEndian.PutUint16(b[6:8], fl)
	b[8] = 64
	b[9] = f.proto
	src := f.src
	if src == ([4]byte{}) {
		src = [4]byte(srcIP4.To4())
	}
	copy(b[12:16], src[:])
	copy(b[16:20], dstIP4.To4())
	for i := 20; i < ihl; i++ {
		b[i] = 1 // NOP options
	}
	return append(b, f.data...)
}

// udpData is the IP data of a UDP datagram 53000 -> 53 carrying payload.
func udpData(t testing.TB, payload string) []byte {
	return ipv4UDP(t, payload)[20:]
}

// split cuts IP data into fragments of size bytes (a multiple of 8).
func split(id uint16, proto uint8, data []byte, size int) []fragment {
	var out []fragment
	for off := 0; off < len(data); off += size {
		end := min(off+size, len(data))
		out = append(out, fragment{id: id, proto: proto, off: off, more: end < len(data), data: data[off:end]})
	}
	return out
}

func reversed(f []fragment) []fragment {
	out := make([]fragment, len(f))
	for i := range f {
		out[len(f)-1-i] = f[i]
	}
	return out
}

// step is a packet given to a Defragmenter: a fragment, or a whole frame.
type step struct {
	frag  *fragment
	frame []byte // when frag is nil: a raw IPv4 packet
	at    time.Time
}

func frags(fs ...fragment) []step {
	var out []step
	for i := range fs {
		out = append(out, step{frag: &fs[i], at: fs[i].at})
	}
	return out
}

func steps(parts ...[]step) []step {
	var out []step
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// datagram is what a test compares of a rebuilt datagram.
type datagram struct {
	summary
	frags int
}

// runDefrag feeds steps to d and returns the datagrams it rebuilt, checking
// each one's header.
func runDefrag(t *testing.T, d *Defragmenter, ss []step) []datagram {
	t.Helper()
	var out []datagram
	var p, q Packet
	for i, s := range ss {
		frame := s.frame
		if s.frag != nil {
			frame = s.frag.frame()
		}
		at := s.at
		if at.IsZero() {
			at = t0
		}
		p = Packet{Timestamp: at, Offset: int64(i), WireLen: len(frame), CapLen: len(frame)}
		Decode(LinkTypeIPv4, frame, &p)
		if !d.Add(&p) {
			continue
		}
		d.Datagram(&q)
		checkDatagram(t, &q)
		if !q.Timestamp.Equal(at) || q.Offset != int64(i) {
			t.Errorf("datagram at %v offset %d; want the completing fragment's %v, %d", q.Timestamp, q.Offset, at, i)
		}
		out = append(out, datagram{summarize(&q), q.Reassembled})
	}
	return out
}

// checkDatagram checks a rebuilt datagram's frame: a whole IPv4 datagram
// with a good checksum, no fragment bits, the payload inside it.
func checkDatagram(t *testing.T, q *Packet) {
	t.Helper()
	f := q.Frame
	switch {
	case q.LinkType != LinkTypeIPv4 || q.L3 != L3IPv4 || q.Fragment || q.Reassembled < 2:
		t.Fatalf("datagram: link type %d, L3 %v, Fragment %v, Reassembled %d", q.LinkType, q.L3, q.Fragment, q.Reassembled)
	case len(f) < 20 || len(f) > 65535 || int(binary.BigEndian.Uint16(f[2:4])) != len(f):
		t.Fatalf("datagram of %d bytes with total length %d", len(f), binary.BigEndian.Uint16(f[2:4]))
	case binary.BigEndian.Uint16(f[6:8])&0xbfff != 0:
		t.Fatalf("datagram with fragment bits %04x", binary.BigEndian.Uint16(f[6:8]))
	case q.WireLen != len(f) || q.CapLen != len(f):
		t.Fatalf("datagram WireLen %d CapLen %d; want %d", q.WireLen, q.CapLen, len(f))
	}
	var sum uint32
	for j := 0; j < int(f[0]&0x0f)*4; j += 2 {
		sum += uint32(binary.BigEndian.Uint16(f[j:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	if sum != 0xffff {
		t.Fatalf("datagram header checksum does not add up: %04x", sum)
	}
	checkDecoded(t, f, q)
}

func TestDefrag(t *testing.T) {
	const msg = "a DNS answer too large for one Ethernet frame, fragmented in three"
	udp := udpData(t, msg) // 8 + 66 bytes
	parts := split(7, 17, udp, 32)
	ok := datagram{udpOK, 3}
	ok.Payload = msg
	tcp := ipv4TCP(t, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")[20:]
	tcpOKGet := with(tcpOK, func(s *summary) { s.Payload = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n" })

	// other is an overlapping copy of udp's bytes 8-23 that differs.
	other := bytes.Repeat([]byte{'X'}, 16)
	tiny := split(9, 17, udp, 8)
	// A datagram of 65500 bytes of data (under the 65515 limit) behind a
	// 60-byte header is 65560 bytes long: ping of death by options.
	big := make([]byte, 65496)
	pod := split(11, 17, big, 1480)
	pod[0].ihl = 60

	tests := []struct {
		name  string
		steps []step
		want  []datagram
		stats DefragStats // the counters checked; the bounds are not
	}{
		{"in_order", frags(parts...), []datagram{ok},
			DefragStats{Fragments: 3, Datagrams: 1}},
		{"reversed", frags(reversed(parts)...), []datagram{ok},
			DefragStats{Fragments: 3, Datagrams: 1}},
		{"middle_first", frags(parts[1], parts[2], parts[0]), []datagram{ok},
			DefragStats{Fragments: 3, Datagrams: 1}},
		{"duplicate_fragment", frags(parts[0], parts[1], parts[1], parts[2]), []datagram{with4(ok)},
			DefragStats{Fragments: 4, Datagrams: 1, Overlaps: 1}},
		{"overlapping_same_bytes", frags(parts[0], fragment{id: 7, proto: 17, off: 24, more: true, data: udp[24:56]}, parts[1], parts[2]),
			[]datagram{with4(ok)}, DefragStats{Fragments: 4, Datagrams: 1, Overlaps: 2}},
		{"overlapping_first_wins", frags(parts[0], fragment{id: 7, proto: 17, off: 8, more: true, data: other}, parts[1], parts[2]),
			[]datagram{with4(ok)}, DefragStats{Fragments: 4, Datagrams: 1, Conflicts: 1}},
		{"overlapping_later_bytes_lose", frags(fragment{id: 7, proto: 17, off: 8, more: true, data: other}, parts[0], parts[1], parts[2]),
			[]datagram{{with(udpOK, func(s *summary) {
				s.Payload = "XXXXXXXXXXXXXXXX large for one Ethernet frame, fragmented in three"
			}), 4}},
			DefragStats{Fragments: 4, Datagrams: 1, Conflicts: 1}},
		{"tiny_fragments", frags(tiny...), []datagram{{ok.summary, len(tiny)}},
			DefragStats{Fragments: len(tiny), Datagrams: 1}},
		{"tcp_header_split_across_fragments", frags(split(10, 6, tcp, 8)...), []datagram{{tcpOKGet, len(split(10, 6, tcp, 8))}},
			DefragStats{Fragments: len(split(10, 6, tcp, 8)), Datagrams: 1}},
		{"non_last_fragment_trimmed_to_8", frags(fragment{id: 7, proto: 17, off: 0, more: true, data: udp[:37]}, fragment{id: 7, proto: 17, off: 32, data: udp[32:]}),
			[]datagram{{ok.summary, 2}}, DefragStats{Fragments: 2, Datagrams: 1}},
		{"non_last_fragment_under_8_bytes", frags(fragment{id: 7, proto: 17, off: 0, more: true, data: udp[:5]}),
			nil, DefragStats{Fragments: 1, Inconsistent: 1}},
		{"teardrop_inside_previous", frags(fragment{id: 7, proto: 17, off: 0, more: true, data: udp[:48]},
			fragment{id: 7, proto: 17, off: 16, more: true, data: other[:8]}, fragment{id: 7, proto: 17, off: 48, data: udp[48:]}),
			[]datagram{{ok.summary, 3}}, DefragStats{Fragments: 3, Datagrams: 1, Conflicts: 1}},
		{"teardrop_last_fragment_inside_previous", frags(fragment{id: 7, proto: 17, off: 0, more: true, data: udp[:48]},
			fragment{id: 7, proto: 17, off: 16, data: udp[16:20]}),
			nil, DefragStats{Fragments: 2, Inconsistent: 1, Pending: 1}},
		{"second_last_fragment_with_another_end", frags(parts[2], fragment{id: 7, proto: 17, off: 64, data: []byte("zz")}, parts[1], parts[0]),
			[]datagram{with4(ok)}, DefragStats{Fragments: 4, Datagrams: 1, Inconsistent: 1}},
		{"data_past_the_end", frags(parts[2], fragment{id: 7, proto: 17, off: 72, more: true, data: other[:8]}, parts[1], parts[0]),
			[]datagram{with4(ok)}, DefragStats{Fragments: 4, Datagrams: 1, Inconsistent: 1}},
		{"fragment_beyond_65535", frags(parts[0], fragment{id: 7, proto: 17, off: 65528, data: other}),
			nil, DefragStats{Fragments: 2, Oversize: 1}},
		{"ping_of_death_by_header_options", frags(pod...),
			nil, DefragStats{Fragments: len(pod), Oversize: 1}},
		{"never_completed_times_out", steps(frags(parts[0], parts[1]),
			[]step{{frame: ipv4TCP(t, "later"), at: t0.Add(31 * time.Second)}},
			frags(fragment{id: 7, proto: 17, off: 64, data: udp[64:], at: t0.Add(32 * time.Second)})),
			nil, DefragStats{Fragments: 3, TimedOut: 1, Pending: 1}},
		// A fragment dated a year ahead must not hold back the expiry of
		// the datagrams after it: it goes, and so does the one left behind.
		{"fragment_far_in_the_future_expires", steps(
			frags(fragment{id: 9, proto: 17, off: 0, data: udp[:32], more: true, at: t0.Add(365 * 24 * time.Hour)}),
			frags(parts[0], parts[1]),
			[]step{{frame: ipv4TCP(t, "later"), at: t0.Add(31 * time.Second)}}),
			nil, DefragStats{Fragments: 3, TimedOut: 2}},
		{"completed_within_timeout", frags(parts[0], parts[1], fragment{id: 7, proto: 17, off: 64, data: udp[64:], at: t0.Add(30 * time.Second)}),
			[]datagram{ok}, DefragStats{Fragments: 3, Datagrams: 1}},
		{"same_id_other_source_or_protocol", frags(parts[0], fragment{id: 7, proto: 6, off: 32, data: udp[32:]},
			fragment{id: 7, proto: 17, off: 32, data: udp[32:], src: [4]byte{10, 0, 0, 6}}, parts[1], parts[2]),
			[]datagram{ok}, DefragStats{Fragments: 5, Datagrams: 1, Pending: 2}},
		{"mixed_with_normal_packets", steps(
			[]step{{frame: ipv4TCP(t, "hello")}}, frags(parts[0]), []step{{frame: ipv4UDP(t, "query")}},
			frags(split(8, 17, udp, 16)[2:]...), frags(parts[2], parts[1]), []step{{frame: ipv4TCP(t, "hello")}},
			frags(split(8, 17, udp, 16)[:2]...)),
			[]datagram{ok, {ok.summary, 5}}, DefragStats{Fragments: 8, Datagrams: 2}},
		{"truncated_fragment_unused", steps(frags(parts[0], parts[1]), []step{{frame: parts[2].frame()[:25]}}),
			nil, DefragStats{Fragments: 3, Truncated: 1, Pending: 1}},
		// FuzzDefrag's first find (a bug of its reference): offset 0 without
		// MF is a whole datagram.
		{"whole_datagram_is_not_a_fragment", frags(fragment{id: 7, proto: 17, data: udp}),
			nil, DefragStats{}},
		{"after_completion_a_duplicate_starts_again", frags(parts[0], parts[1], parts[2], parts[1]),
			[]datagram{ok}, DefragStats{Fragments: 4, Datagrams: 1, Pending: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := NewDefragmenter(DefragConfig{})
			got := runDefrag(t, d, tt.steps)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("datagrams = %+v; want %+v", got, tt.want)
			}
			st := d.Stats()
			st.MaxDatagrams, st.MaxBytes, st.Timeout, st.PeakBytes = 0, 0, 0, 0
			if st != tt.stats {
				t.Errorf("stats = %+v; want %+v", st, tt.stats)
			}
		})
	}
}

func with4(d datagram) datagram { d.frags = 4; return d }

// TestDefragFloodOfIncompleteDatagramsBounded sends first fragments of 100 000
// datagrams that never complete: reassembly holds at most MaxDatagrams of
// them, says how many it dropped, and still rebuilds a datagram after.
func TestDefragFloodOfIncompleteDatagramsBounded(t *testing.T) {
	d := NewDefragmenter(DefragConfig{})
	chunk := bytes.Repeat([]byte("flood..."), 185) // 1480 bytes
	var p Packet
	frame := fragment{proto: 17, more: true, data: chunk}.frame()
	for i := 0; i < 100_000; i++ {
		binary.BigEndian.PutUint16(frame[4:6], uint16(i))
		frame[13] = byte(i >> 16) // source 10.x.0.5
		Decode(LinkTypeIPv4, frame, &p)
		p.Timestamp = t0.Add(time.Duration(i) * time.Microsecond)
		if d.Add(&p) {
			t.Fatalf("fragment %d completed a datagram", i)
		}
		if d.live > DefaultDefragDatagrams || len(d.blocks)*defragBlock > DefaultDefragBytes {
			t.Fatalf("after %d fragments: %d datagrams, %d blocks held", i+1, d.live, len(d.blocks))
		}
	}
	st := d.Stats()
	if st.EvictedCount != 100_000-DefaultDefragDatagrams || st.Pending != DefaultDefragDatagrams || st.EvictedBytes != 0 {
		t.Errorf("stats = %+v; want %d evicted for the count, %d pending", st, 100_000-DefaultDefragDatagrams, DefaultDefragDatagrams)
	}
	if st.PeakBytes > DefaultDefragDatagrams*defragBlock {
		t.Errorf("peak %d bytes; want at most one block per datagram (%d)", st.PeakBytes, DefaultDefragDatagrams*defragBlock)
	}
	udp := udpData(t, "still works")
	if got := runDefrag(t, d, frags(split(1, 17, udp, 8)...)); len(got) != 1 {
		t.Errorf("after the flood: %d datagrams; want 1", len(got))
	}
}

// TestDefragFloodOfLargeDatagramsBoundedByBytes sends datagrams of 16 blocks
// each that never complete: the byte bound holds before the count bound.
func TestDefragFloodOfLargeDatagramsBoundedByBytes(t *testing.T) {
	d := NewDefragmenter(DefragConfig{MaxBytes: 1 << 20})
	chunk := bytes.Repeat([]byte("bytes..."), 16)
	var p Packet
	for i := 0; i < 1000; i++ {
		for j := 0; j < 16; j++ {
			f := fragment{id: uint16(i), proto: 17, off: j * defragBlock, more: true, data: chunk}
			Decode(LinkTypeIPv4, f.frame(), &p)
			p.Timestamp = t0
			d.Add(&p)
			if len(d.blocks)*defragBlock > 1<<20 {
				t.Fatalf("%d blocks held; want at most %d", len(d.blocks), (1<<20)/defragBlock)
			}
		}
	}
	st := d.Stats()
	want := (1 << 20) / defragBlock / 16 // datagrams that fit
	if st.Pending != want || st.EvictedBytes != 1000-want || st.EvictedCount != 0 || st.PeakBytes != 1<<20 {
		t.Errorf("stats = %+v; want %d pending, %d evicted for bytes, peak 1 MiB", st, want, 1000-want)
	}
}

// TestDefragAllocs holds the steady state at zero allocations: datagrams
// of new IDs, rebuilt, and incomplete ones evicted and timed out.
func TestDefragAllocs(t *testing.T) {
	d := NewDefragmenter(DefragConfig{MaxDatagrams: 16, MaxBytes: 1 << 17})
	udp := udpData(t, string(bytes.Repeat([]byte("x"), 3000)))
	var frames [][]byte
	for i := 0; i < 64; i++ {
		for _, f := range split(uint16(i), 17, udp, 1480) {
			frames = append(frames, f.frame())
		}
		frames = append(frames, fragment{id: uint16(1000 + i), proto: 17, more: true, data: udp[:1480]}.frame())
	}
	var p, q Packet
	i := 0
	next := func() {
		Decode(LinkTypeIPv4, frames[i%len(frames)], &p)
		p.Timestamp = t0.Add(time.Duration(i) * time.Second)
		if d.Add(&p) {
			d.Datagram(&q)
		}
		i++
	}
	for range 2 * len(frames) { // warm up: slots, blocks, the output buffer
		next()
	}
	if n := testing.AllocsPerRun(2000, next); n != 0 {
		t.Errorf("allocations per Add = %v; want 0", n)
	}
	if st := d.Stats(); st.Datagrams == 0 || st.TimedOut+st.EvictedCount == 0 {
		t.Errorf("stats = %+v; want datagrams rebuilt and incomplete ones dropped", st)
	}
}

// fragFile writes a pcap of Ethernet frames: normal packets and n datagrams
// of size bytes of UDP payload, fragmented into 1480-byte pieces sent in
// reverse order.
func fragFile(t *testing.T, n, size int) string {
	var recs []rec
	ts := t0
	add := func(frame []byte) {
		recs = append(recs, rec{ts: ts, data: eth(0x0800, frame)})
		ts = ts.Add(time.Millisecond)
	}
	for i := 0; i < n; i++ {
		add(ipv4TCP(t, "hello"))
		payload := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		for _, f := range reversed(split(uint16(i), 17, udpData(t, string(payload)), 1480)) {
			add(f.frame())
		}
	}
	add(ipv4UDP(t, "query"))
	return writeFile(t, t.TempDir(), "frag.pcap", buildPcap(pcapSpec{snap: 65535, linkType: 1}, recs...))
}

func TestFileSetReassembles(t *testing.T) {
	path := fragFile(t, 3, 4000) // 3 fragments each
	for _, off := range []bool{false, true} {
		s, err := OpenFiles([]string{path}, Options{Defrag: DefragConfig{Off: off}})
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		var p Packet
		for {
			if err := s.Next(&p); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			switch {
			case p.Reassembled > 0:
				checkDatagram(t, &p)
				if len(p.Payload) != 4000 || p.DstPort != 53 {
					t.Errorf("datagram payload %d bytes to port %d; want 4000 to 53", len(p.Payload), p.DstPort)
				}
				kinds = append(kinds, "D")
			case p.Fragment:
				kinds = append(kinds, "f")
			default:
				kinds = append(kinds, "p")
			}
		}
		st := s.Stats()
		s.Close()
		want, wantStats := "pfffDpfffDpfffDp", DefragStats{Fragments: 9, Datagrams: 3}
		if off {
			want, wantStats = "pfffpfffpfffp", DefragStats{}
		}
		if got := fmt.Sprint(kinds); got != fmt.Sprint(bytesSplit(want)) {
			t.Errorf("off=%v: packets %s; want %s", off, got, want)
		}
		if st.Frames != 13 {
			t.Errorf("off=%v: Stats.Frames = %d; want 13 (datagrams are not frames)", off, st.Frames)
		}
		st.Defrag.MaxDatagrams, st.Defrag.MaxBytes, st.Defrag.Timeout, st.Defrag.PeakBytes = 0, 0, 0, 0
		if st.Defrag != wantStats {
			t.Errorf("off=%v: Stats.Defrag = %+v; want %+v", off, st.Defrag, wantStats)
		}
	}
}

func bytesSplit(s string) []string {
	var out []string
	for _, c := range s {
		out = append(out, string(c))
	}
	return out
}

// TestFileSetNextAllocsWithFragments: reassembly keeps FileSet.Next at zero
// allocations.
func TestFileSetNextAllocsWithFragments(t *testing.T) {
	path := fragFile(t, 500, 3000)
	s, err := OpenFiles([]string{path}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var p Packet
	for i := 0; i < 200; i++ {
		if err := s.Next(&p); err != nil {
			t.Fatal(err)
		}
	}
	if n := testing.AllocsPerRun(2000, func() {
		if err := s.Next(&p); err != nil && err != io.EOF {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("FileSet.Next allocs with fragments = %v; want 0", n)
	}
	if s.Stats().Defrag.Datagrams == 0 {
		t.Error("no datagram rebuilt")
	}
}

// TestCorpusFragmented reads the corpus captures with fragmented datagrams:
// each is rebuilt, and the DNS answers and the HTTP request in them appear.
func TestCorpusFragmented(t *testing.T) {
	dir := corpusDir(t)
	tests := []struct {
		file      string
		datagrams int
		contains  string // in some rebuilt payload
	}{
		{"ndpi__dns_fragmented.pcap", 4, "weberlab"},
		{"zeek__dns-edns-ecs.pcap", 4, "weberlab"},
		{"arkime__socks5-http-302-frag.pcap", 4, "GET / HTTP/1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			s, err := OpenFiles([]string{filepath.Join(dir, "dev", tt.file)}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var p Packet
			found := false
			for {
				if err := s.Next(&p); err == io.EOF {
					break
				} else if err != nil {
					t.Fatal(err)
				}
				if p.Reassembled > 0 {
					checkDatagram(t, &p)
					found = found || bytes.Contains(p.Payload, []byte(tt.contains))
				}
			}
			st := s.Stats().Defrag
			if st.Datagrams != tt.datagrams || st.Pending != 0 || st.Conflicts != 0 || st.Inconsistent != 0 {
				t.Errorf("stats = %+v; want %d datagrams, none pending or suspicious", st, tt.datagrams)
			}
			if !found {
				t.Errorf("no rebuilt payload holds %q", tt.contains)
			}
		})
	}
}

// BenchmarkDefrag rebuilds datagrams of three Ethernet-sized fragments; the
// time is per fragment.
func BenchmarkDefrag(b *testing.B) {
	d := NewDefragmenter(DefragConfig{})
	udp := ipv4UDP(b, string(bytes.Repeat([]byte("x"), 4000)))[20:]
	var frames [][]byte
	for i := 0; i < 64; i++ {
		for _, f := range split(uint16(i), 17, udp, 1480) {
			frames = append(frames, f.frame())
		}
	}
	var p, q Packet
	b.SetBytes(int64(len(udp) / 3))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		Decode(LinkTypeIPv4, frames[i%len(frames)], &p)
		p.Timestamp = t0
		if d.Add(&p) {
			d.Datagram(&q)
		}
	}
}
