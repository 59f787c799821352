package classify

import (
	"encoding/binary"

	"github.com/phonehome/phonehome/capture"
)

// endpoint is one side of an IPv4 flow as one number: the address in the
// upper 32 of its 48 bits, the port below. Endpoints order by address, then
// port, and compare and hash as a word.
type endpoint uint64

func newEndpoint(addr [4]byte, port uint16) endpoint {
	return endpoint(binary.BigEndian.Uint32(addr[:]))<<16 | endpoint(port)
}

func (e endpoint) addr() [4]byte {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], uint32(e>>16))
	return a
}

func (e endpoint) port() uint16 { return uint16(e) }

// flowKey identifies an IPv4 flow regardless of direction: the lower
// endpoint first, with the IP protocol above its 48 bits. Two words compare,
// hash and pass in registers; a struct of byte arrays made the compiler
// build keys in memory, and reading them back stalled on every packet.
type flowKey struct {
	lo, hi uint64
}

func makeKey(proto uint8, a, b endpoint) flowKey {
	if b < a {
		a, b = b, a
	}
	return flowKey{lo: uint64(a) | uint64(proto)<<48, hi: uint64(b)}
}

// proto is the flow's IP protocol number.
func (k flowKey) proto() uint8 { return uint8(k.lo >> 48) }

// flow is the state of one IPv4 flow between its first packet and its end
// (FIN/RST, idle expiry, eviction or the end of input).
type flow struct {
	flowFacts

	up, down stream // TCP: client to server, server to client
	finOut   bool
	finIn    bool
	reset    bool
	requests int

	class      flowClass
	prev, next *flow // activity list of its class, most recent first
}

// flowFacts is what a flow's record is made of: all that is kept of a flow
// that finishes before the VM is known.
type flowFacts struct {
	key            flowKey
	client, server endpoint // client started the flow (see newFlow)
	first, last    int64    // capture times, Unix nanoseconds

	packetsOut, packetsIn uint64 // out: client to server
	bytesOut, bytesIn     uint64

	sni        string
	tlsVersion uint16        // highest version the ClientHello offered
	anomalies  anomaly       // what leaves the name or paths in doubt
	truncated  bool          // the capture cut a frame of the flow
	cut        cutKind       // what the cut hid, if it hid a name
	host       string        // first HTTP Host
	paths      []string      // HTTP paths of requests to host, bounded
	dnsName    string        // query name of the DNS answer for server, at the start
	dnsChain   []string      // its CNAME chain (shared, never written)
	tunnel     capture.Encap // outermost encapsulation of its first tunnelled packet
	// The packets that carried the flow's evidence: the ClientHello that
	// gave sni, the request head that gave host, the DNS answer that gave
	// dnsName (or the latest of dnsAlts').
	sniAt, hostAt, dnsAt frameRef
	// dnsAlts, when the answers for server at the start led there from
	// several names (see dnsMap.lookup), holds each, sorted by name; then
	// dnsName is empty.
	dnsAlts []dnsAlt
}

// dnsAlt is one of several names whose DNS answers led to a flow's server.
type dnsAlt struct {
	name  string
	chain []string // shared, never written
}

// flowClass picks the idle timeout of a flow; each class has its own activity
// list, so the flows to expire are always at the tails: O(1) per expiry.
type flowClass uint8

const (
	classTCP    flowClass = iota // TCP, open
	classClosed                  // TCP after RST or FIN both ways: short linger
	classOther                   // UDP, ICMP and other protocols
	numClasses
)

type activityList struct {
	head, tail *flow // head: most recently active
}

// flowTable holds live flows, bounded, with an activity list so the least
// recently active flow is found in O(1) for idle expiry and eviction.
type flowTable struct {
	m     map[flowKey]*flow
	lists [numClasses]activityList
	free  []*flow
}

func newFlowTable(capacity int) *flowTable {
	return &flowTable{m: make(map[flowKey]*flow, capacity)}
}

func (t *flowTable) len() int { return len(t.m) }

func (t *flowTable) get(k flowKey) *flow { return t.m[k] }

// add inserts a fresh flow for k at the head of its class's activity list.
func (t *flowTable) add(k flowKey, class flowClass) *flow {
	var f *flow
	if n := len(t.free); n > 0 {
		f = t.free[n-1]
		t.free = t.free[:n-1]
	} else {
		f = new(flow)
	}
	f.key = k
	f.class = class
	t.m[k] = f
	t.pushFront(f)
	return f
}

// touch moves f to the head of the activity list.
func (t *flowTable) touch(f *flow) {
	if t.lists[f.class].head != f {
		t.moveToFront(f)
	}
}

func (t *flowTable) moveToFront(f *flow) {
	t.unlink(f)
	t.pushFront(f)
}

// setClass moves f to another class's list.
func (t *flowTable) setClass(f *flow, c flowClass) {
	if f.class == c {
		return
	}
	t.unlink(f)
	f.class = c
	t.pushFront(f)
}

// oldestOf returns the least recently active flow of a class, or nil.
func (t *flowTable) oldestOf(c flowClass) *flow { return t.lists[c].tail }

// oldest returns the least recently active flow of all, or nil.
func (t *flowTable) oldest() *flow {
	var o *flow
	for c := range t.lists {
		if f := t.lists[c].tail; f != nil && (o == nil || f.last < o.last) {
			o = f
		}
	}
	return o
}

// remove takes f out of the table. The caller must not use f afterwards
// except through release.
func (t *flowTable) remove(f *flow) {
	t.unlink(f)
	delete(t.m, f.key)
}

// release resets f and keeps it for reuse, so steady state allocates no flows.
func (t *flowTable) release(f *flow) {
	paths, alts := f.paths[:0], f.dnsAlts[:0]
	*f = flow{}
	f.paths, f.dnsAlts = paths, alts
	if len(t.free) < 4096 {
		t.free = append(t.free, f)
	}
}

func (t *flowTable) pushFront(f *flow) {
	l := &t.lists[f.class]
	f.prev = nil
	f.next = l.head
	if l.head != nil {
		l.head.prev = f
	}
	l.head = f
	if l.tail == nil {
		l.tail = f
	}
}

func (t *flowTable) unlink(f *flow) {
	l := &t.lists[f.class]
	if f.prev != nil {
		f.prev.next = f.next
	} else if l.head == f {
		l.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	} else if l.tail == f {
		l.tail = f.prev
	}
	f.prev, f.next = nil, nil
}
