package catalog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/phonehome/phonehome/catalog/internal/mdpages"
)

// ParseError is one problem of a user catalog, at a line of its file.
type ParseError struct {
	File string
	Line int // 1-based; 0 for the file as a whole
	Msg  string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, clipMessage(e.Msg))
}

// clipMessage shortens a message that quotes a long value from a file (a
// pattern of a megabyte) to its first 200 and last 40 bytes.
func clipMessage(m string) string {
	const head, tail = 200, 40
	if len(m) <= head+tail+40 {
		return m
	}
	return strings.ToValidUTF8(m[:head], "") + fmt.Sprintf(" … (%d bytes cut) … ", len(m)-head-tail) + strings.ToValidUTF8(m[len(m)-tail:], "")
}

// UserColumns are the columns a user catalog may have, in the order the
// README shows them. Only pattern is required.
var UserColumns = []string{"pattern", "protocols", "editions", "area", "description"}

// maxParseErrors caps the errors Parse gathers, so that a file that is not a
// catalog at all (a capture given by mistake) gives a short message.
const maxParseErrors = 20

// LoadFile reads a user catalog (the format of Parse) from path.
func LoadFile(path string) (*Catalog, error) {
	src, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, bytes.NewReader(src))
}

// MaxFileBytes bounds a catalog file, a user catalog or a page: the largest
// page is under 100 KB; a file past this is not a catalog (a capture given
// by mistake, /dev/zero) and is refused before it is read whole.
const MaxFileBytes = 16 << 20

// ReadFile reads a catalog file of at most MaxFileBytes.
func ReadFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	defer fh.Close()
	src, err := io.ReadAll(io.LimitReader(fh, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("catalog: %s: %w", path, err)
	}
	if len(src) > MaxFileBytes {
		return nil, fmt.Errorf("catalog: %s: larger than %d MiB: not a catalog", path, MaxFileBytes>>20)
	}
	return src, nil
}

