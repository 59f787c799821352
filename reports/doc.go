// Package reports holds a classified run against the endpoint catalog and
// renders the result.
//
// Compare builds, per Windows edition, the three lists of Microsoft's method:
// documented and seen, documented and not seen, and seen but not documented
// (grouped by registrable domain), plus the addresses no evidence named. An
// edition the build has no page for gets no lists; every renderer names it.
// Renderers (text for a terminal, JSON, CSV, Markdown, HTML, JSON lines for
// flows) sort everything and take every time from the run, never from the
// clock, so the same capture gives the same bytes. Every name and path came
// from a packet and is escaped for the output it goes to.
package reports
