package capture

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// Encap is a kind of encapsulation that Decode takes off: the ways traffic
// mirrored from a switch port or a virtual network reaches a capture host.
type Encap uint8

// Encapsulations, named in reports and in the --flows field "tunnel" by
// Encap.String.
const (
	EncapNone Encap = iota
	// EncapGRE is GRE version 0 (RFC 2784, with RFC 2890's key and sequence
	// number), carrying IPv4, IPv6, MPLS or an Ethernet frame (transparent
	// Ethernet bridging, 0x6558, as Linux gretap sends it).
	EncapGRE
	// EncapERSPANI is Cisco ERSPAN type I: GRE protocol 0x88be without a
	// sequence number, the mirrored Ethernet frame right after it.
	EncapERSPANI
	// EncapERSPANII is ERSPAN type II: GRE protocol 0x88be with a sequence
	// number, then an 8-byte ERSPAN header (version 1).
	EncapERSPANII
	// EncapERSPANIII is ERSPAN type III: GRE protocol 0x22eb, then a
	// 12-byte ERSPAN header (version 2) and an optional 8-byte platform
	// subheader, then an Ethernet frame or an IP packet.
	EncapERSPANIII
	// EncapVXLAN is VXLAN (RFC 7348): UDP to port 4789, an 8-byte header
	// with the I flag, then an Ethernet frame; or to Linux's default port
	// 8472 with a header that is exactly VXLAN's.
	EncapVXLAN
	// EncapGeneve is Geneve (RFC 8926): UDP to port 6081, an 8-byte header
	// and its options, then an Ethernet frame or an IP packet.
	EncapGeneve
	// EncapGREUDP is GRE in UDP (RFC 8086): UDP to port 4754, then GRE.
	EncapGREUDP
	// EncapGTPU is GTP-U version 1 (3GPP TS 29.281): UDP to port 2152, a
	// G-PDU (message type 255) carrying an IP packet, as mobile cores and
	// their taps send it.
	EncapGTPU
	// EncapIPIP is IPv4 in IPv4 (IP protocol 4, RFC 2003).
	EncapIPIP
	// Encap6in4 is IPv6 in IPv4 (IP protocol 41, RFC 4213; sit, 6to4).
	Encap6in4
	// Encap4in6 is IPv4 in IPv6 (next header 4, RFC 2473).
	Encap4in6
	// Encap6in6 is IPv6 in IPv6 (next header 41, RFC 2473).
	Encap6in6
)

var encapNames = [...]string{
	EncapNone: "", EncapGRE: "gre", EncapERSPANI: "erspan-i", EncapERSPANII: "erspan-ii",
	EncapERSPANIII: "erspan-iii", EncapVXLAN: "vxlan", EncapGeneve: "geneve", EncapGREUDP: "gre-udp",
	EncapGTPU: "gtp-u", EncapIPIP: "ipip", Encap6in4: "6in4", Encap4in6: "4in6", Encap6in6: "6in6",
}

// String names the encapsulation as reports and --flows write it: "gre",
// "erspan-ii", "vxlan", ...; "" for EncapNone.
func (e Encap) String() string {
	if int(e) < len(encapNames) {
		return encapNames[e]
	}
	return "encap-" + strconv.Itoa(int(e))
}

// MaxTunnelDepth bounds how many encapsulations Decode takes off one frame.
// Mirrored traffic nests two at most (ERSPAN of a host that runs VXLAN);
// every tunnelled capture of the shared corpus nests one, and
// testdata/tunnels nests two (gre-in-gre.pcap), four and five
// (too-deep.pcap). A packet still tunnelled at the bound is left as it is
// there, with Tunnel.TooDeep set, so that a report can say so.
const MaxTunnelDepth = 4

// Tunnel says how a frame arrived encapsulated. The zero Tunnel is a frame
// that was not. The Packet's other fields describe the innermost packet:
// the VM's own traffic, whose addresses name and scope its flow; Src and
// Dst here are the mirror's.
type Tunnel struct {
	// Kind is the outermost encapsulation taken off.
	Kind Encap
	// Depth is how many encapsulations were taken off: 1 to MaxTunnelDepth.
	Depth uint8
	// TooDeep is true when the packet reached at MaxTunnelDepth is itself
	// tunnelled: it was decoded no further.
	TooDeep bool
	// Src and Dst are the addresses of the outermost IP header, the one
	// that carried the outermost encapsulation.
	Src, Dst netip.Addr
}

// IP protocol numbers of the encapsulations carried directly over IP.
const (
	protoIPIP = 4  // IPv4 in IP
	protoIPv6 = 41 // IPv6 in IP
	protoGRE  = 47
)

