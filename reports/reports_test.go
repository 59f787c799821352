package reports

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func nameStat(name string, evidence string, paths ...string) *classify.NameStat {
	return &classify.NameStat{
		Name: name, Evidence: map[string]int{evidence: 1}, Flows: 1, BytesOut: 100, BytesIn: 200,
		First: t0, Last: t0.Add(time.Minute), Protocols: []string{"TLS 1.2"},
		Paths: paths, HostLevel: len(paths) == 0, Addrs: []netip.Addr{netip.MustParseAddr("20.1.2.3")},
	}
}

func testRun(names ...*classify.NameStat) *classify.Run {
	r := &classify.Run{
		VM: netip.MustParseAddr("192.168.56.10"), VMDetected: true, VMHow: "detected",
		First: t0, Last: t0.Add(time.Hour),
		Names: map[string]*classify.NameStat{}, Unattributed: map[netip.Addr]*classify.AddrStat{},
		Excluded: map[string]*classify.Excluded{"ipv6": {Packets: 3, Bytes: 300}},
	}
	for _, n := range names {
		r.Names[n.Name] = n
		r.InScope.Flows += uint64(n.Flows)
	}
	return r
}

func load(t *testing.T) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Load("windows-10-1909")
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

func TestCompareLists(t *testing.T) {
	run := testRun(
		nameStat("settings-win.data.microsoft.com", "sni"),
		nameStat("tlu.dl.delivery.mp.microsoft.com", "http-host", "/filestreamingservice/files/x"),
		nameStat("self.events.data.microsoft.com", "sni"),
		nameStat("api.vendor-updater.net", "dns"),
	)
	alias := nameStat("wns.example.net", "dns")
	alias.Aliases = []string{"client.wns.windows.com"}
	run.Names[alias.Name] = alias
	rep, err := Compare(run, load(t), []catalog.Edition{catalog.Home})
	if err != nil {
		t.Fatal(err)
	}
	ed := rep.Editions[0]
	seen := map[string][]string{}
	for _, s := range ed.DocumentedSeen {
		seen[s.Pattern] = s.Names
	}
	for pattern, want := range map[string]string{
		"settings-win.data.microsoft.com": "settings-win.data.microsoft.com",
		"*dl.delivery.mp.microsoft.com":   "tlu.dl.delivery.mp.microsoft.com",
		"client.wns.windows.com":          "wns.example.net",
	} {
		if g := strings.Join(seen[pattern], ","); g != want {
			t.Errorf("documented_seen[%s].names = %q; want %q", pattern, g, want)
		}
	}
	var undoc []string
	for _, u := range ed.Undocumented {
		undoc = append(undoc, u.RegistrableDomain+"/"+u.Name)
	}
	if g, w := strings.Join(undoc, " "), "microsoft.com/self.events.data.microsoft.com vendor-updater.net/api.vendor-updater.net"; g != w {
		t.Errorf("undocumented = %s; want %s", g, w)
	}
	if len(ed.DocumentedSeen)+len(ed.DocumentedNotSeen) != ed.Documented {
		t.Errorf("seen %d + not seen %d != documented %d", len(ed.DocumentedSeen), len(ed.DocumentedNotSeen), ed.Documented)
	}
}

func TestProtocolDocumented(t *testing.T) {
	for _, tt := range []struct {
		seen string
		doc  []string
		want bool
	}{
		{"HTTP", []string{"HTTP"}, true},
		{"HTTP", []string{"HTTPS", "TLS 1.2"}, false},
		{"TLS 1.3", []string{"HTTPS"}, true},
		{"TLS 1.2", []string{"TLS 1.2"}, true},
		{"TLS 1.2", []string{"HTTP"}, false},
		{"tcp/7680", []string{"HTTP"}, true},
	} {
		if g := protocolDocumented(tt.seen, tt.doc); g != tt.want {
			t.Errorf("protocolDocumented(%q, %v) = %v; want %v", tt.seen, tt.doc, g, tt.want)
		}
	}
}

