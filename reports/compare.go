package reports

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/publicsuffix"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
	"github.com/phonehome/phonehome/classify/match"
)

// SchemaVersion is the version of the JSON report. It changes when a field is
// renamed or removed or its meaning changes; adding a field keeps it.
const SchemaVersion = 1

// Report is a run held against the catalog of one build. It is what every
// renderer draws from, and, as JSON, a machine contract (SchemaVersion).
type Report struct {
	SchemaVersion int    `json:"schema_version"`
	Build         string `json:"build"`
	// CatalogFile is the user catalog the run was held against (phonehome
	// --catalog; catalog.Parse), whose name is then Build; absent when the
	// catalog is Microsoft's pages for Build.
	CatalogFile string `json:"catalog_file,omitempty"`
	// NothingInScope, when the run saw no IPv4 flow started by the VM
	// towards a public address, says so and why (an IPv6-only, ARP-only or
	// empty capture, link types phonehome cannot decode, a --vm that
	// started no flow); absent otherwise. Every format puts it at the top.
	NothingInScope string `json:"nothing_in_scope,omitempty"`

	Files      []string  `json:"files"`
	VM         string    `json:"vm"`
	VMDetected bool      `json:"vm_detected"`
	VMHow      string    `json:"vm_how"`
	VMFlows    int       `json:"vm_flows_started"`
	First      time.Time `json:"first_packet"`
	Last       time.Time `json:"last_packet"`
	Totals     Totals    `json:"totals"`
	// Truncation says what the capture cut and what that cost the names;
	// absent when it cut nothing.
	Truncation *classify.Truncation `json:"truncation,omitempty"`
	Editions   []Edition            `json:"editions"`
	// EditionsWithoutPage are the editions asked for that the build has no
	// page for (21H2 has an Enterprise page only), in the order asked. They
	// have no entry in Editions.
	EditionsWithoutPage []string `json:"editions_without_page"`
	Excluded            []Reason `json:"excluded"`
	// DNSAnswers counts the DNS answers read by how they were taken; the
	// unrequested ones named nothing.
	DNSAnswers classify.DNSAnswers `json:"dns_answers"`
	Bounds     []capture.Bound     `json:"bounds_reached"`
	// Anomalies count the flows whose names or paths are in doubt, by kind
	// (classify.Anomaly); absent when there are none.
	Anomalies   []classify.Anomaly `json:"anomalies,omitempty"`
	Damage      []capture.Damage   `json:"damage"`
	Unsupported []Count            `json:"unsupported_link_types"`
	// Inputs lists every input with what was read of it (files skipped in
	// a directory, with the reason; empty inputs; frames and duplicates).
	Inputs []capture.Input `json:"inputs"`
	// CaptureSessions are the live captures the run came from (phonehome
	// capture), with the gaps between them; absent for files.
	// CaptureWarnings say what in them leaves the run incomplete: packets
	// libpcap dropped, gaps, an unclean end, an interface gone, packets
	// not written, a failed checkpoint.
	CaptureSessions []CaptureSession `json:"capture_sessions,omitempty"`
	CaptureWarnings []string         `json:"capture_warnings,omitempty"`
}

// Totals sums the run.
type Totals struct {
	Packets         uint64 `json:"packets"`
	Bytes           uint64 `json:"bytes"`
	FlowsInScope    uint64 `json:"flows_in_scope"`
	PacketsInScope  uint64 `json:"packets_in_scope"`
	BytesInScope    uint64 `json:"bytes_in_scope"`
	Names           int    `json:"names"`
	UnattributedIPs int    `json:"unattributed_addresses"`
	// DuplicatesDropped counts the frames dropped as duplicates of frames
	// another input gave (classify.Run.Duplicates); not in Packets.
	DuplicatesDropped uint64 `json:"duplicates_dropped"`
}

// Traffic is what was seen of a name, a pattern or an address. Bytes are
// frame bytes, as in classify.FlowRecord.
type Traffic struct {
	Flows    int       `json:"flows"`
	BytesOut uint64    `json:"bytes_out"`
	BytesIn  uint64    `json:"bytes_in"`
	First    time.Time `json:"first_seen"`
	Last     time.Time `json:"last_seen"`
}

