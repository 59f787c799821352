package classify

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/classify/extract"
)

// Config sets up a Classifier. The zero value of every field picks
// the default given beside it.
type Config struct {
	// VM is the address of the Windows VM. Zero: the local (RFC 1918 or
	// shared-space) address that starts the most flows.
	VM netip.Addr
	// MaxFlows bounds the live flow table (default 131 072: a flow takes
	// 512 bytes plus its map entry, so about 75 MB when full; stream buffers
	// are bounded apart, by MaxReassemblyBytes). An idle VM keeps a few
	// hundred flows open. When full, the least recently active flow is
	// finished early and the report says so.
	MaxFlows int
	// TCPIdle, UDPIdle and ClosedLinger are idle timeouts in capture time
	// (defaults 1 h, 5 min, 30 s). Windows keeps push connections open for
	// hours with sparse keep-alives, hence the long TCP default.
	TCPIdle, UDPIdle, ClosedLinger time.Duration
	// MaxDNSEntries bounds the names the map of DNS answers holds, over all
	// clients and addresses (default 131 072; at most maxNamesPerAddr, 4,
	// per client and address), and DNSMaxAge is how long an answer may hold
	// at most, whatever its TTL, and how old it may be when a flow starts and
	// still name it (default 24 h, Windows' MaxCacheTtl).
	MaxDNSEntries int
	DNSMaxAge     time.Duration
	// MaxDNSQueries bounds the table of DNS queries that answers are matched
	// against (default 16 384, 640 KiB, made at the first query), and
	// DNSQueryWindow is how long after its query an answer still matches it
	// (default 15 s; on the shared corpus a window of 1 000 h matches no
	// answer more). A query past the window, or pushed out of a full bucket
	// of the table, is forgotten; the report counts the second as a bound
	// reached. See dnsquery.go for which answers are evidence.
	MaxDNSQueries  int
	DNSQueryWindow time.Duration
	// MaxReassemblyBytes bounds the bytes all streams together may hold
	// while a parser waits for the rest of a ClientHello or request head
	// (default 32 MiB: 8 192 ClientHellos of 4 KiB pending at once). Past
	// it, new partial heads are given up and the report says so.
	MaxReassemblyBytes int
	// MaxNames bounds the distinct names and unattributed addresses kept in
	// the run (default 100 000 each).
	MaxNames int
	// DetectWindow is how many finished flows are held back while the VM is
	// not known yet (default 16 384, at most about 3 MB); when it fills, the
	// VM is chosen from the flows started so far.
	DetectWindow int
	// OnFlow, if set, sees every finished IPv4 flow with its scope. The record
	// is reused: copy what must outlive the call.
	OnFlow func(*FlowRecord)
	// OnObservation, if set, sees every name read from a packet.
	OnObservation func(*Observation)

	// Inputs name what the packets are read from, as the user gave them
	// (files, an interface): Analyze records them in Run.Inputs for the
	// report. The Classifier does not use them.
	Inputs []string
	// InputName, if set, names the input of capture.Packet.Input, for
	// FlowRecord.File and EvidenceRef.File; it is called once per named
	// flow, and the string it returns is kept as it is (not copied), so it
	// should return the same string each time (capture.FileSet.InputName
	// does). Analyze sets it from a source that has an InputName method;
	// nil leaves File empty.
	InputName func(input int) string
	// Progress, if set, is called by Analyze every ProgressEvery packets
	// with the number read so far, on Analyze's goroutine.
	Progress func(packets uint64)
	// Poll, if set, is called by Analyze on its goroutine whenever the
	// source returns capture.ErrIdle (a live source: no packet for a
	// while, or a while of capture time passed): the one place where the
	// analysis in progress may be looked at (View), for a checkpoint or a
	// status line.
	Poll func(v *View)
}

func (c *Config) setDefaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxFlows, 1<<17)
	def(&c.MaxDNSEntries, 1<<17)
	def(&c.MaxDNSQueries, 1<<14)
	def(&c.MaxNames, defaultMaxNames)
	def(&c.MaxReassemblyBytes, 32<<20)
	def(&c.DetectWindow, 1<<14)
	defd(&c.TCPIdle, time.Hour)
	defd(&c.UDPIdle, 5*time.Minute)
	defd(&c.ClosedLinger, 30*time.Second)
	defd(&c.DNSMaxAge, 24*time.Hour)
	defd(&c.DNSQueryWindow, 15*time.Second)
}

