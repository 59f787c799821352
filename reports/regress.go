package reports

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
)

// RegressionSchemaVersion is the version of the JSON regression report
// (phonehome compare). It changes when a field is renamed or removed or its
// meaning changes; adding a field keeps it. It is not SchemaVersion: the two
// documents change apart.
const RegressionSchemaVersion = 1

// Endpoint states of a run in the regression matrix.
const (
	// StateSeen: the VM contacted the endpoint and the run's page does not
	// document it.
	StateSeen = "seen"
	// StateDocumented: the run's page documents the endpoint and no traffic
	// of the run matched it.
	StateDocumented = "documented"
	// StateBoth: documented and seen.
	StateBoth = "both"
	// StateNone: neither.
	StateNone = ""
)

// Why a name moved between documented and undocumented (Move.Why).
const (
	// WhyPage: the run saw the name in both runs, and the pattern that
	// documents it is on one run's page and not the other's.
	WhyPage = "page"
	// WhyTraffic: the same patterns are on both pages, and the name's
	// traffic differs in what they match (its HTTP paths).
	WhyTraffic = "traffic"
)

// RegressRun is one run given to Regress: the run and the page it is held
// against. Name says what the run is for a person; Catalog is its build's
// catalog and Edition must be one it documents.
type RegressRun struct {
	Name    string
	Run     *classify.Run
	Catalog *catalog.Catalog
	Edition catalog.Edition
	// LabelFrom says where Build and Edition came from ("run record",
	// "--label-of", "default"), for the report.
	LabelFrom string
}

// RegressOptions are the comparison's choices. The zero value takes the
// defaults: a change of rate by 2 times or more, over at least 5 flows.
type RegressOptions struct {
	// FoldNumbered folds numbered load-balanced labels
	// (catalog.FoldNumbered) in every key; the report says so with
	// catalog.NumberedRule.
	FoldNumbered bool
	// Ratio is the factor by which a name's flows or bytes per day must
	// change to be reported (2: doubled or halved); 0 means 2.
	Ratio float64
	// MinFlows is how many flows of the name the busier run must have for a
	// change of rate to be reported; 0 means 5.
	MinFlows int
}

// Default thresholds (RegressOptions).
const (
	DefaultRatio    = 2.0
	DefaultMinFlows = 5
)

// Regression is the regression report: runs held against their own pages
// (Compare) and the differences between those reports. Changes compare the
// first run with the last; with three runs or more Matrix shows every
// endpoint in every run. It is what the regression renderers draw from and,
// as JSON, a machine contract (RegressionSchemaVersion).
type Regression struct {
	SchemaVersion int            `json:"schema_version"`
	Runs          []RegressedRun `json:"runs"`
	// FoldNumbered is catalog.NumberedRule when numbered labels were
	// folded; absent otherwise.
	FoldNumbered string     `json:"fold_numbered,omitempty"`
	Thresholds   Thresholds `json:"thresholds"`
	Changes      Changes    `json:"changes"`
	// Matrix has a row per endpoint seen or documented in any run, with
	// three runs or more; absent for two.
	Matrix []MatrixRow `json:"matrix,omitempty"`
}

// Thresholds are the rate changes reported (RegressOptions).
type Thresholds struct {
	Ratio    float64 `json:"ratio"`
	MinFlows int     `json:"min_flows"`
}

// RegressedRun is what the report says of one run.
type RegressedRun struct {
	Name      string    `json:"name"`
	Build     string    `json:"build"`
	Edition   string    `json:"edition"`
	LabelFrom string    `json:"label_from"`
	Files     []string  `json:"files"`
	First     time.Time `json:"first_packet"`
	Last      time.Time `json:"last_packet"`
	// Days is the run's length (Last - First) in days, by which its
	// traffic is divided; at least one second's worth.
	Days           float64 `json:"days"`
	Flows          uint64  `json:"flows_in_scope"`
	Seen           int     `json:"endpoints_seen"`
	Documented     int     `json:"patterns_documented"`
	DocumentedSeen int     `json:"patterns_documented_seen"`
	Undocumented   int     `json:"names_undocumented"`
	Damaged        bool    `json:"damaged"`
}

