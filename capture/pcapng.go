package capture

import (
	"encoding/binary"
	"io"
	"math/bits"
	"time"
)

// pcapng block types.
const (
	ngIDB = 1
	ngPB  = 2 // obsolete Packet Block
	ngSPB = 3
	ngISB = 5
	ngEPB = 6
	ngSHB = magicPcapng

	ngOptTSResol  = 9  // if_tsresol
	ngOptTSOffset = 14 // if_tsoffset

	// ngBlockSlack is what a block may hold beyond MaxSnap bytes of packet
	// data: headers, options, comments.
	ngBlockSlack = 64 << 10

	// ngMaxInterfaces bounds the interfaces of a section (and their memory):
	// a capture of every interface of a large router has hundreds.
	ngMaxInterfaces = 1 << 16
)

// ngSource reads a pcapng file block by block out of read chunks, as
// pcapSource reads records: a block that lies whole in the current chunk is
// checked where it lies and its packet handed out as a slice of it; only a
// block cut by the end of a chunk is joined in a buffer of its own.
//
// Every length is checked before it is used (a block's leading and trailing
// lengths, a captured length against its block and Options.MaxSnap, each
// option against its block, timestamp resolutions that would divide by zero
// or overflow), so a lying field is damage, never an allocation or a panic.
// Blocks of unknown types are skipped. gopacket's pcapgo.NgReader was used
// here before and is kept as the reference in the tests: it cost 22 ms of
// package initialisation at every start, and a copy of every frame.
type ngSource struct {
	c         io.Closer
	in        chunks
	st        stream
	maxSnap   uint32
	off       int64 // offset of the next block
	sectioned bool  // a section header has been read
	order           // the section's byte order
	ifaces    []ngIface
	// last is the timestamp of the packet before, which a simple packet
	// block (it has none) takes: the zero time before the first.
	last time.Time
}

// ngIface is an interface of the current section.
type ngIface struct {
	linkType uint16
	snap     uint32 // snap length; 0 or over MaxSnap reads as MaxSnap
	binary   bool   // timestamp units are 2^-exp s, else 10^-exp s
	exp      uint8
	offset   int64 // if_tsoffset: seconds added to every timestamp
}

func openPcapng(m [4]byte, r io.Reader, c io.Closer, st stream, opt Options) (source, error) {
	s := &ngSource{c: c, in: newChunks(r, st.size), st: st, maxSnap: uint32(opt.MaxSnap)}
	// The magic was read to tell the format: it begins the first block.
	s.in.buf = append(s.in.chunk[:0], m[:]...)
	return s, nil
}

func (s *ngSource) close() error { return s.c.Close() }

// setReadOn: every fault a pcapng reader finds stops it.
func (s *ngSource) setReadOn(func(off int64, reason string)) {}

func (s *ngSource) next(p *Packet) error {
	for {
		off := s.off
		b, err := s.block()
		if err != nil {
			return err
		}
		if s.packet(b, off, p) {
			return nil
		}
		if err := s.check(b, off); err != nil {
			return err
		}
	}
}

// packet fills p from b if b is a packet block, and reports whether it was.
// Its checks fail by leaving p alone and b to check, which says why.
func (s *ngSource) packet(b []byte, off int64, p *Packet) bool {
	var iface, capLen, wireLen uint32
	var data []byte
	ts, stamped := uint64(0), true
	switch s.u32(b[0:4]) {
	case ngEPB, ngPB:
		if len(b) < 32 {
			return false
		}
		iface = s.u32(b[8:12])
		if s.u32(b[0:4]) == ngPB {
			iface = uint32(s.u16(b[8:10]))
		}
		capLen, wireLen = s.u32(b[20:24]), s.u32(b[24:28])
		if int64(iface) >= int64(len(s.ifaces)) || capLen > s.maxSnap || capLen > uint32(len(b)-32) {
			return false
		}
		ts = uint64(s.u32(b[12:16]))<<32 | uint64(s.u32(b[16:20]))
		data = b[28 : 28+capLen : 28+capLen] // an append must not run into the next block
	case ngSPB:
		if len(b) < 16 || len(s.ifaces) == 0 {
			return false
		}
		wireLen = s.u32(b[8:12])
		capLen = min(wireLen, s.ifaces[0].snap)
		if capLen > uint32(len(b)-16) {
			return false
		}
		data, stamped = b[12:12+capLen:12+capLen], false
	default:
		return false
	}
	f := &s.ifaces[iface]
	if stamped {
		s.last = f.time(ts)
	}
	// A simple packet block has no timestamp: it takes the one before, so
	// that time does not jump back to 1970 and forward again (flows and
	// fragments expire by capture time).
	p.Timestamp = s.last
	p.Offset = off
	p.WireLen, p.CapLen = int(wireLen), int(capLen)
	p.LinkType = f.linkType
	p.Interface = int(iface)
	p.Frame = data
	return true
}

