package reports

import (
	"encoding/json"
	"html/template"
	"io"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/phonehome/phonehome/catalog"
)

// The regression renderers draw a Regression as the run report's renderers
// draw a Report: sorted, times from the runs, every name escaped for where
// it lands (Terminal, MarkdownText, html/template over Terminal).

// RegressionJSON writes the regression report as one indented JSON document
// (RegressionSchemaVersion).
func RegressionJSON(w io.Writer, reg *Regression) error {
	b, err := json.MarshalIndent(reg, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(safeJSON(b), '\n'))
	return err
}

// regressionView is the regression report as titled sections of rows, the
// one layout the text, Markdown and HTML renderers share; every string in it
// is raw, escaped by the renderer.
type regressionView struct {
	Title    string
	Header   [][2]string
	Sections []regressionSection
}

type regressionSection struct {
	Title string
	Sub   bool // a part of the changes, under their heading
	Note  string
	Head  []string // a header ending in ':' is a number
	Rows  [][]string
	Lines []string // shown as a list when there is no table
}

// whyText says what a Move's Why means.
func whyText(m Move) string {
	switch m.Why {
	case WhyPage:
		return "page: the pattern is on one run's page only"
	case WhyTraffic:
		return "traffic: the pattern is on both pages; the name's paths matched it in one run only"
	}
	return m.Why
}

func runTitle(i int) string { return "run " + strconv.Itoa(i+1) }

func stampOf(reg *Regression, i int) string {
	r := reg.Runs[i]
	if r.First.IsZero() {
		return "no packet"
	}
	return r.First.UTC().Format("2006-"+timeLayout) + " to " + r.Last.UTC().Format("2006-"+timeLayout) + " UTC (" + span(r.Last.Sub(r.First)) + ")"
}

func perDay(x float64) string {
	if x >= 100 {
		return humanize.Comma(int64(x + 0.5))
	}
	return strconv.FormatFloat(x, 'f', 1, 64)
}

func ratio(x float64) string {
	if x == 0 {
		return "-"
	}
	return "x" + strconv.FormatFloat(x, 'f', 2, 64)
}

