package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"time"
)

// Link types (tcpdump.org LINKTYPE_* values).
const (
	LinkNull     = 0   // BSD loopback: 4-byte AF_ value in the writer's byte order
	LinkEthernet = 1   // Ethernet II
	LinkRaw      = 101 // raw IP, version taken from the first nibble
	LinkSLL      = 113 // Linux cooked v1
	LinkIPv4     = 228 // raw IPv4 only
	LinkSLL2     = 276 // Linux cooked v2
)

// Record is one captured frame.
type Record struct {
	TS       time.Time
	Data     []byte
	OrigLen  int
	LinkType uint16
	Iface    int // pcapng interface index when written to a multi-interface file
}

// readPcap reads a classic pcap file (either byte order, us or ns).
func readPcap(path string) ([]Record, uint16, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	if len(b) < 24 {
		return nil, 0, fmt.Errorf("%s: short file", path)
	}
	var bo binary.ByteOrder
	nsec := false
	switch binary.LittleEndian.Uint32(b) {
	case 0xa1b2c3d4:
		bo = binary.LittleEndian
	case 0xa1b23c4d:
		bo, nsec = binary.LittleEndian, true
	case 0xd4c3b2a1:
		bo = binary.BigEndian
	case 0x4d3cb2a1:
		bo, nsec = binary.BigEndian, true
	default:
		return nil, 0, fmt.Errorf("%s: not a pcap file", path)
	}
	lt := uint16(bo.Uint32(b[20:]))
	var recs []Record
	for off := 24; off+16 <= len(b); {
		sec := int64(bo.Uint32(b[off:]))
		frac := int64(bo.Uint32(b[off+4:]))
		incl := int(bo.Uint32(b[off+8:]))
		orig := int(bo.Uint32(b[off+12:]))
		off += 16
		if off+incl > len(b) {
			return recs, lt, fmt.Errorf("%s: truncated record", path)
		}
		if !nsec {
			frac *= 1000
		}
		data := append([]byte(nil), b[off:off+incl]...)
		recs = append(recs, Record{TS: time.Unix(sec, frac).UTC(), Data: data, OrigLen: orig, LinkType: lt})
		off += incl
	}
	return recs, lt, nil
}