// Classifier folds decoded packets into a Run: it follows flows, reads the
// names in them and attributes each IPv4 flow to at most one name. It is not
// safe for concurrent use. Packets must come in capture order.
type Classifier struct {
	cfg     Config
	run     Run
	flows   *flowTable
	dns     *dnsMap
	queries *queryTable
	names   *interner
	paths   *interner
	// Capture times in Unix nanoseconds (see nanos): sweepAt is when idle
	// flows are next looked for.
	sweepAt              int64
	first, last, packets int64
	lastFlow             *flow // the flow of the previous packet, or nil

	vmKnown  bool
	vm       [4]byte
	starts   map[[4]byte]int
	pending  []flowFacts // of flows finished before the VM was known
	finished bool        // Finish was called: every flow has been seen

	ch    extract.ClientHello
	req   extract.HTTPRequest
	resp  extract.DNSResponse
	query extract.DNSQuery
	chain []string
	cands dnsCandidates
	rec   FlowRecord
	obs   Observation

	bufs      *bufferPool
	portNames map[portKey]string

	evictions, streamsGivenUp, namesDropped, addrsDropped uint64
	tunnelsTooDeep                                        uint64
	ambiguousDropped                                      uint64
	picked                                                []boundaryFacts // flows picked up mid-stream near the start
	boundaryDropped                                       uint64
	keyBuf                                                []byte // see ambiguous
	anomalies                                             anomalyCounts
	trunc                                                 truncation
}

// New returns a Classifier for cfg.
func New(cfg Config) *Classifier {
	cfg.setDefaults()
	c := &Classifier{
		cfg:       cfg,
		flows:     newFlowTable(1024),
		dns:       newDNSMap(cfg.MaxDNSEntries, cfg.DNSMaxAge),
		queries:   newQueryTable(cfg.MaxDNSQueries, int64(cfg.DNSQueryWindow)),
		names:     newInterner(cfg.MaxNames),
		paths:     newInterner(cfg.MaxNames),
		bufs:      newBufferPool(cfg.MaxReassemblyBytes),
		starts:    make(map[[4]byte]int),
		portNames: make(map[portKey]string),
	}
	c.run.Names = make(map[string]*NameStat)
	c.run.Ambiguous = make(map[string]*AmbiguousStat)
	c.run.Unattributed = make(map[netip.Addr]*AddrStat)
	c.run.Excluded = make(map[string]*Excluded)
	if cfg.VM.Is4() {
		c.vmKnown = true
		c.vm = cfg.VM.As4()
		c.run.VM = cfg.VM
		c.run.VMHow = "given with --vm"
	}
	return c
}

// dnsPort reports whether port carries DNS-format messages: DNS, mDNS, LLMNR.
func dnsPort(port uint16) bool { return port == 53 || port == 5353 || port == 5355 }

