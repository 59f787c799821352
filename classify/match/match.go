package match

import (
	"errors"
	"fmt"
	"iter"
	"math/bits"
	"sort"
	"strings"
)

// MaxNameLen is the longest host name, without its trailing dot, that can
// match. Longer names match nothing.
const MaxNameLen = 253

// ErrPattern is wrapped by every Compile error.
var ErrPattern = errors.New("invalid pattern")

// Matcher holds compiled patterns. Build it with Compile; the zero value
// matches nothing. It is immutable and safe for concurrent use.
type Matcher struct {
	pats []compiled
	rank []int32 // rank[id]: position of id in specificity order

	// One open-addressed table for every key: slot = fingerprint<<32 |
	// index in recs; 0 is empty. Home slot: the key's top bits.
	slots  []uint64
	shift  uint8
	mask   uint64
	filter []uint64 // bit key>>fshift: some record has a key with those top bits
	fshift uint8
	recs   []rec   // recs[rootBack], recs[rootFwd]: the two roots, not in slots
	ents   []entry // pattern lists of recs
	arena  []byte  // labels longer than 8 bytes and literals the checks compare; padded
	rest   []int32 // no anchor: "*", "*foo*"; tried on every name long enough

	fwd       bool          // some prefix node or root head list
	restMin   int           // shortest name a rest pattern can match; MaxNameLen+1 if none
	more      bool          // some inner-label or window list: look at every label
	innerLens [4]uint64     // bit l: some inner-label list has a label of length l
	pairs     *[1024]uint64 // bit a<<8|c: some window is "?a.c?"; nil: no windows
}

type compiled struct {
	text   string   // the pattern as given
	host   []string // host glob split at '*', lower case
	minLen int      // bytes of host that are not '*': no shorter name matches
	run    int      // longest run of host without '*' or '.': some label is as long
	first  uint32   // offset in Matcher.arena of host[0]
	last   uint32   // offset in Matcher.arena of host[len(host)-1]
	path   []string // path glob split at '*', lower case, implicit trailing star; nil: no path
}

// Compile builds a Matcher; pattern i gets ID i. Patterns are validated: the
// host must be non-empty and made of letters, digits, '-', '_', '.' and '*';
// the path, if any, must be printable ASCII without spaces. Errors name the
// pattern index and text and wrap ErrPattern.
func Compile(patterns []string) (*Matcher, error) {
	m := &Matcher{
		pats: make([]compiled, len(patterns)),
		rank: make([]int32, len(patterns)),
	}
	b := newBuilder(m, patterns)
	var middle []int32 // to be anchored inside the name
	for i, p := range patterns {
		c, err := compileOne(p)
		if err != nil {
			return nil, fmt.Errorf("pattern %d %q: %w", i, p, err)
		}
		c.first, c.last = b.lit(c.host[0]), b.lit(c.host[len(c.host)-1])
		m.pats[i] = c
		id := int32(i)
		h := c.host
		first, last := h[0], h[len(h)-1]
		var flags uint8
		if c.path != nil {
			flags = entPath
		}
		switch dot, fdot := strings.IndexByte(last, '.'), strings.LastIndexByte(first, '.'); {
		case len(h) == 1:
			n := b.node(recBack, strings.Split(first, "."))
			b.add(n, entry{id: id, kind: entWhole | entSimple | flags})
		case dot >= 0 && !(len(h) > 2 && strings.IndexByte(last[dot+1:], '.') < 0 && hasInnerLabel(h[1:len(h)-1])):
			// "*.s", "a.*.s": the name ends in ".s"; "*t.s": the name ends
			// in "s" and the label before it ends in "t". (But
			// "*.b.akamai*.net" is better filed under "b" than under a
			// one-label suffix that most names have.)
			if len(h) == 2 && first == "" {
				flags |= entSimple
			}
			n := b.node(recBack, strings.Split(last[dot+1:], "."))
			if dot == 0 {
				b.add(n, entry{id: id, kind: entBelow | flags})
			} else {
				b.addTail(n, last[:dot], id, flags)
			}
		case fdot >= 0:
			// "p.r*": the name starts with "p." and the label after it
			// with "r".
			if len(h) == 2 && last == "" {
				flags |= entSimple
			}
			n := b.node(recFwd, strings.Split(first[:fdot], "."))
			if r := first[fdot+1:]; r == "" {
				b.add(n, entry{id: id, kind: entAny | flags})
			} else {
				b.addHead(n, r, id, flags)
			}
		default:
			middle = append(middle, id)
		}
	}
	// Anchors inside the name: of the whole labels and windows a pattern
	// requires, take the one fewest patterns contain anywhere, a proxy for
	// how many names contain it: "*photos.microsoft.com*" is filed under
	// "os.mi", not under "microsoft".
	freq := map[string]int{}
	for i := range m.pats {
		if len(middle) == 0 {
			break
		}
		for l := range innerLabels(m.pats[i].host) {
			freq["."+l+"."]++
		}
		for w := range windows(m.pats[i].host) {
			freq[w.seg[w.at:w.at+windowLen]]++
		}
	}
	for _, id := range middle {
		c := &m.pats[id]
		h := c.host
		first, last := h[0], h[len(h)-1]
		var flags uint8
		if c.path != nil {
			flags = entPath
		}
		if len(h) == 3 && first == "" && last == "" {
			// "*mid*": finding mid where the anchor says proves it.
			flags |= entSimple
		}
		label, win, n := "", window{}, -1
		for l := range innerLabels(h[1 : len(h)-1]) {
			if f := freq["."+l+"."]; n < 0 || f < n || f == n && len(l) > len(label) {
				label, n = l, f
			}
		}
		for w := range windows(h[1 : len(h)-1]) {
			if f := freq[w.seg[w.at:w.at+windowLen]]; n < 0 || f < n {
				label, win, n = "", w, f
			}
		}
		switch {
		case label != "":
			b.addInner(label, h[1:len(h)-1], id, flags)
		case len(last) >= 2 || last != "" && n < 0 && first == "":
			// "*soft", "a*bc": the last label ends with the last segment.
			if len(h) == 2 && first == "" {
				flags |= entSimple
			}
			b.addTail(rootBack, last, id, flags)
		case len(first) >= 2 || first != "" && n < 0:
			// "www*": the first label starts with the first segment.
			if len(h) == 2 && last == "" {
				flags |= entSimple
			}
			b.addHead(rootFwd, first, id, flags)
		case n >= 0:
			b.addWindow(win, id, flags)
		default:
			m.rest = append(m.rest, id)
		}
	}
	m.restMin = MaxNameLen + 1
	for _, id := range m.rest {
		m.restMin = min(m.restMin, m.pats[id].minLen)
	}
	b.finish()

	order := make([]int, len(patterns))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		pa, pb := &m.pats[order[a]], &m.pats[order[b]]
		ea, eb := len(pa.host) == 1, len(pb.host) == 1
		if ea != eb {
			return ea
		}
		return pa.literal() > pb.literal()
	})
	for r, id := range order {
		m.rank[id] = int32(r)
	}
	return m, nil
}

