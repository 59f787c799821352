package reports

import (
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
)

// HTMLContentSecurityPolicy is set by a meta element of every HTML report:
// nothing may be loaded, the page's own inline style applies, and the one
// script that runs is the page's own (htmlScript), by its SHA-256
// (TestScriptHash checks it).
const HTMLContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-DQ/Q5Y4yqP7Z6x7s0vmSeBt+wByYmKHkpcBYlzMSbDk='"

// HTML writes the report as one self-contained HTML page: the sections and
// tables of the text report under a table of contents, each in a <details>
// that folds, with an inline style sheet and one inline script of no data
// (sorting by a column, filtering the rows), no external resource, and a
// Content-Security-Policy (meta element, HTMLContentSecurityPolicy) that
// would block anything else.
//
// Every value from the report is escaped as by Terminal first, so control
// characters, invalid UTF-8 and format characters such as bidi overrides are
// shown as Go escapes (\x1b, \u202e) instead of acting on the page's text;
// html/template then escapes it for the context it lands in (<, >, &, quotes).
// Values only ever land in element text, never in an attribute, a URL, a
// style or a script.
func HTML(w io.Writer, rep *Report) error {
	page := template.Must(template.New("page").Parse(htmlPage))
	return page.Execute(w, htmlView(rep))
}

type htmlDoc struct {
	Title    string
	Build    string
	Warnings []string // paragraphs under the title
	Run      []htmlItem
	Top      []htmlPart // notes that change what every list below means
	Editions []htmlEdition
	Tail     []htmlPart
}

type htmlItem struct{ K, V string }

// number gives every section an anchor for the contents: "e1-2" for the
// second part of the first edition, "s3" for the third other section.
func (d *htmlDoc) number() {
	n := 0
	for i := range d.Top {
		n++
		d.Top[i].ID = "s" + strconv.Itoa(n)
	}
	for i := range d.Editions {
		for j := range d.Editions[i].Parts {
			d.Editions[i].Parts[j].ID = "e" + strconv.Itoa(i+1) + "-" + strconv.Itoa(j+1)
		}
	}
	for i := range d.Tail {
		n++
		d.Tail[i].ID = "s" + strconv.Itoa(n)
	}
}

// Script is the page's one script: sorting a table by a column (click its
// heading), filtering every table's rows by a text, and the same from the
// address's fragment (#filter=TEXT&sort=TABLE:COLUMN:asc|desc, tables and
// columns counted from 0), so a view can be linked. It holds no data: the
// Content-Security-Policy allows it by its hash (CSP), and nothing else.
func (htmlDoc) Script() template.JS { return template.JS(htmlScript) }

// CSP is the page's Content-Security-Policy (HTMLContentSecurityPolicy).
func (htmlDoc) CSP() string { return HTMLContentSecurityPolicy }

const htmlScript = `(function () {
  "use strict";
  var units = {B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12};
  function value(td) {
    var s = td ? td.textContent.trim() : "";
    var m = s.replace(/,/g, "").match(/^([0-9]+(?:\.[0-9]+)?) ?(B|kB|MB|GB|TB)?$/);
    return m ? parseFloat(m[1]) * (m[2] ? units[m[2]] : 1) : s;
  }
  function sortTable(t, col, dir) {
    var body = t.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a.cells[col]), y = value(b.cells[col]);
      var r = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y));
      return dir * r;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    t.setAttribute("data-sorted", col + ":" + (dir > 0 ? "asc" : "desc"));
  }
  function filter(q) {
    q = q.toLowerCase();
    document.querySelectorAll("table.sort tbody tr").forEach(function (r) {
      r.hidden = q !== "" && r.textContent.toLowerCase().indexOf(q) < 0;
    });
  }
  var tables = document.querySelectorAll("table.sort");
  tables.forEach(function (t) {
    t.tHead.rows[0].querySelectorAll("th").forEach(function (th, col) {
      th.tabIndex = 0;
      th.title = "sort by this column";
      function go() { sortTable(t, col, t.getAttribute("data-sorted") === col + ":asc" ? -1 : 1); }
      th.addEventListener("click", go);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") { go(); } });
    });
  });
  var box = document.getElementById("filter");
  box.hidden = false;
  box.addEventListener("input", function () { filter(box.value); });
  location.hash.slice(1).split("&").forEach(function (kv) {
    var i = kv.indexOf("="), k = kv.slice(0, i), v = decodeURIComponent(kv.slice(i + 1));
    if (k === "filter") { box.value = v; filter(v); }
    if (k === "sort") {
      var s = v.split(":"), t = tables[+s[0]];
      if (t) { sortTable(t, +s[1], s[2] === "desc" ? -1 : 1); }
    }
  });
})();`

