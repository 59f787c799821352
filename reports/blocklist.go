package reports

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// BlockFormats are the formats WriteBlockList writes, in the order help
// lists them.
var BlockFormats = []string{"hosts", "dnsmasq", "unbound", "adblock", "pihole"}

// BlockList is what to write as a block list: names seen in packets, or
// catalog patterns, in one format.
type BlockList struct {
	// Format is one of BlockFormats.
	Format string
	// Header lines go at the top as comments, each on a line of its own;
	// a line that is not plain printable ASCII is quoted (strconv).
	Header []string
	// Names are host names as packets gave them (SNI, HTTP Host, DNS):
	// each is checked by CheckHostName, and one that fails is refused:
	// left out of the list, and counted and shown quoted in a comment.
	Names []string
	// Patterns are catalog patterns (package match's language: globs,
	// HOST/PATH). Each becomes an entry when the format can say it, and a
	// comment saying why not when it cannot.
	Patterns []string
}

// BlockStats is what WriteBlockList wrote and what it left out.
type BlockStats struct {
	Entries int // list entries written (after folding duplicates)
	// NotExpressible are the patterns the format cannot say, with why;
	// each is a comment at the end of the list.
	NotExpressible []Refused
	// Refused are the names left out as no safe host name, with why;
	// each is a comment at the end of the list, quoted.
	Refused []Refused
}

// Refused is a name or pattern left out of a list, and why.
type Refused struct {
	Name string
	Why  string
}

// CheckHostName returns name as a block list holds it, or why it cannot
// hold it. A name from a packet is the sender's choice, and a list entry
// made of it must be one name and nothing else: name is lowered (ASCII),
// one trailing dot is dropped, and it must then be 2 to 127 labels of 1 to
// 63 bytes, 253 bytes in all, of letters, digits, '-' and '_' ('-' not at
// either end of a label), so no space, newline, '#', '/', '^', '"', ';',
// '$', '*' or byte outside ASCII can reach a list. Refused too: a name
// whose last label is all digits (an address, or no public name); a single
// label (localhost, wpad: an entry would block a local name); a public
// suffix (co.uk, in-addr.arpa, cloudfront.net: dnsmasq, unbound and
// adblock block every name below an entry, so one such name would block
// every site under it); an "xn--" label that is no valid IDNA A-label. A
// name in Unicode (the packet's bytes were not ASCII) is refused, not
// converted: the lookup the VM made was of those bytes, not of their
// A-label.
func CheckHostName(name string) (string, error) {
	name, err := hostSyntax(name)
	if err != nil {
		return "", err
	}
	if !strings.Contains(name, ".") {
		return "", fmt.Errorf("a single label is no public name: an entry would block a local name")
	}
	if s, _ := publicsuffix.PublicSuffix(name); s == name {
		return "", fmt.Errorf("a public suffix: blocking it would block every site under it")
	}
	return name, nil
}