func TestRegistrableDomain(t *testing.T) {
	for name, want := range map[string]string{
		"tlu.dl.delivery.mp.microsoft.com": "microsoft.com",
		"foo.blob.core.windows.net":        "foo.blob.core.windows.net", // blob.core.windows.net is a public suffix (PSL private section)
		"a.b.example.co.uk":                "example.co.uk",
		"localhost":                        "localhost",
		"20.1.2.3":                         "20.1.2.3",
		// A name from a packet that is no host name is its own group.
		"a.example.com\n  settings-win.data.microsoft.com": "a.example.com\n  settings-win.data.microsoft.com",
		"x.evil.example settings-win.data.microsoft.com":   "x.evil.example settings-win.data.microsoft.com",
		"c.example.com\u202egnp.exe":                       "c.example.com\u202egnp.exe",
		"e.example.com\xff.microsoft.com":                  "e.example.com\xff.microsoft.com",
		"bücher.example.de":                                "example.de",
	} {
		if g := RegistrableDomain(name); g != want {
			t.Errorf("RegistrableDomain(%q) = %q; want %q", name, g, want)
		}
	}
}

// hostile are names as a VM could send them in SNI, Host or DNS: every one
// must reach a terminal escaped.
var hostile = map[string]string{
	"ansi_color_escape":   "evil\x1b[31m.example.com",
	"ansi_clear_screen":   "\x1b[2J\x1b[H.example.com",
	"newline_fakes_a_row": "a.example.com\n  settings-win.data.microsoft.com",
	"carriage_return":     "b.example.com\rZ",
	"bidi_override":       "c.example.com\u202egnp.exe",
	"c1_csi":              "d.example.com\u009b31m",
	"invalid_utf8":        "e.example.com\xff\xfe",
	"backslash":           `f.example.com\x1b`,
	"tab":                 "g.example.com\tx",
	// Aimed at the CSV, Markdown and HTML reports.
	"formula_dde":            "=cmd|' /C calc'!A0",
	"formula_plus":           "+SUM(1,2)",
	"formula_minus":          "-2+3",
	"formula_at":             "@SUM(1)",
	"formula_after_tab":      "\t=1+1",
	"formula_after_newline":  "\n=1+1",
	"pipe_ends_cell":         "a|b",
	"code_span":              "`code`",
	"markdown_link":          "[x](http://evil)",
	"autolink_www":           "www.evil.example",
	"autolink_url":           "http://evil.example/a",
	"autolink_email":         "x@evil.example",
	"heading_after_newline":  "h.example.com\n# Pwned",
	"crlf_fakes_a_table_row": "i.example.com\r\n| x | y |",
	"script_element":         "<script>alert(1)</script>",
	"attribute_breakout":     "\"><img src=x onerror=alert(1)>",
	"html_entity":            "&amp;",
	"backslash_escapes_pipe": `j.example.com\|x`,
	"emphasis_and_strike":    "*k*_l_~~m~~",
}

func TestTextEscapesHostileNames(t *testing.T) {
	for name, host := range hostile {
		t.Run(name, func(t *testing.T) {
			run := testRun(nameStat(host, "sni"))
			run.Anomalies = testAnomalies(host)
			run.Inputs = []string{"x\x1b].pcap"}
			rep, err := Compare(run, load(t), []catalog.Edition{catalog.Home})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := Text(&b, rep); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			for _, bad := range []string{"\x1b", "\r", "\u202e", "\u009b", "\xff", "\t"} {
				if strings.Contains(out, bad) {
					t.Errorf("text report contains %q raw", bad)
				}
			}
			if name == "newline_fakes_a_row" && !strings.Contains(out, `a.example.com\x0a  settings-win.data.microsoft.com`) {
				t.Errorf("the name's newline is not shown escaped")
			}
			if !strings.Contains(out, "(names: "+Terminal(host)+")") {
				t.Errorf("the anomaly does not name %q escaped:\n%s", host, out)
			}
		})
	}
}

func TestJSONKeepsHostileNamesAsData(t *testing.T) {
	for name, host := range hostile {
		t.Run(name, func(t *testing.T) {
			run := testRun(nameStat(host, "sni"))
			run.Anomalies = testAnomalies(host)
			rep, err := Compare(run, load(t), []catalog.Edition{catalog.Home})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := JSON(&b, rep); err != nil {
				t.Fatal(err)
			}
			if strings.ContainsAny(b.String(), "\x1b\r\u009b\u202e<>") {
				t.Errorf("JSON report holds a raw control or HTML character")
			}
			var back Report
			if err := json.Unmarshal(b.Bytes(), &back); err != nil {
				t.Fatalf("JSON report does not parse: %v", err)
			}
			if len(back.Editions[0].Undocumented) != 1 {
				t.Fatalf("undocumented = %d names; want 1", len(back.Editions[0].Undocumented))
			}
			var wantName string // as JSON keeps it: invalid UTF-8 becomes U+FFFD
			if j, err := json.Marshal(host); err != nil || json.Unmarshal(j, &wantName) != nil {
				t.Fatalf("JSON round trip of %q: %v", host, err)
			}
			if a := back.Anomalies; len(a) != 1 || !slices.Equal(a[0].Names, []string{wantName}) {
				t.Errorf("anomalies = %+v; want one naming %q", a, host)
			}
		})
	}
}

