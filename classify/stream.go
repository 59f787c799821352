package classify

import "github.com/phonehome/phonehome/classify/extract"

// Bounds of one direction's reassembly. A ClientHello with a post-quantum key
// share is about 1.8 KB and rarely over 4 KB; an HTTP request head is under 8 KB
// in practice. Past these bounds the stream is given up and counted.
const (
	maxStreamBuffer = 64 << 10 // bytes held in order, waiting for a parser
	maxHeldSegments = 8        // out-of-order segments held per direction
	maxHeldBytes    = 32 << 10 // bytes in those segments
)

// streamState says what a direction's bytes are being read as.
type streamState uint8

const (
	streamUndecided  streamState = iota // no payload yet
	streamTLS                           // waiting for the rest of a ClientHello
	streamHTTP                          // reading HTTP/1.x request heads
	streamDNS                           // reading length-prefixed DNS answers (a server on a DNS port)
	streamDNSQueries                    // reading length-prefixed DNS queries (a client to a DNS port)
	streamProbe                         // not TLS or HTTP at first: watching for a later start
	streamProxy                         // reading a PROXY protocol header before the client's own bytes
	streamDone                          // nothing more to learn: payload is only counted
)

// heldSegment is an out-of-order segment kept until the gap before it fills.
type heldSegment struct {
	seq  uint32
	data []byte
}

// stream follows one direction of a TCP connection far enough to read the
// application heads in it. Bytes are delivered to the consumer in sequence
// order; retransmitted bytes are dropped, overlapping segments trimmed, and
// segments after a gap held (bounded) until the gap fills.
type stream struct {
	state  streamState
	synced bool   // next is known
	hasISN bool   // isn is known: the direction's SYN (or SYN-ACK) was seen
	open   bool   // the direction sent a segment without SYN: it took the connection as open
	isn    uint32 // initial sequence number
	// probes counts, in streamProbe state, the in-order runs that did not
	// start a ClientHello or an HTTP request (up to maxProbes), and probed
	// their bytes (up to maxProbeBytes); see probe. In streamTLS state
	// after a ClientHello, probes counts the ChangeCipherSpec records since.
	probes uint8
	// found counts the ClientHellos or HTTP request heads read, up to
	// maxFound.
	found   uint8
	probed  uint16
	next    uint32 // sequence number of the next byte expected
	buf     []byte // in-order bytes not yet consumed
	held    []heldSegment
	heldLen int
	skip    int64               // body bytes still to skip before the next HTTP head
	body    extract.ChunkedBody // where in a chunked body, while chunked
	chunked bool                // skipping a chunked body
	gaveUp  bool                // a bound was hit
	// holding is true while buf is lent by the bufferPool; hprev and hnext
	// link the pool's holders, most recently fed first.
	holding bool
	// urgent is set when a segment's urgent pointer named a byte not read
	// yet: urgentSeq, the first byte the direction is not read from.
	urgent       bool
	urgentSeq    uint32
	hprev, hnext *stream
	// hole is set when the capture cut a segment of the direction (see
	// cutAt): holeSeq, the first byte the capture lost, is where reading
	// stops.
	hole    bool
	holeSeq uint32
}

const maxFound = 255

// seqDiff returns a-b in sequence space (RFC 793 modular arithmetic).
func seqDiff(a, b uint32) int32 { return int32(a - b) }

// syn records the initial sequence number of the direction. A SYN with
// another ISN from a side that has sent only SYNs and no bytes yet (a connect
// retried with a new ISN, the first SYN unanswered) replaces the first: its
// bytes follow the new ISN.
func (s *stream) syn(seq uint32) {
	if !s.synced || s.hasISN && seq != s.isn && !s.open && s.state == streamUndecided && len(s.buf) == 0 && len(s.held) == 0 {
		s.synced = true
		s.next = seq + 1
		s.hasISN, s.isn = true, seq
	}
}

// accept takes one TCP segment's payload and returns the bytes of it that are
// new and in order (nil if none). After it, popHeld returns further runs that
// held segments make contiguous. Bytes come out once and in order.
func (s *stream) accept(seq uint32, payload []byte, b *bufferPool) []byte {
	if s.state == streamDone || len(payload) == 0 {
		return nil
	}
	if !s.synced {
		// Picked up mid-stream, or the SYN was not captured: start here.
		s.synced = true
		s.next = seq
	}
	switch d := seqDiff(seq, s.next); {
	case d < 0:
		// Retransmission or overlap: keep only what is new. back is in
		// 1..2^31 (d may be the most negative int32, which -d overflows).
		back := s.next - seq
		if uint64(back) >= uint64(len(payload)) {
			return nil
		}
		payload = payload[back:]
	case d > 0:
		s.hold(seq, payload, b)
		return nil
	}
	s.next += uint32(len(payload))
	return payload
}