type htmlEdition struct {
	Title string
	Parts []htmlPart
}

type htmlPart struct {
	ID    string        // the anchor the contents link to (htmlDoc.number)
	SVG   template.HTML // a chart (runChartSVG: numbers only), under the title
	Title string
	Note  string // a paragraph under the title
	Table *htmlTable
	Foot  string // a paragraph under the table
	Items []string
}

type htmlTable struct {
	Head []htmlHead
	Rows [][]htmlCell
}

type htmlHead struct {
	Name string
	Num  bool
}

type htmlCell struct {
	Lines []string      // shown one per line
	Class string        // "n" numbers, "name" names and patterns, "wrap" lists, "text" prose
	Warn  bool          // a protocol seen that the page does not document
	SVG   template.HTML // a timeline (timelineSVG: numbers only), after the lines
}

func htmlTableOf(head ...string) *htmlTable {
	t := &htmlTable{}
	for _, h := range head {
		t.Head = append(t.Head, htmlHead{Name: strings.TrimSuffix(h, ":"), Num: strings.HasSuffix(h, ":")})
	}
	return t
}

// Body is the table's rows as HTML, each after a newline: what the
// template wrote with a range over the rows and cells,
//
//	{{range .Rows}}
//	<tr>{{range .}}<td{{with .Class}} class="{{.}}"{{end}}>{{range $i, $l := .Lines}}{{if $i}}<br>{{end}}{{$l}}{{end}}{{if .Warn}} <span class="warn">[!]</span>{{end}}</td>{{end}}</tr>
//	{{end}}
//
// with html/template's escaping of element text and of a quoted attribute
// (htmlEscape), to the byte (TestHTMLTableBody). The template's reflection
// over every cell made an HTML report cost the bench capture's analyze 8%
// more than the text one.
func (t *htmlTable) Body() template.HTML {
	var b []byte
	for _, row := range t.Rows {
		b = append(b, "\n<tr>"...)
		for _, c := range row {
			b = append(b, "<td"...)
			if c.Class != "" {
				b = append(b, ` class="`...)
				b = appendHTMLEscaped(b, c.Class)
				b = append(b, '"')
			}
			b = append(b, '>')
			for i, l := range c.Lines {
				if i > 0 {
					b = append(b, "<br>"...)
				}
				b = appendHTMLEscaped(b, l)
			}
			if c.Warn {
				b = append(b, ` <span class="warn">[!]</span>`...)
			}
			b = append(b, c.SVG...)
			b = append(b, "</td>"...)
		}
		b = append(b, "</tr>"...)
	}
	return template.HTML(b)
}

// appendHTMLEscaped appends s as html/template escapes a string in element
// text or a quoted attribute: NUL as U+FFFD; both quotes, the ampersand,
// plus, less-than and greater-than as character references; every other
// byte, invalid UTF-8 included, as it is.
func appendHTMLEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var repl string
		switch s[i] {
		case 0:
			repl = "\uFFFD"
		case '"':
			repl = "&#34;"
		case '&':
			repl = "&amp;"
		case '\'':
			repl = "&#39;"
		case '+':
			repl = "&#43;"
		case '<':
			repl = "&lt;"
		case '>':
			repl = "&gt;"
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, repl...)
		start = i + 1
	}
	return append(b, s[start:]...)
}

func txt(s string) htmlCell            { return htmlCell{Lines: []string{T(s)}} }
func wrap(s string) htmlCell           { return htmlCell{Lines: []string{T(s)}, Class: "wrap"} }
func num(s string) htmlCell            { return htmlCell{Lines: []string{s}, Class: "n"} }
func nameCell(s string) htmlCell       { return htmlCell{Lines: []string{T(s)}, Class: "name"} }
func (t *htmlTable) add(c ...htmlCell) { t.Rows = append(t.Rows, c) }

