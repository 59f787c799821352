package classify

import (
	"encoding/binary"
	"net/netip"
	"runtime"
	"strings"
	"testing"

	"github.com/phonehome/phonehome/capture"
)

// TestFloodStaysBounded feeds a flood of hostile traffic with legitimate
// connections mixed in: a million SYNs on distinct ports, 100 000
// ClientHellos that never finish, DNS answers with thousand-link CNAME
// chains and compression-pointer loops, and overlapping, contradictory TCP
// segments. The run must finish, memory must stay bounded, the bounds
// reached must be reported, and every legitimate connection must be named.
func TestFloodStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("the flood is about 1.3 million packets")
	}
	pub := netip.MustParseAddr("20.42.65.92")
	hello := clientHello(t, "settings-win.data.microsoft.com")
	legitHello := clientHello(t, "v10.events.data.microsoft.com")
	chain := longCNAMEChain(1000)
	loop := compressionLoop()
	f := newFeed(t, Config{VM: vm})
	var peak uint64
	var ms runtime.MemStats
	sample := func() {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	legit := 0
	for i := 0; i < 1_000_000; i++ {
		port := uint16(1024 + i%64000)
		dst := netip.AddrFrom4([4]byte{52, byte(i >> 16), byte(i >> 8), byte(i)})
		f.pkt(6, vm, port, dst, 443, capture.TCPSyn, uint32(i), nil)
		if i < 100_000 {
			// A ClientHello's first half, never the rest.
			f.pkt(6, vm, port, dst, 443, capture.TCPAck, uint32(i)+1, hello[:700])
		}
		if i%10_000 == 0 {
			f.pkt(17, resolver, 53, vm, 50000, 0, 0, chain)
			f.pkt(17, resolver, 53, vm, 50000, 0, 0, loop)
			// A contradictory retransmission: the same range, other bytes.
			bad := append([]byte(nil), legitHello...)
			for j := range bad[5:] {
				bad[5+j] ^= 0xff
			}
			// A legitimate connection, named by SNI, its ClientHello split
			// in two with the lying copy of the first part in between:
			// the first bytes received win.
			legit++
			lport := uint16(40000 + legit%20000)
			f.dns(vm, "v10.events.data.microsoft.com", nil, pub)
			f.pkt(6, vm, lport, pub, 443, capture.TCPSyn, 5000, nil)
			f.pkt(6, vm, lport, pub, 443, capture.TCPAck, 5001, legitHello[:800])
			f.pkt(6, vm, lport, pub, 443, capture.TCPAck, 5001, bad[:800])
			f.pkt(6, vm, lport, pub, 443, capture.TCPAck, 5801, legitHello[800:])
			f.pkt(6, vm, lport, pub, 443, capture.TCPRst, uint32(5001+len(legitHello)), nil)
		}
		if i%100_000 == 0 {
			sample()
		}
	}
	run := f.c.Finish()
	sample()
	if n := run.Names["v10.events.data.microsoft.com"]; n == nil || n.Evidence[EvidenceSNI] != legit {
		t.Errorf("legitimate connections named by SNI = %+v; want %d", n, legit)
	}
	const limit = 256 << 20
	if peak > limit {
		t.Errorf("peak heap in use = %d MB; want under %d MB", peak>>20, limit>>20)
	}
	reached := map[string]bool{}
	for _, b := range run.Bounds {
		reached[b.What[:strings.IndexByte(b.What, ':')]] = true
	}
	for _, want := range []string{"flow table full", "reassembly memory full", "unattributed address table full"} {
		if !reached[want] {
			t.Errorf("bounds reached = %+v; want %q among them", run.Bounds, want)
		}
	}
	t.Logf("peak heap in use %d MB; bounds reached: %+v", peak>>20, run.Bounds)
}

// longCNAMEChain is a response whose answer section chains n CNAMEs, each
// target a new name, the last one with an A record.
func longCNAMEChain(n int) []byte {
	msg := []byte{0, 7, 0x81, 0x80, 0, 1, byte(n >> 8), byte(n), 0, 0, 0, 0}
	msg = append(msg, 1, 'a', 0, 0, 1, 0, 1) // question: "a" A IN
	name := func(i int) []byte {
		var b [2]byte
		binary.BigEndian.PutUint16(b[:], uint16(i))
		return []byte{4, 'c', 'n', b[0]%26 + 'a', b[1]%26 + 'a', 0}
	}
	owner := []byte{1, 'a', 0}
	for i := 0; i < n; i++ {
		target := name(i)
		msg = append(msg, owner...)
		msg = append(msg, 0, 5, 0, 1, 0, 0, 0, 60, 0, byte(len(target)))
		msg = append(msg, target...)
		owner = target
	}
	return msg
}

// compressionLoop is a response whose answer's owner name is a compression
// pointer to itself.
func compressionLoop() []byte {
	msg := []byte{0, 8, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0}
	msg = append(msg, 1, 'a', 0, 0, 1, 0, 1)
	self := len(msg)
	msg = append(msg, 0xc0|byte(self>>8), byte(self), 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 20, 1, 2, 3)
	return msg
}
