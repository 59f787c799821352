package classify

import (
	"net/netip"
	"slices"
	"time"
)

// Evidence kinds: what named a flow.
const (
	EvidenceSNI      = "sni"
	EvidenceHTTPHost = "http-host"
	EvidenceDNS      = "dns"
	EvidenceNone     = ""
)

// FlowRecord is one finished IPv4 flow, as written by --flows. Src is the side
// that started the flow. It is a machine contract: field names are stable.
// BytesOut and BytesIn are frame bytes: the sum of each frame's length on the
// wire (capture.Packet.WireLen), link-layer header included, however much of
// it the capture kept. Fragments of an IPv4 datagram after the first are not
// in the flow; they are counted under ScopeFragment.
type FlowRecord struct {
	Proto      string     `json:"proto"`
	Src        netip.Addr `json:"src"`
	SPort      uint16     `json:"sport"`
	Dst        netip.Addr `json:"dst"`
	DPort      uint16     `json:"dport"`
	FirstSeen  time.Time  `json:"first_seen"`
	LastSeen   time.Time  `json:"last_seen"`
	PacketsOut uint64     `json:"packets_out"`
	PacketsIn  uint64     `json:"packets_in"`
	BytesOut   uint64     `json:"bytes_out"`
	BytesIn    uint64     `json:"bytes_in"`
	Name       string     `json:"name"`
	Evidence   string     `json:"evidence"`
	Scope      string     `json:"scope"`

	// What was read from the flow, beyond the one name it was given.
	SNI        string   `json:"sni,omitempty"`
	HTTPHost   string   `json:"http_host,omitempty"`
	HTTPPaths  []string `json:"http_paths,omitempty"`
	DNSName    string   `json:"dns_name,omitempty"`
	CNAMEs     []string `json:"cnames,omitempty"`
	TLSVersion string   `json:"tls_version,omitempty"`

	// Anomalies are the kinds of evidence that leave the flow's name or
	// paths in doubt (AnomalySNIChanged, AnomalyTCPUrgent), in the order of
	// their names.
	Anomalies []string `json:"anomalies,omitempty"`

	// Tunnel is the outermost encapsulation the flow's packets arrived in
	// (capture.Encap: "gre", "erspan-ii", "vxlan", ...), empty when they
	// arrived bare. The flow, its addresses and its scope are those of the
	// packets inside; BytesOut and BytesIn count the frames with their
	// encapsulation.
	Tunnel string `json:"tunnel,omitempty"`
}

// Observation is one name read from one packet (or reassembled stream): a DNS
// response, a TLS ClientHello or an HTTP request head. Src and Dst are those
// of the packet that completed it. It is valid only during the callback.
type Observation struct {
	Kind       string // "dns", "tls", "http"
	Time       time.Time
	Proto      string
	Src, Dst   netip.Addr
	SPort      uint16
	DPort      uint16
	Name       string       // query name, SNI or Host (as normalised)
	CNAMEs     []string     // dns: the chain from the query name
	A          []netip.Addr // dns: the IPv4 answers for the name or its chain
	Method     string       // http
	Path       string       // http
	TLSVersion uint16       // tls: highest offered
	// Unrequested (dns): the answer matched no query of a client whose
	// queries the capture holds, so it names no flow (see Run.DNS).
	Unrequested bool
}

// NameStat is what the run saw of one name among flows in scope.
type NameStat struct {
	Name      string
	Evidence  map[string]int // flows named by each kind of evidence
	Flows     int
	BytesOut  uint64
	BytesIn   uint64
	First     time.Time
	Last      time.Time
	Protocols []string // "HTTP", "TLS 1.3", "TCP 5228", ... sorted, bounded
	// Aliases are the CNAME chain names of the DNS answers behind the flows.
	Aliases []string
	// Paths are the HTTP request paths seen for this name, bounded.
	Paths []string
	// HostLevel is true when some flow of this name had no HTTP path (TLS,
	// DNS-only), so host/path patterns also apply at host level.
	HostLevel bool
	Addrs     []netip.Addr // bounded
}

// AddrStat is what the run saw of one destination that no evidence named.
type AddrStat struct {
	Addr     netip.Addr
	Flows    int
	BytesOut uint64
	BytesIn  uint64
	First    time.Time
	Last     time.Time
	Ports    []string // "tcp/443", bounded
}

// Excluded counts what was left out of the report for one reason.
type Excluded struct {
	Packets uint64
	Bytes   uint64
	Flows   uint64
}

// Bound records that a limit was reached, which the report must say because
// it may have changed the result.
type Bound struct {
	What  string
	Limit int
	Times uint64
}

// Run is the result of classifying a capture: the record the reports compare
// with the catalog. Maps are keyed by name and address; renderers sort.
type Run struct {
	VM         netip.Addr
	VMDetected bool   // false when given with --vm
	VMFlows    int    // flows the VM started (in scope or not)
	VMHow      string // how the VM was chosen, for the report
	First      time.Time
	Last       time.Time

	Packets uint64 // every frame read
	Bytes   uint64

	InScope      Excluded // flows, packets and bytes counted in the report
	Names        map[string]*NameStat
	Unattributed map[netip.Addr]*AddrStat
	Excluded     map[string]*Excluded
	DNS          DNSAnswers

	Bounds []Bound
	// Anomalies counts the flows, in scope or not, whose names or paths are
	// in doubt, by kind; only kinds seen are listed, in the order of their
	// names.
	Anomalies []Anomaly
}

// DNSAnswers counts the DNS answers read (responses with a question, opcode
// QUERY or its layout) by how they were taken: see dnsquery.go.
// It is part of the JSON report as it is.
type DNSAnswers struct {
	// Matched answered a query the capture holds: evidence.
	Matched uint64 `json:"matched"`
	// OneSided went to a client no unicast query from which had been seen
	// yet: evidence as before, since a capture may hold answers only.
	OneSided uint64 `json:"one_sided"`
	// Unrequested matched no query of a client whose queries the capture
	// holds: not evidence (a forged or late answer, or its query lost).
	Unrequested uint64 `json:"unrequested"`
}

const (
	maxPathsPerName   = 64
	maxAliasesPerName = 32
	maxAddrsPerName   = 32
	maxProtocols      = 8
	maxPortsPerAddr   = 16
	maxPathsPerFlow   = 16
)

// addBounded adds v to list unless it is there already or list holds limit.
func addBounded[T comparable](list []T, v T, limit int) []T {
	if slices.Contains(list, v) || len(list) >= limit {
		return list
	}
	return append(list, v)
}