// Changes are the differences from the first run (A) to the last (B).
// Every list is sorted by key and empty, not absent, when nothing changed.
type Changes struct {
	From int `json:"from"` // index in Runs
	To   int `json:"to"`
	// New are the endpoints B contacted that A did not; Gone the reverse.
	New  []EndpointChange `json:"new"`
	Gone []EndpointChange `json:"gone"`
	// NowSeen are patterns on both pages that B's traffic matched and A's
	// did not; NoLongerSeen the reverse.
	NowSeen      []string `json:"documented_now_seen"`
	NoLongerSeen []string `json:"documented_no_longer_seen"`
	// Moved are endpoints both runs contacted that are documented for one
	// and not the other, with why.
	Moved     []Move           `json:"moved"`
	Protocols []ProtocolChange `json:"protocols"`
	Traffic   []TrafficChange  `json:"traffic"`
	// Page is what B's page lists for its edition that A's does not, and
	// the reverse; both empty when the pages are the same.
	Page PageChange `json:"page"`
}

// Empty reports whether nothing changed.
func (c *Changes) Empty() bool {
	return len(c.New) == 0 && len(c.Gone) == 0 && len(c.NowSeen) == 0 && len(c.NoLongerSeen) == 0 &&
		len(c.Moved) == 0 && len(c.Protocols) == 0 && len(c.Traffic) == 0 && len(c.Page.Added) == 0 && len(c.Page.Removed) == 0
}

// EndpointChange is an endpoint one run contacted and the other did not.
type EndpointChange struct {
	Key string `json:"endpoint"`
	// Names are the names seen under the key: the name itself, and the
	// CNAME targets and numbered names folded into it.
	Names      []string `json:"names"`
	Documented bool     `json:"documented"`
	// Patterns are the patterns of the run's page that match it.
	Patterns  []string `json:"patterns"`
	Flows     int      `json:"flows"`
	Bytes     uint64   `json:"bytes"`
	Protocols []string `json:"protocols_seen"`
}

// Move is an endpoint both runs contacted, documented in one and not the
// other.
type Move struct {
	Key string `json:"endpoint"`
	// From and To are "documented" or "undocumented".
	From string `json:"from"`
	To   string `json:"to"`
	// Why is WhyPage or WhyTraffic; Patterns are the patterns that
	// documented it (in the run where it was documented).
	Why      string   `json:"why"`
	Patterns []string `json:"patterns"`
}

// ProtocolChange is an endpoint both runs contacted whose protocols differ
// ("HTTP", "TLS 1.3", "tcp/7680", ...).
type ProtocolChange struct {
	Key     string   `json:"endpoint"`
	From    []string `json:"from"`
	To      []string `json:"to"`
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
}

// TrafficChange is an endpoint both runs contacted whose flows or bytes per
// day changed by Thresholds.Ratio or more.
type TrafficChange struct {
	Key         string     `json:"endpoint"`
	FlowsFrom   int        `json:"flows_from"`
	FlowsTo     int        `json:"flows_to"`
	FlowsPerDay [2]float64 `json:"flows_per_day"`
	BytesFrom   uint64     `json:"bytes_from"`
	BytesTo     uint64     `json:"bytes_to"`
	BytesPerDay [2]float64 `json:"bytes_per_day"`
	// FlowsRatio and BytesRatio are to/from of the rates; +Inf is written
	// as 0 and does not occur: an endpoint absent from a run is New or Gone.
	FlowsRatio float64 `json:"flows_ratio"`
	BytesRatio float64 `json:"bytes_ratio"`
}

// PageChange is the difference between two runs' pages for their editions,
// keyed by catalog.EndpointKey.
type PageChange struct {
	FromPage string   `json:"from_page"`
	ToPage   string   `json:"to_page"`
	Added    []string `json:"added"`
	Removed  []string `json:"removed"`
}