func TestTerminal(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"www.bing.com", "www.bing.com"},
		{"bücher.example", "bücher.example"},
		{"a\x1b[31mb", `a\x1b[31mb`},
		{"a\nb", `a\x0ab`},
		{"a\u202eb", `a\u202eb`},
		{"a\xffb", `a\xffb`},
		{`a\b`, `a\\b`},
	} {
		if g := Terminal(tt.in); g != tt.want {
			t.Errorf("Terminal(%q) = %q; want %q", tt.in, g, tt.want)
		}
	}
}

func TestFlowLine(t *testing.T) {
	var b bytes.Buffer
	w := NewFlowWriter(&b)
	rec := &classify.FlowRecord{
		Proto: "tcp", Src: netip.MustParseAddr("192.168.56.10"), SPort: 49703,
		Dst: netip.MustParseAddr("20.54.24.148"), DPort: 443,
		FirstSeen: time.Date(2026, 3, 2, 9, 0, 4, 1000, time.FixedZone("CET", 3600)), LastSeen: t0.Add(time.Second),
		Name: "settings-win.data.microsoft.com", Evidence: "sni", Scope: "in",
	}
	w.Write(rec)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("flow line %q: %v", b.String(), err)
	}
	for k, want := range map[string]any{
		"proto": "tcp", "src": "192.168.56.10", "sport": 49703.0, "dst": "20.54.24.148", "dport": 443.0,
		"first_seen": "2026-03-02T08:00:04.000001000Z", "last_seen": "2026-03-02T08:00:01.000000000Z",
		"packets_out": 0.0, "packets_in": 0.0, "bytes_out": 0.0, "bytes_in": 0.0,
		"name": "settings-win.data.microsoft.com", "evidence": "sni", "scope": "in",
	} {
		if got[k] != want {
			t.Errorf("flow line %s = %v; want %v", k, got[k], want)
		}
	}
	if _, ok := got["anomalies"]; ok {
		t.Errorf("flow line without anomalies has an anomalies field: %s", b.String())
	}
	b.Reset()
	rec.Anomalies = []string{classify.AnomalySNIChanged, classify.AnomalyTCPUrgent}
	w.Write(rec)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := `"anomalies":["sni-changed","tcp-urgent"]`; !strings.Contains(b.String(), want) {
		t.Errorf("flow line %s; want it to hold %s", b.String(), want)
	}
	if strings.Contains(b.String(), `"tunnel"`) {
		t.Errorf("flow line of a flow that was not tunnelled has a tunnel field: %s", b.String())
	}
	b.Reset()
	rec.Tunnel = "erspan-ii"
	w.Write(rec)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := `"tunnel":"erspan-ii"`; !strings.Contains(b.String(), want) {
		t.Errorf("flow line %s; want it to hold %s", b.String(), want)
	}
	if strings.Contains(b.String(), `"file"`) || strings.Contains(b.String(), `"frame"`) {
		t.Errorf("flow line without a numbered evidence packet has a file or frame field: %s", b.String())
	}
	b.Reset()
	rec.File, rec.Frame = "cap/idle.pcapng", 26
	w.Write(rec)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := `"tunnel":"erspan-ii","file":"cap/idle.pcapng","frame":26,`; !strings.Contains(b.String(), want) {
		t.Errorf("flow line %s; want it to hold %s", b.String(), want)
	}
}

// TestTextColumnsAligned checks that rows after a continuation row (a second
// name under one pattern) keep the table's columns.
func TestTextColumnsAligned(t *testing.T) {
	run := testRun(
		nameStat("a.dl.delivery.mp.microsoft.com", "http-host"),
		nameStat("b.dl.delivery.mp.microsoft.com", "http-host"),
		nameStat("settings-win.data.microsoft.com", "sni"),
		nameStat("www.bing.com", "sni"),
	)
	rep, err := Compare(run, load(t), []catalog.Edition{catalog.Home})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Text(&b, rep); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	col := -1
	for _, l := range lines {
		if strings.HasPrefix(l, "  PATTERN") && strings.Contains(l, "FIRST") {
			col = strings.Index(l, "FIRST")
			continue
		}
		if col < 0 {
			continue
		}
		if l == "" || strings.HasPrefix(l, "  [!]") {
			break
		}
		if i := strings.Index(l, "03-02 "); i >= 0 && i != col {
			t.Errorf("FIRST at column %d; want %d: %q", i, col, l)
		}
	}
	if col < 0 {
		t.Fatal("no documented-and-seen table in the report")
	}
}

