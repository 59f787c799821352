package capture

import (
	"encoding/binary"
	"io"
	"time"
)

// pcapSource reads a pcap file straight out of the chunks the kernel copied:
// each record's 16-byte header is checked (a lying length
// becomes damage, not an allocation) and the frame is handed out as a slice
// of the chunk itself, so a packet costs no copy beyond the kernel's. Only a
// record cut by the end of a chunk is put together in a buffer of its own.
// Offsets are exact: 24 + the sum of the records before.
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
	r        io.Reader
	chunk    []byte // read buffer, chunkSize bytes
	buf      []byte // what is left of the current chunk
	end      error  // what ended the chunks (io.EOF at a clean end), once buf is the last
	joined   []byte // a record that spanned two chunks or more
	big      bool   // big-endian fields
	nano     bool
	linkType uint16
	maxSnap  int
	st       stream
	off      int64 // offset of the next record
}

func openPcap(m [4]byte, r io.Reader, c io.Closer, st stream, opt Options) (source, error) {
	var hdr [24]byte
	copy(hdr[:], m[:])
	if n, err := io.ReadFull(r, hdr[4:]); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil, damagef(0, "pcap file header cut short after %d of 24 bytes (file still being written?)", 4+n)
		}
		return nil, st.streamErr(err, 0, "pcap file header")
	}
	s := &pcapSource{c: c, maxSnap: opt.MaxSnap, st: st, off: 24}
	magic := beU32(hdr[:4])
	s.big = magic == magicPcapMicro || magic == magicPcapNano
	s.nano = s.u32(hdr[:4]) == magicPcapNano
	// The link type is the low 16 bits; the high bits may carry FCS info.
	s.linkType = uint16(s.u32(hdr[20:24]))
	s.r, s.chunk = r, make([]byte, chunkSize)
	return s, nil
}

// u32 reads a header field in the file's byte order.
func (s *pcapSource) u32(b []byte) uint32 {
	if s.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (s *pcapSource) close() error { return s.c.Close() }

func (s *pcapSource) next(p *Packet) error {
	off := s.off
	var rec []byte
	if b := s.buf; len(b) >= 16 {
		if n := 16 + uint64(s.u32(b[8:12])); n <= uint64(len(b)) && n <= 16+uint64(s.maxSnap) {
			rec, s.buf = b[:n], b[n:]
		}
	}
	if rec == nil {
		var err error
		if rec, err = s.join(); err != nil {
			return err
		}
	}
	sec, frac := s.u32(rec[0:4]), s.u32(rec[4:8])
	ns := int64(frac)
	if !s.nano {
		ns *= 1000
	}
	p.Timestamp = time.Unix(int64(sec), ns).UTC()
	s.off += int64(len(rec))
	p.Offset = off
	p.WireLen, p.CapLen = int(s.u32(rec[12:16])), len(rec)-16
	p.LinkType = s.linkType
	p.Interface = 0
	p.Frame = rec[16:]
	return nil
}

// join takes the next record when it does not lie whole in the current
// chunk, copying its pieces into s.joined, and reports damage: a length over
// the limit, or a record cut by the end of the stream.
func (s *pcapSource) join() ([]byte, error) {
	off := s.off
	rec := s.joined[:0]
	need, header := 16, false
	for {
		k := min(need-len(rec), len(s.buf))
		rec, s.buf = append(rec, s.buf[:k]...), s.buf[k:]
		if !header && len(rec) == 16 {
			header = true
			capLen := s.u32(rec[8:12])
			if uint64(capLen) > uint64(s.maxSnap) {
				return nil, damagef(off, "record at %s %d claims %d captured bytes, over the %d-byte limit (corrupt length field); rest of file skipped", s.st.where, off, capLen, s.maxSnap)
			}
			need += int(capLen)
			continue
		}
		if len(rec) == need {
			s.joined = rec
			return rec, nil
		}
		if s.end != nil {
			switch {
			case len(rec) == 0 && s.end == io.EOF:
				return nil, io.EOF
			case len(rec) < 16 && (s.end == io.EOF || s.end == io.ErrUnexpectedEOF):
				return nil, damagef(off, "truncated record at %s %d: header cut after %d of 16 bytes (file still being written?)", s.st.where, off, len(rec))
			}
			return nil, s.st.streamErr(s.end, off, "record")
		}
		n, err := fill(s.r, s.chunk)
		s.buf, s.end = s.chunk[:n], err
	}
}

// chunkSize is the piece of a pcap file read at once. Measured on a 1 GB
// capture in the page cache: reads of 256 KiB to 1 MiB cost the same kernel
// time, smaller ones more system calls, and larger ones have left the cache
// before they are parsed. Reading ahead on another goroutine was measured
// too, and dropped: the parser then finds every record in the other core's
// cache, and that cost more (0.37 s of CPU against 0.23 s for this 1 GB file)
// than the read it saved.
const chunkSize = 512 << 10

// fill reads into buf until it is full or r returns an error, which it
// passes on as is: io.EOF at a clean end; a gzip stream cut short says
// io.ErrUnexpectedEOF, which must not read as a clean end.
func fill(r io.Reader, buf []byte) (int, error) {
	n, empty := 0, 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
		if k == 0 {
			if empty++; empty == 100 {
				return n, io.ErrNoProgress
			}
		}
	}
	return n, nil
}
