package reports

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
)

// hostileReport is a report in which host is the name of an undocumented
// flow and, with "2" added, of a documented one that matched through a CNAME
// (so it shows "via"); with "3", of an ambiguous set listed apart, and with
// "4", of one that counts as seen for client.wns.windows.com. The file name
// and a damage reason are hostile too.
func hostileReport(t *testing.T, host string) *Report {
	t.Helper()
	seen := nameStat(host+"2", "dns")
	seen.Aliases = []string{"client.wns.windows.com"}
	run := testRun(nameStat(host, "sni"), seen)
	run.Anomalies = testAnomalies(host)
	run.Ambiguous = map[string]*classify.AmbiguousStat{}
	for _, set := range [][]string{{host + "3", "settings-win.data.microsoft.com"}, {host + "4", "client.wns.windows.com"}} {
		aliases := [][]string{{"client.wns.windows.com"}, nil}
		slices.Sort(set)
		if set[0] == "client.wns.windows.com" {
			aliases[0], aliases[1] = aliases[1], aliases[0]
		}
		run.Ambiguous[strings.Join(set, "\n")] = &classify.AmbiguousStat{Names: set, Aliases: aliases, Flows: 1, First: t0, Last: t0}
	}
	run.Inputs = []string{"x\x1b]0;title\x07|`<b>.pcap"}
	run.Damage = []capture.Damage{{File: "y.pcap", Offset: 7, Reason: "<i>bad</i> | `x`\n"}}
	rep, err := Compare(run, load(t), []catalog.Edition{catalog.Home, catalog.Pro})
	if err != nil {
		t.Fatal(err)
	}
	for i := range rep.Editions {
		// A user catalog's area is the user's text: escaped as names are.
		rep.Editions[i].Areas = append(rep.Editions[i].Areas, AreaTraffic{Area: host + "5", Hosts: 1, Names: 1})
	}
	for _, ed := range rep.Editions {
		if len(ed.Undocumented) != 1 || ed.Undocumented[0].Name != host {
			t.Fatalf("edition %s: undocumented = %+v; want %q only", ed.Edition, ed.Undocumented, host)
		}
		seenAmbiguous := slices.ContainsFunc(ed.DocumentedSeen, func(s Seen) bool { return len(s.Ambiguous) == 1 })
		if len(ed.Ambiguous) != 1 || !seenAmbiguous {
			t.Fatalf("edition %s: ambiguous %+v, a pattern seen by a set %v; want one of each", ed.Edition, ed.Ambiguous, seenAmbiguous)
		}
	}
	return rep
}

// formulaStart reports whether a spreadsheet would take a cell starting so
// as a formula.
func formulaStart(cell string) bool {
	return cell != "" && strings.IndexByte("=+-@\t\r", cell[0]) >= 0
}

func TestCSVHostileNames(t *testing.T) {
	for name, host := range hostile {
		t.Run(name, func(t *testing.T) {
			rep := hostileReport(t, host)
			var b bytes.Buffer
			if err := CSV(&b, rep); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if !utf8.ValidString(out) {
				t.Errorf("CSV is not valid UTF-8")
			}
			for _, r := range out {
				if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
					t.Errorf("CSV holds %U raw", r)
				}
			}
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatalf("CSV does not parse back: %v\n%s", err, out)
			}
			want := 1
			for _, ed := range rep.Editions {
				for _, s := range ed.DocumentedSeen {
					want += len(s.Names)
					for _, set := range s.Ambiguous {
						want += len(set)
					}
				}
				for _, a := range ed.Ambiguous {
					want += len(a.Names)
				}
				want += len(ed.DocumentedNotSeen) + len(ed.Undocumented) + len(ed.Unattributed)
			}
			if len(rows) != want || strings.Count(out, "\n") != want {
				t.Errorf("CSV has %d records on %d lines; want %d", len(rows), strings.Count(out, "\n"), want)
			}
			if !slices.Equal(rows[0], CSVColumns) {
				t.Errorf("header = %v; want %v", rows[0], CSVColumns)
			}
			wantName := Terminal(host)
			if formulaStart(wantName) {
				wantName = "'" + wantName
			}
			nameCol := slices.Index(CSVColumns, "name")
			found := 0
			for i, row := range rows {
				if len(row) != len(CSVColumns) {
					t.Errorf("row %d has %d cells; want %d", i, len(row), len(CSVColumns))
				}
				for j, cell := range row {
					if formulaStart(cell) {
						t.Errorf("row %d, %s = %q: starts a formula", i, CSVColumns[j], cell)
					}
				}
				if len(row) > nameCol && row[1] == "undocumented" {
					found++
					if row[nameCol] != wantName {
						t.Errorf("undocumented name = %q; want %q", row[nameCol], wantName)
					}
				}
			}
			if found != len(rep.Editions) {
				t.Errorf("%d undocumented rows; want %d", found, len(rep.Editions))
			}
		})
	}
}

