package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"time"
)

// pkt is one frame between the rewrite and the encapsulation: an IP packet
// (rewritten) or a non-IP Ethernet frame (ARP).
type pkt struct {
	TS               time.Time
	IP               []byte // IPv4 or IPv6 packet; nil for non-IP
	EthType          uint16
	NonIP            []byte // whole Ethernet frame for non-IP
	Step             string
	OrigSrc, OrigDst netip.AddrPort // before the rewrite (transport ports for TCP/UDP)
}

type rewriteOpts struct {
	Steps  map[string]bool // nil = all
	Start  time.Time
	At     map[string]time.Duration
	Mangle string // "", "reorder", "dup"
}

var addrMap = func() map[netip.Addr]netip.Addr {
	m := map[netip.Addr]netip.Addr{}
	for _, z := range zone {
		m[netip.MustParseAddr(z.loop)] = netip.MustParseAddr(z.pub)
	}
	for k, v := range extraAddrs {
		m[netip.MustParseAddr(k)] = netip.MustParseAddr(v)
	}
	return m
}()

func mapAddr(a netip.Addr) (netip.Addr, error) {
	if b, ok := addrMap[a]; ok {
		return b, nil
	}
	return a, fmt.Errorf("no public address for %s", a)
}

// l3 returns the network-layer packet and its protocol of a captured frame.
func l3(lt uint16, f []byte) (uint16, []byte, error) {
	switch lt {
	case LinkEthernet:
		if len(f) < 14 {
			return 0, nil, fmt.Errorf("short frame")
		}
		return binary.BigEndian.Uint16(f[12:]), f[14:], nil
	case LinkSLL:
		if len(f) < 16 {
			return 0, nil, fmt.Errorf("short frame")
		}
		return binary.BigEndian.Uint16(f[14:]), f[16:], nil
	case LinkSLL2:
		if len(f) < 20 {
			return 0, nil, fmt.Errorf("short frame")
		}
		return binary.BigEndian.Uint16(f[0:]), f[20:], nil
	}
	return 0, nil, fmt.Errorf("link type %d not handled", lt)
}

func csum(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	return ^uint16(sum)
}

// fixChecksums recomputes the IPv4 header checksum and the TCP/UDP checksum.
func fixChecksums(ip []byte) {
	var proto byte
	var l4 []byte
	var pseudo uint32
	if ip[0]>>4 == 4 {
		ihl := int(ip[0]&0x0f) * 4
		ip[10], ip[11] = 0, 0
		binary.BigEndian.PutUint16(ip[10:], fold(csum(0, ip[:ihl])))
		proto = ip[9]
		tot := int(binary.BigEndian.Uint16(ip[2:]))
		l4 = ip[ihl:tot]
		pseudo = csum(0, ip[12:20])
	} else {
		proto = ip[6]
		l4 = ip[40 : 40+int(binary.BigEndian.Uint16(ip[4:]))]
		pseudo = csum(0, ip[8:40])
	}
	pseudo += uint32(proto) + uint32(len(l4))
	switch proto {
	case 6:
		l4[16], l4[17] = 0, 0
		binary.BigEndian.PutUint16(l4[16:], fold(csum(pseudo, l4)))
	case 17:
		l4[6], l4[7] = 0, 0
		c := fold(csum(pseudo, l4))
		if c == 0 {
			c = 0xffff
		}
		binary.BigEndian.PutUint16(l4[6:], c)
	}
}

// ipInfo decodes addresses, protocol and ports of an IP packet.
type ipInfo struct {
	V6       bool
	Src, Dst netip.Addr
	Proto    byte
	SP, DP   uint16
	L4       []byte // transport header + payload
	HdrLen   int    // IP header length
}

func decodeIP(ip []byte) (ipInfo, error) {
	var in ipInfo
	if len(ip) < 20 {
		return in, fmt.Errorf("short IP packet")
	}
	switch ip[0] >> 4 {
	case 4:
		in.HdrLen = int(ip[0]&0x0f) * 4
		in.Src = netip.AddrFrom4([4]byte(ip[12:16]))
		in.Dst = netip.AddrFrom4([4]byte(ip[16:20]))
		in.Proto = ip[9]
		in.L4 = ip[in.HdrLen:int(binary.BigEndian.Uint16(ip[2:]))]
	case 6:
		in.V6, in.HdrLen = true, 40
		in.Src = netip.AddrFrom16([16]byte(ip[8:24]))
		in.Dst = netip.AddrFrom16([16]byte(ip[24:40]))
		in.Proto = ip[6]
		in.L4 = ip[40 : 40+int(binary.BigEndian.Uint16(ip[4:]))]
	default:
		return in, fmt.Errorf("not IP")
	}
	if (in.Proto == 6 || in.Proto == 17) && len(in.L4) >= 8 {
		in.SP = binary.BigEndian.Uint16(in.L4)
		in.DP = binary.BigEndian.Uint16(in.L4[2:])
	}
	return in, nil
}

