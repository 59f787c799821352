package classify

import (
	"net/netip"
	"slices"
	"time"

	"github.com/phonehome/phonehome/capture"
)

// Evidence kinds: what named a flow.
const (
	EvidenceSNI      = "sni"
	EvidenceHTTPHost = "http-host"
	EvidenceDNS      = "dns"
	// EvidenceDNSAmbiguous: no SNI or Host, and the DNS answers that led to
	// the destination when the flow started came from several names, none
	// deciding (see FlowRecord.DNSCandidates). The flow is named by all of
	// them, never by one.
	EvidenceDNSAmbiguous = "dns-ambiguous"
	EvidenceNone         = ""
)

// What the capture cut that held a flow's name (FlowRecord.Cut). The bytes a
// cut frame lost are a hole in its TCP stream, which is not read past.
const (
	// CutClientHello: the flow's first ClientHello, so no SNI was read.
	CutClientHello = "client-hello"
	// CutRequestHead: the flow's first HTTP request head, so no Host was
	// read.
	CutRequestHead = "request-head"
	// CutFirstPayload: the client's first bytes, before they showed what
	// they were (a ClientHello, a request): no name was read from them.
	CutFirstPayload = "first-payload"
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
	// DNSCandidates, when the DNS answers that led to the destination came
	// from several names (2 to 4), holds each with its CNAME chain, sorted
	// by name; DNSName and CNAMEs are then empty. The flow's Evidence is
	// EvidenceDNSAmbiguous unless an SNI or Host named it.
	DNSCandidates []DNSCandidate `json:"dns_candidates,omitempty"`

	// Anomalies are the kinds of evidence that leave the flow's name or
	// paths in doubt (AnomalySNIChanged, AnomalyTCPUrgent,
	// AnomalyHostDuplicated, AnomalyHostMismatch, AnomalyMalformedRequest),
	// in the order of their names.
	Anomalies []string `json:"anomalies,omitempty"`
	// Truncated says the capture cut a frame of the flow (see Truncation),
	// and Cut, when that hid the flow's name, what it cut: CutClientHello,
	// CutRequestHead or CutFirstPayload.
	Truncated bool   `json:"truncated,omitempty"`
	Cut       string `json:"cut,omitempty"`

	// Tunnel is the outermost encapsulation the flow's packets arrived in
	// (capture.Encap: "gre", "erspan-ii", "vxlan", ...), empty when they
	// arrived bare. The flow, its addresses and its scope are those of the
	// packets inside; BytesOut and BytesIn count the frames with their
	// encapsulation.
	Tunnel string `json:"tunnel,omitempty"`

	// File and Frame say where the packet that named the flow is (see
	// EvidenceRef, whose File and Frame they are): the input it was read
	// from and its frame number there, as Wireshark numbers frames
	// (-Y frame.number==Frame). Empty and 0 when nothing named the flow,
	// or the source does not number frames.
	File  string `json:"file,omitempty"`
	Frame int64  `json:"frame,omitempty"`

	// evidenceAt is the capture time of that packet (EvidenceRef.Time).
	evidenceAt time.Time
}

// DNSCandidate is one of the names whose DNS answers led to a flow's
// destination, with the CNAME chain of its answer.
type DNSCandidate struct {
	Name   string   `json:"name"`
	CNAMEs []string `json:"cnames,omitempty"`
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
	// FirstEvidence is the packet that named the first flow of this name,
	// and that flow (see EvidenceRef).
	FirstEvidence EvidenceRef
	// Starts are the start times of the earliest MaxStarts flows, Unix
	// nanoseconds, sorted: the name's rhythm of contact (Rhythm).
	Starts []int64
}

// Rhythm is how often the name's flows came (RhythmOf).
func (n *NameStat) Rhythm() Rhythm { return RhythmOf(n.Starts, n.Flows) }

// AmbiguousStat is what the run saw of the flows in scope named by one set of
// DNS names, none deciding (EvidenceDNSAmbiguous): their destinations were
// answered for each of Names within the answers' TTLs.
type AmbiguousStat struct {
	Names []string // 2 to 4, sorted
	// Aliases[i] are the CNAME chain names of Names[i]'s answers, bounded.
	Aliases   [][]string
	Flows     int
	BytesOut  uint64
	BytesIn   uint64
	First     time.Time
	Last      time.Time
	Protocols []string     // as NameStat.Protocols
	Addrs     []netip.Addr // bounded
	// FirstEvidence is the DNS response behind the first flow of this set
	// of names, and that flow (see EvidenceRef).
	FirstEvidence EvidenceRef
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

// Run is the result of classifying a capture: the record the reports compare
// with the catalog. Maps are keyed by name and address; renderers sort.
type Run struct {
	VM         netip.Addr
	VMDetected bool   // false when given with --vm
	VMFlows    int    // flows the VM started (in scope or not)
	VMHow      string // how the VM was chosen, for the report
	// BusiestLocal is the local address that started the most flows, the
	// one detection picks, whether or not it is the VM (so a report can
	// suggest it when a --vm started none), and BusiestLocalFlows how many;
	// zero when no local address started one.
	BusiestLocal      netip.Addr
	BusiestLocalFlows int
	First             time.Time
	Last              time.Time

	Packets uint64 // every frame read
	Bytes   uint64

	InScope Excluded // flows, packets and bytes counted in the report
	Names   map[string]*NameStat
	// Ambiguous holds the flows named by several DNS names, none deciding,
	// by their set of names (the key holds each name behind its length: a
	// name from a packet may hold any byte, a newline too).
	Ambiguous    map[string]*AmbiguousStat
	Unattributed map[netip.Addr]*AddrStat
	Excluded     map[string]*Excluded
	DNS          DNSAnswers

	// Bounds are the limits reached, which may have changed the result: the
	// classifier's, then (from Analyze) the source's.
	Bounds []capture.Bound
	// Truncation says what the capture cut and what it cost.
	Truncation Truncation
	// Anomalies counts the flows, in scope or not, whose names or paths are
	// in doubt, by kind; only kinds seen are listed, in the order of their
	// names.
	Anomalies []Anomaly

	// What the source said about itself, filled by Analyze (a Run from
	// Classifier.Finish alone has none of it).
	//
	// Inputs name what was read, as given (Config.Inputs).
	Inputs []string
	// Damage is where the input could not be read as a capture, in
	// reading order.
	Damage []capture.Damage
	// Unsupported counts the frames of each link type phonehome cannot
	// decode, by capture.LinkTypeName; Excluded counts them too, under
	// ScopeUndecodable.
	Unsupported map[string]uint64
	// Duplicates counts the frames the source dropped as duplicates of
	// frames another input delivered (the same file given twice, rotated
	// files that overlap: capture.Stats.Duplicates); they are not in
	// Packets.
	Duplicates uint64
	// InputStats lists every input with what was read of it, in input
	// order: files found in a directory and skipped (not captures), empty
	// inputs, frames and duplicates of each (capture.Stats.Inputs).
	InputStats []capture.Input
	// Sessions are the live captures the run was read from, in order
	// (capture.Stats.Sessions): interface, filter, span and libpcap's drop
	// counts. None for a run read from files.
	Sessions []capture.Session

	// OpenAtEnd are the flows still open when the input ended, and
	// PickedUp those whose first packet came near its start and may be the
	// rest of a flow that began before it (see boundary.go), each at most
	// 4 096 (more are counted as a bound), sorted. Merge keeps every run's,
	// and matches them to count the flows cut at a boundary between runs
	// (BoundCutFlows).
	OpenAtEnd []BoundaryFlow
	PickedUp  []BoundaryFlow
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
