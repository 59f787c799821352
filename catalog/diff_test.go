package catalog

import (
	"slices"
	"testing"
)

func loadT(t *testing.T, build string) *Catalog {
	t.Helper()
	c, err := Load(build)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func keysOf(cs []Change, kind ChangeKind) []string {
	var out []string
	for _, c := range cs {
		if c.Kind == kind {
			out = append(out, c.Key)
		}
	}
	return out
}

// TestDiffKnownFacts holds Diff to what the pages are known to say.
func TestDiffKnownFacts(t *testing.T) {
	if d := Diff(loadT(t, "windows-10-20H2"), loadT(t, "windows-10-21H1"), Enterprise, DiffOptions{}); len(d) != 0 {
		t.Errorf("Diff(20H2, 21H1, enterprise) = %d changes (first %s); want none", len(d), d[0].Key)
	}
	// The rewording DiffOptions.Descriptions documents.
	if d := Diff(loadT(t, "windows-10-20H2"), loadT(t, "windows-10-21H1"), Enterprise, DiffOptions{Descriptions: true}); len(d) != 9 {
		t.Errorf("Diff(20H2, 21H1, enterprise, descriptions) = %d changes; want 9", len(d))
	}
	d := Diff(loadT(t, "windows-10-21H1"), loadT(t, "windows-10-21H2"), Enterprise, DiffOptions{})
	if got, want := keysOf(d, Removed), []string{"v20.events.data.microsoft.com", "www.microsoft.com"}; !slices.Equal(got, want) {
		t.Errorf("Diff(21H1, 21H2, enterprise) removed = %q; want %q", got, want)
	}
	for _, c := range d {
		if c.Kind == Removed && len(c.From.Sources) == 0 {
			t.Errorf("removed %s has no source rows", c.Key)
		}
	}
}

func TestDiffKeysAndFold(t *testing.T) {
	mk := func(rows ...Entry) *Catalog {
		for i := range rows {
			rows[i].Editions, rows[i].Listed = []Edition{Enterprise}, Enterprise
		}
		return &Catalog{Entries: rows}
	}
	from := mk(
		Entry{Pattern: "*.wns.windows.com", Protocols: []Protocol{HTTPS}, Description: "push"},
		Entry{Pattern: "v10.events.data.microsoft.com", Protocols: []Protocol{TLS12}},
		Entry{Pattern: "gone.example", Protocols: []Protocol{HTTP}},
		Entry{Pattern: "no-area.example", Area: ""},
		Entry{Pattern: "moved.example", Area: "Apps"},
	)
	to := mk(
		Entry{Pattern: "wns.windows.com", Protocols: []Protocol{HTTPS}, Description: "push"},
		Entry{Pattern: "v20.events.data.microsoft.com", Protocols: []Protocol{TLS12}},
		Entry{Pattern: "gone.example", Protocols: []Protocol{HTTP, HTTPS}},
		Entry{Pattern: "no-area.example", Area: "Apps"},
		Entry{Pattern: "moved.example", Area: "Store"},
	)
	d := Diff(from, to, Enterprise, DiffOptions{})
	if got, want := keysOf(d, Added), []string{"v20.events.data.microsoft.com"}; !slices.Equal(got, want) {
		t.Errorf("added = %q; want %q (a wildcard gained or lost is a change of patterns, not an addition)", got, want)
	}
	changed := map[string]Change{}
	for _, c := range d {
		if c.Kind == Changed {
			changed[c.Key] = c
		}
	}
	if g, m, w := changed["gone.example"], changed["moved.example"], changed["wns.windows.com"]; len(changed) != 3 ||
		!g.ProtocolsChanged || g.AreaChanged || g.PatternsChanged ||
		m.ProtocolsChanged || !m.AreaChanged || m.PatternsChanged ||
		w.ProtocolsChanged || w.AreaChanged || !w.PatternsChanged {
		t.Errorf("changed = %+v; want gone.example by protocols, moved.example by area (an area where there was none is no change), wns.windows.com by its patterns", changed)
	}
	d = Diff(from, to, Enterprise, DiffOptions{FoldNumbered: true})
	if got := keysOf(d, Added); len(got) != 0 {
		t.Errorf("folded: added = %q; want none (v10 and v20 fold to v#)", got)
	}
	if d := Diff(from, to, Home, DiffOptions{}); len(d) != 0 {
		t.Errorf("Diff for an edition neither documents = %+v; want none", d)
	}
}
