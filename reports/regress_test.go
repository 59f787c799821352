package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
)

// pageOf is a catalog of one Pro page listing patterns, built in Go.
func pageOf(build string, patterns ...string) *catalog.Catalog {
	c := &catalog.Catalog{Build: build}
	for i, p := range patterns {
		c.Entries = append(c.Entries, catalog.Entry{Pattern: p, Destination: p, Protocols: []catalog.Protocol{catalog.HTTPS},
			Editions: []catalog.Edition{catalog.Pro}, Listed: catalog.Pro, File: build + ".md", Line: i + 1})
	}
	sort.Slice(c.Entries, func(i, j int) bool { return c.Entries[i].Pattern < c.Entries[j].Pattern })
	return c
}

// flows is a name seen in n flows of 1 000 bytes each, over protocols.
func flows(name string, n int, protocols ...string) *classify.NameStat {
	s := nameStat(name, "sni")
	s.Flows, s.BytesOut, s.BytesIn = n, uint64(n)*400, uint64(n)*600
	if len(protocols) > 0 {
		s.Protocols = protocols
	}
	return s
}

// runOf is a run of names lasting d.
func runOf(d time.Duration, names ...*classify.NameStat) *classify.Run {
	r := testRun(names...)
	r.Last = r.First.Add(d)
	return r
}