func htmlView(rep *Report) htmlDoc {
	d := htmlDoc{
		Title: "phonehome: capture held against " + T(catalog.BuildTitle(rep.Build)) + " connection endpoints",
		Build: T(rep.Build),
	}
	if rep.NothingInScope != "" {
		d.Warnings = append(d.Warnings, T(rep.NothingInScope))
	}
	kv := func(k, v string) { d.Run = append(d.Run, htmlItem{k, v}) }
	if rep.CatalogFile != "" {
		kv("catalog", T(rep.CatalogFile)+" (a user catalog)")
	}
	for _, f := range rep.Files {
		kv("capture", T(f))
	}
	for _, cs := range rep.CaptureSessions {
		kv("live", sessionLine(cs, T))
	}
	for _, w := range rep.CaptureWarnings {
		kv("WARNING", T(w))
	}
	if !rep.First.IsZero() {
		kv("span", rep.First.UTC().Format("2006-"+timeLayout)+" to "+rep.Last.UTC().Format("2006-"+timeLayout)+" UTC ("+
			span(rep.Last.Sub(rep.First))+")")
	}
	if rep.VM != "" {
		kv("VM", T(rep.VM)+" ("+T(rep.VMHow)+"; it started "+count(rep.VMFlows, "flow")+")")
	} else {
		kv("VM", "none ("+T(rep.VMHow)+")")
	}
	t := rep.Totals
	kv("read", count(t.Packets, "packet")+", "+humanize.Bytes(t.Bytes)+duplicatesNote(t))
	kv("in scope", count(t.FlowsInScope, "flow")+" to public IPv4 addresses started by the VM, "+
		count(t.PacketsInScope, "packet")+", "+humanize.Bytes(t.BytesInScope))
	if x := excludedSummary(rep); x != "" {
		kv("excluded", T(x))
	}
	if n := noPage(rep); n != "" {
		kv("no page", T(n))
	}
	d.Top = htmlTruncation(rep)

	for _, ed := range rep.Editions {
		he := htmlEdition{Title: T(EditionTitle(ed.Edition)) + ": " + ed.Headline()}

		part := htmlPart{Title: "Documented and seen (" + strconv.Itoa(len(ed.DocumentedSeen)) + ")"}
		if len(ed.DocumentedSeen) > 0 {
			tab := htmlTableOf("pattern", "names", "flows:", "out:", "in:", "first", "last", "by", "seen", "documented", "first packet", "contacts")
			for _, s := range ed.DocumentedSeen {
				names := htmlCell{Class: "name", Lines: seenNames(s, T)}
				seen := wrap(strings.Join(s.ProtocolsSeen, ", "))
				seen.Warn = len(s.ProtocolsNotDocumented) > 0
				tab.add(nameCell(s.Pattern), names, num(humanize.Comma(int64(s.Flows))), num(humanize.Bytes(s.BytesOut)),
					num(humanize.Bytes(s.BytesIn)), txt(rep.stamp(s.First)), txt(rep.stamp(s.Last)), txt(evidence(s.Evidence)),
					seen, wrap(strings.Join(s.ProtocolsDocumented, ", ")), nameCell(firstPacket(s.FirstEvidence)),
					htmlCell{SVG: timelineSVG(rep.First, rep.Last, s.Starts)})
			}
			part.Table = tab
			if anyMismatch(ed.DocumentedSeen) {
				part.Foot = "[!] a protocol was seen that the page does not document for the pattern"
			}
		}
		he.Parts = append(he.Parts, part)

		part = htmlPart{Title: "Documented and not seen (" + strconv.Itoa(len(ed.DocumentedNotSeen)) + ")"}
		if len(ed.DocumentedNotSeen) > 0 {
			tab := htmlTableOf("pattern", "documented", "description")
			for _, s := range ed.DocumentedNotSeen {
				desc := txt(s.Description)
				desc.Class = "text"
				tab.add(nameCell(s.Pattern), txt(strings.Join(s.ProtocolsDocumented, ", ")), desc)
			}
			part.Table = tab
		}
		he.Parts = append(he.Parts, part)

		part = htmlPart{Title: "Seen and not documented (" + count(len(ed.Undocumented), "name") + ")"}
		if len(ed.Undocumented) > 0 {
			tab := htmlTableOf("domain", "name", "flows:", "out:", "in:", "first", "last", "seen", "by", "rhythm", "first packet", "contacts")
			last := ""
			for _, u := range ed.Undocumented {
				dom := ""
				if u.RegistrableDomain != last {
					dom, last = u.RegistrableDomain, u.RegistrableDomain
				}
				tab.add(nameCell(dom), nameCell(u.Name), num(humanize.Comma(int64(u.Flows))), num(humanize.Bytes(u.BytesOut)),
					num(humanize.Bytes(u.BytesIn)), txt(rep.stamp(u.First)), txt(rep.stamp(u.Last)), txt(strings.Join(u.Protocols, ", ")),
					txt(evidence(u.Evidence)), txt(u.Rhythm.RhythmWords()), nameCell(firstPacket(u.FirstEvidence)),
					htmlCell{SVG: timelineSVG(rep.First, rep.Last, u.Starts)})
			}
			part.Table = tab
		}
		// The undocumented names first: what a reader wants first; above
		// them, the run in time.
		he.Parts = append([]htmlPart{part}, he.Parts...)
		if chart := editionChart(rep, ed); chart.SVG != "" {
			he.Parts = append([]htmlPart{chart}, he.Parts...)
		}
		if len(ed.Ambiguous) > 0 {
			he.Parts = append(he.Parts, htmlAmbiguous(rep, ed.Ambiguous))
		}
		if len(ed.Areas) > 0 {
			he.Parts = append(he.Parts, htmlAreas(ed.Areas))
		}
		d.Editions = append(d.Editions, he)
	}

	if len(rep.Editions) > 0 {
		un := rep.Editions[0].Unattributed
		part := htmlPart{
			Title: "Unattributed addresses, all editions (" + strconv.Itoa(len(un)) + ")",
			Note:  "No SNI, no HTTP Host, no DNS answer before the flow.",
		}
		if len(un) > 0 {
			tab := htmlTableOf("address", "flows:", "out:", "in:", "first", "last", "ports")
			for _, u := range un {
				tab.add(nameCell(u.Address), num(humanize.Comma(int64(u.Flows))), num(humanize.Bytes(u.BytesOut)),
					num(humanize.Bytes(u.BytesIn)), txt(rep.stamp(u.First)), txt(rep.stamp(u.Last)), txt(strings.Join(u.Ports, " ")))
			}
			part.Table = tab
		}
		d.Tail = append(d.Tail, part)
	}

	part := htmlPart{Title: "Excluded traffic (" + count(len(rep.Excluded), "reason") + ")"}
	if len(rep.Excluded) > 0 {
		tab := htmlTableOf("reason", "flows:", "packets:", "bytes:")
		for _, e := range rep.Excluded {
			flows := humanize.Comma(int64(e.Flows))
			if e.Flows == 0 {
				flows = "-"
			}
			tab.add(txt(e.Reason), num(flows), num(humanize.Comma(int64(e.Packets))), num(humanize.Bytes(e.Bytes)))
		}
		part.Table = tab
	}
	for _, u := range rep.Unsupported {
		part.Items = append(part.Items, "unsupported link type "+T(u.Name)+": "+count(u.Frames, "frame")+" not decoded")
	}
	if note := rep.UnrequestedNote(); note != "" {
		part.Items = append(part.Items, note)
	}
	d.Tail = append(d.Tail, part)
	if len(rep.Anomalies) > 0 {
		part := htmlPart{Title: anomaliesTitle}
		for _, a := range rep.Anomalies {
			part.Items = append(part.Items, anomalyLine(a, T))
		}
		d.Tail = append(d.Tail, part)
	}
	if len(rep.Bounds) > 0 {
		part := htmlPart{Title: "Bounds reached (the result may be incomplete)"}
		for _, b := range rep.Bounds {
			part.Items = append(part.Items, T(b.What)+" (limit "+humanize.Comma(int64(b.Limit))+"): "+count(b.Times, "time"))
		}
		d.Tail = append(d.Tail, part)
	}
	if len(rep.Damage) > 0 {
		part := htmlPart{Title: damageTitle}
		for _, dm := range rep.Damage {
			part.Items = append(part.Items, T(dm.File)+" "+dm.Where()+": "+T(dm.Reason))
		}
		d.Tail = append(d.Tail, part)
	}
	if quiet := quietInputs(rep); len(quiet) > 0 {
		part := htmlPart{Title: quietTitle}
		for _, q := range quiet {
			part.Items = append(part.Items, T(q[0])+" "+T(q[1]))
		}
		d.Tail = append(d.Tail, part)
	}
	d.number()
	return d
}

