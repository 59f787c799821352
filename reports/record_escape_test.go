package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
)

// TestRenderEscapesWhatARecordCarries renders runs read from run records
// whose words (protocols, ports, excluded reasons, bounds, how the VM was
// chosen) hold terminal escapes: phonehome writes its own words there, but
// phonehome report reads records from anywhere, so every report escapes
// them as it escapes names.
func TestRenderEscapesWhatARecordCarries(t *testing.T) {
	const esc = `\u001b]0;owned\u0007\u001b[2J`
	for _, tc := range []struct {
		name, run string
	}{
		{"protocols_of_a_name", `{"names":[{"name":"a.example.com","evidence":{"sni":1},"flows":1,"protocols":["` + esc + `"]}]}`},
		{"protocols_of_a_documented_name", `{"names":[{"name":"settings-win.data.microsoft.com","evidence":{"sni":1},"flows":1,"protocols":["` + esc + `"]}]}`},
		{"protocols_of_an_ambiguous_set", `{"ambiguous":[{"names":["a.example.com","b.example.com"],"aliases":[[],[]],"flows":1,"protocols":["` + esc + `"]}]}`},
		{"ports_of_an_address", `{"unattributed":[{"addr":"203.0.113.9","flows":1,"ports":["` + esc + `"]}]}`},
		{"excluded_reason", `{"excluded":{"` + esc + `":{"flows":1,"packets":1,"bytes":1}}}`},
		{"bound", `{"bounds":[{"what":"` + esc + `","limit":1,"times":1}]}`},
		{"vm_how_no_vm", `{"vm_how":"` + esc + `"}`},
		{"vm_how", `{"vm":"192.0.2.1","vm_how":"` + esc + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run, _, err := classify.ReadRecord(strings.NewReader(`{"format":"phonehome-run","version":1,"run":` + tc.run + `}`))
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Compare(run, load(t), []catalog.Edition{catalog.Pro})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range []struct {
				name   string
				render func(*bytes.Buffer, *Report) error
			}{
				{"text", func(b *bytes.Buffer, r *Report) error { return Text(b, r) }},
				{"markdown", func(b *bytes.Buffer, r *Report) error { return Markdown(b, r) }},
				{"csv", func(b *bytes.Buffer, r *Report) error { return CSV(b, r) }},
			} {
				var b bytes.Buffer
				if err := r.render(&b, rep); err != nil {
					t.Fatal(err)
				}
				for _, line := range strings.Split(b.String(), "\n") {
					if strings.ContainsAny(line, "\x1b\x07") {
						t.Errorf("%s report: line %q holds a raw control character; want it escaped", r.name, line)
					}
				}
			}
		})
	}
}