// UDP destination ports of the encapsulations carried over UDP. Tunnels are
// recognised by destination port only (the source port of VXLAN, Geneve and
// GRE in UDP is a flow hash), and then only with a header that checks.
const (
	portVXLAN  = 4789
	portGeneve = 6081
	portGREUDP = 4754
	portGTPU   = 2152
	// portVXLANLinux is the port Linux VXLAN devices (and flannel) use when
	// none is given: "ip link add ... type vxlan" without dstport. Other
	// protocols use it too (Cisco OTV, whose header is VXLAN's), so a
	// packet to it must carry a VXLAN header exactly: flags 0x08, the
	// reserved bytes zero, and an Ethernet frame of IP, ARP or a VLAN tag.
	portVXLANLinux = 8472
)

// EtherTypes and GRE protocol types of what encapsulations carry.
const (
	etherTypeTEB      = 0x6558 // transparent Ethernet bridging: an Ethernet frame
	etherTypeERSPAN   = 0x88be // ERSPAN type I and II
	etherTypeERSPAN3  = 0x22eb // ERSPAN type III
	greFlagChecksum   = 0x80
	greFlagRouting    = 0x40
	greFlagKey        = 0x20
	greFlagSeq        = 0x10
	erspan3FrameIP    = 2 // ERSPAN III frame type: an IP packet, no Ethernet header
	erspan3FrameEther = 0
)

// TunnelProtocol reports whether IP protocol proto is one Decode
// decapsulates (IP in IP, IPv6 in IP, GRE). A fragment of such a packet
// after the first one carries no header of the inner packet.
func TunnelProtocol(proto uint8) bool {
	return proto == protoIPIP || proto == protoIPv6 || proto == protoGRE
}

// enter takes one encapsulation off p: it records the outermost one, and
// clears the outer layer's fields so that what follows decodes the inner
// packet into p. Fragment and Truncated carry over, because the inner packet
// is as incomplete as the outer one. enter returns false, and changes
// nothing but TooDeep, when MaxTunnelDepth encapsulations are off already.
//
// It also returns false, changing nothing, for an outermost tunnel to or
// from a public address: a mirror (ERSPAN, VXLAN from a switch or a
// hypervisor) sends to the capture host over a lab or management network,
// while a tunnel that crosses the internet (a VPN over GRE or IP in IP, 6to4,
// GTP-U or VXLAN to a public peer) is itself traffic of the host that sent
// it. Taken off, its inner packet would name a flow and hide where the
// packets really went; kept, it is a flow to that public address.
func enter(p *Packet, kind Encap) bool {
	t := &p.Tunnel
	if t.Depth >= MaxTunnelDepth {
		t.TooDeep = true
		return false
	}
	if t.Depth == 0 && (routable(p.Src) || routable(p.Dst)) {
		return false
	}
	if t.Depth == 0 {
		t.Kind, t.Src, t.Dst = kind, p.Src, p.Dst
	}
	t.Depth++
	p.L3 = L3Unknown
	p.Src, p.Dst = netip.Addr{}, netip.Addr{}
	p.Proto = 0
	p.SrcPort, p.DstPort = 0, 0
	p.Seq, p.Ack, p.TCPFlags, p.Urgent = 0, 0, 0, 0
	p.Payload = nil
	return true
}

// ipTunnel decapsulates IP protocol proto (IP in IP, IPv6 in IP, GRE)
// whose payload is b, from an IPv4 header when v4. It leaves p as the outer
// packet when b is not an encapsulation Decode knows.
func ipTunnel(proto uint8, b []byte, p *Packet, v4 bool) {
	switch proto {
	case protoIPIP:
		kind := EncapIPIP
		if !v4 {
			kind = Encap4in6
		}
		if enter(p, kind) {
			decodeIPv4(b, p)
		}
	case protoIPv6:
		kind := Encap6in4
		if !v4 {
			kind = Encap6in6
		}
		if enter(p, kind) {
			decodeIPv6(b, p)
		}
	case protoGRE:
		decodeGRE(b, p, EncapGRE)
	}
}

// tunnelPort reports whether a UDP destination port is one of a tunnel's.
func tunnelPort(port uint16) bool {
	return port >= portGTPU && port <= portVXLANLinux && // one comparison for DNS, HTTPS, ...
		(port == portVXLAN || port == portGeneve || port == portGREUDP || port == portGTPU || port == portVXLANLinux)
}

