package classify

import (
	"net/netip"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
)

// TestDNSDamage feeds DNS answers as capture delivers damaged packets (see
// ../../shared/corpus/malformed, e.g. ndpi__badpackets.pcap) and checks which
// ones name the flow that follows: a message the capture cut is read as far
// as its records are whole; a length that lies about a packet captured whole
// is not a cut; an opcode is read when its sections mean what QUERY's do.
func TestDNSDamage(t *testing.T) {
	pub := netip.MustParseAddr("20.42.65.92")
	answer := dnsAnswer(t, "Client.WNS.Windows.com", []string{"wns.notify.trafficmanager.net"}, pub)
	// An answer as servers send it to DNSSEC-aware resolvers: an RRSIG after the A. Cut in the RRSIG, the
	// CNAME and A before it are whole.
	rrsig := []byte{0xc0, 0x0c, 0, 46, 0, 1, 0, 0, 0, 60, 0, 40}
	signed := append(append(append([]byte(nil), answer...), rrsig...), make([]byte, 40)...)
	signed[7] = 3 // ANCOUNT: CNAME, A, RRSIG
	cutInRRSIG := signed[:len(answer)+len(rrsig)+7]
	cutInA := answer[:len(answer)-2]
	withOpcode := func(op byte) []byte {
		m := append([]byte(nil), answer...)
		m[2] = m[2]&^0x78 | op<<3
		return m
	}

	tests := []struct {
		name string
		// Packet damage as capture reports it: an IPv4 first fragment (MF set,
		// offset 0), fewer bytes than the IP total length (Truncated), a UDP
		// length past a datagram captured whole (Truncated and Malformed).
		fragment, truncated, malformed bool
		payload                        []byte
		wantName                       string
	}{
		{name: "whole_answer", payload: answer, wantName: "client.wns.windows.com"},
		{name: "answer_cut_by_snap_length_in_rrsig", truncated: true, payload: cutInRRSIG, wantName: "client.wns.windows.com"},
		{name: "answer_cut_by_snap_length_in_a_record", truncated: true, payload: cutInA},
		{name: "first_fragment_cut_by_capture", fragment: true, truncated: true, payload: cutInRRSIG, wantName: "client.wns.windows.com"},
		// Captured whole, it waits for its other fragments: the reassembled datagram is read, not this.
		{name: "first_fragment_captured_whole_not_read", fragment: true, payload: signed},
		{name: "udp_length_past_whole_datagram_not_a_cut", truncated: true, malformed: true, payload: cutInRRSIG},
		{name: "udp_length_past_whole_datagram_whole_message", truncated: true, malformed: true, payload: answer,
			wantName: "client.wns.windows.com"},
		{name: "trailing_bytes_after_message", payload: append(append([]byte(nil), answer...), 0xde, 0xad), wantName: "client.wns.windows.com"},
		// suricata-verify dns/dns-invalid-opcode: opcode 9, which no RFC assigns.
		{name: "opcode_unassigned_read", payload: withOpcode(9), wantName: "client.wns.windows.com"},
		{name: "opcode_iquery_not_read", payload: withOpcode(1)},
		{name: "opcode_status_not_read", payload: withOpcode(2)},
		{name: "opcode_notify_not_read", payload: withOpcode(4)},
		{name: "opcode_update_not_read", payload: withOpcode(5)},
		{name: "opcode_dso_not_read", payload: withOpcode(6)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFeed(t, Config{VM: vm})
			f.now = f.now.Add(time.Millisecond)
			p := capture.Packet{Timestamp: f.now, WireLen: 42 + len(tt.payload), L3: capture.L3IPv4,
				Src: resolver, Dst: vm, Proto: 17, SrcPort: 53, DstPort: 50000, Payload: tt.payload,
				Fragment: tt.fragment, Truncated: tt.truncated, Malformed: tt.malformed}
			f.c.Add(&p)
			f.conn(50001, pub, 443, []byte{0, 1, 2, 3})
			got := f.flows()[pub.String()+":443"]
			if got.Name != tt.wantName {
				t.Errorf("name = %q; want %q", got.Name, tt.wantName)
			}
		})
	}
}
