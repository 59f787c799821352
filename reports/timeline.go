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

// chartBins bounds the run chart's bars: an hour each up to two weeks, a
// longer span's bars wider.
const chartBins = 336

// runChartSVG draws the flows started in each hour of [first, last]
// (chartBins bars at most), documented ones below, undocumented ones on
// top: the run's story in time. starts are Unix nanoseconds, each flow
// once. Numbers only; nothing for no flow.
func runChartSVG(first, last time.Time, documented, undocumented []int64) template.HTML {
	if len(documented)+len(undocumented) == 0 {
		return ""
	}
	f, l := first.UnixNano(), last.UnixNano()
	bins := int(min(max((l-f+int64(time.Hour)-1)/int64(time.Hour), 1), chartBins))
	width := max(l-f, 1)
	count := func(starts []int64) []int {
		c := make([]int, bins)
		for _, s := range starts {
			c[min(int(float64(min(max(s, f), l)-f)/float64(width)*float64(bins)), bins-1)]++
		}
		return c
	}
	doc, und := count(documented), count(undocumented)
	top := 1
	for i := range doc {
		top = max(top, doc[i]+und[i])
	}
	const h = 60
	b := make([]byte, 0, 128+bins*40)
	b = append(b, `<svg class="run" viewBox="0 0 `...)
	b = strconv.AppendInt(b, int64(bins*4), 10)
	b = append(b, ` 60" preserveAspectRatio="none" role="img" aria-label="flows started per `...)
	if bins < chartBins || l-f <= int64(chartBins)*int64(time.Hour) {
		b = append(b, `hour`...)
	} else {
		b = append(b, `period`...)
	}
	b = append(b, `, documented below, undocumented above">`...)
	bar := func(class string, counts []int, base []int) {
		b = append(b, `<path class="`...)
		b = append(b, class...)
		b = append(b, `" d="`...)
		for i, c := range counts {
			if c == 0 {
				continue
			}
			y0 := h
			if base != nil {
				y0 = h - base[i]*h/top
			}
			hh := max(c*h/top, 1)
			b = append(b, 'M')
			b = strconv.AppendInt(b, int64(i*4), 10)
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(y0), 10)
			b = append(b, "h3v-"...)
			b = strconv.AppendInt(b, int64(hh), 10)
			b = append(b, "h-3z"...)
		}
		b = append(b, `"/>`...)
	}
	bar("doc", doc, nil)
	bar("und", und, doc)
	b = append(b, `</svg>`...)
	return template.HTML(b)
}