// MatrixRow is one endpoint across the runs.
type MatrixRow struct {
	Key string `json:"endpoint"`
	// States has one of StateSeen, StateDocumented, StateBoth, StateNone
	// per run.
	States []string `json:"states"`
	// FirstSeen is the index of the first run that contacted it; -1 when
	// none did.
	FirstSeen int `json:"first_seen_in"`
	// Changed says the endpoint is not in the same state in every run.
	Changed bool `json:"changed"`
}

// facts is what one run held against its page says of each endpoint key.
type facts struct {
	names    map[string]*nameFacts // by key: what the VM contacted
	patterns map[string]bool       // by key: documented; true when traffic matched it
	exact    map[string]bool       // the page's patterns as written, for why a name moved
	report   *Report
}

type nameFacts struct {
	names     []string
	patterns  []string // documenting patterns, sorted
	flows     int
	bytes     uint64
	protocols []string
}

// Regress compares runs, each held against its own page (Compare), and
// returns the differences between those reports: runs[0] against
// runs[len-1], and with three runs or more the matrix. Two runs of the same
// packets held against the same page give empty Changes.
func Regress(runs []RegressRun, opt RegressOptions) (*Regression, error) {
	if len(runs) < 2 {
		return nil, fmt.Errorf("compare needs two runs or more; have %d", len(runs))
	}
	if opt.Ratio <= 0 {
		opt.Ratio = DefaultRatio
	}
	if opt.MinFlows <= 0 {
		opt.MinFlows = DefaultMinFlows
	}
	key := func(s string) string {
		k := catalog.EndpointKey(s)
		if opt.FoldNumbered {
			k = catalog.FoldNumbered(k)
		}
		return k
	}
	reg := &Regression{SchemaVersion: RegressionSchemaVersion, Thresholds: Thresholds{Ratio: opt.Ratio, MinFlows: opt.MinFlows}}
	if opt.FoldNumbered {
		reg.FoldNumbered = catalog.NumberedRule
	}
	all := make([]*facts, len(runs))
	for i, r := range runs {
		if !slices.Contains(r.Catalog.Editions(), r.Edition) {
			return nil, fmt.Errorf("run %d (%s): %s has no page for %s", i+1, r.Name, catalog.BuildTitle(r.Catalog.Build), r.Edition)
		}
		f, err := factsOf(r, key)
		if err != nil {
			return nil, fmt.Errorf("run %d (%s): %w", i+1, r.Name, err)
		}
		all[i] = f
		rr := RegressedRun{
			Name: r.Name, Build: r.Catalog.Build, Edition: string(r.Edition), LabelFrom: r.LabelFrom,
			Files: f.report.Files, First: f.report.First, Last: f.report.Last, Days: days(f.report),
			Flows: f.report.Totals.FlowsInScope, Seen: len(f.names), Damaged: len(r.Run.Damage) > 0,
		}
		ed := f.report.Editions[0]
		rr.Documented, rr.DocumentedSeen, rr.Undocumented = ed.Documented, len(ed.DocumentedSeen), len(ed.Undocumented)
		reg.Runs = append(reg.Runs, rr)
	}
	a, b := 0, len(runs)-1
	reg.Changes = changes(all[a], all[b], reg.Runs[a], reg.Runs[b], opt, key)
	reg.Changes.From, reg.Changes.To = a, b
	reg.Changes.Page = pageChange(runs[a], runs[b], opt.FoldNumbered)
	if len(runs) >= 3 {
		reg.Matrix = matrix(all)
	}
	return reg, nil
}

