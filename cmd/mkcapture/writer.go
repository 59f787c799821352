package main

import (
	"bufio"
	"encoding/binary"
	"io"
	"math/bits"
)

// Link-layer facts of the lab network (the same as testdata/'s fixtures).
var (
	macVM      = [6]byte{0x08, 0x00, 0x27, 0x5e, 0x1c, 0x3a}
	macGateway = [6]byte{0x0a, 0x00, 0x27, 0x00, 0x00, 0x00} // the resolver, and the router to every public address
	macLAN     = [6]byte{0x08, 0x00, 0x27, 0x9a, 0x41, 0x07}
	macBcast   = [6]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
)

const (
	snapLen       = 262144
	linkEthernet  = 1
	bufferSize    = 1 << 20 // the writer's only buffer: output is streamed
	maxFrame      = 14 + 40 + 60 + 65535
	etherIPv4     = 0x0800
	etherIPv6     = 0x86dd
	etherARP      = 0x0806
	minEtherFrame = 60
)

// capWriter writes frames as pcap (microsecond) or pcapng (one Ethernet
// interface, microsecond resolution), through one bounded buffer.
type capWriter struct {
	w      *bufio.Writer
	pcapng bool
	frame  [maxFrame]byte
	rec    [32]byte
	n      int64 // bytes written
}

func newCapWriter(w io.Writer, pcapng bool) (*capWriter, error) {
	cw := &capWriter{w: bufio.NewWriterSize(w, bufferSize), pcapng: pcapng}
	var hdr []byte
	if pcapng {
		// Section Header Block, then one Interface Description Block.
		hdr = binary.LittleEndian.AppendUint32(hdr, 0x0a0d0d0a)
		hdr = binary.LittleEndian.AppendUint32(hdr, 28)
		hdr = binary.LittleEndian.AppendUint32(hdr, 0x1a2b3c4d)
		hdr = binary.LittleEndian.AppendUint16(hdr, 1)
		hdr = binary.LittleEndian.AppendUint16(hdr, 0)
		hdr = binary.LittleEndian.AppendUint64(hdr, ^uint64(0)) // section length unknown
		hdr = binary.LittleEndian.AppendUint32(hdr, 28)
		hdr = binary.LittleEndian.AppendUint32(hdr, 1)
		hdr = binary.LittleEndian.AppendUint32(hdr, 20)
		hdr = binary.LittleEndian.AppendUint16(hdr, linkEthernet)
		hdr = binary.LittleEndian.AppendUint16(hdr, 0)
		hdr = binary.LittleEndian.AppendUint32(hdr, snapLen)
		hdr = binary.LittleEndian.AppendUint32(hdr, 20)
	} else {
		hdr = binary.LittleEndian.AppendUint32(hdr, 0xa1b2c3d4)
		hdr = binary.LittleEndian.AppendUint16(hdr, 2)
		hdr = binary.LittleEndian.AppendUint16(hdr, 4)
		hdr = binary.LittleEndian.AppendUint32(hdr, 0) // thiszone
		hdr = binary.LittleEndian.AppendUint32(hdr, 0) // sigfigs
		hdr = binary.LittleEndian.AppendUint32(hdr, snapLen)
		hdr = binary.LittleEndian.AppendUint32(hdr, linkEthernet)
	}
	_, err := cw.w.Write(hdr)
	cw.n = int64(len(hdr))
	return cw, err
}

// recordLen is what a frame of n bytes takes in the file.
func (cw *capWriter) recordLen(n int) int64 {
	if cw.pcapng {
		return int64(32 + (n+3)&^3)
	}
	return int64(16 + n)
}

