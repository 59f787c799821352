package main

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"io"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// dnsAnswer is what one DNS response says.
type dnsAnswer struct {
	qname  string
	qtype  string // "A" or "AAAA"
	rcode  string // "NOERROR" or "NXDOMAIN"
	cnames []string
	a      [][4]byte
	ttl    uint32 // of every record in it, seconds
}

// dnsSeen is the latest A answer of one name for an address, as phonehome
// keeps it: when it came and until when it holds, µs.
type dnsSeen struct {
	qname     string
	at, until int64
}

// phonehome's DNS rules (classify.Config.DNSMaxAge, dnsMinLive,
// maxNamesPerAddr): an answer holds for its TTL, at least 10 s and at most
// 24 h; older than 24 h when a flow starts, it names nothing; 4 names are
// kept per address. And its UDP idle timeout (classify.Config.UDPIdle): a
// UDP datagram on the 5-tuple of a flow active within the last 5 minutes
// belongs to that flow. The week's timeline never reuses a UDP 5-tuple that
// soon (NTP exchanges are 10 minutes apart, ephemeral ports come back after
// 16 384 flows); a timeline squeezed by -span does, and the truth must fold
// such flows together as phonehome does. (phonehome looks for idle flows
// once a second of capture time, so a 5-tuple back after 5 minutes and less
// than a second might still be folded there; no timeline here comes close.)
const (
	dnsMaxAge       = 24 * 3600 * 1e6
	dnsMinLive      = 10 * 1e6
	maxNamesPerAddr = 4
	udpIdle         = 5 * 60 * 1e6
)

// truth follows the capture as it is written and works out what phonehome
// must find in it, by phonehome's documented rules (README "Names"): a flow's
// name is its ClientHello's SNI, else the Host of its first HTTP request,
// else the query name of the DNS answers that reached the VM before the flow
// started and hold its destination: those still within their TTL, or if none
// those within 24 h. Several such names leave the flow ambiguous.
type truth struct {
	start                      time.Time
	first, last                int64
	packets, wireBytes         uint64
	ipv4Flows                  uint64
	inScope                    uint64
	excludedFlows              map[string]uint64
	excludedPackets            map[string]uint64
	hellos, splitHellos        uint64
	requests, dnsResponses     uint64
	names                      map[nameEvidence]uint64
	unattributed               map[[4]byte]uint64
	sni, hosts                 map[string]bool
	dns                        map[[2]string]*dnsAnswer
	answers                    map[[4]byte][]dnsSeen // the most recent first
	udpLast                    map[udpTuple]int64    // last packet on each UDP 5-tuple, µs
	v6Packets, v6Flows, v6Hell uint64
	v6SNI                      map[string]bool
}

type nameEvidence struct{ name, evidence string }

// udpTuple is a UDP flow's 5-tuple as phonehome keys it: its two endpoints
// (address and port), the lower first, whichever side sent first.
type udpTuple [2]uint64

func udpKey(f *flow) udpTuple {
	a := uint64(binary.BigEndian.Uint32(f.cli4[:]))<<16 | uint64(f.cport)
	b := uint64(binary.BigEndian.Uint32(f.srv4[:]))<<16 | uint64(f.sport)
	return udpTuple{min(a, b), max(a, b)}
}

func newTruth(start time.Time) *truth {
	return &truth{
		start: start, first: -1,
		excludedFlows: map[string]uint64{}, excludedPackets: map[string]uint64{},
		names: map[nameEvidence]uint64{}, unattributed: map[[4]byte]uint64{},
		sni: map[string]bool{}, hosts: map[string]bool{}, dns: map[[2]string]*dnsAnswer{},
		answers: map[[4]byte][]dnsSeen{}, v6SNI: map[string]bool{}, udpLast: map[udpTuple]int64{},
	}
}

