package capture

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"time"
)

// Defaults and limits of IPv4 reassembly (see DefragConfig).
const (
	// DefaultDefragDatagrams is how many incomplete datagrams are held at
	// once by default: far more than one VM has in flight (the shared
	// corpus peaks at 5), for about 0.2 MiB of slots.
	DefaultDefragDatagrams = 1024
	// DefaultDefragBytes bounds the fragment data held by default: 8 MiB,
	// twice Linux's ipfrag_high_thresh of 4 MiB.
	DefaultDefragBytes = 8 << 20
	// DefaultDefragTimeout is how long, in capture time, a datagram may stay
	// incomplete after its first fragment arrived: Linux's ipfrag_time and
	// BSD's IPFRAGTTL (60 half-second ticks) are both 30 s.
	DefaultDefragTimeout = 30 * time.Second

	// defragBlock is the unit of fragment memory: a datagram's data lives in
	// blocks of this size, allocated when first written to. 2 KiB holds one
	// Ethernet-sized fragment in at most two blocks.
	defragBlock = 2048
	// defragMaxData is the most data an IPv4 datagram can carry: a total
	// length of 65535 less the smallest header. More is "ping of death".
	defragMaxData = 65535 - 20
	// defragBlocks is how many blocks one datagram can use.
	defragBlocks = (defragMaxData + defragBlock - 1) / defragBlock
	// defragMinBytes is the smallest MaxBytes: room for one whole datagram.
	defragMinBytes = defragBlocks * defragBlock
)

// DefragConfig bounds IPv4 reassembly. The zero value reassembles with the
// defaults given beside each field.
type DefragConfig struct {
	// Off turns reassembly off: fragments come out of Next as captured and
	// nothing more.
	Off bool
	// MaxDatagrams bounds the datagrams in reassembly at once (default
	// DefaultDefragDatagrams). A fragment of a new datagram when it is full
	// drops the incomplete datagram whose first fragment came earliest.
	MaxDatagrams int
	// MaxBytes bounds the fragment data held, counted in 2 KiB blocks
	// (default DefaultDefragBytes, at least 64 KiB so one whole datagram
	// fits). When a fragment needs a block and none is left, the incomplete
	// datagrams whose first fragment came earliest are dropped until one is.
	MaxBytes int
	// Timeout is how long, in capture time, a datagram may stay incomplete
	// after its first fragment (default DefaultDefragTimeout).
	Timeout time.Duration
}

func (c *DefragConfig) setDefaults() {
	if c.MaxDatagrams <= 0 {
		c.MaxDatagrams = DefaultDefragDatagrams
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultDefragBytes
	}
	c.MaxBytes = max(c.MaxBytes, defragMinBytes)
	if c.Timeout <= 0 {
		c.Timeout = DefaultDefragTimeout
	}
}

// DefragStats counts what reassembly did, so that a report can say when a
// bound was reached or fragments were suspicious.
type DefragStats struct {
	// Fragments is the IPv4 fragments of TCP, UDP and tunnels taken in.
	Fragments int
	// Datagrams is the datagrams rebuilt and delivered.
	Datagrams int
	// Overlaps is the fragments that overlapped bytes already received with
	// the same content: duplicates and retransmissions.
	Overlaps int
	// Conflicts is the fragments that overlapped bytes already received with
	// different content. No stack sends them; they are an evasion attempt or
	// a broken middlebox. The bytes received first were kept.
	Conflicts int
	// Inconsistent is the fragments ignored because they contradict the
	// datagram's length: a second last fragment with another end, data past
	// the end, a last fragment ending before data already received, or a
	// non-last fragment under 8 bytes.
	Inconsistent int
	// Truncated is the fragments cut short by the snap length (or whose
	// header could not be found again), which cannot be used: their
	// datagram never completes.
	Truncated int
	// EvictedCount and EvictedBytes are the incomplete datagrams dropped to
	// keep within MaxDatagrams and MaxBytes, and TimedOut those dropped after
	// Timeout. Oversize is the fragments reaching past 65535 bytes and the
	// datagrams that would have been longer (ping of death): each drops its
	// datagram.
	EvictedCount, EvictedBytes, TimedOut, Oversize int
	// Pending is the datagrams incomplete now.
	Pending int
	// PeakBytes is the most fragment memory held at once (whole blocks).
	PeakBytes int
	// MaxDatagrams, MaxBytes and Timeout are the bounds in force.
	MaxDatagrams, MaxBytes int
	Timeout                time.Duration
}