// TestEditionWithoutPage holds a run against 21H2, which has an Enterprise
// page only: the editions asked for without a page get no section, and every
// format says they have none.
func TestEditionWithoutPage(t *testing.T) {
	cat, err := catalog.Load("windows-10-21H2")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Compare(testRun(nameStat("settings-win.data.microsoft.com", "sni")), cat,
		[]catalog.Edition{catalog.Home, catalog.Pro, catalog.Enterprise})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Editions) != 1 || rep.Editions[0].Edition != "enterprise" {
		t.Errorf("editions = %d, first %+v; want enterprise only", len(rep.Editions), rep.Editions)
	}
	if g := strings.Join(rep.EditionsWithoutPage, ","); g != "home,pro" {
		t.Errorf("EditionsWithoutPage = %q; want home,pro", g)
	}
	for _, tt := range []struct {
		format string
		render func(io.Writer, *Report) error
		want   string
	}{
		{"text", Text, "  no page  Windows 10 21H2 has no page for Home, Pro: not reported\n"},
		{"json", JSON, `"editions_without_page": [` + "\n" + `    "home",` + "\n" + `    "pro"` + "\n  ]"},
		{"csv", CSV, `"home","no_page","","","","","",0,0,0,,,"","","","","","windows-10-21H2 has no page for this edition","","",,"",` + "\n" +
			`"pro","no_page",`},
		{"markdown", Markdown, "- no page: Windows 10 21H2 has no page for Home, Pro: not reported\n"},
		{"html", HTML, "<dt>no page</dt><dd>Windows 10 21H2 has no page for Home, Pro: not reported</dd>"},
	} {
		var b bytes.Buffer
		if err := tt.render(&b, rep); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), tt.want) {
			t.Errorf("%s report does not say which editions have no page; want %q in\n%s", tt.format, tt.want, b.String())
		}
	}
}

// TestUnrequestedDNSAnswers: answers that matched no captured query are
// counted in the JSON and noted under excluded traffic in every report for
// people, and not mentioned when there are none.
func TestUnrequestedDNSAnswers(t *testing.T) {
	const note = "unrequested DNS answers: 3 matched no query the capture holds from their client, so named nothing"
	for _, unrequested := range []uint64{0, 3} {
		run := testRun(nameStat("settings-win.data.microsoft.com", "sni"))
		run.DNS = classify.DNSAnswers{Matched: 40, OneSided: 2, Unrequested: unrequested}
		rep, err := Compare(run, load(t), []catalog.Edition{catalog.Home})
		if err != nil {
			t.Fatal(err)
		}
		var js, text, md, html bytes.Buffer
		for _, r := range []struct {
			render func(*bytes.Buffer, *Report) error
			out    *bytes.Buffer
		}{
			{func(b *bytes.Buffer, r *Report) error { return JSON(b, r) }, &js},
			{func(b *bytes.Buffer, r *Report) error { return Text(b, r) }, &text},
			{func(b *bytes.Buffer, r *Report) error { return Markdown(b, r) }, &md},
			{func(b *bytes.Buffer, r *Report) error { return HTML(b, r) }, &html},
		} {
			if err := r.render(r.out, rep); err != nil {
				t.Fatal(err)
			}
		}
		var doc struct {
			DNS map[string]uint64 `json:"dns_answers"`
		}
		if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.DNS["matched"] != 40 || doc.DNS["one_sided"] != 2 || doc.DNS["unrequested"] != unrequested {
			t.Errorf("JSON dns_answers = %v; want matched 40, one_sided 2, unrequested %d", doc.DNS, unrequested)
		}
		for format, out := range map[string]string{"text": text.String(), "markdown": md.String(), "html": html.String()} {
			if got := strings.Contains(out, "unrequested DNS answers: 3 matched no query"); got != (unrequested > 0) {
				t.Errorf("%s report with %d unrequested answers: note shown = %v; want %v (%q)", format, unrequested, got, !got, note)
			}
		}
	}
}

