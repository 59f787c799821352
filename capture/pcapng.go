package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"

	"github.com/google/gopacket/pcapgo"
)

// pcapng block types.
const (
	ngIDB = 1
	ngPB  = 2 // obsolete Packet Block
	ngSPB = 3
	ngISB = 5
	ngEPB = 6
	ngSHB = magicPcapng

	ngOptTSResol = 9 // if_tsresol

	// ngBlockSlack is what a block may hold beyond MaxSnap bytes of packet
	// data: headers, options, comments.
	ngBlockSlack = 64 << 10
)

// ngSource reads a pcapng file with pcapgo.NgReader behind an ngGuard.
type ngSource struct {
	c  io.Closer
	g  *ngGuard
	r  *pcapgo.NgReader
	st stream
}

// ngGuard sits between the stream and pcapgo.NgReader. It reads one whole
// block at a time into its own buffer, checks it, and only then lets NgReader
// read it, so that NgReader never sees a block that would make it allocate
// what a length field claims (EPB captured length, IDB snap length), divide by
// zero (if_tsresol of 2^-64 or 10^-20 and beyond), or run past a block (option
// lengths). It also knows what NgReader does not tell: each packet block's
// offset and its interface's full 16-bit link type (pcapgo's LinkType is 8
// bits wide and reads 276, SLL2, as 20).
//
// NgReader reads ahead through a bufio.Reader, so the guard queues offset and
// link type of each packet block it lets through; ngSource pops one per packet
// NgReader returns. NgReader returns every packet block in order (mixed link
// types allowed, unknown section versions stopped by the guard), so the queue
// stays in step.
type ngGuard struct {
	r       *bufio.Reader
	st      stream
	maxSnap uint32
	buf     []byte // the current block
	pos     int    // next byte of buf to hand out
	off     int64  // offset of the next block
	err     error  // sticky: io.EOF or damage
	order   binary.ByteOrder
	ifaces  []ngIface // interfaces of the current section
	pend    []ngPending
	ph      int      // head of pend
	hdr     [12]byte // block header being read (a field: a local would escape)
}

type ngIface struct {
	linkType uint16
	snap     uint32 // after clamping
}

type ngPending struct {
	off      int64
	linkType uint16
}

func openPcapng(m [4]byte, r io.Reader, c io.Closer, st stream, opt Options) (source, error) {
	g := &ngGuard{
		r:       bufio.NewReaderSize(io.MultiReader(bytes.NewReader(m[:]), r), ioBufSize),
		st:      st,
		maxSnap: uint32(opt.MaxSnap),
	}
	nr, err := pcapgo.NewNgReader(g, pcapgo.NgReaderOptions{WantMixedLinkType: true})
	if err != nil {
		return nil, g.damage(err)
	}
	return &ngSource{c: c, g: g, r: nr, st: st}, nil
}

func (s *ngSource) close() error { return s.c.Close() }

func (s *ngSource) next(p *Packet) error {
	data, ci, err := s.r.ZeroCopyReadPacketData()
	if err != nil {
		return s.g.damage(err)
	}
	g := s.g
	if g.ph >= len(g.pend) { // cannot happen: every packet went through the guard
		return damagef(g.off, "pcapng reader out of step with block checks near %s %d", s.st.where, g.off)
	}
	pk := g.pend[g.ph]
	g.ph++
	if g.ph == len(g.pend) {
		g.pend, g.ph = g.pend[:0], 0
	}
	p.Timestamp = ci.Timestamp
	p.Offset = pk.off
	p.WireLen, p.CapLen = ci.Length, ci.CaptureLength
	p.LinkType = pk.linkType
	p.Interface = ci.InterfaceIndex
	p.Frame = data
	return nil
}

// damage turns an error out of NgReader into what source.next returns: our
// own damage and I/O errors as they are, a clean io.EOF as is, anything else
// (which the guard's checks should make impossible) as damage at the block
// being read.
func (g *ngGuard) damage(err error) error {
	switch e := err.(type) {
	case *damageError, *ioError:
		return e
	}
	if err == io.EOF {
		return io.EOF
	}
	off := g.off - int64(len(g.buf))
	return damagef(off, "pcapng block near %s %d rejected by pcapgo: %v", g.st.where, off, err)
}

// Read hands out checked blocks.
func (g *ngGuard) Read(b []byte) (int, error) {
	for g.pos >= len(g.buf) {
		if g.err != nil {
			return 0, g.err
		}
		if g.err = g.load(); g.err != nil {
			// Never hand out a block that failed its checks.
			g.buf, g.pos = g.buf[:0], 0
		}
	}
	n := copy(b, g.buf[g.pos:])
	g.pos += n
	return n, nil
}

