package importer

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/phonehome/phonehome/catalog/internal/mdpages"
)

// Command is how the committed data is regenerated; it is written into each
// file header.
const Command = "go generate ./catalog (go run ./gen -src ../../shared/catalog-sources -out data)"

// Header is the column line of a data file.
const Header = "pattern\tdestination\tprotocols\teditions\tlisted\tarea\tdescription\tprocess\tfile\tline\tcommit\tnote"

// editionOrder lists the editions in the order data files list them.
func editionOrder() []string { return []string{"enterprise", "home", "pro", "education"} }

// page is one source file.
type page struct {
	file, commit, build string
	enterprise          bool
}

// Generate reads every *.md page in fsys and returns the data files by name
// ("windows-10-1909.tsv"). command is written into each file header as the
// way to regenerate it (normally Command). Any row, page or file name it cannot understand makes
// it fail; the error lists all of them with file:line.
func Generate(fsys fs.FS, command string) (map[string][]byte, error) {
	commits, err := readSources(fsys)
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(fsys, "*.md")
	if err != nil {
		return nil, err
	}
	builds := map[string][]page{}
	var errs []error
	for _, name := range names {
		if name == "SOURCES.md" {
			continue
		}
		p, err := classify(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c, ok := commits[name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: not listed in SOURCES.md; add its commit there", name))
			continue
		}
		p.commit = c
		builds[p.build] = append(builds[p.build], p)
	}
	out := map[string][]byte{}
	for build, pages := range builds {
		data, err := generateBuild(fsys, build, pages, command)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[build+".tsv"] = data
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// classify maps a file name to its build: "manage-windows-1909-endpoints.md"
// is the Enterprise page of "windows-10-1909".
func classify(name string) (page, error) {
	if name == "manage-windows-11-endpoints.md" {
		return page{file: name, build: "windows-11", enterprise: true}, nil
	}
	if name == "windows-11-endpoints-non-enterprise-editions.md" {
		return page{file: name, build: "windows-11"}, nil
	}
	if v, ok := between(name, "manage-windows-", "-endpoints.md"); ok {
		return page{file: name, build: "windows-10-" + strings.ToUpper(v), enterprise: true}, nil
	}
	if v, ok := between(name, "windows-endpoints-", "-non-enterprise-editions.md"); ok {
		return page{file: name, build: "windows-10-" + strings.ToUpper(v)}, nil
	}
	return page{}, fmt.Errorf("%s: not a connection-endpoints page name this importer knows", name)
}

// between returns the version between prefix and suffix if it is 4 letters
// or digits ("1909", "20H2", "21h2").
func between(name, prefix, suffix string) (string, bool) {
	v, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return "", false
	}
	v, ok = strings.CutSuffix(v, suffix)
	if !ok || len(v) != 4 {
		return "", false
	}
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "", false
		}
	}
	return v, true
}

// readSources reads the File and Commit columns of SOURCES.md.
func readSources(fsys fs.FS) (map[string]string, error) {
	src, err := fs.ReadFile(fsys, "SOURCES.md")
	if err != nil {
		return nil, fmt.Errorf("read provenance: %w", err)
	}
	tables, err := mdpages.Tables("SOURCES.md", src)
	if err != nil {
		return nil, err
	}
	commits := map[string]string{}
	for _, t := range tables {
		fileCol, commitCol := slices.Index(t.Header, "File"), slices.Index(t.Header, "Commit")
		if fileCol < 0 || commitCol < 0 {
			continue
		}
		for _, r := range t.Rows {
			c := strings.TrimSpace(r.Cells[commitCol])
			if !isCommit(c) {
				c = "unknown"
			}
			commits[strings.TrimSpace(r.Cells[fileCol])] = c
		}
	}
	if len(commits) == 0 {
		return nil, errors.New("SOURCES.md: no table with File and Commit columns")
	}
	return commits, nil
}

// record is one data-file row.
type record struct {
	pattern, destination string
	protocols            []string
	editions             []string
	listed               string
	area, description    string
	process              string
	file                 string
	line                 int
	commit               string
	notes                []string
}

