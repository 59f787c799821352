// Package reports holds a classified run against the endpoint catalog and
// renders the result.
//
// Compare builds, per Windows edition, the three lists of Microsoft's method:
// documented and seen, documented and not seen, and seen but not documented
// (grouped by registrable domain), plus the addresses no evidence named. An
// edition the build has no page for gets no lists; every renderer names it.
// Regress is the regression report (phonehome compare): runs, each held
// against its own build's page for its edition by Compare, and the
// differences between those reports, keyed by catalog.EndpointKey: endpoints
// new and gone, documented patterns newly seen or no longer, moves between
// documented and undocumented with why (the page or the traffic), protocols,
// flows and bytes per day past a ratio, the pages' own changes, and a matrix
// of every endpoint by run for three runs or more.
// Renderers (text for a terminal, JSON, CSV, Markdown, HTML with its
// timelines, JSON lines for flows) sort everything and take every time from the run, never from the
// clock, so the same capture gives the same bytes. Every name and path came
// from a packet and is escaped for the output it goes to.
package reports
