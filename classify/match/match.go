package match

import (
	"errors"
	"fmt"
	"iter"
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
	// index, 0 is empty; the index is in recs, or past it in wholes. Home
	// slot: the key's top bits.
	slots  []uint64
	shift  uint8
	mask   uint64
	filter []uint64 // bit key>>fshift: some key has those top bits
	fshift uint8

	recs   []rec       // recs[rootBack], recs[rootFwd]: the two roots, not in slots
	ents   []entry     // pattern lists of recs
	arena  string      // bytes 16 and on of labels longer than 16 bytes
	wholes []wholeName // names that are a node's suffix, with their answers
	texts  string      // those names
	ids    []int       // their answers
	rest   []int32     // no anchor: "*", "*foo*"; tried on every name long enough

	fwd      bool       // some prefix node or root head list
	restMin  int        // shortest name a rest pattern can match; MaxNameLen+1 if none
	more     bool       // some inner-label or window list: look at every label
	inner    labelSet   // labels of the inner-label lists
	firstFwd labelSet   // labels of the prefix nodes below the root
	pairs    [64]uint64 // bit c&63 of word a&63: some window is "?a.c?"
}

type compiled struct {
	host   []string // host glob split at '*', lower case
	segs   [][]byte // host, as glob compares it with a name
	pre    uint64   // the first up to 8 bytes of host[0], as load reads them
	preLen int
	edges  edges    // label edges every matching name has
	minLen int      // bytes of host that are not '*': no shorter name matches
	run    int      // longest run of host without '*' or '.': some label is as long
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
	b := newBuilder(m, len(patterns))
	var middle []int32 // to be anchored inside the name
	for i, p := range patterns {
		c, err := compileOne(p)
		if err != nil {
			return nil, fmt.Errorf("pattern %d %q: %w", i, p, err)
		}
		m.pats[i] = c
		e := entry{id: int32(i)}
		if c.path != nil {
			e.flags = entPath
		}
		h := c.host
		first, last := h[0], h[len(h)-1]
		switch dot, fdot := strings.IndexByte(last, '.'), strings.LastIndexByte(first, '.'); {
		case len(h) == 1:
			b.add(b.node(recBack, strings.Split(first, ".")), grpExact, e)
		case dot >= 0 && !(len(h) > 2 && strings.IndexByte(last[dot+1:], '.') < 0 && hasInnerLabel(h[1:len(h)-1])):
			// "*.s", "a.*.s": the name ends in ".s"; "*t.s": the name ends
			// in "s" and the label before it ends in "t". (But
			// "*.b.akamai*.net" is better filed under "b" than under a
			// one-label suffix that most names have.)
			simple := len(h) == 2 && first == ""
			n := b.node(recBack, strings.Split(last[dot+1:], "."))
			if dot == 0 {
				b.add(n, grpBelow, checked(e, !simple))
			} else {
				b.addTail(n, last[:dot], e, simple)
			}
		case fdot >= 0:
			// "p.r*": the name starts with "p." and the label after it
			// with "r".
			simple := len(h) == 2 && last == ""
			n := b.node(recFwd, strings.Split(first[:fdot], "."))
			if r := first[fdot+1:]; r == "" {
				b.add(n, grpAlways, checked(e, !simple))
			} else {
				b.addHead(n, r, e, simple)
			}
		default:
			middle = append(middle, int32(i))
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
			freq[w.key()]++
		}
	}
	for _, id := range middle {
		c := &m.pats[id]
		h := c.host
		first, last := h[0], h[len(h)-1]
		e := entry{id: id}
		if c.path != nil {
			e.flags = entPath
		}
		label, win, n := "", window{}, -1
		for l := range innerLabels(h[1 : len(h)-1]) {
			if f := freq["."+l+"."]; n < 0 || f < n || f == n && len(l) > len(label) {
				label, n = l, f
			}
		}
		for w := range windows(h[1 : len(h)-1]) {
			if f := freq[w.key()]; n < 0 || f < n {
				label, win, n = "", w, f
			}
		}
		switch {
		case label != "":
			b.addInner(label, h[1:len(h)-1], e)
		case len(last) >= 2 || last != "" && n < 0 && first == "":
			// "*soft", "a*bc": the last label ends with the last segment.
			b.addTail(rootBack, last, e, len(h) == 2 && first == "")
		case len(first) >= 2 || first != "" && n < 0:
			// "www*": the first label starts with the first segment.
			b.addHead(rootFwd, first, e, len(h) == 2 && last == "")
		case n >= 0:
			b.addWindow(win, e)
		default:
			m.rest = append(m.rest, id)
		}
	}
	m.restMin = MaxNameLen + 1
	for _, id := range m.rest {
		m.restMin = min(m.restMin, m.pats[id].minLen)
	}
	b.resolve()
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
	b.wholeNames() // last: it looks names up
	return m, nil
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
	c := compiled{host: splitStars(strings.ToLower(host))}
	c.preLen = min(len(c.host[0]), 8)
	c.pre = wordOf(c.host[0][:c.preLen])
	for i, seg := range c.host {
		// A dot, and the name's ends where the glob has no star, end and
		// start labels.
		if i > 0 {
			seg = "*" + seg
		}
		if i < len(c.host)-1 {
			seg += "*"
		}
		c.edges.addAll("." + seg + ".")
	}
	for _, seg := range c.host {
		c.segs = append(c.segs, []byte(seg))
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

// window is a window of a pattern: seg[at:at+windowLen].
type window struct {
	seg string
	at  int
}

func (w window) key() string { return w.seg[w.at : w.at+windowLen] }

// windows yields, in segs, every window: a dot with two non-dot bytes on
// each side, the five bytes Match reads around each dot of a name.
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