func TestCSVText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"www.bing.com", "www.bing.com"},
		{"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
		{"+SUM(1,2)", "'+SUM(1,2)"},
		{"-2+3", "'-2+3"},
		{"@SUM(1)", "'@SUM(1)"},
		{"a-b=c", "a-b=c"},
		{"\t=1", `\x09=1`},
		{"\r=1", `\x0d=1`},
		{"'=1", "'=1"},
		{"", ""},
	} {
		if g := csvText(tt.in); g != tt.want {
			t.Errorf("csvText(%q) = %q; want %q", tt.in, g, tt.want)
		}
	}
}

// unescaped returns the bytes of a Markdown line that are not taken by a
// backslash escape, so a count of '|' there counts the cell borders.
func unescaped(line string) string {
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		if line[i] == '\\' && i+1 < len(line) && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", line[i+1]) >= 0 {
			i++
			continue
		}
		b.WriteByte(line[i])
	}
	return b.String()
}

func TestMarkdownHostileNames(t *testing.T) {
	for name, host := range hostile {
		t.Run(name, func(t *testing.T) {
			rep := hostileReport(t, host)
			var b bytes.Buffer
			if err := Markdown(&b, rep); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			pipes := -1 // cell borders of the current table's header
			for i, line := range lines {
				raw := unescaped(line)
				for _, r := range raw {
					if strings.ContainsRune("`<>[]*_~&", r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
						t.Errorf("line %d holds %q unescaped: %q", i+1, r, line)
					}
				}
				for _, link := range []string{"www.", "://", "@"} {
					if strings.Contains(raw, link) {
						t.Errorf("line %d holds an autolink start %q: %q", i+1, link, line)
					}
				}
				if strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "# phonehome: ") && !strings.HasPrefix(line, "## ") &&
					!strings.HasPrefix(line, "### ") {
					t.Errorf("line %d is an unexpected heading: %q", i+1, line)
				}
				if !strings.HasPrefix(line, "|") {
					pipes = -1
					continue
				}
				n := strings.Count(raw, "|")
				if pipes < 0 {
					pipes = n
				} else if n != pipes {
					t.Errorf("line %d has %d cell borders; the table's header has %d: %q", i+1, n, pipes, line)
				}
				if !strings.HasSuffix(raw, " |") || !strings.HasPrefix(raw, "| ") {
					t.Errorf("line %d is a broken table row: %q", i+1, line)
				}
			}
			// The name is whole on one table row (not cut by a line break)
			// in every edition's list of undocumented names.
			esc := MarkdownText(host)
			rows := 0
			for _, line := range lines {
				if strings.HasPrefix(line, "| ") && strings.Contains(line, " | "+esc+" | ") {
					rows++
				}
			}
			if rows < len(rep.Editions) {
				t.Errorf("the name %q is on %d table rows; want at least %d\n%s", esc, rows, len(rep.Editions), out)
			}
		})
	}
}

func TestMarkdownText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"settings-win.data.microsoft.com", "settings-win.data.microsoft.com"},
		{"a|b", `a\|b`},
		{"`x`", "\\`x\\`"},
		{"[x](http://e)", `\[x\](http\://e)`},
		{"<b>", `\<b\>`},
		{"*.example.com", `\*.example.com`},
		{"www.bing.com", `www\.bing.com`},
		{"a.www.b", `a.www\.b`},
		{"awww.b", "awww.b"},
		{"a\nb", `a\\x0ab`},
		{`a\b`, `a\\\\b`},
		{"#x", `\#x`},
		{"&amp;", `\&amp;`},
		{"a: b", "a: b"},
	} {
		if g := MarkdownText(tt.in); g != tt.want {
			t.Errorf("MarkdownText(%q) = %q; want %q", tt.in, g, tt.want)
		}
	}
}

