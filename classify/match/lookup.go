package match

import (
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
	n := len(name)
	if n == 0 || n > MaxNameLen || len(m.pats) == 0 {
		return dst
	}

	// The dots of the name, as a bitmap, eight bytes at a time. The name
	// is read in place: words are lowered as they are loaded.
	var dots [4]uint64
	for k := 0; k < n; k += 8 {
		var w uint64
		if k+8 <= n {
			t := name[k : k+8] // word(name, k), by hand: word is not inlined
			w = uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
				uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		} else {
			w = wordEnd(name, k)
		}
		dm := dotMask(w)
		dots[k>>6&3] |= (dm >> 7) * 0x0102040810204080 >> 56 << (k & 63)
	}
	q := query{name: name, path: path, n: n, start: len(dst)}

	// Suffixes, from the right a label at a time: follow the suffix trie
	// while it has the suffix, looking below each node for tails; probe
	// inner labels and windows on the way. Every probe asks the filter
	// first, and the table's first slot is looked at here: calls, which
	// cost spilling every live register, are left for hits.
	filter, fshift := m.filter, m.fshift&63
	var lh0, w00 uint64 // hash and first word of the first label, for the prefixes
	have0 := false
	node, key := uint32(rootBack), uint64(kBack)
	walking := true
	for e := n; ; {
		s := prevDot(&dots, e) + 1 // the label is name[s:e]
		l := e - s
		// labelHash(name, s, e), by hand for labels of up to 16 bytes.
		var lh, w0 uint64
		if l > 16 {
			lh, w0 = hashLong(name, s, e)
		} else {
			if s+8 <= n {
				t := name[s : s+8]
				w0 = lowerWord(uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
					uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56)
			} else if l > 0 {
				w0 = wordEnd(name, s)
			}
			if l <= 8 {
				w0 &= byteMask[l&15]
				lh = mix(kLabel0^uint64(l)<<56^w0, kLabel1)
			} else {
				lh = mix(mix(kLabel0^uint64(l)<<56^w0, kLabel1)^word(name, s+8)&byteMask[(l-8)&15], kLabel2)
			}
		}
		if walking {
			if l > 0 && m.recs[node].ends&(1<<((name[e-1]|0x20)&63)) != 0 {
				dst = m.tails(m.recs[node].flags, node, key, &q, s, e, dst)
			}
			key = mix(key^lh, kBack)
			var r uint32
			if i := key >> fshift; filter[i>>6]&(1<<(i&63)) != 0 {
				r = m.probe(key, meta(node, recBack, l), name, s, w0)
			}
			if r != 0 {
				node = r
				if rc := &m.recs[r]; rc.lo != rc.hi {
					dst = m.take(rc, &q, s, e, dst)
				}
			} else if walking = false; !m.more {
				break
			}
		}
		if s == 0 {
			lh0, w00, have0 = lh, w0, true
			break
		}
		if e < n && m.innerLens[l>>6&3]&(1<<(l&63)) != 0 {
			if k := mix(lh, kInner); filter[k>>fshift>>6]&(1<<(k>>fshift&63)) != 0 {
				if r := m.probe(k, meta(0, recInner, l), name, s, w0); r != 0 {
					dst = m.take(&m.recs[r], &q, s, e, dst)
				}
			}
		}
		d := s - 1 // a dot
		if m.pairs != nil && d >= 2 && d+3 <= n {
			if pair := uint16(lower[name[d-1]])<<8 | uint16(lower[name[d+1]]); m.pairs[pair>>6]&(1<<(pair&63)) != 0 {
				dst = m.window(&q, d, dst)
			}
		}
		e = d
	}

	// Prefixes, from the left: follow the prefix trie, looking below each
	// node (and the root) for heads.
	if m.fwd {
		node, key := uint32(rootFwd), uint64(kFwd)
		for s := 0; ; {
			e := nextDot(&dots, s, n) // the label is name[s:e]
			l := e - s
			if l > 0 && m.recs[node].ends&(1<<((name[s]|0x20)&63)) != 0 {
				dst = m.heads(m.recs[node].flags, node, key, &q, s, e, dst)
			}
			if e == n {
				break
			}
			lh, w0 := lh0, w00
			if s != 0 || !have0 {
				lh, w0 = hashLabel(name, s, e)
			}
			key = mix(key^lh, kFwd)
			r := m.find(key, meta(node, recFwd, l), name, s, w0)
			if r == 0 {
				break
			}
			node = r
			if rc := &m.recs[r]; rc.lo != rc.hi {
				dst = m.take(rc, &q, s, e, dst)
			}
			s = e + 1
		}
	}

	if n >= m.restMin {
		dst = m.takeRest(&q, &dots, dst)
	}
	// Insertion sort by specificity: results are few.
	for i := q.start + 1; i < len(dst); i++ {
		for j := i; j > q.start && m.rank[dst[j]] < m.rank[dst[j-1]]; j-- {
			dst[j], dst[j-1] = dst[j-1], dst[j]
		}
	}
	return dst
}

// find returns the record with key and meta that stands for the label at
// name[s:] (first word w0), or 0. The filter answers most misses; the
// home slot most hits.
func (m *Matcher) find(key, meta uint64, name string, s int, w0 uint64) uint32 {
	if i := key >> (m.fshift & 63); m.filter[i>>6]&(1<<(i&63)) == 0 {
		return 0
	}
	return m.probe(key, meta, name, s, w0)
}

// query is what the checks of a lookup need besides positions.
type query struct {
	name, path string
	n          int   // len(name)
	start      int   // results begin at dst[start]
	upper      uint8 // name has upper case: 0 not known yet, 1 no, 2 yes
}

