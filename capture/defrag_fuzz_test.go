package capture

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

// fuzzFragments turns bytes into a sequence of fragments, 5 bytes each:
//
//	b0: bits 0-1 which datagram (ID 1-4; ID 3 carried in GRE, ID 4 from
//	    another source), bit 2
//	    MF, bit 3 a 60-byte header, bits 4-7 seconds since the previous one
//	b1, b2: offset in 8-byte units (13 bits)
//	b3, b4: data length (12 bits); b4's top 4 bits pick the content, so
//	    overlaps are equal when they match and differ when not
//
// Lengths and offsets reach past 65535, times past the timeout.
func fuzzFragments(b []byte) []fragment {
	var out []fragment
	at := t0
	for ; len(b) >= 5; b = b[5:] {
		f := fragment{id: uint16(b[0]&3) + 1, proto: 17, more: b[0]&4 != 0, at: at}
		if b[0]&8 != 0 {
			f.ihl = 60
		}
		if f.id == 4 {
			f.src = [4]byte{10, 9, 9, 9}
		}
		at = at.Add(time.Duration(b[0]>>4) * 4 * time.Second)
		f.at = at
		f.off = int(binary.BigEndian.Uint16(b[1:3])&0x1fff) * 8
		n := int(b[3]) | int(b[4]&0x0f)<<8
		variant := b[4] >> 4
		f.data = make([]byte, n)
		for j := range f.data {
			f.data[j] = byte((f.off+j)*31) + variant
		}
		out = append(out, f)
	}
	return out
}

// greAround puts an IPv4 packet in GRE in an outer IPv4 header, as a
// mirror sends it.
func greAround(inner []byte) []byte {
	b := make([]byte, 24, 24+len(inner))
	b[0], b[8], b[9] = 0x45, 64, 47
	binary.BigEndian.PutUint16(b[2:4], uint16(min(24+len(inner), 65535)))
	copy(b[12:20], []byte{10, 99, 0, 1, 10, 99, 0, 2})
	binary.BigEndian.PutUint16(b[22:24], 0x0800)
	return append(b, inner...)
}

// refDefrag is the obviously correct reassembler FuzzDefrag compares
// against: a whole 64 KiB array and a flag per byte for every datagram, and
// the policy of Defragmenter's doc spelled out byte by byte. It has no
// memory bounds; FuzzDefrag keeps within them.
type refDefrag struct {
	timeout time.Duration
	dgrams  map[fragKey]*refDgram
	free    []*refDgram // dropped, for reuse: each is 128 KiB
}

func (r *refDefrag) drop(k fragKey) {
	if e := r.dgrams[k]; e != nil {
		r.free = append(r.free, e)
		delete(r.dgrams, k)
	}
}

type refDgram struct {
	created     time.Time
	data        [65536]byte
	have        [65536]bool
	hdr         []byte
	end, maxEnd int
	frags       int
}

func (r *refDefrag) add(f fragment) []byte {
	for k, e := range r.dgrams {
		if f.at.Sub(e.created) > r.timeout {
			r.drop(k)
		}
	}
	if f.off == 0 && !f.more {
		return nil // a whole datagram, not a fragment
	}
	frame := f.frame()
	ihl := int(frame[0]&0x0f) * 4
	data := frame[ihl:]
	if f.more {
		data = data[:len(data)/8*8]
		if len(data) == 0 {
			return nil
		}
	}
	end := f.off + len(data)
	k := fragKey{src: [4]byte(frame[12:16]), dst: [4]byte(frame[16:20]), id: f.id, proto: f.proto}
	e := r.dgrams[k]
	if end > 65535-20 {
		r.drop(k)
		return nil
	}
	if e == nil {
		if n := len(r.free); n > 0 {
			e, r.free = r.free[n-1], r.free[:n-1]
			e.have = [65536]bool{}
			e.hdr, e.maxEnd, e.frags = nil, 0, 0
		} else {
			e = new(refDgram)
		}
		e.created, e.end = f.at, -1
		r.dgrams[k] = e
	}
	e.frags++
	if !f.more && e.end >= 0 && end != e.end || !f.more && end < e.maxEnd || f.more && e.end >= 0 && end > e.end {
		return nil
	}
	if !f.more {
		e.end = end
	}
	if f.off == 0 && e.hdr == nil {
		e.hdr = frame[:ihl]
	}
	for j, c := range data {
		if !e.have[f.off+j] {
			e.data[f.off+j], e.have[f.off+j] = c, true
		}
	}
	e.maxEnd = max(e.maxEnd, end)
	if e.end < 0 {
		return nil
	}
	for j := 0; j < e.end; j++ {
		if !e.have[j] {
			return nil
		}
	}
	r.drop(k)
	if len(e.hdr)+e.end > 65535 {
		return nil
	}
	return append(append([]byte(nil), e.hdr...), e.data[:e.end]...)
}

