package match

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"strings"
)

// Match appends to dst the IDs of all patterns matching the host name and
// request path, most specific first, and returns the extended slice. path ""
// means no path is known: patterns with a path then match on their host alone.
// name is compared case-insensitively, with one trailing dot ignored.
//
// Match does not allocate when dst has room for the result; it does not keep
// name, path or dst.
func (m *Matcher) Match(name, path string, dst []int) []int {
	name = strings.TrimSuffix(name, ".")
	if len(name) == 0 || len(name) > MaxNameLen || len(m.pats) == 0 {
		return dst
	}
	return m.lookup(name, path, dst)
}

// bufLen is the size of the buffer a name is lowered into: a word can be
// read at any offset of a name of MaxNameLen bytes.
const bufLen = MaxNameLen + 11

// query is a name being looked up.
type query struct {
	buf   [bufLen]byte // the name in lower case, zero padded
	dots  [4]uint64    // bit i: the name has a dot at i
	n     int          // len(name)
	full  uint64       // key of the whole name
	upper uint64       // not 0 if the name has upper case

	// For the general path.
	name    string
	path    string
	start   int   // results begin at dst[start]
	ignore  uint8 // entry flags with nothing to check: entPath if there is no path
	longest int   // the longest label seen so far, -1 if not all were seen
	edges   edges // of the name's labels, once edged is set
	edged   bool
}

// load lowers name into q.buf, notes its dots and keys the whole name, a
// word at a time, in the register.
func (q *query) load(name string) {
	n := len(name)
	q.n, q.full = n, kWhole^uint64(n)
	for k := 0; k < n; k += 8 {
		var w uint64
		switch {
		case k+8 <= n:
			w = le64(name[k : k+8])
		case n >= 8:
			w = le64(name[n-8:n]) >> (8 * uint(k+8-n)) // the last 8 bytes, shifted down to start at k
		default:
			for i := n - 1; i >= 0; i-- {
				w = w<<8 | uint64(name[i])
			}
		}
		lw, d := lowerWord(w), dotMask(w)
		q.upper |= lw ^ w
		w = lw
		binary.LittleEndian.PutUint64(q.buf[k:k+8], w)
		q.full = mix(q.full^w, kWhole)
		q.dots[k>>6&3] |= (d >> 7) * 0x0102040810204080 >> 56 << (k & 63)
	}
}

// lookup is Match for a name of 1 to MaxNameLen bytes.
func (m *Matcher) lookup(name, path string, dst []int) []int {
	var q query
	q.load(name)
	if w := m.findWhole(&q, name); w != nil {
		ids := m.ids[w.ids:w.end]
		if path == "" || !w.path {
			return append(dst, ids...)
		}
		for _, id := range ids {
			if c := &m.pats[id]; c.path == nil || globFold(c.path, path) {
				dst = append(dst, id)
			}
		}
		return dst
	}

	// Down the suffix trie, a label at a time from the right, to the
	// deepest node whose suffix the name has: name[sd:].
	n := q.n
	node, key, sd, longest := uint32(rootBack), uint64(kBack), n+1, 0
	slots, recs, shift := m.slots, m.recs, m.shift&63
	for e := n; ; {
		s := prevDot(&q.dots, e) + 1 // the label is name[s:e]
		l := e - s
		longest = max(longest, l)
		// step and probe, by hand for a label of up to 16 bytes in its
		// home slot, most of them: a call costs more than the work.
		w0, w1 := load(&q.buf, s), uint64(0)
		var k uint64
		switch {
		case l <= 8:
			w0 = low(w0, l)
			k = mix(key^uint64(l)<<56^w0, kBack)
		case l <= 16:
			w1 = low(load(&q.buf, s+8), l-8)
			k = mix(mix(key^uint64(l)<<56^w0, kBack)^w1, kBack)
		default:
			w1 = load(&q.buf, s+8)
			k = step(key, &q.buf, s, e, kBack)
		}
		mt := meta(node, recBack, l)
		sl := slots[k>>shift]
		if sl == 0 {
			break
		}
		if r := uint32(sl); sl>>32 != fingerprint(k) || r >= uint32(len(recs)) ||
			recs[r].meta != mt || recs[r].w0 != w0 || recs[r].w1 != w1 || l > 16 {
			// The filter answers most misses that collide.
			if !m.may(k) {
				break
			}
			if sl = uint64(m.probe(k, mt, w0, w1, name, s)); sl == 0 {
				break
			}
		}
		node, key, sd = uint32(sl), k, s
		if s == 0 {
			break
		}
		e = s - 1
	}
	q.name, q.path, q.start, q.longest = name, path, len(dst), longest
	if path == "" {
		q.ignore = entPath
	}
	return m.general(&q, node, key, sd, dst)
}

