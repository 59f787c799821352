package capture

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Frame builders. IP packets come from gopacket's serialisation; link headers
// and hostile edits are written by hand.

var (
	srcIP4 = net.IP{10, 0, 0, 5}
	dstIP4 = net.IP{93, 184, 216, 34}
	srcIP6 = net.ParseIP("2001:db8::5")
	dstIP6 = net.ParseIP("2606:2800:220:1::1")
)

func serialize(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatalf("serialize: %v", err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

// ipv4TCP is an IPv4/TCP packet (PSH|ACK, seq 1000, ack 2000, 49927 -> 443).
func ipv4TCP(t testing.TB, payload string) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: srcIP4, DstIP: dstIP4}
	tcp := &layers.TCP{SrcPort: 49927, DstPort: 443, Seq: 1000, Ack: 2000, PSH: true, ACK: true, Window: 512}
	tcp.SetNetworkLayerForChecksum(ip)
	return serialize(t, ip, tcp, gopacket.Payload(payload))
}

// ipv4UDP is an IPv4/UDP packet 53000 -> 53.
func ipv4UDP(t testing.TB, payload string) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: srcIP4, DstIP: dstIP4}
	udp := &layers.UDP{SrcPort: 53000, DstPort: 53}
	udp.SetNetworkLayerForChecksum(ip)
	return serialize(t, ip, udp, gopacket.Payload(payload))
}

func ipv6UDP(t testing.TB) []byte {
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: srcIP6, DstIP: dstIP6}
	udp := &layers.UDP{SrcPort: 5353, DstPort: 5353}
	udp.SetNetworkLayerForChecksum(ip)
	return serialize(t, ip, udp, gopacket.Payload("x"))
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }

var macs = []byte{0, 0x15, 0x5d, 1, 2, 3, 0, 0x15, 0x5d, 4, 5, 6}

func eth(et uint16, rest []byte) []byte { return cat(macs, u16(et), rest) }

// tag is a VLAN tag: TPID of the tag itself is written by the caller (as the
// EtherType before it); tag writes TCI and the next EtherType.
func tag(vid, next uint16) []byte { return cat(u16(vid), u16(next)) }

func sll(proto, arphrd uint16, rest []byte) []byte {
	return cat(u16(4), u16(arphrd), u16(6), []byte{0, 0x15, 0x5d, 1, 2, 3, 0, 0}, u16(proto), rest)
}

func sll2(proto, arphrd uint16, rest []byte) []byte {
	return cat(u16(proto), u16(0), []byte{0, 0, 0, 2}, u16(arphrd), []byte{4, 6}, []byte{0, 0x15, 0x5d, 1, 2, 3, 0, 0}, rest)
}

func nullLE(fam uint32, rest []byte) []byte {
	return cat(binary.LittleEndian.AppendUint32(nil, fam), rest)
}
func nullBE(fam uint32, rest []byte) []byte {
	return cat(binary.BigEndian.AppendUint32(nil, fam), rest)
}

// edit returns a copy of b with f applied.
func edit(b []byte, f func(b []byte)) []byte {
	c := append([]byte(nil), b...)
	f(c)
	return c
}

// summary is what a test compares: the decoded fields of a Packet.
type summary struct {
	L3                             Layer3
	Src, Dst                       string
	Proto                          uint8
	SrcPort, DstPort               uint16
	Seq, Ack                       uint32
	Flags                          uint8
	Urgent                         uint16
	Payload                        string
	Fragment, Truncated, Malformed bool
}

func summarize(p *Packet) summary {
	s := summary{L3: p.L3, Proto: p.Proto, SrcPort: p.SrcPort, DstPort: p.DstPort, Seq: p.Seq, Ack: p.Ack,
		Flags: p.TCPFlags, Urgent: p.Urgent, Payload: string(p.Payload), Fragment: p.Fragment, Truncated: p.Truncated, Malformed: p.Malformed}
	if p.Src.IsValid() {
		s.Src, s.Dst = p.Src.String(), p.Dst.String()
	}
	return s
}

