package match

import (
	"math/bits"
	"strings"
)

// Seeds and multipliers of the key hashes, one per kind of key so that a
// label, a suffix and a prefix made of the same bytes get different keys.
const (
	kLabel0 = 0xa0761d6478bd642f
	kLabel1 = 0xe7037ed1a0b428db
	kLabel2 = 0x8ebc6af09c88c6e3
	kBack   = 0x589965cc75374cc3 // suffix node: parent suffix, label
	kFwd    = 0x1d8e4e27c47d124f // prefix node: parent prefix, label
	kTail1  = 0x9e3779b97f4a7c15 // one byte before a suffix node
	kTail2  = 0xbf58476d1ce4e5b9 // two bytes before a suffix node
	kHead1  = 0x94d049bb133111eb // one byte after a prefix node
	kHead2  = 0x2545f4914f6cdd1d // two bytes after a prefix node
	kInner  = 0xd6e8feb86659fd93 // a whole label inside the name
	kWindow = 0xca5a826395121157 // two bytes, a dot, two bytes
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

func mix(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// byteMask[n] keeps the low n bytes of a word, 0 <= n <= 8.
var byteMask = [16]uint64{0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffff, 0xffffffffffff, 0xffffffffffffff, 0xffffffffffffffff}

// word returns s[k:k+8] as a little-endian word, lower case (ASCII), with
// zero bytes past the end of s; 0 <= k < len(s). Names are read in place a
// word at a time: no copy, no allocation. Inlined; the end of s takes
// wordEnd.
func word(s string, k int) uint64 {
	if k+8 > len(s) {
		return wordEnd(s, k)
	}
	t := s[k : k+8]
	return lowerWord(uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
		uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56)
}

func wordEnd(s string, k int) uint64 {
	if n := len(s); n >= 8 {
		t := s[n-8 : n]
		w := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		return lowerWord(w >> (8 * uint(k+8-n) & 63))
	}
	var w uint64
	for i := len(s) - 1; i >= k; i-- {
		w = w<<8 | uint64(s[i])
	}
	return lowerWord(w)
}

// lowerWord maps the ASCII upper-case bytes of w to lower case, all eight
// at once (SWAR).
func lowerWord(w uint64) uint64 {
	h7 := w & 0x7f7f7f7f7f7f7f7f
	up := (h7 + 0x3f3f3f3f3f3f3f3f) ^ (h7 + 0x2525252525252525) // bit 7: 'A' <= byte&0x7f <= 'Z'
	return w | up&^w&0x8080808080808080>>2                      // and the byte is ASCII
}

// dotMask has bit 8i+7 set where byte i of w is '.'.
func dotMask(w uint64) uint64 {
	x := w ^ 0x2e2e2e2e2e2e2e2e
	return ^((x&0x7f7f7f7f7f7f7f7f + 0x7f7f7f7f7f7f7f7f) | x) & 0x8080808080808080
}

// hashLabel hashes the label name[s:e] and returns the hash and the
// label's first word (its first 8 bytes, zero padded). Compile and Match
// both use it; Match inlines the path for labels of up to 8 bytes, most of
// them.
func hashLabel(name string, s, e int) (h, w0 uint64) {
	if l := e - s; l <= 8 {
		if l > 0 {
			w0 = word(name, s) & byteMask[l]
		}
		return mix(kLabel0^uint64(l)<<56^w0, kLabel1), w0
	}
	return hashLong(name, s, e)
}

func hashLong(name string, s, e int) (h, w0 uint64) {
	l := e - s
	w0 = word(name, s)
	h = mix(kLabel0^uint64(l)<<56^w0, kLabel1)
	for k := s + 8; k < e; k += 8 {
		w := word(name, k)
		if e-k < 8 {
			w &= byteMask[e-k]
		}
		h = mix(h^w, kLabel2)
	}
	return h, w0
}

// rec is what a table key stands for: a node of the suffix or prefix trie, or
// a list of patterns. A hit is accepted only if meta and the label bytes
// agree, so hash collisions cost a probe, never a wrong answer.
type rec struct {
	w0     uint64 // first 8 bytes of the label (or the 1-2 list bytes, the window)
	meta   uint64 // meta(parent, kind, label length)
	lab    uint32 // offset in Matcher.arena of the whole label, when longer than 8 bytes
	lo, hi uint32 // Matcher.ents[lo:hi]: patterns anchored here
	ends   uint64 // node: bit c&63 for the byte c its tail (head) lists start from
	flags  uint8  // node: hasShort, hasLong
}

// meta packs what, besides the label bytes, a table hit must agree on: the
// node the record hangs below (rootBack, rootFwd; 0 for inner labels and
// windows), its kind and the label length.
func meta(parent uint32, kind uint8, l int) uint64 {
	return uint64(parent)<<16 | uint64(kind)<<8 | uint64(l)
}

// probe returns the index of the record with the given key and meta that
// stands for the label at name[s:] (first word w0), or 0.
func (m *Matcher) probe(key, meta uint64, name string, s int, w0 uint64) uint32 {
	fp := uint32(key)
	slots := m.slots
	for i := key >> (m.shift & 63); ; i = (i + 1) & m.mask {
		sl := slots[i]
		if sl == 0 {
			return 0
		}
		if uint32(sl>>32) != fp {
			continue
		}
		r := &m.recs[uint32(sl)]
		if r.meta == meta && r.w0 == w0 {
			if l := int(meta & 0xff); l <= 8 || m.equalLit(name, s+8, l-8, int(r.lab)+8) {
				return uint32(sl)
			}
		}
	}
}

// equalLit reports whether name[s:s+l] (lower-cased) equals the literal at
// m.arena[off:], comparing a word at a time; the arena is padded.
func (m *Matcher) equalLit(name string, s, l, off int) bool {
	for k := 0; k < l; k += 8 {
		var w uint64
		if j := s + k; j+8 <= len(name) {
			t := name[j : j+8] // word(name, j), by hand: word is not inlined
			w = lowerWord(uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
				uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56)
		} else {
			w = wordEnd(name, j)
		}
		a := m.arena[off+k : off+k+8]
		d := w ^ (uint64(a[0]) | uint64(a[1])<<8 | uint64(a[2])<<16 | uint64(a[3])<<24 |
			uint64(a[4])<<32 | uint64(a[5])<<40 | uint64(a[6])<<48 | uint64(a[7])<<56)
		if l-k < 8 {
			d &= byteMask[l-k]
		}
		if d != 0 {
			return false
		}
	}
	return true
}

// Entry kinds: the check that, with the record's own, proves a match for a
// simple pattern, or must pass before the full glob for the others.
const (
	entWhole   uint8 = iota + 1 // suffix node: the suffix is the whole name
	entBelow                    // suffix node: a dot precedes the suffix
	entTail                     // tail list: the label before the node ends with lit
	entHead                     // head list: the label after the node starts with lit
	entAny                      // prefix node: nothing more
	entAt                       // inner label, window: lit is in the name with the anchor at lit[off]
	entSimple  uint8 = 1 << 6   // flag: the checks prove the match, no glob needed
	entPath    uint8 = 1 << 7   // flag: the pattern has a path
	entKindMsk uint8 = entSimple - 1
)

// entry is one pattern filed under a record.
type entry struct {
	id   int32
	lit  uint32 // offset in Matcher.arena of the literal the check compares
	nlit uint8
	off  uint8 // entAt: where the anchor is in the literal
	kind uint8 // entWhole... | entSimple | entPath
	head byte  // first byte of the host glob, 0 if it starts with '*': a cheap test before the glob
}

// glob is globFold for a name without upper case: the standard library's
// search is much faster than indexFold.
func glob(segs []string, s string) bool {
	first := segs[0]
	if len(segs) == 1 {
		return s == first
	}
	last := segs[len(segs)-1]
	if len(s) < len(first)+len(last) || !strings.HasPrefix(s, first) || !strings.HasSuffix(s, last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, seg := range segs[1 : len(segs)-1] {
		i := strings.Index(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
	}
	return true
}

// hasUpper reports whether s has an ASCII upper-case byte.
func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i]-'A' < 26 {
			return true
		}
	}
	return false
}

// globFold reports whether s matches the glob whose literal segments (split
// at '*', lower case) are segs, comparing ASCII case-insensitively. With
// stars only, matching each middle segment at its leftmost place is exact.
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

// lower maps ASCII upper case to lower case and every other byte to itself.
var lower = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if i >= 'A' && i <= 'Z' {
			t[i] = byte(i) + 'a' - 'A'
		}
	}
	return t
}()

// equalFold compares s with lit, which is lower case; len(s) == len(lit).
func equalFold(s, lit string) bool {
	for i := 0; i < len(lit); i++ {
		if lower[s[i]] != lit[i] {
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
