package capture

import (
	"encoding/binary"
	"testing"
)

// 802.11 builders, after IEEE 802.11-2020 section 9.3.2.1, the radiotap
// definition (radiotap.org) and the PPI specification (CACE, 2007).
// TestTunnelFixtures reads real traffic rewrapped in 802.11 behind radiotap
// and PPI (testdata/tunnels/radiotap.pcap, ppi.pcap).

// snap is an LLC/SNAP header (RFC 1042) for EtherType et, then rest.
func snap(et uint16, rest []byte) []byte {
	return cat([]byte{0xaa, 0xaa, 3, 0, 0, 0}, u16(et), rest)
}

// wlanData is a data frame from a station to its access point (To DS) with
// body; qos makes it a QoS data frame whose QoS control is qosCtl.
func wlanData(qos bool, qosCtl byte, body []byte) []byte {
	fc := byte(wlanTypeData << 2)
	hdr := []byte{fc, wlanToDS, 0x2c, 0}
	hdr = append(hdr, 0x8a, 0x15, 0x14, 0x9b, 0x5a, 0xe0) // BSSID
	hdr = append(hdr, 0x90, 0x72, 0x40, 0x97, 0xb6, 0xf5) // source
	hdr = append(hdr, 0x44, 0x2b, 0x03, 0xaa, 0xab, 0x8d) // destination
	hdr = append(hdr, 0x10, 0)                            // sequence control
	if qos {
		hdr[0] |= wlanSubtypeQoS << 4
		hdr = append(hdr, qosCtl, 0)
	}
	return cat(hdr, body)
}

// radiotap is a radiotap header with TSFT, Flags (flags) and a 2-byte
// Channel field, then frame.
func radiotap(flags byte, frame []byte) []byte {
	b := []byte{0, 0, 0, 0}
	b = binary.LittleEndian.AppendUint32(b, 0x0000000b) // TSFT, Flags, Channel
	b = append(b, 1, 2, 3, 4, 5, 6, 7, 8)               // TSFT
	b = append(b, flags, 0)                             // Flags, padding to the Channel's alignment
	b = append(b, 0x6c, 0x09, 0xa0, 0)                  // Channel: 2412 MHz, 2 GHz OFDM
	binary.LittleEndian.PutUint16(b[2:4], uint16(len(b)))
	return cat(b, frame)
}

// ppi is a PPI header naming dlt, with one 802.11-Common field (28 bytes of
// zeros), then frame.
func ppi(dlt uint16, frame []byte) []byte {
	b := []byte{0, 0, 0, 0}
	b = binary.LittleEndian.AppendUint32(b, uint32(dlt))
	b = append(b, 2, 0, 20, 0) // field type 2 (802.11-Common), length 20
	b = append(b, make([]byte, 20)...)
	binary.LittleEndian.PutUint16(b[2:4], uint16(len(b)))
	return cat(b, frame)
}

