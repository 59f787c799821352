package match

import (
	"math/bits"
	"strings"
)

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

// hashOf is the polynomial hash sum(lower(s[i]) * hashBase^i) mod 2^64, the
// value Match computes incrementally from the right end of a name.
func hashOf(s string) uint64 {
	var h uint64
	for i := len(s) - 1; i >= 0; i-- {
		h = h*hashBase + uint64(lower[s[i]])
	}
	return h
}

type keyed struct {
	h   uint64
	len int
	id  int32
}

// index is an open-addressed table from key hash to pattern IDs. Equal hashes
// share one slot; candidates are verified by the full glob, so collisions cost
// time, never correctness.
type index struct {
	slots []slot
	ids   []int32
	shift uint8
	mask  uint64
	n     int       // number of keys
	lens  [4]uint64 // bit l set: some key has length l (keys are at most 255 bytes)
}

type slot struct {
	h      uint64
	lo, hi uint32 // ids[lo:hi]; hi == 0: empty
}

func (x *index) hasLen(l int) bool {
	return l < 256 && x.lens[l>>6]&(1<<(l&63)) != 0
}

func (x *index) build(keys []keyed) {
	x.n = len(keys)
	if len(keys) == 0 {
		return
	}
	groups := make(map[uint64][]int32, len(keys))
	var order []uint64
	for _, k := range keys {
		if _, ok := groups[k.h]; !ok {
			order = append(order, k.h)
		}
		groups[k.h] = append(groups[k.h], k.id)
		x.lens[k.len>>6] |= 1 << (k.len & 63)
	}
	// At most half full: a miss stops at an empty slot within a probe or two.
	size := 1 << bits.Len(uint(2*len(order)))
	x.shift = uint8(64 - bits.TrailingZeros(uint(size)))
	x.mask = uint64(size - 1)
	x.slots = make([]slot, size)
	x.ids = make([]int32, 0, len(keys))
	for _, h := range order {
		lo := uint32(len(x.ids))
		x.ids = append(x.ids, groups[h]...)
		i := x.home(h)
		for x.slots[i].hi != 0 {
			i = (i + 1) & uint64(size-1)
		}
		x.slots[i] = slot{h: h, lo: lo, hi: uint32(len(x.ids))}
	}
}

// home is Fibonacci hashing: the polynomial hash is weak in its low bits.
func (x *index) home(h uint64) uint64 {
	return (h * 0x9e3779b97f4a7c15) >> x.shift
}

// find returns the IDs stored under hash h; the index must not be empty
// (Match checks hasLen or n first). Small enough to be inlined.
func (x *index) find(h uint64) []int32 {
	for i := (h * 0x9e3779b97f4a7c15) >> x.shift; ; i = (i + 1) & x.mask {
		s := &x.slots[i]
		if s.hi == 0 {
			return nil
		}
		if s.h == h {
			return x.ids[s.lo:s.hi]
		}
	}
}

// try appends id if pattern id matches and is not already in dst[start:].
// lowerName says name has no upper case, so plain comparisons (vectorised
// in the runtime) can stand in for case-folding ones.
func (m *Matcher) try(id int32, name, path string, lowerName bool, dst []int, start int) []int {
	c := &m.pats[id]
	if lowerName {
		if !glob(c.host, name) {
			return dst
		}
	} else if !globFold(c.host, name) {
		return dst
	}
	if path != "" && c.path != nil && !globFold(c.path, path) {
		return dst
	}
	for _, d := range dst[start:] {
		if d == int(id) {
			return dst
		}
	}
	return append(dst, int(id))
}

// glob is globFold for a lower-case s.
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
