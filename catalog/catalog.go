package catalog

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
)

//go:generate go run ./gen -src ../../shared/catalog-sources -out data

// data holds one TSV file per build, written by ./gen. It is read-only; it is
// package-level only because go:embed requires it.
//
//go:embed data/*.tsv
var data embed.FS

// ErrUnknownBuild is returned by Load for a build with no data file.
var ErrUnknownBuild = errors.New("unknown build")

// Edition is a Windows edition as the pages name them. "Family" on older
// pages is Home.
type Edition string

// Editions.
const (
	Home       Edition = "home"
	Pro        Edition = "pro"
	Education  Edition = "education"
	Enterprise Edition = "enterprise"
)

// Protocol is a normalised protocol name from a page's Protocol column.
type Protocol string

// Protocols, in the order entries list them.
const (
	HTTP  Protocol = "HTTP"
	HTTPS Protocol = "HTTPS"
	TLS12 Protocol = "TLS 1.2"
	TLS13 Protocol = "TLS 1.3" // once, on the 1709 non-Enterprise page
)

// Catalog is the documented endpoints of one build. Entries are sorted by
// pattern, then page file, then listing edition, then line.
type Catalog struct {
	Build   string
	Entries []Entry
	// Source is the file a user catalog was read from (Parse, LoadFile);
	// empty for the embedded data.
	Source string
}

// Entry is one documented row: a pattern as listed by one page section.
// Rows repeating a pattern within one page section are folded into the first
// (Note says which lines, and Protocols is their union).
type Entry struct {
	// Pattern is the destination in the form classify/match compiles: markdown
	// escapes removed, host in lower case, path as written.
	Pattern string
	// Destination is the cell as written (escapes and backticks removed,
	// original case kept).
	Destination string
	// Protocols is the normalised Protocol cell; empty when the page left it
	// blank.
	Protocols []Protocol
	// Editions lists the editions the row applies to. A row of an Enterprise
	// page applies to Home, Pro and Education too when the build has a
	// non-Enterprise page, because that page adds to the Enterprise base.
	Editions []Edition
	// Listed is the edition whose page or section lists the row: Enterprise
	// for the Enterprise page ("documented on the Enterprise base"), else the
	// non-Enterprise section ("on the Home page").
	Listed      Edition
	Area        string // the page's Area (carried down) or section heading
	Description string // the page's Description (carried down) or paragraph
	Process     string // Source process, on the 1709-1809 Enterprise pages
	File        string // source page file name in windows/privacy/
	Commit      string // MicrosoftDocs/windows-itpro-docs commit, or "unknown"
	Line        int    // 1-based line of the row in File
	Note        string // folded repeats, if any
}

// Endpoint is a pattern as it applies to one edition, with every row that
// documents it.
type Endpoint struct {
	Pattern   string
	Protocols []Protocol // union over Sources
	// Sources lists the rows documenting the pattern for the edition: the
	// edition's own section first, then the Enterprise base, each by file and
	// line.
	Sources []Entry
}

// Builds lists the builds with data, in release order ("windows-10-1709" ...
// "windows-10-21H2", "windows-11").
func Builds() []string {
	names, _ := fs.Glob(data, "data/*.tsv") // the pattern is valid
	var builds []string
	for _, n := range names {
		builds = append(builds, strings.TrimSuffix(strings.TrimPrefix(n, "data/"), ".tsv"))
	}
	sort.Strings(builds) // "2004" < "20H2" < "21H1": text order is release order
	return builds
}

// Load parses the embedded data of build. Each call returns a new Catalog
// owned by the caller. An unknown build is ErrUnknownBuild, with the list of
// builds that exist.
func Load(build string) (*Catalog, error) {
	src, err := data.ReadFile("data/" + build + ".tsv")
	if err != nil {
		return nil, fmt.Errorf("catalog: load %q: %w; builds: %s", build, ErrUnknownBuild, strings.Join(Builds(), ", "))
	}
	entries, err := parse(src)
	if err != nil {
		return nil, fmt.Errorf("catalog: load %q: data/%s.tsv:%w", build, build, err)
	}
	return &Catalog{Build: build, Entries: entries}, nil
}

const header = "pattern\tdestination\tprotocols\teditions\tlisted\tarea\tdescription\tprocess\tfile\tline\tcommit\tnote"

func parse(src []byte) ([]Entry, error) {
	var entries []Entry
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(nil, 1<<20)
	n, sawHeader := 0, false
	for sc.Scan() {
		n++
		l := sc.Text()
		if strings.HasPrefix(l, "#") || l == "" {
			continue
		}
		if !sawHeader {
			if l != header {
				return nil, fmt.Errorf("%d: column line is %q; want %q", n, l, header)
			}
			sawHeader = true
			continue
		}
		f := strings.Split(l, "\t")
		if len(f) != 12 {
			return nil, fmt.Errorf("%d: %d fields; want 12", n, len(f))
		}
		line, err := strconv.Atoi(f[9])
		if err != nil {
			return nil, fmt.Errorf("%d: line %q: %w", n, f[9], err)
		}
		e := Entry{
			Pattern: f[0], Destination: f[1], Listed: Edition(f[4]),
			Area: f[5], Description: f[6], Process: f[7],
			File: f[8], Line: line, Commit: f[10], Note: f[11],
		}
		for _, p := range splitList(f[2]) {
			e.Protocols = append(e.Protocols, Protocol(p))
		}
		for _, ed := range splitList(f[3]) {
			e.Editions = append(e.Editions, Edition(ed))
		}
		if e.Pattern == "" || len(e.Editions) == 0 || !slices.Contains(e.Editions, e.Listed) {
			return nil, fmt.Errorf("%d: entry needs a pattern and editions including the listing edition %q", n, e.Listed)
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%d: %w", n, err)
	}
	if !sawHeader {
		return nil, fmt.Errorf("%d: no column line", n)
	}
	return entries, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Editions lists the editions the catalog documents, in the order
// Enterprise, Home, Pro, Education. A build without a non-Enterprise page
// (21H2) documents Enterprise only.
func (c *Catalog) Editions() []Edition {
	var out []Edition
	for _, ed := range []Edition{Enterprise, Home, Pro, Education} {
		for _, e := range c.Entries {
			if slices.Contains(e.Editions, ed) {
				out = append(out, ed)
				break
			}
		}
	}
	return out
}

// ForEdition returns the endpoints that apply to edition ed, one per pattern,
// sorted by pattern. Each carries every entry documenting it; nil if the
// catalog does not document ed (see Editions).
func (c *Catalog) ForEdition(ed Edition) []Endpoint {
	var out []Endpoint
	for _, e := range c.Entries {
		if !slices.Contains(e.Editions, ed) {
			continue
		}
		if len(out) == 0 || out[len(out)-1].Pattern != e.Pattern {
			out = append(out, Endpoint{Pattern: e.Pattern})
		}
		ep := &out[len(out)-1]
		ep.Sources = append(ep.Sources, e)
		ep.Protocols = unionProtocols(ep.Protocols, e.Protocols)
	}
	for i := range out {
		// Own section before the base; Entries are already in file/line order.
		sort.SliceStable(out[i].Sources, func(a, b int) bool {
			return out[i].Sources[a].Listed == ed && out[i].Sources[b].Listed != ed
		})
	}
	return out
}

func unionProtocols(a, b []Protocol) []Protocol {
	var out []Protocol
	for _, p := range []Protocol{HTTP, HTTPS, TLS12, TLS13} {
		if slices.Contains(a, p) || slices.Contains(b, p) {
			out = append(out, p)
		}
	}
	return out
}