func (t *Traffic) add(n *classify.NameStat) {
	if t.Flows == 0 || n.First.Before(t.First) {
		t.First = utc(n.First)
	}
	if n.Last.After(t.Last) {
		t.Last = utc(n.Last)
	}
	t.Flows += n.Flows
	t.BytesOut += n.BytesOut
	t.BytesIn += n.BytesIn
}

// Edition is the comparison for one Windows edition.
type Edition struct {
	Edition string `json:"edition"`
	// Summary counts the edition's endpoints by host: what a reader asks
	// first. Documented counts page rows (patterns).
	Summary           Summary        `json:"summary"`
	Documented        int            `json:"documented"`
	DocumentedSeen    []Seen         `json:"documented_seen"`
	DocumentedNotSeen []NotSeen      `json:"documented_not_seen"`
	Undocumented      []Undocumented `json:"undocumented"`
	Unattributed      []Unattributed `json:"unattributed"`
	// Ambiguous are the sets of names, none deciding, that no pattern
	// matches as a whole (see Ambiguous).
	Ambiguous []Ambiguous `json:"ambiguous"`
	// Areas is the documented traffic by the page's Area column (Windows
	// Update, Diagnostic Data, ...), busiest first; a name whose patterns
	// lie in several areas counts in each.
	Areas []AreaTraffic `json:"areas"`
}

// AreaTraffic is the traffic of the names documented under one area.
type AreaTraffic struct {
	Area  string `json:"area"` // "" for rows the page gives no area
	Hosts int    `json:"hosts_seen"`
	Names int    `json:"names"`
	Traffic
}

// Summary counts an edition's documented endpoints by host, after folding
// the rows that name one host (catalog.EndpointKey: "login.live.com",
// "login.live.com*" and "*login.live.com" are one), split by where the
// documentation comes from; and, beside them, the page rows.
type Summary struct {
	Hosts Coverage `json:"hosts"`
	// OwnPage are the hosts the edition's own page (or section) lists;
	// EnterpriseBase those only the Enterprise page it adds to lists. For
	// Enterprise, and a user catalog, every host is OwnPage.
	OwnPage        Coverage `json:"own_page"`
	EnterpriseBase Coverage `json:"enterprise_base"`
	Rows           Coverage `json:"rows"` // page rows (patterns)
	Undocumented   int      `json:"undocumented_names"`
}

// Coverage is how many of Documented were Seen.
type Coverage struct {
	Seen       int `json:"seen"`
	Documented int `json:"documented"`
}

// Headline is the edition's summary in a line, the heading every format
// gives it: "26 of 69 documented hosts seen (own page 20 of 53, Enterprise
// base 6 of 16; 33 of 79 page rows); 6 names seen but not documented". It
// holds no name from a packet.
func (ed *Edition) Headline() string {
	s := ed.Summary
	of := func(c Coverage) string { return strconv.Itoa(c.Seen) + " of " + strconv.Itoa(c.Documented) }
	h := of(s.Hosts) + " documented " + nounFor(s.Hosts.Documented, "host") + " seen ("
	if s.EnterpriseBase.Documented > 0 {
		h += "own page " + of(s.OwnPage) + ", Enterprise base " + of(s.EnterpriseBase) + "; "
	}
	return h + of(s.Rows) + " page " + nounFor(s.Rows.Documented, "row") + "); " +
		count(s.Undocumented, "name") + " seen but not documented"
}

// nounFor is noun as n of it are said: "host", "hosts".
func nounFor(n int, noun string) string {
	if n == 1 {
		return noun
	}
	return noun + "s"
}

// summarize counts ed's endpoints by host (entries are the edition's, in the
// order ed's lists were made from).
func summarize(ed *Edition, entries []catalog.Endpoint, e catalog.Edition) {
	type host struct{ own, seen bool }
	hosts := map[string]*host{}
	seen := map[string]bool{}
	for _, s := range ed.DocumentedSeen {
		seen[s.Pattern] = true
	}
	for _, en := range entries {
		k := catalog.EndpointKey(en.Pattern)
		h := hosts[k]
		if h == nil {
			h = &host{}
			hosts[k] = h
		}
		h.seen = h.seen || seen[en.Pattern]
		for _, src := range en.Sources {
			h.own = h.own || src.Listed == e
		}
	}
	s := Summary{Rows: Coverage{Seen: len(ed.DocumentedSeen), Documented: len(entries)}, Undocumented: len(ed.Undocumented)}
	for _, h := range hosts {
		c := &s.EnterpriseBase
		if h.own {
			c = &s.OwnPage
		}
		for _, t := range []*Coverage{&s.Hosts, c} {
			t.Documented++
			if h.seen {
				t.Seen++
			}
		}
	}
	ed.Summary = s
}

