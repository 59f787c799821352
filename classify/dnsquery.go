package classify

import (
	"hash/maphash"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/classify/extract"
)

// Which DNS answers are evidence.
//
// Anyone who can put a UDP packet from port 53 on the VM's wire can send it an
// answer it never asked for, and an answer names the flows that follow to its
// addresses. So an answer is matched to the query it answers, where the
// capture holds the queries:
//
//   - Once a unicast DNS query from a client has been seen (UDP or TCP, to
//     port 53, 5353 or 5355), every later answer to that client must match one
//     of its queries to be evidence: same transport, same DNS ID, the answer
//     from the address and port the query went to and to the port it came
//     from, the same first question (name compared ASCII case-insensitively,
//     since resolvers may randomise case, "0x20"; type; class), and the query
//     seen at most Config.DNSQueryWindow (default 15 s) before the answer. A
//     query sent to a multicast or broadcast address (mDNS, LLMNR) is matched
//     by an answer from any address, as responders answer from their own.
//   - Answers to a client before any unicast query from it was seen are
//     evidence as they are: the capture may hold one side only (a capture
//     filter of "src port 53"), or have started after the query.
//   - An answer that matches no query of a client whose queries are captured
//     is counted in Run.DNS.Unrequested, still seen by OnObservation (marked
//     Unrequested), and names nothing.
//
// Multicast queries (mDNS, LLMNR) are matched but do not make a client's
// queries "captured": a capture filter that keeps port 5353 and answers from
// port 53 holds them without the unicast queries.

// Bounds of the table of queries.
const (
	// queryWays is how many queries share one bucket of the table; a new
	// query in a full bucket takes the place of the oldest one still
	// waiting (counted as a bound reached).
	queryWays = 8
	// maxQueryClients bounds the clients whose queries have been seen. Past
	// it, every client is taken as one whose queries are captured (the bound
	// is reported): answers must then match a query, which is the careful
	// side.
	maxQueryClients = 1 << 16
)

// dnsQuery is one query a client sent: what its answer must repeat, and when.
// 40 bytes, no pointers, so the table is one allocation the collector never
// scans.
type dnsQuery struct {
	client, server endpoint
	at             int64  // capture time, Unix nanoseconds
	name           uint64 // keyed hash of the question name, ASCII lower-cased
	id             uint16
	qtype, qclass  uint16
	proto          uint8
	used           bool
}

// queryTable remembers the DNS queries seen in the last window, in a fixed
// number of buckets of queryWays each, chosen by client endpoint and DNS ID:
// O(1) to add and to match, no allocation after the first query. A bucket is
// filled with expired queries first, then the oldest waiting query gives way.
type queryTable struct {
	slots   []dnsQuery // made at the first query: most captures without DNS need none
	buckets int        // a power of two
	window  int64      // nanoseconds
	seed    maphash.Seed

	clients     map[[4]byte]struct{} // clients a unicast query was seen from
	clientsFull bool

	evicted, clientsDropped uint64
	folded                  [256]byte // scratch: a name lower-cased for hashing
}

func newQueryTable(capacity int, window int64) *queryTable {
	buckets := 1
	for buckets*queryWays < capacity {
		buckets <<= 1
	}
	return &queryTable{buckets: buckets, window: window, seed: maphash.MakeSeed(),
		clients: make(map[[4]byte]struct{})}
}

// capacity is how many queries the table holds.
func (t *queryTable) capacity() int { return t.buckets * queryWays }

// bucket returns the slots a query of client with DNS ID id lives in.
func (t *queryTable) bucket(client endpoint, id uint16) []dnsQuery {
	if t.slots == nil {
		t.slots = make([]dnsQuery, t.capacity())
	}
	h := (uint64(client)<<16 | uint64(id)) * 0x9e3779b97f4a7c15 // Fibonacci hashing: the high bits mix all
	b := int(h>>32) & (t.buckets - 1)
	return t.slots[b*queryWays : (b+1)*queryWays : (b+1)*queryWays]
}

// nameHash hashes name lower-cased (ASCII only, as names are normalised),
// without its trailing dots, with a seed an attacker cannot know, so that a
// name chosen to collide with a query's cannot be made.
func (t *queryTable) nameHash(name []byte) uint64 {
	for len(name) > 0 && name[len(name)-1] == '.' {
		name = name[:len(name)-1]
	}
	n := copy(t.folded[:], name) // names are at most 253 bytes; a longer one is hashed by its start
	for i, c := range t.folded[:n] {
		if 'A' <= c && c <= 'Z' {
			t.folded[i] = c + 'a' - 'A'
		}
	}
	return maphash.Bytes(t.seed, t.folded[:n])
}

