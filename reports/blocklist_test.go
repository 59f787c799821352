package reports

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestCheckHostName(t *testing.T) {
	for _, tt := range []struct {
		name, in, want string // want "" for refused
	}{
		{"plain", "settings-win.data.microsoft.com", "settings-win.data.microsoft.com"},
		{"upper_case_lowered", "Edge.Microsoft.COM", "edge.microsoft.com"},
		{"trailing_dot_dropped", "edge.microsoft.com.", "edge.microsoft.com"},
		{"underscore_kept", "_dmarc.example.com", "_dmarc.example.com"},
		{"a_label_kept", "xn--bcher-kva.example", "xn--bcher-kva.example"},
		{"test_tld_kept", "telemetry.example-vendor.test", "telemetry.example-vendor.test"},
		{"two_trailing_dots", "edge.microsoft.com..", ""},
		{"leading_dot", ".microsoft.com", ""},
		{"empty", "", ""},
		{"dot_only", ".", ""},
		{"newline", "a.example.com\nsettings-win.data.microsoft.com", ""},
		{"space_second_entry", "a.example.com 0.0.0.0 b.example.com", ""},
		{"hash_comment", "a.example.com#x", ""},
		{"slash_dnsmasq_field", "a.example.com/1.2.3.4", ""},
		{"caret_adblock", "a.example.com^$third-party", ""},
		{"quote_unbound", `a.example.com." static`, ""},
		{"semicolon", "a.example.com;x", ""},
		{"star", "*.example.com", ""},
		{"nul", "a.example.com\x00", ""},
		{"unicode", "bücher.example.de", ""},
		{"fullwidth_dot", "a.example\uff0ecom", ""},
		{"invalid_utf8", "e.example.com\xff", ""},
		{"bad_a_label", "xn--zz.example.com", ""},
		{"a_label_of_ascii", "xn--abc-.example.com", ""},
		{"hyphen_starts_label", "-a.example.com", ""},
		{"hyphen_ends_label", "a-.example.com", ""},
		{"label_64_bytes", strings.Repeat("a", 64) + ".com", ""},
		{"name_254_bytes", strings.Repeat("a.", 126) + "co", ""},
		{"single_label", "localhost", ""},
		{"single_label_wpad", "wpad.", ""},
		{"ipv4_literal", "10.0.0.1", ""},
		{"numeric_tld", "a.123", ""},
		{"public_suffix", "co.uk", ""},
		{"public_suffix_tld", "com.", ""},
		{"public_suffix_arpa", "in-addr.arpa", ""},
		{"public_suffix_private", "cloudfront.net", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckHostName(tt.in)
			if got != tt.want || (err == nil) != (tt.want != "") {
				t.Errorf("CheckHostName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// blockEntry is what an entry line of each format must look like: one
// name of host bytes and nothing else (adblock also its stars and a path
// of URL bytes).
var blockEntry = map[string]*regexp.Regexp{
	"hosts":   regexp.MustCompile(`^0\.0\.0\.0 [a-z0-9_-]+(\.[a-z0-9_-]+)+$`),
	"dnsmasq": regexp.MustCompile(`^address=/[a-z0-9_-]+(\.[a-z0-9_-]+)*/0\.0\.0\.0$`),
	"unbound": regexp.MustCompile(`^local-zone: "[a-z0-9_-]+(\.[a-z0-9_-]+)*\." always_nxdomain$`),
	"adblock": regexp.MustCompile(`^(\|\||\*)[a-z0-9_.*-]+(\^|/[A-Za-z0-9._~/%?=&:+,;@*-]*)?$`),
	"pihole":  regexp.MustCompile(`^[a-z0-9_-]+(\.[a-z0-9_-]+)+$`),
}

var blockComment = map[string]string{"hosts": "#", "dnsmasq": "#", "unbound": "#", "adblock": "!", "pihole": "#"}

// checkBlockLines holds every line of a list to its format: a comment
// (the format's comment mark, then plain printable ASCII) or an entry
// (blockEntry), as many entries as st says.
func checkBlockLines(t *testing.T, format, out string, st BlockStats) {
	t.Helper()
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("%s: output does not end in a newline", format)
	}
	entries := 0
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if strings.HasPrefix(line, blockComment[format]) {
			for i := 0; i < len(line); i++ {
				if c := line[i]; c < 0x20 || c >= 0x7f {
					t.Errorf("%s: comment line %q has byte %q", format, line, c)
					break
				}
			}
			continue
		}
		if !blockEntry[format].MatchString(line) {
			t.Errorf("%s: line %q is neither a comment nor an entry", format, line)
		}
		entries++
	}
	if entries != st.Entries {
		t.Errorf("%s: %d entry lines; stats say %d", format, entries, st.Entries)
	}
}

func writeBlock(t *testing.T, l BlockList) (string, BlockStats) {
	t.Helper()
	var b bytes.Buffer
	st, err := WriteBlockList(&b, l)
	if err != nil {
		t.Fatal(err)
	}
	return b.String(), st
}

// TestBlockListHostileNames: every hostile name of the report tests, and
// those aimed at block lists, is refused in every format, counted, and
// shown only quoted in a comment; the good name beside it is listed.
func TestBlockListHostileNames(t *testing.T) {
	names := map[string]string{
		"hosts_second_entry":     "a.example.com\n0.0.0.0 settings-win.data.microsoft.com",
		"dnsmasq_server_inject":  "a.example.com/#\nserver=/example.net/6.6.6.6",
		"unbound_quote_breakout": "a.example.com.\" transparent\nlocal-zone: \"com.",
		"adblock_options":        "a.example.com^$important",
		"adblock_cosmetic":       "a.example.com##body",
		"adblock_comment_mark":   "!a.example.com",
		"hosts_comment":          "a.example.com #c",
		"public_suffix":          "co.uk",
		"localhost":              "localhost",
	}
	for k, v := range hostile {
		names[k] = v
	}
	for name, host := range names {
		for _, format := range BlockFormats {
			t.Run(name+"_"+format, func(t *testing.T) {
				out, st := writeBlock(t, BlockList{Format: format, Header: []string{"run " + host}, Names: []string{host, "ok.example.com"}})
				checkBlockLines(t, format, out, st)
				if _, err := CheckHostName(host); err == nil {
					if st.Entries != 2 || len(st.Refused) != 0 {
						t.Errorf("entries %d, refused %+v; want 2 entries: %q is a host name", st.Entries, st.Refused, host)
					}
					return
				}
				if st.Entries != 1 || len(st.Refused) != 1 || st.Refused[0].Name != host {
					t.Errorf("entries %d, refused %+v; want 1 entry and %q refused", st.Entries, st.Refused, host)
				}
				if !strings.Contains(out, "; 1 name refused") {
					t.Errorf("the count of names refused is not said:\n%s", out)
				}
				if strings.Contains(host, "\n") && strings.Contains(out, host) {
					t.Errorf("the name is in the list raw:\n%s", out)
				}
			})
		}
	}
}

// TestBlockListPatterns: each form of pattern in each format, said as the
// format can say it or left as a comment that says why.
func TestBlockListPatterns(t *testing.T) {
	patterns := []string{
		"settings-win.data.microsoft.com",
		"*.wns.windows.com",
		"wns.windows.com",
		"*login.live.com",
		"www.bing.com*",
		"watson.*.microsoft.com",
		"*.aria.microsoft.com*",
		"ctldl.windowsupdate.com/*",
		"licensing.mp.microsoft.com/v7.0/licenses/content",
		"x.example.com/a$b",
		"bad pattern",
		"A",       // found by FuzzBlockList: a single label, listed as "0.0.0.0 a"
		"*.co.uk", // a public suffix: the catalog's choice, kept
		"*",       // found by FuzzBlockList: adblock's "*" blocks everything
		"B..",     // found by FuzzBlockList: checked as "b", listed as "b."
	}
	for _, tt := range []struct {
		format  string
		entries []string
		not     []string // patterns left as comments
	}{
		{"hosts", []string{"0.0.0.0 ctldl.windowsupdate.com", "0.0.0.0 settings-win.data.microsoft.com", "0.0.0.0 wns.windows.com"},
			[]string{"*.wns.windows.com", "*login.live.com", "www.bing.com*", "watson.*.microsoft.com", "*.aria.microsoft.com*", "licensing.mp.microsoft.com/v7.0/licenses/content", "x.example.com/a$b", "bad pattern: not a pattern phonehome matches",
				"A: not a host name a list can hold", "*.co.uk: a hosts file", "B..: not a host name"}},
		{"dnsmasq", []string{"address=/co.uk/0.0.0.0", "address=/ctldl.windowsupdate.com/0.0.0.0", "address=/settings-win.data.microsoft.com/0.0.0.0", "address=/wns.windows.com/0.0.0.0"},
			[]string{"*login.live.com", "www.bing.com*", "watson.*.microsoft.com", "*.aria.microsoft.com*", "licensing.mp.microsoft.com/v7.0/licenses/content"}},
		{"unbound", []string{`local-zone: "co.uk." always_nxdomain`, `local-zone: "ctldl.windowsupdate.com." always_nxdomain`, `local-zone: "settings-win.data.microsoft.com." always_nxdomain`, `local-zone: "wns.windows.com." always_nxdomain`},
			[]string{"*login.live.com", "www.bing.com*"}},
		{"adblock", []string{"*.aria.microsoft.com*", "*login.live.com^", "||co.uk^", "||ctldl.windowsupdate.com^", "||licensing.mp.microsoft.com/v7.0/licenses/content",
			"||settings-win.data.microsoft.com^", "||watson.*.microsoft.com^", "||wns.windows.com^", "||www.bing.com*"},
			[]string{"x.example.com/a$b: byte '$'", "A: not a host name", "*: matches every name"}},
		{"pihole", []string{"ctldl.windowsupdate.com", "settings-win.data.microsoft.com", "wns.windows.com"},
			[]string{`*.wns.windows.com: a domain list holds exact names; as a Pi-hole regex: ^.*\.wns\.windows\.com$`, `*login.live.com: a domain list holds exact names; as a Pi-hole regex: ^.*login\.live\.com$`}},
	} {
		t.Run(tt.format, func(t *testing.T) {
			out, st := writeBlock(t, BlockList{Format: tt.format, Patterns: patterns})
			checkBlockLines(t, tt.format, out, st)
			var got []string
			for _, line := range strings.Split(out, "\n") {
				if line != "" && !strings.HasPrefix(line, blockComment[tt.format]) {
					got = append(got, line)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.entries, "\n") {
				t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.entries, "\n"))
			}
			for _, n := range tt.not {
				if !strings.Contains(out, blockComment[tt.format]+"   "+n) {
					t.Errorf("no comment for %s:\n%s", n, out)
				}
			}
			if len(st.NotExpressible)+st.Entries < len(tt.entries) {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestBlockListUnknownFormat(t *testing.T) {
	var b bytes.Buffer
	if _, err := WriteBlockList(&b, BlockList{Format: "squid"}); err == nil || b.Len() > 0 {
		t.Errorf("WriteBlockList(squid) = %v, wrote %q; want an error and nothing", err, b.String())
	}
}

// FuzzBlockList: whatever a name or a pattern is, every format's list is
// comments and well-formed entries only, and a name is listed only as
// CheckHostName gives it.
func FuzzBlockList(f *testing.F) {
	for _, h := range hostile {
		f.Add(h, "*.wns.windows.com")
	}
	f.Add("edge.microsoft.com.", "www.bing.com*")
	f.Add("xn--bcher-kva.example", "host/p$th")
	f.Add("co.uk", "a.*.b/")
	f.Fuzz(func(t *testing.T, name, pattern string) {
		want, err := CheckHostName(name)
		if err == nil {
			if again, err := CheckHostName(want); err != nil || again != want {
				t.Fatalf("CheckHostName(%q) = %q, then %q, %v: not stable", name, want, again, err)
			}
		}
		for _, format := range BlockFormats {
			var b bytes.Buffer
			st, werr := WriteBlockList(&b, BlockList{Format: format, Header: []string{name}, Names: []string{name}, Patterns: []string{pattern}})
			if werr != nil {
				t.Fatal(werr)
			}
			checkBlockLines(t, format, b.String(), st)
			if (err == nil) != (len(st.Refused) == 0) {
				t.Fatalf("%s: CheckHostName(%q) error %v, yet refused %+v", format, name, err, st.Refused)
			}
		}
	})
}
