package main

import (
	"crypto/ecdh"
	"crypto/mlkem"
	"crypto/tls"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
)

// Real ClientHellos from real clients, copied from classify/extract/testdata
// (see hellos/README.md). Both fit one TCP segment.
var (
	//go:embed hellos/curl.bin
	curlHello []byte
	//go:embed hellos/openssl.bin
	opensslHello []byte
)

// TLS extension types the rewriting touches.
const (
	extServerName = 0
	extPadding    = 21
	extKeyShare   = 51

	groupX25519         = 0x001d
	groupX25519MLKEM768 = 0x11ec
)

// helloLayout is where the fields a rewrite touches sit in a one-record
// ClientHello (offsets from the start of the record).
type helloLayout struct {
	random  int // 32 bytes
	sid     int // session_id bytes
	sidLen  int
	extList int // first byte of the extensions (after their 2-byte length)
	exts    []helloExt
}

type helloExt struct {
	typ       uint16
	off, size int // the extension's data, after its 4-byte type and length
}

var errHello = errors.New("not a one-record ClientHello")

// parseHello walks a ClientHello that is one TLS record and returns its layout.
// It checks every length against what holds it.
func parseHello(b []byte) (helloLayout, error) {
	var l helloLayout
	if len(b) < 5+4+2+32+1 || b[0] != 0x16 || b[5] != 1 {
		return l, errHello
	}
	if int(binary.BigEndian.Uint16(b[3:]))+5 != len(b) || int(b[6])<<16|int(b[7])<<8|int(b[8]) != len(b)-9 {
		return l, errHello
	}
	p := 9 + 2
	l.random = p
	p += 32
	l.sidLen = int(b[p])
	l.sid = p + 1
	p += 1 + l.sidLen
	if p+2 > len(b) {
		return l, errHello
	}
	p += 2 + int(binary.BigEndian.Uint16(b[p:])) // cipher suites
	if p+1 > len(b) {
		return l, errHello
	}
	p += 1 + int(b[p]) // compression methods
	if p+2 > len(b) || p+2+int(binary.BigEndian.Uint16(b[p:])) != len(b) {
		return l, errHello
	}
	p += 2
	l.extList = p
	for p < len(b) {
		if p+4 > len(b) {
			return l, errHello
		}
		e := helloExt{typ: binary.BigEndian.Uint16(b[p:]), off: p + 4, size: int(binary.BigEndian.Uint16(b[p+2:]))}
		if e.off+e.size > len(b) {
			return l, errHello
		}
		l.exts = append(l.exts, e)
		p = e.off + e.size
	}
	return l, nil
}

// withSNI returns a copy of the one-record ClientHello b with its server_name
// extension holding name, every enclosing length re-encoded. When b has a
// padding extension (OpenSSL pads hellos to 512 bytes), its length absorbs the
// change where it can, so the hello keeps its size as OpenSSL would have.
func withSNI(b []byte, name string) ([]byte, error) {
	l, err := parseHello(b)
	if err != nil {
		return nil, err
	}
	sni := make([]byte, 0, 5+len(name))
	sni = binary.BigEndian.AppendUint16(sni, uint16(3+len(name)))
	sni = append(sni, 0) // host_name
	sni = binary.BigEndian.AppendUint16(sni, uint16(len(name)))
	sni = append(sni, name...)

	delta := 0
	found := false
	for _, e := range l.exts {
		if e.typ == extServerName {
			delta = len(sni) - e.size
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("%w: no server_name extension", errHello)
	}
	out := make([]byte, 0, len(b)+len(sni))
	out = append(out, b[:l.extList]...)
	for _, e := range l.exts {
		out = binary.BigEndian.AppendUint16(out, e.typ)
		switch {
		case e.typ == extServerName:
			out = binary.BigEndian.AppendUint16(out, uint16(len(sni)))
			out = append(out, sni...)
		case e.typ == extPadding && e.size >= delta:
			n := e.size - delta
			delta = 0
			out = binary.BigEndian.AppendUint16(out, uint16(n))
			out = append(out, make([]byte, n)...)
		default:
			out = binary.BigEndian.AppendUint16(out, uint16(e.size))
			out = append(out, b[e.off:e.off+e.size]...)
		}
	}
	n := len(out)
	binary.BigEndian.PutUint16(out[3:], uint16(n-5))
	out[6], out[7], out[8] = byte((n-9)>>16), byte((n-9)>>8), byte(n-9)
	binary.BigEndian.PutUint16(out[l.extList-2:], uint16(n-l.extList))
	if _, err := parseHello(out); err != nil {
		return nil, fmt.Errorf("rewrite SNI %q: %w", name, err)
	}
	return out, nil
}

// goHello runs Go's crypto/tls client over net.Pipe and returns the first
// flight it writes: a real ClientHello for name, one record, about 1.5 KB with
// the X25519MLKEM768 key share (two segments at a 1460-byte MSS).
func goHello(name string) ([]byte, error) {
	c, s := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		conn := tls.Client(c, &tls.Config{ServerName: name, NextProtos: []string{"h2", "http/1.1"}})
		conn.Handshake() // fails when s closes; only the hello is wanted
		conn.Close()
	}()
	hdr := make([]byte, 5)
	_, err := io.ReadFull(s, hdr)
	var rec []byte
	if err == nil {
		rec = make([]byte, 5+int(binary.BigEndian.Uint16(hdr[3:])))
		copy(rec, hdr)
		_, err = io.ReadFull(s, rec[5:])
	}
	s.Close()
	<-done
	if err != nil {
		return nil, fmt.Errorf("crypto/tls ClientHello for %q: %w", name, err)
	}
	return rec, nil
}