// Seen is a documented pattern that traffic matched.
type Seen struct {
	Pattern string `json:"pattern"`
	// Names are the flow names that matched; Via, where a name matched only
	// through a CNAME of its DNS answer, says which alias did.
	Names []string          `json:"names"`
	Via   map[string]string `json:"via,omitempty"`
	// Ambiguous are the sets of names, none deciding, whose flows count
	// for the pattern because every name of the set matched it (evidence
	// dns-ambiguous); see Ambiguous.
	Ambiguous           [][]string     `json:"ambiguous,omitempty"`
	Traffic                            // flows, bytes, first and last seen
	Evidence            map[string]int `json:"evidence"`
	ProtocolsSeen       []string       `json:"protocols_seen"`
	ProtocolsDocumented []string       `json:"protocols_documented"`
	// ProtocolsNotDocumented are the protocols seen that the page does not
	// give for the pattern (plain HTTP to a host documented as TLS only, say).
	ProtocolsNotDocumented []string `json:"protocols_not_documented"`
	Description            string   `json:"description"`
	Sources                []string `json:"sources"`
	// FirstEvidence is the first of its names' (classify.CompareEvidence),
	// and Rhythm the rhythm of its names' flows together (not those of
	// its ambiguous sets), as Undocumented's.
	FirstEvidence *classify.EvidenceRef `json:"first_evidence,omitempty"`
	Rhythm        *Rhythm               `json:"rhythm,omitempty"`
	// Starts are the contact times the rhythm is of (Unix ns, sorted), for
	// the HTML report's timeline; not in the JSON, which has the rhythm.
	Starts []int64 `json:"-"`
}

// NotSeen is a documented pattern that no traffic matched.
type NotSeen struct {
	Pattern             string   `json:"pattern"`
	ProtocolsDocumented []string `json:"protocols_documented"`
	Description         string   `json:"description"`
	Sources             []string `json:"sources"`
}

// Undocumented is a name seen in scope that no pattern of the edition matched.
type Undocumented struct {
	Name              string         `json:"name"`
	RegistrableDomain string         `json:"registrable_domain"`
	Traffic                          // flows, bytes, first and last seen
	Evidence          map[string]int `json:"evidence"`
	Protocols         []string       `json:"protocols_seen"`
	Aliases           []string       `json:"cnames,omitempty"`
	Addresses         []string       `json:"addresses"`
	// FirstEvidence is the packet that named the name's first flow, and
	// that flow: file, frame number (Wireshark's), time, evidence kind,
	// 5-tuple (classify.EvidenceRef); Rhythm is how often the name was
	// contacted. Both absent for a run record written before they were
	// kept.
	FirstEvidence *classify.EvidenceRef `json:"first_evidence,omitempty"`
	Rhythm        *Rhythm               `json:"rhythm,omitempty"`
	// Starts are as Seen's.
	Starts []int64 `json:"-"`
}

// Rhythm is how often the VM contacted a name, or the names of a pattern
// (classify.RhythmOf): contacts (flows within a minute of each other are
// one), the median interval between them and its interquartile range, in
// seconds, and in words: "once", "twice", "every 15 min", "hourly",
// "daily", "every 2 h", "irregular". Sampled says there were more than
// classify.MaxStarts flows: the rhythm is that of the first of them.
type Rhythm struct {
	Contacts       int     `json:"contacts"`
	MedianInterval float64 `json:"median_interval_s"`
	IntervalIQR    float64 `json:"interval_iqr_s"`
	Words          string  `json:"words"`
	Sampled        bool    `json:"sampled,omitempty"`
}

// rhythmOf is the report's rhythm of flows with those start times; nil
// when none was kept (a run record written before they were).
func rhythmOf(starts []int64, flows int) *Rhythm {
	if len(starts) == 0 {
		return nil
	}
	r := classify.RhythmOf(starts, flows)
	return &Rhythm{Contacts: r.Contacts, MedianInterval: r.Median.Seconds(), IntervalIQR: r.Spread.Seconds(), Words: r.Words, Sampled: r.Sampled}
}

// RhythmWords is r's words, "" for nil: the renderers' one column.
func (r *Rhythm) RhythmWords() string {
	if r == nil {
		return ""
	}
	return r.Words
}