func viewOf(reg *Regression) regressionView {
	v := regressionView{Title: "phonehome: regression report, " + strconv.Itoa(len(reg.Runs)) + " runs, each held against its own page"}
	for i, r := range reg.Runs {
		page := catalog.BuildTitle(r.Build) + " " + EditionTitle(r.Edition) + " (" + r.LabelFrom + ")"
		line := r.Name + ": " + page + "; " + stampOf(reg, i) + "; " + count(r.Flows, "flow") + ", " +
			count(r.Seen, "endpoint") + " contacted; " + strconv.Itoa(r.DocumentedSeen) + " of " + count(r.Documented, "documented pattern") +
			" seen; " + count(r.Undocumented, "name") + " not documented"
		if r.Damaged {
			line += "; DAMAGED input: see its own report"
		}
		v.Header = append(v.Header, [2]string{runTitle(i), line})
	}
	if reg.FoldNumbered != "" {
		v.Header = append(v.Header, [2]string{"folded", reg.FoldNumbered})
	}
	v.Header = append(v.Header, [2]string{"traffic", "changes of x" + strconv.FormatFloat(reg.Thresholds.Ratio, 'f', -1, 64) +
		" or more per day, over at least " + count(reg.Thresholds.MinFlows, "flow")})

	c := &reg.Changes
	from, to := runTitle(c.From), runTitle(c.To)
	head := "Changes from " + from + " to " + to
	if c.Empty() {
		v.Sections = append(v.Sections, regressionSection{Title: head + ": none", Note: "The two runs contacted the same endpoints, in the same way, against the same page."})
	} else {
		v.Sections = append(v.Sections, regressionSection{Title: head})
	}
	first := len(v.Sections)
	ends := func(title string, list []EndpointChange, run string) {
		if len(list) == 0 {
			return
		}
		s := regressionSection{Title: title + " (" + strconv.Itoa(len(list)) + ")",
			Head: []string{"endpoint", run + " page", "flows:", "bytes:", "seen", "names"}}
		for _, e := range list {
			doc := "not documented"
			if e.Documented {
				doc = "documented: " + strings.Join(e.Patterns, ", ")
			}
			s.Rows = append(s.Rows, []string{e.Key, doc, humanize.Comma(int64(e.Flows)), humanize.Bytes(e.Bytes),
				strings.Join(e.Protocols, ", "), strings.Join(e.Names, " ")})
		}
		v.Sections = append(v.Sections, s)
	}
	ends("New: contacted in "+to+", not in "+from, c.New, to)
	ends("Gone: contacted in "+from+", not in "+to, c.Gone, from)
	pats := func(title string, list []string) {
		if len(list) > 0 {
			v.Sections = append(v.Sections, regressionSection{Title: title + " (" + strconv.Itoa(len(list)) + ")", Lines: list})
		}
	}
	pats("Documented on both pages, seen in "+to+" and not in "+from, c.NowSeen)
	pats("Documented on both pages, seen in "+from+" and not in "+to, c.NoLongerSeen)
	if len(c.Moved) > 0 {
		s := regressionSection{Title: "Moved between documented and undocumented (" + strconv.Itoa(len(c.Moved)) + ")",
			Note: "Contacted in both runs; documented for one and not the other.",
			Head: []string{"endpoint", from, to, "why", "patterns"}}
		for _, m := range c.Moved {
			s.Rows = append(s.Rows, []string{m.Key, m.From, m.To, whyText(m), strings.Join(m.Patterns, ", ")})
		}
		v.Sections = append(v.Sections, s)
	}
	if len(c.Protocols) > 0 {
		s := regressionSection{Title: "Protocols changed (" + strconv.Itoa(len(c.Protocols)) + ")",
			Head: []string{"endpoint", from, to, "added", "gone"}}
		for _, p := range c.Protocols {
			s.Rows = append(s.Rows, []string{p.Key, strings.Join(p.From, ", "), strings.Join(p.To, ", "),
				strings.Join(p.Added, ", "), strings.Join(p.Removed, ", ")})
		}
		v.Sections = append(v.Sections, s)
	}
	if len(c.Traffic) > 0 {
		s := regressionSection{Title: "Traffic changed (" + strconv.Itoa(len(c.Traffic)) + ")",
			Note: "Per day of each run's span.",
			Head: []string{"endpoint", "flows " + from + ":", "flows " + to + ":", "flows/day " + from + ":", "flows/day " + to + ":", "flows:",
				"bytes/day " + from + ":", "bytes/day " + to + ":", "bytes:"}}
		for _, t := range c.Traffic {
			s.Rows = append(s.Rows, []string{t.Key, humanize.Comma(int64(t.FlowsFrom)), humanize.Comma(int64(t.FlowsTo)),
				perDay(t.FlowsPerDay[0]), perDay(t.FlowsPerDay[1]), ratio(t.FlowsRatio),
				humanize.Bytes(uint64(t.BytesPerDay[0])), humanize.Bytes(uint64(t.BytesPerDay[1])), ratio(t.BytesRatio)})
		}
		v.Sections = append(v.Sections, s)
	}
	if len(c.Page.Added) > 0 || len(c.Page.Removed) > 0 {
		s := regressionSection{Title: "Page changes from " + c.Page.FromPage + " to " + c.Page.ToPage + " (" +
			strconv.Itoa(len(c.Page.Added)) + " added, " + strconv.Itoa(len(c.Page.Removed)) + " removed)"}
		for _, k := range c.Page.Added {
			s.Lines = append(s.Lines, "+ "+k)
		}
		for _, k := range c.Page.Removed {
			s.Lines = append(s.Lines, "- "+k)
		}
		v.Sections = append(v.Sections, s)
	}
	for i := first; i < len(v.Sections); i++ {
		v.Sections[i].Sub = true
	}
	if len(reg.Matrix) > 0 {
		changed := 0
		for _, r := range reg.Matrix {
			if r.Changed {
				changed++
			}
		}
		s := regressionSection{Title: "Every endpoint in every run (" + strconv.Itoa(len(reg.Matrix)) + ", " + strconv.Itoa(changed) + " changed)",
			Note: "seen: contacted, not documented; documented: on the run's page, not contacted; both. Changed rows first, by the first run that contacted them."}
		s.Head = []string{"endpoint"}
		for i := range reg.Runs {
			s.Head = append(s.Head, runTitle(i))
		}
		s.Head = append(s.Head, "first seen", "changed")
		for _, r := range reg.Matrix {
			row := []string{r.Key}
			for _, st := range r.States {
				if st == StateNone {
					st = "-"
				}
				row = append(row, st)
			}
			first := "-"
			if r.FirstSeen >= 0 {
				first = runTitle(r.FirstSeen)
			}
			ch := ""
			if r.Changed {
				ch = "*"
			}
			row = append(row, first, ch)
			s.Rows = append(s.Rows, row)
		}
		v.Sections = append(v.Sections, s)
	}
	return v
}

