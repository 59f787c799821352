package capture

import (
	"bufio"
	"encoding/binary"
	"io"
	"time"
)

// pcapSource reads a pcap file straight out of a large bufio.Reader: each
// record's 16-byte header is peeked, checked (a lying length becomes damage,
// not an allocation) and the frame is handed out as a slice of the buffer
// itself, so a packet costs no copy beyond the kernel's. Offsets are exact:
// 24 + the sum of the records before.
//
// Measured on a generated 1 GB capture (1.8 M packets, 2-core machine): this
// loop reads it in about a third of the CPU time of pcapgo.Reader's
// ZeroCopyReadPacketData behind the same header checks, which copies every
// frame out of its bufio.Reader into a buffer of its own. pcapng files are
// still read with pcapgo.NgReader (see pcapng.go).
//
// Unlike pcapgo, it accepts any file version (tcpdump and Wireshark read
// 2.0 and 3 too), ignores the header's snap length (records are bounded by
// Options.MaxSnap instead) and reads records whose captured length exceeds
// their wire length.
type pcapSource struct {
	c        io.Closer
	br       *bufio.Reader
	order    binary.ByteOrder
	nano     bool
	linkType uint16
	maxSnap  int
	st       stream
	off      int64 // offset of the next record
}

// pcapBufSize is the read buffer of a pcap file: larger than a record can be
// (MaxSnap is clamped to fit), and large enough that reading costs few
// system calls (measured: 1 MiB reads a file from the page cache in 60% of the
// time 64 KiB reads take).
const pcapBufSize = 1 << 20

func openPcap(m [4]byte, r io.Reader, c io.Closer, st stream, opt Options) (source, error) {
	var hdr [24]byte
	copy(hdr[:], m[:])
	if n, err := io.ReadFull(r, hdr[4:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, damagef(0, "pcap file header cut short after %d of 24 bytes (file still being written?)", 4+n)
		}
		return nil, st.streamErr(err, 0, "pcap file header")
	}
	s := &pcapSource{c: c, maxSnap: min(opt.MaxSnap, pcapBufSize-16), st: st, off: 24}
	s.order = binary.ByteOrder(binary.LittleEndian)
	if beU32(hdr[:4]) == magicPcapMicro || beU32(hdr[:4]) == magicPcapNano {
		s.order = binary.BigEndian
	}
	s.nano = s.order.Uint32(hdr[:4]) == magicPcapNano
	// The link type is the low 16 bits; the high bits may carry FCS info.
	s.linkType = uint16(s.order.Uint32(hdr[20:24]))
	s.br = bufio.NewReaderSize(r, pcapBufSize)
	return s, nil
}

func (s *pcapSource) close() error { return s.c.Close() }

func (s *pcapSource) next(p *Packet) error {
	off := s.off
	h, err := s.br.Peek(16)
	if len(h) < 16 {
		if len(h) == 0 && err == io.EOF {
			return io.EOF
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return damagef(off, "truncated record at %s %d: header cut after %d of 16 bytes (file still being written?)", s.st.where, off, len(h))
		}
		return s.st.streamErr(err, off, "record")
	}
	sec, frac := s.order.Uint32(h[0:4]), s.order.Uint32(h[4:8])
	capLen := s.order.Uint32(h[8:12])
	wireLen := s.order.Uint32(h[12:16])
	if uint64(capLen) > uint64(s.maxSnap) {
		return damagef(off, "record at %s %d claims %d captured bytes, over the %d-byte limit (corrupt length field); rest of file skipped", s.st.where, off, capLen, s.maxSnap)
	}
	rec, err := s.br.Peek(16 + int(capLen))
	if len(rec) < 16+int(capLen) {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return damagef(off, "truncated record at %s %d (file still being written?)", s.st.where, off)
		}
		return s.st.streamErr(err, off, "record")
	}
	// Discard only moves the read position: rec stays valid until the next
	// Peek, which is the next call.
	s.br.Discard(16 + int(capLen))
	ns := int64(frac)
	if !s.nano {
		ns *= 1000
	}
	p.Timestamp = time.Unix(int64(sec), ns).UTC()
	s.off += 16 + int64(capLen)
	p.Offset = off
	p.WireLen, p.CapLen = int(wireLen), int(capLen)
	p.LinkType = s.linkType
	p.Interface = 0
	p.Frame = rec[16:]
	return nil
}
