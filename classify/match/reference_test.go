package match

import (
	"regexp"
	"sort"
	"strings"
)

// reference is the slow, obviously correct matcher the fast one is held
// against: one anchored regular expression per pattern, tried in turn.
type reference struct {
	host    []*regexp.Regexp
	path    []*regexp.Regexp // nil: the pattern has no path
	exact   []bool
	literal []int
}

func newReference(patterns []string) *reference {
	r := &reference{}
	for _, p := range patterns {
		host, path, hasPath := strings.Cut(asciiLower(p), "/")
		host = strings.TrimSuffix(host, ".")
		r.host = append(r.host, regexp.MustCompile(globRegexp(host, false)))
		lit := len(host) - strings.Count(host, "*")
		if hasPath {
			path = "/" + path
			r.path = append(r.path, regexp.MustCompile(globRegexp(path, true)))
			lit += len(path) - strings.Count(path, "*")
		} else {
			r.path = append(r.path, nil)
		}
		r.exact = append(r.exact, !strings.Contains(host, "*"))
		r.literal = append(r.literal, lit)
	}
	return r
}

// globRegexp turns a glob into an anchored expression: '*' is ".*", every
// other byte is itself; prefix leaves the end open.
func globRegexp(g string, prefix bool) string {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(g); i++ {
		if g[i] == '*' {
			b.WriteString(`.*`)
		} else {
			b.WriteString(regexp.QuoteMeta(g[i : i+1]))
		}
	}
	if prefix {
		b.WriteString(`.*`)
	}
	b.WriteString(`$`)
	return b.String()
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func (r *reference) match(name, path string) []int {
	name = asciiLower(strings.TrimSuffix(name, "."))
	path = asciiLower(path)
	if name == "" || len(name) > MaxNameLen {
		return nil
	}
	var ids []int
	for i, re := range r.host {
		if !re.MatchString(name) {
			continue
		}
		if path != "" && r.path[i] != nil && !r.path[i].MatchString(path) {
			continue
		}
		ids = append(ids, i)
	}
	sort.SliceStable(ids, func(a, b int) bool {
		x, y := ids[a], ids[b]
		if r.exact[x] != r.exact[y] {
			return r.exact[x]
		}
		return r.literal[x] > r.literal[y]
	})
	return ids
}
