package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 123456789, time.UTC)

func TestReadPcapFormats(t *testing.T) {
	a := eth(0x0800, ipv4TCP(t, "hello"))
	b := eth(0x0800, ipv4UDP(t, "query"))
	tests := []struct {
		name string
		spec pcapSpec
		res  time.Duration // timestamp resolution
	}{
		{"little_endian_microseconds", pcapSpec{order: binary.LittleEndian, snap: 65535, linkType: 1}, time.Microsecond},
		{"big_endian_microseconds", pcapSpec{order: binary.BigEndian, snap: 65535, linkType: 1}, time.Microsecond},
		{"little_endian_nanoseconds", pcapSpec{order: binary.LittleEndian, nano: true, snap: 65535, linkType: 1}, time.Nanosecond},
		{"big_endian_nanoseconds", pcapSpec{order: binary.BigEndian, nano: true, snap: 65535, linkType: 1}, time.Nanosecond},
		{"version_2_3", pcapSpec{major: 2, minor: 3, snap: 65535, linkType: 1}, time.Microsecond},
		{"version_3_0", pcapSpec{major: 3, minor: 0, snap: 65535, linkType: 1}, time.Microsecond},
		{"snaplen_zero", pcapSpec{snap: 0, linkType: 1}, time.Microsecond},
		{"snaplen_below_records", pcapSpec{snap: 16, linkType: 1}, time.Microsecond},
		{"link_type_with_fcs_bits", pcapSpec{snap: 65535, linkType: 0x10000000 | 1}, time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := buildPcap(tt.spec, rec{ts: t0, data: a}, rec{ts: t0.Add(time.Second), data: b})
			path := writeFile(t, t.TempDir(), "x.pcap", data)
			pkts, dmg, _ := readFiles(t, Options{}, path)
			if len(dmg) != 0 {
				t.Fatalf("damage %v; want none", dmg)
			}
			if len(pkts) != 2 {
				t.Fatalf("read %d packets; want 2", len(pkts))
			}
			want := []got{
				{t0.Truncate(tt.res), 24, 1, 0, string(a), L3IPv4, len(a), len(a)},
				{t0.Add(time.Second).Truncate(tt.res), int64(24 + 16 + len(a)), 1, 0, string(b), L3IPv4, len(b), len(b)},
			}
			for i := range want {
				if !pkts[i].ts.Equal(want[i].ts) || pkts[i].off != want[i].off || pkts[i].linkType != want[i].linkType ||
					pkts[i].frame != want[i].frame || pkts[i].l3 != want[i].l3 || pkts[i].wire != want[i].wire || pkts[i].cap != want[i].cap {
					t.Errorf("packet %d = %+v; want %+v", i, pkts[i], want[i])
				}
			}
		})
	}
}

func TestReadPcapCapturedLongerThanWire(t *testing.T) {
	// tcpdump and Wireshark read such a record; pcapgo refuses it.
	a := eth(0x0800, ipv4TCP(t, "hello"))
	data := buildPcap(pcapSpec{snap: 65535, linkType: 1},
		rec{ts: t0, data: a}, rec{ts: t0, data: a, wireLen: 10}, rec{ts: t0.Add(time.Second), data: a})
	pkts, dmg, _ := readFiles(t, Options{}, writeFile(t, t.TempDir(), "x.pcap", data))
	if len(dmg) != 0 || len(pkts) != 3 {
		t.Fatalf("read %d packets, damage %v; want 3, none", len(pkts), dmg)
	}
	if pkts[1].wire != 10 || pkts[1].cap != len(a) || pkts[1].frame != string(a) || !pkts[1].ts.Equal(t0.Truncate(time.Microsecond)) {
		t.Errorf("record 1 = %+v; want wire 10, cap %d, same frame and time", pkts[1], len(a))
	}
}

func TestPcapDamage(t *testing.T) {
	a := eth(0x0800, ipv4TCP(t, "hello"))
	whole := buildPcap(pcapSpec{snap: 65535, linkType: 1}, rec{ts: t0, data: a}, rec{ts: t0, data: a}, rec{ts: t0, data: a})
	rec2 := int64(24 + 16 + len(a))
	rec3 := 2*rec2 - 24
	huge := edit(whole, func(b []byte) { binary.LittleEndian.PutUint32(b[rec2+8:], 0xfffffff0) })
	tests := []struct {
		name    string
		data    []byte
		packets int
		off     int64
		reason  string
	}{
		{"cut_mid_record_data", whole[:len(whole)-5], 2, rec3, "truncated record at offset " + itoa(rec3) + " (file still being written?)"},
		{"cut_mid_record_header", whole[:rec3+7], 2, rec3, "truncated record at offset " + itoa(rec3) + ": header cut after 7 of 16 bytes (file still being written?)"},
		{"cut_after_record_header", whole[:rec3+16], 2, rec3, "truncated record at offset " + itoa(rec3) + " (file still being written?)"},
		{"record_huge_incl_len", huge, 1, rec2, "record at offset " + itoa(rec2) + " claims 4294967280 captured bytes, over the 262144-byte limit (corrupt length field); rest of file skipped"},
		{"global_header_cut", whole[:10], 0, 0, "pcap file header cut short after 10 of 24 bytes (file still being written?)"},
		{"magic_cut", whole[:2], 0, 0, "file header cut short after 2 bytes (file still being written?)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "x.pcap", tt.data)
			pkts, dmg, st := readFiles(t, Options{}, path)
			if len(pkts) != tt.packets {
				t.Errorf("read %d packets; want %d", len(pkts), tt.packets)
			}
			want := []Damage{{File: path, Offset: tt.off, Reason: tt.reason}}
			if len(dmg) != 1 || dmg[0] != want[0] {
				t.Errorf("Damage() = %+v; want %+v", dmg, want)
			}
			if st.DamagedFiles != 1 {
				t.Errorf("Stats().DamagedFiles = %d; want 1", st.DamagedFiles)
			}
		})
	}
}

