package match

import (
	"encoding/binary"
	"math/bits"
)

// Multipliers of the keys, one per kind of key so that a label, a suffix,
// a prefix and a whole name made of the same bytes get different keys.
const (
	kBack   = 0x589965cc75374cc3 // suffix node: parent suffix, label
	kFwd    = 0x1d8e4e27c47d124f // prefix node: parent prefix, label
	kTail1  = 0x9e3779b97f4a7c15 // one byte before a suffix node
	kTail2  = 0xbf58476d1ce4e5b9 // two bytes before a suffix node
	kHead1  = 0x94d049bb133111eb // one byte after a prefix node
	kHead2  = 0x2545f4914f6cdd1d // two bytes after a prefix node
	kInner  = 0xd6e8feb86659fd93 // a whole label inside the name
	kWindow = 0xca5a826395121157 // two bytes, a dot, two bytes
	kWhole  = 0x8ebc6af09c88c6e3 // a whole name
)

// Record kinds: what a table key stands for, checked on every hit.
const (
	recBack   uint8 = iota + 1 // label-aligned suffix of the name
	recFwd                     // label-aligned prefix, followed by a dot
	recTail1                   // last byte of the label before a suffix node
	recTail2                   // last two bytes of the label before a suffix node
	recHead1                   // first byte of the label after a prefix node
	recHead2                   // first two bytes of the label after a prefix node
	recInner                   // a label that is neither the first nor the last
	recWindow                  // "ab.cd" around a dot
)

// Node flags: which lists hang below a suffix or prefix node, so that a
// lookup probes for them only where some exist.
const (
	hasShort uint8 = 1 << iota // a tail (suffix node) or head (prefix node) list keyed by one byte
	hasLong                    // ... by two bytes
)

// Roots of the two tries, the empty suffix and the empty prefix: records 0
// and 1, not in the table.
const (
	rootBack = 0
	rootFwd  = 1
)

// windowLen is the length of a window key: two bytes, a dot, two bytes.
const windowLen = 5

// maxWhole bounds the answer stored for a whole name: a longer one, which
// only catalogs of many broad patterns give, is worked out at each lookup
// instead of being copied into every name below them.
const maxWhole = 32

// rec is what a table key stands for: a node of the suffix or prefix trie, or
// a list of patterns. A hit counts only if meta and the label bytes agree,
// so hash collisions cost a probe, never a wrong answer.
//
// The patterns of a record are Matcher.ents[lo:hi], in three groups:
// ents[lo:m1] hold if the name is the node's suffix itself (exact hosts),
// ents[m1:m2] if a dot precedes it ("*.s"), ents[m2:hi] in both cases. A
// list has only the last group.
type rec struct {
	w0, w1         uint64 // the label's first 16 bytes, zero padded (for lists: the 1-2 bytes, the window)
	meta           uint64 // meta(parent, kind, label length)
	lab            uint32 // offset in Matcher.arena of the label's bytes past the first 16
	lo, m1, m2, hi uint32
	flags          uint8
	ends           uint64 // node: bit c&63 for the byte c its tail (head) lists are keyed by
}

func (r *rec) parent() uint32 { return uint32(r.meta >> 16) }

// meta packs what, besides the label bytes, a table hit must agree on: the
// node the record hangs below (rootBack, rootFwd; 0 for inner labels and
// windows), its kind and the label length.
func meta(parent uint32, kind uint8, l int) uint64 {
	return uint64(parent)<<16 | uint64(kind)<<8 | uint64(l)
}

// wholeName is a name that is the suffix of a node, with the answer for it.
type wholeName struct {
	text     uint32 // offset in Matcher.texts of the name, lower case
	n        uint8  // its length
	path     bool   // some of its patterns have a path
	ids, end uint32 // Matcher.ids[ids:end]: the answer, in order
}

// entry is one pattern filed under a record. With no flags, finding it is
// the proof that the pattern matches.
type entry struct {
	id    int32
	flags uint8
}

// Entry flags.
const (
	entGlob uint8 = 1 << iota // the host glob must be run
	entPath                   // the pattern has a path, to be checked if the lookup has one
	entDup                    // the pattern can be found twice: an anchor inside the name
)

// Groups of a node's patterns; see rec.
const (
	grpExact = iota
	grpBelow
	grpAlways
)

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// step extends key h by the label b[s:e], one multiply by mul per 8 bytes.
// A suffix node's key is its parent's stepped by its label, so that the
// lookup keys each suffix of a name from the last one's without going back
// over it. Compile and Match both use step, so that their keys agree.
func step(h uint64, b *[bufLen]byte, s, e int, mul uint64) uint64 {
	h ^= uint64(e-s) << 56
	for k := s; ; k += 8 {
		h = mix(h^low(load(b, k), e-k), mul)
		if k+8 >= e {
			return h
		}
	}
}