func regress(t *testing.T, opt RegressOptions, runs ...RegressRun) *Regression {
	t.Helper()
	reg, err := Regress(runs, opt)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func rr(name string, run *classify.Run, cat *catalog.Catalog) RegressRun {
	return RegressRun{Name: name, Run: run, Catalog: cat, Edition: catalog.Pro, LabelFrom: "test"}
}

func keys(list []EndpointChange) string {
	var out []string
	for _, e := range list {
		out = append(out, e.Key)
	}
	return strings.Join(out, " ")
}

func TestRegressNewAndGone(t *testing.T) {
	page := pageOf("p", "*.wns.windows.com", "settings-win.data.microsoft.com")
	a := runOf(time.Hour, flows("settings-win.data.microsoft.com", 1), flows("old.example.com", 1))
	b := runOf(time.Hour, flows("settings-win.data.microsoft.com", 1), flows("new.example.com", 1), flows("client.wns.windows.com", 1))
	reg := regress(t, RegressOptions{}, rr("a", a, page), rr("b", b, page))
	c := reg.Changes
	if g := keys(c.New); g != "client.wns.windows.com new.example.com" {
		t.Errorf("new = %q; want client.wns.windows.com new.example.com", g)
	}
	if g := keys(c.Gone); g != "old.example.com" {
		t.Errorf("gone = %q; want old.example.com", g)
	}
	if !c.New[0].Documented || c.New[1].Documented || !slices.Equal(c.New[0].Patterns, []string{"*.wns.windows.com"}) {
		t.Errorf("new = %+v; want client.wns.windows.com documented by *.wns.windows.com, new.example.com not", c.New)
	}
	for _, tc := range []struct {
		what string
		want bool
	}{{FindNew, true}, {FindNewUndocumented, true}, {FindGone, true}, {FindAny, true}, {"nonsense", false}} {
		if g := reg.Finds(tc.what); g != tc.want {
			t.Errorf("Finds(%s) = %v; want %v", tc.what, g, tc.want)
		}
	}
	// Only documented names are new the other way round: not
	// new-undocumented.
	reg = regress(t, RegressOptions{}, rr("a", a, page), rr("b", runOf(time.Hour, flows("settings-win.data.microsoft.com", 1),
		flows("old.example.com", 1), flows("client.wns.windows.com", 1)), page))
	if !reg.Finds(FindNew) || reg.Finds(FindNewUndocumented) || reg.Finds(FindGone) {
		t.Errorf("a documented name added: Finds new, new-undocumented, gone = %v, %v, %v; want true, false, false",
			reg.Finds(FindNew), reg.Finds(FindNewUndocumented), reg.Finds(FindGone))
	}
}

func TestRegressSameRunIsEmpty(t *testing.T) {
	page := pageOf("p", "*.wns.windows.com", "settings-win.data.microsoft.com")
	run := func() *classify.Run {
		return runOf(time.Hour, flows("settings-win.data.microsoft.com", 9, "TLS 1.3"), flows("x.example.com", 7, "HTTP"))
	}
	reg := regress(t, RegressOptions{}, rr("a", run(), page), rr("b", run(), page))
	if !reg.Changes.Empty() {
		t.Errorf("changes = %+v; want none", reg.Changes)
	}
	for _, what := range FindKinds {
		if reg.Finds(what) {
			t.Errorf("Finds(%s) = true for a run against itself; want false", what)
		}
	}
	reg = regress(t, RegressOptions{}, rr("a", run(), page), rr("b", run(), page), rr("c", run(), page))
	if reg.Finds(FindAny) {
		t.Errorf("three equal runs: Finds(any) = true; want false (matrix %+v)", reg.Matrix)
	}
}

func TestRegressDocumentedSeen(t *testing.T) {
	page := pageOf("p", "login.live.com", "*.update.microsoft.com", "arc.msn.com")
	a := runOf(time.Hour, flows("login.live.com", 1), flows("arc.msn.com", 1))
	b := runOf(time.Hour, flows("login.live.com", 1), flows("slscr.update.microsoft.com", 1))
	c := regress(t, RegressOptions{}, rr("a", a, page), rr("b", b, page)).Changes
	if !slices.Equal(c.NowSeen, []string{"update.microsoft.com"}) || !slices.Equal(c.NoLongerSeen, []string{"arc.msn.com"}) {
		t.Errorf("now seen %q, no longer seen %q; want [update.microsoft.com], [arc.msn.com]", c.NowSeen, c.NoLongerSeen)
	}
}

func TestRegressMovedWhy(t *testing.T) {
	run := func() *classify.Run {
		return runOf(time.Hour, flows("dmd.metaservices.microsoft.com", 1), flows("ctldl.windowsupdate.com", 1))
	}
	t.Run("page", func(t *testing.T) {
		c := regress(t, RegressOptions{}, rr("a", run(), pageOf("old", "x.example.com")),
			rr("b", run(), pageOf("new", "dmd.metaservices.microsoft.com"))).Changes
		want := []Move{{Key: "dmd.metaservices.microsoft.com", From: "undocumented", To: "documented", Why: WhyPage,
			Patterns: []string{"dmd.metaservices.microsoft.com"}}}
		if mustJSON(t, c.Moved) != mustJSON(t, want) {
			t.Errorf("moved = %+v; want dmd.metaservices.microsoft.com undocumented to documented, why page", c.Moved)
		}
		if !slices.Equal(c.Page.Added, []string{"dmd.metaservices.microsoft.com"}) || !slices.Equal(c.Page.Removed, []string{"x.example.com"}) {
			t.Errorf("page added %q, removed %q; want [dmd.metaservices.microsoft.com], [x.example.com]", c.Page.Added, c.Page.Removed)
		}
		if len(c.New)+len(c.Gone) != 0 {
			t.Errorf("new %v, gone %v; want none: the same traffic", c.New, c.Gone)
		}
	})
	t.Run("traffic", func(t *testing.T) {
		page := pageOf("p", "ctldl.windowsupdate.com/msdownload/*")
		a := run()
		a.Names["ctldl.windowsupdate.com"] = nameStat("ctldl.windowsupdate.com", "http-host", "/msdownload/x.cab")
		b := run()
		b.Names["ctldl.windowsupdate.com"] = nameStat("ctldl.windowsupdate.com", "http-host", "/other")
		c := regress(t, RegressOptions{}, rr("a", a, page), rr("b", b, page)).Changes
		if len(c.Moved) != 1 || c.Moved[0].Why != WhyTraffic || c.Moved[0].From != "documented" {
			t.Errorf("moved = %+v; want ctldl.windowsupdate.com documented to undocumented, why traffic", c.Moved)
		}
	})
}

func TestRegressProtocols(t *testing.T) {
	page := pageOf("p", "unrelated.example.org")
	a := runOf(time.Hour, flows("a.example.com", 1, "TLS 1.2"), flows("b.example.com", 1, "TLS 1.3"))
	b := runOf(time.Hour, flows("a.example.com", 1, "TLS 1.3"), flows("b.example.com", 1, "HTTP"))
	c := regress(t, RegressOptions{}, rr("a", a, page), rr("b", b, page)).Changes
	want := []ProtocolChange{
		{Key: "a.example.com", From: []string{"TLS 1.2"}, To: []string{"TLS 1.3"}, Added: []string{"TLS 1.3"}, Removed: []string{"TLS 1.2"}},
		{Key: "b.example.com", From: []string{"TLS 1.3"}, To: []string{"HTTP"}, Added: []string{"HTTP"}, Removed: []string{"TLS 1.3"}},
	}
	if g, w := mustJSON(t, c.Protocols), mustJSON(t, want); g != w {
		t.Errorf("protocols = %s; want %s", g, w)
	}
}

func TestRegressTrafficPerDay(t *testing.T) {
	page := pageOf("p", "unrelated.example.org")
	for _, tc := range []struct {
		name           string
		flowsA, dA     int // flows, days
		flowsB, dB     int
		opt            RegressOptions
		want           bool
		wantFlowsRatio float64
	}{
		{"same_rate_3_days_and_7", 30, 3, 70, 7, RegressOptions{}, false, 1},
		{"doubled_per_day", 30, 3, 140, 7, RegressOptions{}, true, 2},
		{"halved_per_day", 60, 3, 70, 7, RegressOptions{}, true, 0.5},
		{"below_ratio", 30, 3, 130, 7, RegressOptions{}, false, 1.86},
		{"below_min_flows", 1, 3, 4, 3, RegressOptions{}, false, 4},
		{"min_flows_lowered", 1, 3, 4, 3, RegressOptions{MinFlows: 2}, true, 4},
		{"ratio_raised", 30, 3, 140, 7, RegressOptions{Ratio: 3}, false, 2},
		{"dropped_1000x", 3000, 1, 3, 1, RegressOptions{}, true, 0.001},
		{"dropped_700x", 2100, 1, 9, 3, RegressOptions{}, true, 0.0014},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := runOf(time.Duration(tc.dA)*24*time.Hour, flows("a.example.com", tc.flowsA))
			b := runOf(time.Duration(tc.dB)*24*time.Hour, flows("a.example.com", tc.flowsB))
			tr := regress(t, tc.opt, rr("a", a, page), rr("b", b, page)).Changes.Traffic
			if got := len(tr) == 1; got != tc.want {
				t.Fatalf("traffic = %+v; want reported %v", tr, tc.want)
			}
			if tc.want && tr[0].FlowsRatio != tc.wantFlowsRatio {
				t.Errorf("flows ratio = %v; want %v", tr[0].FlowsRatio, tc.wantFlowsRatio)
			}
		})
	}
}