// TestPcapFractionReadOn: a record whose fraction of a second is a second
// or more is framed all the same, so it is damage that does not stop
// reading (tshark and tcpdump read on; reading stopped there before):
// counted, the first offset kept, and timed at the last nanosecond of its
// second.
func TestPcapFractionReadOn(t *testing.T) {
	a := eth(0x0800, ipv4TCP(t, "hello"))
	size := int64(16 + len(a))
	off := func(i int) int64 { return 24 + int64(i)*size }
	tests := []struct {
		name    string
		nano    bool
		frac    uint32
		bad     []int // records given the fraction
		records int
		reason  string
	}{
		{"micros_one_second", false, 1e6, []int{1, 3}, 2, "record at offset " + itoa(off(1)) + " has a fraction of a second of 1000000 µs, not under 10^6 (corrupt timestamp); its framing is intact"},
		{"micros_max", false, 0xffffffff, []int{0}, 1, "record at offset 24 has a fraction of a second of 4294967295 µs, not under 10^6"},
		{"nanos_one_second", true, 1e9, []int{2}, 1, "record at offset " + itoa(off(2)) + " has a fraction of a second of 1000000000 ns, not under 10^9"},
		{"nanos_max", true, 0xffffffff, []int{1, 2, 3}, 3, "record at offset " + itoa(off(1)) + " has a fraction of a second of 4294967295 ns, not under 10^9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var recs []rec
			for i := range 4 {
				recs = append(recs, rec{ts: t0.Add(time.Duration(i) * time.Second), data: a})
			}
			data := buildPcap(pcapSpec{nano: tt.nano, snap: 65535, linkType: 1}, recs...)
			for _, i := range tt.bad {
				binary.LittleEndian.PutUint32(data[off(i)+4:], tt.frac)
			}
			path := writeFile(t, t.TempDir(), "x.pcap", data)
			pkts, dmg, st := readFiles(t, Options{}, path)
			if len(pkts) != 4 {
				t.Fatalf("read %d packets; want 4", len(pkts))
			}
			res := time.Microsecond
			if tt.nano {
				res = time.Nanosecond
			}
			for i, p := range pkts {
				want := recs[i].ts.Truncate(res)
				if slices.Contains(tt.bad, i) {
					want = recs[i].ts.Truncate(time.Second).Add(time.Second - time.Nanosecond)
				}
				if !p.ts.Equal(want) || p.off != off(i) {
					t.Errorf("packet %d at %v, offset %d; want %v, %d", i, p.ts, p.off, want, off(i))
				}
			}
			if len(dmg) != 1 || dmg[0].Kind != DamageReadOn || dmg[0].Offset != off(tt.bad[0]) || dmg[0].Records != tt.records ||
				dmg[0].File != path || dmg[0].Decompressed || !strings.HasPrefix(dmg[0].Reason, tt.reason) {
				t.Errorf("Damage() = %+v; want one read-on, %d records from offset %d: %s", dmg, tt.records, off(tt.bad[0]), tt.reason)
			}
			if st.DamagedFiles != 1 || st.Frames != 4 {
				t.Errorf("Stats() = %d damaged files, %d frames; want 1, 4", st.DamagedFiles, st.Frames)
			}
		})
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// TestOpenFilesErrors: OpenFiles fails only when none of its inputs can be
// read, naming each.
func TestOpenFilesErrors(t *testing.T) {
	dir := t.TempDir()
	text := writeFile(t, dir, "notes.pcap", []byte("This is not a capture\n"))
	gzText := writeFile(t, dir, "notes.pcap.gz", gzipBytes(t, []byte("This is not a capture either\n")))
	badGzip := writeFile(t, dir, "bad.gz", []byte{0x1f, 0x8b, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0})
	missing := filepath.Join(dir, "missing.pcap")
	notCaptures := filepath.Join(dir, "texts")
	if err := os.Mkdir(notCaptures, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, notCaptures, "a.txt", []byte("text\n"))

	tests := []struct {
		name   string
		paths  []string
		is     error
		substr []string
	}{
		{"no_files", nil, nil, []string{"no files given"}},
		{"missing_file", []string{missing}, fs.ErrNotExist, []string{missing, "cannot open"}},
		{"text_file", []string{text}, ErrUnknownFormat, []string{text, "magic 54686973", "expected pcap"}},
		{"gzipped_text_file", []string{gzText}, ErrUnknownFormat, []string{gzText, "expected pcap"}},
		{"corrupt_gzip_header", []string{badGzip}, ErrUnknownFormat, []string{badGzip, "corrupt gzip stream"}},
		{"directory_without_captures", []string{notCaptures}, nil, []string{notCaptures, "holds no capture file (1 other files skipped)"}},
		{"all_unreadable", []string{missing, text}, fs.ErrNotExist, []string{missing + ": cannot open: no such file or directory; " + text + ": not a pcap or pcapng file (magic 54686973)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := OpenFiles(tt.paths, Options{})
			if err == nil {
				s.Close()
				t.Fatalf("OpenFiles(%v) = nil error; want one", tt.paths)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("OpenFiles error %q is not %v", err, tt.is)
			}
			for _, sub := range tt.substr {
				if !strings.Contains(err.Error(), sub) {
					t.Errorf("OpenFiles error %q does not say %q", err, sub)
				}
			}
		})
	}
}

// TestUnreadableAmongOthers: an input that cannot be read no longer stops
// the others; it is a Damage of kind DamageUnreadable, in argument order.
func TestUnreadableAmongOthers(t *testing.T) {
	dir := t.TempDir()
	text := writeFile(t, dir, "notes.pcap", []byte("This is not a capture\n"))
	good := writeFile(t, dir, "good.pcap", buildPcap(pcapSpec{snap: 65535, linkType: 1}, rec{ts: t0, data: eth(0x0806, make([]byte, 28))}))
	missing := filepath.Join(dir, "missing.pcap")
	pkts, dmg, st := readFiles(t, Options{}, missing, good, text)
	if len(pkts) != 1 {
		t.Errorf("read %d packets; want 1", len(pkts))
	}
	want := []Damage{
		{File: missing, Kind: DamageUnreadable, Reason: "cannot open: no such file or directory"},
		{File: text, Kind: DamageUnreadable, Reason: "not a pcap or pcapng file (magic 54686973); " + expectedFormats},
	}
	if !slices.Equal(dmg, want) {
		t.Errorf("Damage() = %+v; want %+v", dmg, want)
	}
	if st.Files != 1 || st.DamagedFiles != 2 || len(st.Inputs) != 3 || st.Inputs[1].Name != good || st.Inputs[1].Frames != 1 || st.Inputs[1].Format != "pcap" {
		t.Errorf("Stats() = %+v; want 1 file read, 2 damaged, 3 inputs, good.pcap second with 1 frame", st)
	}
}

func TestMultiFileOrdering(t *testing.T) {
	dir := t.TempDir()
	frame := func(i int) []byte { return eth(0x0800, ipv4UDP(t, strings.Repeat("x", i+1))) }
	day := 24 * time.Hour
	// A rotated week, named so that name order is not time order.
	mon := writeFile(t, dir, "c.pcap", buildPcap(pcapSpec{snap: 65535, linkType: 1}, rec{ts: t0, data: frame(0)}, rec{ts: t0.Add(time.Hour), data: frame(1)}))
	tueNg := newNg(binary.BigEndian)
	tueNg.shb(1, 0)
	tueNg.idb(1, 0)
	tueNg.epb(0, uint64(t0.Add(day).UnixMicro()), frame(2))
	tue := writeFile(t, dir, "a.pcapng.gz", gzipBytes(t, tueNg.buf))
	// Wednesday's first packet is later than its second: a file's packets
	// come out in their order in the file (as mergecap merges them).
	wed := writeFile(t, dir, "b.pcap", buildPcap(pcapSpec{snap: 65535, linkType: 1, nano: true},
		rec{ts: t0.Add(2 * day), data: frame(3)}, rec{ts: t0.Add(day / 2), data: frame(4)}))
	empty := writeFile(t, dir, "0-being-written.pcap", nil)

	pkts, dmg, st := readFiles(t, Options{}, empty, wed, mon, tue)
	var order []int
	for _, p := range pkts {
		order = append(order, len(p.frame)-len(frame(0)))
	}
	if want := []int{0, 1, 2, 3, 4}; !slices.Equal(order, want) {
		t.Errorf("packet order = %v; want %v", order, want)
	}
	// A file of no bytes is empty, not damaged.
	if len(dmg) != 0 {
		t.Errorf("Damage() = %+v; want none", dmg)
	}
	if st.Files != 4 || st.Frames != 5 || st.LinkTypes[1] != 5 || st.DamagedFiles != 0 {
		t.Errorf("Stats() = %+v; want 4 files, 5 frames, all Ethernet, none damaged", st)
	}
	if in := st.Inputs[0]; in.Name != empty || !in.Empty || in.Frames != 0 || in.Format != "" {
		t.Errorf("Stats().Inputs[0] = %+v; want %s, empty", in, empty)
	}
}

// TestMergeEqualTimestampsInInputOrder: of packets of equal timestamps, the
// earlier input's comes first (mergecap's rule), whatever the file names.
func TestMergeEqualTimestampsInInputOrder(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, n int) string {
		return writeFile(t, dir, name, buildPcap(pcapSpec{snap: 65535, linkType: 101},
			rec{ts: t0, data: ipv4UDP(t, strings.Repeat("y", n))}, rec{ts: t0, data: ipv4UDP(t, strings.Repeat("z", n))}))
	}
	b, a := mk("b.pcap", 2), mk("a.pcap", 1)
	pkts, _, _ := readFiles(t, Options{}, b, a)
	var got []int
	for _, p := range pkts {
		got = append(got, len(p.frame))
	}
	n := len(ipv4UDP(t, ""))
	if want := []int{n + 2, n + 2, n + 1, n + 1}; !slices.Equal(got, want) {
		t.Errorf("frame lengths = %v; want %v (b.pcap, given first, before a.pcap)", got, want)
	}
}