// add remembers a query. A query repeated (a retransmission: same client,
// server, ID and question) is dated anew rather than kept twice.
func (t *queryTable) add(q dnsQuery) {
	b := t.bucket(q.client, q.id)
	free := -1
	for i := range b {
		s := &b[i]
		if s.used && s.client == q.client && s.server == q.server && s.id == q.id && s.proto == q.proto &&
			s.qtype == q.qtype && s.qclass == q.qclass && s.name == q.name {
			s.at = q.at
			return
		}
		if free < 0 && (!s.used || idleFor(q.at, s.at) > t.window) {
			free = i
		}
	}
	if free < 0 {
		free = 0
		for i := range b {
			if b[i].at < b[free].at {
				free = i
			}
		}
		t.evicted++
	}
	q.used = true
	b[free] = q
}

// match reports whether an answer from server to client, sent at time at,
// answers a query in the table.
func (t *queryTable) match(q dnsQuery) bool {
	for _, s := range t.bucket(q.client, q.id) {
		if s.used && s.client == q.client && s.id == q.id && s.proto == q.proto &&
			(s.server == q.server || isGroup(s.server.addr()) && s.server.port() == q.server.port()) &&
			s.qtype == q.qtype && s.qclass == q.qclass && s.name == q.name &&
			q.at >= s.at && q.at-s.at <= t.window {
			return true
		}
	}
	return false
}

// queried reports whether a unicast query from client has been seen.
func (t *queryTable) queried(client [4]byte) bool {
	_, ok := t.clients[client]
	return ok || t.clientsFull
}

// sawQueryFrom notes a unicast query from client.
func (t *queryTable) sawQueryFrom(client [4]byte) {
	if _, ok := t.clients[client]; ok {
		return
	}
	if len(t.clients) >= maxQueryClients {
		if !t.clientsFull {
			t.clientsFull = true
			t.clientsDropped++
		}
		return
	}
	t.clients[client] = struct{}{}
}

// isGroup reports whether a is a multicast or the limited broadcast address:
// answers to a query sent there come from the responders' own addresses.
func isGroup(a [4]byte) bool { return a[0]&0xf0 == 0xe0 || a == [4]byte{255, 255, 255, 255} }

// question returns the part of a query or answer that must agree, for
// packet p from src to dst.
func (c *Classifier) question(p *capture.Packet, client, server endpoint, id uint16, name []byte, qtype, qclass uint16) dnsQuery {
	if server.port() == 5353 {
		qclass &= 0x7fff // mDNS: the top bit asks for a unicast answer (RFC 6762 section 5.4)
	}
	return dnsQuery{client: client, server: server, at: nanos(p.Timestamp), name: c.queries.nameHash(name),
		id: id, qtype: qtype, qclass: qclass, proto: p.Proto}
}

// dnsQuery remembers a DNS query that p carries from a client (msg: the UDP
// payload, or one message of a TCP stream), so that its answer can be
// matched.
func (c *Classifier) dnsQuery(p *capture.Packet, msg []byte) {
	q := &c.query
	if extract.ParseDNSQuery(msg, q) != extract.Found || !queryLayout(q.Opcode) {
		return
	}
	client, server := newEndpoint(p.Src.As4(), p.SrcPort), newEndpoint(p.Dst.As4(), p.DstPort)
	c.queries.add(c.question(p, client, server, q.ID, q.QName, q.QType, q.QClass))
	if !isGroup(server.addr()) {
		c.queries.sawQueryFrom(client.addr())
	}
}

// requested says whether the answer in c.resp, which p carries to a client,
// is evidence (see the rules above), and counts it in the run.
func (c *Classifier) requested(p *capture.Packet) bool {
	r := &c.resp
	client, server := newEndpoint(p.Dst.As4(), p.DstPort), newEndpoint(p.Src.As4(), p.SrcPort)
	switch {
	case !c.queries.queried(client.addr()):
		c.run.DNS.OneSided++
		return true
	case c.queries.match(c.question(p, client, server, r.ID, r.QName, r.QType, r.QClass)):
		c.run.DNS.Matched++
		return true
	}
	c.run.DNS.Unrequested++
	return false
}
