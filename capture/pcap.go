package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"time"

	"github.com/google/gopacket/pcapgo"
)

// pcapSource reads a pcap file with pcapgo.Reader.
//
// pcapgo reads from br, our own bufio.Reader (bufio.NewReader hands back a
// *bufio.Reader it is given), so before each record we Peek at its 16-byte
// header: that is how a lying length becomes damage instead of an allocation,
// and how offsets are known exactly (24 + the sum of the records before).
//
// pcapgo only accepts version 2.4 and records no longer than the header's snap
// length; tcpdump and Wireshark accept other versions and ignore the snap
// length, so the 24-byte header pcapgo sees is rewritten to version 2.4 with a
// snap length of Options.MaxSnap. The record format is the same.
type pcapSource struct {
	c        io.Closer
	br       *bufio.Reader
	r        *pcapgo.Reader
	order    binary.ByteOrder
	nano     bool
	linkType uint16
	maxSnap  int
	st       stream
	off      int64  // offset of the next record
	buf      []byte // for records pcapgo refuses (captured > wire length)
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
	s.order = binary.ByteOrder(binary.LittleEndian)
	if beU32(hdr[:4]) == magicPcapMicro || beU32(hdr[:4]) == magicPcapNano {
		s.order = binary.BigEndian
	}
	s.nano = s.order.Uint32(hdr[:4]) == magicPcapNano
	// The link type is the low 16 bits; the high bits may carry FCS info.
	s.linkType = uint16(s.order.Uint32(hdr[20:24]))
	s.order.PutUint16(hdr[4:6], 2)
	s.order.PutUint16(hdr[6:8], 4)
	s.order.PutUint32(hdr[16:20], uint32(opt.MaxSnap))
	s.br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(hdr[:]), r), ioBufSize)
	pr, err := pcapgo.NewReader(s.br)
	if err != nil { // cannot happen with the header above; keep it as damage
		return nil, damagef(0, "pcap file header at offset 0 refused: %v", err)
	}
	s.r = pr
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
	capLen := s.order.Uint32(h[8:12])
	wireLen := s.order.Uint32(h[12:16])
	if uint64(capLen) > uint64(s.maxSnap) {
		return damagef(off, "record at %s %d claims %d captured bytes, over the %d-byte limit (corrupt length field); rest of file skipped", s.st.where, off, capLen, s.maxSnap)
	}
	var data []byte
	if capLen > wireLen {
		// pcapgo refuses this; tcpdump and Wireshark read it. Read it here.
		sec, frac := s.order.Uint32(h[0:4]), s.order.Uint32(h[4:8])
		ns := int64(frac)
		if !s.nano {
			ns *= 1000
		}
		p.Timestamp = time.Unix(int64(sec), ns).UTC()
		if cap(s.buf) < int(capLen) {
			s.buf = make([]byte, s.maxSnap)
		}
		data = s.buf[:capLen]
		s.br.Discard(16)
		if _, err := io.ReadFull(s.br, data); err != nil {
			return s.st.streamErr(err, off, "record")
		}
	} else {
		d, ci, err := s.r.ZeroCopyReadPacketData()
		if err != nil {
			return s.st.streamErr(err, off, "record")
		}
		data = d
		p.Timestamp = ci.Timestamp
	}
	s.off += 16 + int64(capLen)
	p.Offset = off
	p.WireLen, p.CapLen = int(wireLen), int(capLen)
	p.LinkType = s.linkType
	p.Interface = 0
	p.Frame = data
	return nil
}
