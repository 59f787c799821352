package classify

import (
	"encoding/binary"
	"slices"
	"time"
)

// dnsKey ties an address from a DNS answer to the client the answer was sent
// to (two hosts on one capture may resolve the same name differently): the
// client's address in the upper 32 bits, the answer's below. A word, so the
// map takes its fast path for 64-bit keys.
type dnsKey uint64

func newDNSKey(client, addr [4]byte) dnsKey {
	return dnsKey(binary.BigEndian.Uint32(client[:]))<<32 | dnsKey(binary.BigEndian.Uint32(addr[:]))
}

// Bounds of what the DNS map keeps per (client, address).
const (
	// maxNamesPerAddr is how many names' answers are kept for one address of
	// one client. A CDN address serves many names, but an idle Windows VM
	// resolves two or three of them to one address within their TTLs; past
	// four, the least recently answered name is dropped, and the report says
	// so when its answer was still within its TTL.
	maxNamesPerAddr = 4
	// dnsMinLive is how long an answer leads to its addresses at least,
	// whatever its TTL says: a client connects to the address it was just
	// given even when the TTL is 0 (not to be cached), a round trip or a
	// retried connect later.
	dnsMinLive = 10 * time.Second
)

// dnsName is what the latest DNS answer for one name said about an address:
// the query name, the CNAME chain that led to the address, and how long the
// answer holds.
type dnsName struct {
	qname string
	chain []string // CNAME targets from qname to the owner of the A record; shared, never written
	at    int64    // capture time of the answer, Unix nanoseconds
	until int64    // when the answer expires: at plus its TTL (see dnsMap.put)
	from  frameRef // the response packet
}

// dnsEntry is what the DNS answers to one client said about one address: up
// to maxNamesPerAddr names, the most recently answered first.
type dnsEntry struct {
	key   dnsKey
	names []dnsName
	prev  *dnsEntry
	next  *dnsEntry
}

// dnsMap holds, per (client, address), the latest answer of each name that
// led there, at most maxNamesPerAddr names. It is bounded by the names it
// holds (capacity), evicting the least recently answered (client, address)
// with all its names, and by age: an answer older than maxAge when a flow
// starts is not used.
type dnsMap struct {
	m          map[dnsKey]*dnsEntry
	head, tail *dnsEntry
	capacity   int   // names held at most
	held       int   // names held
	maxAge     int64 // nanoseconds
	// evicted counts the names dropped because the map was full;
	// crowded, the names dropped for a newer one at an address that had
	// maxNamesPerAddr names whose answers were all still within their TTL.
	evicted, crowded uint64
	spare            *dnsEntry // an evicted entry, for reuse
}

func newDNSMap(capacity int, maxAge time.Duration) *dnsMap {
	return &dnsMap{m: make(map[dnsKey]*dnsEntry), capacity: capacity, maxAge: int64(maxAge)}
}

// put records that qname (through chain) resolved to the key's address for
// its client in the response packet from, at its time, in an answer that holds for ttl seconds (the
// smallest TTL on the way, extract.ARecord.MinTTL). The answer holds at
// least dnsMinLive and at most maxAge. chain is copied. A stored chain is
// never written again, so flows may keep it: when the answer changes, the
// name gets a new slice.
func (d *dnsMap) put(k dnsKey, qname string, chain []string, from frameRef, ttl uint32) {
	at := from.at
	until := at + min(max(int64(ttl)*int64(time.Second), int64(dnsMinLive)), d.maxAge)
	e := d.m[k]
	i := -1
	if e != nil {
		i = slices.IndexFunc(e.names, func(n dnsName) bool { return n.qname == qname })
		d.unlink(e)
	}
	if i < 0 {
		// A new name: drop those past maxAge, then, at the bound, the
		// least recently answered; then make room in the map.
		if e != nil {
			before := len(e.names)
			e.names = slices.DeleteFunc(e.names, func(n dnsName) bool { return at-n.at > d.maxAge })
			d.held -= before - len(e.names)
			if len(e.names) == maxNamesPerAddr {
				if e.names[maxNamesPerAddr-1].until >= at {
					d.crowded++
				}
				e.names = slices.Delete(e.names, maxNamesPerAddr-1, maxNamesPerAddr)
				d.held--
			}
		}
		d.makeRoom(e)
		if e == nil {
			e = d.spare
			d.spare = nil
			if e == nil {
				e = new(dnsEntry)
			}
			e.key = k
			d.m[k] = e
		}
		e.names = append(e.names, dnsName{})
		d.held++
		i = len(e.names) - 1
	}
	d.pushFront(e)
	n := e.names[i]
	if !slices.Equal(n.chain, chain) {
		n.chain = append([]string(nil), chain...)
	}
	n.qname, n.at, n.until, n.from = qname, at, until, from
	copy(e.names[1:i+1], e.names[:i]) // the most recently answered first
	e.names[0] = n
}

// makeRoom evicts the least recently answered entries other than e (which
// may be nil) until one more name fits, counting the names dropped. The last
// entry evicted is kept as spare, its slice's capacity with it, so a full map
// takes new addresses without allocating.
func (d *dnsMap) makeRoom(e *dnsEntry) {
	for d.held >= d.capacity {
		old := d.tail
		if old == nil {
			// e alone fills the map (a capacity below maxNamesPerAddr):
			// drop its least recently answered name.
			if e == nil || len(e.names) == 0 {
				return
			}
			e.names = slices.Delete(e.names, len(e.names)-1, len(e.names))
			d.held--
			d.evicted++
			continue
		}
		d.unlink(old)
		delete(d.m, old.key)
		d.held -= len(old.names)
		d.evicted += uint64(len(old.names))
		clear(old.names)
		*old = dnsEntry{names: old.names[:0]}
		d.spare = old
	}
}

// dnsCandidates are the names whose answers lead to a flow's destination when
// it starts; n of them are set.
type dnsCandidates struct {
	names [maxNamesPerAddr]dnsName
	n     int
}

// lookup finds the names whose answers led to the key's address for its
// client by time at, the start of a flow:
//   - those whose latest answer, received no later than at, still held at at
//     (within its TTL): the names the client could have had in its cache;
//   - if there are none, those answered no earlier than maxAge before at: a
//     client that kept an address past its TTL had one of them.
//
// One name names the flow; several leave it ambiguous (see record).
func (d *dnsMap) lookup(k dnsKey, at int64, out *dnsCandidates) {
	out.n = 0
	e := d.m[k]
	if e == nil {
		return
	}
	for _, n := range e.names {
		if n.at <= at && at <= n.until {
			out.names[out.n] = n
			out.n++
		}
	}
	if out.n > 0 {
		return
	}
	for _, n := range e.names {
		if n.at <= at && at-n.at <= d.maxAge {
			out.names[out.n] = n
			out.n++
		}
	}
}

func (d *dnsMap) pushFront(e *dnsEntry) {
	e.next = d.head
	if d.head != nil {
		d.head.prev = e
	}
	d.head = e
	if d.tail == nil {
		d.tail = e
	}
}

func (d *dnsMap) unlink(e *dnsEntry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else if d.head == e {
		d.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else if d.tail == e {
		d.tail = e.prev
	}
	e.prev, e.next = nil, nil
}
