package main

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"log"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// gen tunnel-rewrap: the real frames of a VXLAN capture made by
// make-tunnel-fixtures.sh (dig, openssl s_client and curl through a Linux
// VXLAN tunnel), taken out of their VXLAN and put in the encapsulations this
// machine's kernel cannot make (it has no gre, gretap, erspan, geneve, ipip,
// sit or ip6tnl device), or in 802.11 behind radiotap or PPI. Each header is
// built from its specification, as the sender named in rewrapKinds sends it;
// the inner frames are the captured bytes, unchanged (IPv6 inside: see
// toIPv6). Timestamps are the VXLAN capture's, so the output depends on the
// input alone: rerun, it is byte for byte the same.

// Our addressing plan for the rewrapped captures: the tunnel's near end (the
// VM's side: the mirroring switch, the router, the eNodeB) and far end (the
// collector, the other router, the core's user plane). Nested tunnels take
// the next /24 for each layer (10.99.2.x, 10.99.3.x, ...).
var (
	nearMAC, farMAC = mac("02:99:01:00:00:01"), mac("02:99:01:00:00:02")
	near4, far4     = netip.MustParseAddr("10.99.1.1"), netip.MustParseAddr("10.99.1.2")
	near6, far6     = netip.MustParseAddr("2001:db8:99:1::1"), netip.MustParseAddr("2001:db8:99:1::2")
	// siitPrefix is the network-specific prefix (RFC 6052) the IPv6 inside
	// 6in4 and 6in6 is translated into: 192.168.56.10 is
	// 2001:db8:64::c0a8:380a. The well-known prefix 64:ff9b::/96 may not
	// hold private addresses (RFC 6052 section 3.1).
	siitPrefix = [12]byte{0x20, 0x01, 0x0d, 0xb8, 0, 0x64}
	// The PPTP server the VM's own VPN client talks to (a documentation
	// address), and the access point of the 802.11 captures.
	pptpServer = netip.MustParseAddr("198.51.100.7")
	apMAC      = mac("02:99:01:00:00:a0")
)

// rewrapKinds are the kinds gen tunnel-rewrap makes, each with its file in
// testdata/tunnels and how it wraps a frame.
var rewrapKinds = map[string]struct {
	file string
	lt   uint16
	wrap func(w *rewrapper, f innerFrame) [][]byte
}{
	"gre":           {"gre.pcap", LinkEthernet, (*rewrapper).gre},
	"gre-options":   {"gre-options.pcap", LinkEthernet, (*rewrapper).greOptions},
	"gretap":        {"gretap.pcap", LinkEthernet, (*rewrapper).gretap},
	"gre-in-gre":    {"gre-in-gre.pcap", LinkEthernet, (*rewrapper).greInGRE},
	"gre-udp":       {"gre-udp.pcap", LinkEthernet, (*rewrapper).greUDP},
	"pptp":          {"gre-pptp.pcap", LinkEthernet, (*rewrapper).pptp},
	"erspan1":       {"erspan-i.pcap", LinkEthernet, (*rewrapper).erspan1},
	"erspan2":       {"erspan-ii.pcap", LinkEthernet, (*rewrapper).erspan2},
	"erspan3":       {"erspan-iii.pcap", LinkEthernet, (*rewrapper).erspan3},
	"erspan3-dot1q": {"erspan-iii-dot1q.pcap", LinkEthernet, (*rewrapper).erspan3Dot1Q},
	"geneve":        {"geneve.pcap", LinkEthernet, (*rewrapper).geneve},
	"gtpu":          {"gtp-u.pcap", LinkEthernet, (*rewrapper).gtpu},
	"ipip":          {"ipip.pcap", LinkEthernet, (*rewrapper).ipip},
	"6in4":          {"6in4.pcap", LinkEthernet, (*rewrapper).sixIn4},
	"4in6":          {"4in6.pcap", LinkEthernet, (*rewrapper).fourIn6},
	"6in6":          {"6in6.pcap", LinkEthernet, (*rewrapper).sixIn6},
	"too-deep":      {"too-deep.pcap", LinkEthernet, (*rewrapper).tooDeep},
	"radiotap":      {"radiotap.pcap", 127, (*rewrapper).radiotap},
	"ppi":           {"ppi.pcap", 192, (*rewrapper).ppi},
}

// innerFrame is one Ethernet frame taken out of the VXLAN capture.
type innerFrame struct {
	ts     time.Time
	eth    []byte
	fromVM bool // sent by the VM (its MAC is the source)
}