// testAnomalies is a run's anomalies naming host.
func testAnomalies(host string) []classify.Anomaly {
	return []classify.Anomaly{{Kind: classify.AnomalySNIChanged, What: "a later ClientHello named another server", Flows: 1, Names: []string{host}}}
}

// TestAnomaliesShownOnlyWhenSeen: every report lists the run's anomalies,
// kind, flows and names, and has no such section when there are none.
func TestAnomaliesShownOnlyWhenSeen(t *testing.T) {
	renderers := map[string]func(io.Writer, *Report) error{"text": Text, "json": JSON, "markdown": Markdown, "html": HTML}
	for _, seen := range []bool{false, true} {
		run := testRun(nameStat("a.example", "sni"))
		if seen {
			run.Anomalies = []classify.Anomaly{
				{Kind: classify.AnomalySNIChanged, What: "a later ClientHello named another server", Flows: 1, Names: []string{"a.example"}},
				{Kind: classify.AnomalyTCPUrgent, What: "TCP urgent data", Flows: 1200},
			}
		}
		rep, err := Compare(run, load(t), []catalog.Edition{catalog.Home})
		if err != nil {
			t.Fatal(err)
		}
		for name, render := range renderers {
			var b bytes.Buffer
			if err := render(&b, rep); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			want := []string{"sni-changed, 1 flow: a later ClientHello named another server (names: a.example)",
				"tcp-urgent, 1,200 flows: TCP urgent data"}
			if name == "json" {
				want = []string{`"anomalies": [`, `"kind": "sni-changed"`, `"flows": 1200`}
			}
			for _, w := range want {
				if got := strings.Contains(out, w); got != seen {
					t.Errorf("%s report with anomalies %v holds %q: %v; want %v", name, seen, w, got, seen)
				}
			}
			if got := strings.Contains(out, "Anomalies") || strings.Contains(out, "anomalies"); got != seen {
				t.Errorf("%s report with anomalies %v has a section for them: %v", name, seen, got)
			}
		}
	}
}

// ambiguousRun is a run with two ambiguous sets of DNS names: one whose
// names both match *.delivery.mp.microsoft.com (one of them through a CNAME),
// one whose names match different patterns, or none.
func ambiguousRun() *classify.Run {
	run := testRun(nameStat("settings-win.data.microsoft.com", "sni"))
	addr := netip.MustParseAddr("13.107.4.50")
	run.Ambiguous = map[string]*classify.AmbiguousStat{
		"a.example.net\nfe3cr.delivery.mp.microsoft.com": {
			Names: []string{"a.example.net", "fe3cr.delivery.mp.microsoft.com"}, Aliases: [][]string{{"kv.delivery.mp.microsoft.com"}, nil},
			Flows: 2, BytesOut: 10, BytesIn: 20, First: t0, Last: t0.Add(time.Minute), Protocols: []string{"tcp/443"}, Addrs: []netip.Addr{addr},
		},
		"fe2cr.update.microsoft.com\nfe3cr.delivery.mp.microsoft.com\nz.vendor.example": {
			Names:   []string{"fe2cr.update.microsoft.com", "fe3cr.delivery.mp.microsoft.com", "z.vendor.example"},
			Aliases: make([][]string, 3), Flows: 1, BytesOut: 30, BytesIn: 40, First: t0, Last: t0,
			Protocols: []string{"TLS 1.2"}, Addrs: []netip.Addr{addr},
		},
	}
	return run
}

