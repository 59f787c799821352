package capture

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// Tunnel builders: the outer headers written by hand after the RFCs (real
// captures of each kind are read by TestTunnelFixtures), the inner packets
// from gopacket.

var (
	mirrorSrc = net.IP{10, 99, 0, 1}
	mirrorDst = net.IP{10, 99, 0, 2}
)

const mirrorSrcS, mirrorDstS = "10.99.0.1", "10.99.0.2"

// outer4 is an IPv4 header (no options) from mirrorSrc to mirrorDst
// carrying proto and payload, with its total length and checksum set.
func outer4(t testing.TB, proto layers.IPProtocol, payload []byte) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: mirrorSrc, DstIP: mirrorDst, Id: 7}
	return serialize(t, ip, gopacket.Payload(payload))
}

// outer6 is an IPv6 header from 2001:db8::1 to 2001:db8::2 carrying next
// header nh and payload.
func outer6(t testing.TB, nh layers.IPProtocol, payload []byte) []byte {
	ip := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: nh, SrcIP: net.ParseIP("2001:db8::1"), DstIP: net.ParseIP("2001:db8::2")}
	return serialize(t, ip, gopacket.Payload(payload))
}

// udpOuter is an IPv4/UDP datagram from mirrorSrc:40000 to mirrorDst:port.
func udpOuter(t testing.TB, port uint16, payload []byte) []byte {
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: mirrorSrc, DstIP: mirrorDst}
	udp := &layers.UDP{SrcPort: 40000, DstPort: layers.UDPPort(port)}
	udp.SetNetworkLayerForChecksum(ip)
	return serialize(t, ip, udp, gopacket.Payload(payload))
}

// gre is a GRE header: flags byte, version byte, protocol, then the
// optional words given.
func gre(flags, ver byte, proto uint16, words ...uint32) []byte {
	b := []byte{flags, ver}
	b = binary.BigEndian.AppendUint16(b, proto)
	for _, w := range words {
		b = binary.BigEndian.AppendUint32(b, w)
	}
	return b
}

var innerMACs = []byte{0, 0x50, 0x56, 1, 2, 3, 0, 0x50, 0x56, 4, 5, 6}

func ether(et uint16, rest []byte) []byte { return cat(innerMACs, u16(et), rest) }

// vxlanHdr is a VXLAN header with flags and VNI 42.
func vxlanHdr(flags byte) []byte { return []byte{flags, 0, 0, 0, 0, 0, 42, 0} }

// geneveHdr is a Geneve header with optlen words of options (zeros).
func geneveHdr(ver byte, optWords int, proto uint16) []byte {
	b := []byte{ver<<6 | byte(optWords), 0}
	b = binary.BigEndian.AppendUint16(b, proto)
	b = append(b, 0, 0, 42, 0)
	return append(b, make([]byte, 4*optWords)...)
}

// gtpu is a GTP-U G-PDU header for payload, with a sequence number and, when
// ext, one PDU session container extension header.
func gtpu(payload []byte, ext bool) []byte {
	flags := byte(0x30) // version 1, PT
	var opt []byte
	if ext {
		flags |= 0x04 | 0x02
		opt = []byte{0, 1, 0, 0x85, 1, 0x10, 0x09, 0}
	}
	b := []byte{flags, 0xff}
	b = binary.BigEndian.AppendUint16(b, uint16(len(opt)+len(payload)))
	b = append(b, 0, 0, 0, 1)
	return cat(b, opt, payload)
}

// tunnelSummary is what a tunnel test compares besides the summary.
type tunnelSummary struct {
	Kind     Encap
	Depth    uint8
	TooDeep  bool
	Src, Dst string
}

func summarizeTunnel(p *Packet) tunnelSummary {
	s := tunnelSummary{Kind: p.Tunnel.Kind, Depth: p.Tunnel.Depth, TooDeep: p.Tunnel.TooDeep}
	if p.Tunnel.Src.IsValid() {
		s.Src, s.Dst = p.Tunnel.Src.String(), p.Tunnel.Dst.String()
	}
	return s
}

