package reports

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dustin/go-humanize"

	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
)

// timeLayout is used for every time in the text, Markdown and HTML reports;
// the header gives the year and says UTC. A capture that spans more than one
// calendar year gives every time with its year (Report.stamp).
const timeLayout = "01-02 15:04:05"

// TextOptions are what the text report knows of the terminal it goes to.
type TextOptions struct {
	// Width, when above 0, is the terminal's width: prose (descriptions)
	// is cut with an ellipsis so a table's lines fit it. Names are never
	// cut: a line whose names are wider stays wider. 0: prose is cut at 70
	// characters, whatever the width.
	Width int
	// Color marks headings, undocumented names, protocols the page does
	// not document and warnings with ANSI colours. The text is the same
	// with or without.
	Color bool
}

// Text writes the report for a terminal: a header, one section per edition,
// then unattributed addresses, excluded traffic, bounds reached and damage.
func Text(w io.Writer, rep *Report) error { return TextWith(w, rep, TextOptions{}) }

// ANSI styles of the text report (TextOptions.Color).
const (
	styleHeading = "1"    // bold
	styleWarn    = "1;31" // bold red
	styleNew     = "33"   // yellow: a name the page does not document
)

// TextWith is Text for a terminal of opt's width and colours.
func TextWith(w io.Writer, rep *Report, opt TextOptions) error {
	tw := &errWriter{w: w, width: opt.Width, color: opt.Color}
	p := tw.printf
	p("phonehome: capture held against %s connection endpoints\n", T(catalog.BuildTitle(rep.Build)))
	if rep.CatalogFile != "" {
		p("  catalog  %s (a user catalog)\n", T(rep.CatalogFile))
	}
	if rep.NothingInScope != "" {
		p("  %s  %s\n", tw.style(styleWarn, "WARNING"), T(rep.NothingInScope))
	}
	for _, f := range rep.Files {
		p("  capture  %s\n", T(f))
	}
	for _, cs := range rep.CaptureSessions {
		p("  live     %s\n", sessionLine(cs, T))
	}
	for _, w := range rep.CaptureWarnings {
		p("  %s  %s\n", tw.style(styleWarn, "WARNING"), T(w))
	}
	if !rep.First.IsZero() {
		p("  span     %s to %s UTC (%s)\n", rep.First.UTC().Format("2006-"+timeLayout), rep.Last.UTC().Format("2006-"+timeLayout),
			span(rep.Last.Sub(rep.First)))
	}
	if rep.VM != "" {
		p("  VM       %s (%s; it started %s)\n", rep.VM, T(rep.VMHow), count(rep.VMFlows, "flow"))
	} else {
		p("  VM       none (%s)\n", T(rep.VMHow))
	}
	t := rep.Totals
	p("  read     %s, %s%s\n", count(t.Packets, "packet"), humanize.Bytes(t.Bytes), duplicatesNote(t))
	p("  in scope %s to public IPv4 addresses started by the VM, %s, %s\n",
		count(t.FlowsInScope, "flow"), count(t.PacketsInScope, "packet"), humanize.Bytes(t.BytesInScope))
	if x := excludedSummary(rep); x != "" {
		p("  excluded %s\n", T(x))
	}
	if n := noPage(rep); n != "" {
		p("  no page  %s\n", T(n))
	}
	textTruncation(tw, rep)

	for _, ed := range rep.Editions {
		p("\n%s\n", tw.style(styleHeading, "== "+EditionTitle(ed.Edition)+": "+ed.Headline()+" =="))
		p("\n%s\n", tw.style(styleHeading, "Seen and not documented ("+count(len(ed.Undocumented), "name")+")"))
		if len(ed.Undocumented) > 0 {
			tab := tw.table("DOMAIN	NAME	FLOWS	OUT	IN	FIRST	LAST	SEEN	BY	RHYTHM	FIRST PACKET")
			tab.rowStyle = styleNew
			last := ""
			for _, u := range ed.Undocumented {
				dom := ""
				if u.RegistrableDomain != last {
					dom, last = u.RegistrableDomain, u.RegistrableDomain
				}
				tab.row(T(dom), T(u.Name), humanize.Comma(int64(u.Flows)), humanize.Bytes(u.BytesOut), humanize.Bytes(u.BytesIn),
					rep.stamp(u.First), rep.stamp(u.Last), T(strings.Join(u.Protocols, ", ")), evidence(u.Evidence), u.Rhythm.RhythmWords(), T(firstPacket(u.FirstEvidence)))
			}
			tab.flush()
		}
		p("\n%s\n", tw.style(styleHeading, "Documented and seen ("+strconv.Itoa(len(ed.DocumentedSeen))+")"))
		if len(ed.DocumentedSeen) > 0 {
			tab := tw.table("PATTERN\tNAMES\tFLOWS\tOUT\tIN\tFIRST\tLAST\tBY\tSEEN\tDOCUMENTED\tFIRST PACKET")
			for _, s := range ed.DocumentedSeen {
				for i, n := range seenNames(s, T) {
					if i == 0 {
						seen := T(strings.Join(s.ProtocolsSeen, ", "))
						if len(s.ProtocolsNotDocumented) > 0 {
							seen += " " + tw.style(styleWarn, "[!]")
						}
						tab.row(T(s.Pattern), n, humanize.Comma(int64(s.Flows)), humanize.Bytes(s.BytesOut), humanize.Bytes(s.BytesIn),
							rep.stamp(s.First), rep.stamp(s.Last), evidence(s.Evidence), seen, strings.Join(s.ProtocolsDocumented, ", "),
							T(firstPacket(s.FirstEvidence)))
						continue
					}
					// Every cell, even empty: a row has every column.
					tab.row("", n, "", "", "", "", "", "", "", "", "")
				}
			}
			tab.flush()
			if anyMismatch(ed.DocumentedSeen) {
				p("  [!] a protocol was seen that the page does not document for the pattern\n")
			}
		}
		p("\n%s\n", tw.style(styleHeading, "Documented and not seen ("+strconv.Itoa(len(ed.DocumentedNotSeen))+")"))
		if len(ed.DocumentedNotSeen) > 0 {
			tab := tw.table("PATTERN\tDOCUMENTED\tDESCRIPTION")
			tab.prose = true
			for _, s := range ed.DocumentedNotSeen {
				tab.row(T(s.Pattern), strings.Join(s.ProtocolsDocumented, ", "), T(s.Description))
			}
			tab.flush()
		}
		textAmbiguous(tw, rep, ed.Ambiguous)
		textAreas(tw, ed.Areas)
	}

	if len(rep.Editions) > 0 {
		un := rep.Editions[0].Unattributed
		p("\nUnattributed addresses, all editions (%d): no SNI, no HTTP Host, no DNS answer before the flow\n", len(un))
		if len(un) > 0 {
			tab := tw.table("ADDRESS\tFLOWS\tOUT\tIN\tFIRST\tLAST\tPORTS")
			for _, u := range un {
				tab.row(u.Address, humanize.Comma(int64(u.Flows)), humanize.Bytes(u.BytesOut), humanize.Bytes(u.BytesIn),
					rep.stamp(u.First), rep.stamp(u.Last), T(strings.Join(u.Ports, " ")))
			}
			tab.flush()
		}
	}

	p("\nExcluded traffic (%s)\n", count(len(rep.Excluded), "reason"))
	if len(rep.Excluded) > 0 {
		tab := tw.table("REASON\tFLOWS\tPACKETS\tBYTES")
		for _, e := range rep.Excluded {
			flows := humanize.Comma(int64(e.Flows))
			if e.Flows == 0 {
				flows = "-"
			}
			tab.row(T(e.Reason), flows, humanize.Comma(int64(e.Packets)), humanize.Bytes(e.Bytes))
		}
		tab.flush()
	}
	for _, u := range rep.Unsupported {
		p("  unsupported link type %s: %s not decoded\n", T(u.Name), count(u.Frames, "frame"))
	}
	if note := rep.UnrequestedNote(); note != "" {
		p("  %s\n", note)
	}
	if len(rep.Anomalies) > 0 {
		p("\n%s\n", anomaliesTitle)
		for _, a := range rep.Anomalies {
			p("  %s\n", anomalyLine(a, T))
		}
	}
	if len(rep.Bounds) > 0 {
		p("\nBounds reached (the result may be incomplete)\n")
		for _, b := range rep.Bounds {
			limit := ""
			if b.Limit > 0 {
				limit = " (limit " + humanize.Comma(int64(b.Limit)) + ")"
			}
			p("  %s%s: %s\n", T(b.What), limit, count(b.Times, "time"))
		}
	}
	if len(rep.Damage) > 0 {
		p("\n%s\n", damageTitle)
		for _, d := range rep.Damage {
			p("  %s %s: %s\n", T(d.File), d.Where(), T(d.Reason))
		}
	}
	if quiet := quietInputs(rep); len(quiet) > 0 {
		p("\n%s\n", quietTitle)
		for _, q := range quiet {
			p("  %s %s\n", T(q[0]), T(q[1]))
		}
	}
	return tw.err
}

