package reports

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/phonehome/phonehome/catalog"
)

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// TestTextColorSameContent: with colour, the text report is the text
// without colour once its styles are taken out; without, it has none.
func TestTextColorSameContent(t *testing.T) {
	rep := hostileReport(t, "evil\x1b[31m.example")
	var plain, color bytes.Buffer
	if err := TextWith(&plain, rep, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := TextWith(&color, rep, TextOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b") {
		t.Errorf("the plain report holds an escape character")
	}
	if !strings.Contains(color.String(), "\x1b[1m") {
		t.Errorf("the coloured report has no style")
	}
	if got := ansi.ReplaceAllString(color.String(), ""); got != plain.String() {
		t.Errorf("the coloured report, styles taken out, differs from the plain one")
	}
}

// TestTextFitsWidth: at a terminal width, the descriptions of documented
// endpoints not seen are cut so their lines fit, with an ellipsis; patterns
// are never cut.
func TestTextFitsWidth(t *testing.T) {
	run := testRun(nameStat("api.vendor-updater.net", "sni"))
	rep, err := Compare(run, load(t), []catalog.Edition{catalog.Pro})
	if err != nil {
		t.Fatal(err)
	}
	for _, width := range []int{80, 120, 200} {
		var b bytes.Buffer
		if err := TextWith(&b, rep, TextOptions{Width: width}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		i := strings.Index(out, "Documented and not seen")
		j := i + strings.Index(out[i:], "\n\n") // the table's end
		cut := 0
		lines := strings.Split(out[i:j], "\n")
		prose := strings.Index(lines[1], "DESCRIPTION") // where the prose column starts
		for _, line := range lines[2:] {
			if line == "" {
				continue
			}
			// Wider only when the patterns leave less than 16 for prose.
			if n := utf8.RuneCountInString(line); n > max(width, prose+16) {
				t.Errorf("width %d: a line of %d: %q", width, n, line)
			}
			if strings.HasSuffix(line, "…") {
				cut++
			}
		}
		if cut == 0 {
			t.Errorf("width %d: no description cut", width)
		}
		for _, s := range rep.Editions[0].DocumentedNotSeen {
			if !strings.Contains(out, "  "+s.Pattern+" ") && !strings.Contains(out, "  "+s.Pattern+"\n") {
				t.Errorf("width %d: pattern %q not whole", width, s.Pattern)
			}
		}
	}
}