// tails looks below suffix node (key key, flags f) for tail lists matching
// the end of the label name[s:e] before it.
func (m *Matcher) tails(f uint8, node uint32, key uint64, q *query, s, e int, dst []int) []int {
	name := q.name
	if f&hasShort != 0 {
		w := uint64(lower[name[e-1]])
		if r := m.find(mix(key^w, kTail1), meta(node, recTail1, 1), name, 0, w); r != 0 {
			dst = m.take(&m.recs[r], q, s, e, dst)
		}
	}
	if f&hasLong != 0 && e-s >= 2 {
		w := uint64(lower[name[e-2]]) | uint64(lower[name[e-1]])<<8
		if r := m.find(mix(key^w, kTail2), meta(node, recTail2, 2), name, 0, w); r != 0 {
			dst = m.take(&m.recs[r], q, s, e, dst)
		}
	}
	return dst
}

// heads looks below prefix node (key key, flags f) for head lists matching
// the start of the label name[s:e] after it.
func (m *Matcher) heads(f uint8, node uint32, key uint64, q *query, s, e int, dst []int) []int {
	name := q.name
	if f&hasShort != 0 {
		w := uint64(lower[name[s]])
		if r := m.find(mix(key^w, kHead1), meta(node, recHead1, 1), name, 0, w); r != 0 {
			dst = m.take(&m.recs[r], q, s, e, dst)
		}
	}
	if f&hasLong != 0 && e-s >= 2 {
		w := uint64(lower[name[s]]) | uint64(lower[name[s+1]])<<8
		if r := m.find(mix(key^w, kHead2), meta(node, recHead2, 2), name, 0, w); r != 0 {
			dst = m.take(&m.recs[r], q, s, e, dst)
		}
	}
	return dst
}

// window probes the window around the dot at d.
func (m *Matcher) window(q *query, d int, dst []int) []int {
	w := word(q.name, d-2) & byteMask[windowLen]
	if r := m.find(mix(w, kWindow), meta(0, recWindow, windowLen), q.name, d-2, w); r != 0 {
		dst = m.take(&m.recs[r], q, d-2, d+3, dst)
	}
	return dst
}

// take appends the patterns of record rc that match. s and e delimit what
// the record was found at: for a suffix node, the suffix name[s:]; for a
// tail list, the label name[s:e] before the node; for a head list, the
// label name[s:e] after the node; for an inner label or a window, the
// anchor name[s:e].
func (m *Matcher) take(rc *rec, q *query, s, e int, dst []int) []int {
	for i := rc.lo; i < rc.hi; i++ {
		en := &m.ents[i]
		p, pl := 0, -1
		switch en.kind & entKindMsk {
		case entWhole:
			if s != 0 {
				continue
			}
		case entBelow:
			if s == 0 {
				continue
			}
		case entTail:
			if l := int(en.nlit); e-s < l || !m.equalLit(q.name, e-l, l, int(en.lit)) {
				continue
			}
		case entHead:
			if l := int(en.nlit); e-s < l || !m.equalLit(q.name, s, l, int(en.lit)) {
				continue
			}
		case entAt:
			// The segment holding the anchor, where this occurrence of
			// the anchor puts it.
			p, pl = s-int(en.off), int(en.nlit)
			if p < 0 || p+pl > q.n || !m.equalLit(q.name, p, pl, int(en.lit)) {
				continue
			}
		}
		if en.kind&entSimple == 0 && (en.head != 0 && lower[q.name[0]] != en.head || !m.host(&m.pats[en.id], q, p, pl)) {
			continue
		}
		if en.kind&entPath != 0 && q.path != "" && !globFold(m.pats[en.id].path, q.path) {
			continue
		}
		// An inner label or a window can occur more than once.
		if en.kind&entKindMsk == entAt && contains(dst[q.start:], int(en.id)) {
			continue
		}
		dst = append(dst, int(en.id))
	}
	return dst
}

// host reports whether the name matches the host glob of c. For an anchor
// inside the name, the segment holding it is at name[p:p+pl]; pl < 0
// otherwise.
func (m *Matcher) host(c *compiled, q *query, p, pl int) bool {
	n := q.n
	if n < c.minLen {
		return false
	}
	switch nseg := len(c.host); {
	case nseg == 3 && pl >= 0:
		// "a*mid*b" with mid found at p: the glob holds if a and b fit
		// around it (if mid fits at some place, it fits at the leftmost).
		if p < len(c.host[0]) || p+pl > n-len(c.host[2]) {
			return false
		}
		fallthrough
	case nseg == 2:
		nf, nl := len(c.host[0]), len(c.host[nseg-1])
		return m.equalLit(q.name, 0, nf, int(c.first)) && m.equalLit(q.name, n-nl, nl, int(c.last))
	}
	if q.upper == 0 {
		q.upper = 1
		if hasUpper(q.name) {
			q.upper = 2
		}
	}
	if q.upper == 1 {
		return glob(c.host, q.name)
	}
	return globFold(c.host, q.name)
}

// takeRest tries the patterns that have no anchor.
func (m *Matcher) takeRest(q *query, dots *[4]uint64, dst []int) []int {
	longest := -1 // the longest label, when needed
	for _, id := range m.rest {
		c := &m.pats[id]
		if q.n < c.minLen {
			continue
		}
		if c.run > 0 {
			if longest < 0 {
				longest = 0
				for s := 0; s <= q.n; {
					e := nextDot(dots, s, q.n)
					longest = max(longest, e-s)
					s = e + 1
				}
			}
			if c.run > longest {
				continue
			}
		}
		if !m.host(c, q, 0, -1) || q.path != "" && c.path != nil && !globFold(c.path, q.path) {
			continue
		}
		dst = append(dst, int(id))
	}
	return dst
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