func generateBuild(fsys fs.FS, build string, pages []page, command string) ([]byte, error) {
	sort.Slice(pages, func(i, j int) bool { return pages[i].enterprise && !pages[j].enterprise })
	hasOther := !pages[len(pages)-1].enterprise
	var (
		recs []*record
		errs []error
		seen = map[[3]string]*record{} // pattern, file, listed
	)
	for _, p := range pages {
		src, err := fs.ReadFile(fsys, p.file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", build, err)
		}
		rows, err := mdpages.Parse(p.file, src)
		if err != nil {
			errs = append(errs, err)
		}
		for _, r := range rows {
			listed, editions := "enterprise", []string{"enterprise"}
			if p.enterprise && hasOther {
				editions = editionOrder()
			}
			if !p.enterprise {
				listed = mdpages.EditionOf(r.Section)
				if listed == "" {
					errs = append(errs, &mdpages.Error{File: p.file, Line: r.Line, Msg: fmt.Sprintf("row under heading %q, which names no edition (Home, Family, Pro, Education)", r.Section)})
					continue
				}
				editions = []string{listed}
			}
			for _, d := range r.Destinations {
				key := [3]string{d.Pattern, p.file, listed}
				if prev := seen[key]; prev != nil {
					note := fmt.Sprintf("also line %d", r.Line)
					if !slices.Equal(prev.protocols, r.Protocols) {
						note = fmt.Sprintf("also line %d with %s (line %d: %s; protocols merged)", r.Line, orNone(r.Protocols), prev.line, orNone(prev.protocols))
						prev.protocols = union(prev.protocols, r.Protocols)
					}
					prev.notes = append(prev.notes, note)
					continue
				}
				rec := &record{
					pattern: d.Pattern, destination: d.Text, protocols: r.Protocols,
					editions: editions, listed: listed,
					area: r.Area, description: r.Description, process: r.Process,
					file: p.file, line: r.Line, commit: p.commit,
				}
				seen[key] = rec
				recs = append(recs, rec)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	sort.Slice(recs, func(i, j int) bool {
		a, b := recs[i], recs[j]
		if a.pattern != b.pattern {
			return a.pattern < b.pattern
		}
		if a.file != b.file {
			return a.file < b.file
		}
		if a.listed != b.listed {
			return slices.Index(editionOrder(), a.listed) < slices.Index(editionOrder(), b.listed)
		}
		return a.line < b.line
	})

	var b strings.Builder
	fmt.Fprintf(&b, "# Code generated by %s; DO NOT EDIT.\n", command)
	fmt.Fprintf(&b, "# Build %s. Sources: MicrosoftDocs/windows-itpro-docs, windows/privacy/<file>, at the commit given:\n", build)
	for _, p := range pages {
		role := "Enterprise edition"
		if p.enterprise && hasOther {
			role = "Enterprise edition; also the base of Home, Pro and Education (see catalog/README.md)"
		} else if !p.enterprise {
			role = "Home, Pro and Education sections"
		}
		fmt.Fprintf(&b, "#   %s @ %s: %s\n", p.file, p.commit, role)
	}
	b.WriteString("# One row per pattern, page and listing edition; repeated rows are folded into the first (see note).\n")
	b.WriteString(Header + "\n")
	for _, r := range recs {
		fields := []string{
			r.pattern, r.destination, strings.Join(r.protocols, ","), strings.Join(r.editions, ","), r.listed,
			r.area, r.description, r.process, r.file, strconv.Itoa(r.line), r.commit, strings.Join(r.notes, "; "),
		}
		for _, f := range fields {
			if strings.ContainsAny(f, "\t\n\r") {
				return nil, fmt.Errorf("%s:%d: field %q holds a tab or newline", r.file, r.line, f)
			}
		}
		b.WriteString(strings.Join(fields, "\t") + "\n")
	}
	return []byte(b.String()), nil
}

func isCommit(s string) bool {
	if len(s) != 40 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func union(a, b []string) []string {
	var out []string
	for _, p := range []string{mdpages.HTTP, mdpages.HTTPS, mdpages.TLS12, mdpages.TLS13} {
		if slices.Contains(a, p) || slices.Contains(b, p) {
			out = append(out, p)
		}
	}
	return out
}

func orNone(p []string) string {
	if len(p) == 0 {
		return "no protocol"
	}
	return strings.Join(p, ",")
}
