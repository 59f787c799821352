package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime/metrics"
	"testing"
	"time"
	"unsafe"

	"github.com/ulikunitz/xz"
)

// fuzzLinkTypes are the link types FuzzDecode picks from (by index, so that
// every mutation of the first byte lands on one), with one Decode does not
// know. New ones go at the end, so that the seeds under testdata/fuzz keep
// their link type.
var fuzzLinkTypes = []uint16{
	LinkTypeEthernet, LinkTypeNull, LinkTypeLoop, LinkTypeRaw, LinkTypeRaw12, LinkTypeRaw14,
	LinkTypeLinuxSLL, LinkTypeSLL2, LinkTypeIPv4, LinkTypeIPv6, LinkTypePPP,
	LinkTypeCHDLC, LinkTypeNFLOG, LinkType80211, LinkTypeRadiotap, LinkTypePPI, 147,
}

func linkTypeIndex(lt uint16) uint8 {
	for i, v := range fuzzLinkTypes {
		if v == lt {
			return uint8(i)
		}
	}
	return 0
}

// checkDecoded checks what must hold for any frame: slices stay inside frame,
// addresses are set exactly for IP.
func checkDecoded(t *testing.T, frame []byte, p *Packet) {
	t.Helper()
	if len(p.Frame) != len(frame) {
		t.Fatalf("Frame has %d bytes; want %d", len(p.Frame), len(frame))
	}
	if len(p.Payload) > 0 {
		start := uintptr(unsafe.Pointer(unsafe.SliceData(frame)))
		ps := uintptr(unsafe.Pointer(unsafe.SliceData(p.Payload)))
		if ps < start || ps+uintptr(len(p.Payload)) > start+uintptr(len(frame)) {
			t.Fatalf("Payload (%d bytes) is not inside the frame (%d bytes)", len(p.Payload), len(frame))
		}
	}
	ip := p.L3 == L3IPv4 || p.L3 == L3IPv6
	if p.Src.IsValid() != ip || p.Dst.IsValid() != ip {
		t.Fatalf("L3 %v with Src %v Dst %v", p.L3, p.Src, p.Dst)
	}
	if p.L3 != L3IPv4 && (p.SrcPort != 0 || len(p.Payload) != 0 || p.Proto != 0) {
		t.Fatalf("L3 %v with transport fields set: %+v", p.L3, summarize(p))
	}
	tn := p.Tunnel
	if tn.Depth > MaxTunnelDepth || (tn.Depth == 0) != (tn.Kind == EncapNone) || (tn.Depth == 0) != !tn.Src.IsValid() ||
		tn.Src.Is4() != tn.Dst.Is4() || (tn.TooDeep && tn.Depth != MaxTunnelDepth) {
		t.Fatalf("Tunnel %+v", tn)
	}
	if p.fragAt != 0 {
		h := frame[p.fragAt-1:]
		if !p.Fragment || len(h) < 20 || h[0]>>4 != 4 || binary.BigEndian.Uint16(h[6:8])&0x3fff == 0 || p.fragDepth > tn.Depth {
			t.Fatalf("fragAt %d (depth %d) is not an IPv4 fragment header of the frame", p.fragAt, p.fragDepth)
		}
	}
}

