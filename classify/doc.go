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
// DNS evidence: an answer to a client from which a unicast query has been
// seen must match one of its queries (transport, ID, addresses and ports
// reversed, the first question case-insensitively, within
// Config.DNSQueryWindow); answers to other clients are taken as they are, so
// a capture of answers only still names flows. Answers that match nothing are
// counted in Run.DNS and name nothing. dnsquery.go has the rules.
//
// Flows: one per connection. A TCP flow ends at FIN both ways or RST (after a
// short linger), at idle expiry or eviction, or when a SYN with a new initial
// sequence number comes from a side that had already sent past its SYN: the
// capture missed the old connection's end, and the SYN starts the next.
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
// Mirrored traffic is judged by the packets inside the mirror's tunnel
// (capture takes it off): their addresses are the VM's, the mirror's own
// start no flow, and FlowRecord.Tunnel says how the flow arrived.
//
// State is bounded: the flow table (with idle expiry per class and least
// recently active eviction), reassembly per direction (maxStreamBuffer, held
// out-of-order segments), the DNS answer map, the table of DNS queries
// waiting for an answer, and the name tables. Each bound that was reached is
// listed in Run.Bounds.
package classify