// findWhole returns the whole name of q, if it is one. It compares the name as
// given unless it has upper case: load has just written the buffer, and
// reading it back so soon would wait for the stores.
func (m *Matcher) findWhole(q *query, name string) *wholeName {
	k := q.full
	if !m.may(k) {
		return nil
	}
	for i := k >> (m.shift & 63); ; i = (i + 1) & m.mask {
		sl := m.slots[i]
		if sl == 0 {
			return nil
		}
		j := int(uint32(sl)) - len(m.recs)
		if sl>>32 != fingerprint(k) || j < 0 {
			continue
		}
		if w := &m.wholes[j]; int(w.n) == q.n {
			text := m.texts[w.text : int(w.text)+q.n]
			if q.upper == 0 && name == text || q.upper != 0 && string(q.buf[:q.n]) == text {
				return w
			}
		}
	}
}

// general looks up a name whose deepest suffix node d (key key) stands for
// name[sd:] with no answer stored for it.
func (m *Matcher) general(q *query, d uint32, key uint64, sd int, dst []int) []int {
	// The patterns filed with d and its ancestors.
	for r := d; r != rootBack; {
		rc := &m.recs[r]
		if r == d && sd == 0 {
			dst = m.take(rc.lo, rc.m1, q, dst)
			dst = m.take(rc.m2, rc.hi, q, dst)
		} else if rc.m1 != rc.hi {
			dst = m.take(rc.m1, rc.hi, q, dst)
		}
		r = rc.parent()
	}
	// Left of d, name[:sd-1]: the tails below d, then inner labels and
	// windows.
	if sd > 0 {
		xe := sd - 1
		if rc := &m.recs[d]; xe > 0 && rc.ends&(1<<(q.buf[xe-1]&63)) != 0 {
			dst = m.tails(rc.flags, d, key, q, prevDot(&q.dots, xe)+1, xe, dst)
		}
		if m.more {
			dst = m.middle(q, xe, dst)
		} else {
			q.longest = -1 // not all labels were seen
		}
	}
	if e := nextDot(&q.dots, 0, q.n); m.fwd && (m.firstFwd.has(&q.buf, 0, e) || m.recs[rootFwd].ends&(1<<(q.buf[0]&63)) != 0) {
		dst = m.prefixes(q, dst)
	}
	if q.n >= m.restMin {
		dst = m.takeRest(q, dst)
	}
	// Insertion sort by specificity: results are few.
	for i := q.start + 1; i < len(dst); i++ {
		for j := i; j > q.start && m.rank[dst[j]] < m.rank[dst[j-1]]; j-- {
			dst[j], dst[j-1] = dst[j-1], dst[j]
		}
	}
	return dst
}

// tails looks below suffix node (key key, flags f) for tail lists matching
// the end of the label name[s:e] before it.
func (m *Matcher) tails(f uint8, node uint32, key uint64, q *query, s, e int, dst []int) []int {
	if f&hasShort != 0 {
		w := uint64(q.buf[e-1])
		if k := mix(key^w, kTail1); m.may(k) {
			if r := m.probe(k, meta(node, recTail1, 1), w, 0, q.name, e-1); r != 0 {
				dst = m.take(m.recs[r].lo, m.recs[r].hi, q, dst)
			}
		}
	}
	if f&hasLong != 0 && e-s >= 2 {
		w := uint64(q.buf[e-2]) | uint64(q.buf[e-1])<<8
		if k := mix(key^w, kTail2); m.may(k) {
			if r := m.probe(k, meta(node, recTail2, 2), w, 0, q.name, e-2); r != 0 {
				dst = m.take(m.recs[r].lo, m.recs[r].hi, q, dst)
			}
		}
	}
	return dst
}