// ip is the frame's IP packet (all of the VXLAN capture's frames are IPv4).
func (f innerFrame) ip() []byte { return f.eth[14:] }

// dns reports whether the frame is a UDP datagram to or from port 53, or a
// later fragment of one (the capture's only fragments are DNS answers).
func (f innerFrame) dns() bool {
	ip := f.ip()
	if ip[9] != 17 {
		return false
	}
	if binary.BigEndian.Uint16(ip[6:8])&0x1fff != 0 {
		return true
	}
	l4 := ip[int(ip[0]&0x0f)*4:]
	return binary.BigEndian.Uint16(l4[0:2]) == 53 || binary.BigEndian.Uint16(l4[2:4]) == 53
}

// rewrapper holds what a sender counts from one packet to the next.
type rewrapper struct {
	ids   map[netip.Addr]uint16 // next IPv4 identification per sender
	seqs  map[string]uint32     // GRE, ERSPAN and PPTP sequence numbers, 802.11 sequence numbers
	count int                   // frames wrapped so far
}

func (w *rewrapper) next(key string) uint32 {
	w.seqs[key]++
	return w.seqs[key]
}

// tunnelRewrap writes OUT.pcap: every frame of IN.pcap that is a whole VXLAN
// packet (not ARP on the underlay, not a fragment outside the tunnel), its
// Ethernet frame put in the encapsulation KIND names (see rewrapKinds and
// each wrapper's comment). KIND "all" writes every kind's file into the
// directory OUT.
func tunnelRewrap(args []string) error {
	usage := fmt.Errorf("usage: gen tunnel-rewrap KIND IN.pcap OUT.pcap (KIND one of %s), or all IN.pcap DIR",
		strings.Join(rewrapKindNames(), ", "))
	if len(args) != 3 {
		return usage
	}
	recs, lt, err := readPcap(args[1])
	if err != nil {
		return err
	}
	if lt != LinkEthernet {
		return fmt.Errorf("tunnel-rewrap: %s: link type %d, not Ethernet", args[1], lt)
	}
	frames := vxlanFrames(recs)
	if args[0] != "all" {
		if _, ok := rewrapKinds[args[0]]; !ok {
			return fmt.Errorf("tunnel-rewrap: unknown kind %q; %w", args[0], usage)
		}
		return rewrapTo(args[0], frames, args[2])
	}
	for _, kind := range rewrapKindNames() {
		path := filepath.Join(args[2], rewrapKinds[kind].file)
		if err := rewrapTo(kind, frames, path); err != nil {
			return err
		}
	}
	return nil
}

// rewrapTo writes frames in the encapsulation kind names to path.
func rewrapTo(kind string, frames []innerFrame, path string) error {
	k := rewrapKinds[kind]
	w := &rewrapper{ids: map[netip.Addr]uint16{}, seqs: map[string]uint32{}}
	var out []Record
	if kind == "radiotap" && len(frames) > 0 {
		// A monitor-mode capture starts with the access point's beacon.
		b := w.radiotapHeader(frames[0].ts, -40, w.beacon(frames[0].ts))
		out = append(out, Record{TS: frames[0].ts.Add(-100 * time.Microsecond), Data: b, LinkType: k.lt})
	}
	for _, f := range frames {
		for _, data := range k.wrap(w, f) {
			out = append(out, Record{TS: f.ts, Data: data, OrigLen: len(data), LinkType: k.lt})
		}
		w.count++
	}
	log.Printf("tunnel-rewrap %s: %d frames of %d to %s", kind, len(out), len(frames), path)
	return writePcap(path, k.lt, out, false)
}

