package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sourcesDir = "../../shared/catalog-sources"

func pages(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(sourcesDir, "*-*.md")) // not SOURCES.md
	if len(files) == 0 {
		t.Skipf("no pages in %s (the shared catalog sources are absent): nothing to validate", sourcesDir)
	}
	return files
}

func errorsOf(ps []Problem) []Problem {
	var out []Problem
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// TestValidateShippedPages: every page the data comes from validates
// without an error, and the oddities the README lists are warnings.
func TestValidateShippedPages(t *testing.T) {
	warnings := map[string]string{}
	for _, f := range pages(t) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ps := Validate(filepath.Base(f), src)
		for _, p := range errorsOf(ps) {
			t.Errorf("Validate: %s; want no error", p)
		}
		for _, p := range ps {
			warnings[p.String()] = ""
		}
	}
	for _, want := range []string{
		"windows-endpoints-1709-non-enterprise-editions.md:154: warning: protocol \"TLSv1.3\": TLS 1.3, on no other page",
		"manage-windows-1903-endpoints.md:105: warning: destination \"www.microsoft.com\" repeats line 86 of the same section (the importer folds it into that row)",
		"windows-endpoints-2004-non-enterprise-editions.md:67: warning: destination \"img-prod-cms-rt-microsoft-com\" has no dot: a name cut short?",
	} {
		if _, ok := warnings[want]; !ok {
			t.Errorf("no warning %q", want)
		}
	}
}

// TestValidateBrokenPage breaks a copy of the 20H2 Enterprise page one way
// at a time; each gives its problem at the line broken.
func TestValidateBrokenPage(t *testing.T) {
	const page = "manage-windows-20H2-endpoints.md"
	src, err := os.ReadFile(filepath.Join(sourcesDir, page))
	if os.IsNotExist(err) {
		t.Skipf("%s absent (the shared catalog sources are absent)", page)
	}
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	const header, ctldl = 47, 54 // |Area|Description|Protocol|Destination| and |||TLSv1.2/HTTPS/HTTP|ctldl.windowsupdate.com|
	if lines[header-1] != "|Area|Description|Protocol|Destination|" || !strings.Contains(lines[ctldl-1], "ctldl.windowsupdate.com") {
		t.Fatalf("%s changed: lines %d, %d are %q, %q", page, header, ctldl, lines[header-1], lines[ctldl-1])
	}
	tests := []struct {
		name string
		line int    // to replace
		with string // the new line, or lines
		want string // the first error
	}{
		{"bad_protocol_cell", ctldl, "|||FTP/HTTP|ctldl.windowsupdate.com|", `:54: protocol "FTP/HTTP": unknown name "FTP"`},
		{"empty_destination", ctldl, "|||TLSv1.2/HTTPS/HTTP||", `:54: row has protocol "TLSv1.2/HTTPS/HTTP" but no destination`},
		{"missing_column_in_row", ctldl, "||TLSv1.2/HTTPS/HTTP|ctldl.windowsupdate.com|", `:54: protocol "ctldl.windowsupdate.com": unknown name`},
		{"missing_column_in_header", header, "|Area|Description|Protocol|", `:47: table has a Protocol column but no Destination column`},
		{"extra_cell", ctldl, "|||HTTP|ctldl.windowsupdate.com|x|", `:54: row has 5 cells, header has 4`},
		{"garbage_line", ctldl, "| \x00\x01 garbage ||| ||| junk |", `:54: row has 7 cells, header has 4`},
		{"prose_destination", ctldl, "|||HTTP|see the docs|", `:54: destination "see the docs": byte ' ' not allowed`},
		{"unknown_column", header, "|Area|Description|Protocol|Destination|Port|", `:47: unknown column "Port"`},
		{"stray_table_row", 30, "| stray |", `:30: table row without a header`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			broken := append([]string(nil), lines...)
			broken[tt.line-1] = tt.with
			errs := errorsOf(Validate(page, []byte(strings.Join(broken, "\n"))))
			if len(errs) == 0 || !strings.Contains(errs[0].String(), page+tt.want) {
				t.Errorf("Validate(%s) errors = %q; want first %q", tt.name, errs, page+tt.want)
			}
		})
	}
}

func TestValidateNonEnterpriseHeading(t *testing.T) {
	src := "## Windows 10 Server\n\n|Destination|Protocol|Description|\n|---|---|---|\n|a.example.com|HTTPS|x|\n"
	errs := errorsOf(Validate("windows-endpoints-9999-non-enterprise-editions.md", []byte(src)))
	if len(errs) != 1 || errs[0].Line != 5 || !strings.Contains(errs[0].Msg, "names no edition") {
		t.Errorf("Validate = %q; want line 5: ... names no edition", errs)
	}
	if errs := errorsOf(Validate("empty.md", []byte("# nothing\n"))); len(errs) != 1 || !strings.Contains(errs[0].Msg, "no endpoint table") {
		t.Errorf("Validate(empty.md) = %q; want no endpoint table", errs)
	}
}

func TestValidateUser(t *testing.T) {
	src, err := os.ReadFile(exampleCatalog)
	if err != nil {
		t.Fatal(err)
	}
	if ps := Validate("example.tsv", src); len(ps) != 0 {
		t.Errorf("Validate(example.tsv) = %q; want nothing", ps)
	}
	ps := Validate("u.tsv", []byte("pattern\teditions\na.example\t\nhost-\tpro\na.example\tpro\nb.example\thome\nb.example\tpro\n"))
	want := []string{
		"u.tsv:3: warning: pattern \"host-\" has no dot: a name cut short?",
		"u.tsv:4: warning: pattern \"a.example\" repeats line 2 for an edition of it (both rows apply)",
	}
	if len(ps) != len(want) || ps[0].String() != want[0] || ps[1].String() != want[1] {
		t.Errorf("Validate = %q; want %q", ps, want)
	}
	ps = Validate("u.tsv", []byte("pattern\tprotocols\nx.example\tFTP\ny.example\n"))
	if len(ps) != 2 || ps[0].Line != 2 || ps[1].Line != 3 || ps[0].Warning {
		t.Errorf("Validate = %q; want errors at lines 2 and 3", ps)
	}
}