func FuzzDecode(f *testing.F) {
	tcp, udp, v6 := ipv4TCP(f, "hello"), ipv4UDP(f, "query"), ipv6UDP(f)
	for _, s := range []struct {
		lt    uint16
		frame []byte
	}{
		{LinkTypeEthernet, eth(0x0800, tcp)},
		{LinkTypeEthernet, eth(0x88a8, cat(tag(100, 0x8100), tag(10, 0x0800), udp))},
		{LinkTypeEthernet, eth(0x8864, cat([]byte{0x11, 0}, u16(1), u16(uint16(2+len(tcp))), u16(0x0021), tcp))},
		{LinkTypeEthernet, eth(0x8847, cat([]byte{0, 1, 0, 64, 0, 2, 1, 64}, udp))},
		{LinkTypeEthernet, eth(uint16(8+len(udp)), cat([]byte{0xaa, 0xaa, 3, 0, 0, 0}, u16(0x0800), udp))},
		{LinkTypeNull, nullLE(2, tcp)},
		{LinkTypeLoop, nullBE(30, v6)},
		{LinkTypeRaw, ipv4WithOptions(tcp)},
		{LinkTypeLinuxSLL, sll(0x0800, 1, tcp)},
		{LinkTypeSLL2, sll2(0x0800, 1, udp)},
		{LinkTypeIPv4, edit(udp, func(b []byte) { b[6] = 0x20 })},
		{LinkTypeIPv6, v6},
		// Encapsulations, and 802.11.
		{LinkTypeEthernet, eth(0x0800, outer4(f, 47, cat(gre(0x10, 0, 0x88be, 1), []byte{0x10, 0x17, 0x08, 0x64, 0, 0, 0, 0}, ether(0x0800, tcp))))},
		{LinkTypeRaw, outer4(f, 47, cat(gre(0x10, 0, 0x22eb, 1), []byte{0x20, 0x14, 0, 0, 0, 0, 0x14, 0x58, 0, 0, 0x80, 0x31}, make([]byte, 8), ether(0x0800, udp)))},
		{LinkTypeRaw, outer4(f, 47, cat(gre(0xb0, 0, 0x6558, 1, 2, 3), ether(0x8100, cat(tag(5, 0x0800), udp))))},
		{LinkTypeRaw, udpOuter(f, portVXLAN, cat(vxlanHdr(0x08), ether(0x0800, tcp)))},
		{LinkTypeRaw, udpOuter(f, portGeneve, cat(geneveHdr(0, 2, 0x6558), ether(0x0800, udp)))},
		{LinkTypeRaw, udpOuter(f, portGTPU, gtpu(tcp, true))},
		{LinkTypeRaw, udpOuter(f, portGREUDP, cat(gre(0x20, 0, 0x86dd, 1), v6))},
		{LinkTypeRaw, outer6(f, 60, cat([]byte{4, 0, 1, 4, 0, 0, 0, 0}, udp))},
		{LinkTypeRaw, outer4(f, 41, outer6(f, 47, cat(gre(0, 0, 0x0800), tcp)))},
		{LinkTypeRaw, nestIPIP(f, udp, 5)},
		{LinkTypeRaw, firstFragment(udpOuter(f, portVXLAN, cat(vxlanHdr(0x08), ether(0x0800, tcp))), 64)},
		{LinkType80211, wlanData(true, 0, snap(0x0800, tcp))},
		{LinkTypeRadiotap, radiotap(0x30, cat(wlanData(true, wlanAMSDU, nil), []byte{0, 0}, make([]byte, 12), u16(uint16(8+len(udp))), snap(0x0800, udp)))},
		{LinkTypePPI, ppi(LinkType80211, wlanData(false, 0, snap(0x86dd, v6)))},
	} {
		f.Add(linkTypeIndex(s.lt), s.frame)
	}
	// Real frames from the fixtures, the tunnelled and 802.11 ones too.
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.pcap*"))
	more, _ := filepath.Glob(filepath.Join(tunnelDir, "*.pcap*"))
	paths = append(paths, more...)
	for _, path := range paths {
		s, err := OpenFiles([]string{path}, Options{})
		if err != nil {
			f.Fatal(err)
		}
		var p Packet
		for s.Next(&p) == nil {
			f.Add(linkTypeIndex(p.LinkType), append([]byte(nil), p.Frame...))
		}
		s.Close()
	}
	f.Fuzz(func(t *testing.T, lt uint8, frame []byte) {
		var p Packet
		Decode(fuzzLinkTypes[int(lt)%len(fuzzLinkTypes)], frame, &p)
		checkDecoded(t, frame, &p)
	})
}

