package main

import (
	"cmp"
	"slices"
)

// mss is the TCP payload of a full-size segment: Windows on Ethernet, no TCP
// timestamps, so 1514-byte frames.
const mss = 1460

// TCP flag bits.
const (
	fFIN = 0x01
	fSYN = 0x02
	fRST = 0x04
	fPSH = 0x08
	fACK = 0x10
)

// pkt is one packet of a flow, scripted before it is written. A flow holds
// its packets as these 24-byte records, not as bytes: the bytes are made when
// the packet is written.
type pkt struct {
	t   int64  // µs since the capture's start
	seq uint32 // TCP: relative sequence number (the SYN is 0, data starts at 1); UDP: offset of the datagram in its direction's data
	ack uint32 // TCP: relative acknowledgment of the peer's sequence
	n   uint16 // payload bytes
	dir uint8  // 0 client to server, 1 server to client
	fl  uint8  // TCP flags
}

// chunk is a run of one direction's payload: literal bytes, or a synthetic run
// of n bytes (a hdr, then bytes of the random pool from pool on).
type chunk struct {
	off  int64
	n    int
	lit  []byte
	hdr  [5]byte
	hdrN int
	pool int
}

// dirData is the payload one direction of a flow carries, as chunks.
type dirData struct {
	chunks []chunk
	size   int64
}

func (d *dirData) lit(b []byte) {
	d.chunks = append(d.chunks, chunk{off: d.size, n: len(b), lit: b})
	d.size += int64(len(b))
}

func (d *dirData) synth(hdr []byte, n, pool int) {
	c := chunk{off: d.size, n: n, hdrN: len(hdr), pool: pool}
	copy(c.hdr[:], hdr)
	d.chunks = append(d.chunks, c)
	d.size += int64(n)
}

// read fills dst with the direction's bytes from off on.
func (d *dirData) read(dst []byte, off int64, pool []byte) {
	i, _ := slices.BinarySearchFunc(d.chunks, off, func(c chunk, off int64) int {
		if c.off+int64(c.n) <= off {
			return -1
		}
		if c.off > off {
			return 1
		}
		return 0
	})
	for len(dst) > 0 {
		c := &d.chunks[i]
		in := int(off - c.off)
		k := min(c.n-in, len(dst))
		if c.lit != nil {
			copy(dst, c.lit[in:in+k])
		} else {
			j := 0
			for ; in+j < c.hdrN && j < k; j++ {
				dst[j] = c.hdr[in+j]
			}
			for j < k {
				p := (c.pool + in + j - c.hdrN) % poolSize
				j += copy(dst[j:k], pool[p:])
			}
		}
		dst = dst[k:]
		off += int64(k)
		i++
	}
}

// Scopes, as phonehome names them.
const (
	scopeIn        = "in"
	scopePrivate   = "private-destination"
	scopeNotFromVM = "not-started-by-vm"
	scopeIPv6      = "ipv6"
	scopeNonIP     = "non-ip"
)

// flow is one connection (or UDP exchange, or ARP pair) being written.
type flow struct {
	id      uint64
	proto   uint8 // 6, 17; 0 for ARP
	v6      bool
	cli4    [4]byte
	srv4    [4]byte
	cli6    [16]byte
	srv6    [16]byte
	cport   uint16
	sport   uint16
	mac     [2][6]byte // source MAC per direction
	ttl     [2]uint8
	fromVM  [2]bool // which directions the VM sends
	isn     [2]uint32
	data    [2]dirData
	pkts    []pkt
	next    int
	scope   string
	fileLen int64

	// What the flow shows, for the truth.
	sni, host   string
	hellos      int
	splitHellos int
	requests    int
	dns         *dnsAnswer // set on a DNS exchange: the answer its response carries
}

func (f *flow) nextTime() int64 { return f.pkts[f.next].t }

// tcpScript writes a TCP connection's packets in order of events; finish
// sorts them by time (ACKs from the far side arrive a round trip later).
type tcpScript struct {
	f    *flow
	rtt  int64
	sent [2]uint32 // next relative sequence number per direction
	segs int       // segments since the receiver last acknowledged
}

func (s *tcpScript) add(t int64, dir uint8, fl uint8, n int) {
	s.f.pkts = append(s.f.pkts, pkt{t: t, dir: dir, fl: fl, seq: s.sent[dir], ack: s.sent[1-dir], n: uint16(n)})
	s.sent[dir] += uint32(n)
	if fl&(fSYN|fFIN) != 0 {
		s.sent[dir]++
	}
}

// handshake is SYN, SYN-ACK, ACK from t; it returns when the client's ACK left.
func (s *tcpScript) handshake(t int64) int64 {
	s.f.pkts = append(s.f.pkts, pkt{t: t, dir: 0, fl: fSYN})
	s.sent[0] = 1
	t += s.rtt
	s.f.pkts = append(s.f.pkts, pkt{t: t, dir: 1, fl: fSYN | fACK, ack: 1})
	s.sent[1] = 1
	t += 60
	s.add(t, 0, fACK, 0)
	return t
}

// replyDelay is how long after a segment the capture sees its receiver's ACK:
// a round trip when the receiver is the far server, a moment when it is the VM.
func (s *tcpScript) replyDelay(dir uint8) int64 {
	if s.f.fromVM[1-dir] {
		return 40
	}
	return s.rtt
}

// send writes the direction's data from its current end to want (relative
// sequence end) in MSS segments gap µs apart from t, with the receiver
// acknowledging every second segment and the last. It returns the time of the
// last segment.
func (s *tcpScript) send(t int64, dir uint8, upto int64, gap int64) int64 {
	end := uint32(upto + 1)
	s.segs = 0
	for s.sent[dir] < end {
		n := min(int(end-s.sent[dir]), mss)
		fl := uint8(fACK)
		last := s.sent[dir]+uint32(n) == end
		if last {
			fl |= fPSH
		}
		s.add(t, dir, fl, n)
		s.segs++
		if s.segs == 2 || last {
			s.segs = 0
			s.f.pkts = append(s.f.pkts, pkt{t: t + s.replyDelay(dir), dir: 1 - dir, fl: fACK, seq: s.sent[1-dir], ack: s.sent[dir]})
		}
		if !last {
			t += gap
		}
	}
	return t
}

// closeBy ends the connection: the side dir sends FIN first, the other
// answers FIN-ACK, and the first acknowledges. A reset instead ends it at once.
func (s *tcpScript) closeBy(t int64, dir uint8, reset bool) int64 {
	if reset {
		s.add(t, dir, fRST|fACK, 0)
		return t
	}
	s.add(t, dir, fFIN|fACK, 0)
	t += s.replyDelay(dir)
	s.add(t, 1-dir, fFIN|fACK, 0)
	t += s.replyDelay(1 - dir)
	s.add(t, dir, fACK, 0)
	return t
}

// finish orders the packets by time, keeping script order for equal times.
func (s *tcpScript) finish() {
	slices.SortStableFunc(s.f.pkts, func(a, b pkt) int { return cmp.Compare(a.t, b.t) })
}