// factsOf holds r against its page and gathers, by key, the names seen and
// the patterns documented. A name met as another's CNAME target
// (classify.NameStat.Aliases) is counted under the front name that led to
// it.
func factsOf(r RegressRun, key func(string) string) (*facts, error) {
	rep, err := Compare(r.Run, r.Catalog, []catalog.Edition{r.Edition})
	if err != nil {
		return nil, err
	}
	ed := rep.Editions[0]
	f := &facts{names: map[string]*nameFacts{}, patterns: map[string]bool{}, exact: map[string]bool{}, report: rep}
	documentedBy := map[string][]string{} // name -> patterns
	for _, s := range ed.DocumentedSeen {
		f.exact[s.Pattern] = true
		f.patterns[key(s.Pattern)] = true
		for _, n := range s.Names {
			documentedBy[n] = append(documentedBy[n], s.Pattern)
		}
	}
	for _, s := range ed.DocumentedNotSeen {
		f.exact[s.Pattern] = true
		if k := key(s.Pattern); !f.patterns[k] {
			f.patterns[k] = false // several patterns may share a key: seen wins
		}
	}
	front := frontNames(r.Run)
	names := make([]string, 0, len(r.Run.Names))
	for n := range r.Run.Names {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		st := r.Run.Names[n]
		k := key(front[n])
		nf := f.names[k]
		if nf == nil {
			nf = &nameFacts{}
			f.names[k] = nf
		}
		nf.names = insertSorted(nf.names, n)
		for _, p := range documentedBy[n] {
			nf.patterns = insertSorted(nf.patterns, p)
		}
		nf.flows += st.Flows
		nf.bytes += st.BytesOut + st.BytesIn
		for _, p := range st.Protocols {
			nf.protocols = insertSorted(nf.protocols, p)
		}
	}
	return f, nil
}

// frontNames maps every name of the run to the front name it is shown
// under: itself, or, for a name met only as a CNAME target of another name
// (in its Aliases) and through DNS answers (no SNI or HTTP Host named it),
// that name, followed up the chain to a name that is no one's target. Of
// several front names the first in byte order is taken. A name a client
// asked for by SNI or Host is an endpoint of its own, documented or not, and
// is never folded into another.
func frontNames(run *classify.Run) map[string]string {
	parent := map[string]string{}
	names := make([]string, 0, len(run.Names))
	for n := range run.Names {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, a := range run.Names[n].Aliases {
			st := run.Names[a]
			if a == n || st == nil || st.Evidence[classify.EvidenceSNI] > 0 || st.Evidence[classify.EvidenceHTTPHost] > 0 {
				continue
			}
			if p, ok := parent[a]; !ok || n < p {
				parent[a] = n
			}
		}
	}
	// Each name is followed up the chain once: a walk stops at a name
	// whose front is known, and every name it passed gets that front, so
	// a chain of n names costs n steps, not n*n. A loop of aliases (a
	// crafted record, or answers that chain in a circle) has no name that
	// is no one's target: its names go under the first of the loop in
	// byte order.
	out := make(map[string]string, len(names))
	onPath := map[string]int{}
	var path []string
	for _, n := range names {
		clear(onPath)
		path = path[:0]
		f := n
		for {
			if r, ok := out[f]; ok {
				f = r
				break
			}
			if i, ok := onPath[f]; ok {
				f = slices.Min(path[i:])
				break
			}
			onPath[f] = len(path)
			path = append(path, f)
			p, ok := parent[f]
			if !ok {
				break // f is no one's target: the front
			}
			f = p
		}
		for _, x := range path {
			out[x] = f
		}
	}
	return out
}

// days is the length of the report's run in days, at least a second's.
func days(rep *Report) float64 {
	d := rep.Last.Sub(rep.First)
	if d < time.Second {
		d = time.Second
	}
	return d.Hours() / 24
}