func rewrapKindNames() []string {
	var names []string
	for n := range rewrapKinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// vxlanFrames takes the Ethernet frame out of each whole VXLAN packet:
// Ethernet(14) IPv4(20, no options, not a fragment) UDP(8) to 4789 or 8472,
// VXLAN(8).
func vxlanFrames(recs []Record) []innerFrame {
	vm := string(mac(vmMAC))
	var out []innerFrame
	for _, r := range recs {
		f := r.Data
		if len(f) < 14+20+8+8+14 || binary.BigEndian.Uint16(f[12:14]) != 0x0800 || f[14] != 0x45 || f[23] != 17 ||
			binary.BigEndian.Uint16(f[20:22])&0x3fff != 0 {
			continue
		}
		if p := binary.BigEndian.Uint16(f[36:38]); p != 4789 && p != 8472 {
			continue
		}
		eth := f[14+20+8+8 : 14+int(binary.BigEndian.Uint16(f[16:18]))]
		if binary.BigEndian.Uint16(eth[12:14]) != 0x0800 {
			continue
		}
		out = append(out, innerFrame{ts: r.TS, eth: eth, fromVM: string(eth[6:12]) == vm})
	}
	return out
}

// ends gives a routed tunnel's source and destination for f: near to far
// when the VM sent it, far to near when it comes back.
func ends(f innerFrame, near, far netip.Addr) (src, dst netip.Addr) {
	if f.fromVM {
		return near, far
	}
	return far, near
}

// layer returns the near and far ends of nested layer n (1 the outermost):
// 10.99.n.1 and 10.99.n.2.
func layer(n int) (netip.Addr, netip.Addr) {
	return netip.AddrFrom4([4]byte{10, 99, byte(n), 1}), netip.AddrFrom4([4]byte{10, 99, byte(n), 2})
}

// ether frames an IP packet between the tunnel's ends: from near's MAC to
// far's when src is a near end, the other way otherwise.
func ether(fromNear bool, et uint16, payload []byte) []byte {
	src, dst := nearMAC, farMAC
	if !fromNear {
		src, dst = farMAC, nearMAC
	}
	b := make([]byte, 0, 14+len(payload))
	b = append(append(append(b, dst...), src...), byte(et>>8), byte(et))
	return append(b, payload...)
}

// ipv4 is an IPv4 header (no options, TTL 64, DF when df, the sender's next
// identification) and payload, its checksum computed.
func (w *rewrapper) ipv4(src, dst netip.Addr, proto byte, df bool, payload []byte) []byte {
	w.ids[src]++
	b := make([]byte, 20, 20+len(payload))
	b[0], b[8], b[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(payload)))
	binary.BigEndian.PutUint16(b[4:], w.ids[src])
	if df {
		b[6] = 0x40
	}
	s, d := src.As4(), dst.As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	binary.BigEndian.PutUint16(b[10:], fold(csum(0, b)))
	return append(b, payload...)
}

// ipv6 is an IPv6 header (hop limit 64) and payload.
func ipv6(src, dst netip.Addr, next byte, payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	b[0], b[6], b[7] = 0x60, next, 64
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	s, d := src.As16(), dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return append(b, payload...)
}

// udp4 is a UDP datagram in IPv4 with its checksum (Linux computes the
// outer UDP checksum of VXLAN, Geneve and GRE in UDP over IPv4 when asked
// to: udpcsum).
func (w *rewrapper) udp4(src, dst netip.Addr, sport, dport uint16, payload []byte) []byte {
	u := make([]byte, 8, 8+len(payload))
	binary.BigEndian.PutUint16(u[0:], sport)
	binary.BigEndian.PutUint16(u[2:], dport)
	binary.BigEndian.PutUint16(u[4:], uint16(8+len(payload)))
	u = append(u, payload...)
	s, d := src.As4(), dst.As4()
	sum := csum(csum(0, s[:]), d[:]) + 17 + uint32(len(u))
	c := fold(csum(sum, u))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(u[6:], c)
	return w.ipv4(src, dst, 17, false, u)
}

// flowPort is a UDP source port from the inner packet's addresses and
// ports, as VXLAN, Geneve and GRE in UDP senders pick one (RFC 7348 section
// 5: a hash of the inner headers, in the dynamic range).
func flowPort(ip []byte) uint16 {
	h := crc32.ChecksumIEEE(ip[12:24])
	return uint16(49152 + h%16384)
}

// GRE flags (RFC 2784, 2890) and the protocol types the wrappers send.
const (
	greC, greK, greS = 0x80, 0x20, 0x10
	greIPv4          = 0x0800
	greIPv6          = 0x86dd
	greTEB           = 0x6558
	greERSPAN        = 0x88be
	greERSPAN3       = 0x22eb
	grePPP           = 0x880b
)

// greHdr is a GRE version 0 header with the options flags names, then
// payload; the checksum, when asked for, covers header and payload.
func greHdr(flags byte, proto uint16, key, seq uint32, payload []byte) []byte {
	b := []byte{flags, 0, byte(proto >> 8), byte(proto)}
	if flags&greC != 0 {
		b = append(b, 0, 0, 0, 0)
	}
	if flags&greK != 0 {
		b = binary.BigEndian.AppendUint32(b, key)
	}
	if flags&greS != 0 {
		b = binary.BigEndian.AppendUint32(b, seq)
	}
	b = append(b, payload...)
	if flags&greC != 0 {
		binary.BigEndian.PutUint16(b[4:], fold(csum(0, b)))
	}
	return b
}

