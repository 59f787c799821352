package reports

import (
	"testing"

	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
)

// TestAreaTraffic: a name counts once per area however many of the area's
// patterns it matched, and in each area its patterns lie in; rows without
// an area are one group; busiest first.
func TestAreaTraffic(t *testing.T) {
	ep := func(p, area string) catalog.Endpoint {
		return catalog.Endpoint{Pattern: p, Sources: []catalog.Entry{{Pattern: p, Area: area}}}
	}
	entries := []catalog.Endpoint{ep("a.example", "Update"), ep("*.a.example", "Update"), ep("b.example", "Telemetry"), ep("c.example", "")}
	st := func(name string, flows int) *classify.NameStat {
		n := nameStat(name, "sni")
		n.Flows = flows
		return n
	}
	names := []*classify.NameStat{st("a.example", 3), st("x.a.example", 1), st("b.example", 5), st("c.example", 2)}
	seen := []Seen{
		{Pattern: "a.example", Names: []string{"a.example"}},
		{Pattern: "*.a.example", Names: []string{"x.a.example", "a.example"}},
		{Pattern: "b.example", Names: []string{"b.example", "a.example"}}, // a.example in two areas
		{Pattern: "c.example", Names: []string{"c.example"}},
	}
	got := areaTraffic(seen, entries, names)
	want := []struct {
		area                string
		hosts, names, flows int
	}{{"Telemetry", 1, 2, 8}, {"Update", 1, 2, 4}, {"", 1, 1, 2}}
	if len(got) != len(want) {
		t.Fatalf("areas = %+v; want %d", got, len(want))
	}
	for i, w := range want {
		if g := got[i]; g.Area != w.area || g.Hosts != w.hosts || g.Names != w.names || g.Flows != w.flows {
			t.Errorf("area %d = %q: %d hosts, %d names, %d flows; want %q: %d, %d, %d", i, g.Area, g.Hosts, g.Names, g.Flows, w.area, w.hosts, w.names, w.flows)
		}
	}
}