// fragKey identifies the fragments of one datagram (RFC 791: source,
// destination, protocol and identification).
type fragKey struct {
	src, dst [4]byte
	id       uint16
	proto    uint8
}

// dgram is one datagram in reassembly.
type dgram struct {
	key     fragKey
	created time.Time // capture time of its first fragment to arrive
	// blocks holds indexes into Defragmenter.blocks, -1 for none yet.
	blocks [defragBlocks]int32
	hdr    [60]byte // IP header of the offset-0 fragment
	hdrLen int      // 0 until the offset-0 fragment arrives
	end    int      // data length, known from the last fragment; -1 before
	maxEnd int      // end of the highest data received
	units  int      // 8-byte units received (the last may be shorter)
	frags  int      // fragments taken in
	// prev and next link the datagrams in the order their first fragment
	// arrived (head oldest); for a free dgram next links the free list.
	prev, next int32
}

// defragBlockData is one block of fragment data with a bit per 8-byte unit
// received.
type defragBlockData struct {
	data [defragBlock]byte
	have [defragBlock / 8 / 64]uint64
}

// Defragmenter reassembles IPv4 datagrams of TCP and UDP (the protocols whose
// payload phonehome reads) and of the encapsulations Decode takes off (IP in
// IP, IPv6 in IP, GRE) from their fragments. FileSet runs one after
// Decode; it can also be used alone: give every decoded packet to Add, in
// capture order, and call Datagram when Add returns true.
//
// Fragments are keyed by source, destination, protocol and IP ID, and their
// data kept per 8-byte unit (offsets are in 8-byte units, so every fragment
// covers whole units; a non-last fragment whose length is not a multiple of 8
// is cut down to one, as Linux does). A datagram is complete when its last
// fragment (MF clear) has fixed its length and every unit up to it has
// arrived; it is then copied into one buffer behind the header of its
// offset-0 fragment, with the total length set, the fragment bits cleared and
// the header checksum recomputed.
//
// Overlaps: first wins. A byte, once received, is never replaced; a later
// fragment's copy of it is compared, and counted as an Overlap when equal (a
// duplicate) or a Conflict when not (suspicious: no stack sends it). Stacks
// disagree: in Novak's target-based reassembly study (2005) Windows kept the
// first copy, BSD mostly the first and Linux mostly the last; Linux since
// 4.19, and RFC 5722 for IPv6, drop the whole datagram. The VM phonehome
// watches is Windows, so first-wins rebuilds what it would see; and no later
// fragment can rewrite bytes already received (teardrop-style rewrites change
// nothing, and are counted). Dropping the datagram instead would let one
// injected fragment hide a name.
// Likewise the first last fragment fixes the length and the first offset-0
// fragment the header; fragments that contradict them are Inconsistent.
//
// Bounds: at most MaxDatagrams datagrams and MaxBytes of fragment data (in
// 2 KiB blocks) at once, the oldest incomplete datagram dropped to make room;
// a datagram incomplete Timeout after its first fragment is dropped; data past
// 65535 bytes drops the datagram (Oversize). Besides the blocks, a
// Defragmenter holds about 0.2 KiB per datagram slot and 64 KiB for the
// rebuilt datagram, allocated when the first fragment arrives (64 KiB more
// at the first datagram fragmented both outside a tunnel and inside it).
// Steady state allocates nothing: blocks and slots go back to free lists
// (TestDefragAllocs, TestTunnelDecodeAllocs). Measured on the development machine (2 vCPU, shared):
// about 210 ns per 1480-byte fragment, rebuilding included (BenchmarkDefrag);
// a packet that is not a fragment costs a few comparisons.
//
// A Defragmenter is not safe for concurrent use.
type Defragmenter struct {
	cfg   DefragConfig
	stats DefragStats

	seed  maphash.Seed
	table []int32 // open addressing, linear probing: dgram index+1, 0 empty
	mask  uint64

	dgrams     []dgram
	free       int32 // head of the free dgram list, -1 none
	head, tail int32 // creation-order list, -1 when empty
	live       int

	blocks     []*defragBlockData
	freeBlocks []int32
	maxBlocks  int

	// out[cur] is the datagram the last Add completed, read by Datagram.
	// A datagram rebuilt outside a tunnel can be a fragment inside it:
	// given back to Add, it may complete another, which is rebuilt in the
	// other buffer (allocated then), so the first stays valid.
	out      [2][]byte
	cur      int
	outFrags int
	// outTunnel is the completing fragment's Tunnel and outDepth how many
	// of its encapsulations were outside the rebuilt datagram.
	outTunnel Tunnel
	outDepth  uint8
	outTime   time.Time
	outOffset int64
	outIface  int
	outInput  int
	outNumber int64
	ready     bool
}