func TestDecode80211(t *testing.T) {
	tcp := ipv4TCP(t, "hello")
	udp := ipv4UDP(t, "query")
	v6 := ipv6UDP(t)
	data := wlanData(false, 0, snap(0x0800, tcp))
	qos := wlanData(true, 0, snap(0x0800, udp))
	// A-MSDU: one subframe, DA SA length, then the MSDU, padded.
	amsdu := wlanData(true, wlanAMSDU, cat(make([]byte, 12), u16(uint16(8+len(udp))), snap(0x0800, udp), []byte{0, 0}))

	tests := []struct {
		name     string
		linkType uint16
		frame    []byte
		want     summary
	}{
		{"data_llc_snap_ipv4", LinkType80211, data, tcpOK},
		{"data_fcs_not_payload", LinkType80211, cat(wlanData(false, 0, snap(0x0800, udp)), []byte{1, 2, 3, 4}), udpOK},
		{"qos_data_ipv4", LinkType80211, qos, udpOK},
		{"qos_data_ipv6", LinkType80211, wlanData(true, 0, snap(0x86dd, v6)), v6OK},
		{"qos_data_ht_control", LinkType80211, edit(wlanData(true, 0, cat(make([]byte, 4), snap(0x0800, udp))), func(b []byte) { b[1] |= wlanOrder }), udpOK},
		{"four_address_wds", LinkType80211, edit(cat(data[:24], make([]byte, 6), data[24:]), func(b []byte) { b[1] |= wlanFromDS }), tcpOK},
		{"amsdu_first_subframe", LinkType80211, amsdu, udpOK},
		{"bridge_tunnel_oui", LinkType80211, wlanData(false, 0, edit(snap(0x0800, tcp), func(b []byte) { b[5] = 0xf8 })), tcpOK},
		{"data_arp_non_ip", LinkType80211, wlanData(false, 0, snap(0x0806, make([]byte, 28))), summary{L3: L3NonIP}},
		{"null_data_non_ip", LinkType80211, edit(wlanData(true, 0, nil), func(b []byte) { b[0] |= wlanSubtypeNul << 4 }), summary{L3: L3NonIP}},
		{"beacon_non_ip", LinkType80211, cat([]byte{0x80, 0}, make([]byte, 60)), summary{L3: L3NonIP}},
		{"ack_non_ip", LinkType80211, []byte{0xd4, 0, 0, 0, 1, 2, 3, 4, 5, 6}, summary{L3: L3NonIP}},
		{"protected_unreadable", LinkType80211, edit(data, func(b []byte) { b[1] |= wlanProtected }), summary{}},
		{"not_llc_snap", LinkType80211, wlanData(false, 0, cat([]byte{0x42, 0x42, 3}, make([]byte, 40))), summary{L3: L3NonIP}},
		{"protocol_version_1", LinkType80211, edit(data, func(b []byte) { b[0] |= 1 }), summary{Malformed: true}},
		{"header_cut", LinkType80211, data[:20], summary{Truncated: true}},
		{"qos_control_cut", LinkType80211, qos[:25], summary{Truncated: true}},
		{"snap_cut", LinkType80211, data[:28], summary{Truncated: true}},

		{"radiotap_fcs_at_end", LinkTypeRadiotap, radiotap(0x10, cat(data, []byte{9, 9, 9, 9})), tcpOK},
		{"radiotap_data_pad_body", LinkTypeRadiotap, radiotap(0x20, cat(qos[:26], []byte{0, 0}, qos[26:])), udpOK},
		{"radiotap_bad_fcs", LinkTypeRadiotap, radiotap(0x40, data), summary{Malformed: true}},
		{"radiotap_no_flags_field", LinkTypeRadiotap, cat([]byte{0, 0, 8, 0, 0, 0, 0, 0}, data), tcpOK},
		// Two present words: the TSFT moves to offset 16, Flags to 24.
		{"radiotap_extended_present_words", LinkTypeRadiotap, cat([]byte{0, 0, 30, 0, 0x0b, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0},
			[]byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{0x10, 0, 0x6c, 0x09, 0xa0, 0}, data, []byte{9, 9, 9, 9}), tcpOK},
		{"radiotap_present_words_past_header", LinkTypeRadiotap, cat([]byte{0, 0, 12, 0, 0x02, 0, 0, 0x80, 0, 0, 0, 0x80}, data), summary{Malformed: true}},
		{"radiotap_length_past_frame", LinkTypeRadiotap, edit(radiotap(0, data), func(b []byte) { b[2], b[3] = 0xff, 0xff }), summary{Truncated: true}},
		{"radiotap_length_below_8", LinkTypeRadiotap, edit(radiotap(0, data), func(b []byte) { b[2], b[3] = 4, 0 }), summary{Malformed: true}},
		{"radiotap_version_1", LinkTypeRadiotap, edit(radiotap(0, data), func(b []byte) { b[0] = 1 }), summary{Malformed: true}},
		{"radiotap_flags_past_header", LinkTypeRadiotap, edit(radiotap(0, data), func(b []byte) { b[2] = 16 }), summary{Malformed: true}},

		{"ppi_80211", LinkTypePPI, ppi(LinkType80211, data), tcpOK},
		{"ppi_ethernet", LinkTypePPI, ppi(LinkTypeEthernet, eth(0x0800, udp)), udpOK},
		{"ppi_in_ppi_unknown", LinkTypePPI, ppi(LinkTypePPI, ppi(LinkTypeEthernet, eth(0x0800, udp))), summary{}},
		{"ppi_unknown_dlt", LinkTypePPI, ppi(147, udp), summary{}},
		{"ppi_header_cut", LinkTypePPI, ppi(LinkType80211, data)[:7], summary{Truncated: true}},
		{"ppi_length_past_frame", LinkTypePPI, ppi(LinkType80211, nil)[:20], summary{Truncated: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Packet
			Decode(tt.linkType, tt.frame, &p)
			if got := summarize(&p); got != tt.want {
				t.Errorf("Decode(%d, %x) = %+v; want %+v", tt.linkType, tt.frame, got, tt.want)
			}
			checkDecoded(t, tt.frame, &p)
		})
	}
}
