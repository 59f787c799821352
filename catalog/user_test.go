package catalog

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

const exampleCatalog = "../testdata/catalogs/example.tsv"

func TestLoadFileExample(t *testing.T) {
	c, err := LoadFile(exampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	if c.Build != "example-allow-list" || c.Source != exampleCatalog {
		t.Errorf("LoadFile: Build %q, Source %q; want example-allow-list, %s", c.Build, c.Source, exampleCatalog)
	}
	if got, want := c.Editions(), []Edition{Enterprise, Home, Pro, Education}; !slices.Equal(got, want) {
		t.Errorf("Editions() = %q; want %q", got, want)
	}
	var home, ent []string
	for _, ep := range c.ForEdition(Home) {
		home = append(home, ep.Pattern)
	}
	for _, ep := range c.ForEdition(Enterprise) {
		ent = append(ent, ep.Pattern)
	}
	if want := []string{"*.delivery.mp.microsoft.com", "*.update.microsoft.com", "*.windowsupdate.com", "login.live.com"}; !slices.Equal(home, want) {
		t.Errorf("ForEdition(home) = %q; want %q", home, want)
	}
	if len(ent) != 6 {
		t.Errorf("ForEdition(enterprise) = %q; want 6 patterns", ent)
	}
	e := c.ForEdition(Enterprise)[3].Sources[0]
	if e.Pattern != "intranet.example.com" || e.Line != 17 || e.File != exampleCatalog || e.Area != "Company" ||
		!slices.Equal(e.Protocols, []Protocol{HTTPS}) || !slices.Equal(e.Editions, []Edition{Enterprise, Pro}) || e.Listed != Enterprise {
		t.Errorf("intranet entry = %+v", e)
	}
}

func TestParseUser(t *testing.T) {
	const head = "pattern\tprotocols\teditions\tarea\tdescription\n"
	tests := []struct {
		name, src string
		line      int    // of the first error; 0: no error
		msg       string // in the first error
		patterns  []string
	}{
		{name: "pattern_only", src: "# build: b\npattern\nA.Example.COM\n*.x.example\n", patterns: []string{"*.x.example", "a.example.com"}},
		{name: "crlf_and_blank_lines", src: "pattern\tprotocols\r\n\r\nx.example\tTLSv1.2/HTTPS\r\n", patterns: []string{"x.example"}},
		{name: "columns_any_order", src: "area\tpattern\nA\tx.example\n", patterns: []string{"x.example"}},
		{name: "empty_file", src: "", line: 0, msg: "no column line"},
		{name: "comments_only", src: "# name: x\n\n", line: 2, msg: "no column line"},
		{name: "no_endpoints", src: "# name: x\npattern\n\n", line: 3, msg: "no endpoints"},
		{name: "line_too_long", src: "pattern\n" + strings.Repeat("a", 1<<20+1) + "\n", line: 2, msg: "longer than 1 MiB"},
		{name: "unknown_column", src: "pattern\tport\n", line: 1, msg: `column 2 is "port"`},
		{name: "column_twice", src: "pattern\tarea\tarea\n", line: 1, msg: `column "area" given twice`},
		{name: "no_pattern_column", src: "area\tdescription\n", line: 1, msg: "no pattern column"},
		{name: "missing_field", src: head + "# ok\nx.example\tHTTPS\t\tArea\n", line: 3, msg: "4 tab-separated fields; the column line"},
		{name: "extra_field", src: head + "x.example\tHTTPS\t\tA\tD\tE\n", line: 2, msg: "6 tab-separated fields"},
		{name: "empty_pattern", src: head + "\tHTTPS\t\tA\tD\n", line: 2, msg: "empty pattern"},
		{name: "bad_protocol", src: head + "x.example\tFTP\t\tA\tD\n", line: 2, msg: `protocols: protocol "FTP": unknown name`},
		{name: "bad_edition", src: head + "x.example\t\tserver\tA\tD\n", line: 2, msg: `editions: "server" is no edition`},
		{name: "space_in_pattern", src: head + "x example\t\t\tA\tD\n", line: 2, msg: "not allowed in a host name"},
		{name: "wildcard_only", src: head + "*.*\t\t\tA\tD\n", line: 2, msg: "no literal host part"},
		{name: "garbage_line", src: head + "x.example\t\t\t\t\n\x00\x01 garbage\n", line: 3, msg: "1 tab-separated fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("f.tsv", strings.NewReader(tt.src))
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("Parse = %v; want no error", err)
				}
				var got []string
				for _, e := range c.Entries {
					got = append(got, e.Pattern)
				}
				if !slices.Equal(got, tt.patterns) {
					t.Errorf("Parse patterns = %q; want %q", got, tt.patterns)
				}
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) || c != nil {
				t.Fatalf("Parse = %v, %v; want a *ParseError", c, err)
			}
			if pe.File != "f.tsv" || pe.Line != tt.line || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("Parse error = %q; want f.tsv:%d: ...%s...", pe, tt.line, tt.msg)
			}
		})
	}
}