func TestRegressNormalises(t *testing.T) {
	page := pageOf("p", "*.wns.windows.com")
	t.Run("cname_target_under_front_name", func(t *testing.T) {
		front := flows("settings-win.data.microsoft.com", 1)
		front.Aliases = []string{"settings-win.data.microsoft.com.akadns.net", "atm-settingsfe-prod.trafficmanager.net"}
		target := flows("atm-settingsfe-prod.trafficmanager.net", 1)
		target.Evidence = map[string]int{classify.EvidenceDNS: 1}
		a := runOf(time.Hour, front, target)
		front2 := flows("settings-win.data.microsoft.com", 2)
		front2.Aliases = front.Aliases
		b := runOf(time.Hour, front2)
		reg := regress(t, RegressOptions{}, rr("a", a, page), rr("b", b, page))
		if !reg.Changes.Empty() {
			t.Errorf("changes = %+v; want none: the trafficmanager.net name counts under its front name", reg.Changes)
		}
		if reg.Runs[0].Seen != 1 {
			t.Errorf("run a: %d endpoints seen; want 1", reg.Runs[0].Seen)
		}
	})
	t.Run("cname_target_named_by_sni_stays", func(t *testing.T) {
		front := flows("wns.example.net", 1)
		front.Aliases = []string{"client.wns.windows.com"}
		a := runOf(time.Hour, front, flows("client.wns.windows.com", 1))
		b := runOf(time.Hour, front)
		c := regress(t, RegressOptions{}, rr("a", a, page), rr("b", b, page)).Changes
		if g := keys(c.Gone); g != "client.wns.windows.com" {
			t.Errorf("gone = %q; want client.wns.windows.com: a name asked for by SNI is its own endpoint", g)
		}
	})
	t.Run("pattern_meets_plain_host", func(t *testing.T) {
		a := runOf(time.Hour)
		b := runOf(time.Hour, flows("wns.windows.com", 1))
		reg := regress(t, RegressOptions{}, rr("a", a, page), rr("b", b, page), rr("c", b, page))
		var row *MatrixRow
		for i := range reg.Matrix {
			if reg.Matrix[i].Key == "wns.windows.com" {
				row = &reg.Matrix[i]
			}
		}
		if row == nil || len(reg.Matrix) != 1 {
			t.Fatalf("matrix = %+v; want one row, wns.windows.com", reg.Matrix)
		}
		if !slices.Equal(row.States, []string{StateDocumented, StateBoth, StateBoth}) || row.FirstSeen != 1 || !row.Changed {
			t.Errorf("row = %+v; want documented, both, both; first seen in 1; changed", row)
		}
	})
	t.Run("fold_numbered", func(t *testing.T) {
		a := runOf(time.Hour, flows("v10.events.data.microsoft.com", 1))
		b := runOf(time.Hour, flows("v20.events.data.microsoft.com", 1))
		reg := regress(t, RegressOptions{}, rr("a", a, page), rr("b", b, page))
		if len(reg.Changes.New) != 1 || reg.FoldNumbered != "" {
			t.Errorf("unfolded: new = %+v, fold %q; want v20 new, no rule named", reg.Changes.New, reg.FoldNumbered)
		}
		reg = regress(t, RegressOptions{FoldNumbered: true}, rr("a", a, page), rr("b", b, page))
		if !reg.Changes.Empty() || reg.FoldNumbered != catalog.NumberedRule {
			t.Errorf("folded: changes = %+v, fold %q; want none and catalog.NumberedRule", reg.Changes, reg.FoldNumbered)
		}
	})
}