// hostSyntax is CheckHostName's check of the name's bytes and labels, and
// of its last label (not a number): name lowered, its trailing dot dropped.
func hostSyntax(name string) (string, error) {
	name = strings.TrimSuffix(name, ".")
	if name == "" {
		return "", fmt.Errorf("empty")
	}
	if len(name) > 253 {
		return "", fmt.Errorf("longer than 253 bytes")
	}
	var lower []byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'A' && c <= 'Z':
			if lower == nil {
				lower = []byte(name)
			}
			lower[i] = c + 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == '.':
		case c >= 0x80:
			return "", fmt.Errorf("not ASCII: a list takes A-labels (xn--), and the name was sent as other bytes")
		default:
			return "", fmt.Errorf("byte %q at %d is not a host name's (letters, digits, '-', '_', '.')", c, i)
		}
	}
	if lower != nil {
		name = string(lower)
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		switch {
		case l == "":
			return "", fmt.Errorf("empty label")
		case len(l) > 63:
			return "", fmt.Errorf("label longer than 63 bytes")
		case l[0] == '-' || l[len(l)-1] == '-':
			return "", fmt.Errorf("label %q starts or ends with '-'", l)
		case strings.HasPrefix(l, "xn--"):
			if !punycodeValid(l[4:]) {
				return "", fmt.Errorf("label %q is no valid IDNA A-label", l)
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", fmt.Errorf("last label is a number: an address, not a name")
	}
	return name, nil
}

// blockFormat is how one format says a list.
type blockFormat struct {
	comment string // starts a comment line
	// rule says, in the header, how patterns become entries.
	rule []string
	// exact is the entry for an exact name; below, for a name and every
	// name under it ("" when the format cannot say it).
	exact, below func(name string) string
	// glob is the entry for any other host glob and path (path "" for
	// none), or "" and why not.
	glob func(host, path string) (string, string)
}

var blockFormatsByName = map[string]blockFormat{
	"hosts": {
		comment: "#",
		rule: []string{
			"hosts files hold exact names: each entry blocks that name only; a wildcard",
			"pattern (*.example.com, *login.live.com, www.bing.com*) cannot be said, nor a path",
		},
		exact: func(n string) string { return "0.0.0.0 " + n },
		glob:  noGlob("a hosts file holds exact names only"),
	},
	"dnsmasq": {
		comment: "#",
		rule: []string{
			"address=/NAME/ blocks NAME and every name below it (dnsmasq has no exact form):",
			"an exact name also blocks its subdomains, and *.NAME also blocks NAME itself;",
			"a star inside or at the end of a label (*login.live.com, www.bing.com*) and a path cannot be said",
		},
		exact: func(n string) string { return "address=/" + n + "/0.0.0.0" },
		below: func(n string) string { return "address=/" + n + "/0.0.0.0" },
		glob:  noGlob("dnsmasq matches whole names and the names below them"),
	},
	"unbound": {
		comment: "#",
		rule: []string{
			"local-zone: \"NAME.\" always_nxdomain blocks NAME and every name below it:",
			"an exact name also blocks its subdomains, and *.NAME also blocks NAME itself;",
			"a star inside or at the end of a label (*login.live.com, www.bing.com*) and a path cannot be said",
		},
		exact: func(n string) string { return "local-zone: \"" + n + ".\" always_nxdomain" },
		below: func(n string) string { return "local-zone: \"" + n + ".\" always_nxdomain" },
		glob:  noGlob("unbound's local zones match whole names and the names below them"),
	},
	"adblock": {
		comment: "!",
		rule: []string{
			"||NAME^ blocks NAME and every name below it: an exact name also blocks its",
			"subdomains, and *.NAME also blocks NAME itself; other stars stay adblock stars",
			"(*login.live.com^ is not anchored: in a browser it also matches that text in a",
			"URL); a path pattern is ||HOST/PATH, a prefix of the URL, which DNS blockers ignore",
		},
		exact: func(n string) string { return "||" + n + "^" },
		below: func(n string) string { return "||" + n + "^" },
		glob:  adblockGlob,
	},
	"pihole": {
		comment: "#",
		rule: []string{
			"one exact name a line (Pi-hole's domain lists); a wildcard pattern is a comment",
			"with the regular expression that says it, for Pi-hole's regex list (pihole --regex);",
			"a path cannot be said",
		},
		exact: func(n string) string { return n },
		glob: func(host, path string) (string, string) {
			if path != "" {
				return "", "a path: DNS blocks whole names (block the host to block all of it)"
			}
			return "", "a domain list holds exact names; as a Pi-hole regex: " + globRegex(host)
		},
	},
}

func noGlob(why string) func(host, path string) (string, string) {
	return func(_, path string) (string, string) {
		if path != "" {
			return "", "a path: DNS blocks whole names (block the host to block all of it)"
		}
		return "", why
	}
}

// adblockGlob says a host glob, with a path or not, in adblock syntax:
// "||" anchors a name's start unless the glob starts with a star, "^" its
// end unless it ends with one or a path follows, which is a prefix of the
// URL's path. A path with a byte adblock gives a meaning to ('$' options,
// '#' element hiding, '^', '|', '!') or no URL byte is not said, nor a glob
// with no letter or digit ("*", "*.*"), which would block everything.
func adblockGlob(host, path string) (string, string) {
	if strings.Trim(host, "*.-_") == "" {
		return "", "matches every name: an entry would block everything"
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~/%?=&:+,;@*", c) >= 0) {
			return "", fmt.Sprintf("byte %q of the path means something else in adblock syntax", c)
		}
	}
	var b strings.Builder
	if !strings.HasPrefix(host, "*") {
		b.WriteString("||")
	}
	b.WriteString(host)
	switch {
	case path != "":
		b.WriteString(path)
	case !strings.HasSuffix(host, "*"):
		b.WriteString("^")
	}
	return b.String(), ""
}

