package catalog

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/phonehome/phonehome/catalog/internal/mdpages"
)

// Problem is one thing Validate found, at a line of the file.
type Problem struct {
	File string `json:"file"`
	Line int    `json:"line"` // 1-based; 0 for the file as a whole
	// Warning marks an oddity that does not stop the file from loading
	// (a repeated row, a name that looks cut short); the others are errors.
	Warning bool   `json:"warning"`
	Msg     string `json:"message"`
}

// String is "FILE:LINE: message", with "warning: " before a warning's.
func (p Problem) String() string {
	w := ""
	if p.Warning {
		w = "warning: "
	}
	return fmt.Sprintf("%s:%d: %s%s", p.File, p.Line, w, clipMessage(p.Msg))
}

// Validate checks src, the file name: one of Microsoft's connection-endpoint
// pages when name ends in ".md" (read as the importer reads them: the page
// formats of catalog/README.md), else a user catalog (Parse). It returns
// every problem, errors and warnings, sorted by line. A file with no error
// is one the importer or Parse takes.
//
// Errors: what stops the file from loading (a Protocol cell no rule
// understands, a row with more cells than its header, an endpoint table
// without a Destination column, a row with a protocol
// but no destination, a destination that is no host, a non-Enterprise
// page's row under a heading that names no edition, a page with no endpoint
// table; Parse's errors). Warnings, the oddities of the published pages: a
// row repeating a destination of its section (the importer folds it into
// the first), an empty Protocol cell, TLS 1.3 (on one page only), a host
// that looks cut short (no dot, an empty label, a label starting or ending
// with '-', a one-letter last label).
func Validate(name string, src []byte) []Problem {
	var ps []Problem
	if strings.HasSuffix(strings.ToLower(name), ".md") {
		ps = validatePage(name, src)
	} else {
		ps = validateUser(name, src)
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
	return ps
}

// errorProblems flattens err (errors.Join of *mdpages.Error or *ParseError)
// into problems.
func errorProblems(name string, err error) []Problem {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []Problem
		for _, e := range j.Unwrap() {
			out = append(out, errorProblems(name, e)...)
		}
		return out
	}
	var me *mdpages.Error
	var pe *ParseError
	switch {
	case errors.As(err, &me):
		return []Problem{{File: name, Line: me.Line, Msg: me.Msg}}
	case errors.As(err, &pe):
		return []Problem{{File: name, Line: pe.Line, Msg: pe.Msg}}
	}
	return []Problem{{File: name, Msg: err.Error()}}
}

func validatePage(name string, src []byte) []Problem {
	rows, err := mdpages.Parse(name, src)
	ps := errorProblems(name, err)
	// Parse skips a table without a Destination column (the pages have
	// others); one with a Protocol column is an endpoint table that lost it.
	tables, _ := mdpages.Tables(name, src) // its errors are Parse's
	for _, t := range tables {
		if slices.ContainsFunc(t.Header, func(h string) bool { return strings.EqualFold(h, "protocol") }) &&
			!slices.ContainsFunc(t.Header, func(h string) bool { return strings.EqualFold(h, "destination") }) {
			ps = append(ps, Problem{File: name, Line: t.Line, Msg: fmt.Sprintf("table has a Protocol column but no Destination column (header %q): its %d rows are not read", strings.Join(t.Header, " | "), len(t.Rows))})
		}
	}
	warn := func(line int, format string, args ...any) {
		ps = append(ps, Problem{File: name, Line: line, Warning: true, Msg: fmt.Sprintf(format, args...)})
	}
	if len(rows) == 0 && len(ps) == 0 {
		ps = append(ps, Problem{File: name, Line: 1, Msg: "no endpoint table: want a markdown table with a Destination column"})
	}
	nonEnterprise := strings.Contains(strings.ToLower(filepath.Base(name)), "non-enterprise")
	type key struct{ section, pattern string }
	seen := map[key]mdpages.Row{}
	var noProto []string // lines
	for _, r := range rows {
		if nonEnterprise && mdpages.EditionOf(r.Section) == "" {
			ps = append(ps, Problem{File: name, Line: r.Line, Msg: fmt.Sprintf("row under heading %q, which names no edition (Home, Family, Pro, Education); a non-Enterprise page lists endpoints per edition", r.Section)})
		}
		if len(r.Protocols) == 0 {
			noProto = append(noProto, strconv.Itoa(r.Line))
		}
		if slices.Contains(r.Protocols, mdpages.TLS13) {
			warn(r.Line, "protocol %q: TLS 1.3, on no other page", r.ProtocolText)
		}
		for _, d := range r.Destinations {
			if why := truncated(d.Pattern); why != "" {
				warn(r.Line, "destination %q %s: a name cut short?", d.Text, why)
			}
			k := key{r.Section, d.Pattern}
			if prev, ok := seen[k]; ok {
				msg := fmt.Sprintf("destination %q repeats line %d of the same section (the importer folds it into that row)", d.Text, prev.Line)
				if !slices.Equal(prev.Protocols, r.Protocols) {
					msg += fmt.Sprintf(", with other protocols (%q there, %q here: merged)", prev.ProtocolText, r.ProtocolText)
				}
				warn(r.Line, "%s", msg)
				continue
			}
			seen[k] = r
		}
	}
	if len(noProto) > 0 { // the Format A pages: one warning, not 30
		first, _ := strconv.Atoi(noProto[0])
		msg := "no protocol given"
		if len(noProto) > 1 {
			msg = fmt.Sprintf("no protocol given, here and on %d more rows (lines %s)", len(noProto)-1, strings.Join(noProto[1:], ", "))
		}
		warn(first, "%s", msg)
	}
	return ps
}

func validateUser(name string, src []byte) []Problem {
	c, err := Parse(name, bytes.NewReader(src))
	if err != nil {
		return errorProblems(name, err)
	}
	var ps []Problem
	warn := func(line int, format string, args ...any) {
		ps = append(ps, Problem{File: name, Line: line, Warning: true, Msg: fmt.Sprintf(format, args...)})
	}
	for i, e := range c.Entries { // sorted by pattern, then line
		if why := truncated(e.Pattern); why != "" {
			warn(e.Line, "pattern %q %s: a name cut short?", e.Destination, why)
		}
		for _, p := range c.Entries[:i] {
			if p.Pattern == e.Pattern && slices.ContainsFunc(p.Editions, func(ed Edition) bool { return slices.Contains(e.Editions, ed) }) {
				warn(e.Line, "pattern %q repeats line %d for an edition of it (both rows apply)", e.Destination, p.Line)
				break
			}
		}
	}
	return ps
}

// truncated says why the host of pattern looks cut short, or "".
func truncated(pattern string) string {
	host, _, _ := strings.Cut(pattern, "/")
	// A wildcard at either end, with its dot, is no label: "fe3.*.mp.microsoft.com.*".
	if h, ok := strings.CutPrefix(host, "*."); ok {
		host = h
	} else {
		host = strings.TrimPrefix(host, "*")
	}
	if h, ok := strings.CutSuffix(host, ".*"); ok {
		host = h
	} else {
		host = strings.TrimSuffix(host, "*")
	}
	labels := strings.Split(host, ".")
	last := labels[len(labels)-1]
	switch {
	case len(labels) == 1:
		return "has no dot"
	case slices.Contains(labels, ""):
		return "has an empty label"
	case slices.ContainsFunc(labels, func(l string) bool { return strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") }):
		return "has a label starting or ending with '-'"
	case len(last) < 2:
		return "ends in a one-letter label"
	}
	return ""
}
