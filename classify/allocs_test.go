package classify

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
)

// TestAddAllocatesNothing proves that classifying allocates nothing per
// packet once warm: bulk packets of a live flow, and whole connections (DNS
// query and its answer, an answer to no query, a DNS exchange over TCP,
// handshake, a ClientHello over two segments, HTTP requests, close, expiry,
// attribution, a new connection on an open 4-tuple, a flow two names' answers
// lead to) to names seen before.
func TestAddAllocatesNothing(t *testing.T) {
	pub := netip.MustParseAddr("20.42.65.92")
	other := netip.MustParseAddr("20.42.65.93")
	hello := clientHello(t, "v10.events.data.microsoft.com")
	answer := dnsAnswer(t, "v10.events.data.microsoft.com", []string{"global.asimov.events.data.trafficmanager.net"}, pub)
	query := dnsQueryMsg(t, 7, "V10.events.DATA.microsoft.com")
	unrequested := dnsAnswerID(t, 8, "v10.events.data.microsoft.com", nil, pub)
	frame := func(msg []byte) []byte { return append([]byte{byte(len(msg) >> 8), byte(len(msg))}, msg...) }
	tcpQuery, tcpAnswer := frame(query), frame(answer)
	request := []byte("GET /connecttest.txt HTTP/1.1\r\nHost: www.msftconnecttest.com\r\n\r\n")
	shared := netip.MustParseAddr("13.107.4.50")
	queryA, answerA := dnsQueryMsg(t, 9, "a.shared.example"), dnsAnswerID(t, 9, "a.shared.example", nil, shared)
	queryB, answerB := dnsQueryMsg(t, 10, "b.shared.example"), dnsAnswerID(t, 10, "b.shared.example", []string{"edge.example"}, shared)
	f := newFeed(t, Config{VM: vm, ClosedLinger: time.Second})
	var p capture.Packet
	send := func(src netip.Addr, sport uint16, dst netip.Addr, dport uint16, flags uint8, seq uint32, payload []byte) {
		f.now = f.now.Add(time.Millisecond)
		p = capture.Packet{Timestamp: f.now, WireLen: 54 + len(payload), L3: capture.L3IPv4,
			Src: src, Dst: dst, Proto: 6, SrcPort: sport, DstPort: dport, TCPFlags: flags, Seq: seq, Payload: payload}
		if (dport == 53 || sport == 53) && flags == 0 {
			p.Proto = 17
		}
		f.c.Add(&p)
	}
	port := uint16(40000)
	isn := uint32(0)
	connection := func() {
		// A connection on one 4-tuple that never ends: the next call's SYN,
		// with a new ISN, finishes it and starts another.
		isn += 1000
		send(vm, 39999, other, 8080, capture.TCPSyn, isn, nil)
		send(other, 8080, vm, 39999, capture.TCPSyn|capture.TCPAck, 1, nil)
		send(vm, 39999, other, 8080, capture.TCPAck, isn+1, nil)
		port++
		send(vm, 50000, resolver, 53, 0, 0, query)
		send(resolver, 53, vm, 50000, 0, 0, answer)
		send(resolver, 53, vm, 50000, 0, 0, unrequested)
		send(vm, port, resolver, 53, capture.TCPSyn, 100, nil)
		send(resolver, 53, vm, port, capture.TCPSyn|capture.TCPAck, 900, nil)
		send(vm, port, resolver, 53, capture.TCPAck, 101, tcpQuery)
		send(resolver, 53, vm, port, capture.TCPAck, 901, tcpAnswer)
		send(vm, port, resolver, 53, capture.TCPRst, uint32(101+len(tcpQuery)), nil)
		port++
		send(vm, port, pub, 443, capture.TCPSyn, 100, nil)
		send(pub, 443, vm, port, capture.TCPSyn|capture.TCPAck, 900, nil)
		send(vm, port, pub, 443, capture.TCPAck, 101, hello[:1000])
		send(vm, port, pub, 443, capture.TCPAck, 1101, hello[1000:])
		send(vm, port, pub, 443, capture.TCPRst, uint32(101+len(hello)), nil)
		port++
		send(vm, port, pub, 80, capture.TCPSyn, 100, nil)
		send(vm, port, pub, 80, capture.TCPAck, 101, request)
		send(vm, port, pub, 80, capture.TCPAck, uint32(101+len(request)), request)
		send(vm, port, pub, 80, capture.TCPRst, uint32(101+2*len(request)), nil)
		send(vm, 50000, resolver, 53, 0, 0, queryA)
		send(resolver, 53, vm, 50000, 0, 0, answerA)
		send(vm, 50000, resolver, 53, 0, 0, queryB)
		send(resolver, 53, vm, 50000, 0, 0, answerB)
		port++
		send(vm, port, shared, 443, capture.TCPSyn, 100, nil)
		send(vm, port, shared, 443, capture.TCPRst, 101, nil)
		f.now = f.now.Add(2 * time.Second) // past ClosedLinger: the next packet finishes both
	}
	for i := 0; i < 50; i++ {
		connection()
	}
	if n := testing.AllocsPerRun(200, connection); n != 0 {
		t.Errorf("allocations per connection (26 packets) = %v; want 0", n)
	}

	send(vm, 50001, pub, 443, capture.TCPSyn, 1, nil)
	seq := uint32(2)
	bulk := make([]byte, 1448)
	bulk[0] = 0x17 // TLS application data: not a ClientHello, not HTTP
	if n := testing.AllocsPerRun(1000, func() {
		send(vm, 50001, pub, 443, capture.TCPAck, seq, bulk)
		send(pub, 443, vm, 50001, capture.TCPAck, 1, bulk)
		seq += uint32(len(bulk))
	}); n != 0 {
		t.Errorf("allocations per bulk packet pair = %v; want 0", n)
	}
	run := f.c.Finish()
	if a := run.Unattributed[other]; a == nil || a.Flows != 251 {
		t.Errorf("unattributed %s = %+v; want 251 flows, one per connection on its one 4-tuple", other, a)
	}
	if want := (DNSAnswers{Matched: 4 * 251, Unrequested: 251}); run.DNS != want {
		t.Errorf("Run.DNS = %+v; want %+v", run.DNS, want)
	}
	// 50 warm-up connections, then AllocsPerRun's one warm-up call and 200.
	if n := run.Names["v10.events.data.microsoft.com"]; n == nil || n.Evidence[EvidenceSNI] != 251 || n.Evidence[EvidenceDNS] != 1 {
		t.Errorf("v10.events.data.microsoft.com = %+v; want 251 flows named by SNI, the bulk one by DNS", n)
	}
	var set *AmbiguousStat
	for _, a := range run.Ambiguous {
		set = a
	}
	if len(run.Ambiguous) != 1 || strings.Join(set.Names, " ") != "a.shared.example b.shared.example" || set.Flows != 251 {
		t.Errorf("Run.Ambiguous = %v; want a.shared.example and b.shared.example, 251 flows", run.Ambiguous)
	}
	if n := run.Names["www.msftconnecttest.com"]; n == nil || n.Flows != 251 || len(n.Paths) != 1 {
		t.Errorf("www.msftconnecttest.com = %+v; want 251 flows with one path", n)
	}
}