// Add classifies one packet. p and its buffers are not kept.
//
// IPv4 fragments are counted, not read: the first in its flow, the others as
// ScopeFragment. The datagram reassembled from them (p.Reassembled > 0),
// which capture delivers after the last one, is read for names and counts
// nothing. So a datagram never completed names nothing, as with tshark; but a
// first fragment the capture cut, which can never be completed, is read for
// DNS as far as its records are whole, as tshark reads it.
func (c *Classifier) Add(p *capture.Packet) {
	r := &c.run
	count := p.Reassembled == 0
	ts := nanos(p.Timestamp)
	if count {
		r.Packets++
		r.Bytes += uint64(p.WireLen)
		if c.packets == 0 || ts < c.first {
			c.first = ts
		}
		if c.packets == 0 || ts > c.last {
			c.last = ts
		}
		c.packets++
		if p.Tunnel.TooDeep {
			c.tunnelsTooDeep++
		}
		c.trunc.longest = max(c.trunc.longest, p.CapLen)
		if cutByCapture(p) {
			c.trunc.frame(p)
		}
	}
	switch p.L3 {
	case capture.L3IPv4:
	case capture.L3IPv6:
		c.exclude(ScopeIPv6, p.WireLen)
		return
	case capture.L3NonIP:
		c.exclude(ScopeNonIP, p.WireLen)
		return
	default:
		c.exclude(ScopeUndecodable, p.WireLen)
		return
	}
	if p.Fragment && p.SrcPort == 0 && p.DstPort == 0 && (p.Proto == 6 || p.Proto == 17 || capture.TunnelProtocol(p.Proto)) {
		// A later fragment (of a tunnelled packet too: capture took the
		// tunnel off the first one, whose flow is the inner packet's).
		c.exclude(ScopeFragment, p.WireLen)
		return
	}
	// Idle flows are looked for by this packet's time, so that one packet
	// dated far ahead (a corrupt timestamp) does not stop expiry for good.
	if ts >= c.sweepAt || c.sweepAt-ts > 2*int64(time.Second) {
		c.sweep(ts)
	}

	src := newEndpoint(p.Src.As4(), p.SrcPort)
	dst := newEndpoint(p.Dst.As4(), p.DstPort)
	key := makeKey(p.Proto, src, dst)
	// Packets of one flow come in runs (bulk transfers): try the last one
	// before the map.
	f := c.lastFlow
	if f == nil || f.key != key {
		f = c.flows.get(key)
	}
	if f != nil && p.Proto == 6 && p.TCPFlags&(capture.TCPSyn|capture.TCPAck) == capture.TCPSyn &&
		(f.class == classClosed || f.reopened(src, p.Seq)) {
		// A new connection on the 4-tuple of one that closed, or whose
		// end the capture missed: finish the old one rather than fold the
		// new one into it.
		c.finish(f) // clears lastFlow
		f = nil
	}
	if f == nil {
		f = c.newFlow(key, p, src, dst, ts)
		if c.pickedUp(p, ts) {
			c.notePickedUp(f)
		}
	}
	c.lastFlow = f
	if f.tunnel == capture.EncapNone {
		f.tunnel = p.Tunnel.Kind
	}
	out := src == f.client
	f.last = ts
	f.truncated = f.truncated || cutByCapture(p)
	switch {
	case !count:
	case out:
		if f.packetsOut == 0 {
			c.countStart(f.client.addr())
		}
		f.packetsOut++
		f.bytesOut += uint64(p.WireLen)
	default:
		f.packetsIn++
		f.bytesIn += uint64(p.WireLen)
	}
	c.flows.touch(f)
	if p.Fragment {
		// A first fragment cut by the capture can never be reassembled
		// (capture counts it in DefragStats.Truncated), so what it holds is
		// read, as tshark does: the DNS records that are whole.
		if p.Truncated && p.Proto == 17 {
			c.udpDNS(p)
		}
		return
	}

	switch p.Proto {
	case 6:
		c.tcp(f, p, out)
	case 17:
		c.udpDNS(p)
	}
}

// udpDNS reads the DNS query a UDP packet to a DNS port carries, or the DNS
// response one from a DNS port carries (mDNS sends both from and to 5353; the
// QR bit tells them apart). When the capture cut the packet (Truncated: fewer
// bytes than the IP total length announces), the payload is the start of a
// message and is read as far as its records are whole. A UDP length that
// overruns a datagram captured whole (Malformed) is a lie, not a cut: that
// payload is read as a whole message. A query is read as far as its first
// question, which is all that is kept of it.
func (c *Classifier) udpDNS(p *capture.Packet) {
	switch {
	case len(p.Payload) < 3:
	case p.Payload[2]&0x80 == 0:
		if dnsPort(p.DstPort) {
			c.dnsQuery(p, p.Payload)
		}
	case dnsPort(p.SrcPort):
		c.dnsMessage(p, p.Payload, cutByCapture(p))
	}
}

func (c *Classifier) exclude(reason string, bytes int) {
	e := c.run.Excluded[reason]
	if e == nil {
		e = new(Excluded)
		c.run.Excluded[reason] = e
	}
	e.Packets++
	e.Bytes += uint64(bytes)
}