// gre: each IP packet in GRE version 0 with no options (RFC 2784's 4-byte
// header, Linux "ip tunnel add ... mode gre" without key), protocol 0x0800,
// between two routers: 10.99.1.1 towards the servers, 10.99.1.2 back, DF set.
func (w *rewrapper) gre(f innerFrame) [][]byte {
	src, dst := ends(f, near4, far4)
	return [][]byte{ether(f.fromVM, 0x0800, w.ipv4(src, dst, 47, true, greHdr(0, greIPv4, 0, 0, f.ip())))}
}

// greOptions: as gre, the i-th frame with GRE options i%7+1 of checksum,
// key (42) and sequence number (per direction): every combination of the
// three in turn.
func (w *rewrapper) greOptions(f innerFrame) [][]byte {
	src, dst := ends(f, near4, far4)
	var flags byte
	opts := w.count%7 + 1
	if opts&1 != 0 {
		flags |= greC
	}
	if opts&2 != 0 {
		flags |= greK
	}
	if opts&4 != 0 {
		flags |= greS
	}
	seq := w.next("gre " + src.String())
	return [][]byte{ether(f.fromVM, 0x0800, w.ipv4(src, dst, 47, true, greHdr(flags, greIPv4, 42, seq, f.ip())))}
}

// gretap: each Ethernet frame in GRE with key 7 and protocol 0x6558
// (transparent Ethernet bridging), as Linux gretap sends what "tc ... mirred
// egress mirror dev gretap0" mirrors to it, from 10.99.1.1 to the collector
// 10.99.1.2 over a path of MTU 1400 with DF clear ("nopmtudisc"): the
// packets over 1400 bytes go in two fragments.
func (w *rewrapper) gretap(f innerFrame) [][]byte {
	return w.fragment(ether(true, 0x0800, w.ipv4(near4, far4, 47, false, greHdr(greK, greTEB, 7, 0, f.eth))), 1400)
}

// fragment cuts the IPv4 packet of Ethernet frame e into fragments of at
// most mtu bytes, as a router does (RFC 791): the data in multiples of 8
// bytes, MF on all but the last, each header's checksum computed.
func (w *rewrapper) fragment(e []byte, mtu int) [][]byte {
	ip := e[14:]
	if len(ip) <= mtu {
		return [][]byte{e}
	}
	hdr, data := ip[:20], ip[20:]
	step := (mtu - 20) &^ 7
	var out [][]byte
	for off := 0; off < len(data); off += step {
		end := min(off+step, len(data))
		h := append([]byte(nil), hdr...)
		binary.BigEndian.PutUint16(h[2:], uint16(20+end-off))
		fo := uint16(off / 8)
		if end < len(data) {
			fo |= 0x2000
		}
		binary.BigEndian.PutUint16(h[6:], fo)
		h[10], h[11] = 0, 0
		binary.BigEndian.PutUint16(h[10:], fold(csum(0, h)))
		out = append(out, append(append(append([]byte(nil), e[:14]...), h...), data[off:end]...))
	}
	return out
}

// greInGRE: each IP packet in GRE with key 1 between 10.99.2.1 and
// 10.99.2.2, itself carried in GRE (no options) between 10.99.1.1 and
// 10.99.1.2: a tunnel routed through another.
func (w *rewrapper) greInGRE(f innerFrame) [][]byte {
	in1, in2 := ends(f, netip.MustParseAddr("10.99.2.1"), netip.MustParseAddr("10.99.2.2"))
	inner := w.ipv4(in1, in2, 47, true, greHdr(greK, greIPv4, 1, 0, f.ip()))
	src, dst := ends(f, near4, far4)
	return [][]byte{ether(f.fromVM, 0x0800, w.ipv4(src, dst, 47, true, greHdr(0, greIPv4, 0, 0, inner)))}
}

// greUDP: each IP packet in GRE (no options) in UDP to port 4754 (RFC
// 8086), the source port a hash of the inner packet's addresses.
func (w *rewrapper) greUDP(f innerFrame) [][]byte {
	src, dst := ends(f, near4, far4)
	return [][]byte{ether(f.fromVM, 0x0800, w.udp4(src, dst, flowPort(f.ip()), 4754, greHdr(0, greIPv4, 0, 0, f.ip())))}
}