func TestRegressMatrixOrder(t *testing.T) {
	page := pageOf("p", "a.example.com")
	r1 := runOf(time.Hour, flows("a.example.com", 1), flows("steady.example.com", 1))
	r2 := runOf(time.Hour, flows("a.example.com", 1), flows("steady.example.com", 1), flows("two.example.com", 1))
	r3 := runOf(time.Hour, flows("steady.example.com", 1), flows("two.example.com", 1), flows("three.example.com", 1))
	reg := regress(t, RegressOptions{}, rr("1", r1, page), rr("2", r2, page), rr("3", r3, page))
	var got []string
	for _, r := range reg.Matrix {
		got = append(got, r.Key+":"+strings.Join(r.States, ","))
	}
	want := []string{
		"a.example.com:both,both,documented", // changed, first seen in run 1
		"two.example.com:,seen,seen",         // changed, run 2
		"three.example.com:,,seen",           // changed, run 3
		"steady.example.com:seen,seen,seen",  // the same throughout
	}
	if !slices.Equal(got, want) {
		t.Errorf("matrix = %q; want %q", got, want)
	}
	if g := keys(reg.Changes.New) + "|" + keys(reg.Changes.Gone); g != "three.example.com two.example.com|a.example.com" {
		t.Errorf("changes from run 1 to run 3: new|gone = %q; want three.example.com two.example.com|a.example.com", g)
	}
}