// newFlow starts a flow at its first packet, deciding which side started it:
// the sender of a SYN, the receiver of a SYN-ACK, otherwise (mid-stream TCP,
// UDP) the side on an unprivileged port talking to a privileged one, else the
// sender of the first packet.
func (c *Classifier) newFlow(key flowKey, p *capture.Packet, src, dst endpoint, ts int64) *flow {
	if c.flows.len() >= c.cfg.MaxFlows {
		c.evictions++
		c.finish(c.flows.oldest())
	}
	class := classOther
	if p.Proto == 6 {
		class = classTCP
	}
	f := c.flows.add(key, class)
	client, server := src, dst
	switch {
	case p.Proto == 6 && p.TCPFlags&capture.TCPSyn != 0:
		if p.TCPFlags&capture.TCPAck != 0 {
			client, server = dst, src
		}
	case src.port() < 1024 && dst.port() >= 1024:
		client, server = dst, src
	}
	f.client, f.server = client, server
	f.first = ts
	c.dns.lookup(newDNSKey(client.addr(), server.addr()), ts, &c.cands)
	if c.cands.n > 0 {
		// The latest answer: lookup gives the candidates so ordered.
		f.dnsAt = c.cands.names[0].from
	}
	switch cands := c.cands.names[:c.cands.n]; len(cands) {
	case 0:
	case 1:
		f.dnsName, f.dnsChain = cands[0].qname, cands[0].chain
	default:
		// The answers do not decide: the flow keeps every name, sorted.
		for _, n := range cands {
			f.dnsAlts = append(f.dnsAlts, dnsAlt{name: n.qname, chain: n.chain})
		}
		slices.SortFunc(f.dnsAlts, func(a, b dnsAlt) int { return strings.Compare(a.name, b.name) })
	}
	return f
}

// reopened reports whether a SYN (without ACK) from src with sequence number
// seq starts a new connection on f's 4-tuple, whose old connection ended
// without a FIN or RST the capture holds: src had already sent a segment
// without SYN there (the old connection was open, or picked up mid-stream),
// and seq is not the ISN of src's earlier SYN or SYN-ACK (a retransmitted SYN
// keeps its ISN). This holds for either side: a SYN from the old server starts
// a connection it opens. A SYN from a side that has sent only SYNs is a retry
// or a simultaneous open (RFC 9293 section 3.5), and stays in the flow.
func (f *flow) reopened(src endpoint, seq uint32) bool {
	st := &f.down
	if src == f.client {
		st = &f.up
	}
	return st.open && !(st.hasISN && st.isn == seq)
}

// countStart counts a flow for VM detection once its client has sent a
// packet: a flow the client never spoke on (a stray SYN-ACK, an unrequested
// UDP packet to a high port) was not started by it. At most 65 536 local
// addresses are counted; those already counted keep counting.
func (c *Classifier) countStart(a [4]byte) {
	if !isLocalHost(netip.AddrFrom4(a)) {
		return
	}
	if _, ok := c.starts[a]; ok || len(c.starts) < 1<<16 {
		c.starts[a]++
	}
}

// cutByCapture reports whether the capture cut p short (its snap length):
// Truncated without Malformed. A frame whose headers claim more than the
// datagram holds is marked both, and is the sender's lie, not the capture's
// cut.
func cutByCapture(p *capture.Packet) bool { return p.Truncated && !p.Malformed }