func TestParseUserEditions(t *testing.T) {
	c, err := Parse("f", strings.NewReader("pattern\teditions\na.example\t\nb.example\tFamily, pro\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Entries[0].Editions; !slices.Equal(got, userEditionOrder) {
		t.Errorf("empty editions = %q; want every edition %q", got, userEditionOrder)
	}
	if got, want := c.Entries[1].Editions, []Edition{Home, Pro}; !slices.Equal(got, want) || c.Entries[1].Listed != Home {
		t.Errorf("Family, pro = %q listed %q; want %q listed home", got, c.Entries[1].Listed, want)
	}
	if c.Build != "f" {
		t.Errorf("Build = %q; want the file name f", c.Build)
	}
}

// TestParseUserManyErrors: a file that is no catalog gives at most
// maxParseErrors errors.
func TestParseUserManyErrors(t *testing.T) {
	_, err := Parse("f", strings.NewReader("pattern\tarea\n"+strings.Repeat("x\n", 100)))
	if n := strings.Count(err.Error(), "\n") + 1; n != maxParseErrors {
		t.Errorf("Parse of 100 bad rows: %d errors; want %d", n, maxParseErrors)
	}
}

func FuzzParseUser(f *testing.F) {
	src, err := os.ReadFile(exampleCatalog)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(src))
	f.Add("pattern\n*.a.example/x\n")
	f.Add("pattern\tprotocols\teditions\n a \tHTTP/TLSv1.3\thome,family\n")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse("f", strings.NewReader(s))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 0 {
				t.Fatalf("Parse error %v is no *ParseError with a line", err)
			}
			return
		}
		for _, e := range c.Entries {
			if e.Pattern == "" || len(e.Editions) == 0 || !slices.Contains(e.Editions, e.Listed) || e.Line < 1 {
				t.Fatalf("entry %+v breaks the Catalog contract", e)
			}
			if strings.ContainsAny(e.Pattern, " \t\n") {
				t.Fatalf("pattern %q has white space", e.Pattern)
			}
		}
		for _, ed := range c.Editions() {
			_ = c.ForEdition(ed)
		}
	})
}

// TestMessagesClipped checks that a problem quoting a huge value says it in
// a line of bounded length.
func TestMessagesClipped(t *testing.T) {
	long := strings.Repeat("a", 1<<19) + ".example"
	_, err := Parse("big.tsv", strings.NewReader("pattern\tprotocols\n"+long+"\tFTP\n"))
	if err == nil || len(err.Error()) > 400 || !strings.Contains(err.Error(), "big.tsv:2:") {
		t.Errorf("Parse error is %d bytes (%.80q); want big.tsv:2: in under 400", len(fmt.Sprint(err)), fmt.Sprint(err))
	}
	for _, p := range Validate("big.tsv", []byte("pattern\n"+long+"\n"+long+"\n")) {
		if s := p.String(); len(s) > 400 {
			t.Errorf("Validate problem is %d bytes: %.80q", len(s), s)
		}
	}
}