// block returns the next whole block, its leading and trailing lengths
// checked, and moves past it.
func (s *ngSource) block() ([]byte, error) {
	off := s.off
	var b []byte
	if in := s.in.buf; s.sectioned && len(in) >= 8 && leU32(in) != ngSHB {
		if n := s.u32(in[4:8]); n >= 12 && n%4 == 0 && n <= s.maxSnap+ngBlockSlack && int(n) <= len(in) {
			b, s.in.buf = in[:n], in[n:]
		}
	}
	if b == nil {
		var err error
		if b, err = s.join(); err != nil {
			return nil, err
		}
	}
	n := uint32(len(b))
	if trail := s.u32(b[n-4:]); trail != n {
		return nil, damagef(off, "pcapng block at %s %d (type %#x): leading length %d and trailing length %d differ (corrupt block); rest of file skipped", s.st.where, off, s.u32(b[0:4]), n, trail)
	}
	s.off += int64(n)
	return b, nil
}

// join reads the next block when it does not lie whole in the current chunk
// (or starts a section), and reports damage in its header.
func (s *ngSource) join() ([]byte, error) {
	off, where := s.off, s.st.where
	b, err := s.in.gather(s.in.joined[:0], 8)
	if err != nil {
		if len(b) == 0 && err == io.EOF {
			return nil, io.EOF
		}
		return nil, s.st.streamErr(err, off, "pcapng block")
	}
	if leU32(b) == ngSHB {
		if b, err = s.in.gather(b, 12); err != nil {
			return nil, s.st.streamErr(err, off, "pcapng section header")
		}
		switch {
		case leU32(b[8:12]) == 0x1a2b3c4d:
			s.big = false
		case beU32(b[8:12]) == 0x1a2b3c4d:
			s.big = true
		default:
			return nil, damagef(off, "pcapng section header at %s %d has a bad byte-order magic %x; rest of file skipped", where, off, b[8:12])
		}
		s.sectioned = true
	} else if !s.sectioned {
		return nil, damagef(off, "pcapng file does not start with a section header")
	}
	typ, n := s.u32(b[0:4]), s.u32(b[4:8])
	if n < 12 || n%4 != 0 {
		return nil, damagef(off, "pcapng block at %s %d (type %#x) has total length %d, not a multiple of 4 of at least 12 (corrupt block); rest of file skipped", where, off, typ, n)
	}
	if limit := s.maxSnap + ngBlockSlack; n > limit {
		return nil, damagef(off, "pcapng block at %s %d (type %#x) claims %d bytes, over the %d-byte limit (corrupt length field); rest of file skipped", where, off, typ, n, limit)
	}
	if b, err = s.in.gather(b, int(n)); err != nil {
		return nil, s.st.streamErr(err, off, "pcapng block")
	}
	s.in.joined = b
	return b, nil
}