func (g *ngGuard) fail(off int64, format string, args ...any) error {
	g.buf, g.pos = g.buf[:0], 0
	return damagef(off, format, args...)
}

// load reads and checks the next block. It returns io.EOF at a clean end
// between blocks and a *damageError (or I/O error) otherwise.
func (g *ngGuard) load() error {
	off := g.off
	where := g.st.where
	g.buf, g.pos = g.buf[:0], 0
	hdr := g.hdr[:]
	n, err := io.ReadFull(g.r, hdr[:8])
	if err != nil {
		if err == io.EOF && n == 0 {
			return io.EOF
		}
		return g.st.streamErr(err, off, "pcapng block")
	}
	typLE := leU32(hdr[:4])
	if typLE == ngSHB {
		if _, err := io.ReadFull(g.r, hdr[8:12]); err != nil {
			return g.st.streamErr(err, off, "pcapng section header")
		}
		switch {
		case leU32(hdr[8:12]) == 0x1a2b3c4d:
			g.order = binary.LittleEndian
		case beU32(hdr[8:12]) == 0x1a2b3c4d:
			g.order = binary.BigEndian
		default:
			return g.fail(off, "pcapng section header at %s %d has a bad byte-order magic %x; rest of file skipped", where, off, hdr[8:12])
		}
	} else if g.order == nil {
		return g.fail(off, "pcapng file does not start with a section header")
	}
	typ := g.order.Uint32(hdr[:4])
	length := g.order.Uint32(hdr[4:8])
	if length < 12 || length%4 != 0 {
		return g.fail(off, "pcapng block at %s %d (type %#x) has total length %d, not a multiple of 4 of at least 12 (corrupt block); rest of file skipped", where, off, typ, length)
	}
	if limit := g.maxSnap + ngBlockSlack; length > limit {
		return g.fail(off, "pcapng block at %s %d (type %#x) claims %d bytes, over the %d-byte limit (corrupt length field); rest of file skipped", where, off, typ, length, limit)
	}
	head := 8
	if typ == ngSHB {
		head = 12
	}
	if cap(g.buf) < int(length) {
		g.buf = make([]byte, 0, max(int(length), 2048))
	}
	b := g.buf[:length] // g.buf stays empty until the block has passed
	copy(b, hdr[:head])
	if _, err := io.ReadFull(g.r, b[head:]); err != nil {
		return g.st.streamErr(err, off, "pcapng block")
	}
	if trail := g.order.Uint32(b[length-4:]); trail != length {
		return g.fail(off, "pcapng block at %s %d (type %#x): leading length %d and trailing length %d differ (corrupt block); rest of file skipped", where, off, typ, length, trail)
	}
	if err := g.check(typ, b, off); err != nil {
		return err
	}
	g.buf = b
	g.off += int64(length)
	return nil
}