// NewDefragmenter returns a Defragmenter with cfg's bounds (cfg.Off is
// ignored). It allocates nothing until the first fragment.
func NewDefragmenter(cfg DefragConfig) *Defragmenter {
	cfg.setDefaults()
	return &Defragmenter{
		cfg:       cfg,
		seed:      maphash.MakeSeed(),
		free:      -1,
		head:      -1,
		tail:      -1,
		maxBlocks: cfg.MaxBytes / defragBlock,
	}
}

// init allocates the datagram slots and the table at the first fragment.
func (d *Defragmenter) init() {
	n := d.cfg.MaxDatagrams
	d.dgrams = make([]dgram, n)
	for i := range d.dgrams {
		d.dgrams[i].next = int32(i + 1)
	}
	d.dgrams[n-1].next = -1
	d.free = 0
	size := 1
	for size < 2*n {
		size <<= 1
	}
	d.table = make([]int32, size)
	d.mask = uint64(size - 1)
	d.out[0] = make([]byte, 0, 65535)
}

// Add takes the next decoded packet. For an IPv4 fragment of TCP, UDP or an
// encapsulation Decode takes off (IP in IP, IPv6 in IP, GRE) it keeps a copy
// of the fragment's data (p is not kept) and returns true when the fragment
// completed a datagram, which Datagram then delivers. The fragment is the
// outermost fragmented IPv4 header of the frame: a tunnelled packet
// fragmented outside the tunnel is rebuilt whole and decoded through it,
// one fragmented inside the tunnel is rebuilt inside it. Every packet moves
// reassembly's clock on, so give Add every packet, in capture order, and
// every datagram Datagram delivers: one rebuilt outside a tunnel can be a
// fragment of a datagram fragmented inside it too (a 2 KB DNS answer
// fragmented by the VM's gateway, then mirrored over a path of lower MTU),
// which it may complete.
func (d *Defragmenter) Add(p *Packet) bool {
	d.ready = false
	if d.live > 0 {
		d.expire(p.Timestamp)
	}
	if !p.Fragment || p.fragAt == 0 {
		return false
	}
	proto := p.Frame[p.fragAt-1+9]
	if proto != 6 && proto != 17 && !TunnelProtocol(proto) {
		return false
	}
	if d.dgrams == nil {
		d.init()
	}
	d.stats.Fragments++
	hdr, data, ok := fragmentOf(p.Frame[p.fragAt-1:])
	if !ok {
		d.stats.Truncated++
		return false
	}
	frag := binary.BigEndian.Uint16(hdr[6:8])
	off := int(frag&0x1fff) * 8
	more := frag&0x2000 != 0
	if more {
		data = data[:len(data)&^7]
		if len(data) == 0 {
			d.stats.Inconsistent++
			return false
		}
	}
	end := off + len(data)
	k := fragKey{src: [4]byte(hdr[12:16]), dst: [4]byte(hdr[16:20]), id: binary.BigEndian.Uint16(hdr[4:6]), proto: proto}
	slot, i := d.lookup(k)
	if i >= 0 && p.Timestamp.Sub(d.dgrams[i].created) > d.cfg.Timeout {
		// Out of creation order (capture time went back, then on): the
		// sweep did not reach it.
		d.stats.TimedOut++
		d.drop(i)
		slot, i = d.lookup(k)
	}
	if end > defragMaxData {
		d.stats.Oversize++
		if i >= 0 {
			d.drop(i)
		}
		return false
	}
	if i < 0 {
		i = d.create(slot, k, p.Timestamp)
	}
	e := &d.dgrams[i]
	e.frags++
	switch {
	case !more && e.end >= 0 && end != e.end, // a second end
		!more && end < e.maxEnd,           // ends before data already received
		more && e.end >= 0 && end > e.end: // data past the end
		d.stats.Inconsistent++
		return false
	}
	if !more {
		e.end = end
	}
	if off == 0 && e.hdrLen == 0 {
		e.hdrLen = copy(e.hdr[:], hdr)
	}
	overlap, conflict, ok := d.store(i, off, data)
	if !ok {
		return false // i was dropped to free a block for itself: cannot happen with MaxBytes >= 64 KiB
	}
	e = &d.dgrams[i]
	e.maxEnd = max(e.maxEnd, end)
	switch {
	case conflict:
		d.stats.Conflicts++
	case overlap:
		d.stats.Overlaps++
	}
	if e.end < 0 || e.units < (e.end+7)/8 {
		return false
	}
	// Complete.
	if e.hdrLen+e.end > 65535 {
		d.stats.Oversize++
		d.drop(i)
		return false
	}
	if p.Reassembled > 0 { // p.Frame is out[cur], most likely: keep it
		d.cur ^= 1
		if d.out[d.cur] == nil {
			d.out[d.cur] = make([]byte, 0, 65535)
		}
	}
	d.assemble(e)
	d.outFrags = e.frags
	d.outTunnel, d.outDepth = p.Tunnel, p.fragDepth
	d.outTime, d.outOffset, d.outIface = p.Timestamp, p.Offset, p.Interface
	d.outInput, d.outNumber = p.Input, p.Number
	d.stats.Datagrams++
	d.drop(i)
	d.ready = true
	return true
}