// quietTitle heads the list of inputs that gave no packet without being
// damaged, in every report.
const quietTitle = "Inputs without packets (files in a directory that are not captures; empty inputs)"

// quietInputs returns the inputs skipped in a directory or empty, in input
// order: each name and what happened to it.
func quietInputs(rep *Report) [][2]string {
	var out [][2]string
	for _, in := range rep.Inputs {
		switch {
		case in.Skipped != "":
			out = append(out, [2]string{in.Name, "skipped: " + in.Skipped})
		case in.Empty:
			out = append(out, [2]string{in.Name, "empty: it holds no packet"})
		}
	}
	return out
}

// duplicatesNote ends the "read" line of every report: the packets dropped
// because another input gave them too, or "" when none were.
func duplicatesNote(t Totals) string {
	if t.DuplicatesDropped == 0 {
		return ""
	}
	return "; " + count(t.DuplicatesDropped, "duplicate packet") + " dropped (the same time and bytes in another input)"
}

// damageTitle heads the list of damaged inputs in every report. Each line
// says what its damage did (capture.Damage.Where): reading of the input
// stopped there, went on past bad records, or never started.
const damageTitle = "Damaged input (read up to where it stopped, or read on where it says so; inputs not read were left out)"

// anomaliesTitle heads the list of anomalies in every report.
const anomaliesTitle = "Anomalies: names or paths in doubt (flows in scope or not; --flows marks each)"

