package capture

import (
	"hash/maphash"
	"time"
)

// The open inputs are a binary min-heap in FileSet.open on (head timestamp,
// input order): the root holds the next packet to deliver. A week of
// rotated files has one input open at a time, so the heap is usually of
// one and its operations compare nothing.

// before reports whether a's next packet comes before b's.
func before(a, b *input) bool {
	c := a.head.Timestamp.Compare(b.head.Timestamp)
	return c < 0 || c == 0 && a.order < b.order
}

// push adds an input whose head has been read.
func (s *FileSet) push(in *input) {
	h := append(s.open, in)
	s.open = h
	for i := len(h) - 1; i > 0; {
		up := (i - 1) / 2
		if !before(h[i], h[up]) {
			break
		}
		h[i], h[up] = h[up], h[i]
		i = up
	}
}

// pop removes the root.
func (s *FileSet) pop() {
	h := s.open
	n := len(h) - 1
	h[0] = h[n]
	h[n] = nil
	s.open = h[:n]
	if n > 0 {
		s.down(0)
	}
}

// down moves the input at i down to its place.
func (s *FileSet) down(i int) {
	h := s.open
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && before(h[r], h[l]) {
			m = r
		}
		if !before(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}

// dupWindowSize bounds the frames of one timestamp that duplicate
// detection remembers. Files of microsecond or nanosecond timestamps have a
// few frames per timestamp at most; a file with coarser timestamps may have
// more, and a duplicate of a frame past this many is then not seen.
const dupWindowSize = 256

// dupWindow remembers the frames delivered at the latest timestamp, by
// hash, to find the same frame coming from another input.
type dupWindow struct {
	ts      time.Time
	entries []dupEntry // at most dupWindowSize; next is the oldest when full
	next    int
	seed    maphash.Seed
}

// dupEntry is one frame delivered at dupWindow.ts. seen marks the inputs
// that have had it (by order % 64): each copy in another input is one
// duplicate, so three copies of a file deliver one and drop two. Inputs 64
// apart share a mark, so a copy in one of them is kept: a duplicate missed,
// never a frame dropped that was not one.
type dupEntry struct {
	hash     uint64
	capLen   int
	wireLen  int
	linkType uint16
	seen     uint64
}

func newDupWindow() dupWindow {
	return dupWindow{entries: make([]dupEntry, 0, dupWindowSize), seed: maphash.MakeSeed()}
}

// duplicate reports whether h, the next packet of in, the input at the
// root of the heap, is a duplicate of a frame another input delivered, and
// counts it if so.
//
// A frame is hashed only when a duplicate is possible: when a frame of its
// timestamp has been hashed already, or another open input's next frame
// has its timestamp (the only inputs that can still deliver one, as long
// as each input's timestamps do not go back). Reading one file, or files
// that do not overlap, hashes nothing.
func (s *FileSet) duplicate(in *input, h *Packet) bool {
	w := &s.dups
	if !h.Timestamp.Equal(w.ts) {
		w.ts = h.Timestamp
		w.entries, w.next = w.entries[:0], 0
	}
	if len(w.entries) == 0 && !s.tiedHead(h.Timestamp) {
		return false
	}
	sum := maphash.Bytes(w.seed, h.Frame)
	for i := range w.entries {
		e := &w.entries[i]
		if e.hash == sum && e.capLen == h.CapLen && e.wireLen == h.WireLen && e.linkType == h.LinkType && e.seen&in.bit == 0 {
			e.seen |= in.bit
			s.stats.Duplicates++
			s.info[in.info].Duplicates++
			return true
		}
	}
	e := dupEntry{hash: sum, capLen: h.CapLen, wireLen: h.WireLen, linkType: h.LinkType, seen: in.bit}
	if len(w.entries) < dupWindowSize {
		w.entries = append(w.entries, e)
	} else {
		w.entries[w.next] = e
		w.next = (w.next + 1) % dupWindowSize
	}
	return false
}

// tiedHead reports whether an open input other than the root has its next
// frame at ts: the root's children hold the least of the others.
func (s *FileSet) tiedHead(ts time.Time) bool {
	for i := 1; i <= 2 && i < len(s.open); i++ {
		if s.open[i].head.Timestamp.Equal(ts) {
			return true
		}
	}
	return false
}