// keyShares are valid key shares made from the seed, so that the random parts
// of a hello come from the seed and not from crypto/rand.
type keyShares struct {
	x25519 []byte // 32 bytes
	mlkem  []byte // 1184-byte ML-KEM-768 encapsulation key followed by an X25519 share
}

func newKeyShares(r *rand.Rand) (keyShares, error) {
	var seed [64]byte
	fill(r, seed[:32])
	x, err := ecdh.X25519().NewPrivateKey(seed[:32])
	if err != nil {
		return keyShares{}, err
	}
	fill(r, seed[:])
	dk, err := mlkem.NewDecapsulationKey768(seed[:])
	if err != nil {
		return keyShares{}, err
	}
	k := keyShares{x25519: x.PublicKey().Bytes()}
	k.mlkem = append(dk.EncapsulationKey().Bytes(), k.x25519...)
	return k, nil
}

// hello is a ClientHello ready to send: the bytes, and where the per-connection
// random fields are.
type hello struct {
	b      []byte
	l      helloLayout
	groups []uint16 // key_share groups offered, in order
	split  bool     // more than one MSS
}

// prepare parses b and replaces its key shares with ks; the random and
// session_id are set per connection by stamp.
func prepare(b []byte, ks keyShares) (hello, error) {
	l, err := parseHello(b)
	if err != nil {
		return hello{}, err
	}
	h := hello{b: b, l: l, split: len(b) > mss}
	for _, e := range l.exts {
		if e.typ != extKeyShare {
			continue
		}
		p, end := e.off+2, e.off+e.size
		for p+4 <= end {
			g := binary.BigEndian.Uint16(b[p:])
			n := int(binary.BigEndian.Uint16(b[p+2:]))
			key := b[p+4 : p+4+n]
			switch {
			case g == groupX25519 && n == len(ks.x25519):
				copy(key, ks.x25519)
			case g == groupX25519MLKEM768 && n == len(ks.mlkem):
				copy(key, ks.mlkem)
			}
			h.groups = append(h.groups, g)
			p += 4 + n
		}
	}
	return h, nil
}

// stamp returns a copy of the hello with a fresh random and session_id.
func (h *hello) stamp(r *rand.Rand) []byte {
	b := append([]byte(nil), h.b...)
	fill(r, b[h.l.random:h.l.random+32])
	fill(r, b[h.l.sid:h.l.sid+h.l.sidLen])
	return b
}

// serverFlight builds what a TLS 1.3 server answers to hello ch: a ServerHello
// echoing the session_id and choosing the client's first key share group, a
// ChangeCipherSpec, and the encrypted rest of the handshake as one
// application-data record of encLen bytes (EncryptedExtensions, Certificate,
// CertificateVerify, Finished).
func serverFlight(r *rand.Rand, ch []byte, l helloLayout, group uint16, encLen int) []byte {
	share := 32
	if group == groupX25519MLKEM768 {
		share = 1088 + 32 // ML-KEM-768 ciphertext, then the X25519 share
	}
	sid := ch[l.sid : l.sid+l.sidLen]
	body := make([]byte, 0, 128+share)
	body = append(body, 3, 3)
	body = append(body, make([]byte, 32)...)
	fill(r, body[2:34])
	body = append(body, byte(len(sid)))
	body = append(body, sid...)
	body = append(body, 0x13, 0x01, 0) // TLS_AES_128_GCM_SHA256, no compression
	ext := []byte{0, 0x2b, 0, 2, 3, 4} // supported_versions: TLS 1.3
	ext = binary.BigEndian.AppendUint16(ext, extKeyShare)
	ext = binary.BigEndian.AppendUint16(ext, uint16(4+share))
	ext = binary.BigEndian.AppendUint16(ext, group)
	ext = binary.BigEndian.AppendUint16(ext, uint16(share))
	k := len(ext)
	ext = append(ext, make([]byte, share)...)
	fill(r, ext[k:])
	body = binary.BigEndian.AppendUint16(body, uint16(len(ext)))
	body = append(body, ext...)

	out := make([]byte, 0, 9+len(body)+6+5+encLen)
	out = append(out, 0x16, 3, 3)
	out = binary.BigEndian.AppendUint16(out, uint16(4+len(body)))
	out = append(out, 2, byte(len(body)>>16), byte(len(body)>>8), byte(len(body)))
	out = append(out, body...)
	out = append(out, 0x14, 3, 3, 0, 1, 1) // ChangeCipherSpec
	out = append(out, 0x17, 3, 3)
	out = binary.BigEndian.AppendUint16(out, uint16(encLen))
	k = len(out)
	out = append(out, make([]byte, encLen)...)
	fill(r, out[k:])
	return out
}

func fill(r *rand.Rand, b []byte) {
	for i := 0; i < len(b); i += 8 {
		v := r.Uint64()
		for j := i; j < i+8 && j < len(b); j++ {
			b[j] = byte(v)
			v >>= 8
		}
	}
}