// check checks one whole block (header through trailing length) the way
// NgReader will read it, fixes what NgReader would refuse but the format
// allows, and queues packet blocks.
func (g *ngGuard) check(typ uint32, b []byte, off int64) error {
	where := g.st.where
	o := g.order
	tooShort := func(name string, min int) error {
		return g.fail(off, "pcapng %s at %s %d is %d bytes, shorter than its minimum %d (corrupt block); rest of file skipped", name, where, off, len(b), min)
	}
	end := len(b) - 4 // options end before the trailing length
	switch typ {
	case ngSHB:
		if len(b) < 28 {
			return tooShort("section header", 28)
		}
		major, minor := o.Uint16(b[12:14]), o.Uint16(b[14:16])
		if major != 1 {
			return g.fail(off, "pcapng section at %s %d has version %d.%d; only 1.x can be read; rest of file skipped", where, off, major, minor)
		}
		// 1.2 is 1.0 with more block types; pcapgo wants 1.0.
		o.PutUint16(b[14:16], 0)
		if err := g.checkOptions(b[24:end], false, off, "section header"); err != nil {
			return err
		}
		g.ifaces = g.ifaces[:0]
	case ngIDB:
		if len(b) < 20 {
			return tooShort("interface description", 20)
		}
		if err := g.checkOptions(b[16:end], true, off, "interface description"); err != nil {
			return err
		}
		// pcapgo sizes its packet buffer by the interface snap length.
		snap := o.Uint32(b[12:16])
		if snap == 0 || snap > g.maxSnap {
			snap = g.maxSnap
			o.PutUint32(b[12:16], snap)
		}
		g.ifaces = append(g.ifaces, ngIface{linkType: o.Uint16(b[8:10]), snap: snap})
	case ngEPB, ngPB:
		name := "enhanced packet block"
		var iface uint32
		if typ == ngPB {
			name = "packet block"
		}
		if len(b) < 32 {
			return tooShort(name, 32)
		}
		if typ == ngEPB {
			iface = o.Uint32(b[8:12])
		} else {
			iface = uint32(o.Uint16(b[8:10]))
		}
		if int64(iface) >= int64(len(g.ifaces)) {
			return g.fail(off, "pcapng %s at %s %d names interface %d but its section describes %d; rest of file skipped", name, where, off, iface, len(g.ifaces))
		}
		capLen := o.Uint32(b[20:24])
		if capLen > g.maxSnap || capLen > uint32(len(b)-32) {
			return g.fail(off, "pcapng %s at %s %d claims %d captured bytes in a %d-byte block (limit %d; corrupt length field); rest of file skipped", name, where, off, capLen, len(b), g.maxSnap)
		}
		g.push(ngPending{off: off, linkType: g.ifaces[iface].linkType})
	case ngSPB:
		if len(b) < 16 {
			return tooShort("simple packet block", 16)
		}
		if len(g.ifaces) == 0 {
			return g.fail(off, "pcapng simple packet block at %s %d comes before any interface description; rest of file skipped", where, off)
		}
		capLen := min(o.Uint32(b[8:12]), g.ifaces[0].snap)
		if capLen > uint32(len(b)-16) {
			return g.fail(off, "pcapng simple packet block at %s %d holds %d bytes of a %d-byte packet (corrupt length field); rest of file skipped", where, off, len(b)-16, capLen)
		}
		g.push(ngPending{off: off, linkType: g.ifaces[0].linkType})
	case ngISB:
		if len(b) < 24 {
			return tooShort("interface statistics block", 24)
		}
		if iface := o.Uint32(b[8:12]); int64(iface) >= int64(len(g.ifaces)) {
			return g.fail(off, "pcapng interface statistics block at %s %d names interface %d but its section describes %d; rest of file skipped", where, off, iface, len(g.ifaces))
		}
		if err := g.checkOptions(b[20:end], false, off, "interface statistics block"); err != nil {
			return err
		}
	}
	return nil
}

// push queues a packet block. The queue holds what NgReader's read-ahead has
// taken but not yet returned (at most a bufio buffer's worth of blocks): it is
// compacted in place rather than grown, so it stays that size.
func (g *ngGuard) push(pk ngPending) {
	if len(g.pend) == cap(g.pend) && g.ph > 0 {
		n := copy(g.pend, g.pend[g.ph:])
		g.pend, g.ph = g.pend[:n], 0
	}
	g.pend = append(g.pend, pk)
}

// checkOptions walks the options NgReader will parse.
func (g *ngGuard) checkOptions(b []byte, idb bool, off int64, name string) error {
	for len(b) > 0 {
		if len(b) < 4 {
			return g.fail(off, "pcapng %s at %s %d: options end mid-option (corrupt block); rest of file skipped", name, g.st.where, off)
		}
		code, n := g.order.Uint16(b[0:2]), int(g.order.Uint16(b[2:4]))
		if code == 0 { // opt_endofopt
			if n != 0 {
				return g.fail(off, "pcapng %s at %s %d: end-of-options with length %d (corrupt block); rest of file skipped", name, g.st.where, off, n)
			}
			return nil
		}
		padded := (n + 3) &^ 3
		if 4+padded > len(b) {
			return g.fail(off, "pcapng %s at %s %d: option %d of %d bytes runs past the block (corrupt block); rest of file skipped", name, g.st.where, off, code, n)
		}
		if idb && code == ngOptTSResol {
			if n < 1 {
				return g.fail(off, "pcapng %s at %s %d: empty if_tsresol option (corrupt block); rest of file skipped", name, g.st.where, off)
			}
			v := b[4]
			exp, binary2 := v&0x7f, v&0x80 != 0
			if (binary2 && exp > 63) || (!binary2 && exp > 19) {
				return g.fail(off, "pcapng %s at %s %d: timestamp resolution %#x is finer than 2^-63 or 10^-19 s (corrupt option); rest of file skipped", name, g.st.where, off, v)
			}
		}
		b = b[4+padded:]
	}
	return nil
}