// globRegex is a host glob as an anchored POSIX extended regular
// expression: '*' is ".*", '.' and the other bytes are themselves.
func globRegex(host string) string {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(host); i++ {
		switch c := host[i]; c {
		case '*':
			b.WriteString(".*")
		case '.':
			b.WriteString(`\.`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteString("$")
	return b.String()
}

// blockPattern splits a catalog pattern into its host glob (lower case,
// one trailing dot dropped, runs of stars folded) and its path ("" when it
// has none, or when the path is any path: "host/" and "host/*" match every
// path, so they are the host). ok is false for a pattern package match
// would not compile.
func blockPattern(p string) (host, path string, ok bool) {
	host, path, hasPath := strings.Cut(p, "/")
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for strings.Contains(host, "**") {
		host = strings.ReplaceAll(host, "**", "*")
	}
	if host == "" || len(host) > 253 {
		return "", "", false
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '*') {
			return "", "", false
		}
	}
	if hasPath {
		path = "/" + path
		for i := 0; i < len(path); i++ {
			if path[i] <= ' ' || path[i] >= 0x7f {
				return "", "", false
			}
		}
		if strings.TrimRight(path, "*") == "/" {
			path = ""
		}
	}
	return host, path, true
}

// checkPatternName checks an exact name of a catalog pattern as
// CheckHostName checks one from a packet, except that a public suffix is
// kept: the catalog, not a packet, chose to list it (and, as *.NAME, every
// name under it). A single label is not: a list never blocks a local name.
// It returns the name as the list holds it.
func checkPatternName(name string) (string, bool) {
	name, err := hostSyntax(name)
	return name, err == nil && strings.Contains(name, ".")
}

// WriteBlockList writes l as a block list in l.Format: the header lines and
// the format's rule for patterns as comments, a line of counts, the entries
// (sorted, each once), then a comment for each pattern the format cannot
// say and for each name refused (quoted with strconv.QuoteToASCII, so it is
// one comment line whatever its bytes). It returns what it wrote and left
// out; an unknown format is an error before anything is written.
func WriteBlockList(w io.Writer, l BlockList) (BlockStats, error) {
	f, ok := blockFormatsByName[l.Format]
	if !ok {
		return BlockStats{}, fmt.Errorf("block list format %q: want %s", l.Format, strings.Join(BlockFormats, ", "))
	}
	var st BlockStats
	seen := map[string]bool{}
	var entries []string
	add := func(e string) {
		if !seen[e] {
			seen[e] = true
			entries = append(entries, e)
		}
	}
	for _, n := range l.Names {
		name, err := CheckHostName(n)
		if err != nil {
			st.Refused = append(st.Refused, Refused{Name: n, Why: err.Error()})
			continue
		}
		add(f.exact(name))
	}
	for _, p := range l.Patterns {
		host, path, ok := blockPattern(p)
		star := strings.IndexByte(host, '*')
		switch {
		case !ok:
			st.NotExpressible = append(st.NotExpressible, Refused{p, "not a pattern phonehome matches"})
		case star < 0 && path == "":
			name, ok := checkPatternName(host)
			if !ok {
				st.NotExpressible = append(st.NotExpressible, Refused{p, "not a host name a list can hold"})
				continue
			}
			add(f.exact(name))
		case f.below != nil && path == "" && strings.HasPrefix(host, "*.") && !strings.Contains(host[1:], "*"):
			name, ok := checkPatternName(host[2:])
			if !ok {
				st.NotExpressible = append(st.NotExpressible, Refused{p, "not a host name a list can hold"})
				continue
			}
			add(f.below(name))
		default:
			e, why := f.glob(host, path)
			if e == "" {
				st.NotExpressible = append(st.NotExpressible, Refused{p, why})
				continue
			}
			add(e)
		}
	}
	slices.Sort(entries)
	st.Entries = len(entries)

	bw := &errWriter{w: w}
	c := f.comment
	for _, h := range l.Header {
		bw.printf("%s %s\n", c, commentText(h))
	}
	for _, r := range f.rule {
		bw.printf("%s %s\n", c, r)
	}
	counts := plural(st.Entries, "entry", "entries")
	if len(l.Patterns) > 0 {
		counts += "; " + plural(len(st.NotExpressible), "pattern", "patterns") + " " + l.Format + " cannot say"
	}
	if len(l.Names) > 0 || len(l.Patterns) == 0 {
		counts += "; " + plural(len(st.Refused), "name", "names") + " refused (no host name a list can hold safely)"
	}
	bw.printf("%s %s\n", c, counts)
	for _, e := range entries {
		bw.printf("%s\n", e)
	}
	if len(st.NotExpressible) > 0 {
		bw.printf("%s\n%s Not blocked: patterns %s cannot say\n", c, c, l.Format)
		for _, r := range st.NotExpressible {
			bw.printf("%s   %s: %s\n", c, commentText(r.Name), r.Why)
		}
	}
	if len(st.Refused) > 0 {
		bw.printf("%s\n%s Refused: names seen that are no host name a list can hold safely, quoted\n", c, c)
		for _, r := range st.Refused {
			bw.printf("%s   %s: %s\n", c, strconv.QuoteToASCII(r.Name), r.Why)
		}
	}
	return st, bw.err
}

// commentText is s as a comment line shows it: itself when it is printable
// ASCII without a backslash, else quoted by strconv.QuoteToASCII, so it
// stays one line of plain ASCII whatever its bytes.
func commentText(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\\' {
			return strconv.QuoteToASCII(s)
		}
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// punycodeValid says whether s (an "xn--" label without its prefix)
// decodes by RFC 3492 to a label with some non-ASCII code point in it, as
// an IDNA A-label's must (an ASCII-only one is spelt without "xn--"). It
// does not check the IDNA rules on the Unicode text (x/net/idna would,
// with golang.org/x/text): a list holds the A-label as sent, and this only
// keeps names that cannot be anyone's lookup out of it.
func punycodeValid(s string) bool {
	const (
		base, tmin, tmax, skew, damp = 36, 1, 26, 38, 700
		initialBias, initialN        = 72, 128
	)
	basic, rest := 0, s
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		basic, rest = i, s[i+1:]
	}
	if rest == "" {
		return false // nothing but ASCII
	}
	out := basic
	n, bias, i := int32(initialN), int32(initialBias), int32(0)
	adapt := func(delta, points int32, first bool) int32 {
		if first {
			delta /= damp
		} else {
			delta /= 2
		}
		delta += delta / points
		k := int32(0)
		for delta > ((base-tmin)*tmax)/2 {
			delta /= base - tmin
			k += base
		}
		return k + (base-tmin+1)*delta/(delta+skew)
	}
	for p := 0; p < len(rest); {
		oldi, w := i, int32(1)
		for k := int32(base); ; k += base {
			if p >= len(rest) {
				return false
			}
			c := rest[p]
			p++
			var digit int32
			switch {
			case c >= 'a' && c <= 'z':
				digit = int32(c - 'a')
			case c >= '0' && c <= '9':
				digit = int32(c-'0') + 26
			default:
				return false
			}
			if digit > (1<<30-i)/w {
				return false // overflow
			}
			i += digit * w
			t := k - bias
			if t < tmin {
				t = tmin
			} else if t > tmax {
				t = tmax
			}
			if digit < t {
				break
			}
			if w > (1<<30)/(base-t) {
				return false
			}
			w *= base - t
		}
		out++
		bias = adapt(i-oldi, int32(out), oldi == 0)
		if i/int32(out) > 0x10FFFF-n {
			return false
		}
		n += i / int32(out)
		i %= int32(out)
		if n > 0x10FFFF || n >= 0xD800 && n <= 0xDFFF {
			return false
		}
		i++
	}
	return true
}