func TestPcapngMultipleInterfacesAndSections(t *testing.T) {
	tcp := ipv4TCP(t, "hello")
	udp := ipv4UDP(t, "query")
	ethF, nullF, sll2F := eth(0x0800, tcp), nullLE(2, udp), sll2(0x0800, 1, udp)
	rawF := ipv4UDP(t, "second section")

	le := newNg(binary.LittleEndian)
	le.shb(1, 0)
	le.idb(LinkTypeEthernet, 65535)                                      // µs (default)
	le.idb(LinkTypeNull, 0, le.opt(ngOptTSResol, []byte{9}))             // ns
	le.idb(LinkTypeSLL2, 1<<31, le.opt(ngOptTSResol, []byte{0x80 | 10})) // 2^-10 s, lying snap length
	le.block(0x0bad, []byte("custom block, skipped"))                    // custom block
	o1 := le.epb(0, uint64(t0.UnixMicro()), ethF)
	o2 := le.epb(1, uint64(t0.UnixNano()), nullF)
	le.isb(1)
	o3 := le.epb(2, uint64(t0.Unix())<<10|512, sll2F) // +0.5 s
	o4 := le.spb(ethF)
	// A second section, big-endian, with one interface of another link type.
	be := newNg(binary.BigEndian)
	be.shb(1, 2) // version 1.2 reads as 1.0
	be.idb(LinkTypeIPv4, 65535)
	o5 := len(le.buf) + be.epb(0, uint64(t0.UnixMicro())+1, rawF)
	data := append(le.buf, be.buf...)

	for _, gz := range []bool{false, true} {
		name := "multi.pcapng"
		d := data
		if gz {
			name, d = "multi.pcapng.gz", gzipBytes(t, data)
		}
		t.Run(name, func(t *testing.T) {
			pkts, dmg, st := readFiles(t, Options{}, writeFile(t, t.TempDir(), name, d))
			if len(dmg) != 0 {
				t.Fatalf("damage %v; want none", dmg)
			}
			want := []got{
				{t0.Truncate(time.Microsecond), int64(o1), LinkTypeEthernet, 0, string(ethF), L3IPv4, len(ethF), len(ethF)},
				{t0, int64(o2), LinkTypeNull, 1, string(nullF), L3IPv4, len(nullF), len(nullF)},
				{t0.Truncate(time.Second).Add(500 * time.Millisecond), int64(o3), LinkTypeSLL2, 2, string(sll2F), L3IPv4, len(sll2F), len(sll2F)},
				{t0.Truncate(time.Second).Add(500 * time.Millisecond), int64(o4), LinkTypeEthernet, 0, string(ethF), L3IPv4, len(ethF), len(ethF)}, // the time before
				{t0.Truncate(time.Microsecond).Add(time.Microsecond), int64(o5), LinkTypeIPv4, 0, string(rawF), L3IPv4, len(rawF), len(rawF)},
			}
			if len(pkts) != len(want) {
				t.Fatalf("read %d packets; want %d", len(pkts), len(want))
			}
			for i := range want {
				g := pkts[i]
				// pcapgo converts 2^-10 s units with integer steps of
				// 976562 ns: allow it less than a microsecond.
				d := g.ts.Sub(want[i].ts)
				tsOK := d > -time.Microsecond && d < time.Microsecond
				if !tsOK || g.off != want[i].off || g.linkType != want[i].linkType || g.iface != want[i].iface ||
					g.frame != want[i].frame || g.l3 != want[i].l3 || g.cap != want[i].cap {
					t.Errorf("packet %d = %+v; want %+v", i, g, want[i])
				}
			}
			if st.LinkTypes[LinkTypeEthernet] != 2 || st.LinkTypes[LinkTypeSLL2] != 1 || st.LinkTypes[LinkTypeIPv4] != 1 || len(st.Unsupported) != 0 {
				t.Errorf("Stats() = %+v", st)
			}
		})
	}
}