// TestAmbiguousMatching: a set of names none of which decides counts as seen
// for a pattern only when every name matches it; otherwise it is listed as
// ambiguous with each name's patterns, and counts for none of them.
func TestAmbiguousMatching(t *testing.T) {
	rep, err := Compare(ambiguousRun(), load(t), []catalog.Edition{catalog.Home})
	if err != nil {
		t.Fatal(err)
	}
	ed := rep.Editions[0]
	var seen []string
	for _, s := range ed.DocumentedSeen {
		seen = append(seen, s.Pattern)
		if s.Pattern != "*.delivery.mp.microsoft.com" {
			if len(s.Ambiguous) > 0 {
				t.Errorf("%s: ambiguous %v; want none", s.Pattern, s.Ambiguous)
			}
			continue
		}
		if len(s.Names) != 0 || len(s.Ambiguous) != 1 || strings.Join(s.Ambiguous[0], " ") != "a.example.net fe3cr.delivery.mp.microsoft.com" {
			t.Errorf("%s: names %v, ambiguous %v; want only the set a.example.net, fe3cr.delivery.mp.microsoft.com", s.Pattern, s.Names, s.Ambiguous)
		}
		if s.Flows != 2 || s.Evidence[classify.EvidenceDNSAmbiguous] != 2 || len(s.Evidence) != 1 {
			t.Errorf("%s: %d flows, evidence %v; want 2 flows, dns-ambiguous 2", s.Pattern, s.Flows, s.Evidence)
		}
	}
	if g, w := strings.Join(seen, " "), "*.delivery.mp.microsoft.com settings-win.data.microsoft.com"; g != w {
		t.Errorf("documented and seen = %s; want %s (the second set's names match different patterns: none seen by it)", g, w)
	}
	if len(ed.Ambiguous) != 1 {
		t.Fatalf("ambiguous = %+v; want the second set only", ed.Ambiguous)
	}
	a := ed.Ambiguous[0]
	var got []string
	for _, n := range a.Names {
		got = append(got, n.Name+"="+strings.Join(n.Patterns, ","))
	}
	if g, w := strings.Join(got, " "), "fe2cr.update.microsoft.com=*.update.microsoft.com,fe2cr.update.microsoft.com "+
		"fe3cr.delivery.mp.microsoft.com=*.delivery.mp.microsoft.com,fe3cr.delivery.mp.microsoft.com z.vendor.example="; g != w {
		t.Errorf("ambiguous names = %s; want %s", g, w)
	}
	if a.Flows != 1 || a.BytesOut != 30 || strings.Join(a.Addresses, ",") != "13.107.4.50" || strings.Join(a.Protocols, ",") != "TLS 1.2" {
		t.Errorf("ambiguous traffic = %+v; want 1 flow, 30 bytes out, 13.107.4.50, TLS 1.2", a)
	}
	for _, u := range ed.Undocumented {
		if u.Name == "z.vendor.example" || u.Name == "a.example.net" {
			t.Errorf("undocumented %s: a name of an ambiguous set counts as no name of its own", u.Name)
		}
	}
}

// TestAmbiguousInEveryFormat: both sets are shown by every format.
func TestAmbiguousInEveryFormat(t *testing.T) {
	rep, err := Compare(ambiguousRun(), load(t), []catalog.Edition{catalog.Home})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		format string
		render func(io.Writer, *Report) error
		want   []string
	}{
		{"text", Text, []string{"a.example.net or fe3cr.delivery.mp.microsoft.com (ambiguous)", "dns-ambiguous",
			"\nAmbiguous DNS names (1 set): several names' answers led to the flows' destinations within their TTLs\n",
			"  fe2cr.update.microsoft.com          *.update.microsoft.com, fe2cr.update.microsoft.com            1      30 B  40 B  03-02 08:00:00  03-02 08:00:00  TLS 1.2\n" +
				"  or fe3cr.delivery.mp.microsoft.com  *.delivery.mp.microsoft.com, fe3cr.delivery.mp.microsoft.com\n" +
				"  or z.vendor.example                 not documented\n"}},
		{"json", JSON, []string{`"ambiguous": [` + "\n" + `            [` + "\n" + `              "a.example.net",`,
			`"name": "z.vendor.example",` + "\n" + `              "patterns": []`}},
		{"csv", CSV, []string{
			`"home","documented_seen","*.delivery.mp.microsoft.com","a.example.net","","","",2,10,20,2026-03-02T08:00:00Z,2026-03-02T08:01:00Z,"dns-ambiguous","tcp/443","HTTP","","","The following`,
			`Microsoft Account"" endpoints.","fe3cr.delivery.mp.microsoft.com","",,"",` + "\n",
			`"home","ambiguous","*.update.microsoft.com;fe2cr.update.microsoft.com","fe2cr.update.microsoft.com","","microsoft.com","13.107.4.50",1,30,40,2026-03-02T08:00:00Z,2026-03-02T08:00:00Z,"dns-ambiguous","TLS 1.2","","","","","fe3cr.delivery.mp.microsoft.com;z.vendor.example"`,
			`"home","ambiguous","","z.vendor.example","","vendor.example","13.107.4.50",1,30,40,`}},
		{"markdown", Markdown, []string{`| \*.delivery.mp.microsoft.com | a.example.net or fe3cr.delivery.mp.microsoft.com (ambiguous) |`,
			"| or z.vendor.example | not documented |  |  |  |  |  |  |"}},
		{"html", HTML, []string{"a.example.net or fe3cr.delivery.mp.microsoft.com (ambiguous)",
			"<td class=\"name\">fe2cr.update.microsoft.com<br>or fe3cr.delivery.mp.microsoft.com<br>or z.vendor.example</td>"}},
	} {
		var b bytes.Buffer
		if err := tt.render(&b, rep); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s report does not hold %q:\n%s", tt.format, w, b.String())
			}
		}
	}
}