// hold keeps a segment that came after a gap. Held bytes are bounded per
// direction (maxHeldSegments, maxHeldBytes) and, with all directions
// together, by the pool's heldLimit; past a bound the direction is given up.
// Holding copies the segment: out-of-order segments are rare, and this is
// the one place a packet may allocate once the classifier is warm.
func (s *stream) hold(seq uint32, payload []byte, b *bufferPool) {
	for _, h := range s.held {
		if h.seq == seq && len(h.data) >= len(payload) {
			return // duplicate of a held segment
		}
	}
	if len(s.held) >= maxHeldSegments || s.heldLen+len(payload) > maxHeldBytes || b.held+len(payload) > b.heldLimit {
		if b.held+len(payload) > b.heldLimit {
			b.heldFull++
		}
		s.giveUp()
		return
	}
	s.held = append(s.held, heldSegment{seq: seq, data: append([]byte(nil), payload...)})
	s.heldLen += len(payload)
	b.held += len(payload)
}

// popHeld returns the new bytes of a held segment that now continues the
// stream, or nil when no held segment does.
func (s *stream) popHeld(b *bufferPool) []byte {
	for i := 0; i < len(s.held) && s.state != streamDone; i++ {
		h := s.held[i]
		if seqDiff(h.seq, s.next) > 0 {
			continue
		}
		s.held = append(s.held[:i], s.held[i+1:]...)
		s.heldLen -= len(h.data)
		b.held -= len(h.data)
		back := s.next - h.seq // 0..2^31
		if uint64(back) >= uint64(len(h.data)) {
			i = -1 // wholly old: drop it and look again from the start
			continue
		}
		data := h.data[back:]
		s.next += uint32(len(data))
		return data
	}
	return nil
}

// urgentAt notes the urgent pointer ptr of a segment at seq. The urgent byte
// is the one before seq+ptr (BSD and RFC 9293) or at it (RFC 1122): the
// earlier is where the stream can start to read two ways, kept if it is the
// earliest such byte yet; a pointer of 0 (which BSD reads as the byte before
// the segment) is taken as seq, as Linux does. It reports true when that byte
// was already read (handed to a parser): a receiver that has not passed it
// on to its application yet takes it out all the same.
func (s *stream) urgentAt(seq uint32, ptr uint16) bool {
	u := seq + uint32(max(ptr, 1)) - 1
	if s.synced && seqDiff(u, s.next-uint32(len(s.buf))) < 0 {
		return true
	}
	if !s.urgent || seqDiff(u, s.urgentSeq) < 0 {
		s.urgent, s.urgentSeq = true, u
	}
	return false
}

// beforeUrgent returns how many of the n bytes just accepted (they end at
// next) come before the urgent byte: n when there is none among them.
func (s *stream) beforeUrgent(n int) int {
	if !s.urgent {
		return n
	}
	d := int64(seqDiff(s.urgentSeq, s.next-uint32(n)))
	return int(max(0, min(d, int64(n))))
}

// cutAt notes that the capture cut the segment at seq after its first n
// bytes (capture.Packet.Truncated): the bytes from seq+n on were lost, so
// the direction can be read up to there and no further. The earliest such
// byte is kept. A cut in bytes already read (a cut copy of a segment seen
// whole) loses nothing and is ignored.
func (s *stream) cutAt(seq uint32, n int) {
	h := seq + uint32(n)
	if s.synced && seqDiff(h, s.next) < 0 {
		return
	}
	if !s.hole || seqDiff(h, s.holeSeq) < 0 {
		s.hole, s.holeSeq = true, h
	}
}

// beforeHole returns how many of the n bytes just accepted (they end at
// next) come before the hole, and whether reading reached it: the hole is
// within them or right after them.
func (s *stream) beforeHole(n int) (int, bool) {
	if !s.hole {
		return n, false
	}
	d := int64(seqDiff(s.holeSeq, s.next-uint32(n)))
	return int(max(0, min(d, int64(n)))), d <= int64(n)
}

// giveUp stops reading the direction after a bound was hit.
func (s *stream) giveUp() {
	s.gaveUp = true
	s.finish()
}

// finish stops reading the direction. Its buffer is emptied but kept, and its
// held segments kept, for the Classifier to give back to its pool (release).
// Held segments stay counted until the pool's release drops them.
func (s *stream) finish() {
	s.state = streamDone
	s.buf = s.buf[:0]
}