// TestPcapngSimplePacketTime: a simple packet block has no timestamp and
// takes the time of the packet before it (the zero time before the first),
// across sections too.
func TestPcapngSimplePacketTime(t *testing.T) {
	frame := eth(0x0800, ipv4TCP(t, "x"))
	t1 := t0.Add(time.Second).Truncate(time.Microsecond)
	tests := []struct {
		name  string
		build func(n *ng)
		want  []time.Time
	}{
		{"epb_then_spb", func(n *ng) {
			n.epb(0, uint64(t0.UnixMicro()), frame)
			n.spb(frame)
		}, []time.Time{t0.Truncate(time.Microsecond), t0.Truncate(time.Microsecond)}},
		{"spb_epb_spb_spb", func(n *ng) {
			n.spb(frame)
			n.epb(0, uint64(t1.UnixMicro()), frame)
			n.spb(frame)
			n.spb(frame)
		}, []time.Time{{}, t1, t1, t1}},
		{"spb_in_next_section", func(n *ng) {
			n.epb(0, uint64(t1.UnixMicro()), frame)
			n.shb(1, 0)
			n.idb(LinkTypeEthernet, 0)
			n.spb(frame)
		}, []time.Time{t1, t1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNg(binary.LittleEndian)
			n.shb(1, 0)
			n.idb(LinkTypeEthernet, 0)
			tt.build(n)
			pkts, dmg, _ := readFiles(t, Options{}, writeFile(t, t.TempDir(), "x.pcapng", n.buf))
			if len(dmg) != 0 || len(pkts) != len(tt.want) {
				t.Fatalf("read %d packets, damage %v; want %d, none", len(pkts), dmg, len(tt.want))
			}
			for i, w := range tt.want {
				if !pkts[i].ts.Equal(w) {
					t.Errorf("packet %d time = %v; want %v", i, pkts[i].ts, w)
				}
			}
		})
	}
}

