package reports

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"path/filepath"
	"strings"
	"testing"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
)

// oldHTMLRows is how the page's template wrote a table's rows before
// htmlTable.Body: the reference it must match.
const oldHTMLRows = `<tbody>
{{- range .Rows}}
<tr>{{range .}}<td{{with .Class}} class="{{.}}"{{end}}>{{range $i, $l := .Lines}}{{if $i}}<br>{{end}}{{$l}}{{end}}{{if .Warn}} <span class="warn">[!]</span>{{end}}{{.SVG}}</td>{{end}}</tr>
{{- end}}
</tbody>`

// oldHTMLPage is the page's template with the rows written by the
// template.
func oldHTMLPage(t *testing.T) *template.Template {
	t.Helper()
	const body = "<tbody>{{.Body}}\n</tbody>"
	if strings.Count(htmlPage, body) != 1 {
		t.Fatalf("the page's template does not hold %q once", body)
	}
	return template.Must(template.New("page").Parse(strings.Replace(htmlPage, body, oldHTMLRows, 1)))
}

// TestHTMLTableBody: htmlTable.Body writes the rows as the template did, to
// the byte: in every hostile report, the sample's report, and a table of
// cells holding every byte value, in the text and in the class attribute.
func TestHTMLTableBody(t *testing.T) {
	old := oldHTMLPage(t)
	check := func(name string, rep *Report) {
		t.Helper()
		var got, want bytes.Buffer
		if err := HTML(&got, rep); err != nil {
			t.Fatal(err)
		}
		if err := old.Execute(&want, htmlView(rep)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: HTML page (%d bytes) differs from the template's rows (%d bytes):\n%s", name, got.Len(), want.Len(), firstDiff(got.String(), want.String()))
		}
	}
	for name, host := range hostile {
		check(name, hostileReport(t, host))
	}

	src, err := capture.OpenFiles([]string{filepath.Join("..", "testdata", "sample", "idle-1909.pcapng")}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	run, err := classify.Analyze(src, classify.Config{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Compare(run, load(t), []catalog.Edition{catalog.Home, catalog.Pro})
	if err != nil {
		t.Fatal(err)
	}
	check("sample", rep)

	var every strings.Builder
	for c := range 256 {
		every.WriteByte(byte(c))
	}
	tbl := htmlTableOf("a", "b:")
	tbl.add(htmlCell{Lines: []string{every.String(), "", "\u2028<x>&amp;+'\""}, Class: every.String(), Warn: true}, num("1"))
	tbl.add(nameCell("n"), wrap(""), htmlCell{})
	var got, want bytes.Buffer
	if err := template.Must(template.New("page").Parse(htmlPage)).ExecuteTemplate(&got, "table", tbl); err != nil {
		t.Fatal(err)
	}
	if err := old.ExecuteTemplate(&want, "table", tbl); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("table of every byte:\n%s", firstDiff(got.String(), want.String()))
	}
}

// firstDiff shows where got first differs from want.
func firstDiff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-80)
	return "got  ..." + got[from:min(len(got), i+80)] + "\nwant ..." + want[from:min(len(want), i+80)]
}

// TestScriptHash: the policy allows the page's script by its SHA-256; a
// change to the script needs the hash written anew.
func TestScriptHash(t *testing.T) {
	sum := sha256.Sum256([]byte(htmlScript))
	want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	if !strings.HasSuffix(HTMLContentSecurityPolicy, "script-src "+want) {
		t.Errorf("HTMLContentSecurityPolicy = %q; want it to end in script-src %s", HTMLContentSecurityPolicy, want)
	}
}