// Datagram fills q with the datagram the last call to Add completed: Frame is
// the rebuilt IPv4 datagram (LinkType LinkTypeIPv4), decoded by Decode (its
// Tunnel that of the fragments when it was rebuilt inside a tunnel), with
// Reassembled the number of fragments taken in for it; Timestamp, Offset and
// Interface are the completing fragment's, WireLen and CapLen the datagram's
// length. Frame and Payload point into the Defragmenter's buffer, valid until
// the next call to Add, or when that call is Add(q), which rebuilds what q
// completes in a second buffer, until the one after. Datagram does nothing
// when Add returned false.
func (d *Defragmenter) Datagram(q *Packet) {
	if !d.ready {
		return
	}
	d.ready = false
	q.Timestamp, q.Offset, q.Interface = d.outTime, d.outOffset, d.outIface
	q.Input, q.Number = d.outInput, d.outNumber
	out := d.out[d.cur]
	q.WireLen, q.CapLen = len(out), len(out)
	// A datagram rebuilt inside a tunnel keeps the fragments'
	// encapsulations; one rebuilt outside it has them taken off by Decode.
	var t Tunnel
	if d.outDepth > 0 {
		t = d.outTunnel
		t.Depth, t.TooDeep = d.outDepth, false
	}
	decode(LinkTypeIPv4, out, q, t)
	q.Reassembled = d.outFrags
}

// Stats returns the counts so far.
func (d *Defragmenter) Stats() DefragStats {
	s := d.stats
	s.Pending = d.live
	s.MaxDatagrams, s.MaxBytes, s.Timeout = d.cfg.MaxDatagrams, d.cfg.MaxBytes, d.cfg.Timeout
	return s
}

// fragmentOf returns the header and the data (up to the total length) of
// the IPv4 fragment that b starts with, at the offset Decode recorded
// (Packet.fragAt). It reports false when b holds less than the total
// length: a fragment cut by the snap length cannot be used.
func fragmentOf(b []byte) (hdr, data []byte, ok bool) {
	// Decode read the version, the IHL and 20 bytes here.
	ihl := int(b[0]&0x0f) * 4
	if ihl > len(b) {
		return nil, nil, false
	}
	total := int(binary.BigEndian.Uint16(b[2:4]))
	switch {
	case total == 0: // segmentation offload, as in Decode
		total = len(b)
	case total < ihl, total > len(b):
		return nil, nil, false
	}
	return b[:ihl], b[ihl:total], true
}

