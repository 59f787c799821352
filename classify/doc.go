// Package classify follows IPv4 flows through decoded packets, reads the names
// in them (DNS answers with CNAME chains, TLS ClientHello SNI, HTTP/1.x Host)
// and attributes each flow to at most one name, folding the result into a Run.
//
// Attribution: a flow is named by its SNI, else by the host of its first HTTP
// request, else by the query name of the DNS answers, received by the flow's
// client before the flow started, whose chain reaches the flow's destination:
// those still within their TTL (the chain's smallest, 10 s to 24 h), or if
// none, those within 24 h (dnsmap.go). When those answers came from several
// names, none decides: the flow is named by all of them as ambiguous
// (EvidenceDNSAmbiguous, FlowRecord.DNSCandidates, Run.Ambiguous), never by
// the latest alone. Else it stays unattributed and is kept by address. The
// flow records which of these named it. A request's host is the one a server
// serves (RFC 9112 section 3.2.2): the host in an absolute-form target
// ("GET http://a.example/x") or CONNECT's, else the Host field's; its path is
// the one in the target. Host names are lower-cased without a trailing dot;
// paths are kept as sent, since they are case-sensitive (the matcher folds
// case when it holds them against the pages).
//
// Truncation: a TCP segment the capture cut (a short snap length) leaves a
// hole where its bytes were lost; the stream is read up to it and no
// further, so a ClientHello or request head across it names nothing, and the
// flow says what the cut hid (FlowRecord.Cut). Run.Truncation counts the
// frames cut and what they cost.
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
// another SNI, TCP urgent data in a direction being read, a request with two
// Host fields (which names the flow only if they agree, and ends what is
// read) or a request whose target names another host than its Host field,
// marks the flow (FlowRecord.Anomalies) and is counted by kind in
// Run.Anomalies.
//
// TCP streams are read however they are cut into segments: a start too short
// to tell (a TLS record header, a PROXY header, a request method) waits for
// the next segment, and after a plain exchange (STARTTLS, CONNECT) a
// ClientHello is looked for at each segment's start until 8 segments and
// 4 KiB have passed without one (see maxProbes).
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
//
// Analyze is the pipeline as one call: it reads any Source (capture.FileSet,
// later a live capture) through a Classifier and returns the Run with what
// the source says about itself (inputs, damage, bounds, link types it could
// not decode), which is all reports.Compare needs.
//
// The run record (record.go) is a Run as a versioned JSON file: WriteRecord
// and ReadRecord, SaveRecord (atomic) and LoadRecord (a file or a checkpoint
// directory). Merge makes one Run of several: the parts of a capture resumed
// after a crash.
package classify