func tun(kind Encap, depth uint8) tunnelSummary {
	return tunnelSummary{Kind: kind, Depth: depth, Src: mirrorSrcS, Dst: mirrorDstS}
}

func TestDecodeTunnels(t *testing.T) {
	tcp := ipv4TCP(t, "hello")
	udp := ipv4UDP(t, "query")
	v6 := ipv6UDP(t)
	// An ERSPAN II header: version 1, VLAN 23, session 100.
	erspan2 := []byte{0x10, 0x17, 0x08, 0x64, 0, 0, 0, 0}
	// An ERSPAN III header: version 2, VLAN 20, timestamp, SGT 0, then
	// P=1 FT=0 HW ID 3 and O clear, as Cisco sends it.
	erspan3 := []byte{0x20, 0x14, 0, 0, 0, 0, 0x14, 0x58, 0, 0, 0x80, 0x30}
	erspan3IP := edit(erspan3, func(b []byte) { b[10] |= erspan3FrameIP << 2 })
	erspan3Platform := edit(erspan3, func(b []byte) { b[11] |= 1 })
	vxlanTCP := udpOuter(t, portVXLAN, cat(vxlanHdr(0x08), ether(0x0800, tcp)))
	none := tunnelSummary{}

	tests := []struct {
		name     string
		linkType uint16
		frame    []byte
		want     summary
		tunnel   tunnelSummary
	}{
		// GRE, RFC 2784 and 2890.
		{"gre_ipv4", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, cat(gre(0, 0, 0x0800), tcp)), tcpOK, tun(EncapGRE, 1)},
		{"gre_key_sequence_checksum", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, cat(gre(0xb0, 0, 0x0800, 0, 7, 9), udp)), udpOK, tun(EncapGRE, 1)},
		{"gre_ipv6", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, cat(gre(0x20, 0, 0x86dd, 5), v6)), v6OK, tun(EncapGRE, 1)},
		{"gretap_ethernet_0x6558", LinkTypeEthernet, eth(0x0800, outer4(t, layers.IPProtocolGRE, cat(gre(0x20, 0, 0x6558, 1), ether(0x0800, tcp)))), tcpOK, tun(EncapGRE, 1)},
		{"gretap_vlan_inside", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, cat(gre(0, 0, 0x6558), ether(0x8100, cat(tag(56, 0x0800), udp)))), udpOK, tun(EncapGRE, 1)},
		{"gretap_arp_inside", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, cat(gre(0, 0, 0x6558), ether(0x0806, make([]byte, 28)))), summary{L3: L3NonIP}, tun(EncapGRE, 1)},
		{"gre_mpls", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, cat(gre(0, 0, 0x8847), []byte{0, 1, 1, 64}, udp)), udpOK, tun(EncapGRE, 1)},
		{"gre_over_ipv6", LinkTypeRaw, outer6(t, layers.IPProtocolGRE, cat(gre(0, 0, 0x0800), tcp)), tcpOK,
			tunnelSummary{Kind: EncapGRE, Depth: 1, Src: "2001:db8::1", Dst: "2001:db8::2"}},
		{"gre_header_cut", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, gre(0xb0, 0, 0x0800, 0)),
			summary{Truncated: true}, tun(EncapGRE, 1)},
		{"gre_inner_cut_by_snap", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, cat(gre(0, 0, 0x0800), tcp))[:20+4+30],
			summary{L3: L3IPv4, Src: v4src, Dst: v4dst, Proto: 6, SrcPort: 49927, DstPort: 443, Truncated: true}, tun(EncapGRE, 1)},
		// What GRE carries that Decode does not take off: the outer packet stays.
		{"gre_version_1_pptp_left_on", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, cat(gre(0x30, 1, 0x880b, 0, 1), []byte{0xff, 3, 0, 0x21}, tcp)),
			summary{L3: L3IPv4, Src: mirrorSrcS, Dst: mirrorDstS, Proto: 47}, none},
		{"gre_routing_bit_left_on", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, cat(gre(0x40, 0, 0x0800, 0), tcp)),
			summary{L3: L3IPv4, Src: mirrorSrcS, Dst: mirrorDstS, Proto: 47}, none},
		{"gre_aruba_80211_left_on", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, cat(gre(0, 0, 0x8200), make([]byte, 40))),
			summary{L3: L3IPv4, Src: mirrorSrcS, Dst: mirrorDstS, Proto: 47}, none},

		// ERSPAN.
		{"erspan_type_i", LinkTypeEthernet, eth(0x0800, outer4(t, layers.IPProtocolGRE, cat(gre(0, 0, 0x88be), ether(0x0800, tcp)))), tcpOK, tun(EncapERSPANI, 1)},
		{"erspan_type_ii", LinkTypeEthernet, eth(0x0800, outer4(t, layers.IPProtocolGRE, cat(gre(0x10, 0, 0x88be, 1796), erspan2, ether(0x0800, tcp)))), tcpOK, tun(EncapERSPANII, 1)},
		{"erspan_type_ii_wrong_version", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, cat(gre(0x10, 0, 0x88be, 1), edit(erspan2, func(b []byte) { b[0] = 0x20 }), ether(0x0800, tcp))),
			summary{Malformed: true}, tun(EncapERSPANII, 1)},
		{"erspan_type_ii_header_cut", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, cat(gre(0x10, 0, 0x88be, 1), erspan2[:5])),
			summary{Truncated: true}, tun(EncapERSPANII, 1)},
		{"erspan_type_iii", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, cat(gre(0x10, 0, 0x22eb, 1), erspan3, ether(0x0800, udp))), udpOK, tun(EncapERSPANIII, 1)},
		{"erspan_type_iii_platform_subheader", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, cat(gre(0x10, 0, 0x22eb, 1), erspan3Platform, make([]byte, 8), ether(0x0800, udp))), udpOK, tun(EncapERSPANIII, 1)},
		{"erspan_type_iii_ip_frame", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, cat(gre(0x10, 0, 0x22eb, 1), erspan3IP, tcp)), tcpOK, tun(EncapERSPANIII, 1)},

		// UDP encapsulations.
		{"vxlan", LinkTypeEthernet, eth(0x0800, vxlanTCP), tcpOK, tun(EncapVXLAN, 1)},
		{"vxlan_gbp_flags", LinkTypeRaw, udpOuter(t, portVXLAN, cat(vxlanHdr(0x88), ether(0x0800, udp))), udpOK, tun(EncapVXLAN, 1)},
		{"vxlan_without_i_flag_left_on", LinkTypeRaw, udpOuter(t, portVXLAN, cat(vxlanHdr(0), ether(0x0800, udp))),
			summary{L3: L3IPv4, Src: mirrorSrcS, Dst: mirrorDstS, Proto: 17, SrcPort: 40000, DstPort: portVXLAN, Payload: string(cat(vxlanHdr(0), ether(0x0800, udp)))}, none},
		{"vxlan_source_port_4789_left_on", LinkTypeRaw, edit(udpOuter(t, 9999, cat(vxlanHdr(0x08), ether(0x0800, udp))), func(b []byte) { b[20], b[21] = 0x12, 0xb5 }),
			summary{L3: L3IPv4, Src: mirrorSrcS, Dst: mirrorDstS, Proto: 17, SrcPort: 4789, DstPort: 9999, Payload: string(cat(vxlanHdr(0x08), ether(0x0800, udp)))}, none},
		{"vxlan_linux_port_8472", LinkTypeRaw, udpOuter(t, portVXLANLinux, cat(vxlanHdr(0x08), ether(0x0800, tcp))), tcpOK, tun(EncapVXLAN, 1)},
		{"vxlan_linux_port_8472_gbp_flags_left_on", LinkTypeRaw, udpOuter(t, portVXLANLinux, cat(vxlanHdr(0x88), ether(0x0800, udp))),
			summary{L3: L3IPv4, Src: mirrorSrcS, Dst: mirrorDstS, Proto: 17, SrcPort: 40000, DstPort: portVXLANLinux, Payload: string(cat(vxlanHdr(0x88), ether(0x0800, udp)))}, none},
		{"vxlan_linux_port_8472_not_ethernet_left_on", LinkTypeRaw, udpOuter(t, portVXLANLinux, cat(vxlanHdr(0x08), ether(0x88cc, make([]byte, 30)))),
			summary{L3: L3IPv4, Src: mirrorSrcS, Dst: mirrorDstS, Proto: 17, SrcPort: 40000, DstPort: portVXLANLinux, Payload: string(cat(vxlanHdr(0x08), ether(0x88cc, make([]byte, 30))))}, none},
		{"vxlan_header_cut", LinkTypeRaw, udpOuter(t, portVXLAN, vxlanHdr(0x08)[:4]), summary{Truncated: true}, tun(EncapVXLAN, 1)},
		{"geneve_ethernet", LinkTypeRaw, udpOuter(t, portGeneve, cat(geneveHdr(0, 0, 0x6558), ether(0x0800, tcp))), tcpOK, tun(EncapGeneve, 1)},
		{"geneve_options_ipv4", LinkTypeRaw, udpOuter(t, portGeneve, cat(geneveHdr(0, 3, 0x0800), udp)), udpOK, tun(EncapGeneve, 1)},
		{"geneve_options_cut", LinkTypeRaw, udpOuter(t, portGeneve, geneveHdr(0, 3, 0x0800)[:12]), summary{Truncated: true}, tun(EncapGeneve, 1)},
		{"geneve_version_1_left_on", LinkTypeRaw, udpOuter(t, portGeneve, cat(geneveHdr(1, 0, 0x0800), udp)),
			summary{L3: L3IPv4, Src: mirrorSrcS, Dst: mirrorDstS, Proto: 17, SrcPort: 40000, DstPort: portGeneve, Payload: string(cat(geneveHdr(1, 0, 0x0800), udp))}, none},
		{"gre_in_udp", LinkTypeRaw, udpOuter(t, portGREUDP, cat(gre(0, 0, 0x0800), tcp)), tcpOK, tun(EncapGREUDP, 1)},
		{"gtpu", LinkTypeRaw, udpOuter(t, portGTPU, gtpu(tcp, false)), tcpOK, tun(EncapGTPU, 1)},
		{"gtpu_extension_header", LinkTypeRaw, udpOuter(t, portGTPU, gtpu(udp, true)), udpOK, tun(EncapGTPU, 1)},
		{"gtpu_ipv6", LinkTypeRaw, udpOuter(t, portGTPU, gtpu(v6, false)), v6OK, tun(EncapGTPU, 1)},
		{"gtpu_extension_length_zero", LinkTypeRaw, udpOuter(t, portGTPU, edit(gtpu(udp, true), func(b []byte) { b[12] = 0 })),
			summary{Malformed: true}, tun(EncapGTPU, 1)},
		{"gtpu_echo_left_on", LinkTypeRaw, udpOuter(t, portGTPU, []byte{0x32, 1, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0}),
			summary{L3: L3IPv4, Src: mirrorSrcS, Dst: mirrorDstS, Proto: 17, SrcPort: 40000, DstPort: portGTPU, Payload: string([]byte{0x32, 1, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0})}, none},

		// IP in IP.
		{"ipip_4in4", LinkTypeRaw, outer4(t, layers.IPProtocolIPv4, tcp), tcpOK, tun(EncapIPIP, 1)},
		{"sit_6in4", LinkTypeEthernet, eth(0x0800, outer4(t, layers.IPProtocolIPv6, v6)), v6OK, tun(Encap6in4, 1)},
		{"ip6tnl_4in6", LinkTypeRaw, outer6(t, layers.IPProtocolIPv4, udp), udpOK,
			tunnelSummary{Kind: Encap4in6, Depth: 1, Src: "2001:db8::1", Dst: "2001:db8::2"}},
		{"ip6tnl_6in6", LinkTypeRaw, outer6(t, layers.IPProtocolIPv6, v6), v6OK,
			tunnelSummary{Kind: Encap6in6, Depth: 1, Src: "2001:db8::1", Dst: "2001:db8::2"}},
		{"4in6_after_destination_options", LinkTypeRaw, outer6(t, 60, cat([]byte{4, 0, 1, 4, 0, 0, 0, 0}, udp)), udpOK,
			tunnelSummary{Kind: Encap4in6, Depth: 1, Src: "2001:db8::1", Dst: "2001:db8::2"}},
		{"vxlan_over_ipv6", LinkTypeRaw, outer6(t, layers.IPProtocolUDP, cat(u16(40000), u16(portVXLAN), u16(uint16(8+8+14+len(tcp))), u16(0), vxlanHdr(0x08), ether(0x0800, tcp))), tcpOK,
			tunnelSummary{Kind: EncapVXLAN, Depth: 1, Src: "2001:db8::1", Dst: "2001:db8::2"}},
		{"ipv6_fragment_left_on", LinkTypeRaw, outer6(t, layers.IPProtocolIPv6Fragment, cat([]byte{4, 0, 0, 1, 0, 0, 0, 1}, udp)), summary{L3: L3IPv6, Src: "2001:db8::1", Dst: "2001:db8::2"}, none},
		{"ipip_inner_not_ipv4", LinkTypeRaw, outer4(t, layers.IPProtocolIPv4, v6), summary{Malformed: true}, tun(EncapIPIP, 1)},

		// Nesting: the outermost is reported, the depth bounded.
		{"gre_within_gre", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, cat(gre(0, 0, 0x0800), outer4(t, layers.IPProtocolGRE, cat(gre(0, 0, 0x0800), tcp)))), tcpOK, tun(EncapGRE, 2)},
		{"vxlan_in_erspan", LinkTypeRaw, outer4(t, layers.IPProtocolGRE, cat(gre(0x10, 0, 0x88be, 1), erspan2, ether(0x0800, vxlanTCP))), tcpOK, tun(EncapERSPANII, 2)},
		{"ipip_four_deep", LinkTypeRaw, nestIPIP(t, tcp, 4), tcpOK, tun(EncapIPIP, 4)},
		{"ipip_five_deep_bound", LinkTypeRaw, nestIPIP(t, tcp, 5),
			summary{L3: L3IPv4, Src: mirrorSrcS, Dst: mirrorDstS, Proto: 4}, tunnelSummary{Kind: EncapIPIP, Depth: 4, TooDeep: true, Src: mirrorSrcS, Dst: mirrorDstS}},

		// Fragments: a first fragment of a tunnelled packet is taken through
		// the tunnel, marked Fragment, not Truncated (the rest is in later
		// fragments); a later one is the outer packet.
		{"gre_first_fragment", LinkTypeRaw, firstFragment(outer4(t, layers.IPProtocolGRE, cat(gre(0, 0, 0x0800), tcp)), 32),
			summary{L3: L3IPv4, Src: v4src, Dst: v4dst, Proto: 6, SrcPort: 49927, DstPort: 443, Fragment: true}, tun(EncapGRE, 1)},
		{"gre_later_fragment", LinkTypeRaw, edit(outer4(t, layers.IPProtocolGRE, cat(gre(0, 0, 0x0800), tcp)), func(b []byte) { b[7] = 4 }),
			summary{L3: L3IPv4, Src: mirrorSrcS, Dst: mirrorDstS, Proto: 47, Fragment: true}, none},
		{"vxlan_first_fragment", LinkTypeRaw, firstFragment(vxlanTCP, 72),
			with(tcpOK, func(s *summary) { s.Payload, s.Fragment = "he", true }), tun(EncapVXLAN, 1)},
		{"inner_fragment_in_vxlan", LinkTypeRaw, udpOuter(t, portVXLAN, cat(vxlanHdr(0x08), ether(0x0800, edit(udp, func(b []byte) { b[6] = 0x20 })))),
			with(udpOK, func(s *summary) { s.Fragment = true }), tun(EncapVXLAN, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			p.Tunnel = Tunnel{Kind: EncapGeneve, Depth: 3, TooDeep: true} // must not survive
			Decode(tt.linkType, tt.frame, &p)
			if got := summarize(&p); got != tt.want {
				t.Errorf("Decode(%d, %x) = %+v; want %+v", tt.linkType, tt.frame, got, tt.want)
			}
			if got := summarizeTunnel(&p); got != tt.tunnel {
				t.Errorf("Decode(%d, %x).Tunnel = %+v; want %+v", tt.linkType, tt.frame, got, tt.tunnel)
			}
			checkDecoded(t, tt.frame, &p)
		})
	}
}