func (d *Defragmenter) hash(k fragKey) uint64 {
	var b [11]byte
	copy(b[0:4], k.src[:])
	copy(b[4:8], k.dst[:])
	binary.BigEndian.PutUint16(b[8:10], k.id)
	b[10] = k.proto
	return maphash.Bytes(d.seed, b[:])
}

// lookup returns the table slot of k and its dgram index, or the empty slot
// where k would go and -1.
func (d *Defragmenter) lookup(k fragKey) (slot uint64, i int32) {
	for s := d.hash(k) & d.mask; ; s = (s + 1) & d.mask {
		v := d.table[s]
		if v == 0 {
			return s, -1
		}
		if d.dgrams[v-1].key == k {
			return s, v - 1
		}
	}
}

// create starts a datagram for k in the empty slot, dropping the oldest one
// first when all slots are in use.
func (d *Defragmenter) create(slot uint64, k fragKey, ts time.Time) int32 {
	if d.free < 0 {
		d.stats.EvictedCount++
		d.drop(d.head)
		slot, _ = d.lookup(k) // the drop may have moved entries
	}
	i := d.free
	e := &d.dgrams[i]
	d.free = e.next
	*e = dgram{key: k, created: ts, end: -1, prev: d.tail, next: -1}
	for j := range e.blocks {
		e.blocks[j] = -1
	}
	if d.tail >= 0 {
		d.dgrams[d.tail].next = i
	} else {
		d.head = i
	}
	d.tail = i
	d.table[slot] = i + 1
	d.live++
	return i
}

// drop forgets datagram i: its blocks, its table slot and its place in the
// creation list.
func (d *Defragmenter) drop(i int32) {
	e := &d.dgrams[i]
	for j, b := range e.blocks {
		if b >= 0 {
			d.freeBlocks = append(d.freeBlocks, b)
			e.blocks[j] = -1
		}
	}
	// Remove from the table, shifting later entries of the probe run back
	// (no tombstones, so lookups stay short however many datagrams pass).
	s, _ := d.lookup(e.key)
	d.table[s] = 0
	for t := (s + 1) & d.mask; d.table[t] != 0; t = (t + 1) & d.mask {
		v := d.table[t]
		home := d.hash(d.dgrams[v-1].key) & d.mask
		// v may move to s when its home is not in (s, t] cyclically.
		if (t > s && (home <= s || home > t)) || (t < s && home <= s && home > t) {
			d.table[s], d.table[t] = v, 0
			s = t
		}
	}
	if e.prev >= 0 {
		d.dgrams[e.prev].next = e.next
	} else {
		d.head = e.next
	}
	if e.next >= 0 {
		d.dgrams[e.next].prev = e.prev
	} else {
		d.tail = e.prev
	}
	e.next = d.free
	d.free = i
	d.live--
}

// expire drops the datagrams incomplete for longer than the timeout at now,
// oldest first. A datagram created more than the timeout after now (a
// fragment dated far ahead) counts as expired too: otherwise it would stay
// first in line and hold back the expiry of every datagram after it.
func (d *Defragmenter) expire(now time.Time) {
	for d.head >= 0 && absDuration(now.Sub(d.dgrams[d.head].created)) > d.cfg.Timeout {
		d.stats.TimedOut++
		d.drop(d.head)
	}
}

// block returns datagram i's block n, taking a free one (or allocating one,
// within MaxBytes) when it has none; when none is left it drops the oldest
// other datagrams. It returns nil only when i itself had to go.
func (d *Defragmenter) block(i int32, n int) *defragBlockData {
	e := &d.dgrams[i]
	if b := e.blocks[n]; b >= 0 {
		return d.blocks[b]
	}
	for len(d.freeBlocks) == 0 && len(d.blocks) >= d.maxBlocks {
		// Out of memory: drop the oldest other datagram (one holding no
		// block frees nothing, and the loop goes on to the next).
		victim := d.head
		if victim == i {
			victim = d.dgrams[i].next
		}
		d.stats.EvictedBytes++
		if victim < 0 { // i holds every block: cannot happen, see defragMinBytes
			d.drop(i)
			return nil
		}
		d.drop(victim)
	}
	var b int32
	if len(d.freeBlocks) > 0 {
		b = d.freeBlocks[len(d.freeBlocks)-1]
		d.freeBlocks = d.freeBlocks[:len(d.freeBlocks)-1]
		blk := d.blocks[b]
		blk.have = [len(blk.have)]uint64{}
	} else {
		b = int32(len(d.blocks))
		d.blocks = append(d.blocks, new(defragBlockData))
		d.stats.PeakBytes = max(d.stats.PeakBytes, len(d.blocks)*defragBlock)
	}
	e.blocks[n] = b
	return d.blocks[b]
}

