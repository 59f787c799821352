package classify

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/phonehome/phonehome/capture"
)

// Flows at the ends of a run's input. When the files of one capture are
// analysed apart (a week day by day, on several machines, a capture resumed
// after a crash), a connection that spans the boundary between two of them
// is two flows, one in each run, and the later one may be unnamed: its SNI
// or DNS answer was in the earlier file. A run keeps, bounded, the flows
// still open when its input ended (Run.OpenAtEnd) and those that may have
// begun before it (Run.PickedUp), so that Merge can match the two halves and
// count them (BoundCutFlows). It cannot make them one flow again: a run keeps
// no flows, only what they added to names and addresses.

// BoundaryFlow is a flow at an end of a run's input: its protocol
// (FlowRecord.Proto) and endpoints, the client first as the classifier took
// it, and its times. A flow of OpenAtEnd has Last, its last packet, and
// Until, when the classifier would have finished it idle (Last plus the
// idle timeout of its state: open TCP, closed TCP, other); First is zero. A
// flow of PickedUp has First, its first packet; Last and Until are zero.
type BoundaryFlow struct {
	Proto string
	Src   netip.Addr
	SPort uint16
	Dst   netip.Addr
	DPort uint16
	First time.Time
	Last  time.Time
	Until time.Time
}

// maxBoundaryFlows bounds each of a classifier's lists of boundary flows: an
// idle VM keeps a few hundred flows open. The picked-up list is made at its
// first flow with room for all (4 096 of 48 bytes: 192 KiB), so adding to
// it never allocates.
const maxBoundaryFlows = 4096

// BoundCutFlows is the What of the bound under which Merge counts the flows
// cut at a boundary between the runs it merged: each was counted twice, once
// in each run, and its later half may be unnamed or named otherwise.
const BoundCutFlows = "flows cut at a file boundary: counted twice, once in each run merged (the later half may be unnamed)"

const boundBoundaryFull = "boundary flow list full: flows open at the end or picked up mid-stream at the start not kept, so not matched by merge"

// boundaryFacts is what a classifier keeps of a picked-up flow.
type boundaryFacts struct {
	key            flowKey
	client, server endpoint
	first          int64
}

// pickedUp reports whether a flow whose first packet p came at ts may be
// the rest of one that began before the input: its first packet came within
// its class's idle timeout of the input's first, and is not a TCP SYN
// without ACK (which starts a connection). A SYN retransmitted across the
// boundary is missed: it is counted as two flows and not matched.
func (c *Classifier) pickedUp(p *capture.Packet, ts int64) bool {
	idle := c.cfg.UDPIdle
	if p.Proto == 6 {
		if p.TCPFlags&(capture.TCPSyn|capture.TCPAck) == capture.TCPSyn {
			return false
		}
		idle = c.cfg.TCPIdle
	}
	return ts-c.first <= int64(idle)
}

// notePickedUp keeps f as picked up mid-stream, bounded.
func (c *Classifier) notePickedUp(f *flow) {
	if len(c.picked) >= maxBoundaryFlows {
		c.boundaryDropped++
		return
	}
	if c.picked == nil {
		c.picked = make([]boundaryFacts, 0, maxBoundaryFlows)
	}
	c.picked = append(c.picked, boundaryFacts{key: f.key, client: f.client, server: f.server, first: f.first})
}

// boundaryFlow makes the record of a flow at an end of the input.
func boundaryFlow(key flowKey, client, server endpoint) BoundaryFlow {
	return BoundaryFlow{Proto: protoName(key.proto()),
		Src: netip.AddrFrom4(client.addr()), SPort: client.port(),
		Dst: netip.AddrFrom4(server.addr()), DPort: server.port()}
}