// fuzzRead reads data as a capture file to the end: no panic, a bounded
// number of records, frames within MaxSnap, memory within the bounds of the
// package doc.
func fuzzRead(t *testing.T, data []byte) {
	// Decoder limits of 1 MiB: the fuzzer finds a header asking for more
	// sooner than it fills a larger window.
	cfg := openConfig{opt: Options{MaxSnap: 65536}, size: int64(len(data)), maxWindow: 1 << 20, maxDict: 1 << 20}
	// Memory must not follow a lying length: what one input may allocate is
	// bounded by MaxSnap and the decoder limits, not by the input (the
	// package doc's bound, for MaxSnap 64 KiB, with slack; lz4's two 4 MiB
	// blocks are the most). runtime/metrics counts a small object once its
	// span is used up, a large one at once, which is what a lying length
	// would make; runtime.ReadMemStats is exact but stops the world, twice
	// an input, and took 20 of the 40 µs an input costs.
	allocs := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(allocs)
	before := allocs[0].Value.Uint64()
	defer func() {
		metrics.Read(allocs)
		if n := allocs[0].Value.Uint64() - before; n > 24<<20 {
			t.Fatalf("reading %d bytes allocated %d bytes", len(data), n)
		}
	}()
	src, info, err := openStream(bytes.NewReader(data), io.NopCloser(nil), cfg)
	if err != nil {
		if _, ok := err.(*damageError); !ok && err != errEmpty && !errors.Is(err, ErrUnknownFormat) && decoderLimit(err) == "" {
			t.Fatalf("openStream error neither damage, empty, unknown format nor a decoder limit: %v", err)
		}
		return
	}
	defer src.close()
	src.setReadOn(func(int64, string) {})
	var p Packet
	// Every record takes at least 12 bytes of the (decompressed) stream;
	// gzip can expand an input 1032 times at most. The other decoders
	// expand far more (zstd and bzip2 repeat runs, to gigabytes): reading
	// stops at limit records for them, and any compressed input at 16 MiB
	// of decompressed stream, not to spend the fuzzer's time decoding.
	limit := 1032*len(data)/12 + 2
	for n := 0; ; n++ {
		if n > limit {
			if info.compression != "" && info.compression != "gzip" {
				return
			}
			t.Fatalf("more than %d records from %d bytes", limit, len(data))
		}
		if info.compression != "" && p.Offset > 16<<20 {
			return
		}
		err := src.next(&p)
		if err != nil {
			if _, ok := err.(*damageError); !ok && err != io.EOF {
				t.Fatalf("next: error neither damage nor EOF: %v", err)
			}
			return
		}
		if len(p.Frame) > cfg.opt.MaxSnap || len(p.Frame) != p.CapLen {
			t.Fatalf("frame of %d bytes, CapLen %d, MaxSnap %d", len(p.Frame), p.CapLen, cfg.opt.MaxSnap)
		}
		Decode(p.LinkType, p.Frame, &p)
		checkDecoded(t, p.Frame, &p)
	}
}