// anomalyLine says what one anomaly kind is and how many flows had it, with
// their names escaped by esc.
func anomalyLine(a classify.Anomaly, esc func(string) string) string {
	line := esc(a.Kind) + ", " + count(a.Flows, "flow") + ": " + esc(a.What)
	if len(a.Names) > 0 {
		names := make([]string, len(a.Names))
		for i, n := range a.Names {
			names[i] = esc(n)
		}
		line += " (names: " + strings.Join(names, ", ") + ")"
	}
	return line
}

// T escapes a string from a packet or a file for the terminal.
func T(s string) string { return Terminal(s) }

// EditionTitle is an edition as the pages write it ("pro" is "Pro"); a
// name it does not know, as it is.
func EditionTitle(e string) string {
	switch e {
	case "home":
		return "Home"
	case "pro":
		return "Pro"
	case "education":
		return "Education"
	case "enterprise":
		return "Enterprise"
	}
	return e
}

// noPage says which editions asked for the build has no page for, or is
// empty when it has a page for each.
func noPage(rep *Report) string {
	if len(rep.EditionsWithoutPage) == 0 {
		return ""
	}
	titles := make([]string, len(rep.EditionsWithoutPage))
	for i, e := range rep.EditionsWithoutPage {
		titles[i] = EditionTitle(e)
	}
	return catalog.BuildTitle(rep.Build) + " has no page for " + strings.Join(titles, ", ") + ": not reported"
}

// stamp formats a time of the report in UTC: month, day and time, or with
// the year too when the capture's first and last packets are in different
// years (12-31 and 01-01 would read as one day's end and its start).
func (rep *Report) stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if rep.First.UTC().Year() != rep.Last.UTC().Year() {
		return t.UTC().Format("2006-" + timeLayout)
	}
	return t.UTC().Format(timeLayout)
}

// count is n and its noun, in the plural unless n is 1: "1 flow", "2
// flows", "1,024 packets". Every noun the reports count takes an s.
func count[N int | uint64](n N, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return humanize.Comma(int64(n)) + " " + noun + "s"
}

// span formats a duration the way a person reads a capture's length.
func span(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(time.Millisecond).String()
	case d < 48*time.Hour:
		return d.Round(time.Second).String()
	}
	days := d / (24 * time.Hour)
	return fmt.Sprintf("%dd%s", days, (d - days*24*time.Hour).Round(time.Minute))
}

func evidence(m map[string]int) string {
	var parts []string
	for _, k := range []string{"sni", "http-host", "dns", "dns-ambiguous"} {
		if m[k] > 0 {
			parts = append(parts, k)
		}
	}
	return strings.Join(parts, ",")
}