// check reads a block that is not a packet, or a packet block that packet
// refused, and says what is wrong with it.
func (s *ngSource) check(b []byte, off int64) error {
	where := s.st.where
	fail := func(format string, args ...any) error {
		return damagef(off, "pcapng "+format+"; rest of file skipped", args...)
	}
	tooShort := func(name string, min int) error {
		return fail("%s at %s %d is %d bytes, shorter than its minimum %d (corrupt block)", name, where, off, len(b), min)
	}
	end := len(b) - 4 // options end before the trailing length
	switch typ := s.u32(b[0:4]); typ {
	case ngSHB:
		if len(b) < 28 {
			return tooShort("section header", 28)
		}
		if major, minor := s.u16(b[12:14]), s.u16(b[14:16]); major != 1 {
			return fail("section at %s %d has version %d.%d; only 1.x can be read", where, off, major, minor)
		}
		if err := s.options(b[24:end], off, "section header", nil); err != nil {
			return err
		}
		s.ifaces = s.ifaces[:0]
	case ngIDB:
		if len(b) < 20 {
			return tooShort("interface description", 20)
		}
		f := ngIface{linkType: s.u16(b[8:10]), snap: s.u32(b[12:16]), exp: 6}
		if f.snap == 0 || f.snap > s.maxSnap {
			f.snap = s.maxSnap
		}
		if err := s.options(b[16:end], off, "interface description", &f); err != nil {
			return err
		}
		if len(s.ifaces) == ngMaxInterfaces {
			return fail("interface description at %s %d: its section already describes %d interfaces, the most read (corrupt file?)", where, off, ngMaxInterfaces)
		}
		s.ifaces = append(s.ifaces, f)
	case ngEPB, ngPB:
		name := "enhanced packet block"
		iface := uint32(0)
		if typ == ngPB {
			name = "packet block"
		}
		if len(b) < 32 {
			return tooShort(name, 32)
		}
		if iface = s.u32(b[8:12]); typ == ngPB {
			iface = uint32(s.u16(b[8:10]))
		}
		if int64(iface) >= int64(len(s.ifaces)) {
			return fail("%s at %s %d names interface %d but its section describes %d", name, where, off, iface, len(s.ifaces))
		}
		return fail("%s at %s %d claims %d captured bytes in a %d-byte block (limit %d; corrupt length field)", name, where, off, s.u32(b[20:24]), len(b), s.maxSnap)
	case ngSPB:
		if len(b) < 16 {
			return tooShort("simple packet block", 16)
		}
		if len(s.ifaces) == 0 {
			return fail("simple packet block at %s %d comes before any interface description", where, off)
		}
		return fail("simple packet block at %s %d holds %d bytes of a %d-byte packet (corrupt length field)", where, off, len(b)-16, min(s.u32(b[8:12]), s.ifaces[0].snap))
	case ngISB:
		if len(b) < 24 {
			return tooShort("interface statistics block", 24)
		}
		if iface := s.u32(b[8:12]); int64(iface) >= int64(len(s.ifaces)) {
			return fail("interface statistics block at %s %d names interface %d but its section describes %d", where, off, iface, len(s.ifaces))
		}
		if err := s.options(b[20:end], off, "interface statistics block", nil); err != nil {
			return err
		}
	}
	return nil
}

// options walks a block's options, each checked against the block, and reads
// an interface's timestamp resolution and offset into f (when not nil).
func (s *ngSource) options(b []byte, off int64, name string, f *ngIface) error {
	fail := func(format string, args ...any) error {
		return damagef(off, "pcapng %s at %s %d: "+format+"; rest of file skipped", append([]any{name, s.st.where, off}, args...)...)
	}
	for len(b) > 0 {
		if len(b) < 4 {
			return fail("options end mid-option (corrupt block)")
		}
		code, n := s.u16(b[0:2]), int(s.u16(b[2:4]))
		if code == 0 { // opt_endofopt
			if n != 0 {
				return fail("end-of-options with length %d (corrupt block)", n)
			}
			return nil
		}
		padded := (n + 3) &^ 3
		if 4+padded > len(b) {
			return fail("option %d of %d bytes runs past the block (corrupt block)", code, n)
		}
		switch {
		case f != nil && code == ngOptTSResol:
			if n < 1 {
				return fail("empty if_tsresol option (corrupt block)")
			}
			v := b[4]
			f.binary, f.exp = v&0x80 != 0, v&0x7f
			if (f.binary && f.exp > 63) || (!f.binary && f.exp > 19) {
				return fail("timestamp resolution %#x is finer than 2^-63 or 10^-19 s (corrupt option)", v)
			}
		case f != nil && code == ngOptTSOffset && n == 8:
			if s.big {
				f.offset = int64(binary.BigEndian.Uint64(b[4:12]))
			} else {
				f.offset = int64(binary.LittleEndian.Uint64(b[4:12]))
			}
		}
		b = b[4+padded:]
	}
	return nil
}

// time converts a timestamp in the interface's units, exactly.
func (f *ngIface) time(ts uint64) time.Time {
	var sec, ns uint64
	switch {
	case !f.binary && f.exp == 6: // the default, and most files
		sec, ns = ts/1e6, ts%1e6*1e3
	case !f.binary && f.exp == 9:
		sec, ns = ts/1e9, ts%1e9
	case f.binary:
		sec = ts >> f.exp
		// frac < 2^exp, so frac * 1e9 / 2^exp < 1e9 and the quotient fits.
		hi, lo := bits.Mul64(ts&(1<<f.exp-1), 1e9)
		ns, _ = bits.Div64(hi, lo, 1<<f.exp)
	default:
		unit := uint64(1) // 10^exp, exp <= 19: fits
		for range f.exp {
			unit *= 10
		}
		sec = ts / unit
		hi, lo := bits.Mul64(ts%unit, 1e9)
		ns, _ = bits.Div64(hi, lo, unit)
	}
	return time.Unix(int64(sec)+f.offset, int64(ns)).UTC()
}