func addFixtures(f *testing.F, glob string) {
	paths, _ := filepath.Glob(filepath.Join("testdata", glob))
	if len(paths) == 0 {
		f.Fatalf("no seeds match testdata/%s", glob)
	}
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzReadPcap(f *testing.F) {
	addFixtures(f, "*.pcap")
	f.Add(gzipBytes(f, buildPcap(pcapSpec{snap: 65535, linkType: 1}, rec{ts: t0, data: eth(0x0800, ipv4TCP(f, "gz"))})))
	f.Add(buildPcap(pcapSpec{order: binary.BigEndian, nano: true, major: 2, minor: 2, snap: 0, linkType: 276},
		rec{ts: t0, data: sll2(0x0800, 1, ipv4UDP(f, "x"))}, rec{ts: t0, data: []byte{1}, wireLen: 0}))
	f.Fuzz(fuzzRead)
}

func FuzzReadPcapng(f *testing.F) {
	addFixtures(f, "*.pcapng")
	n := newNg(binary.BigEndian)
	n.shb(1, 0)
	n.idb(LinkTypeSLL2, 0, n.opt(ngOptTSResol, []byte{0x80 | 20}))
	n.epb(0, 12345, sll2(0x0800, 1, ipv4UDP(f, "x")))
	n.spb(sll2(0x86dd, 1, ipv6UDP(f)))
	n.isb(0)
	f.Add(n.buf)
	f.Add(gzipBytes(f, n.buf))
	f.Fuzz(fuzzRead)
}

// FuzzReadCompressed reads the compressed fixtures mutated: the decoders,
// the xz guard and the limits on their memory.
func FuzzReadCompressed(f *testing.F) {
	addFixtures(f, "compressed/*.*z*")
	// The xz fixtures ask for dictionaries of 8 MiB and more, over the
	// fuzz limit of 1 MiB: one that decodes.
	var b bytes.Buffer
	w, err := xz.WriterConfig{DictCap: 64 << 10, BlockSize: 1 << 10}.NewWriter(&b)
	if err != nil {
		f.Fatal(err)
	}
	w.Write(buildPcap(pcapSpec{snap: 65535, linkType: 1}, rec{ts: t0, data: eth(0x0800, ipv4TCP(f, "xz"))}, rec{ts: t0, data: eth(0x0800, ipv4UDP(f, "xz"))}))
	if err := w.Close(); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Fuzz(fuzzRead)
}

// refPacket is a packet copied out of its reader, for a reference merge.
type refPacket struct {
	ts       time.Time
	linkType uint16
	wire     int
	frame    string
}

// readAlone reads one input to its end or its damage, copying every packet;
// false when it has more than 2^14 or 4 MiB (a compressed input can hold
// millions).
func readAlone(data []byte, opt Options) ([]refPacket, bool) {
	src, _, err := openStream(bytes.NewReader(data), io.NopCloser(nil), openConfig{opt: opt, maxWindow: 1 << 20, maxDict: 1 << 20})
	if err != nil {
		return nil, true
	}
	defer src.close()
	var out []refPacket
	var p Packet
	for src.next(&p) == nil {
		if len(out) == 1<<14 || p.Offset > 4<<20 {
			return nil, false
		}
		out = append(out, refPacket{p.Timestamp, p.LinkType, p.WireLen, string(p.Frame)})
	}
	return out, true
}

// refMerge merges inputs as mergecap does, the earlier input first among
// equal times, and drops duplicates the slow, obvious way: a packet is a
// duplicate when, among the packets of its timestamp delivered just before
// it, one from another input has its bytes and has not been matched by a
// packet of its input yet. It reports false when a run of one timestamp
// outgrows dupWindowSize, past which FileSet forgets.
func refMerge(inputs [][]refPacket) ([]refPacket, bool) {
	type entry struct {
		p    refPacket
		seen map[int]bool
	}
	var out []refPacket
	var group []*entry
	heads := make([]int, len(inputs))
	for {
		best := -1
		for i, in := range inputs {
			if heads[i] < len(in) && (best < 0 || in[heads[i]].ts.Before(inputs[best][heads[best]].ts)) {
				best = i
			}
		}
		if best < 0 {
			return out, true
		}
		p := inputs[best][heads[best]]
		heads[best]++
		if len(group) > 0 && !group[0].p.ts.Equal(p.ts) {
			group = group[:0]
		}
		dup := false
		for _, e := range group {
			if e.p == p && !e.seen[best] {
				e.seen[best], dup = true, true
				break
			}
		}
		if dup {
			continue
		}
		if group = append(group, &entry{p, map[int]bool{best: true}}); len(group) > dupWindowSize {
			return nil, false
		}
		out = append(out, p)
	}
}

// FuzzMerge reads two inputs as streams of one FileSet and holds what comes
// out against refMerge of the inputs read alone.
func FuzzMerge(f *testing.F) {
	a := eth(0x0800, ipv4TCP(f, "a"))
	b := eth(0x0800, ipv4UDP(f, "b"))
	s := time.Second
	one := buildPcap(pcapSpec{snap: 65535, linkType: 1}, rec{ts: t0, data: a}, rec{ts: t0.Add(s), data: b}, rec{ts: t0.Add(s), data: b}, rec{ts: t0.Add(3 * s), data: a})
	two := buildPcap(pcapSpec{snap: 65535, linkType: 1, nano: true}, rec{ts: t0.Add(s), data: b}, rec{ts: t0.Add(2 * s), data: a}, rec{ts: t0.Add(s), data: a})
	n := newNg(binary.LittleEndian)
	n.shb(1, 0)
	n.idb(1, 0)
	n.epb(0, uint64(t0.Add(s).UnixMicro()), b)
	n.spb(b)
	n.epb(0, uint64(t0.Add(3*s).UnixMicro()), a)
	f.Add(one, one)
	f.Add(one, two)
	f.Add(two, n.buf)
	f.Add(gzipBytes(f, one), n.buf)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		opt := Options{MaxSnap: 65536, Defrag: DefragConfig{Off: true}}
		ra, okA := readAlone(a, opt)
		rb, okB := readAlone(b, opt)
		if !okA || !okB {
			return
		}
		want, ok := refMerge([][]refPacket{ra, rb})
		s := newFileSet(opt)
		s.maxWindow, s.maxDict = 1<<20, 1<<20
		for i, data := range [][]byte{a, b} {
			s.addStream(string(rune('a'+i)), &fileReader{f: bytes.NewReader(data)}, io.NopCloser(nil))
		}
		defer s.Close()
		var got []refPacket
		var p Packet
		for s.Next(&p) == nil && len(got) <= len(want) {
			got = append(got, refPacket{p.Timestamp, p.LinkType, p.WireLen, string(p.Frame)})
		}
		if !ok {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("merged %d packets; the reference %d", len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("packet %d = %v %d bytes; the reference has %v %d bytes", i, got[i].ts, len(got[i].frame), want[i].ts, len(want[i].frame))
			}
		}
		st := s.Stats()
		if st.Frames != len(got) || st.Frames+st.Duplicates != len(ra)+len(rb) {
			t.Fatalf("Stats() = %d frames, %d duplicates; want %d frames of %d read", st.Frames, st.Duplicates, len(got), len(ra)+len(rb))
		}
	})
}