// pptp: the DNS packets (a handful) as the VM's own PPTP client sends them
// to its VPN server 198.51.100.7: in PPP (address 0xff, control 0x03,
// protocol 0x0021) in enhanced GRE, version 1 (RFC 2637 section 4.1: key
// present holding the payload length and the peer's call ID, a sequence
// number, and from the server an acknowledgement). Decode leaves this GRE
// on: the VM's flow is the one to the VPN server.
func (w *rewrapper) pptp(f innerFrame) [][]byte {
	if !f.dns() {
		return nil
	}
	src, dst, call := netip.MustParseAddr("192.168.56.10"), pptpServer, uint16(0x4a01)
	flags1 := byte(0x01) // version 1
	if !f.fromVM {
		src, dst, call = pptpServer, src, 0x0c39
		flags1 |= 0x80 // A: an acknowledgement follows the sequence number
	}
	ppp := append([]byte{0xff, 0x03, 0x00, 0x21}, f.ip()...)
	b := []byte{greK | greS, flags1, grePPP >> 8, grePPP & 0xff}
	b = binary.BigEndian.AppendUint16(b, uint16(len(ppp)))
	b = binary.BigEndian.AppendUint16(b, call)
	b = binary.BigEndian.AppendUint32(b, w.next("pptp "+src.String()))
	if !f.fromVM {
		b = binary.BigEndian.AppendUint32(b, w.seqs["pptp 192.168.56.10"])
	}
	b = append(b, ppp...)
	e := append(append(append([]byte(nil), mac(gatewayMAC)...), mac(vmMAC)...), 0x08, 0x00)
	if !f.fromVM {
		e = append(append(append([]byte(nil), mac(vmMAC)...), mac(gatewayMAC)...), 0x08, 0x00)
	}
	return [][]byte{append(e, w.ipv4(src, dst, 47, true, b)...)}
}

// The ERSPAN session the mirror sends (Cisco's ERSPAN, IETF draft
// draft-foschiano-erspan-03): session 100, from the switch 10.99.1.1 to the
// collector 10.99.1.2, DF clear.
const erspanSession = 100

// erspan1: each Ethernet frame in ERSPAN type I: GRE protocol 0x88be
// without a sequence number (or any option), the frame right after it.
func (w *rewrapper) erspan1(f innerFrame) [][]byte {
	return [][]byte{ether(true, 0x0800, w.ipv4(near4, far4, 47, false, greHdr(0, greERSPAN, 0, 0, f.eth)))}
}

// erspan2: each Ethernet frame in GRE with a sequence number, protocol
// 0x88be, and an ERSPAN type II header (version 1, VLAN 0, session 100,
// index 0).
func (w *rewrapper) erspan2(f innerFrame) [][]byte {
	seq := w.next("erspan")
	h := []byte{0x10, 0x00, 0x00, erspanSession, 0, 0, 0, 0}
	return [][]byte{ether(true, 0x0800, w.ipv4(near4, far4, 47, false, greHdr(greS, greERSPAN, 0, seq, append(h, f.eth...))))}
}

// erspan3: each Ethernet frame in GRE with a sequence number, protocol
// 0x22eb, and an ERSPAN type III header (version 2, VLAN 0, session 100,
// the capture time in microseconds, SGT 0, frame type 0: Ethernet, no
// platform subheader).
func (w *rewrapper) erspan3(f innerFrame) [][]byte {
	return w.erspan3Frame(f.ts, f.eth, 0, false)
}

// erspan3Dot1Q: as erspan3, of a trunk port: each frame tagged 802.1Q with
// VLAN 56 (priority 0) and the ERSPAN header's VLAN 56, and the optional
// platform subheader (O set; platform ID 3, port index 1).
func (w *rewrapper) erspan3Dot1Q(f innerFrame) [][]byte {
	tagged := append(append(append([]byte(nil), f.eth[:12]...), 0x81, 0x00, 0x00, 56), f.eth[12:]...)
	return w.erspan3Frame(f.ts, tagged, 56, true)
}

func (w *rewrapper) erspan3Frame(ts time.Time, frame []byte, vlan uint16, platform bool) [][]byte {
	seq := w.next("erspan")
	h := []byte{0x20 | byte(vlan>>8&0x0f), byte(vlan), 0x00, erspanSession}
	h = binary.BigEndian.AppendUint32(h, uint32(ts.UnixMicro()))
	h = append(h, 0, 0, 0, 0) // SGT 0; P 0, FT 0 (Ethernet), HW ID 0, D 0, Gra 0, O
	if platform {
		h[11] |= 1
		// Platf ID 3 (6 bits), reserved, port ID/index 1, then the upper
		// 32 bits of a timestamp: 0.
		h = append(h, 3<<2, 0, 0, 1, 0, 0, 0, 0)
	}
	return [][]byte{ether(true, 0x0800, w.ipv4(near4, far4, 47, false, greHdr(greS, greERSPAN3, 0, seq, append(h, frame...))))}
}

