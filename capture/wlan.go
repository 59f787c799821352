package capture

import "encoding/binary"

// 802.11 frame control bits (IEEE 802.11-2020 section 9.2.4.1).
const (
	wlanTypeData   = 2    // frame type in bits 2-3 of the first byte
	wlanSubtypeQoS = 0x08 // subtype bit: QoS data, a 2-byte QoS control field follows the addresses
	wlanSubtypeNul = 0x04 // subtype bit: no data (Null, CF-Ack, CF-Poll)
	wlanToDS       = 0x01 // second byte
	wlanFromDS     = 0x02
	wlanProtected  = 0x40 // the body is encrypted (WEP, TKIP, CCMP, GCMP)
	wlanOrder      = 0x80 // with QoS: a 4-byte HT control field follows QoS control
	wlanAMSDU      = 0x80 // first byte of QoS control: the body is an A-MSDU
)

// Radiotap flags (the Flags field, present bit 1).
const (
	radiotapFlagDataPad = 0x20 // padding between the 802.11 header and the body, to 4 bytes
	radiotapFlagBadFCS  = 0x40 // the frame failed its FCS check
)

// decodeRadiotap reads a radiotap header (version 0: version(1) pad(1)
// length(2, little-endian) present(4)...) and the 802.11 frame after it. Of
// its fields only Flags is read: a frame that failed its FCS check is
// damaged (Malformed), and data padding moves the body.
func decodeRadiotap(b []byte, p *Packet) {
	if len(b) < 8 {
		p.Truncated = true
		return
	}
	n := int(binary.LittleEndian.Uint16(b[2:4]))
	if b[0] != 0 || n < 8 {
		p.Malformed = true
		return
	}
	if len(b) < n {
		p.Truncated = true
		return
	}
	present := binary.LittleEndian.Uint32(b[4:8])
	var flags byte
	if present&0x02 != 0 {
		// Fields start after the last present word (bit 31: another
		// follows). TSFT (bit 0), 8 bytes aligned to 8, comes before Flags.
		off := 8
		for w := present; w&0x80000000 != 0; {
			if off+4 > n {
				p.Malformed = true
				return
			}
			w = binary.LittleEndian.Uint32(b[off : off+4])
			off += 4
		}
		if present&0x01 != 0 {
			off = (off+7)&^7 + 8
		}
		if off >= n {
			p.Malformed = true
			return
		}
		flags = b[off]
	}
	if flags&radiotapFlagBadFCS != 0 {
		p.Malformed = true
		return
	}
	decode80211(b[n:], flags&radiotapFlagDataPad != 0, p)
}

// decodePPI reads a PPI header (version(1)=0 flags(1) length(2) link
// type(4), little-endian, then fields) and decodes what follows it as a
// frame of the link type it names: 802.11 or Ethernet, in the captures seen.
func decodePPI(b []byte, p *Packet) {
	if len(b) < 8 {
		p.Truncated = true
		return
	}
	n := int(binary.LittleEndian.Uint16(b[2:4]))
	dlt := binary.LittleEndian.Uint32(b[4:8])
	if b[0] != 0 || n < 8 {
		p.Malformed = true
		return
	}
	if len(b) < n {
		p.Truncated = true
		return
	}
	if dlt > 0xffff || dlt == uint32(LinkTypePPI) {
		return // L3Unknown: nothing Decode knows
	}
	decodeLink(uint16(dlt), b[n:], p)
}

// decode80211 decodes an IEEE 802.11 frame (link type 105, or after a
// radiotap or PPI header): a data frame whose body is not encrypted is read
// through its LLC/SNAP header to IPv4 or IPv6. pad says the radiotap header
// announced padding after the 802.11 header. Management and control frames,
// and data frames without a body, are L3NonIP; a protected (encrypted) body
// cannot be read and leaves the frame L3Unknown. Of an A-MSDU, only the
// first subframe is read.
func decode80211(b []byte, pad bool, p *Packet) {
	// frame control(2) duration(2) address 1-3(18) sequence control(2)
	// [address 4(6)] [QoS control(2)] [HT control(4)]
	if len(b) < 2 {
		p.Truncated = true
		return
	}
	fc, flags := b[0], b[1]
	if fc&0x03 != 0 { // protocol version 0 is the only one
		p.Malformed = true
		return
	}
	if fc>>2&0x03 != wlanTypeData {
		p.L3 = L3NonIP
		return
	}
	subtype := fc >> 4
	if subtype&wlanSubtypeNul != 0 {
		p.L3 = L3NonIP
		return
	}
	hdr := 24
	if flags&(wlanToDS|wlanFromDS) == wlanToDS|wlanFromDS {
		hdr += 6
	}
	amsdu := false
	if subtype&wlanSubtypeQoS != 0 {
		if len(b) < hdr+2 {
			p.Truncated = true
			return
		}
		amsdu = b[hdr]&wlanAMSDU != 0
		hdr += 2
		if flags&wlanOrder != 0 {
			hdr += 4
		}
	}
	if pad {
		hdr = (hdr + 3) &^ 3
	}
	if len(b) < hdr {
		p.Truncated = true
		return
	}
	if flags&wlanProtected != 0 {
		return // encrypted: L3Unknown
	}
	b = b[hdr:]
	if amsdu {
		// Each subframe: destination(6) source(6) length(2), then the MSDU.
		if len(b) < 14 {
			p.Truncated = true
			return
		}
		if n := 14 + int(binary.BigEndian.Uint16(b[12:14])); n <= len(b) {
			b = b[14:n]
		} else {
			b = b[14:]
		}
	}
	// LLC/SNAP: AA AA 03, OUI 00 00 00 (RFC 1042) or 00 00 F8 (802.1H
	// bridge tunnel), then the EtherType.
	if len(b) < 8 {
		p.Truncated = true
		return
	}
	if b[0] != 0xaa || b[1] != 0xaa || b[2] != 0x03 || b[3] != 0 || b[4] != 0 || (b[5] != 0 && b[5] != 0xf8) {
		p.L3 = L3NonIP
		return
	}
	decodeEtherType(binary.BigEndian.Uint16(b[6:8]), b[8:], p)
}