// udpTunnel decapsulates the UDP datagram seg (header included) when its
// destination port is a tunnel's and its payload starts with that tunnel's
// header. It reports whether it did; p is then the inner packet.
func udpTunnel(seg []byte, p *Packet) bool {
	if len(seg) < 8 {
		return false
	}
	pl := seg[8:]
	if n := int(binary.BigEndian.Uint16(seg[4:6])); n >= 8 && n <= len(seg) {
		pl = seg[8:n]
	}
	switch binary.BigEndian.Uint16(seg[2:4]) {
	case portVXLAN:
		// flags(1: I = 0x08) reserved(3) VNI(3) reserved(1)
		if len(pl) < 1 || pl[0]&0x08 == 0 {
			return false
		}
		if !enter(p, EncapVXLAN) {
			return false
		}
		if len(pl) < 8 {
			p.Truncated = true
			return true
		}
		decodeEthernet(pl[8:], p)
		return true
	case portVXLANLinux:
		if len(pl) < 8+14 || pl[0] != 0x08 || pl[1]|pl[2]|pl[3]|pl[7] != 0 {
			return false
		}
		switch binary.BigEndian.Uint16(pl[8+12 : 8+14]) {
		case etherTypeIPv4, etherTypeIPv6, 0x0806, etherTypeVLAN, etherTypeQinQ:
		default:
			return false
		}
		if !enter(p, EncapVXLAN) {
			return false
		}
		decodeEthernet(pl[8:], p)
		return true
	case portGeneve:
		return decodeGeneve(pl, p)
	case portGREUDP:
		return decodeGRE(pl, p, EncapGREUDP)
	case portGTPU:
		return decodeGTPU(pl, p)
	}
	return false
}

// decodeEthernet decodes an Ethernet frame carried by an encapsulation.
func decodeEthernet(b []byte, p *Packet) {
	if len(b) < 14 {
		p.Truncated = true
		return
	}
	decodeEtherType(binary.BigEndian.Uint16(b[12:14]), b[14:], p)
}

// decodeGRE decapsulates a GRE packet b (RFC 2784 and 2890: version 0, no
// routing), kind being EncapGRE or EncapGREUDP; ERSPAN is recognised by its
// protocol type. It reports whether it took the encapsulation off: not for
// GRE version 1 (PPTP, whose PPP a VPN client encrypts), RFC 1701 routing,
// or a protocol type it does not decode (Aruba's 802.11, ...).
func decodeGRE(b []byte, p *Packet, kind Encap) bool {
	// flags(1) reserved and version(1) protocol(2) [checksum(2) reserved(2)]
	// [key(4)] [sequence(4)]
	if len(b) < 4 || b[0]&greFlagRouting != 0 || b[1]&0x07 != 0 {
		return false
	}
	flags := b[0]
	hdr := 4
	for _, f := range [...]byte{greFlagChecksum, greFlagKey, greFlagSeq} {
		if flags&f != 0 {
			hdr += 4
		}
	}
	proto := binary.BigEndian.Uint16(b[2:4])
	switch proto {
	case etherTypeERSPAN:
		if kind == EncapGRE {
			kind = EncapERSPANI
			if flags&greFlagSeq != 0 {
				kind = EncapERSPANII
			}
		}
	case etherTypeERSPAN3:
		if kind == EncapGRE {
			kind = EncapERSPANIII
		}
	case etherTypeIPv4, etherTypeIPv6, etherTypeTEB, etherTypeMPLS, etherTypeMPLSMulticast:
	default:
		return false
	}
	if !enter(p, kind) {
		return false
	}
	if len(b) < hdr {
		p.Truncated = true
		return true
	}
	b = b[hdr:]
	switch proto {
	case etherTypeTEB:
		decodeEthernet(b, p)
	case etherTypeERSPAN:
		if flags&greFlagSeq == 0 { // type I: the frame follows
			decodeEthernet(b, p)
			return true
		}
		// ver(4)=1 VLAN(12) COS(3) En(2) T(1) session(10) reserved(12) index(20)
		if len(b) < 8 {
			p.Truncated = true
			return true
		}
		if b[0]>>4 != 1 {
			p.Malformed = true
			return true
		}
		decodeEthernet(b[8:], p)
	case etherTypeERSPAN3:
		// ver(4)=2 VLAN(12) COS(3) BSO(2) T(1) session(10) timestamp(32)
		// SGT(16) P(1) FT(5) HW ID(6) D(1) Gra(2) O(1) [platform subheader(8)]
		if len(b) < 12 {
			p.Truncated = true
			return true
		}
		if b[0]>>4 != 2 {
			p.Malformed = true
			return true
		}
		ft := b[10] >> 2 & 0x1f
		n := 12
		if b[11]&1 != 0 {
			n += 8
		}
		if len(b) < n {
			p.Truncated = true
			return true
		}
		switch ft {
		case erspan3FrameEther:
			decodeEthernet(b[n:], p)
		case erspan3FrameIP:
			decodeRawIP(b[n:], p)
		default:
			p.L3 = L3NonIP
		}
	default:
		decodeEtherType(proto, b, p)
	}
	return true
}

