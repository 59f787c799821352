package capture

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"testing"
	"unsafe"
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
// number of records, frames within MaxSnap.
func fuzzRead(t *testing.T, data []byte) {
	opt := Options{MaxSnap: 65536}
	src, err := openStream("fuzz", bytes.NewReader(data), int64(len(data)), io.NopCloser(nil), opt)
	if err != nil {
		if _, ok := err.(*damageError); !ok && !strings.Contains(err.Error(), ErrUnknownFormat.Error()) {
			t.Fatalf("openStream error neither damage nor unknown format: %v", err)
		}
		return
	}
	defer src.close()
	// Memory must not follow a lying length: what one input may allocate is
	// bounded by MaxSnap, not by the input (the package doc's bound, for
	// MaxSnap 64 KiB, with slack). runtime/metrics counts a small object
	// once its span is used up, a large one at once, which is what a lying
	// length would make; runtime.ReadMemStats is exact but stops the world,
	// twice an input, and took 20 of the 40 µs an input costs.
	allocs := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(allocs)
	before := allocs[0].Value.Uint64()
	defer func() {
		metrics.Read(allocs)
		if n := allocs[0].Value.Uint64() - before; n > 8<<20 {
			t.Fatalf("reading %d bytes allocated %d bytes", len(data), n)
		}
	}()
	var p Packet
	// Every record takes at least 12 bytes of the (decompressed) stream;
	// gzip can expand an input 1032 times at most.
	limit := 1032*len(data)/12 + 2
	for n := 0; ; n++ {
		if n > limit {
			t.Fatalf("more than %d records from %d bytes", limit, len(data))
		}
		err := src.next(&p)
		if err != nil {
			if _, ok := err.(*damageError); !ok && err != io.EOF {
				t.Fatalf("next: error neither damage nor EOF: %v", err)
			}
			return
		}
		if len(p.Frame) > opt.MaxSnap || len(p.Frame) != p.CapLen {
			t.Fatalf("frame of %d bytes, CapLen %d, MaxSnap %d", len(p.Frame), p.CapLen, opt.MaxSnap)
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