func TestRegressNeedsTwoRuns(t *testing.T) {
	if _, err := Regress([]RegressRun{rr("a", runOf(time.Hour), pageOf("p"))}, RegressOptions{}); err == nil {
		t.Error("Regress of one run = nil error; want one")
	}
	bad := rr("a", runOf(time.Hour), pageOf("p", "unrelated.example.org"))
	bad.Edition = catalog.Home
	if _, err := Regress([]RegressRun{bad, bad}, RegressOptions{}); err == nil || !strings.Contains(err.Error(), "no page for home") {
		t.Errorf("Regress on an edition without a page = %v; want an error naming it", err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hostileRegression is a comparison in which host is new in the second run
// (not documented), the first run's name, and a protocol of an endpoint that
// both runs contacted; the runs' names are hostile too.
func hostileRegression(t *testing.T, host string) *Regression {
	t.Helper()
	page := pageOf("p", "settings-win.data.microsoft.com")
	a := runOf(time.Hour, flows("settings-win.data.microsoft.com", 1, "TLS 1.3"))
	b := runOf(time.Hour, flows("settings-win.data.microsoft.com", 1, host), flows(host, 1))
	c := runOf(time.Hour, flows("settings-win.data.microsoft.com", 1, host), flows(host, 1))
	return regress(t, RegressOptions{}, rr(host, a, page), rr("b", b, page), rr("c", c, pageOf(host, "x.example.com")))
}

func TestRegressionHostileNames(t *testing.T) {
	for name, host := range hostile {
		t.Run(name, func(t *testing.T) {
			reg := hostileRegression(t, host)
			if len(reg.Changes.New) != 1 || len(reg.Matrix) == 0 {
				t.Fatalf("new = %+v, matrix %d rows; want the name new and a matrix", reg.Changes.New, len(reg.Matrix))
			}
			var b bytes.Buffer
			if err := RegressionText(&b, reg); err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(b.String(), "\n") {
				if strings.IndexFunc(line, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) >= 0 {
					t.Errorf("text line %d holds a raw control or format character: %q", i+1, line)
				}
			}
			b.Reset()
			if err := RegressionMarkdown(&b, reg); err != nil {
				t.Fatal(err)
			}
			pipes := -1
			for i, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
				raw := unescaped(line)
				for _, r := range raw {
					if strings.ContainsRune("`<>[]*_~&", r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
						t.Errorf("markdown line %d holds %q unescaped: %q", i+1, r, line)
					}
				}
				for _, link := range []string{"www.", "://", "@"} {
					if strings.Contains(raw, link) {
						t.Errorf("markdown line %d holds an autolink start %q: %q", i+1, link, line)
					}
				}
				if strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "# phonehome: ") && !strings.HasPrefix(line, "## ") && !strings.HasPrefix(line, "### ") {
					t.Errorf("markdown line %d is an unexpected heading: %q", i+1, line)
				}
				if !strings.HasPrefix(line, "|") {
					pipes = -1
					continue
				}
				if n := strings.Count(raw, "|"); pipes < 0 {
					pipes = n
				} else if n != pipes {
					t.Errorf("markdown line %d has %d cell borders; its header has %d: %q", i+1, n, pipes, line)
				}
			}
			b.Reset()
			if err := RegressionHTML(&b, reg); err != nil {
				t.Fatal(err)
			}
			text := htmlCheck(t, b.String())
			if !strings.Contains(text, Terminal(catalog.EndpointKey(host))) {
				t.Errorf("the page's text does not hold %q", Terminal(catalog.EndpointKey(host)))
			}
			for _, r := range text {
				if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
					t.Errorf("the page's text holds %U raw", r)
				}
			}
			b.Reset()
			if err := RegressionJSON(&b, reg); err != nil {
				t.Fatal(err)
			}
			var back Regression
			if err := json.Unmarshal(b.Bytes(), &back); err != nil {
				t.Fatalf("JSON does not read back: %v", err)
			}
			if strings.IndexFunc(b.String(), func(r rune) bool { return r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) }) >= 0 {
				t.Errorf("JSON holds a raw control or format character")
			}
		})
	}
}

// TestRegressWhyWildcardDropped: one page documents *.x.example, the next
// x.example (one key, other coverage): foo.x.example, contacted alike in
// both runs, moves to undocumented because of the page, not the traffic.
func TestRegressWhyWildcardDropped(t *testing.T) {
	a := runOf(time.Hour, flows("foo.x.example", 3))
	b := runOf(time.Hour, flows("foo.x.example", 3))
	c := regress(t, RegressOptions{}, rr("a", a, pageOf("p1", "*.x.example")), rr("b", b, pageOf("p2", "x.example"))).Changes
	if len(c.Moved) != 1 || c.Moved[0].Why != WhyPage || c.Moved[0].From != "documented" {
		t.Errorf("moved = %+v; want foo.x.example from documented, why page", c.Moved)
	}
}

// TestFrontNamesChainAndLoop: a chain of 50 000 CNAME targets, each only
// named by DNS, goes under its first name in one pass (each name followed
// once: a walk per name made this 50 000² steps, minutes); a loop of
// aliases goes under its first name in byte order.
func TestFrontNamesChainAndLoop(t *testing.T) {
	const n = 50000
	name := func(i int) string { return fmt.Sprintf("n%06d.example", i) }
	run := &classify.Run{Names: map[string]*classify.NameStat{}}
	for i := range n {
		st := nameStat(name(i), classify.EvidenceDNS)
		if i+1 < n {
			st.Aliases = []string{name(i + 1)}
		}
		run.Names[name(i)] = st
	}
	front := frontNames(run)
	for _, i := range []int{0, 1, n / 2, n - 1} {
		if got := front[name(i)]; got != name(0) {
			t.Errorf("front of %s = %s; want %s", name(i), got, name(0))
		}
	}
	loop := &classify.Run{Names: map[string]*classify.NameStat{}}
	for _, p := range [][2]string{{"b.example", "a.example"}, {"a.example", "c.example"}, {"c.example", "b.example"}} {
		st := nameStat(p[0], classify.EvidenceDNS)
		st.Aliases = []string{p[1]}
		loop.Names[p[0]] = st
	}
	for n, f := range frontNames(loop) {
		if f != "a.example" {
			t.Errorf("front of %s in a loop = %s; want a.example", n, f)
		}
	}
}
