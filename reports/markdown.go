package reports

import (
	"io"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/phonehome/phonehome/catalog"
)

// Markdown writes the report as CommonMark with GitHub tables: a heading
// and a list for the run, a heading per edition with a table per list, then
// unattributed addresses, excluded traffic, bounds reached and damage. The
// order, sizes and times are those of the text report.
//
// Every value written from the report (names, patterns, paths, files,
// descriptions) goes through MarkdownText, so a name can never end a table
// row, start a new line, open a link or an autolink, start a code span,
// emphasis or raw HTML, or make a heading.
func Markdown(w io.Writer, rep *Report) error {
	ew := &errWriter{w: w}
	p := ew.printf
	m := MarkdownText
	p("# phonehome: capture held against %s connection endpoints\n\n", m(catalog.BuildTitle(rep.Build)))
	if rep.NothingInScope != "" {
		p("WARNING: %s\n\n", m(rep.NothingInScope))
	}
	if rep.CatalogFile != "" {
		p("- catalog: %s (a user catalog)\n", m(rep.CatalogFile))
	}
	for _, f := range rep.Files {
		p("- capture: %s\n", m(f))
	}
	for _, cs := range rep.CaptureSessions {
		p("- live: %s\n", sessionLine(cs, m))
	}
	for _, w := range rep.CaptureWarnings {
		p("- WARNING: %s\n", m(w))
	}
	if !rep.First.IsZero() {
		p("- span: %s to %s UTC (%s)\n", rep.First.UTC().Format("2006-"+timeLayout), rep.Last.UTC().Format("2006-"+timeLayout),
			span(rep.Last.Sub(rep.First)))
	}
	if rep.VM != "" {
		p("- VM: %s (%s; it started %s)\n", m(rep.VM), m(rep.VMHow), count(rep.VMFlows, "flow"))
	} else {
		p("- VM: none (%s)\n", m(rep.VMHow))
	}
	t := rep.Totals
	p("- read: %s, %s%s\n", count(t.Packets, "packet"), humanize.Bytes(t.Bytes), duplicatesNote(t))
	p("- in scope: %s to public IPv4 addresses started by the VM, %s, %s\n",
		count(t.FlowsInScope, "flow"), count(t.PacketsInScope, "packet"), humanize.Bytes(t.BytesInScope))
	if x := excludedSummary(rep); x != "" {
		p("- excluded: %s\n", m(x))
	}
	if n := noPage(rep); n != "" {
		p("- no page: %s\n", m(n))
	}
	mdTruncation(ew, rep)

	for _, ed := range rep.Editions {
		p("\n## %s: %s\n", m(EditionTitle(ed.Edition)), m(ed.Headline()))
		p("\n### Seen and not documented (%s)\n", count(len(ed.Undocumented), "name"))
		if len(ed.Undocumented) > 0 {
			tab := ew.mdTable("domain", "name", "flows:", "out:", "in:", "first", "last", "seen", "by", "rhythm", "first packet")
			last := ""
			for _, u := range ed.Undocumented {
				dom := ""
				if u.RegistrableDomain != last {
					dom, last = u.RegistrableDomain, u.RegistrableDomain
				}
				tab.row(m(dom), m(u.Name), humanize.Comma(int64(u.Flows)), humanize.Bytes(u.BytesOut), humanize.Bytes(u.BytesIn),
					rep.stamp(u.First), rep.stamp(u.Last), m(strings.Join(u.Protocols, ", ")), evidence(u.Evidence), u.Rhythm.RhythmWords(), m(firstPacket(u.FirstEvidence)))
			}
			mdPageForm(ew, rep, ed)
		}
		p("\n### Documented and seen (%d)\n", len(ed.DocumentedSeen))
		if len(ed.DocumentedSeen) > 0 {
			tab := ew.mdTable("pattern", "names", "flows:", "out:", "in:", "first", "last", "by", "seen", "documented", "first packet")
			for _, s := range ed.DocumentedSeen {
				for i, n := range seenNames(s, m) {
					if i > 0 {
						tab.row("", n, "", "", "", "", "", "", "", "", "")
						continue
					}
					seen := m(strings.Join(s.ProtocolsSeen, ", "))
					if len(s.ProtocolsNotDocumented) > 0 {
						seen += ` \[!\]`
					}
					tab.row(m(s.Pattern), n, humanize.Comma(int64(s.Flows)), humanize.Bytes(s.BytesOut), humanize.Bytes(s.BytesIn),
						rep.stamp(s.First), rep.stamp(s.Last), evidence(s.Evidence), seen, m(strings.Join(s.ProtocolsDocumented, ", ")),
						m(firstPacket(s.FirstEvidence)))
				}
			}
			if anyMismatch(ed.DocumentedSeen) {
				p("\n\\[!\\] a protocol was seen that the page does not document for the pattern\n")
			}
		}
		p("\n### Documented and not seen (%d)\n", len(ed.DocumentedNotSeen))
		if len(ed.DocumentedNotSeen) > 0 {
			tab := ew.mdTable("pattern", "documented", "description")
			for _, s := range ed.DocumentedNotSeen {
				tab.row(m(s.Pattern), m(strings.Join(s.ProtocolsDocumented, ", ")), m(s.Description))
			}
		}
		mdAmbiguous(ew, rep, ed.Ambiguous)
		mdAreas(ew, ed.Areas)
	}

	if len(rep.Editions) > 0 {
		un := rep.Editions[0].Unattributed
		p("\n## Unattributed addresses, all editions (%d)\n\nNo SNI, no HTTP Host, no DNS answer before the flow.\n", len(un))
		if len(un) > 0 {
			tab := ew.mdTable("address", "flows:", "out:", "in:", "first", "last", "ports")
			for _, u := range un {
				tab.row(m(u.Address), humanize.Comma(int64(u.Flows)), humanize.Bytes(u.BytesOut), humanize.Bytes(u.BytesIn),
					rep.stamp(u.First), rep.stamp(u.Last), m(strings.Join(u.Ports, " ")))
			}
		}
	}

	p("\n## Excluded traffic (%s)\n", count(len(rep.Excluded), "reason"))
	if len(rep.Excluded) > 0 {
		tab := ew.mdTable("reason", "flows:", "packets:", "bytes:")
		for _, e := range rep.Excluded {
			flows := humanize.Comma(int64(e.Flows))
			if e.Flows == 0 {
				flows = "-"
			}
			tab.row(m(e.Reason), flows, humanize.Comma(int64(e.Packets)), humanize.Bytes(e.Bytes))
		}
	}
	if len(rep.Unsupported) > 0 || rep.UnrequestedNote() != "" {
		p("\n")
		for _, u := range rep.Unsupported {
			p("- unsupported link type %s: %s not decoded\n", m(u.Name), count(u.Frames, "frame"))
		}
		if note := rep.UnrequestedNote(); note != "" {
			p("- %s\n", m(note))
		}
	}
	if len(rep.Anomalies) > 0 {
		p("\n## %s\n\n", anomaliesTitle)
		for _, a := range rep.Anomalies {
			p("- %s\n", anomalyLine(a, m))
		}
	}
	if len(rep.Bounds) > 0 {
		p("\n## Bounds reached (the result may be incomplete)\n\n")
		for _, b := range rep.Bounds {
			p("- %s (limit %s): %s\n", m(b.What), humanize.Comma(int64(b.Limit)), count(b.Times, "time"))
		}
	}
	if len(rep.Damage) > 0 {
		p("\n## %s\n\n", damageTitle)
		for _, d := range rep.Damage {
			p("- %s %s: %s\n", m(d.File), d.Where(), m(d.Reason))
		}
	}
	if quiet := quietInputs(rep); len(quiet) > 0 {
		p("\n## %s\n\n", quietTitle)
		for _, q := range quiet {
			p("- %s %s\n", m(q[0]), m(q[1]))
		}
	}
	return ew.err
}

