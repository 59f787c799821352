package reports

import (
	"testing"
	"time"
)

// TestTimelineSVG draws contacts at the span's start, quarter, middle (two,
// one pixel apart at most: one tick) and end, a start outside the span
// (clamped), and the cases with nothing to span.
func TestTimelineSVG(t *testing.T) {
	first := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	last := first.Add(4 * time.Hour)
	at := func(d time.Duration) int64 { return first.Add(d).UnixNano() }
	const head = `<svg class="tl" viewBox="0 0 160 14" role="img" aria-label="`
	const base = `">`
	tick := func(x string) string { return "M" + x + ".5 2V13" }
	for _, tt := range []struct {
		name        string
		first, last time.Time
		starts      []int64
		want        string
	}{
		{"none", first, last, nil, ""},
		{"spread", first, last, []int64{at(0), at(time.Hour), at(2 * time.Hour), at(2*time.Hour + time.Second), at(4 * time.Hour), at(5 * time.Hour)},
			head + "6 flow starts" + base + `<path d="` + tick("0") + tick("39") + tick("79") + tick("159") + `"/></svg>`},
		{"one_instant", first, first, []int64{at(0)}, head + "1 flow start" + base + `<path d="` + tick("80") + `"/></svg>`},
	} {
		if got := string(timelineSVG(tt.first, tt.last, tt.starts)); got != tt.want {
			t.Errorf("%s: timelineSVG =\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

// TestRunChartSVG: a 3-hour run with two documented flows in its first
// hour, one documented and two undocumented in its last (one of them past
// the span, clamped): bars scaled to the busiest hour (3 flows), the
// undocumented stacked on the documented.
func TestRunChartSVG(t *testing.T) {
	first := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	last := first.Add(3 * time.Hour)
	at := func(d time.Duration) int64 { return first.Add(d).UnixNano() }
	got := string(runChartSVG(first, last, []int64{at(time.Minute), at(2 * time.Minute), at(2*time.Hour + 30*time.Minute)},
		[]int64{at(2*time.Hour + 40*time.Minute), at(5 * time.Hour)}))
	want := `<svg class="run" viewBox="0 0 12 60" preserveAspectRatio="none" role="img" aria-label="flows started per hour, documented below, undocumented above">` +
		`<path class="doc" d="M0 60h3v-40h-3zM8 60h3v-20h-3z"/>` +
		`<path class="und" d="M8 40h3v-40h-3z"/></svg>`
	if got != want {
		t.Errorf("runChartSVG =\n%s\nwant\n%s", got, want)
	}
	if runChartSVG(first, last, nil, nil) != "" {
		t.Errorf("a chart of no flow")
	}
}