// geneve: each Ethernet frame in Geneve (RFC 8926) between two hosts of a
// virtual network (OVN's): UDP to port 6081, VNI 42, protocol 0x6558, and
// two options, OVN's (class 0x0102, type 0x80, 4 bytes: the logical ports)
// and one of class 0x0101 (Open vSwitch) with 8 bytes.
func (w *rewrapper) geneve(f innerFrame) [][]byte {
	src, dst := ends(f, near4, far4)
	opts := []byte{0x01, 0x02, 0x80, 0x01, 0x00, 0x01, 0x00, 0x02}
	opts = append(opts, 0x01, 0x01, 0x01, 0x02, 0, 0, 0, 0, 0, 0, 0, 7)
	h := []byte{byte(len(opts) / 4), 0, greTEB >> 8, greTEB & 0xff, 0, 0, 42, 0}
	return [][]byte{ether(f.fromVM, 0x0800, w.udp4(src, dst, flowPort(f.ip()), 6081, append(append(h, opts...), f.eth...)))}
}

// gtpu: each IP packet as a 5G user plane carries it over N3 (3GPP TS
// 29.281): UDP 2152 to 2152, a GTP-U G-PDU (version 1, PT, E set; type
// 255), TEID 0x1001 uplink and 0x2001 downlink, and a PDU Session
// Container extension header (type 0x85, TS 38.415: UL PDU session
// information, QFI 9, uplink; DL, QFI 9, downlink), between the gNodeB
// 10.99.1.1 and the UPF 10.99.1.2.
func (w *rewrapper) gtpu(f innerFrame) [][]byte {
	src, dst := ends(f, near4, far4)
	teid, pdu := uint32(0x2001), byte(0x00)
	if f.fromVM {
		teid, pdu = 0x1001, 0x10
	}
	ext := []byte{0, 0, 0, 0x85, 1, pdu, 9, 0} // sequence 0, N-PDU 0, next 0x85; length 1, PDU type, QFI, next none
	g := []byte{0x34, 0xff, 0, 0}
	binary.BigEndian.PutUint16(g[2:], uint16(len(ext)+len(f.ip())))
	g = binary.BigEndian.AppendUint32(g, teid)
	g = append(append(g, ext...), f.ip()...)
	return [][]byte{ether(f.fromVM, 0x0800, w.udp4(src, dst, 2152, 2152, g))}
}

// ipip: each IP packet in IPv4 (protocol 4, RFC 2003), as Linux "ip tunnel
// add ... mode ipip" sends it (DF copied from the inner header).
func (w *rewrapper) ipip(f innerFrame) [][]byte {
	src, dst := ends(f, near4, far4)
	return [][]byte{ether(f.fromVM, 0x0800, w.ipv4(src, dst, 4, f.ip()[6]&0x40 != 0, f.ip()))}
}

// sixIn4: each IP packet translated to IPv6 (toIPv6), in IPv4 (protocol 41,
// RFC 4213), as Linux sit sends it.
func (w *rewrapper) sixIn4(f innerFrame) [][]byte {
	src, dst := ends(f, near4, far4)
	return [][]byte{ether(f.fromVM, 0x0800, w.ipv4(src, dst, 41, true, toIPv6(f.ip())))}
}

// encapLimit is the destination options header Linux ip6tnl puts before
// the inner packet (RFC 2473 section 5.1: Tunnel Encapsulation Limit 4,
// then PadN), next header next.
func encapLimit(next byte) []byte { return []byte{next, 0, 4, 1, 4, 1, 1, 0} }

// fourIn6: each IP packet in IPv6 (RFC 2473), as Linux ip6tnl in mode
// ipip6 sends it: a destination options header with the tunnel
// encapsulation limit, then next header 4.
func (w *rewrapper) fourIn6(f innerFrame) [][]byte {
	src, dst := ends(f, near6, far6)
	return [][]byte{ether(f.fromVM, 0x86dd, ipv6(src, dst, 60, append(encapLimit(4), f.ip()...)))}
}

// sixIn6: each IP packet translated to IPv6 (toIPv6), in IPv6 (next header
// 41, RFC 2473), as ip6tnl sends it with "encaplimit none".
func (w *rewrapper) sixIn6(f innerFrame) [][]byte {
	src, dst := ends(f, near6, far6)
	return [][]byte{ether(f.fromVM, 0x86dd, ipv6(src, dst, 41, toIPv6(f.ip())))}
}