// Parse reads a user catalog: a catalog of one's own (another OS, an app, a
// company allow-list) in the format catalog/README.md documents, close to
// the embedded data:
//
//	# name: acme-allow-list
//	pattern	protocols	editions	area	description
//	*.update.acme.example	HTTPS		Updates	Acme's update service
//
// Lines starting with '#' and blank lines are skipped; "# name:" (or
// "# build:") before the column line names the catalog (Catalog.Build;
// default: the file name without its extension). The first other line
// names the columns, tab-separated, from UserColumns in any order; pattern
// is required, each column at most once. Every row has exactly as many
// tab-separated fields as the column line. A pattern is a host or
// host/path with '*' wildcards, as on Microsoft's pages; protocols is a
// comma- or '/'-separated list of HTTP, HTTPS, TLS 1.2, TLS 1.3 (as the
// pages write them: "TLSv1.2" works too), empty for none given; editions
// is a comma-separated list of home, pro, education, enterprise, empty for
// every edition.
//
// name is the file's name for messages and Entry.File; every entry's Line
// is its line in it. The error joins one *ParseError per problem (at most
// maxParseErrors), each with the file and line; nothing is returned with
// it. The Catalog is the caller's; its Source is name.
func Parse(name string, r io.Reader) (*Catalog, error) {
	var (
		errs    []error
		cols    []string // column names, nil until the column line
		entries []Entry
		build   string
		n       int
	)
	bad := func(line int, format string, args ...any) {
		if len(errs) < maxParseErrors {
			errs = append(errs, &ParseError{File: name, Line: line, Msg: fmt.Sprintf(format, args...)})
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		n++
		l := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(l) == "" {
			continue
		}
		if c, ok := strings.CutPrefix(l, "#"); ok {
			if cols == nil {
				k, v, ok := strings.Cut(c, ":")
				if k = strings.ToLower(strings.TrimSpace(k)); ok && (k == "name" || k == "build") {
					build = strings.TrimSpace(v)
				}
			}
			continue
		}
		f := strings.Split(l, "\t")
		if cols == nil {
			cols = parseColumns(f, n, bad)
			continue
		}
		if len(f) != len(cols) {
			bad(n, "%d tab-separated fields; the column line (%s) has %d", len(f), strings.Join(cols, ", "), len(cols))
			continue
		}
		if e, ok := parseUserRow(cols, f, n, bad); ok {
			e.File = name
			entries = append(entries, e)
		}
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		bad(n+1, "a line longer than 1 MiB: not a catalog")
	} else if err != nil {
		bad(n+1, "%v", err)
	}
	switch {
	case cols == nil && len(errs) == 0:
		bad(n, "no column line: want a tab-separated line naming the columns, such as %q", strings.Join(UserColumns, "\t"))
	case len(entries) == 0 && len(errs) == 0:
		bad(n, "no endpoints: a catalog lists one endpoint a line, at least one")
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if build == "" {
		build = strings.TrimSuffix(filepath.Base(name), filepath.Ext(name))
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Pattern < entries[j].Pattern })
	return &Catalog{Build: build, Entries: entries, Source: name}, nil
}

// parseColumns checks the column line; nil when it is wrong.
func parseColumns(f []string, n int, bad func(int, string, ...any)) []string {
	cols := make([]string, len(f))
	ok := true
	for i, c := range f {
		c = strings.ToLower(strings.TrimSpace(c))
		switch {
		case !slices.Contains(UserColumns, c):
			bad(n, "column %d is %q; want one of %s (tab-separated)", i+1, c, strings.Join(UserColumns, ", "))
			ok = false
		case slices.Contains(cols[:i], c):
			bad(n, "column %q given twice", c)
			ok = false
		}
		cols[i] = c
	}
	if !slices.Contains(cols, "pattern") {
		bad(n, "the column line has no pattern column")
		ok = false
	}
	if !ok {
		return []string{} // not nil: rows are not read as a column line
	}
	return cols
}

// userEditionOrder is the order Entry.Editions takes in a user catalog;
// Listed is the first.
var userEditionOrder = []Edition{Enterprise, Home, Pro, Education}

func parseUserRow(cols, f []string, n int, bad func(int, string, ...any)) (Entry, bool) {
	e := Entry{Line: n, Commit: ""}
	ok := true
	for i, c := range cols {
		v := strings.TrimSpace(f[i])
		switch c {
		case "pattern":
			e.Destination = v
			if v == "" {
				bad(n, "empty pattern")
				ok = false
				continue
			}
			p, err := mdpages.NormaliseDestination(v)
			if err != nil {
				bad(n, "pattern: %v", err)
				ok = false
			}
			e.Pattern = p
		case "protocols":
			ps, err := mdpages.NormaliseProtocols(v)
			if err != nil {
				bad(n, "protocols: %v", err)
				ok = false
			}
			for _, p := range ps {
				e.Protocols = append(e.Protocols, Protocol(p))
			}
		case "editions":
			var want []Edition
			for _, s := range strings.Split(v, ",") {
				s = strings.ToLower(strings.TrimSpace(s))
				if s == "" {
					continue
				}
				if s == "family" {
					s = "home"
				}
				if !slices.Contains(userEditionOrder, Edition(s)) {
					bad(n, "editions: %q is no edition; want home, pro, education or enterprise, comma-separated, or nothing for every edition", s)
					ok = false
					continue
				}
				want = append(want, Edition(s))
			}
			for _, ed := range userEditionOrder {
				if len(want) == 0 || slices.Contains(want, ed) {
					e.Editions = append(e.Editions, ed)
				}
			}
		case "area":
			e.Area = v
		case "description":
			e.Description = v
		}
	}
	if !slices.Contains(cols, "editions") {
		e.Editions = slices.Clone(userEditionOrder)
	}
	if len(e.Editions) > 0 {
		e.Listed = e.Editions[0]
	}
	return e, ok
}