// packet counts one written packet of f, dated at (µs since the start, as
// written: on the squeezed timeline with -span); first says it starts the
// flow.
func (t *truth) packet(f *flow, p *pkt, at int64, wire int, first bool) {
	t.packets++
	t.wireBytes += uint64(wire)
	if t.first < 0 {
		t.first = at
	}
	t.last = at
	switch {
	case f.proto == 0:
		t.excludedPackets[scopeNonIP]++
		return
	case f.v6:
		t.excludedPackets[scopeIPv6]++
		t.v6Packets++
		if first {
			t.v6Flows++
			t.v6Hell += uint64(f.hellos)
			if f.sni != "" {
				t.v6SNI[f.sni] = true
			}
		}
		return
	}
	if f.proto == 17 {
		k := udpKey(f)
		if last, ok := t.udpLast[k]; ok && first && at-last <= udpIdle {
			first = false // phonehome folds it into the flow still active on its 5-tuple
		}
		t.udpLast[k] = at
	}
	if first {
		t.flowStart(f, at)
	}
	if f.dns != nil && p.dir == 1 {
		t.dnsResponses++
		a := f.dns
		k := [2]string{a.qname, a.qtype}
		if old := t.dns[k]; old != nil {
			for _, x := range a.a {
				if !slices.Contains(old.a, x) {
					old.a = append(old.a, x)
				}
			}
		} else {
			c := *a
			c.a = slices.Clone(a.a)
			t.dns[k] = &c
		}
		until := at + min(max(int64(a.ttl)*1e6, dnsMinLive), dnsMaxAge)
		for _, x := range a.a {
			t.remember(x, dnsSeen{qname: a.qname, at: at, until: until})
		}
	}
}

func (t *truth) flowStart(f *flow, at int64) {
	t.ipv4Flows++
	t.hellos += uint64(f.hellos)
	t.splitHellos += uint64(f.splitHellos)
	t.requests += uint64(f.requests)
	if f.sni != "" {
		t.sni[f.sni] = true
	}
	if f.host != "" {
		t.hosts[f.host] = true
	}
	if f.scope != scopeIn {
		t.excludedFlows[f.scope]++
		return
	}
	t.inScope++
	switch {
	case f.sni != "":
		t.names[nameEvidence{f.sni, "sni"}]++
	case f.host != "":
		t.names[nameEvidence{f.host, "http-host"}]++
	default:
		switch names := t.dnsNames(f.srv4, at); len(names) {
		case 0:
			t.unattributed[f.srv4]++
		case 1:
			t.names[nameEvidence{names[0], "dns"}]++
		default:
			slices.Sort(names)
			t.names[nameEvidence{strings.Join(names, " "), "dns-ambiguous"}]++
		}
	}
}

// remember keeps an answer for addr as phonehome's DNS map does.
func (t *truth) remember(addr [4]byte, d dnsSeen) {
	list := t.answers[addr]
	i := slices.IndexFunc(list, func(s dnsSeen) bool { return s.qname == d.qname })
	if i >= 0 {
		list = slices.Delete(list, i, i+1)
	} else {
		list = slices.DeleteFunc(list, func(s dnsSeen) bool { return d.at-s.at > dnsMaxAge })
		if len(list) == maxNamesPerAddr {
			list = list[:len(list)-1]
		}
	}
	t.answers[addr] = slices.Insert(list, 0, d)
}

// dnsNames are the names whose answers lead to addr at time at: within
// their TTL, or if none, within 24 h.
func (t *truth) dnsNames(addr [4]byte, at int64) []string {
	var live, recent []string
	for _, d := range t.answers[addr] {
		if d.at > at {
			continue
		}
		if at <= d.until {
			live = append(live, d.qname)
		}
		if at-d.at <= dnsMaxAge {
			recent = append(recent, d.qname)
		}
	}
	if len(live) > 0 {
		return live
	}
	return recent
}

// Truth is the JSON document -truth writes.
type Truth struct {
	SchemaVersion int    `json:"schema_version"`
	Generator     string `json:"generator"`
	Seed          uint64 `json:"seed"`
	Format        string `json:"format"`
	VM            string `json:"vm"`
	Resolver      string `json:"resolver"`
	First         string `json:"first"`
	Last          string `json:"last"`
	Counts        Counts `json:"counts"`
	// Names are the in-scope flows by the name and evidence phonehome must
	// give them (its --flows name and evidence, and NameStat.Evidence); for
	// evidence dns-ambiguous, the name is the flow's DNS candidates, sorted,
	// joined by spaces.
	Names []NameCount `json:"names"`
	// Unattributed are the public addresses of in-scope flows with no name.
	Unattributed []AddrCount `json:"unattributed"`
	Written      Written     `json:"written"`
	IPv6         IPv6Truth   `json:"ipv6"`
}

// Counts are over the whole file, IPv4 unless named otherwise.
type Counts struct {
	Packets           uint64            `json:"packets"`
	WireBytes         uint64            `json:"wire_bytes"` // sum of frame lengths (phonehome's "read" bytes)
	FileBytes         int64             `json:"file_bytes"`
	IPv4Flows         uint64            `json:"ipv4_flows"`
	FlowsInScope      uint64            `json:"flows_in_scope"`
	ExcludedFlows     map[string]uint64 `json:"excluded_flows"`
	ExcludedPackets   map[string]uint64 `json:"excluded_packets"`
	ClientHellos      uint64            `json:"client_hellos"`       // IPv4
	SplitClientHellos uint64            `json:"split_client_hellos"` // IPv4, over two TCP segments
	HTTPRequests      uint64            `json:"http_requests"`
	DNSResponses      uint64            `json:"dns_responses"`
}