// builder collects records and their pattern lists before they are laid out
// in the table.
type builder struct {
	m     *Matcher
	recs  []brec
	nodes map[string]uint32  // kind byte + labels joined by '.': node record
	lists map[listKey]uint32 // list records
}

type brec struct {
	rec
	key  uint64
	ents []entry
}

type listKey struct {
	kind   uint8
	parent uint32
	label  string
}

func newBuilder(m *Matcher, patterns []string) *builder {
	n, size := len(patterns), 8
	for _, p := range patterns {
		size += 2 * len(p) // first and last segments, a tail or a head
	}
	m.arena = make([]byte, 0, size)
	// Sized for the synthetic 100k catalog's proportions: about 2 nodes and
	// 0.2 lists per pattern.
	b := &builder{m: m, nodes: make(map[string]uint32, 2*n), lists: make(map[listKey]uint32, n/4), recs: make([]brec, 0, 2*n+n/4)}
	b.recs = append(b.recs, brec{key: kBack}, brec{key: kFwd}) // rootBack, rootFwd
	return b
}

// newRec adds a record for label under parent.
func (b *builder) newRec(kind uint8, parent uint32, label string, key, w0 uint64) uint32 {
	r := brec{key: key, rec: rec{meta: meta(parent, kind, len(label)), w0: w0}}
	if len(label) > 8 {
		r.lab = b.lit(label)
	}
	b.recs = append(b.recs, r)
	return uint32(len(b.recs) - 1)
}

// lit stores s in the arena and returns its offset.
func (b *builder) lit(s string) uint32 {
	off := uint32(len(b.m.arena))
	b.m.arena = append(b.m.arena, s...)
	return off
}

// node returns the suffix (kind recBack) or prefix (recFwd) node for labels,
// in name order, creating it and its ancestors.
func (b *builder) node(kind uint8, labels []string) uint32 {
	if len(labels) == 0 {
		if kind == recBack {
			return rootBack
		}
		return rootFwd
	}
	mk := string(rune('0'+kind)) + strings.Join(labels, ".")
	if i, ok := b.nodes[mk]; ok {
		return i
	}
	var parent uint32
	var label string
	mul := uint64(kBack)
	if kind == recBack {
		parent, label = b.node(kind, labels[1:]), labels[0]
	} else {
		parent, label = b.node(kind, labels[:len(labels)-1]), labels[len(labels)-1]
		mul = kFwd
		b.m.fwd = true
	}
	lh, w0 := hashLabel(label, 0, len(label))
	i := b.newRec(kind, parent, label, mix(b.recs[parent].key^lh, mul), w0)
	b.nodes[mk] = i
	return i
}