// write writes frame (in cw.frame[:n]) with timestamp ts (µs since the epoch).
func (cw *capWriter) write(ts int64, n int) error {
	b := cw.rec[:]
	if cw.pcapng {
		pad := (4 - n%4) % 4
		total := uint32(32 + n + pad)
		le := binary.LittleEndian
		le.PutUint32(b[0:], 6) // Enhanced Packet Block
		le.PutUint32(b[4:], total)
		le.PutUint32(b[8:], 0) // interface 0
		le.PutUint32(b[12:], uint32(uint64(ts)>>32))
		le.PutUint32(b[16:], uint32(ts))
		le.PutUint32(b[20:], uint32(n))
		le.PutUint32(b[24:], uint32(n))
		cw.w.Write(b[:28])
		clear(cw.frame[n : n+pad])
		cw.w.Write(cw.frame[:n+pad])
		le.PutUint32(b[:4], total)
		_, err := cw.w.Write(b[:4])
		cw.n += int64(total)
		return err
	}
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(ts/1e6))
	le.PutUint32(b[4:], uint32(ts%1e6))
	le.PutUint32(b[8:], uint32(n))
	le.PutUint32(b[12:], uint32(n))
	cw.w.Write(b[:16])
	_, err := cw.w.Write(cw.frame[:n])
	cw.n += int64(16 + n)
	return err
}

func (cw *capWriter) flush() error { return cw.w.Flush() }

// frameLen is the length of the frame for a packet of flow f with n payload bytes.
func frameLen(f *flow, p *pkt) int {
	if f.proto == 0 {
		return 42 // ARP
	}
	n := 14 + int(p.n)
	if f.v6 {
		n += 40
	} else {
		n += 20
	}
	switch {
	case f.proto == 17:
		n += 8
	case p.fl&fSYN != 0:
		n += 32
	default:
		n += 20
	}
	if f.fromVM[p.dir] && n < minEtherFrame {
		n = minEtherFrame // the VM's NIC pads; frames towards it are captured before padding
	}
	return n
}

// build writes the frame of packet p of flow f into cw.frame and returns its
// length. ipid is the sender's IPv4 identification.
func (cw *capWriter) build(f *flow, p *pkt, ipid uint16, pool []byte) int {
	b := cw.frame[:]
	dir := p.dir
	dst := f.mac[1-dir]
	if f.proto == 0 {
		return buildARP(b, f, p)
	}
	if f.scope == scopePrivate && dir == 0 && isMulticast(f.srv4) {
		dst = multicastMAC(f.srv4)
	}
	copy(b[0:6], dst[:])
	copy(b[6:12], f.mac[dir][:])
	l4len := 20
	if f.proto == 17 {
		l4len = 8
	} else if p.fl&fSYN != 0 {
		l4len = 32
	}
	var ip, l4 []byte
	var sum uint64
	if f.v6 {
		binary.BigEndian.PutUint16(b[12:], etherIPv6)
		ip = b[14:54]
		ip[0], ip[1], ip[2], ip[3] = 0x60, 0, 0, 0
		binary.BigEndian.PutUint16(ip[4:], uint16(l4len+int(p.n)))
		ip[6] = f.proto
		ip[7] = f.ttl[dir]
		src, dst := f.cli6, f.srv6
		if dir == 1 {
			src, dst = dst, src
		}
		copy(ip[8:24], src[:])
		copy(ip[24:40], dst[:])
		sum = sumBytes(ip[8:40], 0)
		l4 = b[54:]
	} else {
		binary.BigEndian.PutUint16(b[12:], etherIPv4)
		ip = b[14:34]
		ip[0], ip[1] = 0x45, 0
		binary.BigEndian.PutUint16(ip[2:], uint16(20+l4len+int(p.n)))
		binary.BigEndian.PutUint16(ip[4:], ipid)
		binary.BigEndian.PutUint16(ip[6:], 0x4000) // DF
		ip[8] = f.ttl[dir]
		ip[9] = f.proto
		ip[10], ip[11] = 0, 0
		src, dst := f.cli4, f.srv4
		if dir == 1 {
			src, dst = dst, src
		}
		copy(ip[12:16], src[:])
		copy(ip[16:20], dst[:])
		binary.BigEndian.PutUint16(ip[10:], fold(sumBytes(ip, 0)))
		sum = sumBytes(ip[12:20], 0)
		l4 = b[34:]
	}
	sport, dport := f.cport, f.sport
	if dir == 1 {
		sport, dport = dport, sport
	}
	binary.BigEndian.PutUint16(l4[0:], sport)
	binary.BigEndian.PutUint16(l4[2:], dport)
	payload := l4[l4len : l4len+int(p.n)]
	if f.proto == 17 {
		binary.BigEndian.PutUint16(l4[4:], uint16(8+p.n))
		l4[6], l4[7] = 0, 0
		f.data[dir].read(payload, int64(p.seq), pool)
	} else {
		binary.BigEndian.PutUint32(l4[4:], f.isn[dir]+p.seq)
		ack := uint32(0)
		if p.fl&fACK != 0 {
			ack = f.isn[1-dir] + p.ack
		}
		binary.BigEndian.PutUint32(l4[8:], ack)
		l4[12] = byte(l4len/4) << 4
		l4[13] = p.fl
		win := uint16(1026) // 262 656 bytes at window scale 8
		if !f.fromVM[dir] {
			win = 501
		}
		if p.fl&fSYN != 0 {
			win = 64240
		}
		binary.BigEndian.PutUint16(l4[14:], win)
		l4[16], l4[17], l4[18], l4[19] = 0, 0, 0, 0
		if p.fl&fSYN != 0 {
			// MSS 1460, NOP, window scale 8, NOP, NOP, SACK permitted.
			copy(l4[20:32], []byte{2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2})
		}
		if p.n > 0 {
			f.data[dir].read(payload, int64(p.seq)-1, pool)
		}
	}
	seg := l4[:l4len+int(p.n)]
	sum += uint64(f.proto) + uint64(len(seg))
	ck := fold(sumBytes(seg, sum))
	if f.proto == 17 && ck == 0 {
		ck = 0xffff
	}
	ckOff := 16
	if f.proto == 17 {
		ckOff = 6
	}
	binary.BigEndian.PutUint16(l4[ckOff:], ck)

	n := (len(b) - len(l4)) + len(seg)
	if f.fromVM[dir] && n < minEtherFrame {
		clear(b[n:minEtherFrame])
		n = minEtherFrame
	}
	return n
}