// TestPcapngFromNgWriter reads what gopacket's own writer writes: two
// interfaces of different link types and timestamp resolutions.
func TestPcapngFromNgWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ngwriter.pcapng")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcapgo.NewNgWriterInterface(f, pcapgo.NgInterface{Name: "eth0", LinkType: layers.LinkTypeEthernet, SnapLength: 65535, TimestampResolution: 6}, pcapgo.DefaultNgWriterOptions)
	if err != nil {
		t.Fatal(err)
	}
	lo, err := w.AddInterface(pcapgo.NgInterface{Name: "lo0", LinkType: layers.LinkTypeNull, SnapLength: 65535, TimestampResolution: 9})
	if err != nil {
		t.Fatal(err)
	}
	a, b := eth(0x0800, ipv4TCP(t, "a")), nullBE(2, ipv4UDP(t, "b"))
	for i, pk := range []struct {
		iface int
		data  []byte
	}{{0, a}, {lo, b}, {0, a}} {
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(pk.data), Length: len(pk.data), InterfaceIndex: pk.iface}
		if err := w.WritePacket(ci, pk.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	pkts, dmg, st := readFiles(t, Options{}, path)
	if len(dmg) != 0 || len(pkts) != 3 {
		t.Fatalf("read %d packets, damage %v; want 3, none", len(pkts), dmg)
	}
	if pkts[1].linkType != LinkTypeNull || pkts[1].iface != 1 || !pkts[1].ts.Equal(t0.Add(time.Millisecond)) {
		t.Errorf("packet 1 = %+v; want Null on interface 1 at %v (ns resolution)", pkts[1], t0.Add(time.Millisecond))
	}
	if !pkts[2].ts.Equal(t0.Add(2 * time.Millisecond)) {
		t.Errorf("packet 2 time = %v; want %v", pkts[2].ts, t0.Add(2*time.Millisecond))
	}
	if st.LinkTypes[1] != 2 || st.LinkTypes[0] != 1 {
		t.Errorf("Stats().LinkTypes = %v; want 2 Ethernet, 1 Null", st.LinkTypes)
	}
}

func TestPcapngDamage(t *testing.T) {
	frame := eth(0x0800, ipv4TCP(t, "hello"))
	// base returns a builder with a section, an interface and one packet.
	base := func() (*ng, int) {
		n := newNg(binary.LittleEndian)
		n.shb(1, 0)
		n.idb(1, 65535)
		n.epb(0, 1, frame)
		return n, len(n.buf)
	}
	type tc struct {
		name    string
		data    []byte
		packets int
		off     int
		reason  string
	}
	var tests []tc
	{
		n, off := base()
		n.epb(0, 2, frame)
		tests = append(tests, tc{"cut_mid_block", n.buf[:len(n.buf)-7], 1, off, "truncated pcapng block at offset %d (file still being written?)"})
		tests = append(tests, tc{"cut_mid_block_header", n.buf[:off+5], 1, off, "truncated pcapng block at offset %d (file still being written?)"})
	}
	{
		// The first block larger than any before it grows the guard's
		// buffer; cut, it must not be handed to pcapgo half read (found by
		// FuzzReadPcapng: pcapgo then read a garbage captured length and
		// allocated 358 MB).
		n, off := base()
		n.epb(0, 2, cat(frame, make([]byte, 3000)))
		tests = append(tests, tc{"cut_mid_block_larger_than_any_before", n.buf[:off+100], 1, off, "truncated pcapng block at offset %d (file still being written?)"})
	}
	{
		n, off := base()
		n.epb(0, 2, frame)
		binary.LittleEndian.PutUint32(n.buf[off+4:], 30)
		tests = append(tests, tc{"block_length_not_multiple_of_4", n.buf, 1, off, "pcapng block at offset %d (type 0x6) has total length 30, not a multiple of 4 of at least 12 (corrupt block); rest of file skipped"})
	}
	{
		n, off := base()
		n.epb(0, 2, frame)
		binary.LittleEndian.PutUint32(n.buf[len(n.buf)-4:], 8)
		tests = append(tests, tc{"trailing_length_differs", n.buf, 1, off, "pcapng block at offset %d (type 0x6): leading length 92 and trailing length 8 differ (corrupt block); rest of file skipped"})
	}
	{
		n, off := base()
		n.epb(0, 2, frame)
		binary.LittleEndian.PutUint32(n.buf[off+4:], 0x7ffffff0)
		tests = append(tests, tc{"block_length_huge", n.buf, 1, off, "pcapng block at offset %d (type 0x6) claims 2147483632 bytes, over the 327680-byte limit (corrupt length field); rest of file skipped"})
	}
	{
		n, off := base()
		n.epb(0, 2, frame)
		binary.LittleEndian.PutUint32(n.buf[off+20:], 0xfffffff0)
		tests = append(tests, tc{"epb_captured_length_huge", n.buf, 1, off, "pcapng enhanced packet block at offset %d claims 4294967280 captured bytes in a 92-byte block (limit 262144; corrupt length field); rest of file skipped"})
	}
	{
		n, off := base()
		n.epb(3, 2, frame)
		tests = append(tests, tc{"epb_unknown_interface", n.buf, 1, off, "pcapng enhanced packet block at offset %d names interface 3 but its section describes 1; rest of file skipped"})
	}
	{
		n, off := base()
		n.idb(1, 0, n.opt(ngOptTSResol, []byte{0x80 | 64}))
		tests = append(tests, tc{"tsresol_divides_by_zero", n.buf, 1, off, "pcapng interface description at offset %d: timestamp resolution 0xc0 is finer than 2^-63 or 10^-19 s (corrupt option); rest of file skipped"})
	}
	{
		n, off := base()
		n.idb(1, 0, n.opt(ngOptTSResol, []byte{20}))
		tests = append(tests, tc{"tsresol_decimal_overflow", n.buf, 1, off, "pcapng interface description at offset %d: timestamp resolution 0x14 is finer than 2^-63 or 10^-19 s (corrupt option); rest of file skipped"})
	}
	{
		n, off := base()
		n.idb(1, 0, n.opt(ngOptTSResol, nil))
		tests = append(tests, tc{"tsresol_empty", n.buf, 1, off, "pcapng interface description at offset %d: empty if_tsresol option (corrupt block); rest of file skipped"})
	}
	{
		n, off := base()
		n.idb(1, 0, n.opt(2, []byte("eth0")))
		binary.LittleEndian.PutUint16(n.buf[off+18:], 200) // option length past the block
		tests = append(tests, tc{"option_runs_past_block", n.buf, 1, off, "pcapng interface description at offset %d: option 2 of 200 bytes runs past the block (corrupt block); rest of file skipped"})
	}
	{
		n, off := base()
		n.shb(2, 0)
		n.idb(1, 0)
		n.epb(0, 2, frame)
		tests = append(tests, tc{"section_version_2", n.buf, 1, off, "pcapng section at offset %d has version 2.0; only 1.x can be read; rest of file skipped"})
	}
	{
		n, off := base()
		n.isb(5)
		tests = append(tests, tc{"isb_unknown_interface", n.buf, 1, off, "pcapng interface statistics block at offset %d names interface 5 but its section describes 1; rest of file skipped"})
	}
	{
		n := newNg(binary.LittleEndian)
		n.shb(1, 0)
		off := len(n.buf)
		n.spb(frame)
		tests = append(tests, tc{"spb_before_interface", n.buf, 0, off, "pcapng simple packet block at offset %d comes before any interface description; rest of file skipped"})
	}
	{
		n := newNg(binary.LittleEndian)
		n.shb(1, 0)
		tests = append(tests, tc{"section_header_cut", n.buf[:20], 0, 0, "truncated pcapng block at offset %d (file still being written?)"})
		bad := edit(n.buf, func(b []byte) { b[8] = 0 })
		tests = append(tests, tc{"byte_order_magic_wrong", bad, 0, 0, "pcapng section header at offset %d has a bad byte-order magic 003c2b1a; rest of file skipped"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "x.pcapng", tt.data)
			pkts, dmg, _ := readFiles(t, Options{}, path)
			if len(pkts) != tt.packets {
				t.Errorf("read %d packets; want %d", len(pkts), tt.packets)
			}
			want := Damage{File: path, Offset: int64(tt.off), Reason: strings.Replace(tt.reason, "%d", itoa(int64(tt.off)), 1)}
			if len(dmg) != 1 || dmg[0] != want {
				t.Errorf("Damage() = %+v; want [%+v]", dmg, want)
			}
		})
	}
}