// RegressionText writes the regression report for a terminal.
func RegressionText(w io.Writer, reg *Regression) error {
	v := viewOf(reg)
	tw := &errWriter{w: w}
	p := tw.printf
	p("%s\n", v.Title)
	for _, h := range v.Header {
		p("  %-8s %s\n", h[0], T(h[1]))
	}
	for _, s := range v.Sections {
		p("\n%s\n", T(s.Title))
		if s.Note != "" {
			p("  %s\n", T(s.Note))
		}
		if len(s.Head) > 0 {
			head := make([]string, len(s.Head))
			for i, h := range s.Head {
				head[i] = strings.ToUpper(strings.TrimSuffix(h, ":"))
			}
			t := tw.table(strings.Join(head, "\t"))
			for _, r := range s.Rows {
				cells := make([]string, len(r))
				for i, c := range r {
					cells[i] = T(c)
				}
				t.row(cells...)
			}
			t.flush()
		}
		for _, l := range s.Lines {
			p("  %s\n", T(l))
		}
	}
	return tw.err
}

// RegressionMarkdown writes the regression report as GitHub Markdown, to
// paste into a ticket.
func RegressionMarkdown(w io.Writer, reg *Regression) error {
	v := viewOf(reg)
	ew := &errWriter{w: w}
	p := ew.printf
	p("# %s\n\n", MarkdownText(v.Title))
	for _, h := range v.Header {
		p("- %s: %s\n", MarkdownText(h[0]), MarkdownText(h[1]))
	}
	for _, s := range v.Sections {
		level := "##"
		if s.Sub {
			level = "###"
		}
		p("\n%s %s\n", level, MarkdownText(s.Title))
		if s.Note != "" {
			p("\n%s\n", MarkdownText(s.Note))
		}
		if len(s.Head) > 0 {
			head := make([]string, len(s.Head))
			for i, h := range s.Head {
				head[i] = MarkdownText(strings.TrimSuffix(h, ":"))
				if strings.HasSuffix(h, ":") {
					head[i] += ":"
				}
			}
			t := ew.mdTable(head...)
			for _, r := range s.Rows {
				cells := make([]string, len(r))
				for i, c := range r {
					cells[i] = MarkdownText(c)
				}
				t.row(cells...)
			}
		}
		if len(s.Lines) > 0 {
			p("\n")
			for _, l := range s.Lines {
				l = MarkdownText(l)
				if strings.HasPrefix(l, "+") || strings.HasPrefix(l, "-") {
					l = "\\" + l // not a nested list item
				}
				p("- %s\n", l)
			}
		}
	}
	return ew.err
}

// RegressionHTML writes the regression report as one self-contained HTML
// page, under the run report's rules (HTML): nothing loaded, a table of
// contents, the one script of no data (sorting, filtering) allowed by its
// hash, the same Content-Security-Policy; every value escaped by Terminal,
// then by html/template for its context.
func RegressionHTML(w io.Writer, reg *Regression) error {
	v := viewOf(reg)
	d := htmlDoc{Title: T(v.Title)}
	for _, h := range v.Header {
		d.Run = append(d.Run, htmlItem{K: T(h[0]), V: T(h[1])})
	}
	for _, s := range v.Sections {
		part := htmlPart{Title: T(s.Title), Note: T(s.Note)}
		if len(s.Head) > 0 {
			part.Table = htmlTableOf(s.Head...)
			for _, r := range s.Rows {
				cells := make([]htmlCell, len(r))
				for i, c := range r {
					switch {
					case i == 0:
						cells[i] = nameCell(c)
					case strings.HasSuffix(s.Head[i], ":"):
						cells[i] = num(T(c))
					default:
						cells[i] = wrap(c)
					}
				}
				part.Table.add(cells...)
			}
		}
		for _, l := range s.Lines {
			part.Items = append(part.Items, T(l))
		}
		d.Tail = append(d.Tail, part)
	}
	d.number()
	page := template.Must(template.New("page").Parse(htmlPage))
	return page.Execute(w, d)
}
