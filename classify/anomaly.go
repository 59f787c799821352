package classify

import "slices"

// Anomaly kinds: evidence on a flow that leaves its name or its paths in
// doubt. A flow record lists its kinds (FlowRecord.Anomalies) and the run
// counts the flows of each (Run.Anomalies), so the report says so rather
// than show a name it cannot vouch for as if it could.
const (
	// AnomalySNIChanged: a later ClientHello on the connection named
	// another server than the first (or one named a server and the other
	// none). RFC 8446 section 4.1.2 has the ClientHello after a
	// HelloRetryRequest repeat the first but for the key share, cookie and
	// early data; a different name is an evasion (a filter reads the first,
	// the server may answer the second) or a broken client. The flow keeps
	// the first SNI read, so its name does not depend on which ClientHello
	// came last, and the name is in doubt.
	AnomalySNIChanged = "sni-changed"
	// AnomalyTCPUrgent: a direction carried TCP urgent data while it was
	// being read. Receivers differ on whether the urgent byte stays in the
	// stream (SO_OOBINLINE) or is taken out of it (the default of BSD
	// sockets), and on which byte the pointer names (RFC 1122 the last
	// urgent byte, BSD the one after it), so every byte from the urgent
	// byte on can be read two ways; the direction is not read past it, and
	// a request head or ClientHello across it gives no name and no path.
	AnomalyTCPUrgent = "tcp-urgent"
	// AnomalyHostDuplicated: an HTTP request had more than one Host field.
	// RFC 9112 section 3.2 has a server reject it (400); servers differ
	// on which one they take. The request names the flow by its
	// first Host only when every Host field names the same host (ASCII case,
	// port and trailing dots aside); otherwise it names nothing, and the
	// flow falls back to its DNS evidence. Either way nothing after the
	// request is read (extract.HTTPRequest.Ambiguous).
	AnomalyHostDuplicated = "host-duplicated"
	// AnomalyHostMismatch: an HTTP request's target was absolute-form
	// ("GET http://a.example/x") or CONNECT's authority-form, and a Host
	// field named another host. RFC 9112 section 3.2.2 has a server use the
	// target's host and ignore the Host field, so the target's host names
	// the request; a server that reads the Host field anyway serves the
	// other name.
	AnomalyHostMismatch = "host-mismatch"
	// AnomalyMalformedRequest: an HTTP request whose line servers refuse
	// (extract.HTTPRequest.BadLine: a version other than HTTP/1.0 or 1.1,
	// none, stray spaces; a server answers 400 and closes) or whose method
	// the IANA registry does not list (UnknownMethod: 501). The request
	// still names the flow by its Host, since where it went is the fact
	// that matters, and its path is kept; nothing after a refused line is
	// read, as no server reads a request there.
	AnomalyMalformedRequest = "malformed-request"
)

// anomaly is a set of anomaly kinds, one bit each, as a flow keeps them.
type anomaly uint8

const (
	anomalySNIChanged anomaly = 1 << iota
	anomalyTCPUrgent
	anomalyHostDuplicated
	anomalyHostMismatch
	anomalyMalformedRequest
	numAnomalies = iota
)

// anomalyKinds names each bit, in the order of the names, with the sentence
// the report shows.
var anomalyKinds = [numAnomalies]struct{ kind, what string }{
	{AnomalySNIChanged, "a later ClientHello on the connection named another server than the first " +
		"(RFC 8446 wants the same after a HelloRetryRequest): the flow keeps the first name, which is in doubt"},
	{AnomalyTCPUrgent, "TCP urgent data in a direction still being read: receivers differ on whether it stays " +
		"in the stream, so nothing from it on was read (a request or ClientHello across it gave no name and no path)"},
	{AnomalyHostDuplicated, "an HTTP request had more than one Host field (RFC 9112 says reject it): it named the flow " +
		"only if all named the same host, and nothing after it was read"},
	{AnomalyHostMismatch, "an HTTP request's target named another host than its Host field: the flow takes the " +
		"target's (RFC 9112 section 3.2.2), a server reading the Host field serves the other"},
	{AnomalyMalformedRequest, "an HTTP request line servers refuse (a version other than HTTP/1.0 or 1.1, none, " +
		"stray spaces) or a method the IANA registry does not list: the request still named the flow by its Host, " +
		"and nothing after a refused line was read"},
}

// maxAnomalyNames bounds the names kept per anomaly kind for the report.
const maxAnomalyNames = 16

// Anomaly counts the flows of one kind of anomaly in a run (see
// AnomalySNIChanged, AnomalyTCPUrgent, AnomalyHostDuplicated,
// AnomalyHostMismatch, AnomalyMalformedRequest). Every flow is counted, in
// scope or
// not; Names are the names given to those flows, sorted, at most 16.
type Anomaly struct {
	Kind  string   `json:"kind"`
	What  string   `json:"what"`
	Flows uint64   `json:"flows"`
	Names []string `json:"names,omitempty"`
}

// appendKinds appends the kinds in a to list.
func (a anomaly) appendKinds(list []string) []string {
	for i, k := range anomalyKinds {
		if a&(1<<i) != 0 {
			list = append(list, k.kind)
		}
	}
	return list
}

// anomalyCounts counts the flows of each anomaly kind over a run.
type anomalyCounts struct {
	flows [numAnomalies]uint64
	names [numAnomalies][]string
}

// add counts a finished flow's anomalies.
func (c *anomalyCounts) add(rec *FlowRecord) {
	for i, k := range anomalyKinds {
		if slices.Contains(rec.Anomalies, k.kind) {
			c.flows[i]++
			if rec.Name != "" {
				c.names[i] = addBounded(c.names[i], rec.Name, maxAnomalyNames)
			}
		}
	}
}

// list returns the kinds seen, in the order of their names.
func (c *anomalyCounts) list() []Anomaly {
	var out []Anomaly
	for i, k := range anomalyKinds {
		if c.flows[i] > 0 {
			out = append(out, Anomaly{Kind: k.kind, What: k.what, Flows: c.flows[i], Names: slices.Sorted(slices.Values(c.names[i]))})
		}
	}
	return out
}