func TestGzipCorpusFile(t *testing.T) {
	dir := corpusDir(t)
	for _, name := range []string{"dev/arkime__curl-enabled-tls13.pcap", "malformed/ndpi__ossfuzz_seed_fake_traces_1.pcapng"} {
		t.Run(filepath.Base(name), func(t *testing.T) {
			plain := filepath.Join(dir, name)
			data, err := os.ReadFile(plain)
			if err != nil {
				t.Fatal(err)
			}
			// The name says nothing: detection is by magic.
			gz := writeFile(t, t.TempDir(), "capture.bin", gzipBytes(t, data))
			want, _, _ := readFiles(t, Options{}, plain)
			got, dmg, _ := readFiles(t, Options{}, gz)
			if len(dmg) != 0 || len(got) != len(want) || len(want) == 0 {
				t.Fatalf("gzip: %d packets, damage %v; plain: %d", len(got), dmg, len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("packet %d: gzip %+v; plain %+v", i, got[i], want[i])
				}
			}
		})
	}
}

func TestGzipTruncated(t *testing.T) {
	a := eth(0x0800, ipv4TCP(t, strings.Repeat("z", 1000)))
	var recs []rec
	for i := 0; i < 50; i++ {
		recs = append(recs, rec{ts: t0.Add(time.Duration(i) * time.Second), data: a})
	}
	gz := gzipBytes(t, buildPcap(pcapSpec{snap: 65535, linkType: 1}, recs...))
	path := writeFile(t, t.TempDir(), "cut.pcap.gz", gz[:len(gz)*2/3])
	pkts, dmg, _ := readFiles(t, Options{}, path)
	if len(pkts) == 0 || len(pkts) >= 50 {
		t.Errorf("read %d packets; want some but not all 50", len(pkts))
	}
	wantOff := int64(24 + len(pkts)*(16+len(a)))
	if len(dmg) != 1 || dmg[0].Offset != wantOff || !strings.Contains(dmg[0].Reason, "at decompressed offset "+itoa(wantOff)) ||
		!strings.Contains(dmg[0].Reason, "truncated") {
		t.Errorf("Damage() = %+v; want one truncated record at decompressed offset %d", dmg, wantOff)
	}
}

