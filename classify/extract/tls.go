package extract

// Bounds of the ClientHello parser.
const (
	// MaxClientHello is the largest handshake message (4-byte header included) ParseClientHello gathers. Real
	// ClientHellos are 0.2–2 KiB (Go 1.26 with an X25519MLKEM768 key share: about 1.5 KiB); a longer claimed
	// length is NotThis.
	MaxClientHello = 64 << 10
	// maxRecordLen is the TLSPlaintext limit, 2^14 bytes (RFC 8446 section 5.1).
	maxRecordLen = 1 << 14
	// MaxServerName is the longest SNI host_name accepted; a DNS name is at most 253 characters.
	MaxServerName = 255
	// MaxSupportedVersions is how many non-GREASE supported_versions entries are kept.
	MaxSupportedVersions = 8
	// minClientHelloBody is legacy_version(2) + random(32) + session_id(1) + cipher_suites(2+2) +
	// compression_methods(1+1).
	minClientHelloBody = 41
)

const (
	extServerName        = 0
	extSupportedVersions = 43
	handshakeClientHello = 1
	recordHandshake      = 0x16
)

// ClientHello is what ParseClientHello reads from a TLS ClientHello. The zero value is ready to use. Reuse one
// ClientHello per goroutine: the parser keeps its reassembly buffer (at most MaxClientHello bytes) between calls,
// so steady-state calls do not allocate. A ClientHello is not safe for concurrent use.
//
// Fields are meaningful only after a call returned Found; every call resets them first.
type ClientHello struct {
	// ServerName is the first host_name of the server_name extension, bytes as sent (not lower-cased, no
	// trailing dot removed), 1..MaxServerName bytes, kept as sent. It is nil when there was no host_name.
	// It aliases either the stream passed to ParseClientHello (ClientHello in one record) or this
	// ClientHello's reassembly buffer (ClientHello over several records), so it is valid until the caller
	// changes the stream or calls ParseClientHello again with this ClientHello. Copy it to keep it.
	ServerName []byte
	// HasSNI reports that a server_name extension was present (even one without a host_name entry).
	HasSNI bool
	// MultipleNames reports more than one host_name entry (RFC 6066 forbids it); ServerName is the first.
	MultipleNames bool
	// LegacyVersion is the ClientHello's legacy_version (0x0300..0x0304; 0x0303 for TLS 1.2 and 1.3).
	LegacyVersion uint16
	// HasSupportedVersions reports that a supported_versions extension was present.
	HasSupportedVersions bool
	// SupportedVersions holds the first NumSupportedVersions non-GREASE entries of supported_versions, in
	// the client's order. Versions returns them as a slice.
	SupportedVersions [MaxSupportedVersions]uint16
	// NumSupportedVersions is how many entries of SupportedVersions are set.
	NumSupportedVersions int
	// Records is how many TLS records the ClientHello spanned (1 unless the client fragmented it).
	Records int

	buf []byte // reassembly of handshake bytes over several records; capacity kept between calls
}

// Versions returns the supported_versions entries as a slice of h.SupportedVersions (no allocation).
func (h *ClientHello) Versions() []uint16 { return h.SupportedVersions[:h.NumSupportedVersions] }

func (h *ClientHello) reset() {
	buf := h.buf[:0]
	*h = ClientHello{buf: buf}
}

// LooksLikeTLS reports whether first starts like a TLS handshake record: content type 22, version major 3,
// minor 0..4. It needs 3 bytes and returns false with fewer; it is a cheap filter to decide whether to buffer a
// stream for ParseClientHello, not proof.
func LooksLikeTLS(first []byte) bool {
	return len(first) >= 3 && first[0] == recordHandshake && first[1] == 3 && first[2] <= 4
}

