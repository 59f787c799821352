package classify

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
)

// ipTCPFrame builds a raw IPv4 frame (LinkTypeRaw) VM -> dst whose TCP header
// says data offset doff words but holds 20 bytes, IP total length honest.
func ipTCPFrame(src, dst netip.Addr, sport, dport uint16, doff byte) []byte {
	b := make([]byte, 40)
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:4], 40)
	b[8] = 64
	b[9] = 6
	s, d := src.As4(), dst.As4()
	copy(b[12:16], s[:])
	copy(b[16:20], d[:])
	binary.BigEndian.PutUint16(b[20:22], sport)
	binary.BigEndian.PutUint16(b[22:24], dport)
	binary.BigEndian.PutUint32(b[24:28], 12345) // any seq
	b[32] = doff << 4
	b[33] = 0x10 // ACK
	return b
}

// TestMalformedSegmentIsNoCut: a segment on the flow's 4-tuple whose TCP
// header claims more bytes than the datagram holds (data offset 15 in a
// 20-byte header) is a lie a receiver drops, not a cut of the capture: it
// must neither end the direction nor count as truncation, and the
// ClientHello after it names the flow.
func TestMalformedSegmentIsNoCut(t *testing.T) {
	pub := netip.MustParseAddr("13.107.4.50")
	f := newFeed(t, Config{VM: vm})
	f.pkt(17, resolver, 53, vm, 50000, 0, 0, dnsAnswerTTL(t, "other.example.com", nil, 300, 300, pub))
	const isn = 1000
	f.pkt(6, vm, 50001, pub, 443, capture.TCPSyn, isn, nil)
	f.pkt(6, pub, 443, vm, 50001, capture.TCPSyn|capture.TCPAck, 5000, nil)
	// One forged packet on the 4-tuple: no sequence number needed.
	var p capture.Packet
	fr := ipTCPFrame(vm, pub, 50001, 443, 15)
	capture.Decode(capture.LinkTypeRaw, fr, &p)
	f.now = f.now.Add(time.Millisecond)
	p.Timestamp, p.WireLen, p.CapLen = f.now, len(fr), len(fr)

	f.c.Add(&p)
	f.pkt(6, vm, 50001, pub, 443, capture.TCPAck|capture.TCPPsh, isn+1, clientHello(t, "settings-win.data.microsoft.com"))
	var got FlowRecord
	f.c.cfg.OnFlow = func(r *FlowRecord) {
		if r.Dst == pub {
			got = *r
		}
	}
	f.c.Finish()

	if got.Truncated || got.Cut != "" {
		t.Errorf("flow truncated = %v, cut %q; want no cut: the capture cut nothing", got.Truncated, got.Cut)
	}
	if got.SNI != "settings-win.data.microsoft.com" {
		t.Errorf("SNI = %q; want settings-win.data.microsoft.com (a forged malformed segment stopped the stream)", got.SNI)
	}
}