// htmlPage is the page's template, parsed when a page is written (about a
// millisecond, which every run paid at start-up when it was parsed at package
// initialisation); html/template escapes every {{.}} for its context. The
// style sheet is constant.
const htmlPage = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em 2em; color: #1b1b1b; background: #fff; }
h1 { font-size: 1.35em; }
h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
h3 { font-size: 1.05em; margin: 1.4em 0 .4em; }
dl { display: grid; grid-template-columns: max-content auto; gap: .1em 1em; }
dt { font-weight: 600; }
dd { margin: 0; }
table { border-collapse: collapse; margin: .3em 0 .6em; font-size: 13px; }
th, td { border: 1px solid #d0d0d0; padding: .2em .5em; text-align: left; vertical-align: top; white-space: nowrap; }
th { background: #f2f2f2; font-weight: 600; }
tbody tr:nth-child(even) { background: #fafafa; }
.n { text-align: right; }
.scroll { max-width: 100%; overflow-x: auto; }
details > summary { cursor: pointer; }
summary h3 { display: inline; }
ul.toc { font-size: 13px; }
th[tabindex] { cursor: pointer; }
#filter { width: 24em; font: inherit; padding: .2em .4em; }
svg.run { display: block; width: 100%; max-width: 960px; height: 60px; border-bottom: 1px solid #c8c8c8; }
svg.run .doc { fill: #4a6a8a; }
svg.run .und { fill: #b00020; }
svg.tl { display: block; width: 160px; height: 14px; stroke: #b00020; stroke-width: 1; fill: none; border-bottom: 1px solid #c8c8c8; }
.name { font-family: ui-monospace, monospace; font-size: 12px; white-space: pre-wrap; overflow-wrap: break-word; }
.wrap { white-space: normal; }
.text { white-space: normal; min-width: 24em; }
.warn { color: #b00020; font-weight: 600; }
p.foot { color: #555; margin-top: 0; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<nav>
<ul class="toc">
{{- range .Top}}
<li><a href="#{{.ID}}">{{.Title}}</a></li>
{{- end}}
{{- range .Editions}}
<li>{{.Title}}<ul>
{{- range .Parts}}
<li><a href="#{{.ID}}">{{.Title}}</a></li>
{{- end}}
</ul></li>
{{- end}}
{{- range .Tail}}
<li><a href="#{{.ID}}">{{.Title}}</a></li>
{{- end}}
</ul>
</nav>
{{- range .Warnings}}
<p class="warn">Warning: {{.}}</p>
{{- end}}
<dl>
{{- range .Run}}
<dt>{{.K}}</dt><dd>{{.V}}</dd>
{{- end}}
</dl>
<p><input type="search" id="filter" placeholder="Filter every table's rows" aria-label="filter rows" hidden></p>
{{- range .Top}}{{template "section" .}}{{end}}
{{- range .Editions}}
<section>
<h2>{{.Title}}</h2>
{{- range .Parts}}{{template "part" .}}{{end}}
</section>
{{- end}}
{{- range .Tail}}{{template "section" .}}{{end}}
<script>{{.Script}}</script>
</body>
</html>
{{define "section"}}
<section id="{{.ID}}">
<h2>{{.Title}}</h2>
{{- with .Note}}
<p>{{.}}</p>
{{- end}}
{{- with .Table}}{{template "table" .}}{{end}}
{{- with .Items}}
<ul>
{{- range .}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- end}}
</section>
{{- end -}}
{{define "part"}}
<details open id="{{.ID}}">
<summary><h3>{{.Title}}</h3></summary>
{{- with .SVG}}
{{.}}
{{- end}}
{{- with .Note}}
<p>{{.}}</p>
{{- end}}
{{- with .Table}}{{template "table" .}}{{end}}
{{- with .Foot}}
<p class="foot">{{.}}</p>
{{- end}}
</details>
{{- end}}
{{define "table"}}
<div class="scroll"><table class="sort">
<thead><tr>{{range .Head}}<th{{if .Num}} class="n"{{end}}>{{.Name}}</th>{{end}}</tr></thead>
<tbody>{{.Body}}
</tbody>
</table></div>
{{- end}}
`

// editionChart is the edition's flows in time: each flow start its
// documented names and its undocumented names kept, once each (a start
// several patterns share counts once). The starts are those classify keeps:
// the first classify.MaxStarts of each name.
func editionChart(rep *Report, ed Edition) htmlPart {
	var doc, und []int64
	sampled := false
	for _, s := range ed.DocumentedSeen {
		doc = append(doc, s.Starts...)
		sampled = sampled || (s.Rhythm != nil && s.Rhythm.Sampled)
	}
	slices.Sort(doc)
	doc = slices.Compact(doc)
	for _, u := range ed.Undocumented {
		und = append(und, u.Starts...)
		sampled = sampled || (u.Rhythm != nil && u.Rhythm.Sampled)
	}
	note := "flows started per hour across the capture: documented names below (blue), undocumented above (red)"
	if sampled {
		note += "; for a name of many flows, its first " + strconv.Itoa(classify.MaxStarts)
	}
	return htmlPart{Title: "Flows over time", Note: note, SVG: runChartSVG(rep.First, rep.Last, doc, und)}
}
