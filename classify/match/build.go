package match

import (
	"math/bits"
	"strings"
)

// builder collects records and their pattern lists before they are laid out
// in the table.
type builder struct {
	m     *Matcher
	recs  []brec
	arena []byte
	keys  map[recKey]uint32 // nodes and lists, by what they hang below and stand for
}

type brec struct {
	rec
	key   uint64
	label string // the label (the list key) the record stands for
	text  string // suffix node: the suffix
	ents  [3][]bent
}

// bent is an entry as the builder sees it.
type bent struct {
	entry
	tail   string // tail lists: the end of the label before the node
	simple bool   // tail lists: "*t.s", proved once the label is known to end in t
	seg    string // inner-label and window lists: the middle segment holding the anchor
	at     int    // ... and where the anchor starts in it
	mid    bool   // ... and the pattern is "*seg*", proved once seg is found
}

type recKey struct {
	kind   uint8
	parent uint32
	label  string
}

func newBuilder(m *Matcher, n int) *builder {
	// Sized for the synthetic 100k catalog's proportions: about 2 nodes and
	// 0.2 lists per pattern.
	b := &builder{m: m, keys: make(map[recKey]uint32, 2*n+n/4), recs: make([]brec, 0, 2*n+n/4)}
	b.recs = append(b.recs, brec{key: kBack}, brec{key: kFwd}) // rootBack, rootFwd
	return b
}

// record returns the record of kind for label below parent, creating it
// with key(parent's key) if it is new.
func (b *builder) record(kind uint8, parent uint32, label string, key func(uint64) uint64) (uint32, bool) {
	rk := recKey{kind, parent, label}
	if i, ok := b.keys[rk]; ok {
		return i, false
	}
	r := brec{key: key(b.recs[parent].key), label: label, rec: rec{meta: meta(parent, kind, len(label))}}
	r.w0 = wordOf(label[:min(len(label), 8)])
	if len(label) > 8 {
		r.w1 = wordOf(label[8:min(len(label), 16)])
	}
	if len(label) > 16 {
		r.lab = uint32(len(b.arena))
		b.arena = append(b.arena, label[16:]...)
	}
	b.recs = append(b.recs, r)
	i := uint32(len(b.recs) - 1)
	b.keys[rk] = i
	return i, true
}

// node returns the suffix (kind recBack) or prefix (recFwd) node for labels,
// in name order, creating it and its ancestors.
func (b *builder) node(kind uint8, labels []string) uint32 {
	n, mul := uint32(rootBack), uint64(kBack)
	if kind == recFwd {
		n, mul = rootFwd, kFwd
		b.m.fwd = true
	}
	for i := range labels {
		label := labels[i]
		if kind == recBack {
			label = labels[len(labels)-1-i]
		}
		parent := n
		var isNew bool
		n, isNew = b.record(kind, parent, label, func(h uint64) uint64 { return stepString(h, label, mul) })
		switch {
		case !isNew:
		case kind == recFwd && parent == rootFwd:
			b.m.firstFwd.add(label)
		case kind == recBack && parent == rootBack:
			b.recs[n].text = label
		case kind == recBack:
			b.recs[n].text = label + "." + b.recs[parent].text
		}
	}
	return n
}

// list returns the list record of kind below parent keyed by label, whose
// table key is key.
func (b *builder) list(kind uint8, parent uint32, label string, key uint64) uint32 {
	i, _ := b.record(kind, parent, label, func(uint64) uint64 { return key })
	return i
}

// checked returns e, marked for the glob if glob is set.
func checked(e entry, glob bool) entry {
	if glob {
		e.flags |= entGlob
	}
	return e
}

func (b *builder) add(r uint32, group int, e entry) {
	b.recs[r].ents[group] = append(b.recs[r].ents[group], bent{entry: e})
}

// addTail files pattern e under suffix node n: the label before the node's
// suffix must end with t. The list's key, t's last one or two bytes,
// proves a simple pattern ("*t.s") if that is all of t.
func (b *builder) addTail(n uint32, t string, e entry, simple bool) {
	kind, mul, k := recTail1, uint64(kTail1), t[len(t)-1:]
	if len(t) >= 2 {
		kind, mul, k = recTail2, kTail2, t[len(t)-2:]
	}
	l := b.list(kind, n, k, mix(b.recs[n].key^wordOf(k), mul))
	b.recs[n].flags |= flagOf(kind == recTail1)
	b.recs[n].ends |= 1 << (t[len(t)-1] & 63)
	be := bent{entry: checked(e, !simple || len(t) > 2), tail: t, simple: simple}
	b.recs[l].ents[grpAlways] = append(b.recs[l].ents[grpAlways], be)
}

// addHead files pattern e under prefix node n: the label after the node's
// prefix must start with r.
func (b *builder) addHead(n uint32, r string, e entry, simple bool) {
	kind, mul, k := recHead1, uint64(kHead1), r[:1]
	if len(r) >= 2 {
		kind, mul, k = recHead2, kHead2, r[:2]
	}
	l := b.list(kind, n, k, mix(b.recs[n].key^wordOf(k), mul))
	b.recs[n].flags |= flagOf(kind == recHead1)
	b.recs[n].ends |= 1 << (r[0] & 63)
	b.m.fwd = true
	b.add(l, grpAlways, checked(e, !simple || len(r) > 2))
}

// addInner files pattern e under an inner label, a label between two dots
// in one of the middle segments mids.
func (b *builder) addInner(label string, mids []string, e entry) {
	l := b.list(recInner, 0, label, stepString(kInner, label, kInner))
	b.m.inner.add(label)
	b.m.more = true
	for _, seg := range mids {
		if i := strings.Index(seg, "."+label+"."); i >= 0 {
			b.addAnchored(l, seg, i+1, e)
			return
		}
	}
	panic("match: inner label not in its pattern")
}