func buildARP(b []byte, f *flow, p *pkt) int {
	// dir 0: the gateway asks who has the VM's address; dir 1: the VM answers.
	hdr := []byte{0, 1, 8, 0, 6, 4, 0, 1}
	if p.dir == 0 {
		copy(b[0:6], macBcast[:])
		copy(b[6:12], macGateway[:])
	} else {
		copy(b[0:6], macGateway[:])
		copy(b[6:12], macVM[:])
		hdr[7] = 2
	}
	binary.BigEndian.PutUint16(b[12:], etherARP)
	copy(b[14:22], hdr)
	if p.dir == 0 {
		copy(b[22:28], macGateway[:])
		copy(b[28:32], f.srv4[:])
		clear(b[32:38])
		copy(b[38:42], f.cli4[:])
	} else {
		copy(b[22:28], macVM[:])
		copy(b[28:32], f.cli4[:])
		copy(b[32:38], macGateway[:])
		copy(b[38:42], f.srv4[:])
	}
	return 42
}

func isMulticast(a [4]byte) bool { return a[0]&0xf0 == 0xe0 }

func multicastMAC(a [4]byte) [6]byte {
	return [6]byte{0x01, 0x00, 0x5e, a[1] & 0x7f, a[2], a[3]}
}

// sumBytes adds b to the one's-complement sum s as big-endian 16-bit words,
// eight bytes at a time (about 10 GB/s; the checksums cost little of the run).
func sumBytes(b []byte, s uint64) uint64 {
	var c uint64
	for len(b) >= 8 {
		s, c = bits.Add64(s, binary.BigEndian.Uint64(b), c)
		b = b[8:]
	}
	s += c
	if s < c {
		s++
	}
	var t uint64
	for len(b) >= 2 {
		t += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		t += uint64(b[0]) << 8
	}
	s2 := s + t
	if s2 < s {
		s2++
	}
	return s2
}

// fold folds a 64-bit one's-complement sum to the 16-bit checksum field.
func fold(s uint64) uint16 {
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 32) + (s & 0xffffffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	s = (s >> 16) + (s & 0xffff)
	return ^uint16(s)
}
