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

// dnsEntry is what the most recent DNS response to a client said about an
// address: the query name and the CNAME chain that led to it.
type dnsEntry struct {
	key   dnsKey
	qname string
	chain []string // CNAME targets from qname to the owner of the A record
	at    int64    // capture time of the answer, Unix nanoseconds
	prev  *dnsEntry
	next  *dnsEntry
}

// dnsMap holds, per (client, address), the latest DNS answer, bounded by
// count with least-recently-answered eviction, and by age: an answer older
// than maxAge when a flow starts is not used.
type dnsMap struct {
	m          map[dnsKey]*dnsEntry
	head, tail *dnsEntry
	capacity   int
	maxAge     int64 // nanoseconds
	evicted    uint64
}

func newDNSMap(capacity int, maxAge time.Duration) *dnsMap {
	return &dnsMap{m: make(map[dnsKey]*dnsEntry), capacity: capacity, maxAge: int64(maxAge)}
}

// put records that qname (through chain) resolved to addr for client at time at.
// chain is copied. A stored chain is never written again, so flows may keep it:
// when the answer changes, the entry gets a new slice.
func (d *dnsMap) put(k dnsKey, qname string, chain []string, at int64) {
	e := d.m[k]
	if e == nil {
		if len(d.m) >= d.capacity && d.tail != nil {
			old := d.tail
			d.unlink(old)
			delete(d.m, old.key)
			d.evicted++
			e = old
			*e = dnsEntry{}
		} else {
			e = new(dnsEntry)
		}
		e.key = k
		d.m[k] = e
	} else {
		d.unlink(e)
	}
	if !slices.Equal(e.chain, chain) {
		e.chain = append([]string(nil), chain...)
	}
	e.qname, e.at = qname, at
	e.next = d.head
	if d.head != nil {
		d.head.prev = e
	}
	d.head = e
	if d.tail == nil {
		d.tail = e
	}
}

// lookup returns the latest answer for k received no later than at and no
// earlier than maxAge before it, or nil.
func (d *dnsMap) lookup(k dnsKey, at int64) *dnsEntry {
	e := d.m[k]
	if e == nil || e.at > at || at-e.at > d.maxAge {
		return nil
	}
	return e
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