// FuzzDefrag feeds sequences of fragments to a Defragmenter with room for
// every datagram and compares what it rebuilds with refDefrag, byte for byte
// past the header; and to one with the smallest bounds, which must never
// panic, hold more than its bounds or deliver a datagram that is not whole.
func FuzzDefrag(f *testing.F) {
	rec := func(sel byte, off uint16, n int, variant byte) []byte {
		return []byte{sel, byte(off >> 8), byte(off), byte(n), byte(n>>8&0x0f) | variant<<4}
	}
	f.Add(cat(rec(4, 0, 16, 0), rec(0, 2, 10, 0)))                              // in order
	f.Add(cat(rec(0, 2, 10, 0), rec(4, 0, 16, 0)))                              // reversed
	f.Add(cat(rec(4, 0, 16, 0), rec(4, 1, 16, 1), rec(0, 3, 3, 0)))             // overlap, conflicting
	f.Add(cat(rec(4, 0, 24, 0), rec(0, 1, 4, 0)))                               // teardrop
	f.Add(cat(rec(4, 0, 8, 0), rec(0, 8191, 100, 0)))                           // past 65535
	f.Add(cat(rec(12, 0, 1480, 0), rec(0xf4, 185, 1480, 0), rec(0, 370, 8, 0))) // options, timeout
	f.Add(cat(rec(5, 0, 8, 0), rec(6, 0, 8, 0), rec(7, 0, 8, 0), rec(4, 0, 8, 0), rec(1, 1, 8, 0)))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 5*500 {
			return
		}
		fs := fuzzFragments(b)
		d := NewDefragmenter(DefragConfig{MaxDatagrams: 8, MaxBytes: 1 << 20})
		ref := &refDefrag{timeout: DefaultDefragTimeout, dgrams: map[fragKey]*refDgram{}}
		tight := NewDefragmenter(DefragConfig{MaxDatagrams: 2, MaxBytes: 1})
		var p, q Packet
		for i, fr := range fs {
			lt, frame := LinkTypeIPv4, fr.frame()
			if fr.id == 3 { // carried in GRE: reassembled inside the tunnel
				lt, frame = LinkTypeEthernet, eth(0x0800, greAround(frame))
			}
			p = Packet{Timestamp: fr.at}
			Decode(lt, frame, &p)
			want := ref.add(fr)
			if d.Add(&p) {
				d.Datagram(&q)
				checkDatagram(t, &q)
				if gre := binary.BigEndian.Uint16(q.Frame[4:6]) == 3; (q.Tunnel.Kind == EncapGRE) != gre || gre && q.Tunnel.Depth != 1 {
					t.Fatalf("fragment %d: datagram %d rebuilt with Tunnel %+v", i, binary.BigEndian.Uint16(q.Frame[4:6]), q.Tunnel)
				}
				if want == nil {
					t.Fatalf("fragment %d: rebuilt a datagram of %d bytes; the reference did not", i, len(q.Frame))
				}
				if !bytes.Equal(q.Frame[20:], want[20:]) || !bytes.Equal(q.Frame[12:20], want[12:20]) {
					t.Fatalf("fragment %d: rebuilt datagram differs from the reference", i)
				}
				// FileSet.Next gives each datagram back to Add (it may be
				// a fragment inside a tunnel); these hold none, and the
				// datagram must come back as it went.
				if d.Add(&q) {
					t.Fatalf("fragment %d: the datagram rebuilt completed another", i)
				}
				if !bytes.Equal(q.Frame[20:], want[20:]) {
					t.Fatalf("fragment %d: rebuilt datagram changed when given back to Add", i)
				}
			} else if want != nil {
				t.Fatalf("fragment %d: the reference rebuilt a datagram of %d bytes; Defragmenter did not", i, len(want))
			}
			if st := d.Stats(); st.EvictedCount+st.EvictedBytes != 0 {
				t.Fatalf("evicted with room for every datagram: %+v", st)
			}
			if tight.Add(&p) {
				tight.Datagram(&q)
				checkDatagram(t, &q)
			}
			if tight.live > 2 || len(tight.blocks) > defragBlocks {
				t.Fatalf("tight bounds exceeded: %d datagrams, %d blocks", tight.live, len(tight.blocks))
			}
		}
	})
}