// nestIPIP wraps pkt in n IPv4-in-IPv4 headers.
func nestIPIP(t testing.TB, pkt []byte, n int) []byte {
	for range n {
		pkt = outer4(t, layers.IPProtocolIPv4, pkt)
	}
	return pkt
}

// firstFragment cuts an IPv4 packet to its first fragment of n data bytes
// (a multiple of 8): MF set, total length and checksum fixed.
func firstFragment(pkt []byte, n int) []byte {
	b := append([]byte(nil), pkt[:20+n]...)
	binary.BigEndian.PutUint16(b[2:4], uint16(len(b)))
	b[6] |= 0x20
	fixChecksum(b)
	return b
}

func fixChecksum(h []byte) {
	h[10], h[11] = 0, 0
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(h[10:], ^uint16(sum))
}

func TestEncapString(t *testing.T) {
	for e, want := range map[Encap]string{EncapNone: "", EncapGRE: "gre", EncapERSPANII: "erspan-ii", EncapVXLAN: "vxlan",
		Encap6in4: "6in4", EncapGTPU: "gtp-u", Encap(200): "encap-200"} {
		if got := e.String(); got != want {
			t.Errorf("Encap(%d).String() = %q; want %q", e, got, want)
		}
	}
	for e := EncapNone + 1; e <= Encap6in6; e++ {
		if e.String() == "" || bytes.ContainsAny([]byte(e.String()), " \"") {
			t.Errorf("Encap(%d).String() = %q; want a plain name", e, e.String())
		}
	}
}