// firstEvidence is a copy of e with its times in UTC, nil for none.
func firstEvidence(e classify.EvidenceRef) *classify.EvidenceRef {
	if e == (classify.EvidenceRef{}) {
		return nil
	}
	e.Time, e.Start = utc(e.Time), utc(e.Start)
	return &e
}

// Unattributed is a public destination that no evidence named.
type Unattributed struct {
	Address string   `json:"address"`
	Traffic          // flows, bytes, first and last seen
	Ports   []string `json:"ports"`
}

// Reason is the traffic left out for one reason.
type Reason struct {
	Reason  string `json:"reason"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	Flows   uint64 `json:"flows"`
}

// UnrequestedNote says, for the excluded traffic, how many DNS answers were
// not used as names because they matched no captured query; "" when none.
func (r *Report) UnrequestedNote() string {
	n := r.DNSAnswers.Unrequested
	if n == 0 {
		return ""
	}
	return "unrequested DNS answers: " + strconv.FormatUint(n, 10) + " matched no query the capture holds from their client, so named nothing"
}

// Count is a number of frames for a name.
type Count struct {
	Name   string `json:"name"`
	Frames uint64 `json:"frames"`
}

// Compare holds run against cat for each of editions that cat documents and
// lists the others in EditionsWithoutPage. What the run says of its source
// (inputs, damage, bounds, link types not decoded: see classify.Analyze)
// goes into the report's header and tail. The Report shares no slice or map
// with run or cat, nor one edition with another: a caller may change any
// part of it.
func Compare(run *classify.Run, cat *catalog.Catalog, editions []catalog.Edition) (*Report, error) {
	rep := &Report{
		SchemaVersion: SchemaVersion,
		Build:         cat.Build,
		CatalogFile:   cat.Source,
		Files:         append([]string{}, run.Inputs...),
		VMDetected:    run.VMDetected,
		VMHow:         run.VMHow,
		VMFlows:       run.VMFlows,
		First:         utc(run.First),
		Last:          utc(run.Last),
		Damage:        append([]capture.Damage{}, run.Damage...),
		Inputs:        append([]capture.Input{}, run.InputStats...),
		Totals: Totals{
			Packets: run.Packets, Bytes: run.Bytes,
			FlowsInScope: run.InScope.Flows, PacketsInScope: run.InScope.Packets, BytesInScope: run.InScope.Bytes,
			Names: len(run.Names), UnattributedIPs: len(run.Unattributed),
			DuplicatesDropped: run.Duplicates,
		},
		EditionsWithoutPage: []string{},
		Excluded:            []Reason{},
		DNSAnswers:          run.DNS,
		Bounds:              []capture.Bound{},
		Anomalies:           cloneAnomalies(run.Anomalies),
		Truncation:          truncationOf(run),
		Unsupported:         []Count{},
		NothingInScope:      nothingInScope(run),
	}
	if run.VM.IsValid() {
		rep.VM = run.VM.String()
	}
	rep.CaptureSessions, rep.CaptureWarnings = captureSessions(run)
	for reason, e := range run.Excluded {
		rep.Excluded = append(rep.Excluded, Reason{Reason: reason, Packets: e.Packets, Bytes: e.Bytes, Flows: e.Flows})
	}
	sort.Slice(rep.Excluded, func(i, j int) bool { return rep.Excluded[i].Reason < rep.Excluded[j].Reason })
	rep.Bounds = append(rep.Bounds, run.Bounds...)
	for name, n := range run.Unsupported {
		rep.Unsupported = append(rep.Unsupported, Count{Name: name, Frames: n})
	}
	sort.Slice(rep.Unsupported, func(i, j int) bool { return rep.Unsupported[i].Name < rep.Unsupported[j].Name })

	names := make([]*classify.NameStat, 0, len(run.Names))
	for _, n := range run.Names {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return names[i].Name < names[j].Name })
	unattributed := unattributedList(run)
	ambiguous := ambiguousStats(run)

	undoc := make([]*Undocumented, len(names)) // filled as editions need them
	have := cat.Editions()
	for _, e := range editions {
		if !slices.Contains(have, e) {
			rep.EditionsWithoutPage = append(rep.EditionsWithoutPage, string(e))
			continue
		}
		ed, err := compareEdition(names, undoc, ambiguous, cat, e)
		if err != nil {
			return nil, err
		}
		ed.Unattributed = make([]Unattributed, len(unattributed))
		var slab strSlab
		for i, u := range unattributed {
			ed.Unattributed[i] = u.clone(&slab)
		}
		rep.Editions = append(rep.Editions, ed)
	}
	return rep, nil
}

// compareEdition holds names against edition e's patterns. undoc[i] is the
// Undocumented entry of names[i], made (from copies of the run's slices and
// map) by the first edition that needs it, which keeps it; each later
// edition gets its own copy, so a Report shares no slice or map between its
// editions or with the run.
func compareEdition(names []*classify.NameStat, undoc []*Undocumented, ambiguous []*classify.AmbiguousStat, cat *catalog.Catalog, e catalog.Edition) (Edition, error) {
	entries := cat.ForEdition(e)
	patterns := make([]string, len(entries))
	for i, en := range entries {
		patterns[i] = en.Pattern
	}
	m, err := match.Compile(patterns)
	if err != nil {
		return Edition{}, fmt.Errorf("catalog %s, edition %s: %w", cat.Build, e, err)
	}
	seen := make([]*Seen, len(entries))
	ed := Edition{
		Edition:           string(e),
		Documented:        len(entries),
		DocumentedSeen:    []Seen{},
		DocumentedNotSeen: []NotSeen{},
		Undocumented:      []Undocumented{},
	}
	var ids []int
	var slab strSlab
	matched := map[int]string{} // pattern id -> the name or alias that matched
	// Per pattern id: its names' start times, flows and first evidence.
	starts := make([][]int64, len(entries))
	nameFlows := make([]int, len(entries))
	firsts := make([]classify.EvidenceRef, len(entries))
	for i, n := range names {
		clear(matched)
		try := func(name string) {
			if n.HostLevel || len(n.Paths) == 0 {
				ids = m.Match(name, "", ids[:0])
				note(matched, ids, name)
			}
			for _, p := range n.Paths {
				ids = m.Match(name, p, ids[:0])
				note(matched, ids, name)
			}
		}
		try(n.Name)
		for _, a := range n.Aliases {
			try(a)
		}
		if len(matched) == 0 {
			if undoc[i] == nil {
				u := undocumented(n)
				undoc[i] = &u
				ed.Undocumented = append(ed.Undocumented, u)
				continue
			}
			ed.Undocumented = append(ed.Undocumented, undoc[i].clone(&slab))
			continue
		}
		for id, via := range matched {
			s := seenFor(seen, entries, id)
			s.Names = append(s.Names, n.Name)
			if via != n.Name {
				if s.Via == nil {
					s.Via = map[string]string{}
				}
				s.Via[n.Name] = via
			}
			s.Traffic.add(n)
			starts[id] = classify.MergeStarts(starts[id], n.Starts)
			nameFlows[id] += n.Flows
			if classify.CompareEvidence(n.FirstEvidence, firsts[id]) < 0 {
				firsts[id] = n.FirstEvidence
			}
			for k, v := range n.Evidence {
				s.Evidence[k] += v
			}
			for _, p := range n.Protocols {
				s.ProtocolsSeen = insertSorted(s.ProtocolsSeen, p)
			}
		}
	}
	ed.Ambiguous = compareAmbiguous(ambiguous, m, entries, seen)
	for id, en := range entries {
		if seen[id] != nil {
			seen[id].FirstEvidence, seen[id].Rhythm = firstEvidence(firsts[id]), rhythmOf(starts[id], nameFlows[id])
			seen[id].Starts = slices.Clone(starts[id])
			ed.DocumentedSeen = append(ed.DocumentedSeen, *seen[id])
			continue
		}
		ed.DocumentedNotSeen = append(ed.DocumentedNotSeen, NotSeen{
			Pattern: en.Pattern, ProtocolsDocumented: protocols(en.Protocols), Description: description(en), Sources: sources(en),
		})
	}
	for i := range ed.DocumentedSeen {
		s := &ed.DocumentedSeen[i]
		s.ProtocolsNotDocumented = []string{}
		for _, p := range s.ProtocolsSeen {
			if !protocolDocumented(p, s.ProtocolsDocumented) {
				s.ProtocolsNotDocumented = append(s.ProtocolsNotDocumented, p)
			}
		}
	}
	sort.Slice(ed.DocumentedSeen, func(i, j int) bool { return ed.DocumentedSeen[i].Pattern < ed.DocumentedSeen[j].Pattern })
	sort.Slice(ed.DocumentedNotSeen, func(i, j int) bool {
		return ed.DocumentedNotSeen[i].Pattern < ed.DocumentedNotSeen[j].Pattern
	})
	sort.SliceStable(ed.Undocumented, func(i, j int) bool {
		a, b := ed.Undocumented[i], ed.Undocumented[j]
		if a.RegistrableDomain != b.RegistrableDomain {
			return a.RegistrableDomain < b.RegistrableDomain
		}
		return a.Name < b.Name
	})
	summarize(&ed, entries, e)
	ed.Areas = areaTraffic(ed.DocumentedSeen, entries, names)
	return ed, nil
}

// areaTraffic sums, per area, the traffic of the names its seen patterns
// matched, each name once per area.
func areaTraffic(seen []Seen, entries []catalog.Endpoint, names []*classify.NameStat) []AreaTraffic {
	areaOf := map[string]string{}
	for _, en := range entries {
		for _, s := range en.Sources {
			if s.Area != "" {
				areaOf[en.Pattern] = s.Area // the edition's own section comes first
				break
			}
		}
	}
	byName := make(map[string]*classify.NameStat, len(names))
	for _, n := range names {
		byName[n.Name] = n
	}
	type acc struct {
		hosts map[string]bool
		names map[string]bool
	}
	areas := map[string]*acc{}
	for _, s := range seen {
		a := areas[areaOf[s.Pattern]]
		if a == nil {
			a = &acc{hosts: map[string]bool{}, names: map[string]bool{}}
			areas[areaOf[s.Pattern]] = a
		}
		a.hosts[catalog.EndpointKey(s.Pattern)] = true
		for _, n := range s.Names {
			a.names[n] = true
		}
	}
	out := make([]AreaTraffic, 0, len(areas))
	for name, a := range areas {
		at := AreaTraffic{Area: name, Hosts: len(a.hosts), Names: len(a.names)}
		for n := range a.names {
			if st := byName[n]; st != nil {
				at.Traffic.add(st)
			}
		}
		out = append(out, at)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Flows != out[j].Flows {
			return out[i].Flows > out[j].Flows
		}
		return out[i].Area < out[j].Area
	})
	return out
}

// seenFor returns the entry of pattern id in seen, made on first use.
func seenFor(seen []*Seen, entries []catalog.Endpoint, id int) *Seen {
	if seen[id] == nil {
		en := entries[id]
		seen[id] = &Seen{
			Pattern: en.Pattern, Evidence: map[string]int{},
			ProtocolsDocumented: protocols(en.Protocols), Description: description(en), Sources: sources(en),
		}
	}
	return seen[id]
}

// note records each matched pattern once, preferring the flow name itself
// over an alias (names are tried first).
func note(matched map[int]string, ids []int, name string) {
	for _, id := range ids {
		if _, ok := matched[id]; !ok {
			matched[id] = name
		}
	}
}

// undocumented is the report's entry for n. It holds no slice or map of n:
// the run stays the caller's.
func undocumented(n *classify.NameStat) Undocumented {
	u := Undocumented{
		Name:              n.Name,
		RegistrableDomain: RegistrableDomain(n.Name),
		Evidence:          maps.Clone(n.Evidence),
		Protocols:         slices.Clone(n.Protocols),
		Aliases:           slices.Clone(n.Aliases),
		Addresses:         []string{},
		FirstEvidence:     firstEvidence(n.FirstEvidence),
		Rhythm:            rhythmOf(n.Starts, n.Flows),
		Starts:            slices.Clone(n.Starts),
	}
	u.Traffic.add(n)
	addrs := append([]netip.Addr{}, n.Addrs...)
	sort.Slice(addrs, func(i, j int) bool { return addrs[i].Less(addrs[j]) })
	for _, a := range addrs {
		u.Addresses = append(u.Addresses, a.String())
	}
	return u
}

// clone is a copy of u that shares no slice or map with it; the slices'
// elements are copied into slab.
func (u Undocumented) clone(slab *strSlab) Undocumented {
	u.Evidence = maps.Clone(u.Evidence)
	u.Protocols = slab.copy(u.Protocols)
	u.Aliases = slab.copy(u.Aliases)
	u.Addresses = slab.copy(u.Addresses)
	if u.FirstEvidence != nil {
		e := *u.FirstEvidence
		u.FirstEvidence = &e
	}
	if u.Rhythm != nil {
		r := *u.Rhythm
		u.Rhythm = &r
	}
	u.Starts = slices.Clone(u.Starts)
	return u
}

// RegistrableDomain returns the registrable domain of name (eTLD+1 by the
// public suffix list), or name itself when it has none (an IP literal, a
// bare public suffix, a single label) or is no host name: a name from a
// packet with a space, a control or a format character in it
// ("x.example\n  settings-win.data.microsoft.com") must not be grouped
// under the domain its tail spells.
func RegistrableDomain(name string) string {
	if strings.IndexFunc(name, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == utf8.RuneError || !unicode.IsPrint(r) || unicode.Is(unicode.Cf, r)
	}) >= 0 {
		return name
	}
	d, err := publicsuffix.EffectiveTLDPlusOne(strings.TrimSuffix(name, "."))
	if err != nil {
		return name
	}
	return d
}

func unattributedList(run *classify.Run) []Unattributed {
	list := make([]Unattributed, 0, len(run.Unattributed))
	for _, a := range run.Unattributed {
		list = append(list, Unattributed{
			Address: a.Addr.String(),
			Traffic: Traffic{Flows: a.Flows, BytesOut: a.BytesOut, BytesIn: a.BytesIn, First: utc(a.First), Last: utc(a.Last)},
			Ports:   a.Ports, // the run's: each edition gets a copy
		})
	}
	sort.Slice(list, func(i, j int) bool {
		x, _ := netip.ParseAddr(list[i].Address)
		y, _ := netip.ParseAddr(list[j].Address)
		return x.Less(y)
	})
	return list
}

// clone is a copy of u that shares no slice with it; the ports are copied
// into slab.
func (u Unattributed) clone(slab *strSlab) Unattributed {
	u.Ports = slab.copy(u.Ports)
	return u
}

// strSlab hands out copies of string slices carved from shared backing
// arrays, so that copying an edition's many short lists takes a few
// allocations instead of one each. A copy's capacity ends where it does: an
// append to one reallocates rather than writing into the next.
type strSlab []string

// copy returns a copy of src (nil for nil, so JSON still says null).
func (s *strSlab) copy(src []string) []string {
	if src == nil {
		return nil
	}
	if cap(*s)-len(*s) < len(src) {
		*s = make([]string, 0, max(len(src), 2*cap(*s), 16))
	}
	n := len(*s)
	*s = append(*s, src...)
	return (*s)[n:len(*s):len(*s)]
}

func insertSorted(list []string, s string) []string {
	i := sort.SearchStrings(list, s)
	if i < len(list) && list[i] == s {
		return list
	}
	list = append(list, "")
	copy(list[i+1:], list[i:])
	list[i] = s
	return list
}

// protocolDocumented reports whether a protocol seen on the wire agrees with
// the protocols the page gives. TLS of any version agrees with "HTTPS" and
// "TLS 1.2": a ClientHello shows the versions offered, not the one agreed.
// A flow named only by DNS ("tcp/443") shows no protocol and so agrees.
func protocolDocumented(seen string, documented []string) bool {
	switch {
	case seen == "HTTP":
		for _, d := range documented {
			if d == "HTTP" {
				return true
			}
		}
		return false
	case strings.HasPrefix(seen, "TLS") || strings.HasPrefix(seen, "SSL"):
		for _, d := range documented {
			if d == "HTTPS" || strings.HasPrefix(d, "TLS") {
				return true
			}
		}
		return false
	}
	return true
}

func protocols(ps []catalog.Protocol) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

// description is the first documenting row's description: the edition's own
// section comes first.
func description(ep catalog.Endpoint) string {
	for _, s := range ep.Sources {
		if s.Description != "" {
			return s.Description
		}
	}
	return ""
}

// sources names each row documenting the endpoint as file:line.
func sources(ep catalog.Endpoint) []string {
	out := make([]string, len(ep.Sources))
	for i, s := range ep.Sources {
		out[i] = s.File + ":" + strconv.Itoa(s.Line)
	}
	return out
}

// cloneAnomalies copies the run's anomalies, names included, so that the
// report shares nothing with the run.
func cloneAnomalies(in []classify.Anomaly) []classify.Anomaly {
	out := slices.Clone(in)
	for i := range out {
		out[i].Names = slices.Clone(out[i].Names)
	}
	return out
}
