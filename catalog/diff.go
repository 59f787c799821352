package catalog

import (
	"slices"
	"sort"
	"strings"
)

// ChangeKind says how an endpoint differs between two catalogs.
type ChangeKind string

// Change kinds.
const (
	Added   ChangeKind = "added"   // in the second catalog only
	Removed ChangeKind = "removed" // in the first catalog only
	Changed ChangeKind = "changed" // in both, with other protocols or descriptions
)

// DiffOptions are Diff's choices; the zero value diffs by EndpointKey alone.
type DiffOptions struct {
	// FoldNumbered also folds keys with FoldNumbered (NumberedRule), so that
	// v10.events.data.microsoft.com and v20.events.data.microsoft.com are one
	// endpoint. A caller that sets it names NumberedRule in its output.
	FoldNumbered bool
	// Descriptions also compares the description text. Off, an endpoint is
	// Changed by its protocols and areas only: the pages reword
	// descriptions between builds without changing what they say (20H2 to
	// 21H1 Enterprise: 9 of 9 description differences are case, "didn't"
	// for "did not", "Microsoft Store" for "Store"), which would hide the
	// changes that matter.
	Descriptions bool
}

// DiffSide is an endpoint as one catalog documents it for the edition: the
// patterns that meet at the key, their protocols (union), their distinct
// areas (case folded: "Diagnostic Data" is "Diagnostic data") and
// descriptions, each sorted, and the rows documenting them (ForEdition's Sources, in
// pattern order).
type DiffSide struct {
	Patterns     []string   `json:"patterns"`
	Protocols    []Protocol `json:"protocols"`
	Areas        []string   `json:"areas"`
	Descriptions []string   `json:"descriptions"`
	Sources      []Entry    `json:"-"`
}

// Change is one endpoint that differs. From is the zero DiffSide for
// Added, To for Removed.
type Change struct {
	Key  string     `json:"key"`
	Kind ChangeKind `json:"kind"`
	From DiffSide   `json:"from"`
	To   DiffSide   `json:"to"`
	// ProtocolsChanged, AreaChanged and DescriptionChanged say what
	// changed, for Changed; DescriptionChanged only with
	// DiffOptions.Descriptions.
	ProtocolsChanged   bool `json:"protocols_changed"`
	AreaChanged        bool `json:"area_changed"`
	DescriptionChanged bool `json:"description_changed"`
	// PatternsChanged says the patterns as written differ, though they meet
	// at one key: a wildcard gained or lost ("*.x.example" for
	// "x.example") changes which names the page covers.
	PatternsChanged bool `json:"patterns_changed"`
}

// Diff returns how edition ed's endpoints differ from catalog from to
// catalog to, sorted by key. Endpoints are keyed by EndpointKey (and
// FoldNumbered when opt says so), so "*.wns.windows.com" in one and
// "wns.windows.com" in the other are one endpoint, not a removal and an
// addition. An endpoint in both is Changed when the union of its protocols
// or the set of its areas differs (or of its descriptions, with
// opt.Descriptions); areas only when both sides have one, since the
// three-column pages (non-Enterprise, 1709-2004) have none; or when its
// patterns as written differ (PatternsChanged: a wildcard gained or lost
// changes which names are covered). A change of page line alone is no
// change. An edition a catalog has no
// page for has no endpoints there (21H2 has Enterprise only): every
// endpoint of the other is Added or Removed. Neither catalog is modified.
func Diff(from, to *Catalog, ed Edition, opt DiffOptions) []Change {
	return DiffEditions(from, ed, to, ed, opt)
}

// DiffEditions is Diff between edition fromEd of from and edition toEd of
// to: phonehome compare holds each run against its own build and edition.
func DiffEditions(from *Catalog, fromEd Edition, to *Catalog, toEd Edition, opt DiffOptions) []Change {
	a, b := diffSides(from, fromEd, opt), diffSides(to, toEd, opt)
	var out []Change
	for k, sa := range a {
		sb, ok := b[k]
		if !ok {
			out = append(out, Change{Key: k, Kind: Removed, From: *sa})
			continue
		}
		c := Change{
			Key: k, Kind: Changed, From: *sa, To: *sb,
			ProtocolsChanged:   !slices.Equal(sa.Protocols, sb.Protocols),
			AreaChanged:        len(sa.Areas) > 0 && len(sb.Areas) > 0 && !slices.EqualFunc(sa.Areas, sb.Areas, strings.EqualFold),
			DescriptionChanged: opt.Descriptions && !slices.Equal(sa.Descriptions, sb.Descriptions),
			PatternsChanged:    !slices.Equal(lowerSorted(sa.Patterns), lowerSorted(sb.Patterns)),
		}
		if c.ProtocolsChanged || c.AreaChanged || c.DescriptionChanged || c.PatternsChanged {
			out = append(out, c)
		}
	}
	for k, sb := range b {
		if _, ok := a[k]; !ok {
			out = append(out, Change{Key: k, Kind: Added, To: *sb})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func diffSides(c *Catalog, ed Edition, opt DiffOptions) map[string]*DiffSide {
	m := map[string]*DiffSide{}
	for _, ep := range c.ForEdition(ed) {
		k := EndpointKey(ep.Pattern)
		if opt.FoldNumbered {
			k = FoldNumbered(k)
		}
		s := m[k]
		if s == nil {
			s = &DiffSide{}
			m[k] = s
		}
		s.Patterns = append(s.Patterns, ep.Pattern)
		s.Protocols = unionProtocols(s.Protocols, ep.Protocols)
		for _, e := range ep.Sources {
			s.Sources = append(s.Sources, e)
			if e.Area != "" && !slices.ContainsFunc(s.Areas, func(a string) bool { return strings.EqualFold(a, e.Area) }) {
				s.Areas = append(s.Areas, e.Area)
			}
			if e.Description != "" && !slices.Contains(s.Descriptions, e.Description) {
				s.Descriptions = append(s.Descriptions, e.Description)
			}
		}
	}
	for _, s := range m {
		sort.Slice(s.Areas, func(i, j int) bool { return strings.ToLower(s.Areas[i]) < strings.ToLower(s.Areas[j]) })
		sort.Strings(s.Descriptions) // a set: the order rows come in is no change
	}
	return m
}

// lowerSorted is the patterns in lower case, sorted and without repeats.
func lowerSorted(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = strings.ToLower(p)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