type NameCount struct {
	Name     string `json:"name"`
	Evidence string `json:"evidence"`
	Flows    uint64 `json:"flows"`
}

type AddrCount struct {
	Address string `json:"address"`
	Flows   uint64 `json:"flows"`
}

// Written are the distinct names written into IPv4 packets, whatever the
// flow's scope: every SNI, every HTTP Host, every DNS response.
type Written struct {
	SNI      []string    `json:"sni"`
	HTTPHost []string    `json:"http_host"`
	DNS      []DNSAnswer `json:"dns"`
}

type DNSAnswer struct {
	QName  string   `json:"qname"`
	QType  string   `json:"qtype"`
	RCode  string   `json:"rcode"`
	CNAMEs []string `json:"cnames"`
	A      []string `json:"a"` // every address answered for it, over the capture
}

// IPv6Truth is the IPv6 traffic, which phonehome leaves out by packet.
type IPv6Truth struct {
	Packets      uint64   `json:"packets"`
	Flows        uint64   `json:"flows"`
	ClientHellos uint64   `json:"client_hellos"`
	SNI          []string `json:"sni"`
}

func (t *truth) doc(seed uint64, format string, fileBytes int64) Truth {
	ts := func(us int64) string {
		return t.start.Add(time.Duration(us) * time.Microsecond).UTC().Format(time.RFC3339Nano)
	}
	d := Truth{
		SchemaVersion: 1, Generator: "mkcapture", Seed: seed, Format: format,
		VM: "192.168.56.10", Resolver: "192.168.56.1", First: ts(t.first), Last: ts(t.last),
		Counts: Counts{
			Packets: t.packets, WireBytes: t.wireBytes, FileBytes: fileBytes,
			IPv4Flows: t.ipv4Flows, FlowsInScope: t.inScope,
			ExcludedFlows: t.excludedFlows, ExcludedPackets: t.excludedPackets,
			ClientHellos: t.hellos, SplitClientHellos: t.splitHellos,
			HTTPRequests: t.requests, DNSResponses: t.dnsResponses,
		},
		Names:        []NameCount{},
		Unattributed: []AddrCount{},
		Written:      Written{SNI: sortedKeys(t.sni), HTTPHost: sortedKeys(t.hosts), DNS: []DNSAnswer{}},
		IPv6:         IPv6Truth{Packets: t.v6Packets, Flows: t.v6Flows, ClientHellos: t.v6Hell, SNI: sortedKeys(t.v6SNI)},
	}
	for k, n := range t.names {
		d.Names = append(d.Names, NameCount{Name: k.name, Evidence: k.evidence, Flows: n})
	}
	slices.SortFunc(d.Names, func(a, b NameCount) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Evidence, b.Evidence))
	})
	for a, n := range t.unattributed {
		d.Unattributed = append(d.Unattributed, AddrCount{Address: netip.AddrFrom4(a).String(), Flows: n})
	}
	slices.SortFunc(d.Unattributed, func(a, b AddrCount) int {
		return netip.MustParseAddr(a.Address).Compare(netip.MustParseAddr(b.Address))
	})
	for _, a := range t.dns {
		x := DNSAnswer{QName: a.qname, QType: a.qtype, RCode: a.rcode, CNAMEs: a.cnames, A: []string{}}
		if x.CNAMEs == nil {
			x.CNAMEs = []string{}
		}
		addrs := slices.Clone(a.a)
		slices.SortFunc(addrs, func(p, q [4]byte) int { return netip.AddrFrom4(p).Compare(netip.AddrFrom4(q)) })
		for _, ip := range addrs {
			x.A = append(x.A, netip.AddrFrom4(ip).String())
		}
		d.Written.DNS = append(d.Written.DNS, x)
	}
	slices.SortFunc(d.Written.DNS, func(a, b DNSAnswer) int {
		return cmp.Or(cmp.Compare(a.QName, b.QName), cmp.Compare(a.QType, b.QType))
	})
	return d
}

func sortedKeys(m map[string]bool) []string {
	out := slices.Sorted(maps.Keys(m))
	if out == nil {
		out = []string{}
	}
	return out
}

func writeTruth(w io.Writer, d Truth) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}