// stepString is step for a label of a pattern.
func stepString(h uint64, label string, mul uint64) uint64 {
	var b [bufLen]byte
	copy(b[:], label)
	return step(h, &b, 0, len(label), mul)
}

// load returns b[k:k+8] as a little-endian word.
func load(b *[bufLen]byte, k int) uint64 { return binary.LittleEndian.Uint64(b[k : k+8]) }

// low keeps the low n bytes of w, all of them if n >= 8.
func low(w uint64, n int) uint64 {
	return w & (^uint64(0) >> (8 * uint(8-min(n, 8))))
}

// words returns the first 16 bytes of the label of l bytes at b[s:], zero
// padded, as a record holds them.
func words(b *[bufLen]byte, s, l int) (w0, w1 uint64) {
	if l > 8 {
		w1 = low(load(b, s+8), l-8)
	}
	return low(load(b, s), l), w1
}

// wordOf packs up to 8 bytes little-endian, as load reads them.
func wordOf(s string) uint64 {
	var w uint64
	for i := len(s) - 1; i >= 0; i-- {
		w = w<<8 | uint64(s[i])
	}
	return w
}

// fingerprint is the part of a key its slot holds, never 0 so that an
// empty slot matches no key.
func fingerprint(key uint64) uint64 { return key&0xffffffff | 1 }

// insert files record i (or whole name i-len(recs)) under key in the table.
func (m *Matcher) insert(key uint64, i int) {
	j := key >> m.shift
	for m.slots[j] != 0 {
		j = (j + 1) & m.mask
	}
	m.slots[j] = fingerprint(key)<<32 | uint64(i)
	f := key >> m.fshift
	m.filter[f>>6] |= 1 << (f & 63)
}

// may reports whether some record might have key k: a filter of about 16
// bits per key answers most misses without a probe.
func (m *Matcher) may(k uint64) bool {
	i := k >> (m.fshift & 63)
	return m.filter[i>>6&uint64(len(m.filter)-1)]&(1<<(i&63)) != 0
}

// probe returns the index of the record with the given key and meta that
// stands for the label at name[s:] whose first 16 bytes, lowered, are w0
// and w1; or 0.
func (m *Matcher) probe(key, meta, w0, w1 uint64, name string, s int) uint32 {
	fp := fingerprint(key)
	for i := key >> (m.shift & 63); ; i = (i + 1) & m.mask {
		sl := m.slots[i]
		if sl == 0 {
			return 0
		}
		if sl>>32 != fp || uint32(sl) >= uint32(len(m.recs)) {
			continue
		}
		r := &m.recs[uint32(sl)]
		if r.meta == meta && r.w0 == w0 && r.w1 == w1 && (meta&0xff <= 16 || m.equalRest(r, name, s)) {
			return uint32(sl)
		}
	}
}

// equalRest reports whether the label at name[s:] has the bytes of record
// r past its first 16, ignoring ASCII case.
func (m *Matcher) equalRest(r *rec, name string, s int) bool {
	l := int(r.meta & 0xff)
	return equalFold(name[s+16:s+l], m.arena[r.lab:int(r.lab)+l-16])
}

// labelSet is a filter of labels by length and first byte: whether to key
// a label and probe the table for it.
type labelSet [64]uint64

func (f *labelSet) add(label string) {
	if label == "" {
		// has reads the byte after an empty label: a dot or padding.
		f[0] |= 1<<('.'&63) | 1
		return
	}
	f[len(label)&63] |= 1 << (label[0] & 63)
}

// has reports whether the label b[s:e] may be in the set.
func (f *labelSet) has(b *[bufLen]byte, s, e int) bool {
	return f[(e-s)&63]&(1<<(b[s]&63)) != 0
}

// edges is a filter of the first two and the last two bytes of labels
// that have two bytes or more, a bit for each: before the glob of a
// pattern, a lookup checks that the name has the label edges the glob's
// literals imply (".smartscreen" starts a label with "sm").
type edges struct{ starts, ends uint64 }

func edgeBit(a, b byte) uint64 { return 1 << ((uint(a)*13 + uint(b)) & 63) }

// addAll adds the label edges in s that lie between a dot and two bytes
// other than dots and stars.
func (g *edges) addAll(s string) {
	ok := func(c byte) bool { return c != '.' && c != '*' }
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '.' && ok(s[i+1]) && ok(s[i+2]) {
			g.starts |= edgeBit(s[i+1], s[i+2])
		}
		if s[i+2] == '.' && ok(s[i]) && ok(s[i+1]) {
			g.ends |= edgeBit(s[i], s[i+1])
		}
	}
}

// covers reports whether g has every edge of h.
func (g *edges) covers(h *edges) bool { return h.starts&^g.starts == 0 && h.ends&^g.ends == 0 }