// middle probes the inner labels and windows of name[:xe]; those right of
// xe were filed with the suffix nodes.
func (m *Matcher) middle(q *query, xe int, dst []int) []int {
	n, longest := q.n, q.longest
	for e := xe; ; {
		s := prevDot(&q.dots, e) + 1 // the label is name[s:e]
		l := e - s
		longest = max(longest, l)
		if s > 0 && e < n && m.inner.has(&q.buf, s, e) {
			if k := step(kInner, &q.buf, s, e, kInner); m.may(k) {
				w0, w1 := words(&q.buf, s, l)
				if r := m.probe(k, meta(0, recInner, l), w0, w1, q.name, s); r != 0 {
					dst = m.take(m.recs[r].lo, m.recs[r].hi, q, dst)
				}
			}
		}
		// The window around the dot at e.
		if e >= 2 && e+3 <= n && m.pairs[q.buf[e-1]&63]&(1<<(q.buf[e+1]&63)) != 0 {
			w := low(load(&q.buf, e-2), windowLen)
			if k := mix(w, kWindow); m.may(k) {
				if r := m.probe(k, meta(0, recWindow, windowLen), w, 0, q.name, e-2); r != 0 {
					dst = m.take(m.recs[r].lo, m.recs[r].hi, q, dst)
				}
			}
		}
		if s == 0 {
			q.longest = longest
			return dst
		}
		e = s - 1
	}
}

// prefixes follows the prefix trie from the left, looking below each node
// (and the root) for heads.
func (m *Matcher) prefixes(q *query, dst []int) []int {
	n := q.n
	node, key := uint32(rootFwd), uint64(kFwd)
	for s := 0; ; {
		e := nextDot(&q.dots, s, n) // the label is name[s:e]
		if rc := &m.recs[node]; e > s && rc.ends&(1<<(q.buf[s]&63)) != 0 {
			dst = m.heads(rc.flags, node, key, q, s, e, dst)
		}
		if e == n {
			return dst
		}
		if key = step(key, &q.buf, s, e, kFwd); !m.may(key) {
			return dst
		}
		w0, w1 := words(&q.buf, s, e-s)
		if node = m.probe(key, meta(node, recFwd, e-s), w0, w1, q.name, s); node == 0 {
			return dst
		}
		if rc := &m.recs[node]; rc.lo != rc.hi {
			dst = m.take(rc.lo, rc.hi, q, dst)
		}
		s = e + 1
	}
}

// heads looks below prefix node (key key, flags f) for head lists matching
// the start of the label name[s:e] after it.
func (m *Matcher) heads(f uint8, node uint32, key uint64, q *query, s, e int, dst []int) []int {
	if f&hasShort != 0 {
		w := uint64(q.buf[s])
		if k := mix(key^w, kHead1); m.may(k) {
			if r := m.probe(k, meta(node, recHead1, 1), w, 0, q.name, s); r != 0 {
				dst = m.take(m.recs[r].lo, m.recs[r].hi, q, dst)
			}
		}
	}
	if f&hasLong != 0 && e-s >= 2 {
		w := uint64(q.buf[s]) | uint64(q.buf[s+1])<<8
		if k := mix(key^w, kHead2); m.may(k) {
			if r := m.probe(k, meta(node, recHead2, 2), w, 0, q.name, s); r != 0 {
				dst = m.take(m.recs[r].lo, m.recs[r].hi, q, dst)
			}
		}
	}
	return dst
}

// takeRest tries the patterns that have no anchor.
func (m *Matcher) takeRest(q *query, dst []int) []int {
	longest := q.longest
	for _, id := range m.rest {
		c := &m.pats[id]
		if q.n < c.minLen {
			continue
		}
		if c.run > 0 {
			if longest < 0 {
				longest = 0
				for s := 0; s <= q.n; {
					e := nextDot(&q.dots, s, q.n)
					longest = max(longest, e-s)
					s = e + 1
				}
			}
			if c.run > longest {
				continue
			}
		}
		if !q.labelEdges().covers(&c.edges) || !glob(c.segs, q.buf[:q.n]) ||
			q.path != "" && c.path != nil && !globFold(c.path, q.path) {
			continue
		}
		dst = append(dst, int(id))
	}
	return dst
}

// take appends the patterns of ents[lo:hi] that match.
func (m *Matcher) take(lo, hi uint32, q *query, dst []int) []int {
	for _, e := range m.ents[lo:hi] {
		if e.flags&^q.ignore != 0 && !m.holds(e, q, dst) {
			continue
		}
		dst = append(dst, int(e.id))
	}
	return dst
}

// holds runs the checks of entry e that finding it did not prove.
func (m *Matcher) holds(e entry, q *query, dst []int) bool {
	c := &m.pats[e.id]
	// The glob, after a look at the name's first word and at its labels'
	// edges.
	if e.flags&entGlob != 0 && (low(load(&q.buf, 0), c.preLen) != c.pre ||
		!q.labelEdges().covers(&c.edges) || !glob(c.segs, q.buf[:q.n])) {
		return false
	}
	if e.flags&entPath != 0 && q.path != "" && !globFold(c.path, q.path) {
		return false
	}
	return e.flags&entDup == 0 || !contains(dst[q.start:], int(e.id))
}

