package reports

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
)

// TestOneIsSingular: a report of one of everything says "1 name", "1
// reason", never "1 names", in every format for people.
func TestOneIsSingular(t *testing.T) {
	run := testRun(nameStat("api.vendor-updater.net", "sni"))
	run.Packets, run.VMFlows, run.InScope = 1, 1, classify.Excluded{Flows: 1, Packets: 1, Bytes: 60}
	run.Excluded = map[string]*classify.Excluded{"ipv6": {Packets: 1, Bytes: 60}}
	run.Bounds = []capture.Bound{{What: "names", Limit: 1, Times: 1}}
	run.Unsupported = map[string]uint64{"LINKTYPE 220": 1}
	run.Anomalies = testAnomalies("api.vendor-updater.net")
	run.Anomalies[0].Flows = 1
	rep, err := Compare(run, load(t), []catalog.Edition{catalog.Home})
	if err != nil {
		t.Fatal(err)
	}
	plural := regexp.MustCompile(`\b1 (names|reasons|flows|packets|times|frames|documented patterns)\b`)
	for _, tt := range []struct {
		format string
		render func(*bytes.Buffer, *Report) error
	}{
		{"text", func(b *bytes.Buffer, r *Report) error { return Text(b, r) }},
		{"markdown", func(b *bytes.Buffer, r *Report) error { return Markdown(b, r) }},
		{"html", func(b *bytes.Buffer, r *Report) error { return HTML(b, r) }},
	} {
		var b bytes.Buffer
		if err := tt.render(&b, rep); err != nil {
			t.Fatal(err)
		}
		for _, m := range plural.FindAllString(b.String(), -1) {
			t.Errorf("%s report says %q", tt.format, m)
		}
		for _, want := range []string{"1 name", "1 reason", "1 flow", "1 packet", "1 time", "1 frame"} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("%s report does not say %q", tt.format, want)
			}
		}
	}
}

// TestTimesGiveTheYearAcrossYears: in a capture from New Year's Eve to the
// next day, every time says its year (12-31 23:00 and 01-01 01:00 would
// read as one day); within one year they do not.
func TestTimesGiveTheYearAcrossYears(t *testing.T) {
	eve := time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC)
	late := nameStat("api.vendor-updater.net", "sni")
	late.First = eve
	for _, tt := range []struct {
		name        string
		first, last time.Time
		want, not   []string
	}{
		{"new_years_eve", eve, eve.Add(2 * time.Hour),
			[]string{"2025-12-31 23:00:00", "2026-01-01 01:00:00"}, []string{" 12-31 23:00:00", " 01-01 01:00:00"}},
		{"one_year", eve.Add(-time.Hour), eve.Add(30 * time.Minute),
			[]string{"12-31 23:00:00"}, []string{"2025-12-31 23:00:00"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := *late
			n.Last = tt.last
			run := testRun(&n)
			run.First, run.Last = tt.first, tt.last
			rep, err := Compare(run, load(t), []catalog.Edition{catalog.Home})
			if err != nil {
				t.Fatal(err)
			}
			for format, render := range map[string]func(*bytes.Buffer, *Report) error{
				"text":     func(b *bytes.Buffer, r *Report) error { return Text(b, r) },
				"markdown": func(b *bytes.Buffer, r *Report) error { return Markdown(b, r) },
				"html":     func(b *bytes.Buffer, r *Report) error { return HTML(b, r) },
			} {
				var b bytes.Buffer
				if err := render(&b, rep); err != nil {
					t.Fatal(err)
				}
				// The header's span always has the year: look past it.
				out := b.String()
				if i := strings.Index(out, "api.vendor-updater.net"); i >= 0 {
					out = out[i:]
				}
				// Nor the Markdown's page-form table, meant to be pasted
				// away from the report: its times are always whole.
				if i := strings.Index(out, "pages' own table form"); i >= 0 {
					out = out[:i]
				}
				for _, w := range tt.want {
					if !strings.Contains(out, w) {
						t.Errorf("%s report does not say %q:\n%s", format, w, out)
					}
				}
				for _, w := range tt.not {
					if strings.Contains(out, w) {
						t.Errorf("%s report says %q", format, w)
					}
				}
			}
		})
	}
}