const (
	v4src, v4dst = "10.0.0.5", "93.184.216.34"
	v6src, v6dst = "2001:db8::5", "2606:2800:220:1::1"
	pshAck       = TCPPsh | TCPAck
)

// tcpOK and udpOK are the summaries of ipv4TCP("hello") and ipv4UDP("query").
var (
	tcpOK = summary{L3: L3IPv4, Src: v4src, Dst: v4dst, Proto: 6, SrcPort: 49927, DstPort: 443, Seq: 1000, Ack: 2000, Flags: pshAck, Payload: "hello"}
	udpOK = summary{L3: L3IPv4, Src: v4src, Dst: v4dst, Proto: 17, SrcPort: 53000, DstPort: 53, Payload: "query"}
	v6OK  = summary{L3: L3IPv6, Src: v6src, Dst: v6dst}
)

func with(s summary, f func(*summary)) summary { f(&s); return s }

func TestDecode(t *testing.T) {
	tcp := ipv4TCP(t, "hello")
	udp := ipv4UDP(t, "query")
	v6 := ipv6UDP(t)
	// tcpEmpty is a bare ACK: 40 bytes, so Ethernet pads it to 60.
	tcpEmpty := ipv4TCP(t, "")

	tests := []struct {
		name     string
		linkType uint16
		frame    []byte
		want     summary
	}{
		// Ethernet and tags.
		{"ethernet_ipv4_tcp", LinkTypeEthernet, eth(0x0800, tcp), tcpOK},
		{"tcp_urgent_pointer", LinkTypeRaw, edit(tcp, func(b []byte) { b[20+13] |= TCPUrg; b[20+18], b[20+19] = 1, 2 }),
			with(tcpOK, func(s *summary) { s.Flags |= TCPUrg; s.Urgent = 0x0102 })},
		{"ethernet_ipv4_udp", LinkTypeEthernet, eth(0x0800, udp), udpOK},
		{"ethernet_ipv6", LinkTypeEthernet, eth(0x86dd, v6), v6OK},
		{"ethernet_arp_non_ip", LinkTypeEthernet, eth(0x0806, make([]byte, 28)), summary{L3: L3NonIP}},
		{"ethernet_lldp_non_ip", LinkTypeEthernet, eth(0x88cc, make([]byte, 20)), summary{L3: L3NonIP}},
		{"ethernet_unknown_ethertype", LinkTypeEthernet, eth(0x88b5, make([]byte, 20)), summary{}},
		{"ethernet_header_cut", LinkTypeEthernet, macs, summary{Truncated: true}},
		{"ethernet_empty", LinkTypeEthernet, nil, summary{Truncated: true}},
		{"ethernet_padding_not_payload", LinkTypeEthernet, cat(eth(0x0800, tcpEmpty), make([]byte, 6)),
			with(tcpOK, func(s *summary) { s.Payload = "" })},
		{"ethernet_trailer_not_payload", LinkTypeEthernet, cat(eth(0x0800, udp), []byte("FCS!")), udpOK},
		{"vlan_8021q", LinkTypeEthernet, eth(0x8100, cat(tag(10, 0x0800), tcp)), tcpOK},
		{"vlan_qinq", LinkTypeEthernet, eth(0x88a8, cat(tag(100, 0x8100), tag(10, 0x0800), tcp)), tcpOK},
		{"vlan_qinq_9100_three_tags", LinkTypeEthernet, eth(0x9100, cat(tag(1, 0x88a8), tag(2, 0x8100), tag(3, 0x86dd), v6)), v6OK},
		{"vlan_tag_cut", LinkTypeEthernet, eth(0x8100, []byte{0, 10}), summary{Truncated: true}},
		{"vlan_nine_tags_loop", LinkTypeEthernet, eth(0x8100, bytes.Repeat(tag(1, 0x8100), 9)), summary{Malformed: true}},
		{"vlan_arp", LinkTypeEthernet, eth(0x8100, cat(tag(10, 0x0806), make([]byte, 28))), summary{L3: L3NonIP}},
		{"llc_snap_ipv4", LinkTypeEthernet, eth(uint16(8+len(udp)), cat([]byte{0xaa, 0xaa, 3, 0, 0, 0}, u16(0x0800), udp)), udpOK},
		{"llc_stp_non_ip", LinkTypeEthernet, eth(38, cat([]byte{0x42, 0x42, 3}, make([]byte, 35))), summary{L3: L3NonIP}},
		{"pppoe_session_ipv4", LinkTypeEthernet, eth(0x8864, cat([]byte{0x11, 0}, u16(1), u16(uint16(2+len(tcp))), u16(0x0021), tcp)), tcpOK},
		{"pppoe_session_lcp", LinkTypeEthernet, eth(0x8864, cat([]byte{0x11, 0}, u16(1), u16(6), u16(0xc021), make([]byte, 4))), summary{L3: L3NonIP}},
		{"pppoe_header_cut", LinkTypeEthernet, eth(0x8864, []byte{0x11, 0, 0}), summary{Truncated: true}},
		{"pppoe_discovery_non_ip", LinkTypeEthernet, eth(0x8863, make([]byte, 20)), summary{L3: L3NonIP}},
		{"mpls_two_labels_ipv4", LinkTypeEthernet, eth(0x8847, cat([]byte{0, 1, 0, 64, 0, 2, 1, 64}, udp)), udpOK},
		{"mpls_label_stack_cut", LinkTypeEthernet, eth(0x8847, []byte{0, 1, 0, 64, 0, 2}), summary{Truncated: true}},

		// Linux cooked captures.
		{"sll_ipv4_tcp", LinkTypeLinuxSLL, sll(0x0800, 1, tcp), tcpOK},
		{"sll_ipv6", LinkTypeLinuxSLL, sll(0x86dd, 1, v6), v6OK},
		{"sll_vlan_ipv4", LinkTypeLinuxSLL, sll(0x8100, 1, cat(tag(10, 0x0800), udp)), udpOK},
		{"sll_netlink_non_ip", LinkTypeLinuxSLL, sll(0x0000, 824, make([]byte, 16)), summary{L3: L3NonIP}},
		{"sll_header_cut", LinkTypeLinuxSLL, make([]byte, 15), summary{Truncated: true}},
		{"sll2_ipv4_tcp", LinkTypeSLL2, sll2(0x0800, 1, tcp), tcpOK},
		{"sll2_ipv6", LinkTypeSLL2, sll2(0x86dd, 1, v6), v6OK},
		{"sll2_netlink_non_ip", LinkTypeSLL2, sll2(0x0000, 824, make([]byte, 16)), summary{L3: L3NonIP}},
		{"sll2_header_cut", LinkTypeSLL2, make([]byte, 19), summary{Truncated: true}},

		// Raw IP link types.
		{"raw_101_ipv4", LinkTypeRaw, tcp, tcpOK},
		{"raw_101_ipv6", LinkTypeRaw, v6, v6OK},
		{"raw_12_ipv4", LinkTypeRaw12, udp, udpOK},
		{"raw_14_ipv4", LinkTypeRaw14, udp, udpOK},
		{"raw_version_5", LinkTypeRaw, edit(udp, func(b []byte) { b[0] = 0x55 }), summary{Malformed: true}},
		{"raw_empty", LinkTypeRaw, nil, summary{Truncated: true}},
		{"ipv4_link_type_228", LinkTypeIPv4, tcp, tcpOK},
		{"ipv6_link_type_229", LinkTypeIPv6, v6, v6OK},
		{"ipv6_link_type_229_holding_ipv4", LinkTypeIPv6, append(append([]byte(nil), udp...), make([]byte, 20)...), summary{Malformed: true}},
		{"ipv4_link_type_228_holding_ipv6", LinkTypeIPv4, v6, summary{Malformed: true}},

		// BSD loopback.
		{"null_loopback_little_endian_family", LinkTypeNull, nullLE(2, tcp), tcpOK},
		{"null_loopback_big_endian_family", LinkTypeNull, nullBE(2, tcp), tcpOK},
		{"null_ipv6_family_24", LinkTypeNull, nullLE(24, v6), v6OK},
		{"null_ipv6_family_28", LinkTypeNull, nullBE(28, v6), v6OK},
		{"null_ipv6_family_30", LinkTypeNull, nullLE(30, v6), v6OK},
		{"null_unknown_family_non_ip", LinkTypeNull, nullLE(7, make([]byte, 20)), summary{L3: L3NonIP}},
		{"null_family_cut", LinkTypeNull, []byte{2, 0}, summary{Truncated: true}},
		{"loop_108_network_order", LinkTypeLoop, nullBE(2, udp), udpOK},
		{"loop_108_host_order", LinkTypeLoop, nullLE(30, v6), v6OK},

		{"ppp_hdlc_framing", LinkTypePPP, cat([]byte{0xff, 3, 0, 0x21}, tcp), tcpOK},
		{"ppp_protocol_compressed", LinkTypePPP, cat([]byte{0x21}, tcp), tcpOK},
		{"ppp_lcp_not_ip", LinkTypePPP, cat([]byte{0xff, 3, 0xc0, 0x21}, tcp), summary{L3: L3NonIP}},
		{"chdlc_ipv4", LinkTypeCHDLC, cat([]byte{0x0f, 0, 8, 0}, tcp), tcpOK},
		// NFLOG: AF_INET, version 0, resource 0; a prefix TLV (type 10), then the payload TLV (type 9).
		{"nflog_payload_after_prefix", LinkTypeNFLOG, cat([]byte{2, 0, 0, 0, 8, 0, 10, 0, 'a', 'b', 'c', 0},
			[]byte{byte(4 + len(tcp)), 0, 9, 0}, tcp), tcpOK},
		{"nflog_tlv_length_overruns", LinkTypeNFLOG, []byte{2, 0, 0, 0, 0xff, 0, 9, 0, 1, 2}, summary{Malformed: true}},
		{"nflog_no_payload", LinkTypeNFLOG, []byte{2, 0, 0, 0, 8, 0, 10, 0, 'a', 'b', 'c', 0}, summary{L3: L3NonIP}},

		// Link types Decode does not know.
		{"unsupported_link_type_user0", 147, tcp, summary{}},
		{"unsupported_link_type_fddi", 10, tcp, summary{}},

		// IPv4 edges.
		{"ipv4_total_length_beyond_capture", LinkTypeRaw, tcp[:len(tcp)-2],
			with(tcpOK, func(s *summary) { s.Payload, s.Truncated = "hel", true })},
		{"ipv4_total_length_zero_segmentation_offload", LinkTypeRaw, edit(tcp, func(b []byte) { b[2], b[3] = 0, 0 }), tcpOK},
		{"ipv4_total_length_below_header", LinkTypeRaw, edit(tcp, func(b []byte) { b[2], b[3] = 0, 19 }),
			summary{L3: L3IPv4, Src: v4src, Dst: v4dst, Proto: 6, Malformed: true}},
		{"ipv4_total_length_shorter_than_capture", LinkTypeRaw, edit(tcp, func(b []byte) { b[3] -= 2 }),
			with(tcpOK, func(s *summary) { s.Payload = "hel" })},
		{"ipv4_ihl_below_5", LinkTypeRaw, edit(tcp, func(b []byte) { b[0] = 0x44 }), summary{Malformed: true}},
		{"ipv4_header_cut", LinkTypeRaw, tcp[:19], summary{Truncated: true}},
		{"ipv4_ethertype_holding_ipv6", LinkTypeEthernet, eth(0x0800, v6), summary{Malformed: true}},
		{"ipv4_options_cut", LinkTypeRaw, edit(tcp[:24], func(b []byte) { b[0] = 0x4f }),
			summary{L3: L3IPv4, Src: v4src, Dst: v4dst, Proto: 6, Truncated: true}},
		{"ipv4_with_options", LinkTypeRaw, ipv4WithOptions(tcp), tcpOK},
		{"ipv4_first_fragment", LinkTypeRaw, edit(udp, func(b []byte) { b[6] = 0x20 }),
			with(udpOK, func(s *summary) { s.Fragment = true })},
		{"ipv4_first_fragment_udp_length_beyond", LinkTypeRaw, edit(udp, func(b []byte) { b[6] = 0x20; b[25] += 100 }),
			with(udpOK, func(s *summary) { s.Fragment = true })},
		{"ipv4_later_fragment_no_ports", LinkTypeRaw, edit(udp, func(b []byte) { b[6], b[7] = 0, 0x10 }),
			summary{L3: L3IPv4, Src: v4src, Dst: v4dst, Proto: 17, Fragment: true}},
		{"ipv4_last_fragment_no_ports", LinkTypeRaw, edit(udp, func(b []byte) { b[6], b[7] = 0x1f, 0xff }),
			summary{L3: L3IPv4, Src: v4src, Dst: v4dst, Proto: 17, Fragment: true}},
		{"ipv4_icmp_no_ports", LinkTypeRaw, edit(udp, func(b []byte) { b[9] = 1 }),
			summary{L3: L3IPv4, Src: v4src, Dst: v4dst, Proto: 1}},

		// TCP edges.
		{"tcp_data_offset_beyond_packet", LinkTypeRaw, edit(tcp, func(b []byte) { b[32] = 0xf0 }),
			with(tcpOK, func(s *summary) { s.Payload, s.Truncated, s.Malformed = "", true, true })},
		{"tcp_data_offset_below_5", LinkTypeRaw, edit(tcp, func(b []byte) { b[32] = 0x40 }),
			with(tcpOK, func(s *summary) { s.Payload, s.Malformed = "", true })},
		{"tcp_header_cut_by_snap", LinkTypeRaw, tcp[:30],
			summary{L3: L3IPv4, Src: v4src, Dst: v4dst, Proto: 6, SrcPort: 49927, DstPort: 443, Truncated: true}},
		{"tcp_header_beyond_datagram", LinkTypeRaw, edit(tcp[:30], func(b []byte) { b[2], b[3] = 0, 30 }),
			summary{L3: L3IPv4, Src: v4src, Dst: v4dst, Proto: 6, SrcPort: 49927, DstPort: 443, Truncated: true, Malformed: true}},
		{"tcp_options_then_payload", LinkTypeRaw, tcpWithOptions(t), with(tcpOK, func(s *summary) { s.Flags = TCPSyn })},

		// UDP edges.
		{"udp_length_below_8", LinkTypeRaw, edit(udp, func(b []byte) { b[24], b[25] = 0, 7 }),
			with(udpOK, func(s *summary) { s.Payload, s.Malformed = "", true })},
		{"udp_length_beyond_datagram", LinkTypeRaw, edit(udp, func(b []byte) { b[25] += 10 }),
			with(udpOK, func(s *summary) { s.Truncated, s.Malformed = true, true })},
		{"udp_length_shorter_than_datagram", LinkTypeRaw, edit(udp, func(b []byte) { b[25] -= 2 }),
			with(udpOK, func(s *summary) { s.Payload = "que" })},
		{"udp_header_cut", LinkTypeRaw, udp[:26],
			summary{L3: L3IPv4, Src: v4src, Dst: v4dst, Proto: 17, SrcPort: 53000, DstPort: 53, Truncated: true}},
		{"udp_payload_cut_by_snap", LinkTypeRaw, udp[:len(udp)-1],
			with(udpOK, func(s *summary) { s.Payload, s.Truncated = "quer", true })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			// Leftovers from a previous packet must not survive.
			p.L3, p.Payload, p.SrcPort, p.Truncated, p.Malformed = L3IPv4, []byte("stale"), 9, true, true
			Decode(tt.linkType, tt.frame, &p)
			if got := summarize(&p); got != tt.want {
				t.Errorf("Decode(%d, %x) = %+v; want %+v", tt.linkType, tt.frame, got, tt.want)
			}
			if p.LinkType != tt.linkType || len(p.Frame) != len(tt.frame) {
				t.Errorf("Decode set LinkType %d, Frame of %d bytes; want %d, %d", p.LinkType, len(p.Frame), tt.linkType, len(tt.frame))
			}
		})
	}
}