func changes(a, b *facts, ra, rb RegressedRun, opt RegressOptions, key func(string) string) Changes {
	c := Changes{New: []EndpointChange{}, Gone: []EndpointChange{}, NowSeen: []string{}, NoLongerSeen: []string{},
		Moved: []Move{}, Protocols: []ProtocolChange{}, Traffic: []TrafficChange{}}
	for _, k := range sortedKeys(b.names) {
		if _, ok := a.names[k]; !ok {
			c.New = append(c.New, endpointChange(k, b.names[k]))
		}
	}
	for _, k := range sortedKeys(a.names) {
		nb, ok := b.names[k]
		if !ok {
			c.Gone = append(c.Gone, endpointChange(k, a.names[k]))
			continue
		}
		na := a.names[k]
		if da, db := len(na.patterns) > 0, len(nb.patterns) > 0; da != db {
			m := Move{Key: k, From: docWord(da), To: docWord(db), Why: WhyPage, Patterns: slices.Clone(na.patterns)}
			if db {
				m.Patterns = slices.Clone(nb.patterns)
			}
			// The pattern, as written, is on both pages: what differs is
			// the traffic. Keys would not do: "*.x.example" on one page and
			// "x.example" on the other are one key, but cover other names.
			onBoth := true
			for _, p := range m.Patterns {
				onBoth = onBoth && a.exact[p] && b.exact[p]
			}
			if onBoth {
				m.Why = WhyTraffic
			}
			c.Moved = append(c.Moved, m)
		}
		if !slices.Equal(na.protocols, nb.protocols) {
			c.Protocols = append(c.Protocols, ProtocolChange{Key: k, From: orEmpty(na.protocols), To: orEmpty(nb.protocols),
				Added: minus(nb.protocols, na.protocols), Removed: minus(na.protocols, nb.protocols)})
		}
		if t, ok := trafficChange(k, na, nb, ra.Days, rb.Days, opt); ok {
			c.Traffic = append(c.Traffic, t)
		}
	}
	for _, k := range sortedKeys(a.patterns) {
		seenB, ok := b.patterns[k]
		if !ok {
			continue // on one page only: Page says so
		}
		switch seenA := a.patterns[k]; {
		case !seenA && seenB:
			c.NowSeen = append(c.NowSeen, k)
		case seenA && !seenB:
			c.NoLongerSeen = append(c.NoLongerSeen, k)
		}
	}
	return c
}

func docWord(documented bool) string {
	if documented {
		return "documented"
	}
	return "undocumented"
}

func endpointChange(k string, n *nameFacts) EndpointChange {
	return EndpointChange{Key: k, Names: slices.Clone(n.names), Documented: len(n.patterns) > 0, Patterns: orEmpty(n.patterns),
		Flows: n.flows, Bytes: n.bytes, Protocols: orEmpty(n.protocols)}
}