// addWindow files pattern e under window w.
func (b *builder) addWindow(w window, e entry) {
	k := w.key()
	b.addAnchored(b.list(recWindow, 0, k, mix(wordOf(k), kWindow)), w.seg, w.at, e)
	b.m.pairs[k[1]&63] |= 1 << (k[3] & 63)
	b.m.more = true
}

// addAnchored files pattern e under list l, an anchor at seg[at:] inside
// the name. The anchor can occur more than once in a name.
func (b *builder) addAnchored(l uint32, seg string, at int, e entry) {
	e.flags |= entDup
	h := b.m.pats[e.id].host
	be := bent{entry: checked(e, true), seg: seg, at: at, mid: len(h) == 3 && h[0] == "" && h[2] == ""}
	b.recs[l].ents[grpAlways] = append(b.recs[l].ents[grpAlways], be)
}

func flagOf(short bool) uint8 {
	if short {
		return hasShort
	}
	return hasLong
}

// resolve copies into each suffix node the patterns its own labels decide,
// so that a lookup that gets past the node need not look for them: the
// tails of its parent that its first label ends with, the inner labels and
// windows inside it. A lookup still probes the tails below the deepest node
// it reaches, and the inner labels and windows left of it.
func (b *builder) resolve() {
	for i := 2; i < len(b.recs); i++ {
		r := &b.recs[i]
		if r.meta>>8&0xff != uint64(recBack) {
			continue
		}
		p, label := r.parent(), r.label
		for n, kind := range []uint8{recTail1, recTail2} {
			if len(label) <= n {
				break
			}
			li, ok := b.keys[recKey{kind, p, label[len(label)-n-1:]}]
			if !ok {
				continue
			}
			for _, e := range b.recs[li].ents[grpAlways] {
				if strings.HasSuffix(label, e.tail) {
					e.flags &^= entGlob
					b.add(uint32(i), grpAlways, checked(e.entry, !e.simple))
				}
			}
		}
		if p == rootBack {
			continue // the label is the last of every name below
		}
		if li, ok := b.keys[recKey{recInner, 0, label}]; ok {
			b.addInside(uint32(i), grpBelow, li, 0)
		}
		if pl := b.recs[p].label; len(label) >= 2 && len(pl) >= 2 {
			if li, ok := b.keys[recKey{recWindow, 0, label[len(label)-2:] + "." + pl[:2]}]; ok {
				b.addInside(uint32(i), grpAlways, li, len(label)-2)
			}
		}
	}
}

// addInside copies to suffix node n the patterns of list li whose anchor
// is at n's suffix[at:] and whose segment is there as far as the suffix
// goes: proved if the segment is within the suffix, or within it and the
// dot before it (an inner label: n is below a dot).
func (b *builder) addInside(n uint32, group int, li uint32, at int) {
	text := b.recs[n].text
	for _, e := range b.recs[li].ents[grpAlways] {
		start := at - e.at // of the segment in text
		end := start + len(e.seg)
		if end > len(text) || text[max(start, 0):end] != e.seg[max(-start, 0):] {
			continue
		}
		if e.mid && (start >= 0 || start == -1 && group == grpBelow) {
			e.flags &^= entGlob
		}
		b.add(n, group, e.entry)
	}
}

// finish lays the records out in the table and their lists in m.ents.
func (b *builder) finish() {
	m := b.m
	m.arena = string(b.arena)
	n := len(b.recs) - 2
	for _, r := range b.recs {
		if r.text != "" {
			n++ // room for a whole name
		}
	}
	// At most half full: a miss stops at an empty slot within a probe or two.
	size := max(1<<bits.Len(uint(2*n)), 2)
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
		total += len(r.ents[0]) + len(r.ents[1]) + len(r.ents[2])
	}
	m.ents = make([]entry, 0, total)
	for i, r := range b.recs {
		r.lo = uint32(len(m.ents))
		for g, ents := range r.ents {
			for _, e := range ents {
				m.ents = append(m.ents, e.entry)
			}
			if g == grpExact {
				r.m1 = uint32(len(m.ents))
			} else if g == grpBelow {
				r.m2 = uint32(len(m.ents))
			}
		}
		r.hi = uint32(len(m.ents))
		m.recs[i] = r.rec
		if i >= 2 {
			m.insert(r.key, i)
		}
	}
}

// wholeNames files, for each suffix node, the answer for a name equal to
// its suffix, worked out by the lookup itself, under a key for the whole
// name: such a name then costs a probe and a copy.
func (b *builder) wholeNames() {
	m := b.m
	var texts []byte
	var dst []int
	for _, r := range b.recs {
		if r.text == "" {
			continue
		}
		dst = m.lookup(r.text, "", dst[:0])
		if len(dst) > maxWhole {
			continue
		}
		w := wholeName{text: uint32(len(texts)), n: uint8(len(r.text)), ids: uint32(len(m.ids))}
		texts = append(texts, r.text...)
		m.ids = append(m.ids, dst...)
		w.end = uint32(len(m.ids))
		for _, id := range dst {
			w.path = w.path || m.pats[id].path != nil
		}
		m.wholes = append(m.wholes, w)
	}
	// Filed once all are worked out: the lookups above must not find them.
	m.texts = string(texts)
	for i, w := range m.wholes {
		var q query
		q.load(m.texts[w.text : w.text+uint32(w.n)])
		m.insert(q.full, len(m.recs)+i)
	}
}