// labelEdges returns the edges of the name's labels, and some that are
// not (bytes after a dot that another follows): more edges only let more
// patterns through to the glob.
func (q *query) labelEdges() *edges {
	if !q.edged {
		q.edged = true
		g := &q.edges
		g.starts = edgeBit(q.buf[0], q.buf[1])
		if q.n >= 2 {
			g.ends = edgeBit(q.buf[q.n-2], q.buf[q.n-1])
		}
		for i, d := range q.dots {
			for ; d != 0; d &= d - 1 {
				p := i<<6 + bits.TrailingZeros64(d)
				g.starts |= edgeBit(q.buf[p+1], q.buf[p+2])
				if p >= 2 {
					g.ends |= edgeBit(q.buf[p-2], q.buf[p-1])
				}
			}
		}
	}
	return &q.edges
}

// glob reports whether s matches the glob whose literal segments (split at
// '*') are segs. With stars only, matching each middle segment at its
// leftmost place is exact.
func glob(segs [][]byte, s []byte) bool {
	first := segs[0]
	if len(segs) == 1 {
		return bytes.Equal(s, first)
	}
	last := segs[len(segs)-1]
	if len(s) < len(first)+len(last) || !bytes.HasPrefix(s, first) || !bytes.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, seg := range segs[1 : len(segs)-1] {
		i := bytes.Index(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
	}
	return true
}

// globFold is glob for a path, which is not lowered: segs are lower case,
// s is compared ASCII case-insensitively.
func globFold(segs []string, s string) bool {
	first := segs[0]
	if len(segs) == 1 {
		return len(s) == len(first) && equalFold(s, first)
	}
	last := segs[len(segs)-1]
	if len(s) < len(first)+len(last) || !equalFold(s[:len(first)], first) ||
		!equalFold(s[len(s)-len(last):], last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, seg := range segs[1 : len(segs)-1] {
		i := indexFold(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
	}
	return true
}

// equalFold compares s with lit, which is lower case; len(s) == len(lit).
func equalFold(s, lit string) bool {
	for i := 0; i < len(lit); i++ {
		if c := s[i]; c != lit[i] && (c-'A' >= 26 || c+'a'-'A' != lit[i]) {
			return false
		}
	}
	return true
}

// indexFold finds lower-case lit in s ignoring ASCII case, or returns -1.
func indexFold(s, lit string) int {
	for i := 0; i+len(lit) <= len(s); i++ {
		if equalFold(s[i:i+len(lit)], lit) {
			return i
		}
	}
	return -1
}

// lowerWord maps the ASCII upper-case bytes of w to lower case, all eight
// at once (SWAR): bit 7 of each byte of up is set where the byte is 'A' to
// 'Z'.
func lowerWord(w uint64) uint64 {
	h7 := w & 0x7f7f7f7f7f7f7f7f
	up := ((h7 + 0x3f3f3f3f3f3f3f3f) ^ (h7 + 0x2525252525252525)) &^ w
	return w | (up&0x8080808080808080)>>2
}

// dotMask has bit 7 of each byte of w set where the byte is '.', and no
// other bit.
func dotMask(w uint64) uint64 {
	return ^((((w & 0x7f7f7f7f7f7f7f7f) ^ 0x2e2e2e2e2e2e2e2e) + 0x7f7f7f7f7f7f7f7f) | w) & 0x8080808080808080
}

// le64 returns s[:8] as a little-endian word.
func le64(s string) uint64 {
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// prevDot returns the position of the last dot before e, or -1.
func prevDot(dots *[4]uint64, e int) int {
	for e > 0 {
		i := (e - 1) >> 6
		if w := dots[i&3] & (^uint64(0) >> (63 - uint(e-1)&63)); w != 0 {
			return i<<6 + 63 - bits.LeadingZeros64(w)
		}
		e = i << 6
	}
	return -1
}

// nextDot returns the position of the first dot at or after s, or n.
func nextDot(dots *[4]uint64, s, n int) int {
	for s < n {
		i := s >> 6
		if w := dots[i&3] >> (uint(s) & 63); w != 0 {
			return s + bits.TrailingZeros64(w)
		}
		s = (i + 1) << 6
	}
	return n
}