// list returns the list record of kind below parent keyed by label.
func (b *builder) list(kind uint8, parent uint32, label string, key, w0 uint64) uint32 {
	lk := listKey{kind, parent, label}
	if i, ok := b.lists[lk]; ok {
		return i
	}
	i := b.newRec(kind, parent, label, key, w0)
	b.lists[lk] = i
	return i
}

func (b *builder) add(r uint32, e entry) {
	if h := b.m.pats[e.id].host[0]; h != "" {
		e.head = h[0]
	}
	b.recs[r].ents = append(b.recs[r].ents, e)
}

// addTail files pattern id under suffix node n: the label before the
// node's suffix must end with t.
func (b *builder) addTail(n uint32, t string, id int32, flags uint8) {
	kind, key, k := recTail1, uint64(kTail1), t[len(t)-1:]
	if len(t) >= 2 {
		kind, key, k = recTail2, kTail2, t[len(t)-2:]
	}
	w := wordOf(k)
	l := b.list(kind, n, k, mix(b.recs[n].key^w, key), w)
	b.recs[n].flags |= flagOf(kind == recTail1)
	b.recs[n].ends |= 1 << ((t[len(t)-1] | 0x20) & 63)
	b.add(l, entry{id: id, kind: entTail | flags, lit: b.lit(t), nlit: uint8(len(t))})
}

// addHead files pattern id under prefix node n: the label after the node's
// prefix must start with r.
func (b *builder) addHead(n uint32, r string, id int32, flags uint8) {
	kind, key, k := recHead1, uint64(kHead1), r[:1]
	if len(r) >= 2 {
		kind, key, k = recHead2, kHead2, r[:2]
	}
	w := wordOf(k)
	l := b.list(kind, n, k, mix(b.recs[n].key^w, key), w)
	b.recs[n].flags |= flagOf(kind == recHead1)
	b.recs[n].ends |= 1 << ((r[0] | 0x20) & 63)
	b.m.fwd = true
	b.add(l, entry{id: id, kind: entHead | flags, lit: b.lit(r), nlit: uint8(len(r))})
}

// addInner files pattern id under an inner label, one of the labels
// between two dots in a middle segment: the entry checks that segment.
func (b *builder) addInner(label string, middle []string, id int32, flags uint8) {
	lh, w0 := hashLabel(label, 0, len(label))
	l := b.list(recInner, 0, label, mix(lh, kInner), w0)
	b.m.innerLens[len(label)>>6] |= 1 << (len(label) & 63)
	b.m.more = true
	for _, seg := range middle {
		if i := strings.Index(seg, "."+label+"."); i >= 0 {
			b.add(l, entry{id: id, kind: entAt | flags, lit: b.lit(seg), nlit: uint8(len(seg)), off: uint8(i + 1)})
			return
		}
	}
	panic("match: inner label not in its pattern")
}

// addWindow files pattern id under a window, w.seg[w.at:w.at+5].
func (b *builder) addWindow(w window, id int32, flags uint8) {
	k := w.seg[w.at : w.at+windowLen]
	w0 := wordOf(k)
	l := b.list(recWindow, 0, k, mix(w0, kWindow), w0)
	if b.m.pairs == nil {
		b.m.pairs = new([1024]uint64)
	}
	pair := uint16(k[1])<<8 | uint16(k[3])
	b.m.pairs[pair>>6] |= 1 << (pair & 63)
	b.m.more = true
	b.add(l, entry{id: id, kind: entAt | flags, lit: b.lit(w.seg), nlit: uint8(len(w.seg)), off: uint8(w.at)})
}

func flagOf(short bool) uint8 {
	if short {
		return hasShort
	}
	return hasLong
}

// wordOf packs up to 8 bytes little-endian, as word reads them.
func wordOf(s string) uint64 {
	var w uint64
	for i := len(s) - 1; i >= 0; i-- {
		w = w<<8 | uint64(s[i])
	}
	return w
}