// tcpPayload returns the TCP payload of a decoded packet.
func (in ipInfo) tcpPayload() []byte {
	if in.Proto != 6 || len(in.L4) < 20 {
		return nil
	}
	return in.L4[int(in.L4[12]>>4)*4:]
}

// rewrite turns the namespace capture into the VM host's view.
func rewrite(recs []Record, o rewriteOpts) ([]pkt, error) {
	var out []pkt
	step := ""
	var stepT0 time.Time
	for _, r := range recs {
		et, ipb, err := l3(r.LinkType, r.Data)
		if err != nil {
			return nil, err
		}
		if et != 0x0800 && et != 0x86dd {
			continue // nothing else travels on the namespace's lo
		}
		ip := append([]byte(nil), ipb...)
		in, err := decodeIP(ip)
		if err != nil {
			return nil, err
		}
		if in.Proto == 17 && in.Dst.String() == loopMarker && in.DP == 9 {
			step = strings.TrimPrefix(string(in.L4[8:]), "PHMARK ")
			stepT0 = time.Time{}
			continue
		}
		if step == "" || step == "END" || (o.Steps != nil && !o.Steps[step]) {
			continue
		}
		if in.Proto == 1 || in.Proto == 58 {
			continue
		}
		if stepT0.IsZero() {
			stepT0 = r.TS
		}
		p := pkt{Step: step, EthType: et,
			TS:      o.Start.Add(o.At[step]).Add(r.TS.Sub(stepT0)),
			OrigSrc: netip.AddrPortFrom(in.Src, in.SP), OrigDst: netip.AddrPortFrom(in.Dst, in.DP)}
		if in.V6 {
			if in.Src != netip.IPv6Loopback() || in.Dst != netip.IPv6Loopback() {
				return nil, fmt.Errorf("unexpected IPv6 %s > %s", in.Src, in.Dst)
			}
			vm, srv := netip.MustParseAddr(vm6).As16(), netip.MustParseAddr(server6).As16()
			if in.SP == 443 || in.SP == 80 {
				copy(ip[8:], srv[:])
				copy(ip[24:], vm[:])
			} else {
				copy(ip[8:], vm[:])
				copy(ip[24:], srv[:])
			}
		} else {
			s, err1 := mapAddr(in.Src)
			d, err2 := mapAddr(in.Dst)
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("step %s: %v %v", step, err1, err2)
			}
			s4, d4 := s.As4(), d.As4()
			copy(ip[12:], s4[:])
			copy(ip[16:], d4[:])
			// DNS answers: A records follow the same map.
			if in.SP == 53 {
				in, _ = decodeIP(ip)
				var msg []byte
				if in.Proto == 17 {
					msg = in.L4[8:]
				} else if pl := in.tcpPayload(); len(pl) > 2 && int(binary.BigEndian.Uint16(pl)) == len(pl)-2 {
					msg = pl[2:]
				} else if len(pl) > 0 {
					return nil, fmt.Errorf("step %s: DNS over TCP split across segments, not handled", step)
				}
				if msg != nil {
					if _, err := rewriteA(msg, mapAddr); err != nil {
						return nil, fmt.Errorf("step %s: DNS answer: %v", step, err)
					}
				}
			}
		}
		// TTL / hop limit as a VM host sees them: Windows starts at 128,
		// the LAN hosts (Linux) at 64, Internet servers arrive with ~52.
		ttl := byte(52)
		osrc := p.OrigSrc.Addr().String()
		switch {
		case osrc == loopVM || in.V6 && in.SP != 443 && in.SP != 80:
			ttl = 128
		case osrc == loopDNS || osrc == loopLAN:
			ttl = 64
		}
		if in.V6 {
			ip[7] = ttl
		} else {
			ip[8] = ttl
		}
		fixChecksums(ip)
		p.IP = ip
		out = append(out, p)
	}
	switch o.Mangle {
	case "reorder", "dup":
		if err := mangle(out, o.Mangle, &out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// mangle finds the first ClientHello sent in two TCP segments and either
// swaps the two segments (reorder) or sends the first one again right after
// the second (dup: a retransmission with a new IP ID).
func mangle(ps []pkt, mode string, out *[]pkt) error {
	var idx []int
	for i, p := range ps {
		in, _ := decodeIP(p.IP)
		if pl := in.tcpPayload(); len(pl) > 0 && in.DP == 443 {
			idx = append(idx, i)
			if len(idx) == 2 {
				break
			}
		}
	}
	if len(idx) != 2 {
		return fmt.Errorf("mangle: no two-segment ClientHello")
	}
	a, b := idx[0], idx[1]
	if mode == "reorder" {
		ps[a].IP, ps[b].IP = ps[b].IP, ps[a].IP
		return nil
	}
	dup := ps[a]
	dup.IP = append([]byte(nil), ps[a].IP...)
	id := binary.BigEndian.Uint16(dup.IP[4:])
	binary.BigEndian.PutUint16(dup.IP[4:], id+7)
	fixChecksums(dup.IP)
	next := ps[b].TS.Add(200 * time.Microsecond)
	if b+1 < len(ps) && ps[b+1].TS.Before(next) {
		next = ps[b].TS.Add(ps[b+1].TS.Sub(ps[b].TS) / 2)
	}
	dup.TS = next
	res := append([]pkt(nil), ps[:b+1]...)
	res = append(res, dup)
	res = append(res, ps[b+1:]...)
	*out = res
	return nil
}

// arpFrames: the VM asks for its gateway's MAC, the gateway answers.
func arpFrames(t time.Time) []pkt {
	mk := func(op uint16, smac, sip, tmac, tip, dst string) []byte {
		f := make([]byte, 0, 60)
		f = append(f, mac(dst)...)
		f = append(f, mac(smac)...)
		f = append(f, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, byte(op>>8), byte(op))
		f = append(f, mac(smac)...)
		f = append(f, netip.MustParseAddr(sip).AsSlice()...)
		f = append(f, mac(tmac)...)
		f = append(f, netip.MustParseAddr(tip).AsSlice()...)
		for len(f) < 60 {
			f = append(f, 0)
		}
		return f
	}
	return []pkt{
		{TS: t, EthType: 0x0806, Step: "arp", NonIP: mk(1, vmMAC, "192.168.56.10", "00:00:00:00:00:00", "192.168.56.1", "ff:ff:ff:ff:ff:ff")},
		{TS: t.Add(412 * time.Microsecond), EthType: 0x0806, Step: "arp", NonIP: mk(2, gatewayMAC, "192.168.56.1", vmMAC, "192.168.56.10", vmMAC)},
	}
}

func mac(s string) []byte {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func macFor(a netip.Addr) []byte {
	switch a.String() {
	case "192.168.56.10", vm6:
		return mac(vmMAC)
	case "192.168.56.20":
		return mac(lanMAC)
	}
	return mac(gatewayMAC)
}

func isFromVM(in ipInfo) bool {
	return in.Src.String() == "192.168.56.10" || in.Src.String() == vm6
}

// encap wraps a packet for an output link type.
func encap(p pkt, kind string) (uint16, []byte) {
	if p.IP == nil {
		return LinkEthernet, p.NonIP
	}
	in, _ := decodeIP(p.IP)
	eth := func(tags ...[2]uint16) []byte {
		h := append(append([]byte(nil), macFor(in.Dst)...), macFor(in.Src)...)
		for _, t := range tags {
			h = binary.BigEndian.AppendUint16(h, t[0])
			h = binary.BigEndian.AppendUint16(h, t[1])
		}
		h = binary.BigEndian.AppendUint16(h, p.EthType)
		f := append(h, p.IP...)
		// Frames that came in from the VM's NIC are padded to the Ethernet
		// minimum (60 bytes without FCS); those the host sends are not.
		// Decoders must trust the IP total length, not the frame length.
		for isFromVM(in) && len(f) < 60 {
			f = append(f, 0)
		}
		return f
	}
	switch kind {
	case "eth":
		return LinkEthernet, eth()
	case "vlan":
		return LinkEthernet, eth([2]uint16{0x8100, 56})
	case "qinq":
		return LinkEthernet, eth([2]uint16{0x88a8, 100}, [2]uint16{0x8100, 56})
	case "raw":
		return LinkRaw, p.IP
	case "ipv4":
		return LinkIPv4, p.IP
	case "null":
		af := uint32(2)
		if in.V6 {
			af = 24
		}
		return LinkNull, append(binary.LittleEndian.AppendUint32(nil, af), p.IP...)
	case "sll", "sll2":
		ptype := uint16(4) // sent by this host (towards the VM)
		if isFromVM(in) {
			ptype = 0 // to us
		}
		if kind == "sll" {
			h := binary.BigEndian.AppendUint16(nil, ptype)
			h = binary.BigEndian.AppendUint16(h, 1) // ARPHRD_ETHER
			h = binary.BigEndian.AppendUint16(h, 6)
			h = append(h, macFor(in.Src)...)
			h = append(h, 0, 0)
			h = binary.BigEndian.AppendUint16(h, p.EthType)
			return LinkSLL, append(h, p.IP...)
		}
		h := binary.BigEndian.AppendUint16(nil, p.EthType)
		h = append(h, 0, 0)
		h = binary.BigEndian.AppendUint32(h, 3) // ifindex of vboxnet0
		h = binary.BigEndian.AppendUint16(h, 1)
		h = append(h, byte(ptype), 6)
		h = append(h, macFor(in.Src)...)
		h = append(h, 0, 0)
		return LinkSLL2, append(h, p.IP...)
	}
	panic("unknown encapsulation " + kind)
}

func sortPkts(ps []pkt) {
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].TS.Before(ps[j].TS) })
}
