package classify

// bufferPool lends the byte buffers that streams hold while a parser waits
// for more bytes, so that steady state allocates none, and bounds their
// total: the bytes lent at once never exceed limit, however many streams an
// attacker leaves half-finished.
//
// Buffers come in three sizes: 4 KiB holds a ClientHello with a post-quantum
// key share (about 1.5 to 1.8 KB) or a typical request head; 16 KiB the
// largest request heads; 64 KiB the bound of one direction (maxStreamBuffer).
//
// When the limit is reached, the stream that has waited longest since its
// last bytes gives its buffer up (least recently fed first), so a flood of
// heads that never finish cannot keep a real one from being read.
type bufferPool struct {
	free    [3][][]byte
	lent    int    // bytes of capacity lent to streams
	limit   int    // most bytes lent at once
	full    uint64 // times a head could not be held even after evictions
	evicted uint64 // partial heads given up to make room for newer ones

	// held counts the bytes of out-of-order segments all streams hold
	// (copies, see stream.hold), bounded by heldLimit.
	held, heldLimit int
	heldFull        uint64 // directions given up because heldLimit was reached

	// holders lists the streams holding a buffer, most recently fed first.
	head, tail *stream
}

var bufferSizes = [3]int{4 << 10, 16 << 10, maxStreamBuffer}

// keepFree is how many returned buffers of each size are kept for reuse:
// 1 MiB each, so at most 3 MiB sit idle.
var keepFree = [3]int{256, 64, 16}

func newBufferPool(limit int) *bufferPool {
	return &bufferPool{limit: limit, heldLimit: limit / 2}
}

// class returns the size class for n bytes, or -1 when n is over the largest.
func (b *bufferPool) class(n int) int {
	for i, size := range bufferSizes {
		if n <= size {
			return i
		}
	}
	return -1
}

// take lends a buffer that holds n bytes, in place of st's current one (whose
// capacity is counted as given back). It reports false when n is over the
// largest size or the limit would be passed.
func (b *bufferPool) take(st *stream, n int) ([]byte, bool) {
	c := b.class(n)
	if c < 0 { // over one direction's bound: the caller counts it
		return nil, false
	}
	for b.lent-cap(st.buf)+bufferSizes[c] > b.limit {
		victim := b.tail
		if victim == st {
			victim = st.hprev
		}
		if victim == nil {
			b.full++
			return nil, false
		}
		victim.finish()
		b.release(victim)
		b.evicted++
	}
	b.lent += bufferSizes[c]
	if k := len(b.free[c]); k > 0 {
		nb := b.free[c][k-1]
		b.free[c] = b.free[c][:k-1]
		return nb, true
	}
	return make([]byte, 0, bufferSizes[c]), true
}

// store sets st.buf to a copy of data, which may alias st.buf. It reports
// false, changing nothing, when the pool cannot lend a buffer that large.
func (b *bufferPool) store(st *stream, data []byte) bool {
	if len(data) <= cap(st.buf) {
		st.buf = st.buf[:len(data)]
		copy(st.buf, data) // a memmove: overlap is fine
		if len(data) > 0 {
			b.hold(st)
		}
		return true
	}
	nb, ok := b.take(st, len(data))
	if !ok {
		return false
	}
	nb = append(nb, data...)
	b.releaseBuf(st)
	st.buf = nb
	b.hold(st)
	return true
}

// appendTo appends data to st.buf, moving it to a larger buffer if needed.
func (b *bufferPool) appendTo(st *stream, data []byte) bool {
	n := len(st.buf) + len(data)
	if n <= cap(st.buf) {
		st.buf = append(st.buf, data...)
		b.hold(st)
		return true
	}
	nb, ok := b.take(st, n)
	if !ok {
		return false
	}
	nb = append(append(nb, st.buf...), data...)
	b.releaseBuf(st)
	st.buf = nb
	b.hold(st)
	return true
}

// hold puts st at the head of the holders: it was just fed.
func (b *bufferPool) hold(st *stream) {
	if b.head == st {
		return
	}
	b.unhold(st)
	st.hnext = b.head
	if b.head != nil {
		b.head.hprev = st
	}
	b.head = st
	if b.tail == nil {
		b.tail = st
	}
	st.holding = true
}

func (b *bufferPool) unhold(st *stream) {
	if !st.holding {
		return
	}
	if st.hprev != nil {
		st.hprev.hnext = st.hnext
	} else {
		b.head = st.hnext
	}
	if st.hnext != nil {
		st.hnext.hprev = st.hprev
	} else {
		b.tail = st.hprev
	}
	st.hprev, st.hnext, st.holding = nil, nil, false
}

// release takes back all st holds: its buffer and its held segments.
func (b *bufferPool) release(st *stream) {
	b.held -= st.heldLen
	st.held, st.heldLen = nil, 0
	b.releaseBuf(st)
}

// releaseBuf takes st's buffer back, keeping it for reuse if there is room.
func (b *bufferPool) releaseBuf(st *stream) {
	b.unhold(st)
	for c, size := range bufferSizes {
		if cap(st.buf) == size {
			b.lent -= size
			if len(b.free[c]) < keepFree[c] {
				b.free[c] = append(b.free[c], st.buf[:0])
			}
			break
		}
	}
	st.buf = nil
}
