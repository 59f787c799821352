package extract

import "bytes"

// Bounds of the PROXY protocol parser.
const (
	// MaxProxyV1 is the longest version 1 header, "PROXY ... \r\n" included (the specification's own limit).
	MaxProxyV1 = 107
	// MaxProxyV2 is the longest version 2 header accepted: the 16-byte fixed part and its addresses and TLVs.
	// HAProxy sends 16+12 bytes for TCP over IPv4, 16+36 for IPv6, plus TLVs of a few dozen bytes; a longer
	// claimed length is NotThis.
	MaxProxyV2 = 16 + 2048
)

// proxyV2Sig is the 12-byte signature that starts a version 2 header.
const proxyV2Sig = "\r\n\r\n\x00\r\nQUIT\n"

// LooksLikeProxyHeader reports whether first starts like a PROXY protocol header (HAProxy's
// proxy-protocol.txt), which a load balancer puts before the client's own bytes: "PROXY " for version 1, the
// 12-byte signature for version 2. It needs 6 bytes ("PROXY ") or 12 (the signature) and returns false with
// fewer; it is a cheap filter, not proof.
func LooksLikeProxyHeader(first []byte) bool {
	return bytes.HasPrefix(first, []byte("PROXY ")) || bytes.HasPrefix(first, []byte(proxyV2Sig))
}

// ProxyHeaderPrefix reports whether first, too short for LooksLikeProxyHeader to tell, could still grow into a
// PROXY protocol header: 1 to 5 bytes of "PROXY ", or 1 to 11 of the version 2 signature. A caller deciding what
// a stream holds waits for more bytes while it is true, so that a header sent a byte per segment is still one.
func ProxyHeaderPrefix(first []byte) bool {
	n := len(first)
	return n > 0 && (n < len("PROXY ") && string(first) == "PROXY "[:n] ||
		n < len(proxyV2Sig) && string(first) == proxyV2Sig[:n])
}

// ParseProxyHeader parses the PROXY protocol header at the start of a client's stream and returns its length n,
// so b[n:] is the first byte the client sent. Found needs the whole header; NeedMore means b is a valid prefix of
// one (n is 0). NotThis (n is 0) means b does not start with a header: for version 1, not "PROXY TCP4 ",
// "PROXY TCP6 " or "PROXY UNKNOWN", a byte outside printable ASCII before the CRLF, or no CRLF within
// MaxProxyV1 bytes; for version 2, a version nibble other than 2, a command other than LOCAL or PROXY, or a
// length past MaxProxyV2. The addresses are not read: they are the load balancer's view, not a name.
func ParseProxyHeader(b []byte) (n int, st Status) {
	if len(b) > 0 && b[0] == 'P' {
		return parseProxyV1(b)
	}
	return parseProxyV2(b)
}

func parseProxyV1(b []byte) (int, Status) {
	const prefix = "PROXY "
	if len(b) < len(prefix) {
		if string(b) != prefix[:len(b)] {
			return 0, NotThis
		}
		return 0, NeedMore
	}
	if string(b[:len(prefix)]) != prefix {
		return 0, NotThis
	}
	lim := b
	if len(lim) > MaxProxyV1 {
		lim = lim[:MaxProxyV1]
	}
	end := len(lim) // end of the line's text so far
	for i := len(prefix); i < len(lim); i++ {
		c := lim[i]
		if c == '\r' {
			if i+1 == len(lim) {
				end = i
				break
			}
			if lim[i+1] != '\n' || !proxyV1Proto(lim[len(prefix):i], true) {
				return 0, NotThis
			}
			return i + 2, Found
		}
		if c < ' ' || c > '~' {
			return 0, NotThis
		}
	}
	if len(b) >= MaxProxyV1 || !proxyV1Proto(lim[len(prefix):end], false) {
		return 0, NotThis
	}
	return 0, NeedMore
}

// proxyV1Proto checks the protocol word of a version 1 header: TCP4 or TCP6 followed by the addresses, or
// UNKNOWN followed by anything or nothing. With whole unset, line may be cut short.
func proxyV1Proto(line []byte, whole bool) bool {
	for _, p := range []string{"TCP4 ", "TCP6 ", "UNKNOWN"} {
		if len(line) < len(p) {
			if !whole && string(line) == p[:len(line)] {
				return true
			}
			continue
		}
		if string(line[:len(p)]) == p && (p != "UNKNOWN" || len(line) == len(p) || line[len(p)] == ' ') {
			return true
		}
	}
	return false
}

func parseProxyV2(b []byte) (int, Status) {
	if len(b) < len(proxyV2Sig) {
		if string(b) != proxyV2Sig[:len(b)] {
			return 0, NotThis
		}
		return 0, NeedMore
	}
	if string(b[:len(proxyV2Sig)]) != proxyV2Sig {
		return 0, NotThis
	}
	if len(b) < 13 {
		return 0, NeedMore
	}
	if verCmd := b[12]; verCmd>>4 != 2 || verCmd&0xf > 1 {
		return 0, NotThis
	}
	if len(b) < 16 {
		return 0, NeedMore
	}
	n := 16 + (int(b[14])<<8 | int(b[15]))
	if n > MaxProxyV2 {
		return 0, NotThis
	}
	if len(b) < n {
		return 0, NeedMore
	}
	return n, Found
}
