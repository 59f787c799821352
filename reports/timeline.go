package reports

import (
	"html/template"
	"strconv"
	"time"
)

// A timeline is an endpoint's contacts across the capture span, drawn as
// inline SVG for the HTML report: a baseline for the span, a tick for each
// contact (a flow's start; classify keeps the first classify.MaxStarts of a
// name's). It holds numbers only, no text from a packet, and loads nothing,
// so the report's Content-Security-Policy (default-src 'none') allows it.

// Timeline sizes, in CSS pixels.
const (
	timelineWidth  = 160
	timelineHeight = 14
)

// timelineSVG draws starts (Unix nanoseconds) across [first, last]. A span
// of zero (one instant) puts every tick in the middle. Nothing for no
// starts.
func timelineSVG(first, last time.Time, starts []int64) template.HTML {
	if len(starts) == 0 {
		return ""
	}
	f, l := first.UnixNano(), last.UnixNano()
	b := make([]byte, 0, 160+len(starts)*24)
	// Its size and baseline come from the style sheet (svg.tl): bytes once
	// per page, not once per timeline.
	b = append(b, `<svg class="tl" viewBox="0 0 `...)
	b = strconv.AppendInt(b, timelineWidth, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, timelineHeight, 10)
	b = append(b, `" role="img" aria-label="`...)
	b = strconv.AppendInt(b, int64(len(starts)), 10)
	if len(starts) == 1 {
		b = append(b, ` flow start`...)
	} else {
		b = append(b, ` flow starts`...)
	}
	b = append(b, `">`...)
	// The ticks are one path, a move and a vertical line each: a few bytes a
	// tick, for pages with thousands of timelines.
	b = append(b, `<path d="`...)
	last1 := -1
	for _, s := range starts {
		x := timelineWidth / 2
		if l > f {
			x = int(float64(min(max(s, f), l)-f) / float64(l-f) * (timelineWidth - 1))
		}
		if x == last1 {
			continue // one pixel, one tick
		}
		last1 = x
		b = append(b, 'M')
		b = strconv.AppendInt(b, int64(x), 10)
		b = append(b, ".5 2V13"...)
	}
	b = append(b, `"/></svg>`...)
	return template.HTML(b)
}