func (c *Classifier) tcp(f *flow, p *capture.Packet, out bool) {
	st := &f.down
	if out {
		st = &f.up
	}
	seq := p.Seq
	if p.TCPFlags&capture.TCPSyn != 0 {
		st.syn(p.Seq)
		seq++ // data on a SYN (TCP Fast Open) starts after the ISN
	} else {
		st.open = true
	}
	if p.TCPFlags&capture.TCPUrg != 0 && st.state != streamDone && st.urgentAt(seq, p.Urgent) {
		// The pointer names a byte already read: what was read from it
		// on is in doubt, and nothing more is read.
		st.finish()
		f.anomalies |= anomalyTCPUrgent
	}
	if p.Malformed {
		// A header that lies about its lengths: a receiver drops the
		// segment, so it says nothing about the stream. (Anyone who
		// knows the 4-tuple can send one: taken as a cut, it ended the
		// direction and hid the name.)
		return
	}
	if p.Truncated && st.state != streamDone {
		if p.Payload == nil {
			// The capture cut the TCP header: where the segment's bytes
			// go is not known, so nothing more of the direction is read.
			c.cutStream(f, st, out)
			c.bufs.release(st)
		} else {
			st.cutAt(seq, len(p.Payload))
		}
	}
	if len(p.Payload) > 0 && st.state != streamDone {
		for data := st.accept(seq, p.Payload, c.bufs); data != nil; data = st.popHeld(c.bufs) {
			nh, atHole := st.beforeHole(len(data))
			if atHole && nh <= st.beforeUrgent(len(data)) {
				// Read what the capture kept, then stop: the bytes after
				// it are lost.
				c.consume(f, st, out, data[:nh], p)
				c.cutStream(f, st, out)
				break
			}
			if n := st.beforeUrgent(len(data)); n < len(data) {
				// Read up to the urgent byte (even none of it: that
				// decides whether the direction is read at all), then
				// stop: the bytes from it on can be read two ways.
				c.consume(f, st, out, data[:n], p)
				if st.state != streamDone {
					st.finish()
					f.anomalies |= anomalyTCPUrgent
				}
				break
			}
			c.consume(f, st, out, data, p)
		}
		if st.gaveUp {
			st.gaveUp = false
			c.streamsGivenUp++
		}
		if st.state == streamDone {
			c.bufs.release(st)
		}
	}
	if st.hole && st.state != streamDone && st.synced && seqDiff(st.holeSeq, st.next) <= 0 {
		// The hole is where the direction stands: a segment cut before
		// its first byte.
		c.cutStream(f, st, out)
		c.bufs.release(st)
	}
	if p.TCPFlags&capture.TCPRst != 0 {
		f.reset = true
	}
	if p.TCPFlags&capture.TCPFin != 0 {
		if out {
			f.finOut = true
		} else {
			f.finIn = true
		}
	}
	if f.reset || (f.finOut && f.finIn) {
		c.flows.setClass(f, classClosed)
	}
}

// sweep finishes flows idle past their class's timeout. It looks only at the
// tails of the activity lists, so it costs O(1) per flow finished.
func (c *Classifier) sweep(now int64) {
	c.sweepAt = now + int64(time.Second)
	timeouts := [numClasses]time.Duration{
		classTCP:    c.cfg.TCPIdle,
		classClosed: c.cfg.ClosedLinger,
		classOther:  c.cfg.UDPIdle,
	}
	for class, idle := range timeouts {
		for f := c.flows.oldestOf(flowClass(class)); f != nil && idleFor(now, f.last) > int64(idle); f = c.flows.oldestOf(flowClass(class)) {
			c.finish(f)
		}
	}
}

// Finish finishes every live flow and returns the run. The Classifier must
// not be used afterwards.
func (c *Classifier) Finish() *Run {
	c.finished = true // every flow has started: a decision now sees them all
	if c.packets > 0 {
		c.run.First, c.run.Last = timeOf(c.first), timeOf(c.last)
	}
	open, dropped := c.openAtEnd()
	for f := c.flows.oldest(); f != nil; f = c.flows.oldest() {
		c.finish(f)
	}
	if !c.vmKnown {
		c.decideVM()
	}
	c.summarize(open, dropped)
	return &c.run
}

