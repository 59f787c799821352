package reports

import (
	"bufio"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phonehome/phonehome/classify"
)

// CSVColumns are the columns of the CSV report, in order. They are a
// contract: a column is only ever added at the end.
//
//	edition                 home, pro, education or enterprise
//	list                    documented_seen, documented_not_seen, undocumented,
//	                        unattributed or ambiguous; no_page for an edition asked
//	                        for that the build has no page for (one row, no other
//	                        list); nothing_in_scope, first and alone, with an empty
//	                        edition, when no flow was in scope (Report.NothingInScope)
//	pattern                 the documented pattern (documented_* rows); ambiguous:
//	                        the patterns the name matches
//	name                    the name seen: one documented_seen row per name that
//	                        matched the pattern; the name on undocumented rows; one
//	                        ambiguous row per name of an ambiguous set
//	via                     documented_seen: the CNAME of the name's DNS answer
//	                        that matched, when the name itself did not
//	registrable_domain      undocumented: the name's eTLD+1 (public suffix list)
//	address                 unattributed: the address; undocumented and ambiguous:
//	                        the addresses the flows went to
//	flows                   decimal; on documented_seen rows the pattern's total,
//	                        repeated on each of its names' rows; 0 on documented_not_seen
//	                        and no_page
//	bytes_out, bytes_in     decimal bytes, as flows
//	first_seen, last_seen   RFC 3339 in UTC with up to nine fraction digits, as
//	                        in the JSON report; empty on documented_not_seen and no_page
//	evidence                what named the flows: sni, http-host, dns, dns-ambiguous
//	protocols_seen          e.g. TLS 1.3, HTTP, tcp/7680 (a flow named only by DNS)
//	protocols_documented    the protocols the page gives for the pattern
//	protocols_not_documented  the protocols seen that the page does not give
//	ports                   unattributed: the destination ports, e.g. tcp/443
//	description             documented_*: the page's description of the pattern;
//	                        no_page: "<build> has no page for this edition";
//	                        nothing_in_scope: what was seen instead
//	ambiguous_with          documented_seen and ambiguous rows of a name of an
//	                        ambiguous set: the set's other names (the flows were
//	                        for one of them, which is not known)
//	rhythm                  documented_seen: how often the pattern's names were
//	                        contacted, undocumented: the name (Rhythm.Words:
//	                        once, twice, every 15 min, hourly, daily, irregular)
//	contacts                the contacts the rhythm counts (decimal), as rhythm
//	first_file, first_frame documented_seen, undocumented and ambiguous: the
//	                        capture file (interface, live) and Wireshark frame
//	                        number of the packet that named the first flow
//	                        (the pattern's, the name's, the set's)
//
// A cell that holds several values separates them with ";" (protocol names
// hold spaces). A cell that does not apply to the row's list is empty.
var CSVColumns = []string{
	"edition", "list", "pattern", "name", "via", "registrable_domain", "address",
	"flows", "bytes_out", "bytes_in", "first_seen", "last_seen",
	"evidence", "protocols_seen", "protocols_documented", "protocols_not_documented",
	"ports", "description", "ambiguous_with",
	"rhythm", "contacts", "first_file", "first_frame",
}