// tooDeep: the DNS packets, the first exchange (a query and its answer)
// nested five deep, past the decoder's bound of four, the others four deep:
// GRE (layer 1), IPv4 in IPv4 (layer 2), VXLAN (layer 3, VNI 3), Geneve
// carrying IPv4 (layer 4), then, five deep, GTP-U (layer 5, no extension
// header).
func (w *rewrapper) tooDeep(f innerFrame) [][]byte {
	if !f.dns() {
		return nil
	}
	depth := 4
	if w.next("deep") <= 2 {
		depth = 5
	}
	p := f.ip()
	for n := depth; n >= 1; n-- {
		a, b := layer(n)
		src, dst := ends(f, a, b)
		switch n {
		case 5:
			g := []byte{0x30, 0xff, byte(len(p) >> 8), byte(len(p)), 0, 0, 0, 5}
			p = w.udp4(src, dst, 2152, 2152, append(g, p...))
		case 4:
			h := []byte{0, 0, 0x08, 0x00, 0, 0, 4, 0}
			p = w.udp4(src, dst, flowPort(p), 6081, append(h, p...))
		case 3:
			h := []byte{0x08, 0, 0, 0, 0, 0, 3, 0}
			p = w.udp4(src, dst, flowPort(p), 4789, append(h, ether(f.fromVM, 0x0800, p)...))
		case 2:
			p = w.ipv4(src, dst, 4, false, p)
		case 1:
			p = w.ipv4(src, dst, 47, false, greHdr(0, greIPv4, 0, 0, p))
		}
	}
	return [][]byte{ether(f.fromVM, 0x0800, p)}
}

// toIPv6 translates an IPv4 packet to IPv6 as a SIIT translator does (RFC
// 7915 section 5.1), the addresses mapped into siitPrefix: the traffic class
// from the TOS, the hop limit from the TTL, a fragment header for a fragment
// (its identification the IPv4 one), and the TCP or UDP checksum (in a first
// or only fragment) adjusted for the new pseudo-header (RFC 1624).
func toIPv6(ip []byte) []byte {
	ihl := int(ip[0]&0x0f) * 4
	tot := int(binary.BigEndian.Uint16(ip[2:4]))
	proto := ip[9]
	frag := binary.BigEndian.Uint16(ip[6:8])
	payload := append([]byte(nil), ip[ihl:tot]...)
	var src, dst [16]byte
	copy(src[:], siitPrefix[:])
	copy(dst[:], siitPrefix[:])
	copy(src[12:], ip[12:16])
	copy(dst[12:], ip[16:20])
	if frag&0x1fff == 0 && (proto == 6 || proto == 17) {
		at := 16
		if proto == 17 {
			at = 6
		}
		// The one's complement sum changes by the new addresses less the
		// old: the length and protocol terms are the same in both.
		old := ^binary.BigEndian.Uint16(payload[at:])
		sum := uint32(old)
		for i := 12; i < 20; i += 2 {
			sum += uint32(^binary.BigEndian.Uint16(ip[i:]))
		}
		sum = csum(csum(sum, src[:]), dst[:])
		c := fold(sum)
		if c == 0 && proto == 17 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(payload[at:], c)
	}
	next := proto
	if frag&0x3fff != 0 { // MF or an offset: a fragment
		fh := []byte{proto, 0, 0, 0}
		binary.BigEndian.PutUint16(fh[2:], (frag&0x1fff)<<3|(frag>>13)&1)
		fh = binary.BigEndian.AppendUint32(fh, uint32(binary.BigEndian.Uint16(ip[4:6])))
		payload = append(fh, payload...)
		next = 44
	}
	b := ipv6(netip.AddrFrom16(src), netip.AddrFrom16(dst), next, payload)
	b[0] |= ip[1] >> 4
	b[1] = ip[1] << 4
	b[7] = ip[8]
	return b
}

// radiotap: each Ethernet frame as an 802.11 QoS data frame (TID 0) between
// the VM, a station, and the access point 02:99:01:00:00:a0, which bridges
// to the gateway: To DS from the VM, From DS to it; the body an LLC/SNAP
// header (RFC 1042) and the frame's payload; the FCS at the end. Behind a
// radiotap header (TSFT, Flags with "FCS at end", Rate 54 Mb/s, Channel 6,
// antenna signal, antenna), as a monitor-mode interface captures. The
// capture starts with the access point's beacon (SSID "phonehome-lab").
func (w *rewrapper) radiotap(f innerFrame) [][]byte {
	signal := int8(-40)
	if f.fromVM {
		signal = -48
	}
	d := w.wlanData(f, true)
	d = binary.LittleEndian.AppendUint32(d, crc32.ChecksumIEEE(d))
	return [][]byte{w.radiotapHeader(f.ts, signal, d)}
}