func TestStatsUnsupportedLinkType(t *testing.T) {
	// LINKTYPE_USER0 (147): private use, nothing to decode.
	data := buildPcap(pcapSpec{snap: 65535, linkType: 147}, rec{ts: t0, data: cat([]byte{0xff, 3, 0, 0x21}, ipv4UDP(t, "q"))})
	pkts, _, st := readFiles(t, Options{}, writeFile(t, t.TempDir(), "user0.pcap", data))
	if len(pkts) != 1 || pkts[0].l3 != L3Unknown || st.Unsupported[147] != 1 || st.LinkTypes[147] != 1 {
		t.Errorf("USER0 capture: %d packets, L3 %v, Stats %+v; want 1 packet, L3Unknown, Unsupported[147] = 1", len(pkts), pkts[0].l3, st)
	}
	if st.FileBytes != int64(len(data)) || st.CapturedBytes != int64(len(data)-40) {
		t.Errorf("Stats() bytes = %d on disk, %d captured; want %d, %d", st.FileBytes, st.CapturedBytes, len(data), len(data)-40)
	}
}

// allocFile writes a capture of n packets for allocation and benchmark tests.
func allocFile(t testing.TB, dir string, pcapng bool, n int) string {
	frames := [][]byte{eth(0x0800, ipv4TCP(t, strings.Repeat("p", 600))), eth(0x8100, cat(tag(5, 0x0800), ipv4UDP(t, "dns"))), eth(0x86dd, ipv6UDP(t))}
	if !pcapng {
		var recs []rec
		for i := 0; i < n; i++ {
			recs = append(recs, rec{ts: t0.Add(time.Duration(i) * time.Millisecond), data: frames[i%len(frames)]})
		}
		return writeFile(t, dir, "alloc.pcap", buildPcap(pcapSpec{snap: 65535, linkType: 1}, recs...))
	}
	raw := ipv4UDP(t, "raw")
	b := newNg(binary.LittleEndian)
	b.shb(1, 0)
	b.idb(1, 65535)
	b.idb(101, 65535, b.opt(ngOptTSResol, []byte{9}))
	for i := 0; i < n; i++ {
		if i%4 == 3 {
			b.epb(1, uint64(t0.UnixNano())+uint64(i), raw)
			continue
		}
		b.epb(0, uint64(t0.UnixMicro())+uint64(i), frames[i%len(frames)])
	}
	return writeFile(t, dir, "alloc.pcapng", b.buf)
}

