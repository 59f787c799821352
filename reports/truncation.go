package reports

import (
	"strconv"

	"github.com/dustin/go-humanize"

	"github.com/phonehome/phonehome/classify"
)

// truncationTitle heads the note on truncated frames, which every report for
// people puts first, before the editions: a capture cut by its snap length
// changes what every list below it means.
const truncationTitle = "Truncated frames: the capture did not keep all of them"

// truncationLines says what the capture cut and what it cost, one sentence a
// line; none when it cut nothing.
func truncationLines(rep *Report) []string {
	t := rep.Truncation
	if t == nil || t.Frames == 0 {
		return nil
	}
	frames := humanize.Comma(int64(t.Frames)) + " of " + humanize.Comma(int64(rep.Totals.Packets)) + " frames"
	first := frames + " were cut short (they hold fewer bytes than their headers announce)"
	if t.SnapLen > 0 {
		first = "the capture's " + strconv.Itoa(t.SnapLen) + "-byte snap length cut " + frames
	}
	lines := []string{first + ", in " + humanize.Comma(int64(t.Flows)) + " of " +
		humanize.Comma(int64(rep.Totals.FlowsInScope)) + " flows in scope"}
	if t.ClientHellos+t.RequestHeads+t.FirstPayloads > 0 {
		var heads, what []string
		if t.ClientHellos > 0 {
			heads = append(heads, count(t.ClientHellos, "ClientHello"))
		}
		if t.RequestHeads > 0 {
			heads = append(heads, count(t.RequestHeads, "HTTP request head"))
		}
		if len(heads) > 0 {
			what = append(what, joinAnd(heads)+" cut")
		}
		if t.FirstPayloads > 0 {
			what = append(what, count(t.FirstPayloads, "first payload")+" cut before it showed what it was")
			if t.FirstPayloads > 1 {
				what[len(what)-1] = humanize.Comma(int64(t.FirstPayloads)) + " first payloads cut before they showed what they were"
			}
		}
		var named []string
		if t.NamedByDNS > 0 {
			named = append(named, humanize.Comma(int64(t.NamedByDNS))+" named by DNS instead")
		}
		if t.Ambiguous > 0 {
			named = append(named, humanize.Comma(int64(t.Ambiguous))+" by several DNS names (ambiguous)")
		}
		if t.Unnamed > 0 {
			named = append(named, humanize.Comma(int64(t.Unnamed))+" not named at all")
		}
		line := joinAnd(what) + ", so no SNI or Host was read"
		if len(named) > 0 {
			line += ": of those flows, " + joinAnd(named)
		}
		lines = append(lines, line)
	}
	if t.DNSResponses > 0 {
		line := count(t.DNSResponses, "DNS response") + " cut, read as far as their records were whole"
		if t.DNSResponses == 1 {
			line = "1 DNS response cut, read as far as its records were whole"
		}
		if t.AnswersLost > 0 {
			line += "; " + humanize.Comma(int64(t.AnswersLost)) + " of them lost answers"
		}
		lines = append(lines, line)
	}
	return lines
}

// joinAnd is "a", "a and b" or "a, b and c".
func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	s := parts[0]
	for _, p := range parts[1 : len(parts)-1] {
		s += ", " + p
	}
	return s + " and " + parts[len(parts)-1]
}

// textTruncation writes the note on truncated frames, if any.
func textTruncation(tw *errWriter, rep *Report) {
	lines := truncationLines(rep)
	if len(lines) == 0 {
		return
	}
	tw.printf("\n%s\n", truncationTitle)
	for _, l := range lines {
		tw.printf("  %s\n", l)
	}
}

// mdTruncation is textTruncation for Markdown.
func mdTruncation(ew *errWriter, rep *Report) {
	lines := truncationLines(rep)
	if len(lines) == 0 {
		return
	}
	ew.printf("\n## %s\n\n", MarkdownText(truncationTitle))
	for _, l := range lines {
		ew.printf("- %s\n", MarkdownText(l))
	}
}

// htmlTruncation is textTruncation for HTML: a part, or nil.
func htmlTruncation(rep *Report) []htmlPart {
	lines := truncationLines(rep)
	if len(lines) == 0 {
		return nil
	}
	return []htmlPart{{Title: truncationTitle, Items: lines}}
}

// truncationOf copies the run's truncation for the report: nil when the
// capture cut nothing, so the JSON has no such object then.
func truncationOf(run *classify.Run) *classify.Truncation {
	if run.Truncation.Frames == 0 {
		return nil
	}
	t := run.Truncation
	return &t
}