// ipv4WithOptions inserts a 4-byte NOP option list into an IPv4 packet.
func ipv4WithOptions(pkt []byte) []byte {
	b := cat(pkt[:20], []byte{1, 1, 1, 0}, pkt[20:])
	b[0] = 0x46
	binary.BigEndian.PutUint16(b[2:4], uint16(len(b)))
	return b
}

func tcpWithOptions(t testing.TB) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: srcIP4, DstIP: dstIP4}
	tcp := &layers.TCP{SrcPort: 49927, DstPort: 443, Seq: 1000, Ack: 2000, SYN: true, Window: 512,
		Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindMSS, OptionLength: 4, OptionData: []byte{5, 0xb4}}}}
	tcp.SetNetworkLayerForChecksum(ip)
	return serialize(t, ip, tcp, gopacket.Payload("hello"))
}

func TestLinkTypeSupported(t *testing.T) {
	for _, lt := range []uint16{0, 1, 9, 12, 14, 101, 104, 105, 108, 113, 127, 192, 228, 229, 239, 276} {
		if !LinkTypeSupported(lt) {
			t.Errorf("LinkTypeSupported(%d) = false; want true", lt)
		}
	}
	for _, lt := range []uint16{10, 119, 129, 147, 163} {
		if LinkTypeSupported(lt) {
			t.Errorf("LinkTypeSupported(%d) = true; want false", lt)
		}
	}
}