// finish lays the records out in the table and their lists in m.ents.
func (b *builder) finish() {
	m := b.m
	m.arena = append(m.arena, make([]byte, 8)...)
	n := len(b.recs) - 2
	// At most half full: a miss stops at an empty slot within a probe or two.
	size := 1 << bits.Len(uint(2*n))
	m.shift = uint8(64 - bits.TrailingZeros(uint(size)))
	m.mask = uint64(size - 1)
	m.slots = make([]uint64, size)
	// About 16 filter bits per key: one probe in 16 that should miss
	// reaches the table.
	fsize := max(1<<bits.Len(uint(16*n)), 1<<12)
	m.fshift = uint8(64 - bits.TrailingZeros(uint(fsize)))
	m.filter = make([]uint64, fsize/64)
	m.recs = make([]rec, len(b.recs))
	total := 0
	for _, r := range b.recs {
		total += len(r.ents)
	}
	m.ents = make([]entry, 0, total)
	for i, r := range b.recs {
		r.lo = uint32(len(m.ents))
		m.ents = append(m.ents, r.ents...)
		r.hi = uint32(len(m.ents))
		m.recs[i] = r.rec
		if i < 2 {
			continue
		}
		j := r.key >> m.shift
		if size == 1 {
			j = 0
		}
		for m.slots[j] != 0 {
			j = (j + 1) & m.mask
		}
		m.slots[j] = uint64(uint32(r.key))<<32 | uint64(i)
		f := r.key >> m.fshift
		m.filter[f>>6] |= 1 << (f & 63)
	}
}

func (c *compiled) literal() int {
	n := 0
	for _, s := range c.host {
		n += len(s)
	}
	for _, s := range c.path {
		n += len(s)
	}
	return n
}

func compileOne(p string) (compiled, error) {
	host, path, hasPath := strings.Cut(p, "/")
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return compiled{}, fmt.Errorf("%w: empty host", ErrPattern)
	}
	if len(host) > MaxNameLen {
		return compiled{}, fmt.Errorf("%w: host longer than %d bytes", ErrPattern, MaxNameLen)
	}
	for i := 0; i < len(host); i++ {
		if !hostByte(host[i]) {
			return compiled{}, fmt.Errorf("%w: byte %q at %d not allowed in a host (letters, digits, '-', '_', '.', '*')", ErrPattern, host[i], i)
		}
	}
	c := compiled{text: p, host: splitStars(strings.ToLower(host))}
	for _, seg := range c.host {
		c.minLen += len(seg)
		for i, run := 0, 0; i <= len(seg); i++ {
			if i == len(seg) || seg[i] == '.' {
				c.run, run = max(c.run, run), 0
			} else {
				run++
			}
		}
	}
	if hasPath {
		path = "/" + path
		for i := 0; i < len(path); i++ {
			if path[i] <= ' ' || path[i] >= 0x7f {
				return compiled{}, fmt.Errorf("%w: byte %q at %d not allowed in a path (printable ASCII, no space)", ErrPattern, path[i], i)
			}
		}
		c.path = splitStars(strings.ToLower(strings.TrimRight(path, "*")) + "*")
	}
	return c, nil
}

// splitStars splits a glob at '*', folding runs of stars into one.
func splitStars(g string) []string {
	for strings.Contains(g, "**") {
		g = strings.ReplaceAll(g, "**", "*")
	}
	return strings.Split(g, "*")
}

func hostByte(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' ||
		b == '-' || b == '_' || b == '.' || b == '*'
}

// innerLabels yields the non-empty runs between two dots inside segs: each
// is a whole label of every matching name.
func innerLabels(segs []string) iter.Seq[string] {
	return func(yield func(string) bool) {
		for _, s := range segs {
			for {
				i := strings.IndexByte(s, '.')
				if i < 0 {
					break
				}
				s = s[i+1:]
				j := strings.IndexByte(s, '.')
				if j < 0 {
					break
				}
				if j > 0 && !yield(s[:j]) {
					return
				}
			}
		}
	}
}

func hasInnerLabel(segs []string) bool {
	for range innerLabels(segs) {
		return true
	}
	return false
}

// window is a window key: seg[at:at+windowLen].
type window struct {
	seg string
	at  int
}

// windows yields, in segs, every dot with two non-dot bytes on each side:
// the five bytes Match reads around each dot of a name.
func windows(segs []string) iter.Seq[window] {
	return func(yield func(window) bool) {
		for _, s := range segs {
			for d := 2; d+2 < len(s); d++ {
				if s[d] == '.' && s[d-2] != '.' && s[d-1] != '.' && s[d+1] != '.' && s[d+2] != '.' && !yield(window{s, d - 2}) {
					return
				}
			}
		}
	}
}

// Len reports the number of compiled patterns.
func (m *Matcher) Len() int { return len(m.pats) }

// Pattern returns the text of pattern id as given to Compile.
func (m *Matcher) Pattern(id int) string { return m.pats[id].text }