// TLSRecordPrefix reports whether first, too short for LooksLikeTLS to tell (1 or 2 bytes), could still grow into
// the start of a TLS handshake record: content type 22, then version major 3. A caller deciding what a stream
// holds waits for more bytes while it is true, so that a record header sent a byte per segment is still one.
func TLSRecordPrefix(first []byte) bool {
	switch len(first) {
	case 1:
		return first[0] == recordHandshake
	case 2:
		return first[0] == recordHandshake && first[1] == 3
	}
	return false
}

// ParseClientHello parses the TLS ClientHello at the start of stream, the client's TCP byte stream from its
// first byte, already in order. It follows the ClientHello over as many handshake records as it spans (each
// record 1..2^14 bytes, the handshake message at most MaxClientHello bytes).
//
// It returns NeedMore when stream ends before the ClientHello does (call again with more of the stream),
// NotThis when the stream is not TLS, does not start with a ClientHello or the ClientHello is malformed, and
// Found when out holds the result. Bytes after the ClientHello are ignored. Structure is checked strictly:
// record headers, every length prefix (each read into a bounded sub-slice), legacy_version, session_id length
// <= 32, a non-empty even cipher_suites list, a non-empty compression_methods list, extensions filling the
// message exactly, no duplicate server_name or supported_versions extension, a server_name list that fills its
// extension, and host names of 1..MaxServerName bytes (any bytes: kept as sent).
func ParseClientHello(stream []byte, out *ClientHello) Status {
	out.reset()
	buf := out.buf
	defer func() { out.buf = buf[:0] }()

	var hs []byte // handshake bytes gathered so far
	off := 0
	for rec := 0; ; rec++ {
		rest := stream[off:]
		if len(rest) < 5 {
			if !recordHeaderPrefixOK(rest) {
				return NotThis
			}
			return NeedMore
		}
		if !recordHeaderPrefixOK(rest[:3]) {
			return NotThis
		}
		rl := int(rest[3])<<8 | int(rest[4])
		if rl == 0 || rl > maxRecordLen {
			return NotThis
		}
		body := rest[5:]
		partial := len(body) < rl
		if !partial {
			body = body[:rl:rl]
		}
		if rec == 0 {
			hs = body // ClientHello in the first record: parse in place, no copy
		} else {
			if rec == 1 {
				buf = append(buf[:0], hs...)
			}
			if len(hs) >= 4 {
				// Take no more than the message still needs, so buf stays within MaxClientHello.
				need := 4 + (int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3]))
				if len(body) > need-len(hs) {
					body = body[:need-len(hs)]
				}
			}
			buf = append(buf, body...)
			hs = buf
		}
		out.Records = rec + 1

		if len(hs) >= 1 && hs[0] != handshakeClientHello {
			return NotThis
		}
		if len(hs) >= 4 {
			n := int(hs[1])<<16 | int(hs[2])<<8 | int(hs[3])
			if n < minClientHelloBody || 4+n > MaxClientHello {
				return NotThis
			}
			if len(hs) >= 4+n {
				return parseClientHelloBody(hs[4:4+n:4+n], out)
			}
		}
		if partial {
			return NeedMore
		}
		off += 5 + rl
	}
}

// recordHeaderPrefixOK checks up to the first three bytes of a record header that are present.
func recordHeaderPrefixOK(h []byte) bool {
	return (len(h) < 1 || h[0] == recordHandshake) && (len(h) < 2 || h[1] == 3) && (len(h) < 3 || h[2] <= 4)
}