// writePcap writes a classic little-endian pcap file, microsecond or nanosecond.
func writePcap(path string, lt uint16, recs []Record, nsec bool) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	hdr := make([]byte, 24)
	magic := uint32(0xa1b2c3d4)
	if nsec {
		magic = 0xa1b23c4d
	}
	binary.LittleEndian.PutUint32(hdr[0:], magic)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 262144)
	binary.LittleEndian.PutUint32(hdr[20:], uint32(lt))
	w.Write(hdr)
	for _, r := range recs {
		rh := make([]byte, 16)
		binary.LittleEndian.PutUint32(rh[0:], uint32(r.TS.Unix()))
		if nsec {
			binary.LittleEndian.PutUint32(rh[4:], uint32(r.TS.Nanosecond()))
		} else {
			binary.LittleEndian.PutUint32(rh[4:], uint32(r.TS.Nanosecond()/1000))
		}
		binary.LittleEndian.PutUint32(rh[8:], uint32(len(r.Data)))
		orig := r.OrigLen
		if orig < len(r.Data) {
			orig = len(r.Data)
		}
		binary.LittleEndian.PutUint32(rh[12:], uint32(orig))
		w.Write(rh)
		w.Write(r.Data)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// PcapngIface describes one Interface Description Block.
type PcapngIface struct {
	LinkType uint16
	Name     string
	Desc     string
	TSResol  uint8 // if_tsresol: 6 = microseconds (the default), 9 = nanoseconds
}

func pad4(n int) int { return (n + 3) &^ 3 }

// pcapng option: code, value, padded.
func pngOpt(code uint16, val []byte) []byte {
	o := make([]byte, 4+pad4(len(val)))
	binary.LittleEndian.PutUint16(o[0:], code)
	binary.LittleEndian.PutUint16(o[2:], uint16(len(val)))
	copy(o[4:], val)
	return o
}

func pngBlock(typ uint32, body []byte) []byte {
	total := 12 + len(body)
	b := make([]byte, total)
	binary.LittleEndian.PutUint32(b[0:], typ)
	binary.LittleEndian.PutUint32(b[4:], uint32(total))
	copy(b[8:], body)
	binary.LittleEndian.PutUint32(b[total-4:], uint32(total))
	return b
}

// writePcapng writes a little-endian pcapng file: one Section Header Block, one
// Interface Description Block per interface, then one Enhanced Packet Block
// per record (Record.Iface selects the interface).
func writePcapng(path string, ifaces []PcapngIface, recs []Record, shbComment string) error {
	var out []byte
	// Section Header Block.
	shb := make([]byte, 16)
	binary.LittleEndian.PutUint32(shb[0:], 0x1A2B3C4D)
	binary.LittleEndian.PutUint16(shb[4:], 1)
	binary.LittleEndian.PutUint16(shb[6:], 0)
	binary.LittleEndian.PutUint64(shb[8:], 0xFFFFFFFFFFFFFFFF) // section length unknown
	if shbComment != "" {
		shb = append(shb, pngOpt(1, []byte(shbComment))...) // opt_comment
	}
	shb = append(shb, pngOpt(4, []byte("phonehome testdata/gen (hand-written pcapng)"))...) // shb_userappl
	shb = append(shb, pngOpt(0, nil)...)
	out = append(out, pngBlock(0x0A0D0D0A, shb)...)
	for _, ifc := range ifaces {
		idb := make([]byte, 8)
		binary.LittleEndian.PutUint16(idb[0:], ifc.LinkType)
		binary.LittleEndian.PutUint32(idb[4:], 262144)
		if ifc.Name != "" {
			idb = append(idb, pngOpt(2, []byte(ifc.Name))...)
		}
		if ifc.Desc != "" {
			idb = append(idb, pngOpt(3, []byte(ifc.Desc))...)
		}
		if ifc.TSResol != 0 && ifc.TSResol != 6 {
			idb = append(idb, pngOpt(9, []byte{ifc.TSResol})...)
		}
		idb = append(idb, pngOpt(0, nil)...)
		out = append(out, pngBlock(1, idb)...)
	}
	for _, r := range recs {
		resol := uint8(6)
		if r.Iface < len(ifaces) && ifaces[r.Iface].TSResol != 0 {
			resol = ifaces[r.Iface].TSResol
		}
		var ts uint64
		if resol == 9 {
			ts = uint64(r.TS.UnixNano())
		} else {
			ts = uint64(r.TS.UnixNano() / 1000)
		}
		epb := make([]byte, 20+pad4(len(r.Data)))
		binary.LittleEndian.PutUint32(epb[0:], uint32(r.Iface))
		binary.LittleEndian.PutUint32(epb[4:], uint32(ts>>32))
		binary.LittleEndian.PutUint32(epb[8:], uint32(ts))
		binary.LittleEndian.PutUint32(epb[12:], uint32(len(r.Data)))
		orig := r.OrigLen
		if orig < len(r.Data) {
			orig = len(r.Data)
		}
		binary.LittleEndian.PutUint32(epb[16:], uint32(orig))
		copy(epb[20:], r.Data)
		out = append(out, pngBlock(6, epb)...)
	}
	return os.WriteFile(path, out, 0o644)
}

// readPcapng reads back what writePcapng writes (little-endian, SHB/IDB/EPB),
// enough for the self-check.
func readPcapng(path string) ([]Record, []PcapngIface, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var recs []Record
	var ifaces []PcapngIface
	for off := 0; off+12 <= len(b); {
		typ := binary.LittleEndian.Uint32(b[off:])
		tl := int(binary.LittleEndian.Uint32(b[off+4:]))
		if tl < 12 || off+tl > len(b) {
			return nil, nil, io.ErrUnexpectedEOF
		}
		body := b[off+8 : off+tl-4]
		switch typ {
		case 1:
			ifc := PcapngIface{LinkType: binary.LittleEndian.Uint16(body), TSResol: 6}
			for o := 8; o+4 <= len(body); {
				code := binary.LittleEndian.Uint16(body[o:])
				l := int(binary.LittleEndian.Uint16(body[o+2:]))
				if code == 0 {
					break
				}
				if code == 9 && l == 1 {
					ifc.TSResol = body[o+4]
				}
				o += 4 + pad4(l)
			}
			ifaces = append(ifaces, ifc)
		case 6:
			id := int(binary.LittleEndian.Uint32(body))
			ts := uint64(binary.LittleEndian.Uint32(body[4:]))<<32 | uint64(binary.LittleEndian.Uint32(body[8:]))
			cl := int(binary.LittleEndian.Uint32(body[12:]))
			ol := int(binary.LittleEndian.Uint32(body[16:]))
			var t time.Time
			if ifaces[id].TSResol == 9 {
				t = time.Unix(0, int64(ts)).UTC()
			} else {
				t = time.Unix(0, int64(ts)*1000).UTC()
			}
			recs = append(recs, Record{TS: t, Data: append([]byte(nil), body[20:20+cl]...), OrigLen: ol, LinkType: ifaces[id].LinkType, Iface: id})
		}
		off += tl
	}
	return recs, ifaces, nil
}
