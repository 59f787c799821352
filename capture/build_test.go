package capture

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Capture file builders for tests: pcap in either byte order and resolution,
// pcapng block by block (so tests can write what no writer would).

// byteOrder reads and appends.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

type rec struct {
	ts      time.Time
	data    []byte
	wireLen int // 0: len(data)
}

type pcapSpec struct {
	order        byteOrder
	nano         bool
	major, minor uint16 // 0: 2.4
	snap         uint32 // 0 stays 0
	linkType     uint32
}

func buildPcap(spec pcapSpec, recs ...rec) []byte {
	var o byteOrder = binary.LittleEndian
	if spec.order != nil {
		o = spec.order
	}
	magic := uint32(magicPcapMicro)
	if spec.nano {
		magic = magicPcapNano
	}
	major, minor := spec.major, spec.minor
	if major == 0 {
		major, minor = 2, 4
	}
	b := o.AppendUint32(nil, magic)
	b = o.AppendUint16(b, major)
	b = o.AppendUint16(b, minor)
	b = o.AppendUint32(b, 0)
	b = o.AppendUint32(b, 0)
	b = o.AppendUint32(b, spec.snap)
	b = o.AppendUint32(b, spec.linkType)
	for _, r := range recs {
		b = appendPcapRecord(b, o, spec.nano, r)
	}
	return b
}

func appendPcapRecord(b []byte, o byteOrder, nano bool, r rec) []byte {
	frac := r.ts.Nanosecond()
	if !nano {
		frac /= 1000
	}
	wire := r.wireLen
	if wire == 0 {
		wire = len(r.data)
	}
	b = o.AppendUint32(b, uint32(r.ts.Unix()))
	b = o.AppendUint32(b, uint32(frac))
	b = o.AppendUint32(b, uint32(len(r.data)))
	b = o.AppendUint32(b, uint32(wire))
	return append(b, r.data...)
}

// ng builds pcapng blocks in one byte order.
type ng struct {
	o   byteOrder
	buf []byte
}

func newNg(o byteOrder) *ng { return &ng{o: o} }

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// block appends a block of type typ with body (padded), returning its offset.
func (n *ng) block(typ uint32, body []byte) int {
	off := len(n.buf)
	body = pad4(append([]byte(nil), body...))
	l := uint32(12 + len(body))
	n.buf = n.o.AppendUint32(n.buf, typ)
	n.buf = n.o.AppendUint32(n.buf, l)
	n.buf = append(n.buf, body...)
	n.buf = n.o.AppendUint32(n.buf, l)
	return off
}

func (n *ng) opt(code uint16, val []byte) []byte {
	b := n.o.AppendUint16(nil, code)
	b = n.o.AppendUint16(b, uint16(len(val)))
	return pad4(append(b, val...))
}

func (n *ng) shb(major, minor uint16, opts ...[]byte) int {
	body := n.o.AppendUint32(nil, 0x1a2b3c4d)
	body = n.o.AppendUint16(body, major)
	body = n.o.AppendUint16(body, minor)
	body = n.o.AppendUint64(body, ^uint64(0))
	for _, op := range opts {
		body = append(body, op...)
	}
	return n.block(ngSHB, body)
}

func (n *ng) idb(linkType uint16, snap uint32, opts ...[]byte) int {
	body := n.o.AppendUint16(nil, linkType)
	body = n.o.AppendUint16(body, 0)
	body = n.o.AppendUint32(body, snap)
	for _, op := range opts {
		body = append(body, op...)
	}
	if len(opts) > 0 {
		body = append(body, 0, 0, 0, 0) // opt_endofopt
	}
	return n.block(ngIDB, body)
}

// epb appends an enhanced packet block; ts is in the interface's units.
func (n *ng) epb(iface uint32, ts uint64, data []byte) int {
	body := n.o.AppendUint32(nil, iface)
	body = n.o.AppendUint32(body, uint32(ts>>32))
	body = n.o.AppendUint32(body, uint32(ts))
	body = n.o.AppendUint32(body, uint32(len(data)))
	body = n.o.AppendUint32(body, uint32(len(data)))
	body = append(body, data...)
	return n.block(ngEPB, body)
}

func (n *ng) spb(data []byte) int {
	body := n.o.AppendUint32(nil, uint32(len(data)))
	return n.block(ngSPB, append(body, data...))
}

func (n *ng) isb(iface uint32) int {
	body := n.o.AppendUint32(nil, iface)
	body = n.o.AppendUint64(body, 0)
	return n.block(ngISB, body)
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// got is one packet as read by a FileSet, copied out.
type got struct {
	ts        time.Time
	off       int64
	linkType  uint16
	iface     int
	frame     string
	l3        Layer3
	wire, cap int
}

// readFiles reads paths to the end and returns packets, damage and stats.
func readFiles(t testing.TB, opt Options, paths ...string) ([]got, []Damage, Stats) {
	t.Helper()
	s, err := OpenFiles(paths, opt)
	if err != nil {
		t.Fatalf("OpenFiles: %v", err)
	}
	defer s.Close()
	var out []got
	var p Packet
	for {
		err := s.Next(&p)
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("Next: %v", err)
			}
			break
		}
		out = append(out, got{p.Timestamp, p.Offset, p.LinkType, p.Interface, string(p.Frame), p.L3, p.WireLen, p.CapLen})
	}
	return out, s.Damage(), s.Stats()
}
