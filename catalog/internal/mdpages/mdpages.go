package mdpages

import (
	"errors"
	"fmt"
	"strings"
)

// Protocol names produced by NormaliseProtocols, in their canonical order.
const (
	HTTP  = "HTTP"
	HTTPS = "HTTPS"
	TLS12 = "TLS 1.2"
	TLS13 = "TLS 1.3" // once, on the 1709 non-Enterprise page
)

// Error is a row or table that could not be read.
type Error struct {
	File string
	Line int // 1-based
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// Table is one markdown table with its context.
type Table struct {
	Line    int      // line of the header row
	Heading string   // text of the nearest heading above, any level
	Section string   // text of the nearest "##" heading above
	Para    string   // text between the previous table or heading and this table
	Header  []string // cleaned header cells
	Rows    []TableRow
}

// TableRow is one body row, its cells split but not cleaned.
type TableRow struct {
	Line  int
	Cells []string
}

// Row is one endpoint row.
type Row struct {
	Line         int
	Section      string // nearest "##" heading above the table
	Area         string // after carry-over; the section for Format A
	Description  string // after carry-over; the paragraph above for Format A
	Process      string // Source process (Format A only)
	ProtocolText string // the Protocol cell, cleaned
	Protocols    []string
	Destinations []Destination // one or more, in cell order
}

// Destination is one destination of a row.
type Destination struct {
	Text    string // as written, cleaned: escapes and backticks removed
	Pattern string // Text with the host in lower case and a trailing dot removed
}

// Tables splits src into its tables. It fails only on a table row with no
// header above it or with more non-empty cells than its header.
func Tables(file string, src []byte) ([]Table, error) {
	lines := strings.Split(string(src), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	var (
		tables           []Table
		errs             []error
		heading, section string
		para             []string
		lastEnd          = -10 // index of the line after the last table
	)
	i := 0
	if len(lines) > 0 && strings.TrimSpace(lines[0]) == "---" {
		for i = 1; i < len(lines) && strings.TrimSpace(lines[i]) != "---"; i++ {
		}
		i++
	}
	for ; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		switch {
		case strings.HasPrefix(l, "#"):
			heading = strings.TrimSpace(strings.TrimLeft(l, "#"))
			if strings.HasPrefix(l, "## ") {
				section = heading
			}
			para = para[:0]
		case strings.HasPrefix(l, "|"):
			var t Table
			switch {
			case i+1 < len(lines) && isDelimiter(strings.TrimSpace(lines[i+1])):
				t = Table{Line: i + 1, Heading: heading, Section: section, Para: clean(strings.Join(para, " "), false)}
				for _, c := range splitRow(l) {
					t.Header = append(t.Header, clean(c, false))
				}
				i += 2
			case len(tables) > 0 && i-lastEnd <= 1 && len(para) == 0:
				// Rows after one blank line: the author split a table by
				// accident (1709 non-Enterprise, Education). Rendered, they are
				// a paragraph; they are plainly rows of the table above.
				t = tables[len(tables)-1]
				tables = tables[:len(tables)-1]
			default:
				errs = append(errs, &Error{file, i + 1, "table row without a header and delimiter row above it"})
				continue
			}
			for ; i < len(lines); i++ {
				l := strings.TrimSpace(lines[i])
				if !strings.HasPrefix(l, "|") {
					break
				}
				cells := splitRow(l)
				for len(cells) > len(t.Header) && strings.TrimSpace(cells[len(cells)-1]) == "" {
					cells = cells[:len(cells)-1]
				}
				if len(cells) > len(t.Header) {
					errs = append(errs, &Error{file, i + 1, fmt.Sprintf("row has %d cells, header has %d", len(cells), len(t.Header))})
					continue
				}
				for len(cells) < len(t.Header) {
					cells = append(cells, "")
				}
				t.Rows = append(t.Rows, TableRow{Line: i + 1, Cells: cells})
			}
			lastEnd = i
			i--
			tables = append(tables, t)
			para = para[:0]
		case l != "":
			para = append(para, l)
		}
	}
	return tables, errors.Join(errs...)
}

func isDelimiter(l string) bool {
	if !strings.HasPrefix(l, "|") && !strings.HasPrefix(l, ":") && !strings.HasPrefix(l, "-") {
		return false
	}
	cells := splitRow(l)
	if len(cells) == 0 {
		return false
	}
	for _, c := range cells {
		c = strings.TrimSpace(c)
		c = strings.TrimSuffix(strings.TrimPrefix(c, ":"), ":")
		if c == "" || strings.Trim(c, "-") != "" {
			return false
		}
	}
	return true
}

// splitRow splits a table line at unescaped pipes, dropping the optional
// leading and trailing pipe.
func splitRow(l string) []string {
	l = strings.TrimSpace(l)
	l = strings.TrimPrefix(l, "|")
	var cells []string
	start := 0
	for i := 0; i < len(l); i++ {
		switch l[i] {
		case '\\':
			i++
		case '|':
			cells = append(cells, l[start:i])
			start = i + 1
		}
	}
	if rest := l[start:]; strings.TrimSpace(rest) != "" || start == 0 {
		cells = append(cells, rest)
	}
	return cells
}

// column roles
const (
	colNone = iota
	colArea
	colDescription
	colProcess
	colProtocol
	colDestination
)

func role(h string) int {
	switch strings.ToLower(h) {
	case "area":
		return colArea
	case "description":
		return colDescription
	case "source process":
		return colProcess
	case "protocol":
		return colProtocol
	case "destination":
		return colDestination
	}
	return colNone
}

// Parse reads every endpoint table of a page. Tables whose header has no
// Destination column are skipped. The error joins one *Error per row that
// could not be read; the rows that could be read are returned in any case.
func Parse(file string, src []byte) ([]Row, error) {
	tables, err := Tables(file, src)
	errs := []error{err}
	var rows []Row
	for _, t := range tables {
		col := make(map[int]int) // role -> index
		for i, h := range t.Header {
			r := role(h)
			if r == colNone {
				errs = append(errs, &Error{file, t.Line, fmt.Sprintf("unknown column %q", h)})
				continue
			}
			col[r] = i
		}
		if _, ok := col[colDestination]; !ok {
			continue
		}
		formatA := false
		if _, ok := col[colProcess]; ok {
			formatA = true
		}
		cell := func(cells []string, r int) string {
			if i, ok := col[r]; ok {
				return cells[i]
			}
			return ""
		}
		var area, desc string
		if formatA {
			area, desc = t.Section, t.Para
		}
		_, hasArea := col[colArea]
		for _, tr := range t.Rows {
			a := clean(cell(tr.Cells, colArea), false)
			d := clean(cell(tr.Cells, colDescription), false)
			if hasArea {
				if a != "" {
					area, desc = a, ""
				}
				if d != "" {
					desc = d
				}
			} else if !formatA {
				desc = d
			}
			rawDest := strings.TrimSpace(cell(tr.Cells, colDestination))
			proto := clean(cell(tr.Cells, colProtocol), false)
			if rawDest == "" && proto == "" || isLink(rawDest) && strings.Contains(clean(rawDest, false), " ") {
				if proto != "" {
					errs = append(errs, &Error{file, tr.Line, fmt.Sprintf("header row (Destination %q) has protocol %q", rawDest, proto)})
				}
				continue // a header row: only Area and Description
			}
			row := Row{
				Line:         tr.Line,
				Section:      t.Section,
				Area:         area,
				Description:  desc,
				Process:      clean(cell(tr.Cells, colProcess), false),
				ProtocolText: proto,
			}
			var perr error
			if row.Protocols, perr = NormaliseProtocols(proto); perr != nil {
				errs = append(errs, &Error{file, tr.Line, perr.Error()})
				continue
			}
			if rawDest == "" {
				errs = append(errs, &Error{file, tr.Line, fmt.Sprintf("row has protocol %q but no destination", proto)})
				continue
			}
			for _, text := range splitDestinations(rawDest) {
				pat, err := NormaliseDestination(text)
				if err != nil {
					errs = append(errs, &Error{file, tr.Line, err.Error()})
					continue
				}
				row.Destinations = append(row.Destinations, Destination{Text: text, Pattern: pat})
			}
			if len(row.Destinations) > 0 {
				rows = append(rows, row)
			}
		}
	}
	return rows, errors.Join(errs...)
}

// EditionOf maps a section heading of a non-Enterprise page, such as
// "Windows 10 Family", to its edition: home, pro or education; "" when it
// names none.
func EditionOf(heading string) string {
	f := strings.Fields(strings.ToLower(heading))
	if len(f) == 0 {
		return ""
	}
	switch f[len(f)-1] {
	case "home", "family":
		return "home"
	case "pro", "professional":
		return "pro"
	case "education":
		return "education"
	}
	return ""
}

// isLink reports whether a cell starts with a markdown link; one whose text
// has spaces ("[Learn how to turn off ...](...)") heads a group of rows.
func isLink(s string) bool {
	return strings.HasPrefix(s, "[") && strings.Contains(s, "](")
}

// splitDestinations cleans a Destination cell and splits it at <br>. A part
// with inner white space stays whole, so that NormaliseDestination rejects
// it: prose is not a list of hosts.
func splitDestinations(raw string) []string {
	var out []string
	for _, p := range strings.Split(clean(raw, true), "\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// NormaliseDestination checks one cleaned destination and returns its
// pattern: host in lower case without a trailing dot, path unchanged. A
// destination is HOST or HOST/PATH; HOST holds letters, digits, '-', '_', '.'
// and '*' (one dotless host occurs: img-prod-cms-rt-microsoft-com); PATH holds
// no white space.
func NormaliseDestination(text string) (string, error) {
	host, path, hasPath := strings.Cut(text, "/")
	if host == "" {
		return "", fmt.Errorf("destination %q has no host", text)
	}
	for i := 0; i < len(host); i++ {
		b := host[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == '.' || b == '*') {
			return "", fmt.Errorf("destination %q: byte %q not allowed in a host name pattern", text, b)
		}
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if strings.Trim(host, ".*") == "" {
		return "", fmt.Errorf("destination %q has no literal host part", text)
	}
	if hasPath {
		for i := 0; i < len(path); i++ {
			if path[i] <= ' ' || path[i] == 0x7f {
				return "", fmt.Errorf("destination %q: byte %q not allowed in a path", text, path[i])
			}
		}
		return host + "/" + path, nil
	}
	return host, nil
}

// NormaliseProtocols maps a Protocol cell to a set of HTTP, HTTPS and TLS 1.2,
// in that order. The cell lists names separated by '/' or ','; white space
// and case are ignored, so "HTTP/TLS v1.2", "HTTPS/TLS V1.2", "TLSV1.2",
// "TLSv1.2/HTTPS" and "HTTP / HTTPS" are all understood. An empty cell gives
// an empty set. An unknown name is an error.
func NormaliseProtocols(cell string) ([]string, error) {
	s := strings.ToUpper(strings.Join(strings.Fields(clean(cell, false)), ""))
	if s == "" {
		return nil, nil
	}
	var have [4]bool
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return r == '/' || r == ',' || r == '\\' }) {
		switch tok {
		case "HTTP":
			have[0] = true
		case "HTTPS":
			have[1] = true
		case "TLSV1.2", "TLS1.2":
			have[2] = true
		case "TLSV1.3", "TLS1.3":
			have[3] = true
		default:
			return nil, fmt.Errorf("protocol %q: unknown name %q (want HTTP, HTTPS, TLS v1.2 or TLS v1.3)", cell, tok)
		}
	}
	var out []string
	for i, name := range [...]string{HTTP, HTTPS, TLS12, TLS13} {
		if have[i] {
			out = append(out, name)
		}
	}
	if out == nil {
		return nil, fmt.Errorf("protocol %q: no protocol name", cell)
	}
	return out, nil
}

// clean removes markdown from a cell: backslash escapes of ASCII punctuation,
// "**", backticks and link targets; <br> becomes a newline when keepBreaks,
// else a space; white space runs become one space (newlines kept when
// keepBreaks).
func clean(s string, keepBreaks bool) string {
	var b strings.Builder
	space := false
	// Where the last link end, ')' and '>' are: each test below of "is
	// there one further on" is then a comparison, not a scan of the rest of
	// the cell, which made a long cell of '[' or "<a" quadratic.
	lastLink, lastParen, lastGT := strings.LastIndex(s, "]("), strings.LastIndexByte(s, ')'), strings.LastIndexByte(s, '>')
	put := func(c byte) {
		if c == ' ' || c == '\t' || c == '\n' && !keepBreaks || c == '\r' || c == '\v' || c == '\f' {
			space = true
			return
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteByte(c)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && isPunct(s[i+1]):
			i++
			put(s[i])
		case c == '*' && i+1 < len(s) && s[i+1] == '*':
			i++
		case c == '`':
		case c == '<':
			if n := brLen(s[i:]); n > 0 {
				i += n - 1
				if keepBreaks {
					space = false
					if b.Len() > 0 {
						b.WriteByte('\n')
					}
				} else {
					space = true
				}
				continue
			}
			if n := 0; i < lastGT {
				if n = tagLen(s[i:]); n > 0 {
					i += n - 1 // other HTML tags, such as <span id="..."></span>, vanish
					continue
				}
			}
			put(c)
		case c == ']' && i+1 < len(s) && s[i+1] == '(':
			// "[text](url)": drop "](url)"; the '[' was dropped below.
			if i > lastParen {
				put(c)
				continue
			}
			i += strings.IndexByte(s[i:], ')')
		case c == '[' && i < lastLink:
		default:
			put(c)
		}
	}
	return b.String()
}

func isPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

// brLen returns the length of a <br>, <br/>, <br />, </br> tag at the start
// of s, any case, or 0.
func brLen(s string) int {
	for _, t := range [...]string{"<br>", "<br/>", "<br />", "</br>"} {
		if len(s) >= len(t) && strings.EqualFold(s[:len(t)], t) {
			return len(t)
		}
	}
	return 0
}

// tagLen returns the length of an HTML tag ("<name ...>" or "</name>") at the
// start of s, or 0.
func tagLen(s string) int {
	i := 1
	if i < len(s) && s[i] == '/' {
		i++
	}
	if i >= len(s) || !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
		return 0
	}
	j := strings.IndexByte(s, '>')
	if j < 0 {
		return 0
	}
	return j + 1
}
