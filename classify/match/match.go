package match

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// MaxNameLen is the longest host name, without its trailing dot, that can
// match. Longer names match nothing.
const MaxNameLen = 253

// maxPrefixDots bounds how many dots a prefix anchor ("www.bing." for
// "www.bing.com*") may hold; a pattern with a longer one is scanned linearly.
const maxPrefixDots = 16

// hashBase is the base of the polynomial hash. 33 compiles to a shift and an
// add, which keeps the per-byte dependency chain short.
const hashBase = 33

// ErrPattern is wrapped by every Compile error.
var ErrPattern = errors.New("invalid pattern")

// Matcher holds compiled patterns. Build it with Compile; the zero value
// matches nothing. It is immutable and safe for concurrent use.
type Matcher struct {
	pats []compiled
	rank []int32 // rank[id]: position of id in specificity order

	suffix  index   // label-aligned suffix: exact hosts, *.s, a.*.s
	partial index   // one byte, a dot, and the label-aligned rest: "l.mp.microsoft.com" for *dl.mp.microsoft.com
	prefix  index   // host prefix through a dot: "www.bing." for www.bing.com*
	label   index   // one whole label inside a middle segment: *.aria.microsoft.com*
	window  index   // two bytes, a dot, two bytes inside a middle segment: "ge.ne" for *msedge.net*
	rest    []int32 // no anchor: "*", "*foo*"; tried on every lookup

	pow [MaxNameLen + 2]uint64 // hashBase^i
}

type compiled struct {
	text string   // the pattern as given
	host []string // host glob split at '*', lower case
	path []string // path glob split at '*', lower case, implicit trailing star; nil: no path
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
	m.pow[0] = 1
	for i := 1; i < len(m.pow); i++ {
		m.pow[i] = m.pow[i-1] * hashBase
	}
	var suf, part, pre, lab []keyed
	var labelPats []int32
	for i, p := range patterns {
		c, err := compileOne(p)
		if err != nil {
			return nil, fmt.Errorf("pattern %d %q: %w", i, p, err)
		}
		m.pats[i] = c
		id := int32(i)
		host := strings.Join(c.host, "*")
		last, first := c.host[len(c.host)-1], c.host[0]
		switch dot := strings.IndexByte(last, '.'); {
		case len(c.host) == 1:
			suf = append(suf, keyed{hashOf(host), len(host), id})
		case dot == 0:
			// *.s, a.*.s: the name ends in ".s".
			suf = append(suf, keyed{hashOf(last[1:]), len(last) - 1, id})
		case dot > 0:
			// *h.s: the name ends in "h.s"; key on the last byte of h, the
			// dot and s, so that the many *x.microsoft.com do not share one
			// slot.
			k := last[dot-1:]
			part = append(part, keyed{hashOf(k), len(k), id})
		case strings.IndexByte(first, '.') >= 0 && strings.Count(first, ".") <= maxPrefixDots:
			k := first[:strings.LastIndexByte(first, '.')+1]
			pre = append(pre, keyed{hashOf(k), len(k), id})
		default:
			labelPats = append(labelPats, id)
		}
	}
	// Whole-label anchors: of the labels a pattern requires, take the one
	// fewest patterns require, so that a common label ("microsoft") does not
	// collect them all.
	count := map[string]int{}
	for _, id := range labelPats {
		for _, l := range innerLabels(m.pats[id].host[1 : len(m.pats[id].host)-1]) {
			count[l]++
		}
	}
	var win []keyed
	for _, id := range labelPats {
		middle := m.pats[id].host[1 : len(m.pats[id].host)-1]
		best := ""
		for _, l := range innerLabels(middle) {
			if best == "" || count[l] < count[best] || count[l] == count[best] && len(l) > len(best) {
				best = l
			}
		}
		if best != "" {
			lab = append(lab, keyed{hashOf(best), len(best), id})
		} else if k, ok := windowKey(middle); ok {
			win = append(win, keyed{k, windowLen, id})
		} else {
			m.rest = append(m.rest, id)
		}
	}
	m.suffix.build(suf)
	m.partial.build(part)
	m.prefix.build(pre)
	m.label.build(lab)
	m.window.build(win)

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

// innerLabels returns the non-empty runs between two dots inside segs: each
// is a whole label of every matching name.
func innerLabels(segs []string) []string {
	var out []string
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
			if j > 0 {
				out = append(out, s[:j])
			}
		}
	}
	return out
}