// CSV writes the report's per-edition lists as CSV (RFC 4180). Every text
// cell is quoted, whatever it holds, so that a spreadsheet set to split on
// ";" (usual in much of Europe) still sees one cell where a name holds
// "a;=cmd"; numbers and times are not quoted:
// a header row of CSVColumns, then a nothing_in_scope row when no flow was
// in scope, then a no_page row for each edition asked for
// that the build has no page for, then one row per edition, list and item,
// in the order of the text report. Unattributed addresses are the same for
// every edition and are repeated under each. The header of the text report,
// excluded traffic, bounds and damage are in the JSON report only.
//
// Every text cell is escaped first as by Terminal: control characters
// (line breaks and tabs included), invalid UTF-8 and format characters such
// as bidi overrides become Go escapes and a backslash is doubled, so the
// file is valid UTF-8 with no raw control character and one record per
// line. Then, against formula injection (OWASP, "CSV Injection"), a text
// cell that starts with '=', '+', '-', '@', TAB or CR gets a leading "'",
// which spreadsheets take as "this cell is text". Numbers and times, which
// the renderer writes itself, are left as they are.
func CSV(w io.Writer, rep *Report) error {
	cw := &csvWriter{w: bufio.NewWriter(w)}
	cw.header(CSVColumns)
	if rep.NothingInScope != "" {
		cw.Write(csvRow(csvCells{list: "nothing_in_scope", traffic: &Traffic{}, description: rep.NothingInScope}))
	}
	for _, e := range rep.EditionsWithoutPage {
		cw.Write(csvRow(csvCells{
			edition: e, list: "no_page", traffic: &Traffic{}, description: rep.Build + " has no page for this edition",
		}))
	}
	for _, ed := range rep.Editions {
		for _, s := range ed.DocumentedSeen {
			for _, n := range s.Names {
				cw.Write(csvRow(csvCells{
					edition: ed.Edition, list: "documented_seen", pattern: s.Pattern, name: n, via: s.Via[n],
					traffic: &s.Traffic, evidence: evidence(s.Evidence),
					seen: s.ProtocolsSeen, documented: s.ProtocolsDocumented, notDocumented: s.ProtocolsNotDocumented,
					description: s.Description, rhythm: s.Rhythm, first: s.FirstEvidence,
				}))
			}
			for _, set := range s.Ambiguous {
				for i, n := range set {
					cw.Write(csvRow(csvCells{
						edition: ed.Edition, list: "documented_seen", pattern: s.Pattern, name: n,
						traffic: &s.Traffic, evidence: evidence(s.Evidence),
						seen: s.ProtocolsSeen, documented: s.ProtocolsDocumented, notDocumented: s.ProtocolsNotDocumented,
						description: s.Description, ambiguousWith: others(set, i),
					}))
				}
			}
		}
		for _, s := range ed.DocumentedNotSeen {
			cw.Write(csvRow(csvCells{
				edition: ed.Edition, list: "documented_not_seen", pattern: s.Pattern, traffic: &Traffic{},
				documented: s.ProtocolsDocumented, description: s.Description,
			}))
		}
		for _, u := range ed.Undocumented {
			cw.Write(csvRow(csvCells{
				edition: ed.Edition, list: "undocumented", name: u.Name, domain: u.RegistrableDomain,
				addresses: u.Addresses, traffic: &u.Traffic, evidence: evidence(u.Evidence), seen: u.Protocols,
				rhythm: u.Rhythm, first: u.FirstEvidence,
			}))
		}
		for _, u := range ed.Unattributed {
			cw.Write(csvRow(csvCells{
				edition: ed.Edition, list: "unattributed", addresses: []string{u.Address},
				traffic: &Traffic{Flows: u.Flows, BytesOut: u.BytesOut, BytesIn: u.BytesIn, First: u.First, Last: u.Last},
				ports:   u.Ports,
			}))
		}
		for _, a := range ed.Ambiguous {
			set := a.names()
			for i, n := range a.Names {
				cw.Write(csvRow(csvCells{
					edition: ed.Edition, list: "ambiguous", pattern: strings.Join(n.Patterns, ";"), name: n.Name,
					domain: RegistrableDomain(n.Name), addresses: a.Addresses, traffic: &a.Traffic,
					evidence: classify.EvidenceDNSAmbiguous, seen: a.Protocols, ambiguousWith: others(set, i),
					first: a.FirstEvidence,
				}))
			}
		}
	}
	return cw.flush()
}

// csvPlain marks the columns written unquoted: numbers and times, which the
// renderer formats itself.
var csvPlain = map[int]bool{7: true, 8: true, 9: true, 10: true, 11: true, 20: true, 22: true}

// csvWriter writes rows with every text cell quoted and quotes doubled
// inside (RFC 4180). The first error is kept.
type csvWriter struct {
	w   *bufio.Writer
	err error
}

func (c *csvWriter) header(cells []string) {
	c.line(cells, func(int) bool { return true })
}

func (c *csvWriter) Write(cells []string) {
	c.line(cells, func(i int) bool { return csvPlain[i] })
}

func (c *csvWriter) line(cells []string, plain func(int) bool) {
	if c.err != nil {
		return
	}
	for i, cell := range cells {
		if i > 0 {
			c.w.WriteByte(',')
		}
		if plain(i) {
			c.w.WriteString(cell)
			continue
		}
		c.w.WriteByte('"')
		c.w.WriteString(strings.ReplaceAll(cell, `"`, `""`))
		c.w.WriteByte('"')
	}
	_, c.err = c.w.WriteString("\n")
}

func (c *csvWriter) flush() error {
	if c.err != nil {
		return c.err
	}
	return c.w.Flush()
}

// csvCells is one CSV row before formatting.
type csvCells struct {
	edition, list, pattern, name, via, domain string
	addresses                                 []string
	traffic                                   *Traffic
	evidence                                  string
	seen, documented, notDocumented, ports    []string
	description                               string
	ambiguousWith                             []string
	rhythm                                    *Rhythm
	first                                     *classify.EvidenceRef
}

func csvRow(c csvCells) []string {
	list := func(l []string) string { return csvText(strings.Join(l, ";")) }
	t := c.traffic
	contacts, file, frame := "", "", ""
	if c.rhythm != nil {
		contacts = strconv.Itoa(c.rhythm.Contacts)
	}
	if c.first != nil && c.first.Frame > 0 {
		file, frame = c.first.File, strconv.FormatInt(c.first.Frame, 10)
	}
	return []string{
		csvText(c.edition), c.list, csvText(c.pattern), csvText(c.name), csvText(c.via), csvText(c.domain),
		list(c.addresses),
		strconv.Itoa(t.Flows), strconv.FormatUint(t.BytesOut, 10), strconv.FormatUint(t.BytesIn, 10),
		csvTime(t.First), csvTime(t.Last),
		strings.ReplaceAll(c.evidence, ",", ";"),
		list(c.seen), list(c.documented), list(c.notDocumented), list(c.ports),
		csvText(c.description), list(c.ambiguousWith),
		csvText(c.rhythm.RhythmWords()), contacts, csvText(file), frame,
	}
}

// others are the names of set but its i-th.
func others(set []string, i int) []string {
	return append(slices.Clone(set[:i]), set[i+1:]...)
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// csvText escapes a text cell as CSV documents: Terminal, then a "'" before
// a leading formula character.
func csvText(s string) string {
	s = Terminal(s)
	if s != "" && strings.IndexByte("=+-@\t\r", s[0]) >= 0 {
		return "'" + s
	}
	return s
}