func TestFileSetNextAllocs(t *testing.T) {
	dir := t.TempDir()
	pcap, ng := allocFile(t, dir, false, 3000), allocFile(t, dir, true, 3000)
	data, err := os.ReadFile(pcap)
	if err != nil {
		t.Fatal(err)
	}
	var zst, lz bytes.Buffer
	zw, _ := zstd.NewWriter(&zst)
	lw := lz4.NewWriter(&lz)
	for _, w := range []io.WriteCloser{zw, lw} {
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// xz is left out: ulikunitz/xz allocates an operation per LZMA match
	// it decodes, about one per packet here. bzip2, which has no writer
	// here, allocated none when measured on a file made by bzip2.
	for _, c := range []struct {
		name  string
		paths []string
	}{
		{"pcap", []string{pcap}},
		{"pcapng", []string{ng}},
		{"zstd", []string{writeFile(t, dir, "alloc.pcap.zst", zst.Bytes())}},
		{"lz4", []string{writeFile(t, dir, "alloc.pcap.lz4", lz.Bytes())}},
		// The same packets twice, one copy compressed: the merge hashes
		// every packet and drops every second one.
		{"merged_duplicates", []string{pcap, writeFile(t, dir, "alloc.pcap.gz", gzipBytes(t, data))}},
		{"merged_overlapping", []string{pcap, ng}},
	} {
		s, err := OpenFiles(c.paths, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var p Packet
		for i := 0; i < 100; i++ { // warm up: buffers, link type counts
			if err := s.Next(&p); err != nil {
				t.Fatal(err)
			}
		}
		n := testing.AllocsPerRun(2000, func() {
			if err := s.Next(&p); err != nil && err != io.EOF {
				t.Fatal(err)
			}
		})
		if n != 0 {
			t.Errorf("%s: FileSet.Next allocs = %v; want 0", c.name, n)
		}
		if st := s.Stats(); c.name == "merged_duplicates" && st.Duplicates < 2000 {
			t.Errorf("%s: %d duplicates; want every second packet", c.name, st.Duplicates)
		}
		s.Close()
	}
}

// TestTestdataFixtures reads the committed captures: they must stay what
// testdata/README.md says they are.
func TestTestdataFixtures(t *testing.T) {
	tests := []struct {
		file      string
		frames    int
		ipv4      int
		linkTypes map[uint16]int
		damage    string
	}{
		{"tcpdump__ipv4_invalid_hdr_length.pcap", 1, 0, map[uint16]int{1: 1}, ""},
		{"tcpdump__timestamp_invalid_nano.pcap", 3, 3, map[uint16]int{113: 3}, "record at offset 116 has a fraction of a second of 1000000000 ns"},
		{"sv__decode-sll2-01__input.pcap", 5, 5, map[uint16]int{276: 5}, ""},
		{"zeek__dns-svcb.pcap", 2, 2, map[uint16]int{0: 2}, ""},
		{"sv__bug-6875-01__fuzz.pcap", 1, 1, map[uint16]int{1: 1}, "record at offset 228 claims 1409179648 captured bytes"},
		// An IPv6 packet on the IPv4 link type: Malformed, not IPv4.
		{"tcpdump__LINKTYPE_IPV4_invalid.pcap", 1, 0, map[uint16]int{228: 1}, ""},
		{"gopacket__le__test006.pcapng", 5, 5, map[uint16]int{1: 4, 0: 1}, ""},
		{"gopacket__be__test006.pcapng", 5, 5, map[uint16]int{1: 4, 0: 1}, ""},
		{"gopacket__le__test202.pcapng", 8, 8, map[uint16]int{1: 6, 0: 2}, ""},
		{"ndpi__ossfuzz_seed_fake_traces_4.pcapng", 2, 2, map[uint16]int{228: 2}, ""},
		{"zeek__trunc__ip-discarder-truncated-tcp-oob.pcapng", 1, 1, map[uint16]int{1: 1}, ""},
	}
	for _, tt := range tests {
		t.Run(strings.NewReplacer(".", "_", "-", "_").Replace(tt.file), func(t *testing.T) {
			pkts, dmg, st := readFiles(t, Options{}, filepath.Join("testdata", tt.file))
			ipv4 := 0
			for _, p := range pkts {
				if p.l3 == L3IPv4 {
					ipv4++
				}
			}
			if len(pkts) != tt.frames || ipv4 != tt.ipv4 {
				t.Errorf("read %d frames, %d IPv4; want %d, %d", len(pkts), ipv4, tt.frames, tt.ipv4)
			}
			if len(st.LinkTypes) != len(tt.linkTypes) {
				t.Errorf("Stats().LinkTypes = %v; want %v", st.LinkTypes, tt.linkTypes)
			}
			for lt, n := range tt.linkTypes {
				if st.LinkTypes[lt] != n {
					t.Errorf("Stats().LinkTypes = %v; want %v", st.LinkTypes, tt.linkTypes)
				}
			}
			switch {
			case tt.damage == "" && len(dmg) != 0:
				t.Errorf("Damage() = %v; want none", dmg)
			case tt.damage != "" && (len(dmg) != 1 || !strings.Contains(dmg[0].Reason, tt.damage)):
				t.Errorf("Damage() = %v; want one saying %q", dmg, tt.damage)
			}
		})
	}
}

// TestPcapRecordsAcrossChunks reads records that straddle the reader's chunks
// (every size from 0 to 1600 bytes, and one record larger than a chunk), in
// both byte orders, and checks every frame, offset and length, then cuts the
// file at every kind of place around a chunk boundary.
func TestPcapRecordsAcrossChunks(t *testing.T) {
	for _, order := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		var recs []rec
		total := 24
		for i := 0; total < 3*chunkSize; i++ {
			n := (i * 37) % 1601
			if i == 700 {
				n = chunkSize + 1000 // spans more than two chunks
			}
			data := make([]byte, n)
			for j := range data {
				data[j] = byte(i + j)
			}
			ts := t0.Truncate(time.Microsecond).Add(time.Duration(i) * time.Microsecond)
			recs = append(recs, rec{ts: ts, data: data, wireLen: n + 7})
			total += 16 + n
		}
		whole := buildPcap(pcapSpec{order: order, linkType: 1}, recs...)
		// Compressed, the stream's length is unknown: its chunks start at
		// minChunk and grow.
		for _, gz := range []bool{false, true} {
			data := whole
			if gz {
				data = gzipBytes(t, whole)
			}
			pkts, dmg, _ := readFiles(t, Options{MaxSnap: 2 * chunkSize}, writeFile(t, t.TempDir(), "x.pcap", data))
			if len(dmg) != 0 || len(pkts) != len(recs) {
				t.Fatalf("%v gzip %v: read %d packets with damage %v; want %d and none", order, gz, len(pkts), dmg, len(recs))
			}
			off := int64(24)
			for i, p := range pkts {
				r := recs[i]
				if p.frame != string(r.data) || p.off != off || p.cap != len(r.data) || p.wire != r.wireLen || !p.ts.Equal(r.ts) {
					t.Fatalf("%v gzip %v: packet %d = offset %d, %d/%d bytes, %v; want offset %d, %d/%d, %v, same bytes",
						order, gz, i, p.off, p.cap, p.wire, p.ts, off, len(r.data), r.wireLen, r.ts)
				}
				off += 16 + int64(len(r.data))
			}
		}

		// Cut inside the header and inside the data of the record that
		// spans the first chunk boundary.
		var start int64
		for off := int64(24); ; {
			n := 16 + int64(order.Uint32(whole[off+8:off+12]))
			if off+n > chunkSize {
				start = off
				break
			}
			off += n
		}
		for _, cut := range []int64{start + 3, start + 16, chunkSize, chunkSize + 1} {
			pkts, dmg, _ := readFiles(t, Options{MaxSnap: 2 * chunkSize}, writeFile(t, t.TempDir(), "cut.pcap", whole[:cut]))
			if len(dmg) != 1 || dmg[0].Offset != start || !strings.HasPrefix(dmg[0].Reason, "truncated record at offset "+itoa(start)) {
				t.Errorf("%v: cut at %d: damage %+v; want a truncated record at %d", order, cut, dmg, start)
			}
			if len(pkts) == 0 || pkts[len(pkts)-1].off+16+int64(pkts[len(pkts)-1].cap) != start {
				t.Errorf("%v: cut at %d: the packets before the cut record were not all read", order, cut)
			}
		}
	}
}