// windowLen is the length of a window key: two bytes, a dot, two bytes.
const windowLen = 5

// windowKey finds, in one of segs, a dot with two non-dot bytes on each side
// and packs those four bytes (lower case) as Match does for each dot of a
// name.
func windowKey(segs []string) (uint64, bool) {
	for _, s := range segs {
		for d := 2; d+2 < len(s); d++ {
			if s[d] == '.' && s[d-2] != '.' && s[d-1] != '.' && s[d+1] != '.' && s[d+2] != '.' {
				return pack(s[d-2], s[d-1], s[d+1], s[d+2]), true
			}
		}
	}
	return 0, false
}

func pack(a, b, c, d byte) uint64 {
	return uint64(lower[a]) | uint64(lower[b])<<8 | uint64(lower[c])<<16 | uint64(lower[d])<<24
}

// Len reports the number of compiled patterns.
func (m *Matcher) Len() int { return len(m.pats) }

// Pattern returns the text of pattern id as given to Compile.
func (m *Matcher) Pattern(id int) string { return m.pats[id].text }

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
	start := len(dst)

	// One pass from the right, a label at a time. h is hash(name[j:]) for
	// the current position j; the hash of a label, and of the byte before a
	// dot plus everything after it, are derived from h at label ends.
	// Prefix anchors need hash(name[:q]) for each dot, derived at the end
	// from the whole-name hash; only the leftmost maxPrefixDots dots can end
	// one.
	var (
		h      uint64
		dotSuf [maxPrefixDots]uint64
		dotPos [maxPrefixDots]uint8
		ndots  int
	)
	// Known before any candidate is verified: lower case names are compared
	// with plain string operations.
	lowerName := true
	for k := 0; k < n; k++ {
		if name[k]-'A' < 26 {
			lowerName = false
			break
		}
	}
	i := n // end of the label being read: i == n or name[i] == '.'
	for {
		hi := h // hash(name[i:])
		j := i
		for j > 0 {
			b := name[j-1]
			c := lower[b]
			if c == '.' {
				break
			}
			h = h*hashBase + uint64(c)
			j--
		}
		// name[j:i] is a label, perhaps empty, and j == 0 or name[j-1] == '.'.
		if m.suffix.hasLen(n - j) {
			for _, id := range m.suffix.find(h) {
				dst = m.try(id, name, path, lowerName, dst, start)
			}
		}
		if j < i {
			if i < n && m.partial.hasLen(n-i+1) {
				for _, id := range m.partial.find(uint64(lower[name[i-1]]) + hashBase*hi) {
					dst = m.try(id, name, path, lowerName, dst, start)
				}
			}
			if m.label.hasLen(i - j) {
				for _, id := range m.label.find(h - m.pow[i-j]*hi) {
					dst = m.try(id, name, path, lowerName, dst, start)
				}
			}
		}
		if j == 0 {
			break
		}
		d := j - 1 // a dot
		dotSuf[ndots%maxPrefixDots] = h
		dotPos[ndots%maxPrefixDots] = uint8(d)
		ndots++
		if m.window.n > 0 && d >= 2 && d+2 < n {
			for _, id := range m.window.find(pack(name[d-2], name[d-1], name[d+1], name[d+2])) {
				dst = m.try(id, name, path, lowerName, dst, start)
			}
		}
		h = h*hashBase + '.'
		i = d
	}
	if m.prefix.n > 0 {
		// hash(name[:q]) = hash(name) - base^q * hash(name[q:]). The ring
		// holds the leftmost maxPrefixDots dots, the leftmost written last.
		for k := 1; k <= min(ndots, maxPrefixDots); k++ {
			r := (ndots - k) % maxPrefixDots
			q := int(dotPos[r]) + 1
			if m.prefix.hasLen(q) {
				for _, id := range m.prefix.find(h - m.pow[q]*dotSuf[r]) {
					dst = m.try(id, name, path, lowerName, dst, start)
				}
			}
		}
	}
	for _, id := range m.rest {
		dst = m.try(id, name, path, lowerName, dst, start)
	}
	// Insertion sort by specificity: results are few.
	for i := start + 1; i < len(dst); i++ {
		for j := i; j > start && m.rank[dst[j]] < m.rank[dst[j-1]]; j-- {
			dst[j], dst[j-1] = dst[j-1], dst[j]
		}
	}
	return dst
}