func (b *defragBlockData) has(unit int) bool { return b.have[unit/64]&(1<<(unit%64)) != 0 }

// unitMask returns the bits of units [a, z) that fall in word w.
func unitMask(w, a, z int) uint64 {
	lo, hi := max(a, w*64)-w*64, min(z, w*64+64)-w*64
	if hi <= lo {
		return 0
	}
	return (^uint64(0) >> (64 - (hi - lo))) << lo
}

// received counts the units of [a, z) received.
func (b *defragBlockData) received(a, z int) int {
	n := 0
	for w := a / 64; w <= (z-1)/64; w++ {
		n += bits.OnesCount64(b.have[w] & unitMask(w, a, z))
	}
	return n
}

// mark records units [a, z) as received.
func (b *defragBlockData) mark(a, z int) {
	for w := a / 64; w <= (z-1)/64; w++ {
		b.have[w] |= unitMask(w, a, z)
	}
}

// store writes data at off into datagram i, unit by unit, keeping units
// already received (first wins). It reports whether data overlapped units
// already received and whether any of them differed; ok is false when i was
// dropped for want of memory.
func (d *Defragmenter) store(i int32, off int, data []byte) (overlap, conflict, ok bool) {
	for pos := 0; pos < len(data); {
		at := off + pos
		blk := d.block(i, at/defragBlock)
		if blk == nil {
			return overlap, conflict, false
		}
		in := at % defragBlock
		n := min(defragBlock-in, len(data)-pos)
		ua, uz := in/8, (in+n+7)/8
		switch blk.received(ua, uz) {
		case 0: // the usual case: all new
			copy(blk.data[in:in+n], data[pos:pos+n])
			blk.mark(ua, uz)
			d.dgrams[i].units += uz - ua
			pos += n
			continue
		case uz - ua: // all received before
			overlap = true
			conflict = conflict || !bytes.Equal(blk.data[in:in+n], data[pos:pos+n])
			pos += n
			continue
		}
		// Runs of units all received or all missing: the first compared,
		// the second copied.
		for u := 0; u < n; {
			has := blk.has((in + u) / 8)
			v := u + 8
			for v < n && blk.has((in+v)/8) == has {
				v += 8
			}
			v = min(v, n)
			src, dst := data[pos+u:pos+v], blk.data[in+u:in+v]
			if has {
				overlap = true
				conflict = conflict || !bytes.Equal(dst, src)
			} else {
				copy(dst, src)
				blk.mark((in+u)/8, (in+v+7)/8)
				d.dgrams[i].units += (v - u + 7) / 8
			}
			u = v
		}
		pos += n
	}
	return overlap, conflict, true
}

// assemble copies complete datagram e into d.out[d.cur] behind its header,
// and fixes the header: total length, no fragment bits (DF kept), checksum.
func (d *Defragmenter) assemble(e *dgram) {
	out := append(d.out[d.cur][:0], e.hdr[:e.hdrLen]...)
	for pos := 0; pos < e.end; pos += defragBlock {
		blk := d.blocks[e.blocks[pos/defragBlock]]
		out = append(out, blk.data[:min(defragBlock, e.end-pos)]...)
	}
	binary.BigEndian.PutUint16(out[2:4], uint16(len(out)))
	binary.BigEndian.PutUint16(out[6:8], binary.BigEndian.Uint16(out[6:8])&0x4000)
	out[10], out[11] = 0, 0
	var sum uint32
	for j := 0; j < e.hdrLen; j += 2 {
		sum += uint32(binary.BigEndian.Uint16(out[j:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(out[10:12], ^uint16(sum))
	d.out[d.cur] = out
}

func absDuration(x time.Duration) time.Duration {
	if x < 0 {
		return -x
	}
	return x
}