// parseClientHelloBody parses a complete ClientHello message body (after the 4-byte handshake header).
func parseClientHelloBody(b []byte, out *ClientHello) Status {
	if len(b) < 34 {
		return NotThis
	}
	out.LegacyVersion = uint16(b[0])<<8 | uint16(b[1])
	if out.LegacyVersion < 0x0300 || out.LegacyVersion > 0x0304 {
		return NotThis
	}
	b = b[34:] // legacy_version, random
	sid, b, ok := readU8Prefixed(b)
	if !ok || len(sid) > 32 {
		return NotThis
	}
	suites, b, ok := readU16Prefixed(b)
	if !ok || len(suites) < 2 || len(suites)%2 != 0 {
		return NotThis
	}
	comp, b, ok := readU8Prefixed(b)
	if !ok || len(comp) < 1 {
		return NotThis
	}
	if len(b) == 0 {
		return Found // no extensions (SSL 3.0 and some TLS 1.0 clients)
	}
	exts, b, ok := readU16Prefixed(b)
	if !ok || len(b) != 0 {
		return NotThis
	}
	for len(exts) > 0 {
		if len(exts) < 4 {
			return NotThis
		}
		typ := uint16(exts[0])<<8 | uint16(exts[1])
		var data []byte
		data, exts, ok = readU16Prefixed(exts[2:])
		if !ok {
			return NotThis
		}
		switch typ {
		case extServerName:
			if out.HasSNI || !parseServerName(data, out) {
				return NotThis
			}
			out.HasSNI = true
		case extSupportedVersions:
			if out.HasSupportedVersions || !parseSupportedVersions(data, out) {
				return NotThis
			}
			out.HasSupportedVersions = true
		}
	}
	return Found
}

// parseServerName reads the server_name extension data (RFC 6066 section 3).
func parseServerName(data []byte, out *ClientHello) bool {
	list, rest, ok := readU16Prefixed(data)
	if !ok || len(rest) != 0 || len(list) == 0 {
		return false
	}
	for len(list) > 0 {
		nameType := list[0]
		var name []byte
		name, list, ok = readU16Prefixed(list[1:])
		if !ok {
			return false
		}
		if nameType != 0 { // only host_name (0) is defined; others share its encoding
			continue
		}
		if !validServerName(name) {
			return false
		}
		if out.ServerName != nil {
			out.MultipleNames = true
			continue
		}
		out.ServerName = name
	}
	return true
}

// validServerName accepts 1..MaxServerName bytes, whatever they are. RFC 6066
// asks for an ASCII host name, but what a client on the VM sends is evidence
// as it is: a raw UTF-8 (IDN) name, control characters or escape sequences
// are kept as seen, and every renderer shows them escaped. Names are not
// otherwise checked here (underscores, trailing dots and upper case are the
// caller's to judge).
func validServerName(name []byte) bool {
	return len(name) > 0 && len(name) <= MaxServerName
}

// parseSupportedVersions reads the ClientHello form of supported_versions (RFC 8446 section 4.2.1).
func parseSupportedVersions(data []byte, out *ClientHello) bool {
	list, rest, ok := readU8Prefixed(data)
	if !ok || len(rest) != 0 || len(list) < 2 || len(list)%2 != 0 {
		return false
	}
	for i := 0; i+1 < len(list); i += 2 {
		v := uint16(list[i])<<8 | uint16(list[i+1])
		if isGREASE(v) || out.NumSupportedVersions == MaxSupportedVersions {
			continue
		}
		out.SupportedVersions[out.NumSupportedVersions] = v
		out.NumSupportedVersions++
	}
	return true
}

// isGREASE reports the RFC 8701 reserved values 0x0a0a, 0x1a1a, ..., 0xfafa.
func isGREASE(v uint16) bool { return v&0x0f0f == 0x0a0a && v>>8 == v&0xff }

// readU8Prefixed splits a 1-byte length-prefixed field off b. The field's capacity is capped at its length.
func readU8Prefixed(b []byte) (field, rest []byte, ok bool) {
	if len(b) < 1 {
		return nil, nil, false
	}
	n := int(b[0])
	if len(b)-1 < n {
		return nil, nil, false
	}
	return b[1 : 1+n : 1+n], b[1+n:], true
}

// readU16Prefixed splits a 2-byte length-prefixed field off b. The field's capacity is capped at its length.
func readU16Prefixed(b []byte) (field, rest []byte, ok bool) {
	if len(b) < 2 {
		return nil, nil, false
	}
	n := int(b[0])<<8 | int(b[1])
	if len(b)-2 < n {
		return nil, nil, false
	}
	return b[2 : 2+n : 2+n], b[2+n:], true
}