// htmlElements are the only elements an HTML report may have, and the
// attributes each may carry.
var htmlElements = map[string][]string{
	"html": {"lang"}, "head": nil, "meta": {"charset", "http-equiv", "content", "name"}, "title": nil, "style": nil,
	"body": nil, "h1": nil, "h2": nil, "h3": nil, "dl": nil, "dt": nil, "dd": nil, "section": {"id"}, "p": {"class"},
	"table": {"class"}, "thead": nil, "tbody": nil, "tr": nil, "th": {"class"}, "td": {"class"}, "br": nil, "span": {"class"},
	"ul": {"class"}, "li": nil, "nav": nil, "a": {"href"}, "details": {"open", "id"}, "summary": nil, "div": {"class"},
	"input": {"type", "id", "placeholder", "aria-label", "hidden"}, "script": nil,
	"svg": {"class", "width", "height", "viewbox", "role", "aria-label", "preserveaspectratio"}, "line": {"class", "x1", "y1", "x2", "y2"},
	"path": {"d", "class"},
}

// htmlCheck parses page and checks its elements and attributes; it returns
// the text of the body.
func htmlCheck(t *testing.T, page string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("HTML does not parse: %v", err)
	}
	var text strings.Builder
	csp := 0
	var walk func(n *html.Node, inBody bool)
	walk = func(n *html.Node, inBody bool) {
		switch n.Type {
		case html.ElementNode:
			attrs, ok := htmlElements[n.Data]
			if !ok {
				t.Errorf("HTML has a <%s> element", n.Data)
			}
			for _, a := range n.Attr {
				if !slices.Contains(attrs, a.Key) {
					t.Errorf("<%s> has an attribute %s=%q", n.Data, a.Key, a.Val)
				}
				if a.Key == "http-equiv" && a.Val == "Content-Security-Policy" {
					csp++
				}
			}
			if n.Data == "meta" && slices.Contains(n.Attr, html.Attribute{Key: "http-equiv", Val: "Content-Security-Policy"}) &&
				!slices.Contains(n.Attr, html.Attribute{Key: "content", Val: HTMLContentSecurityPolicy}) {
				t.Errorf("CSP meta = %v; want content %q", n.Attr, HTMLContentSecurityPolicy)
			}
			inBody = inBody || n.Data == "body"
		case html.TextNode:
			if inBody {
				text.WriteString(n.Data)
				text.WriteByte('\n')
			}
		case html.CommentNode:
			t.Errorf("HTML has a comment %q", n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inBody)
		}
	}
	walk(doc, false)
	if csp != 1 {
		t.Errorf("HTML has %d Content-Security-Policy meta elements; want 1", csp)
	}
	return text.String()
}

func TestHTMLHostileNames(t *testing.T) {
	for name, host := range hostile {
		t.Run(name, func(t *testing.T) {
			rep := hostileReport(t, host)
			var b bytes.Buffer
			if err := HTML(&b, rep); err != nil {
				t.Fatal(err)
			}
			text := htmlCheck(t, b.String())
			for _, want := range []string{Terminal(host), Terminal(host + "2 (via client.wns.windows.com)"), Terminal(rep.Files[0]),
				"(names: " + Terminal(host) + ")", Terminal(host + "3"), Terminal(host + "4")} {
				if !strings.Contains(text, want) {
					t.Errorf("the page's text does not hold %q", want)
				}
			}
			for _, r := range text {
				if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
					t.Errorf("the page's text holds %U raw", r)
				}
			}
		})
	}
}

// TestCSVSemicolonSpreadsheet: a spreadsheet that splits on ";" must still
// see a name holding ";=cmd" as one text cell, so every text cell is quoted.
func TestCSVSemicolonSpreadsheet(t *testing.T) {
	rep, err := Compare(testRun(nameStat("a;=cmd|' /C calc'!A0.example", "sni")), load(t), []catalog.Edition{catalog.Home})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := CSV(&b, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"a;=cmd|' /C calc'!A0.example"`) {
		t.Errorf("the name is not one quoted cell in:\n%s", b.String())
	}
}