func anyMismatch(list []Seen) bool {
	for _, s := range list {
		if len(s.ProtocolsNotDocumented) > 0 {
			return true
		}
	}
	return false
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// errWriter keeps the first write error so rendering code stays linear.
type errWriter struct {
	w     io.Writer
	err   error
	width int  // TextOptions.Width
	color bool // TextOptions.Color
}

// style wraps s in the ANSI style code when colour is on.
func (e *errWriter) style(code, s string) string {
	if !e.color || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// proseWidth is where prose is cut without a terminal width.
const proseWidth = 70

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// table lines up rows of cells in columns, as text/tabwriter would with
// padding 2, and writes them without trailing blanks. Every row must have the
// header's number of cells (empty ones included): tabwriter would align a
// column only over the consecutive lines that have it. Written directly: for a report of a few thousand names,
// tabwriter's cell buffering took most of the rendering time.
type table struct {
	e     *errWriter
	rows  [][]string
	width []int // widest cell of each column but the last, in runes
	// prose says the last column is prose (a description), cut to fit the
	// terminal (errWriter.width), or at proseWidth without one.
	prose bool
	// rowStyle, when colour is on, styles every row but the header.
	rowStyle string
}

func (e *errWriter) table(header string) *table {
	t := &table{e: e}
	t.row(strings.Split(header, "\t")...)
	return t
}

// row adds a line of as many cells as the header; its first cell is
// indented by two spaces.
func (t *table) row(cells ...string) {
	if t.rows != nil && len(cells) != len(t.rows[0]) {
		panic("reports: table row of " + strconv.Itoa(len(cells)) + " cells under a header of " + strconv.Itoa(len(t.rows[0])))
	}
	cells = slices.Clone(cells)
	cells[0] = "  " + cells[0]
	for len(t.width) < len(cells)-1 {
		t.width = append(t.width, 0)
	}
	for i, c := range cells[:len(cells)-1] {
		t.width[i] = max(t.width[i], visibleWidth(c))
	}
	t.rows = append(t.rows, cells)
}

// flush writes the rows, each cell but the last padded to its column's
// width and two spaces more.
func (t *table) flush() {
	var line []byte
	limit := 0 // runes of the last column, for prose
	if t.prose {
		limit = proseWidth
		if t.e.width > 0 {
			used := 0
			for _, w := range t.width {
				used += w + 2
			}
			limit = max(t.e.width-used, 16) // past the width rather than no prose at all
		}
	}
	for r, cells := range t.rows {
		line = line[:0]
		for i, c := range cells {
			if i == len(cells)-1 && limit > 0 && r > 0 {
				c = clip(c, limit)
			}
			line = append(line, c...)
			if i < len(cells)-1 {
				for range t.width[i] + 2 - visibleWidth(c) {
					line = append(line, ' ')
				}
			}
		}
		line = bytes.TrimRight(line, " ")
		switch {
		case !t.e.color:
		case r == 0:
			line = []byte(t.e.style(styleHeading, string(line)))
		case t.rowStyle != "":
			line = []byte(t.e.style(t.rowStyle, string(line)))
		}
		line = append(line, '\n')
		if t.e.err == nil {
			_, t.e.err = t.e.w.Write(line)
		}
	}
}

// visibleWidth is the runes of s a terminal shows: the report's own ANSI
// styles (TextOptions.Color) take no room. A packet's escape characters
// never reach here raw: T escapes them.
func visibleWidth(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		if s[i] < utf8.RuneSelf || utf8.RuneStart(s[i]) {
			n++
		}
	}
	return n
}

// excludedSummary is the traffic left out of the report, in a line for the
// report's head (the table at its end has the details): "752 packets, 31 kB:
// 210 not from the VM, 542 to private addresses"; "" when none was.
func excludedSummary(rep *Report) string {
	var packets, bytes uint64
	var parts []string
	for _, e := range rep.Excluded {
		packets += e.Packets
		bytes += e.Bytes
		parts = append(parts, humanize.Comma(int64(e.Packets))+" "+e.Reason)
	}
	if packets == 0 {
		return ""
	}
	return count(packets, "packet") + ", " + humanize.Bytes(bytes) + ": " + strings.Join(parts, ", ")
}

// firstPacket is where to open the packet that first named a name: "FILE
// #FRAME", as Wireshark numbers frames ("" when unknown; the file alone when
// the source did not number its frames).
func firstPacket(e *classify.EvidenceRef) string {
	switch {
	case e == nil || e.File == "":
		return ""
	case e.Frame == 0:
		return e.File
	}
	return e.File + " #" + strconv.FormatInt(e.Frame, 10)
}