// decodeGeneve decapsulates a Geneve packet b: ver(2)=0 optlen(6, in 4-byte
// words) O(1) C(1) reserved(6) protocol(2) VNI(3) reserved(1), options,
// then an Ethernet frame (0x6558) or an IP packet.
func decodeGeneve(b []byte, p *Packet) bool {
	if len(b) < 4 || b[0]>>6 != 0 {
		return false
	}
	proto := binary.BigEndian.Uint16(b[2:4])
	switch proto {
	case etherTypeTEB, etherTypeIPv4, etherTypeIPv6:
	default:
		return false
	}
	if !enter(p, EncapGeneve) {
		return false
	}
	hdr := 8 + int(b[0]&0x3f)*4
	if len(b) < hdr {
		p.Truncated = true
		return true
	}
	if proto == etherTypeTEB {
		decodeEthernet(b[hdr:], p)
	} else {
		decodeEtherType(proto, b[hdr:], p)
	}
	return true
}

// decodeGTPU decapsulates a GTP-U G-PDU b: flags(1: version 1 in the top
// three bits, PT 0x10, E 0x04, S 0x02, PN 0x01) type(1)=255 length(2) TEID(4),
// then, when any of E, S, PN is set, sequence(2) N-PDU(1) next extension
// type(1) and the extension headers (each length(1, in 4-byte words) ...
// next type(1)), then the IP packet. Other messages (echo, error
// indication, end marker) carry no user packet and are left as they are.
func decodeGTPU(b []byte, p *Packet) bool {
	if len(b) < 2 || b[0]>>5 != 1 || b[0]&0x10 == 0 || b[1] != 0xff {
		return false
	}
	if !enter(p, EncapGTPU) {
		return false
	}
	if len(b) < 8 {
		p.Truncated = true
		return true
	}
	if n := 8 + int(binary.BigEndian.Uint16(b[2:4])); n <= len(b) {
		b = b[:n]
	}
	off := 8
	if b[0]&0x07 != 0 {
		if len(b) < 12 {
			p.Truncated = true
			return true
		}
		next := b[11]
		off = 12
		for next != 0 {
			if len(b) <= off {
				p.Truncated = true
				return true
			}
			n := int(b[off]) * 4
			if n == 0 {
				p.Malformed = true
				return true
			}
			if len(b) < off+n {
				p.Truncated = true
				return true
			}
			next = b[off+n-1]
			off += n
		}
	}
	if off == len(b) {
		p.L3 = L3NonIP // a G-PDU without a packet
		return true
	}
	decodeRawIP(b[off:], p)
	return true
}

// IPv6 extension headers that Decode steps over to find a tunnel.
const (
	ipv6HopByHop = 0
	ipv6Routing  = 43
	ipv6Fragment = 44
	ipv6AH       = 51
	ipv6DestOpts = 60
	// maxIPv6Ext bounds the extension headers stepped over; RFC 8200's
	// order allows at most 8 different ones before the upper layer.
	maxIPv6Ext = 8
)

// ipv6Tunnel looks past the IPv6 header of b (40 bytes, checked by the
// caller) and its extension headers for an encapsulation, and takes it off.
// A fragment is left as it is: IPv6 fragments are not reassembled.
func ipv6Tunnel(b []byte, p *Packet) {
	next := b[6]
	end := len(b)
	if n := 40 + int(binary.BigEndian.Uint16(b[4:6])); n > 40 && n < end {
		end = n // bytes past the payload length are link padding
	}
	b = b[40:end]
	for i := 0; ; i++ {
		switch next {
		case protoIPIP, protoIPv6, protoGRE:
			ipTunnel(next, b, p, false)
			return
		case 17:
			if len(b) >= 4 && tunnelPort(binary.BigEndian.Uint16(b[2:4])) {
				udpTunnel(b, p)
			}
			return
		case ipv6HopByHop, ipv6Routing, ipv6DestOpts, ipv6AH:
			if i == maxIPv6Ext || len(b) < 8 {
				return
			}
			n := (int(b[1]) + 1) * 8
			if next == ipv6AH {
				n = (int(b[1]) + 2) * 4
			}
			if len(b) < n {
				return
			}
			next, b = b[0], b[n:]
		default: // TCP, ICMPv6, a fragment, no next header, ...
			return
		}
	}
}

// routable reports whether a is an address the internet routes: an IPv4
// address outside every special-purpose block (SpecialRange), or an IPv6
// global unicast address outside unique local and documentation space.
func routable(a netip.Addr) bool {
	if a.Is4() {
		return SpecialRange(a) == ""
	}
	b := a.As16()
	return a.IsGlobalUnicast() && !a.IsPrivate() && !(b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) // 2001:db8::/32
}