// summarize fills in what the run says of the whole input: the VM's flows,
// the busiest local address, the bounds reached, anomalies, truncation, and
// the flows at its ends: open, those open at its end (of which openDropped
// were not kept), and those picked up mid-stream at its start.
func (c *Classifier) summarize(open []BoundaryFlow, openDropped uint64) {
	r := &c.run
	r.OpenAtEnd, r.PickedUp = open, c.pickedUpList()
	r.VMFlows = c.starts[c.vm]
	if a, n := c.busiest(); n > 0 {
		r.BusiestLocal, r.BusiestLocalFlows = netip.AddrFrom4(a), n
	}
	bound := func(what string, limit int, times uint64) {
		if times > 0 {
			r.Bounds = append(r.Bounds, capture.Bound{What: what, Limit: limit, Times: times})
		}
	}
	bound("flow table full: least recently active flow finished early", c.cfg.MaxFlows, c.evictions)
	bound("stream reassembly bound: a direction given up", maxStreamBuffer, c.streamsGivenUp)
	bound("out-of-order memory full: a direction's held segments given up", c.cfg.MaxReassemblyBytes/2, c.bufs.heldFull)
	bound("reassembly memory full: the longest-waiting partial head given up", c.cfg.MaxReassemblyBytes, c.bufs.evicted)
	bound("reassembly memory full: a partial head not held", c.cfg.MaxReassemblyBytes, c.bufs.full)
	bound("DNS answer map full: oldest answer dropped", c.cfg.MaxDNSEntries, c.dns.evicted)
	bound("DNS names per address: a name still within its TTL dropped for a newer one", maxNamesPerAddr, c.dns.crowded)
	bound("DNS query table full: oldest waiting query forgotten, its answer not used", c.queries.capacity(), c.queries.evicted)
	bound("DNS client table full: answers to every further client must match a query", maxQueryClients, c.queries.clientsDropped)
	bound(boundNames, c.cfg.MaxNames, c.namesDropped)
	bound(boundAddrs, c.cfg.MaxNames, c.addrsDropped)
	bound(boundAmbiguous, c.cfg.MaxNames, c.ambiguousDropped)
	bound(boundBoundaryFull, maxBoundaryFlows, c.boundaryDropped+openDropped)
	bound("tunnel nesting: a packet still encapsulated after this many encapsulations read as the packet inside the last", capture.MaxTunnelDepth, c.tunnelsTooDeep)
	r.Anomalies = c.anomalies.list()
	r.Truncation = c.trunc.result()
}

// decideVM picks the local address that started the most flows, and releases
// the flows held back until it was known.
func (c *Classifier) decideVM() {
	best, bestN := c.busiest()
	c.vmKnown = true
	if bestN >= 0 {
		c.vm = best
		c.run.VM = netip.AddrFrom4(best)
		c.run.VMDetected = true
		c.run.VMHow = "detected: the local address that started the most flows"
		if !c.finished {
			total := 0
			for _, n := range c.starts {
				total += n
			}
			c.run.VMHow += ", counted over the first " + itoa(total) + " flows local addresses started"
		}
	} else {
		c.run.VMHow = "none found: no local address started a flow"
	}
	pending := c.pending
	c.pending = nil
	for i := range pending {
		c.record(&pending[i], &c.rec)
		c.emit(&c.rec)
	}
}

// busiest returns the local address that started the most flows so far
// (ties: the lowest address), and how many; -1 when none started one.
func (c *Classifier) busiest() (addr [4]byte, n int) {
	n = -1
	for a, k := range c.starts {
		if k > n || (k == n && newEndpoint(a, 0) < newEndpoint(addr, 0)) {
			addr, n = a, k
		}
	}
	return addr, n
}

// nanos turns a capture time into Unix nanoseconds, the classifier's clock.
// Times outside what int64 nanoseconds hold (years before 1678 or after 2262,
// which only a corrupt or hostile pcapng timestamp gives) are clamped.
func nanos(t time.Time) int64 {
	const limit = 9_000_000_000 // seconds: about year 2255
	if s := t.Unix(); s > limit || s < -limit {
		return min(max(s, -limit), limit) * int64(time.Second)
	}
	return t.UnixNano()
}

// timeOf turns the classifier's clock back into a time, in UTC.
func timeOf(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// idleFor is how long a flow last active at last has been idle at now. A
// flow whose last packet is dated after now by more than that (a corrupt or
// hostile timestamp far ahead) counts as idle too: otherwise it would sit at
// the tail of its activity list and hold back the expiry of every flow after
// it.
func idleFor(now, last int64) int64 {
	if last > now {
		return last - now
	}
	return now - last
}