// TestTruncationAtTop: when the capture cut frames, every report for people
// says so before the editions, with what it cost, and the JSON carries the
// counts; a capture cut nowhere has no such section or object.
func TestTruncationAtTop(t *testing.T) {
	renderers := map[string]func(io.Writer, *Report) error{"text": Text, "json": JSON, "markdown": Markdown, "html": HTML}
	for _, cut := range []bool{false, true} {
		run := testRun(nameStat("settings-win.data.microsoft.com", "sni"))
		run.Packets, run.InScope.Flows = 912, 40
		if cut {
			run.Truncation = classify.Truncation{Frames: 120, SnapLen: 262, Flows: 36, ClientHellos: 30, RequestHeads: 3,
				NamedByDNS: 19, Unnamed: 14, DNSResponses: 17, AnswersLost: 17}
		}
		rep, err := Compare(run, load(t), []catalog.Edition{catalog.Home})
		if err != nil {
			t.Fatal(err)
		}
		for name, render := range renderers {
			var b bytes.Buffer
			if err := render(&b, rep); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if name == "html" {
				out = html.UnescapeString(out)
			}
			want := []string{
				"the capture's 262-byte snap length cut 120 of 912 frames, in 36 of 40 flows in scope",
				"30 ClientHellos and 3 HTTP request heads cut, so no SNI or Host was read: of those flows, 19 named by DNS instead and 14 not named at all",
				"17 DNS responses cut, read as far as their records were whole; 17 of them lost answers",
			}
			if name == "json" {
				want = []string{`"truncation": {` + "\n" + `    "frames": 120,` + "\n" + `    "snap_len": 262,`}
			}
			first := len(out)
			for _, w := range want {
				i := strings.Index(out, w)
				if (i >= 0) != cut {
					t.Errorf("%s report of a capture cut %v holds %q: %v", name, cut, w, i >= 0)
				}
				if i >= 0 {
					first = min(first, i)
				}
			}
			// Past the HTML's table of contents, which names every part.
			ed := strings.Index(out, "Home")
			if i := strings.Index(out, "</nav>"); i >= 0 {
				ed = strings.Index(out[i:], "Home") + i
			}
			if cut && name != "json" && (ed < 0 || first > ed) {
				t.Errorf("%s report: the truncation note is not before the editions:\n%s", name, out)
			}
			if got := strings.Contains(out, "runcat"); got != cut {
				t.Errorf("%s report of a capture cut %v mentions truncation: %v", name, cut, got)
			}
		}
	}
}

func TestTruncationLines(t *testing.T) {
	for _, tt := range []struct {
		name string
		tr   classify.Truncation
		want string
	}{
		{"lying_headers", classify.Truncation{Frames: 1}, "1 of 10 frames were cut short (they hold fewer bytes than their headers announce), in 0 of 4 flows in scope"},
		{"one_hello_ambiguous", classify.Truncation{Frames: 1, SnapLen: 96, Flows: 1, ClientHellos: 1, Ambiguous: 1},
			"the capture's 96-byte snap length cut 1 of 10 frames, in 1 of 4 flows in scope|" +
				"1 ClientHello cut, so no SNI or Host was read: of those flows, 1 by several DNS names (ambiguous)"},
		{"first_payloads", classify.Truncation{Frames: 9, SnapLen: 54, Flows: 4, FirstPayloads: 4, NamedByDNS: 1, Ambiguous: 1, Unnamed: 2},
			"the capture's 54-byte snap length cut 9 of 10 frames, in 4 of 4 flows in scope|" +
				"4 first payloads cut before they showed what they were, so no SNI or Host was read: of those flows, " +
				"1 named by DNS instead, 1 by several DNS names (ambiguous) and 2 not named at all"},
		{"dns_only", classify.Truncation{Frames: 1, SnapLen: 200, DNSResponses: 1},
			"the capture's 200-byte snap length cut 1 of 10 frames, in 0 of 4 flows in scope|1 DNS response cut, read as far as its records were whole"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rep := &Report{Totals: Totals{Packets: 10, FlowsInScope: 4}, Truncation: &tt.tr}
			if got := strings.Join(truncationLines(rep), "|"); got != tt.want {
				t.Errorf("truncationLines = %q; want %q", got, tt.want)
			}
		})
	}
}

