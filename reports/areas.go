package reports

import (
	"strconv"

	"github.com/dustin/go-humanize"
)

// The traffic by documented area, each format's part of an edition. Areas
// come from the catalog (a user catalog's are the user's text): escaped as
// names are.

const areasNote = "the page's Area column; a name whose patterns lie in several areas counts in each"

func areasTitle(n int) string { return "Documented traffic by area (" + strconv.Itoa(n) + ")" }

// areaName is the area as shown: the page's, or what its absence means.
func areaName(a string) string {
	if a == "" {
		return "(no area on the page)"
	}
	return a
}

func textAreas(tw *errWriter, list []AreaTraffic) {
	if len(list) == 0 {
		return
	}
	tw.printf("\n%s\n  %s\n", areasTitle(len(list)), areasNote)
	tab := tw.table("AREA\tHOSTS\tNAMES\tFLOWS\tOUT\tIN")
	for _, a := range list {
		tab.row(T(areaName(a.Area)), strconv.Itoa(a.Hosts), strconv.Itoa(a.Names), humanize.Comma(int64(a.Flows)),
			humanize.Bytes(a.BytesOut), humanize.Bytes(a.BytesIn))
	}
	tab.flush()
}

func mdAreas(ew *errWriter, list []AreaTraffic) {
	if len(list) == 0 {
		return
	}
	m := MarkdownText
	ew.printf("\n### %s\n\n%s\n", m(areasTitle(len(list))), m(areasNote))
	tab := ew.mdTable("area", "hosts:", "names:", "flows:", "out:", "in:")
	for _, a := range list {
		tab.row(m(areaName(a.Area)), strconv.Itoa(a.Hosts), strconv.Itoa(a.Names), humanize.Comma(int64(a.Flows)),
			humanize.Bytes(a.BytesOut), humanize.Bytes(a.BytesIn))
	}
}

func htmlAreas(list []AreaTraffic) htmlPart {
	part := htmlPart{Title: areasTitle(len(list)), Note: areasNote}
	tab := htmlTableOf("area", "hosts:", "names:", "flows:", "out:", "in:")
	for _, a := range list {
		tab.add(htmlCell{Lines: []string{T(areaName(a.Area))}, Class: "wrap"}, num(strconv.Itoa(a.Hosts)), num(strconv.Itoa(a.Names)),
			num(humanize.Comma(int64(a.Flows))), num(humanize.Bytes(a.BytesOut)), num(humanize.Bytes(a.BytesIn)))
	}
	part.Table = tab
	return part
}