func TestDecodeAllocs(t *testing.T) {
	frames := []struct {
		lt    uint16
		frame []byte
	}{
		{LinkTypeEthernet, eth(0x0800, ipv4TCP(t, "hello"))},
		{LinkTypeEthernet, eth(0x88a8, cat(tag(100, 0x8100), tag(10, 0x0800), ipv4UDP(t, "q")))},
		{LinkTypeSLL2, sll2(0x86dd, 1, ipv6UDP(t))},
		{LinkTypeNull, nullBE(2, ipv4TCP(t, "x"))},
		{LinkTypeEthernet, eth(0x0800, outer4(t, layers.IPProtocolGRE, cat(gre(0x10, 0, 0x88be, 1), []byte{0x10, 0x17, 0x08, 0x64, 0, 0, 0, 0},
			ether(0x0800, udpOuter(t, portVXLAN, cat(vxlanHdr(0x08), ether(0x0800, ipv4TCP(t, "x"))))))))},
		{LinkTypeRaw, outer6(t, layers.IPProtocolIPv4, ipv4UDP(t, "q"))},
		{LinkTypeRaw, udpOuter(t, portGTPU, gtpu(ipv4TCP(t, "x"), true))},
		{LinkTypeRaw, nestIPIP(t, ipv4TCP(t, "x"), 5)},
		{LinkTypeRadiotap, radiotap(0x10, wlanData(true, 0, snap(0x0800, ipv4UDP(t, "q"))))},
		{LinkTypePPI, ppi(LinkType80211, wlanData(false, 0, snap(0x0800, ipv4TCP(t, "x"))))},
	}
	var p Packet
	for _, f := range frames {
		if n := testing.AllocsPerRun(1000, func() { Decode(f.lt, f.frame, &p) }); n != 0 {
			t.Errorf("Decode(%d) allocs = %v; want 0", f.lt, n)
		}
	}
}