// TestEvidenceAndRhythm: a name's first evidence and rhythm are in the
// report, a pattern's are those of its names together (the first
// evidence, the starts merged: two names contacted every 30 min, 15 min
// apart, make a pattern contacted every 15 min), and each format shows
// the rhythm.
func TestEvidenceAndRhythm(t *testing.T) {
	ev := func(file string, frame int64, start time.Time) classify.EvidenceRef {
		return classify.EvidenceRef{File: file, Frame: frame, Time: start, Kind: "sni", Proto: "tcp",
			Src: netip.MustParseAddr("192.168.56.10"), SPort: 49703, Dst: netip.MustParseAddr("20.1.2.3"), DPort: 443, Start: start}
	}
	every := func(n *classify.NameStat, from time.Time, count int, interval time.Duration) {
		n.Flows, n.Starts = count, nil
		for i := range count {
			n.Starts = append(n.Starts, from.Add(time.Duration(i)*interval).UnixNano())
		}
	}
	a := nameStat("fe3cr.delivery.mp.microsoft.com", "sni")
	every(a, t0, 8, 30*time.Minute)
	a.FirstEvidence = ev("b.pcapng", 26, t0)
	b := nameStat("tlu.dl.delivery.mp.microsoft.com", "sni")
	every(b, t0.Add(15*time.Minute), 8, 30*time.Minute)
	b.FirstEvidence = ev("a.pcapng", 900, t0.Add(15*time.Minute))
	u := nameStat("api.vendor-updater.net", "sni")
	every(u, t0, 1, 0)
	u.FirstEvidence = ev("a.pcapng", 437, t0)
	rep, err := Compare(testRun(a, b, u), load(t), []catalog.Edition{catalog.Home})
	if err != nil {
		t.Fatal(err)
	}
	ed := rep.Editions[0]
	if len(ed.Undocumented) != 1 {
		t.Fatalf("undocumented = %d names; want 1", len(ed.Undocumented))
	}
	un := ed.Undocumented[0]
	if un.FirstEvidence == nil || *un.FirstEvidence != u.FirstEvidence {
		t.Errorf("undocumented first_evidence = %+v; want %+v", un.FirstEvidence, u.FirstEvidence)
	}
	if un.Rhythm == nil || un.Rhythm.Words != "once" || un.Rhythm.Contacts != 1 {
		t.Errorf("undocumented rhythm = %+v; want once, 1 contact", un.Rhythm)
	}
	var both *Seen
	for i, s := range ed.DocumentedSeen {
		if len(s.Names) == 2 {
			both = &ed.DocumentedSeen[i]
		}
	}
	if both == nil {
		t.Fatalf("no documented pattern matched both names: %+v", ed.DocumentedSeen)
	}
	if both.Rhythm == nil || both.Rhythm.Words != "every 15 min" || both.Rhythm.Contacts != 16 || both.Rhythm.MedianInterval != 900 {
		t.Errorf("pattern %s rhythm = %+v; want every 15 min, 16 contacts, median 900 s", both.Pattern, both.Rhythm)
	}
	if both.FirstEvidence == nil || *both.FirstEvidence != a.FirstEvidence {
		t.Errorf("pattern %s first_evidence = %+v; want the earlier name's %+v", both.Pattern, both.FirstEvidence, a.FirstEvidence)
	}
	for _, tt := range []struct {
		format string
		render func(io.Writer, *Report) error
		want   string
	}{
		{"text", Text, "TLS 1.2  sni  once    a.pcapng #437\n"},
		{"markdown", Markdown, "| sni | once | a.pcapng \\#437 |"},
		{"html", HTML, "<td>once</td><td class=\"name\">a.pcapng #437</td>"},
		{"csv", CSV, `"sni","TLS 1.2","","","","","","once",1,"a.pcapng",437` + "\n"},
		{"json", JSON, `"words": "every 15 min"`},
		{"json", JSON, `"file": "a.pcapng",` + "\n" + `            "frame": 437,`},
	} {
		var buf bytes.Buffer
		if err := tt.render(&buf, rep); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), tt.want) {
			t.Errorf("%s report does not hold %q:\n%s", tt.format, tt.want, buf.String())
		}
	}
}