// MarkdownText escapes s for any place in a Markdown line, a table cell
// included. First it is escaped as by Terminal: control characters (line
// breaks too), invalid UTF-8 and format characters such as bidi overrides
// become Go escapes (\x0a, \u202e), so s stays on its line. Then every ASCII
// character that CommonMark or GitHub give a meaning to gets a backslash:
//
//	\  backslash escapes            |  table cells
//	`  code spans                   *  _  ~  emphasis, strikethrough
//	[  ]  !  links and images       <  >  autolinks, raw HTML, block quotes
//	&  entities                     #  headings
//	@  e-mail autolinks             $  math
//
// and, against GitHub's URL autolinks, a ':' before "//" and the dot of a
// leading "www.". A backslash that
// Terminal wrote before an escape is itself escaped, so \x1b is shown, not
// acted on; an input backslash, which Terminal doubles, is shown as \\, as in
// the text report.
func MarkdownText(s string) string {
	s = Terminal(s)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strings.IndexByte("\\|`*_~[]!<>&#@$", c) >= 0 ||
			(c == ':' && strings.HasPrefix(s[i+1:], "//")) ||
			(c == '.' && i >= 3 && strings.EqualFold(s[i-3:i], "www") && (i == 3 || !isWordByte(s[i-4]))) {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

// mdTable writes a GitHub table's header at once and its rows as they come.
// A header ending in ':' is a right-aligned column.
type mdTable struct {
	e *errWriter
	n int
}

func (e *errWriter) mdTable(header ...string) *mdTable {
	var names, align []string
	for _, h := range header {
		if strings.HasSuffix(h, ":") {
			names = append(names, strings.TrimSuffix(h, ":"))
			align = append(align, "---:")
		} else {
			names = append(names, h)
			align = append(align, "---")
		}
	}
	e.printf("\n| %s |\n| %s |\n", strings.Join(names, " | "), strings.Join(align, " | "))
	return &mdTable{e: e, n: len(header)}
}

// row writes one row; cells must already be escaped.
func (t *mdTable) row(cells ...string) {
	if len(cells) != t.n {
		panic("reports: markdown row has the wrong number of cells")
	}
	t.e.printf("| %s |\n", strings.Join(cells, " | "))
}

// mdPageForm writes the edition's undocumented names again in the table form
// of Microsoft's pages (Destination | Protocol | Description), ready to paste
// into a ticket or a report to the vendor: the description says what was
// seen.
func mdPageForm(ew *errWriter, rep *Report, ed Edition) {
	m := MarkdownText
	page := catalog.BuildTitle(rep.Build) + " " + EditionTitle(ed.Edition)
	ew.printf("\nThe same names in the pages' own table form, to paste into a ticket or a report to the vendor:\n")
	tab := ew.mdTable("Destination", "Protocol", "Description")
	const when = "2006-01-02 15:04:05 UTC"
	for _, u := range ed.Undocumented {
		seen := "once, at " + u.First.UTC().Format(when)
		if u.Flows > 1 {
			seen = count(u.Flows, "time") + ", from " + u.First.UTC().Format(when) + " to " + u.Last.UTC().Format(when)
		}
		desc := "Not documented for " + page + ". Contacted " + seen + " (named by " + evidence(u.Evidence) + ")."
		tab.row(m(u.Name), m(strings.Join(u.Protocols, ", ")), m(desc))
	}
}