// openAtEnd lists the flows open now, with when each would expire idle:
// the most recently active when there are more than maxBoundaryFlows (they
// are the likeliest to go on), sorted (compareBoundary). It allocates.
func (c *Classifier) openAtEnd() (open []BoundaryFlow, dropped uint64) {
	idle := [numClasses]time.Duration{classTCP: c.cfg.TCPIdle, classClosed: c.cfg.ClosedLinger, classOther: c.cfg.UDPIdle}
	c.eachLiveFlow(func(f *flow) {
		b := boundaryFlow(f.key, f.client, f.server)
		b.Last, b.Until = timeOf(f.last), timeOf(f.last+int64(idle[f.class]))
		open = append(open, b)
	})
	if n := len(open); n > maxBoundaryFlows {
		// eachLiveFlow went least recently active first.
		dropped = uint64(n - maxBoundaryFlows)
		open = slices.Clone(open[n-maxBoundaryFlows:])
	}
	slices.SortFunc(open, compareBoundary)
	return open, dropped
}

// pickedUpList is the picked-up flows, sorted (compareBoundary).
func (c *Classifier) pickedUpList() []BoundaryFlow {
	if len(c.picked) == 0 {
		return nil
	}
	out := make([]BoundaryFlow, len(c.picked))
	for i, p := range c.picked {
		out[i] = boundaryFlow(p.key, p.client, p.server)
		out[i].First = timeOf(p.first)
	}
	slices.SortFunc(out, compareBoundary)
	return out
}

// boundaryKey is a boundary flow's 5-tuple whichever side is the client:
// the two halves of a cut flow may disagree on it (the later half picked up
// mid-stream has no SYN to tell).
type boundaryKey struct {
	proto  string
	lo, hi netip.AddrPort
}

func (b BoundaryFlow) key() boundaryKey {
	x, y := netip.AddrPortFrom(b.Src, b.SPort), netip.AddrPortFrom(b.Dst, b.DPort)
	if y.Compare(x) < 0 {
		x, y = y, x
	}
	return boundaryKey{proto: b.Proto, lo: x, hi: y}
}

// compareBoundary orders boundary flows by all they hold.
func compareBoundary(a, b BoundaryFlow) int {
	return cmp.Or(strings.Compare(a.Proto, b.Proto), a.Src.Compare(b.Src), cmp.Compare(a.SPort, b.SPort),
		a.Dst.Compare(b.Dst), cmp.Compare(a.DPort, b.DPort), a.First.Compare(b.First), a.Last.Compare(b.Last),
		a.Until.Compare(b.Until))
}

// cutFlows counts the flows cut at a boundary between runs, given all their
// flows open at the end and picked up at the start: a picked-up flow p is
// the later half of an open flow e of the same 5-tuple when e is the open
// flow of that 5-tuple whose last packet came last before p's first, p's
// first packet came before e would have expired (e.Until), and p is the
// first picked-up flow of the 5-tuple after e's last packet. It is a
// function of the two lists as sets (their order does not matter), which
// keeps Merge associative: a merged run keeps both lists whole, and each
// Merge counts anew.
func cutFlows(open, picked []BoundaryFlow) uint64 {
	type event struct {
		at   time.Time
		open bool
		b    BoundaryFlow
	}
	byKey := map[boundaryKey][]event{}
	for _, e := range open {
		byKey[e.key()] = append(byKey[e.key()], event{at: e.Last, open: true, b: e})
	}
	for _, p := range picked {
		if evs, ok := byKey[p.key()]; ok {
			byKey[p.key()] = append(evs, event{at: p.First, b: p})
		}
	}
	var n uint64
	for _, evs := range byKey {
		// In time order; at one time, a picked-up flow before an open
		// one, so that a flow never matches itself nor one at its own
		// instant (p.First must be after e.Last).
		slices.SortFunc(evs, func(x, y event) int {
			return cmp.Or(x.at.Compare(y.at), boolCompare(x.open, y.open), compareBoundary(x.b, y.b))
		})
		var last *event // the latest open flow not yet followed by a picked-up one
		for i := range evs {
			e := &evs[i]
			switch {
			case e.open:
				last = e
			case last != nil:
				if !e.at.After(last.b.Until) {
					n++
				}
				last = nil
			}
		}
	}
	return n
}
