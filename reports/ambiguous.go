package reports

import (
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
	"github.com/phonehome/phonehome/classify/match"
)

// Ambiguous is one set of names whose DNS answers all led to the destinations
// of some flows in scope, within the answers' TTLs, so that no one of them
// names those flows (classify.EvidenceDNSAmbiguous), and that no documented
// pattern of the edition matches as a whole. Its flows count for no pattern
// and no undocumented name: which name they were for is not known.
type Ambiguous struct {
	Names     []AmbiguousName `json:"names"`
	Traffic                   // flows, bytes, first and last seen
	Protocols []string        `json:"protocols_seen"`
	Addresses []string        `json:"addresses"`
	// FirstEvidence is the DNS response behind the set's first flow, and
	// that flow (classify.EvidenceRef); absent for a run record written
	// before it was kept.
	FirstEvidence *classify.EvidenceRef `json:"first_evidence,omitempty"`
}

// AmbiguousName is one name of an ambiguous set.
type AmbiguousName struct {
	Name string `json:"name"`
	// Patterns are the edition's documented patterns the name matches, by
	// itself or through a CNAME of its answers; empty when none does.
	Patterns []string `json:"patterns"`
	Aliases  []string `json:"cnames,omitempty"`
}

// ambiguousStats returns the run's ambiguous sets, sorted by their names.
func ambiguousStats(run *classify.Run) []*classify.AmbiguousStat {
	list := make([]*classify.AmbiguousStat, 0, len(run.Ambiguous))
	for _, a := range run.Ambiguous {
		list = append(list, a)
	}
	sort.Slice(list, func(i, j int) bool { return slices.Compare(list[i].Names, list[j].Names) < 0 })
	return list
}

// compareAmbiguous holds the ambiguous sets against one edition's patterns.
// A set counts as seen for a pattern only when every one of its names
// matches that pattern (by itself or through a CNAME of its answers): then,
// whichever name the flows were for, they reached the pattern, and the set
// is listed under the pattern's Ambiguous names with its flows counted as
// dns-ambiguous. A set no pattern matches as a whole is returned, with the
// patterns each name matches, and counts for nothing else.
func compareAmbiguous(stats []*classify.AmbiguousStat, m *match.Matcher, entries []catalog.Endpoint, seen []*Seen) []Ambiguous {
	out := []Ambiguous{}
	var ids []int
	for _, a := range stats {
		per := make([][]int, len(a.Names)) // pattern ids each name matches
		for i, n := range a.Names {
			for _, name := range append([]string{n}, a.Aliases[i]...) {
				ids = m.Match(name, "", ids[:0])
				for _, id := range ids {
					if !slices.Contains(per[i], id) {
						per[i] = append(per[i], id)
					}
				}
			}
		}
		common := slices.Clone(per[0])
		for _, p := range per[1:] {
			common = slices.DeleteFunc(common, func(id int) bool { return !slices.Contains(p, id) })
		}
		t := Traffic{Flows: a.Flows, BytesOut: a.BytesOut, BytesIn: a.BytesIn, First: utc(a.First), Last: utc(a.Last)}
		if len(common) > 0 {
			for _, id := range common {
				s := seenFor(seen, entries, id)
				s.Ambiguous = append(s.Ambiguous, slices.Clone(a.Names))
				s.Traffic.addTraffic(t)
				s.Evidence[classify.EvidenceDNSAmbiguous] += a.Flows
				for _, p := range a.Protocols {
					s.ProtocolsSeen = insertSorted(s.ProtocolsSeen, p)
				}
			}
			continue
		}
		amb := Ambiguous{Traffic: t, Protocols: slices.Clone(a.Protocols), Addresses: []string{}, FirstEvidence: firstEvidence(a.FirstEvidence)}
		if amb.Protocols == nil {
			amb.Protocols = []string{}
		}
		for i, n := range a.Names {
			an := AmbiguousName{Name: n, Patterns: []string{}, Aliases: slices.Clone(a.Aliases[i])}
			for _, id := range per[i] {
				an.Patterns = append(an.Patterns, entries[id].Pattern)
			}
			sort.Strings(an.Patterns)
			amb.Names = append(amb.Names, an)
		}
		addrs := slices.Clone(a.Addrs)
		slices.SortFunc(addrs, netip.Addr.Compare)
		for _, ad := range addrs {
			amb.Addresses = append(amb.Addresses, ad.String())
		}
		out = append(out, amb)
	}
	return out
}

// addTraffic adds what u saw to t.
func (t *Traffic) addTraffic(u Traffic) {
	if t.Flows == 0 || u.First.Before(t.First) {
		t.First = u.First
	}
	if u.Last.After(t.Last) {
		t.Last = u.Last
	}
	t.Flows += u.Flows
	t.BytesOut += u.BytesOut
	t.BytesIn += u.BytesIn
}