// fragments cuts an IPv4 packet into fragments of at most n data bytes (a
// multiple of 8), each with its total length, offset, MF and checksum set.
func fragments(pkt []byte, n int) [][]byte {
	ihl := int(pkt[0]&0x0f) * 4
	data := pkt[ihl:]
	var out [][]byte
	for off := 0; off < len(data); off += n {
		end := min(off+n, len(data))
		b := cat(pkt[:ihl], data[off:end])
		binary.BigEndian.PutUint16(b[2:4], uint16(len(b)))
		fl := uint16(off / 8)
		if end < len(data) {
			fl |= 0x2000
		}
		binary.BigEndian.PutUint16(b[6:8], fl)
		fixChecksum(b)
		out = append(out, b)
	}
	return out
}

// TestDefragTunnels: a tunnelled packet fragmented outside the tunnel (by the
// mirror's path MTU) is rebuilt and decoded through it; one fragmented inside
// (by the VM) is rebuilt inside it and keeps the tunnel.
func TestDefragTunnels(t *testing.T) {
	big := string(bytes.Repeat([]byte("0123456789abcdef"), 80)) // 1280 bytes
	inner := ipv4UDP(t, big)
	want := with(udpOK, func(s *summary) { s.Payload = big })
	vxlan := tun(EncapVXLAN, 1)
	gre2 := tun(EncapGRE, 2)

	type step struct {
		want   summary // each frame as Decode gives it
		tunnel tunnelSummary
	}
	tests := []struct {
		name   string
		frames [][]byte
		steps  []step
		tunnel tunnelSummary // of the rebuilt datagram
	}{
		{"vxlan_fragmented_outside",
			fragments(udpOuter(t, portVXLAN, cat(vxlanHdr(0x08), ether(0x0800, inner))), 512),
			[]step{
				{with(udpOK, func(s *summary) { s.Payload, s.Fragment = big[:512-8-8-14-20-8], true }), vxlan},
				{summary{L3: L3IPv4, Src: mirrorSrcS, Dst: mirrorDstS, Proto: 17, Fragment: true}, tunnelSummary{}},
				{summary{L3: L3IPv4, Src: mirrorSrcS, Dst: mirrorDstS, Proto: 17, Fragment: true}, tunnelSummary{}},
			}, vxlan},
		{"gre_fragmented_outside",
			fragments(outer4(t, layers.IPProtocolGRE, cat(gre(0, 0, 0x0800), inner)), 800),
			[]step{
				{with(udpOK, func(s *summary) { s.Payload, s.Fragment = big[:800-4-20-8], true }), tun(EncapGRE, 1)},
				{summary{L3: L3IPv4, Src: mirrorSrcS, Dst: mirrorDstS, Proto: 47, Fragment: true}, tunnelSummary{}},
			}, tun(EncapGRE, 1)},
		{"fragmented_inside_gre_in_gre",
			func() [][]byte {
				var out [][]byte
				for _, f := range fragments(inner, 800) {
					out = append(out, outer4(t, layers.IPProtocolGRE, cat(gre(0, 0, 0x0800), outer4(t, layers.IPProtocolGRE, cat(gre(0, 0, 0x0800), f)))))
				}
				return out
			}(),
			[]step{
				{with(udpOK, func(s *summary) { s.Payload, s.Fragment = big[:800-8], true }), gre2},
				{summary{L3: L3IPv4, Src: v4src, Dst: v4dst, Proto: 17, Fragment: true}, gre2},
			}, gre2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.frames) != len(tt.steps) {
				t.Fatalf("%d frames, %d steps", len(tt.frames), len(tt.steps))
			}
			d := NewDefragmenter(DefragConfig{})
			var p, q Packet
			for i, f := range tt.frames {
				p = Packet{Timestamp: t0}
				Decode(LinkTypeRaw, f, &p)
				if got := summarize(&p); got != tt.steps[i].want {
					t.Errorf("frame %d: Decode = %+v; want %+v", i, got, tt.steps[i].want)
				}
				if got := summarizeTunnel(&p); got != tt.steps[i].tunnel {
					t.Errorf("frame %d: Decode.Tunnel = %+v; want %+v", i, got, tt.steps[i].tunnel)
				}
				done := d.Add(&p)
				if done != (i == len(tt.frames)-1) {
					t.Fatalf("frame %d: Add = %v", i, done)
				}
			}
			d.Datagram(&q)
			if got := summarize(&q); got != want {
				t.Errorf("Datagram = %+v; want %+v", got, want)
			}
			if got := summarizeTunnel(&q); got != tt.tunnel {
				t.Errorf("Datagram.Tunnel = %+v; want %+v", got, tt.tunnel)
			}
			if q.Reassembled != len(tt.frames) {
				t.Errorf("Datagram.Reassembled = %d; want %d", q.Reassembled, len(tt.frames))
			}
		})
	}
}
