package classify

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
)

// FuzzClassify drives a Classifier with a script read from the fuzz input:
// each step is a packet on one of a few TCP and UDP flows, with flags (URG
// among them, its pointer the low 16 bits of the sequence step), a sequence
// number that may jump back, overlap or leave gaps, and a slice of the input
// as payload, of which the capture may have kept only the first half (flag
// 0x80, CWR, which the classifier does not read: a snap length; no payload
// then is a TCP header cut). It checks that nothing panics, that the bounds
// hold (live flows, lent reassembly memory) and that Finish accounts for
// every packet and every cut frame. Seeds: real ClientHellos split,
// reordered and cut, HTTP heads, DNS.
func FuzzClassify(f *testing.F) {
	hello := clientHello(f, "settings-win.data.microsoft.com")
	seed := func(steps ...[]byte) []byte {
		var b []byte
		for _, s := range steps {
			b = append(b, s...)
		}
		return b
	}
	// step: flow(1) flags(1) seq delta(4, signed: any jump, wrap-around
	// and half the sequence space included) length(2), then payload.
	step := func(flow, flags byte, delta int32, payload []byte) []byte {
		b := []byte{flow, flags, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint32(b[2:], uint32(delta))
		binary.BigEndian.PutUint16(b[6:], uint16(len(payload)))
		return append(b, payload...)
	}
	f.Add(seed(step(0, capture.TCPSyn, 0, nil), step(0, capture.TCPAck, 1, hello[:900]), step(0, capture.TCPAck, 900, hello[900:])))
	f.Add(seed(step(0, capture.TCPAck, 0, []byte{1, 2, 3, 4}), step(0, capture.TCPAck, -1<<31, []byte{5, 6}))) // half the space away
	f.Add(seed(step(0, capture.TCPSyn, 0, nil), step(0, capture.TCPAck, 901, hello[900:]), step(0, capture.TCPAck, -899, hello[:900])))
	f.Add(seed(step(1, capture.TCPSyn, 0, nil), step(1, capture.TCPAck, 1, []byte("GET / HTTP/1.1\r\nHost: a.example\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: b.example\r\n\r\n"))))
	f.Add(seed(step(2, 0, 0, dnsAnswer(f, "a.example", []string{"b.example"}, netip.MustParseAddr("20.1.2.3")))))
	// A query (flow 2 with flag 0x10: from the VM), its answer, and the same exchange over TCP (flow 1 with flag
	// 0x40: to port 53).
	tcpQuery, tcpAnswer := dnsQueryMsg(f, 7, "a.example"), dnsAnswer(f, "a.example", nil, netip.MustParseAddr("20.1.2.3"))
	tcpQuery = append([]byte{0, byte(len(tcpQuery))}, tcpQuery...)
	tcpAnswer = append([]byte{0, byte(len(tcpAnswer))}, tcpAnswer...)
	f.Add(seed(step(2, 0x10, 0, dnsQueryMsg(f, 7, "A.example")), step(2, 0, 0, dnsAnswer(f, "a.example", nil, netip.MustParseAddr("20.1.2.3"))),
		step(1, capture.TCPSyn|0x40, 0, nil), step(1, capture.TCPAck|0x40, 1, tcpQuery), step(1, capture.TCPAck|0x40, int32(len(tcpQuery)), tcpAnswer)))
	// Two connections on one 4-tuple, the first never closed, the second with a new ISN.
	f.Add(seed(step(0, capture.TCPSyn, 0, nil), step(3, capture.TCPSyn|capture.TCPAck, 0, nil), step(0, capture.TCPAck, 1, hello),
		step(0, capture.TCPSyn, 77777, nil), step(0, capture.TCPAck, 1, hello)))
	f.Add(seed(step(1, capture.TCPSyn, 0, nil), step(1, capture.TCPAck, 1, []byte("POST / HTTP/1.1\r\nHost: a.example\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhel")),
		step(1, capture.TCPAck|capture.TCPUrg, 72, []byte("lo\r\n0\r\nT: 1\r\n\r\nGET /b HTTP/1.1\r\nHost: a.example\r\n\r\n"))))
	// A PROXY version 2 header a byte per segment, then a request; a STARTTLS exchange, then a ClientHello two
	// bytes per segment.
	var tiny []byte
	for _, c := range []byte("\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00GET / HTTP/1.1\r\nHost: a.example\r\n\r\n") {
		tiny = append(tiny, step(1, capture.TCPAck, 1, []byte{c})...)
	}
	tiny = append(step(1, capture.TCPSyn, 0, nil), tiny...)
	tiny = append(tiny, step(0, capture.TCPSyn, 0, nil)...)
	tiny = append(tiny, step(0, capture.TCPAck, 1, []byte("STARTTLS\r\n"))...)
	for i, d := 0, int32(10); i < 64; i, d = i+2, 2 {
		tiny = append(tiny, step(0, capture.TCPAck, d, hello[i:i+2])...)
	}
	f.Add(tiny)
	// A ClientHello whose first segment the capture cut, then the rest.
	f.Add(seed(step(0, capture.TCPSyn, 0, nil), step(0, capture.TCPAck|0x80, 1, hello[:900]), step(0, capture.TCPAck, 900, hello[900:])))
	f.Fuzz(func(t *testing.T, script []byte) {
		pub := netip.MustParseAddr("20.1.2.3")
		c := New(Config{VM: vm, MaxFlows: 4, MaxReassemblyBytes: 64 << 10})
		now := t0
		seqs := [4]uint32{1000, 2000, 3000, 4000}
		packets, payloadBytes, cut := 0, 0, 0
		for len(script) >= 8 && packets < 200 {
			flow, flags := script[0]%4, script[1]
			delta := int32(binary.BigEndian.Uint32(script[2:6]))
			n := min(int(binary.BigEndian.Uint16(script[6:8])), len(script)-8)
			payload := script[8 : 8+n]
			payloadBytes += n
			script = script[8+n:]
			now = now.Add(time.Duration(flags&0x0f) * time.Second)
			seqs[flow] += uint32(delta)
			p := capture.Packet{Timestamp: now, WireLen: 54 + n, L3: capture.L3IPv4, Src: vm, Dst: pub,
				Proto: 6, SrcPort: 40000 + uint16(flow), DstPort: 443, TCPFlags: flags, Seq: seqs[flow], Urgent: uint16(delta),
				Payload: payload}
			switch {
			case flow == 1 && flags&0x40 != 0:
				p.DstPort = 53 // DNS over TCP: the flow's client stream is read for queries
			case flow == 1:
				p.DstPort = 80
			case flow == 2 && flags&0x10 != 0:
				p.Proto, p.Src, p.Dst, p.SrcPort, p.DstPort = 17, vm, resolver, 50000, 53
			case flow == 2:
				p.Proto, p.Src, p.Dst, p.SrcPort, p.DstPort = 17, resolver, vm, 53, 50000
			case flow == 3:
				p.Src, p.Dst, p.SrcPort, p.DstPort = pub, vm, 443, 40000 // the server's side of flow 0
			}
			if flags&0x80 != 0 {
				p.Truncated, p.CapLen = true, 54+n/2
				p.Payload = payload[:n/2]
				if n == 0 {
					p.Payload = nil // the TCP (or UDP) header itself was cut
				}
				cut++
			}
			c.Add(&p)
			packets++
			if c.flows.len() > 4 {
				t.Fatalf("live flows = %d; want at most 4", c.flows.len())
			}
			if c.bufs.lent > 64<<10 {
				t.Fatalf("reassembly memory lent = %d; want at most 64 KiB", c.bufs.lent)
			}
		}
		run := c.Finish()
		if int(run.Packets) != packets || int(run.Truncation.Frames) != cut {
			t.Fatalf("run counted %d packets, %d cut; want %d, %d", run.Packets, run.Truncation.Frames, packets, cut)
		}
		if d := run.DNS; d.Matched+d.OneSided+d.Unrequested > uint64(payloadBytes/12) {
			t.Fatalf("DNS answers counted = %+v; more than %d payload bytes can hold", d, payloadBytes)
		}
		if c.bufs.lent != 0 {
			t.Fatalf("reassembly memory lent after Finish = %d; want 0", c.bufs.lent)
		}
	})
}
