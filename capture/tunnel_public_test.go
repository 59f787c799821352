package capture

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// gtpFrame is a raw IPv4 frame src -> dst, UDP to the GTP-U port, holding a
// GTP-U header around an inner IPv4/TCP SYN 192.168.56.10 -> 13.107.4.50:443.
func gtpFrame(src, dst netip.Addr) []byte {
	ip4 := func(s, d netip.Addr, proto byte, payload []byte) []byte {
		b := make([]byte, 20, 20+len(payload))
		b[0] = 0x45
		binary.BigEndian.PutUint16(b[2:4], uint16(20+len(payload)))
		b[8], b[9] = 64, proto
		s4, d4 := s.As4(), d.As4()
		copy(b[12:16], s4[:])
		copy(b[16:20], d4[:])
		return append(b, payload...)
	}
	tcp := make([]byte, 20)
	binary.BigEndian.PutUint16(tcp[0:2], 50001)
	binary.BigEndian.PutUint16(tcp[2:4], 443)
	tcp[12], tcp[13] = 5<<4, TCPSyn
	inner := ip4(netip.MustParseAddr("192.168.56.10"), netip.MustParseAddr("13.107.4.50"), 6, tcp)
	g := []byte{0x30, 0xff, 0, 0, 0, 0, 0, 1}
	binary.BigEndian.PutUint16(g[2:4], uint16(len(inner)))
	u := make([]byte, 8)
	binary.BigEndian.PutUint16(u[0:2], 40000)
	binary.BigEndian.PutUint16(u[2:4], portGTPU)
	binary.BigEndian.PutUint16(u[4:6], uint16(8+len(g)+len(inner)))
	return ip4(src, dst, 17, append(append(u, g...), inner...))
}

// TestTunnelAcrossTheInternetIsKept: a tunnel whose outer header has a public
// address is the sending host's own traffic (a VPN, 6to4, GTP-U to a public
// peer): Decode keeps the outer packet, so the flow goes to the address the
// packets really went to, and the inner packet cannot claim another. Between
// private addresses (a mirror on a lab network) the tunnel is taken off.
func TestTunnelAcrossTheInternetIsKept(t *testing.T) {
	vm, peer, mirror := netip.MustParseAddr("192.168.56.10"), netip.MustParseAddr("20.1.2.3"), netip.MustParseAddr("10.200.0.3")
	for _, tt := range []struct {
		name     string
		src, dst netip.Addr
		wantDst  netip.Addr
		depth    uint8
	}{
		{"vm_to_public_peer_kept", vm, peer, peer, 0},
		{"public_peer_to_vm_kept", peer, vm, vm, 0},
		{"mirror_on_lab_network_taken_off", mirror, vm, netip.MustParseAddr("13.107.4.50"), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			Decode(LinkTypeRaw, gtpFrame(tt.src, tt.dst), &p)
			if p.Dst != tt.wantDst || p.Tunnel.Depth != tt.depth {
				t.Errorf("Decode = dst %v, tunnel depth %d; want dst %v, depth %d", p.Dst, p.Tunnel.Depth, tt.wantDst, tt.depth)
			}
		})
	}
}