// trafficChange reports a change of flows or bytes per day by opt.Ratio or
// more, when the busier run has opt.MinFlows flows of the endpoint.
func trafficChange(k string, a, b *nameFacts, daysA, daysB float64, opt RegressOptions) (TrafficChange, bool) {
	if max(a.flows, b.flows) < opt.MinFlows || a.flows == 0 || b.flows == 0 {
		return TrafficChange{}, false
	}
	t := TrafficChange{Key: k, FlowsFrom: a.flows, FlowsTo: b.flows, BytesFrom: a.bytes, BytesTo: b.bytes,
		FlowsPerDay: [2]float64{round2(float64(a.flows) / daysA), round2(float64(b.flows) / daysB)},
		BytesPerDay: [2]float64{round2(float64(a.bytes) / daysA), round2(float64(b.bytes) / daysB)}}
	// Decided on the ratios as computed; rounded for the report only, to
	// two significant digits, so that a drop of 1000x is 0.001, not 0.
	flows := (float64(b.flows) / daysB) / (float64(a.flows) / daysA)
	bytes := 0.0
	if a.bytes > 0 {
		bytes = (float64(b.bytes) / daysB) / (float64(a.bytes) / daysA)
	}
	t.FlowsRatio, t.BytesRatio = roundSignificant(flows), roundSignificant(bytes)
	far := func(r float64) bool { return r > 0 && (r >= opt.Ratio || r <= 1/opt.Ratio) }
	return t, far(flows) || far(bytes)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// roundSignificant rounds a positive ratio to two significant digits, and
// to two decimals at least (1.5, 0.25, 0.0013).
func roundSignificant(x float64) float64 {
	if x <= 0 || x >= 1 {
		return round2(x)
	}
	p := math.Pow(10, 1-math.Floor(math.Log10(x)))
	return math.Round(x*p) / p
}

// pageChange is what b's page lists for its edition that a's does not, and
// the reverse, by key (catalog.DiffEditions).
func pageChange(a, b RegressRun, fold bool) PageChange {
	pc := PageChange{
		FromPage: catalog.BuildTitle(a.Catalog.Build) + " " + EditionTitle(string(a.Edition)),
		ToPage:   catalog.BuildTitle(b.Catalog.Build) + " " + EditionTitle(string(b.Edition)),
		Added:    []string{},
		Removed:  []string{},
	}
	for _, c := range catalog.DiffEditions(a.Catalog, a.Edition, b.Catalog, b.Edition, catalog.DiffOptions{FoldNumbered: fold}) {
		switch c.Kind {
		case catalog.Added:
			pc.Added = append(pc.Added, c.Key)
		case catalog.Removed:
			pc.Removed = append(pc.Removed, c.Key)
		}
	}
	return pc
}

// matrix has a row per key any run saw or documented: rows whose state
// changes first, by the first run that saw them, then the others, each by
// key.
func matrix(all []*facts) []MatrixRow {
	keys := map[string]bool{}
	for _, f := range all {
		for k := range f.names {
			keys[k] = true
		}
		for k := range f.patterns {
			keys[k] = true
		}
	}
	rows := make([]MatrixRow, 0, len(keys))
	for _, k := range sortedKeys(keys) {
		r := MatrixRow{Key: k, States: make([]string, len(all)), FirstSeen: -1}
		for i, f := range all {
			n, seen := f.names[k]
			patSeen, doc := f.patterns[k]
			documented := doc || (seen && len(n.patterns) > 0)
			seen = seen || patSeen
			switch {
			case seen && documented:
				r.States[i] = StateBoth
			case seen:
				r.States[i] = StateSeen
			case documented:
				r.States[i] = StateDocumented
			}
			if seen && r.FirstSeen < 0 {
				r.FirstSeen = i
			}
			r.Changed = r.Changed || r.States[i] != r.States[0]
		}
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Changed != b.Changed {
			return a.Changed
		}
		fa, fb := a.FirstSeen, b.FirstSeen
		if fa < 0 {
			fa = len(all)
		}
		if fb < 0 {
			fb = len(all)
		}
		return fa < fb
	})
	return rows
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// minus is the elements of a not in b; both sorted.
func minus(a, b []string) []string {
	out := []string{}
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// What --fail-on looks for (Regression.Finds).
const (
	FindNew             = "new"              // an endpoint the last run contacted and the first did not
	FindNewUndocumented = "new-undocumented" // one of those that the last run's page does not document
	FindGone            = "gone"             // an endpoint the first run contacted and the last did not
	FindAny             = "any"              // any change at all, page and matrix included
)

// FindKinds lists what Finds takes.
var FindKinds = []string{FindNew, FindNewUndocumented, FindGone, FindAny}

// Finds reports whether the comparison found what: FindNew, FindGone and
// FindNewUndocumented look at Changes (first run to last), FindAny at
// Changes and at every row of Matrix. An unknown what finds nothing.
func (reg *Regression) Finds(what string) bool {
	c := &reg.Changes
	switch what {
	case FindNew:
		return len(c.New) > 0
	case FindNewUndocumented:
		return slices.ContainsFunc(c.New, func(e EndpointChange) bool { return !e.Documented })
	case FindGone:
		return len(c.Gone) > 0
	case FindAny:
		return !c.Empty() || slices.ContainsFunc(reg.Matrix, func(r MatrixRow) bool { return r.Changed })
	}
	return false
}