func (w *rewrapper) radiotapHeader(ts time.Time, signal int8, frame []byte) []byte {
	b := []byte{0, 0, 24, 0}
	b = binary.LittleEndian.AppendUint32(b, 1<<0|1<<1|1<<2|1<<3|1<<5|1<<11)
	b = binary.LittleEndian.AppendUint64(b, tsft(ts))
	b = append(b, 0x10, 108)                        // Flags: FCS at end; Rate: 54 Mb/s in 500 kb/s
	b = binary.LittleEndian.AppendUint16(b, 2437)   // Channel 6
	b = binary.LittleEndian.AppendUint16(b, 0x00c0) // 2 GHz, OFDM
	b = append(b, byte(signal), 0)                  // antenna signal (dBm), antenna 0
	return append(b, frame...)
}

// tsft is the access point's timer: microseconds since the capture's day began.
func tsft(ts time.Time) uint64 {
	return uint64(ts.Sub(ts.Truncate(24 * time.Hour)).Microseconds())
}

// wlanData is f's Ethernet frame as an 802.11 data frame (IEEE 802.11-2020
// section 9.3.2.1), a QoS one when qos, its sequence number counted per
// transmitter.
func (w *rewrapper) wlanData(f innerFrame, qos bool) []byte {
	fc := byte(0x08)
	if qos {
		fc = 0x88
	}
	var h []byte
	sa, da := f.eth[6:12], f.eth[0:6]
	if f.fromVM { // To DS: BSSID, SA, DA
		h = append([]byte{fc, 0x01, 0x2c, 0}, apMAC...)
		h = append(append(h, sa...), da...)
	} else { // From DS: DA, BSSID, SA
		h = append([]byte{fc, 0x02, 0x2c, 0}, da...)
		h = append(append(h, apMAC...), sa...)
	}
	seq := w.next("wlan " + string(h[10:16]))
	h = binary.LittleEndian.AppendUint16(h, uint16(seq&0xfff)<<4)
	if qos {
		h = append(h, 0, 0)
	}
	h = append(h, 0xaa, 0xaa, 0x03, 0, 0, 0)
	return append(h, f.eth[12:]...)
}

// beacon is the access point's beacon: open network "phonehome-lab" on
// channel 6, 802.11g rates.
func (w *rewrapper) beacon(ts time.Time) []byte {
	h := []byte{0x80, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	h = append(append(h, apMAC...), apMAC...)
	h = binary.LittleEndian.AppendUint16(h, uint16(w.next("wlan "+string(apMAC))&0xfff)<<4)
	h = binary.LittleEndian.AppendUint64(h, tsft(ts))
	h = append(h, 100, 0, 0x01, 0x04) // interval 100 TU; capability ESS, short slot time
	h = append(h, 0, 13)
	h = append(h, "phonehome-lab"...)
	h = append(h, 1, 8, 0x82, 0x84, 0x8b, 0x96, 0x0c, 0x12, 0x18, 0x24) // rates
	h = append(h, 3, 1, 6)                                              // DS parameter set: channel 6
	return binary.LittleEndian.AppendUint32(h, crc32.ChecksumIEEE(h))
}

// ppi: each Ethernet frame as an 802.11 data frame (not QoS, no FCS) behind
// a PPI header (CACE's Per-Packet Information, version 0) naming link type
// 105 with one 802.11-Common field (TSFT, rate 54 Mb/s, channel 6, signal
// and noise), as AirPcap and Kismet write.
func (w *rewrapper) ppi(f innerFrame) [][]byte {
	signal := int8(-40)
	if f.fromVM {
		signal = -48
	}
	b := []byte{0, 0, 32, 0, 105, 0, 0, 0, 2, 0, 20, 0}
	b = binary.LittleEndian.AppendUint64(b, tsft(f.ts))
	b = binary.LittleEndian.AppendUint16(b, 0)      // flags
	b = binary.LittleEndian.AppendUint16(b, 108)    // rate, 500 kb/s
	b = binary.LittleEndian.AppendUint16(b, 2437)   // channel 6
	b = binary.LittleEndian.AppendUint16(b, 0x00c0) // 2 GHz, OFDM
	b = append(b, 0, 0, byte(signal), byte(0xa1))   // FHSS hop set and pattern; signal; noise -95 dBm
	return [][]byte{append(b, w.wlanData(f, false)...)}
}