// names are the names of an ambiguous set.
func (a Ambiguous) names() []string {
	out := make([]string, len(a.Names))
	for i, n := range a.Names {
		out[i] = n.Name
	}
	return out
}

// ambiguousTitle heads an edition's list of n ambiguous sets in the reports
// for people.
func ambiguousTitle(n int) string {
	sets := strconv.Itoa(n) + " sets"
	if n == 1 {
		sets = "1 set"
	}
	return "Ambiguous DNS names (" + sets + "): several names' answers led to the flows' destinations within their TTLs"
}

// ambiguousNote says, under ambiguousTitle, how such flows are counted.
const ambiguousNote = "Which name these flows were for is not known: they count for no pattern and no undocumented " +
	"name here. A set whose names all match one documented pattern counts as seen for it, marked dns-ambiguous."

// oneOf shows an ambiguous set of names, each escaped by esc, in one cell:
// "a or b (ambiguous)".
func oneOf(names []string, esc func(string) string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = esc(n)
	}
	return strings.Join(out, " or ") + " (ambiguous)"
}

// seenNames are the lines of a documented pattern's NAMES cell, each escaped
// by esc: its names ("name (via alias)" when it matched through a CNAME),
// then its ambiguous sets.
func seenNames(s Seen, esc func(string) string) []string {
	out := make([]string, 0, len(s.Names)+len(s.Ambiguous))
	for _, n := range s.Names {
		if v, ok := s.Via[n]; ok {
			n += " (via " + v + ")"
		}
		out = append(out, esc(n))
	}
	for _, set := range s.Ambiguous {
		out = append(out, oneOf(set, esc))
	}
	return out
}

// textAmbiguous writes an edition's ambiguous sets, when it has any: one row
// per name, the set's traffic on its first.
func textAmbiguous(tw *errWriter, rep *Report, list []Ambiguous) {
	if len(list) == 0 {
		return
	}
	tw.printf("\n%s\n  %s\n", ambiguousTitle(len(list)), ambiguousNote)
	tab := tw.table("NAMES\tDOCUMENTED AS\tFLOWS\tOUT\tIN\tFIRST\tLAST\tSEEN")
	for _, a := range list {
		for i, n := range a.Names {
			if i > 0 {
				tab.row("or "+T(n.Name), T(documentedAs(n)), "", "", "", "", "", "")
				continue
			}
			tab.row(T(n.Name), T(documentedAs(n)), humanize.Comma(int64(a.Flows)), humanize.Bytes(a.BytesOut),
				humanize.Bytes(a.BytesIn), rep.stamp(a.First), rep.stamp(a.Last), T(strings.Join(a.Protocols, ", ")))
		}
	}
	tab.flush()
}

// mdAmbiguous is textAmbiguous for Markdown.
func mdAmbiguous(ew *errWriter, rep *Report, list []Ambiguous) {
	if len(list) == 0 {
		return
	}
	m := MarkdownText
	ew.printf("\n### %s\n\n%s\n", m(ambiguousTitle(len(list))), m(ambiguousNote))
	tab := ew.mdTable("names", "documented as", "flows:", "out:", "in:", "first", "last", "seen")
	for _, a := range list {
		for i, n := range a.Names {
			if i > 0 {
				tab.row("or "+m(n.Name), m(documentedAs(n)), "", "", "", "", "", "")
				continue
			}
			tab.row(m(n.Name), m(documentedAs(n)), humanize.Comma(int64(a.Flows)), humanize.Bytes(a.BytesOut),
				humanize.Bytes(a.BytesIn), rep.stamp(a.First), rep.stamp(a.Last), m(strings.Join(a.Protocols, ", ")))
		}
	}
}

// htmlAmbiguous is textAmbiguous for HTML: one row per set, its names one
// per line.
func htmlAmbiguous(rep *Report, list []Ambiguous) htmlPart {
	part := htmlPart{Title: ambiguousTitle(len(list)), Note: ambiguousNote}
	tab := htmlTableOf("names", "documented as", "flows:", "out:", "in:", "first", "last", "seen")
	for _, a := range list {
		names, doc := htmlCell{Class: "name"}, htmlCell{Class: "wrap"}
		for i, n := range a.Names {
			or := ""
			if i > 0 {
				or = "or "
			}
			names.Lines = append(names.Lines, or+T(n.Name))
			doc.Lines = append(doc.Lines, T(documentedAs(n)))
		}
		tab.add(names, doc, num(humanize.Comma(int64(a.Flows))), num(humanize.Bytes(a.BytesOut)), num(humanize.Bytes(a.BytesIn)),
			txt(rep.stamp(a.First)), txt(rep.stamp(a.Last)), txt(strings.Join(a.Protocols, ", ")))
	}
	part.Table = tab
	return part
}

// documentedAs says which patterns a name of an ambiguous set matches.
func documentedAs(n AmbiguousName) string {
	if len(n.Patterns) == 0 {
		return "not documented"
	}
	return strings.Join(n.Patterns, ", ")
}
