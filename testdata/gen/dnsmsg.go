package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Minimal DNS wire format: enough to answer from the zone table, to rewrite
// A records in place, and to read answers back for the truth table.

var errDNS = errors.New("malformed DNS message")

const (
	typeA     = 1
	typeCNAME = 5
	typeAAAA  = 28
)

// readName returns the dotted name at off and the offset just past it in the
// message (following compression pointers for the name only).
func readName(msg []byte, off int) (string, int, error) {
	var labels []string
	end := -1
	for hops := 0; hops < 64; hops++ {
		if off >= len(msg) {
			return "", 0, errDNS
		}
		l := int(msg[off])
		switch {
		case l == 0:
			if end < 0 {
				end = off + 1
			}
			return strings.Join(labels, "."), end, nil
		case l&0xC0 == 0xC0:
			if off+1 >= len(msg) {
				return "", 0, errDNS
			}
			if end < 0 {
				end = off + 2
			}
			off = int(binary.BigEndian.Uint16(msg[off:]) & 0x3FFF)
		case l&0xC0 == 0:
			if off+1+l > len(msg) {
				return "", 0, errDNS
			}
			labels = append(labels, string(msg[off+1:off+1+l]))
			off += 1 + l
		default:
			return "", 0, errDNS
		}
	}
	return "", 0, errDNS
}

func encodeName(name string) []byte {
	var b []byte
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		b = append(b, byte(len(l)))
		b = append(b, l...)
	}
	return append(b, 0)
}

type dnsRR struct {
	Name         string
	Type         uint16
	TTL          uint32
	Data         string // dotted name for CNAME, address for A/AAAA
	rdOff, rdLen int
}

type dnsMsg struct {
	ID       uint16
	Response bool
	Rcode    int
	QName    string
	QType    uint16
	Answers  []dnsRR
	qEnd     int
}

func parseDNS(msg []byte) (*dnsMsg, error) {
	if len(msg) < 12 {
		return nil, errDNS
	}
	m := &dnsMsg{ID: binary.BigEndian.Uint16(msg), Response: msg[2]&0x80 != 0, Rcode: int(msg[3] & 0x0F)}
	qd := int(binary.BigEndian.Uint16(msg[4:]))
	an := int(binary.BigEndian.Uint16(msg[6:]))
	ns := int(binary.BigEndian.Uint16(msg[8:]))
	ar := int(binary.BigEndian.Uint16(msg[10:]))
	off := 12
	for i := 0; i < qd; i++ {
		name, next, err := readName(msg, off)
		if err != nil || next+4 > len(msg) {
			return nil, errDNS
		}
		if i == 0 {
			m.QName, m.QType = name, binary.BigEndian.Uint16(msg[next:])
		}
		off = next + 4
	}
	m.qEnd = off
	for i := 0; i < an+ns+ar; i++ {
		name, next, err := readName(msg, off)
		if err != nil || next+10 > len(msg) {
			return nil, errDNS
		}
		rr := dnsRR{Name: name, Type: binary.BigEndian.Uint16(msg[next:]), TTL: binary.BigEndian.Uint32(msg[next+4:])}
		rr.rdLen = int(binary.BigEndian.Uint16(msg[next+8:]))
		rr.rdOff = next + 10
		if rr.rdOff+rr.rdLen > len(msg) {
			return nil, errDNS
		}
		switch rr.Type {
		case typeA:
			if rr.rdLen == 4 {
				rr.Data = netip.AddrFrom4([4]byte(msg[rr.rdOff : rr.rdOff+4])).String()
			}
		case typeAAAA:
			if rr.rdLen == 16 {
				rr.Data = netip.AddrFrom16([16]byte(msg[rr.rdOff : rr.rdOff+16])).String()
			}
		case typeCNAME:
			t, _, err := readName(msg, rr.rdOff)
			if err != nil {
				return nil, err
			}
			rr.Data = t
		}
		if i < an {
			m.Answers = append(m.Answers, rr)
		}
		off = rr.rdOff + rr.rdLen
	}
	return m, nil
}

// rewriteA maps every A record of a DNS message in place.
func rewriteA(msg []byte, mapAddr func(netip.Addr) (netip.Addr, error)) (int, error) {
	m, err := parseDNS(msg)
	if err != nil {
		return 0, err
	}
	n := 0
	// parseDNS kept only answers; walk all sections again for A records.
	_ = m
	qd := int(binary.BigEndian.Uint16(msg[4:]))
	total := int(binary.BigEndian.Uint16(msg[6:])) + int(binary.BigEndian.Uint16(msg[8:])) + int(binary.BigEndian.Uint16(msg[10:]))
	off := 12
	for i := 0; i < qd; i++ {
		_, next, _ := readName(msg, off)
		off = next + 4
	}
	for i := 0; i < total; i++ {
		_, next, _ := readName(msg, off)
		typ := binary.BigEndian.Uint16(msg[next:])
		rdl := int(binary.BigEndian.Uint16(msg[next+8:]))
		rd := next + 10
		if typ == typeA && rdl == 4 {
			a := netip.AddrFrom4([4]byte(msg[rd : rd+4]))
			b, err := mapAddr(a)
			if err != nil {
				return n, err
			}
			b4 := b.As4()
			copy(msg[rd:], b4[:])
			n++
		}
		off = rd + rdl
	}
	return n, nil
}

// answerQuery builds the response to a query from the zone table.
func answerQuery(q []byte) ([]byte, error) {
	m, err := parseDNS(q)
	if err != nil || m.Response {
		return nil, fmt.Errorf("bad query")
	}
	// Header + the first question copied as is (after parseDNS, qEnd covers
	// all questions; queries carry one).
	qname := strings.ToLower(strings.TrimSuffix(m.QName, "."))
	var ent *zoneEntry
	for i := range zone {
		if zone[i].name == qname {
			ent = &zone[i]
		}
	}
	resp := make([]byte, 0, 512)
	resp = append(resp, q[:12]...)
	resp[2] = 0x80 | (q[2] & 0x01) // QR, keep RD
	resp[3] = 0x80                 // RA, rcode 0
	binary.BigEndian.PutUint16(resp[4:], 1)
	binary.BigEndian.PutUint16(resp[6:], 0)
	binary.BigEndian.PutUint16(resp[8:], 0)
	binary.BigEndian.PutUint16(resp[10:], 0)
	// the question, as sent (only the first one)
	_, qnEnd, _ := readName(q, 12)
	resp = append(resp, q[12:qnEnd+4]...)
	if ent == nil {
		resp[3] |= 3 // NXDOMAIN
		return resp, nil
	}
	count := 0
	owner := []byte{0xC0, 0x0C} // first owner: pointer to the question name
	rr := func(typ uint16, ttl uint32, rdata []byte) {
		resp = append(resp, owner...)
		var f [10]byte
		binary.BigEndian.PutUint16(f[0:], typ)
		binary.BigEndian.PutUint16(f[2:], 1)
		binary.BigEndian.PutUint32(f[4:], ttl)
		binary.BigEndian.PutUint16(f[8:], uint16(len(rdata)))
		resp = append(resp, f[:]...)
		resp = append(resp, rdata...)
		count++
	}
	for i, c := range ent.chain {
		ttl := uint32(3600)
		if i > 0 {
			ttl = 300
		}
		rr(typeCNAME, ttl, encodeName(c))
		owner = encodeName(c)
	}
	if m.QType == typeA {
		a := netip.MustParseAddr(ent.loop).As4()
		rr(typeA, 60, a[:])
	}
	binary.BigEndian.PutUint16(resp[6:], uint16(count))
	return resp, nil
}
