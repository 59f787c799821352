// Package classify follows IPv4 flows through decoded packets, reads the names
// in them (DNS answers with CNAME chains, TLS ClientHello SNI, HTTP/1.x Host)
// and attributes each flow to at most one name, folding the result into a Run.
//
// Attribution: a flow is named by its SNI, else by the Host of its first HTTP
// request, else by the query name of the latest DNS answer, received by the
// flow's client before the flow started, whose chain reaches the flow's
// destination; else it stays unattributed and is kept by address. The flow
// records which of these named it.
//
// Evidence that leaves a name or a path in doubt is said, not dropped: an HTTP
// request whose end servers would disagree on still names the flow, but
// nothing after it on the connection is read; a later ClientHello with
// another SNI, or TCP urgent data in a direction being read, marks the flow
// (FlowRecord.Anomalies) and is counted by kind in Run.Anomalies.
//
// Scope follows the method of Microsoft's endpoint pages: IPv4 flows started
// by the VM towards public addresses (outside every IANA special-purpose
// block). Everything else is counted by reason, so no packet disappears.
//
// State is bounded: the flow table (with idle expiry per class and least
// recently active eviction), reassembly per direction (maxStreamBuffer, held
// out-of-order segments), the DNS answer map and the name tables. Each bound
// that was reached is listed in Run.Bounds.
package classify
