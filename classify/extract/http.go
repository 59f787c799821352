package extract

import "bytes"

// Bounds of the HTTP parsers.
const (
	// MaxRequestHead is the longest request head (request line, fields, empty line) ParseRequestHead accepts;
	// without the empty line within it the request is NotThis. Browsers send 0.5–2 KiB; servers reject at
	// 8–16 KiB.
	MaxRequestHead = 16 << 10
	// MaxMethod is the longest method token accepted.
	MaxMethod = 16
	// MaxChunkLine is the longest chunk-size line (size, extensions, CRLF) ChunkedBody accepts.
	MaxChunkLine = 4 << 10
	// MaxTrailer is the longest trailer section (after the last chunk, through the empty line).
	MaxTrailer = 16 << 10
	// maxContentLengthDigits keeps Content-Length within int64.
	maxContentLengthDigits = 18
	// maxChunkSizeDigits keeps a chunk size below 2^60.
	maxChunkSizeDigits = 15
)

// HTTPRequest is what ParseRequestHead reads from an HTTP/1.x request head. The zero value is ready to use.
// Reuse one HTTPRequest per goroutine: a folded Host value, and the path of an absolute-form target that needs a
// "/" put before it, are made in a buffer it keeps between calls (at most MaxRequestHead bytes), so steady-state
// calls do not allocate. Not safe for concurrent use.
//
// Byte-slice fields alias the input of ParseRequestHead, except a Host or HostField that was folded over
// several lines, and a Path made with a "/" put before it, which alias the HTTPRequest's buffer; all are valid
// until the caller changes the input or calls ParseRequestHead again with this HTTPRequest. Fields are
// meaningful only after Found; every call resets them.
//
// Hosts are as sent (case kept, no trailing dot removed) with surrounding whitespace and any ":port" removed; a
// bracketed IPv6 literal loses its brackets ("[::1]:8080" gives "::1"). Two hosts "agree" when they are the same
// name: equal but for ASCII case and trailing dots.
type HTTPRequest struct {
	Method []byte // token of 1..MaxMethod bytes, as sent
	Target []byte // request-target as sent: origin-form "/p?q", absolute-form, authority-form or "*"
	// Version is "HTTP/1.0" or "HTTP/1.1"; when BadLine is set, the version as sent (nil when there was none).
	Version []byte
	// BadLine reports a request line that breaks RFC 9112's grammar but is still a request for a host: a
	// version other than HTTP/1.0 or HTTP/1.1 ("HTTP/1.", "HTTP/1.0.8", "http/1.1"), no version after a target
	// of a method the registry lists ("GET /x"), or spaces around the target. Servers answer 400 and close the
	// connection (section 3), so Close is set too; the Host field still says where the request went.
	BadLine bool
	// UnknownMethod reports a method the IANA HTTP Method Registry does not list ("WEIRD", "get"): servers
	// answer 501 (RFC 9110 section 9.1), but the request still went to its host.
	UnknownMethod bool
	// Host is the host the request is for. When Target is absolute-form ("http://user@host:port/p") or
	// CONNECT's authority-form and names a host, it is that host and HostFromTarget is set: RFC 9112 section
	// 3.2.2 has a server use the target's host and ignore the Host field. Otherwise it is the Host field's
	// (HostField), unless Host fields disagree (HostConflict): then it is empty, since servers differ on which
	// they take.
	Host []byte
	// HostField is the first Host field's value, nil when there is none.
	HostField      []byte
	HasHost        bool // a Host field was present, even if empty
	HostFromTarget bool
	// MultipleHosts reports more than one Host field. RFC 9112 section 3.2 has a server reject the request
	// (400); servers differ on which one they take. The request is also Ambiguous: whether a
	// request after it is read at all depends on the server.
	MultipleHosts bool
	// HostConflict reports Host fields that do not all agree with the first (an empty one agrees with none).
	HostConflict bool
	// HostMismatch reports that Host is the target's and a Host field names another host: a server that reads
	// the Host field, as an origin server not following section 3.2.2 does, serves another name.
	HostMismatch bool
	// Path is what the request asks of its host, as an origin server reads it: for an absolute-form target,
	// the part after the authority, with "/" put before it when it does not start with "/" (an empty path is
	// "/", RFC 9110 section 4.2.3); otherwise Target as sent.
	Path          []byte
	ContentLength int64 // -1 when absent or unusable (see Ambiguous)
	// Chunked reports that the last transfer coding is "chunked"; it overrides ContentLength for framing.
	Chunked bool
	// Ambiguous reports a head that is readable but whose end on the connection is not reliable, so the
	// bytes after it may or may not be a next request depending on which server reads them (request
	// smuggling): an invalid, negative, overflowing or conflicting Content-Length (ContentLength is then
	// -1); a Transfer-Encoding whose last coding is not chunked; both Transfer-Encoding and Content-Length;
	// more than one Transfer-Encoding field; Transfer-Encoding in an HTTP/1.0 request; more than one Host
	// field; a field line whose name is not a token (the field is ignored); a continuation line (obs-fold,
	// joined to its field); or a line starting with whitespace before the first field (ignored). RFC 9112
	// sections 2.2, 3.2, 5.1, 5.2, 6.1 and 6.3 tell a server to reject such a request, close the connection
	// after it, or read it as this parser does; servers do not all agree. Host and the other fields are
	// still set, so the request still names its flow; a caller must not look for another request after it.
	Ambiguous bool
	// Close reports that the connection ends with this request's response (RFC 9112 section 9.6): a "close"
	// connection option, or an HTTP/1.0 request without "keep-alive". A server should not read another
	// request after it, so bytes that follow are not one a caller can count on.
	Close bool

	fold       []byte // joined folded values and made paths; capacity kept between calls
	targetHost []byte // the host Target names, nil if none
	keepAlive  bool   // a "keep-alive" connection option
	hasTE      bool   // a Transfer-Encoding field was present
	badCL      bool   // a Content-Length field was unusable
}

func (r *HTTPRequest) reset() {
	fold := r.fold[:0]
	*r = HTTPRequest{fold: fold, ContentLength: -1}
}

// LooksLikeHTTPRequest reports whether first starts with a method token (1..MaxMethod token characters)
// followed by a space. It is a cheap filter to decide whether to buffer a stream for ParseRequestHead.
func LooksLikeHTTPRequest(first []byte) bool {
	for i := 0; i < len(first) && i <= MaxMethod; i++ {
		if first[i] == ' ' {
			return i > 0
		}
		if !isTokenChar(first[i]) {
			return false
		}
	}
	return false
}

// HTTPMethodPrefix reports whether first, too short for LooksLikeHTTPRequest to tell, could still grow into a
// request line: 1..MaxMethod token bytes and no space yet. A caller deciding what a stream holds waits for more
// bytes while it is true, so that a method sent a byte per segment is still read as one.
func HTTPMethodPrefix(first []byte) bool {
	return len(first) <= MaxMethod && isToken(first)
}

// ParseRequestHead parses the HTTP/1.x request head at the start of b. Found means the whole head, through the
// empty line that ends it, is within b and no longer than MaxRequestHead; n is its length in bytes, so b[n:]
// starts the body (ContentLength bytes, or a chunked body: see ChunkedBody) or the next request, unless
// Ambiguous is set. Lines may end in CRLF or a bare LF. NeedMore means b is a valid prefix of a head (n is 0).
// NotThis means not a request or a malformed one: a method that is not a token of 1..MaxMethod bytes, a
// request line without a target, a target with control bytes, a line that is no HTTP request line even as
// servers would refuse it (see BadLine: another protocol's command, HTTP/2's preface), a field line without a
// colon or with an empty name, NUL or a bare CR in a field line, or no end of head within MaxRequestHead bytes.
// A request line that breaks the grammar but is still a request for a host (a version other than HTTP/1.0 or
// HTTP/1.1, none, stray spaces) gives Found with BadLine set: the destination is the fact that matters.
//
// A target may hold spaces ("GET /a b HTTP/1.1"): RFC 9112 forbids them, but nginx accepts them (its
// space_in_uri), and the version at the end of the line keeps the split unambiguous. Framing faults that
// servers disagree on (Content-Length, Transfer-Encoding, field names) give Found with Ambiguous set, not
// NotThis: see HTTPRequest.Ambiguous.
//
// Continuation lines (obs-fold, RFC 9112 section 5.2) are joined to their field's value with one space, and make
// the request Ambiguous.
func ParseRequestHead(b []byte, out *HTTPRequest) (n int, st Status) {
	out.reset()
	lim := b
	if len(lim) > MaxRequestHead {
		lim = lim[:MaxRequestHead]
	}
	// more says what running out of bytes means: wait, unless the head is already too long.
	more := func() (int, Status) {
		if len(b) >= MaxRequestHead {
			return 0, NotThis
		}
		return 0, NeedMore
	}

	i := bytes.IndexByte(lim, '\n')
	if i < 0 {
		if !methodPrefixOK(lim) {
			return 0, NotThis
		}
		return more()
	}
	if !parseRequestLine(trimCR(lim[:i]), out) && !parseBadRequestLine(trimCR(lim[:i]), out) {
		return 0, NotThis
	}
	target, rest, absolute := targetAuthority(out.Method, out.Target)
	out.targetHost = target
	out.UnknownMethod = !registeredMethod(out.Method)
	off := i + 1
	for {
		j := bytes.IndexByte(lim[off:], '\n')
		if j < 0 {
			return more()
		}
		line := trimCR(lim[off : off+j])
		off += j + 1
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			// Whitespace before the first field: RFC 9112 section 2.2 lets a server reject the request or
			// ignore the line, and one that does neither reads a field in it. Ignored, and in doubt.
			if !fieldValueOK(line) {
				return 0, NotThis
			}
			out.Ambiguous = true
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !fieldValueOK(line) {
			return 0, NotThis
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		kind := fieldKind(name)
		if !isToken(name) {
			// "Host :", "Content-Length\x0b:", "U}grade:": some servers reject the request, some
			// ignore the line, some read a framing field into it. Ignore it, and say the framing is
			// in doubt.
			kind = fieldInvalid
			out.Ambiguous = true
		}

		// Continuation lines: the field ends at the first line not starting with SP or HTAB.
		folded := false
		foldStart := len(out.fold)
		for {
			if off >= len(lim) {
				return more()
			}
			if lim[off] != ' ' && lim[off] != '\t' {
				break
			}
			j := bytes.IndexByte(lim[off:], '\n')
			if j < 0 {
				return more()
			}
			cont := trimCR(lim[off : off+j])
			off += j + 1
			if !fieldValueOK(cont) {
				return 0, NotThis
			}
			// obs-fold: a server may join the line to the field, reject the request or read a field of
			// its own in it (" Content-Length: 5").
			out.Ambiguous = true
			if kind == fieldOther || kind == fieldInvalid {
				continue
			}
			if !folded {
				out.fold = append(out.fold, value...)
				folded = true
			}
			if cont = trimOWS(cont); len(cont) > 0 {
				if len(out.fold) > foldStart {
					out.fold = append(out.fold, ' ')
				}
				out.fold = append(out.fold, cont...)
			}
		}
		if folded {
			value = out.fold[foldStart:len(out.fold):len(out.fold)]
		}
		if !out.field(kind, value) {
			return 0, NotThis
		}
	}
	if out.hasTE {
		// RFC 9112 section 6.3: a request whose last transfer coding is not chunked has no reliable
		// length; one with both Transfer-Encoding and Content-Length must close the connection after it.
		// Section 6.1: an HTTP/1.0 request with Transfer-Encoding has faulty framing.
		if !out.Chunked || out.ContentLength >= 0 || out.badCL || string(out.Version) == "HTTP/1.0" {
			out.Ambiguous = true
		}
	}
	if out.Ambiguous {
		out.ContentLength = -1
	}
	if string(out.Version) == "HTTP/1.0" && !out.keepAlive || out.BadLine {
		out.Close = true
	}
	switch {
	case target != nil:
		out.Host, out.HostFromTarget = target, true
	case !out.HostConflict:
		out.Host = out.HostField
	}
	out.Path = out.Target
	if absolute {
		out.Path = rest
		if len(rest) == 0 || rest[0] != '/' {
			start := len(out.fold)
			out.fold = append(append(out.fold, '/'), rest...)
			out.Path = out.fold[start:len(out.fold):len(out.fold)]
		}
	}
	return off, Found
}

const (
	fieldOther = iota
	fieldHost
	fieldContentLength
	fieldTransferEncoding
	fieldConnection
	fieldInvalid // a name that is not a token: ignored
)

func fieldKind(name []byte) int {
	switch {
	case equalFoldString(name, "host"):
		return fieldHost
	case equalFoldString(name, "content-length"):
		return fieldContentLength
	case equalFoldString(name, "transfer-encoding"):
		return fieldTransferEncoding
	case equalFoldString(name, "connection"):
		return fieldConnection
	}
	return fieldOther
}

// field records one complete field value; false means the request is malformed.
func (r *HTTPRequest) field(kind int, value []byte) bool {
	switch kind {
	case fieldHost:
		h := stripPort(value)
		if r.targetHost != nil && len(h) > 0 && !sameHost(h, r.targetHost) {
			r.HostMismatch = true
		}
		if r.HasHost {
			r.MultipleHosts = true
			r.Ambiguous = true
			if !sameHost(h, r.HostField) || len(h) == 0 {
				r.HostConflict = true
			}
			return true
		}
		r.HasHost = true
		r.HostField = h
	case fieldContentLength:
		v, ok := parseContentLength(value)
		if !ok || (r.ContentLength >= 0 && r.ContentLength != v) {
			r.badCL = true
			r.Ambiguous = true
			return true
		}
		r.ContentLength = v
	case fieldTransferEncoding:
		if r.hasTE {
			// Servers differ on which of several fields they read.
			r.Ambiguous = true
		}
		r.hasTE = true
		// The last coding of the last field decides; codings are a comma-separated list.
		last := value
		if k := bytes.LastIndexByte(value, ','); k >= 0 {
			last = value[k+1:]
		}
		r.Chunked = equalFoldString(trimOWS(last), "chunked")
	case fieldConnection:
		for len(value) > 0 {
			opt := value
			if k := bytes.IndexByte(value, ','); k >= 0 {
				opt, value = value[:k], value[k+1:]
			} else {
				value = nil
			}
			opt = trimOWS(opt)
			r.Close = r.Close || equalFoldString(opt, "close")
			r.keepAlive = r.keepAlive || equalFoldString(opt, "keep-alive")
		}
	}
	return true
}

// parseRequestLine splits "METHOD SP target SP HTTP/1.x".
func parseRequestLine(line []byte, out *HTTPRequest) bool {
	sp1 := bytes.IndexByte(line, ' ')
	sp2 := bytes.LastIndexByte(line, ' ')
	if sp1 < 1 || sp1 > MaxMethod || sp2 <= sp1+1 || !isToken(line[:sp1]) {
		return false
	}
	target, version := line[sp1+1:sp2], line[sp2+1:]
	if target[0] == ' ' || target[len(target)-1] == ' ' {
		return false
	}
	for _, c := range target {
		if c < ' ' || c == 0x7f {
			return false
		}
	}
	if string(version) != "HTTP/1.1" && string(version) != "HTTP/1.0" {
		return false
	}
	out.Method, out.Target, out.Version = line[:sp1:sp1], target[:len(target):len(target)], version[:8:8]
	return true
}

// parseBadRequestLine splits a request line parseRequestLine refused but that is still a request for a host
// (see HTTPRequest.BadLine): a method token, then a target of no control bytes with spaces around it, then a
// version starting with "HTTP/" in any case; or no version, when the method is one the registry lists and the
// target is one word with a request-target's form, so that a command of another protocol (IMAP's "a1
// STARTTLS", FTP's "AUTH TLS", RTSP's "OPTIONS rtsp://a/ RTSP/1.0") is not taken for one. HTTP/2's connection preface ("PRI * HTTP/2.0") is not an HTTP/1.x request.
func parseBadRequestLine(line []byte, out *HTTPRequest) bool {
	sp := bytes.IndexByte(line, ' ')
	if sp < 1 || sp > MaxMethod || !isToken(line[:sp]) {
		return false
	}
	method, rest := line[:sp:sp], trimOWS(line[sp+1:])
	target, version := rest, []byte(nil)
	if k := bytes.LastIndexByte(rest, ' '); k >= 0 && len(rest)-k > 5 && equalFoldString(rest[k+1:k+6], "http/") {
		target, version = trimOWS(rest[:k]), rest[k+1:]
	}
	if len(target) == 0 || string(method) == "PRI" && string(version) == "HTTP/2.0" {
		return false
	}
	for _, c := range target {
		if c < ' ' || c == 0x7f {
			return false
		}
	}
	if version == nil && (bytes.IndexByte(target, ' ') >= 0 || !registeredMethod(method) || !targetForm(method, target)) {
		return false // another protocol's line: "OPTIONS rtsp://a/ RTSP/1.0"
	}
	out.Method, out.Target, out.Version = method, target[:len(target):len(target)], version
	out.BadLine = true
	return true
}

// targetForm reports whether target has the form of a request-target for method: origin-form ("/p"),
// absolute-form ("scheme://..."), "*" for OPTIONS, or CONNECT's authority-form ("host:port").
func targetForm(method, target []byte) bool {
	switch {
	case string(method) == "CONNECT":
		return bytes.IndexByte(target, ':') > 0
	case target[0] == '/':
		return true
	case string(target) == "*":
		return string(method) == "OPTIONS"
	}
	return bytes.Contains(target, []byte("://"))
}

// registeredMethod reports whether m is in the IANA HTTP Method Registry (as of 2025; methods are
// case-sensitive).
func registeredMethod(m []byte) bool {
	switch string(m) {
	case "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
		"ACL", "BASELINE-CONTROL", "BIND", "CHECKIN", "CHECKOUT", "COPY", "LABEL", "LINK", "LOCK", "MERGE",
		"MKACTIVITY", "MKCALENDAR", "MKCOL", "MKREDIRECTREF", "MKWORKSPACE", "MOVE", "ORDERPATCH", "PRI",
		"PROPFIND", "PROPPATCH", "QUERY", "REBIND", "REPORT", "SEARCH", "UNBIND", "UNCHECKOUT", "UNLINK",
		"UNLOCK", "UPDATE", "UPDATEREDIRECTREF", "VERSION-CONTROL":
		return true
	}
	return false
}

// methodPrefixOK checks the start of an unfinished request line: token bytes, at most MaxMethod of them
// before the first space.
func methodPrefixOK(b []byte) bool {
	for i, c := range b {
		if c == ' ' {
			return i > 0
		}
		if i >= MaxMethod || !isTokenChar(c) {
			return false
		}
	}
	return true
}

// fieldValueOK rejects NUL and CR inside a field line (request smuggling vectors).
func fieldValueOK(v []byte) bool {
	for _, c := range v {
		if c == 0 || c == '\r' {
			return false
		}
	}
	return true
}

// stripPort removes ":port" (digits, possibly none) from a host, and the brackets of an IPv6 literal.
func stripPort(h []byte) []byte {
	h = trimOWS(h)
	if len(h) > 0 && h[0] == '[' {
		if k := bytes.IndexByte(h, ']'); k > 0 {
			return h[1:k:k]
		}
		return h[:len(h):len(h)]
	}
	k := bytes.LastIndexByte(h, ':')
	if k < 0 || bytes.IndexByte(h[:k], ':') >= 0 || !allDigits(h[k+1:]) {
		return h[:len(h):len(h)] // no port, or a bare IPv6 address
	}
	return h[:k:k]
}

// targetAuthority returns the host an absolute-form target ("scheme://[userinfo@]host[:port][/?#...]") or
// CONNECT's authority-form target names, nil when it names none. For an absolute-form target, absolute is set and
// rest is what follows the authority ("" or starting with '/', '?' or '#').
func targetAuthority(method, target []byte) (host, rest []byte, absolute bool) {
	if string(method) == "CONNECT" {
		if h := stripPort(target); len(h) > 0 {
			return h, nil, false
		}
		return nil, nil, false
	}
	// scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
	i := 0
	for i < len(target) && (isAlpha(target[i]) || i > 0 && (isDigit(target[i]) || target[i] == '+' ||
		target[i] == '-' || target[i] == '.')) {
		i++
	}
	if i == 0 || len(target)-i < 3 || string(target[i:i+3]) != "://" {
		return nil, nil, false
	}
	auth := target[i+3:]
	for k, c := range auth {
		if c == '/' || c == '?' || c == '#' {
			auth, rest = auth[:k], auth[k:]
			break
		}
	}
	if k := bytes.LastIndexByte(auth, '@'); k >= 0 {
		auth = auth[k+1:]
	}
	if h := stripPort(auth); len(h) > 0 {
		return h, rest, true
	}
	return nil, rest, true
}

// sameHost reports whether two hosts are the same name: equal but for ASCII case and trailing dots.
func sameHost(a, b []byte) bool {
	a, b = bytes.TrimRight(a, "."), bytes.TrimRight(b, ".")
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

// parseContentLength accepts 1*DIGIT, leading zeros allowed, or a comma-separated list of identical values
// (RFC 9110 section 8.6). Values of more than maxContentLengthDigits significant digits are refused.
func parseContentLength(v []byte) (int64, bool) {
	var first int64 = -1
	for len(v) > 0 || first < 0 {
		item := v
		k := bytes.IndexByte(v, ',')
		if k >= 0 {
			item, v = v[:k], v[k+1:]
		} else {
			v = nil
		}
		item = trimOWS(item)
		if len(item) == 0 || !allDigits(item) {
			return 0, false
		}
		for len(item) > 1 && item[0] == '0' {
			item = item[1:]
		}
		if len(item) > maxContentLengthDigits {
			return 0, false
		}
		var n int64
		for _, c := range item {
			n = n*10 + int64(c-'0')
		}
		if first >= 0 && n != first {
			return 0, false
		}
		first = n
	}
	return first, true
}

// chunk-body parser states: where in the grammar of RFC 9112 section 7.1 the next byte falls.
const (
	chunkSize         = iota // hex digits of a chunk size (the zero value: the start of a body)
	chunkSizeWS              // BWS after the size: ";" or CR next
	chunkExtName             // BWS then the first byte of an extension's name, after ";"
	chunkExtNameIn           // inside an extension's name
	chunkExtAfter            // BWS after a name: ";", "=" or CR next
	chunkExtValue            // BWS then a token or a quoted string, after "="
	chunkExtToken            // inside a token value
	chunkExtQuoted           // inside a quoted string
	chunkExtPair             // after a backslash in a quoted string
	chunkExtEnd              // BWS after a value: ";" or CR next
	chunkSizeLF              // LF ending a chunk-size line
	chunkData                // chunk data: left bytes to skip
	chunkDataCR              // CR after chunk data
	chunkDataLF              // LF after chunk data
	chunkTrailer             // the first byte of a trailer line, or CR of the empty line
	chunkTrailerName         // inside a trailer field's name
	chunkTrailerValue        // inside a trailer field's value
	chunkTrailerLF           // LF ending a trailer field line
	chunkLastLF              // LF of the empty line that ends the body
	chunkEnded               // Found was returned
	chunkBad                 // NotThis was returned
)

// ChunkedBody reads a chunked message body (RFC 9112 section 7.1) as a TCP stream delivers it, in pieces of any
// size: chunks, the last chunk "0", a trailer section and the empty line that ends it. It keeps its place between
// calls, so nothing is buffered, neither chunk data (skipped, whatever its size) nor lines (checked a byte at a
// time). The zero value is at the start of a body; one ChunkedBody reads one body (assign ChunkedBody{} to read
// another). It allocates nothing and is 16 bytes.
//
// It is strict where servers disagree, because a body whose end is read differently by two servers hides a
// request (request smuggling): every line must end in CRLF (section 2.2 allows a bare LF for the start line and
// fields, not for chunk lines, and servers differ on it); a chunk size is 1..15 hex digits, nothing before them;
// chunk data must be followed by CRLF; an extension is ";" name ["=" value] with BWS around ";" and "=", the name a
// token, the value a token or a quoted string; a trailer line is a field name (a token) directly followed by ":"
// and a value without NUL or CR, and no line may start with whitespace (obs-fold). A chunk-size line may hold
// MaxChunkLine bytes with its CRLF, the trailer section MaxTrailer bytes through the empty line.
type ChunkedBody struct {
	left   uint64 // chunkData: data bytes left; chunkSize: the size read so far
	n      uint16 // bytes of the chunk-size line, or of the trailer section, so far
	state  uint8
	digits uint8 // hex digits of the chunk size read
}

// Next reads b, the bytes of the stream that follow those of the previous call (or the head, at the first call).
// It returns:
//   - Found, when the body ends within b: b[n:] is what follows it, the next request. Later calls return 0, Found.
//   - NeedMore, when all of b belongs to the body and it goes on (n is len(b)): call again with the next bytes.
//   - NotThis, when the body is malformed or its end in doubt (see ChunkedBody): b[n] is the byte that showed
//     it (or, for a line over its bound, the first byte past the bound). Later calls return 0, NotThis.
//
// Fed the same bytes in any pieces, it gives the same outcome at the same byte of the stream.
func (c *ChunkedBody) Next(b []byte) (n int, st Status) {
	for i := 0; i < len(b); i++ {
		x := b[i]
		switch c.state {
		case chunkData:
			k := uint64(len(b) - i)
			if k >= c.left {
				i += int(c.left) - 1
				c.left = 0
				c.state = chunkDataCR
				continue
			}
			c.left -= k
			return len(b), NeedMore
		case chunkDataCR:
			if x != '\r' {
				return c.bad(i)
			}
			c.state = chunkDataLF
			continue
		case chunkDataLF:
			if x != '\n' {
				return c.bad(i)
			}
			c.state, c.n, c.left, c.digits = chunkSize, 0, 0, 0
			continue
		case chunkEnded:
			return 0, Found
		case chunkBad:
			return 0, NotThis
		}

		// A line: count its bytes against its bound.
		c.n++
		if c.state >= chunkTrailer {
			if int(c.n) > MaxTrailer {
				return c.bad(i)
			}
		} else if int(c.n) > MaxChunkLine {
			return c.bad(i)
		}
		ws := x == ' ' || x == '\t'
		switch c.state {
		case chunkSize:
			d, ok := hexDigit(x)
			switch {
			case ok && c.digits < maxChunkSizeDigits:
				c.left = c.left<<4 | uint64(d)
				c.digits++
			case c.digits == 0 || ok:
				return c.bad(i) // no digit, or a 16th
			case ws:
				c.state = chunkSizeWS
			case x == ';':
				c.state = chunkExtName
			case x == '\r':
				c.state = chunkSizeLF
			default:
				return c.bad(i)
			}
		case chunkSizeWS, chunkExtAfter, chunkExtEnd:
			switch {
			case ws:
			case x == ';':
				c.state = chunkExtName
			case x == '=' && c.state == chunkExtAfter:
				c.state = chunkExtValue
			case x == '\r':
				c.state = chunkSizeLF
			default:
				return c.bad(i)
			}
		case chunkExtName:
			switch {
			case ws:
			case isTokenChar(x):
				c.state = chunkExtNameIn
			default:
				return c.bad(i)
			}
		case chunkExtNameIn, chunkExtToken:
			switch {
			case isTokenChar(x):
			case ws && c.state == chunkExtNameIn:
				c.state = chunkExtAfter
			case ws:
				c.state = chunkExtEnd
			case x == ';':
				c.state = chunkExtName
			case x == '=' && c.state == chunkExtNameIn:
				c.state = chunkExtValue
			case x == '\r':
				c.state = chunkSizeLF
			default:
				return c.bad(i)
			}
		case chunkExtValue:
			switch {
			case ws:
			case x == '"':
				c.state = chunkExtQuoted
			case isTokenChar(x):
				c.state = chunkExtToken
			default:
				return c.bad(i)
			}
		case chunkExtQuoted:
			switch {
			case x == '"':
				c.state = chunkExtEnd
			case x == '\\':
				c.state = chunkExtPair
			case !qdtext(x):
				return c.bad(i)
			}
		case chunkExtPair:
			if !ws && (x < 0x21 || x == 0x7f) {
				return c.bad(i)
			}
			c.state = chunkExtQuoted
		case chunkSizeLF:
			if x != '\n' {
				return c.bad(i)
			}
			if c.left > 0 {
				c.state = chunkData
				continue
			}
			c.state, c.n = chunkTrailer, 0
		case chunkTrailer:
			switch {
			case x == '\r':
				c.state = chunkLastLF
			case isTokenChar(x):
				c.state = chunkTrailerName
			default:
				return c.bad(i) // obs-fold, or not a field
			}
		case chunkTrailerName:
			switch {
			case x == ':':
				c.state = chunkTrailerValue
			case !isTokenChar(x):
				return c.bad(i)
			}
		case chunkTrailerValue:
			switch x {
			case '\r':
				c.state = chunkTrailerLF
			case 0, '\n':
				return c.bad(i)
			}
		case chunkTrailerLF, chunkLastLF:
			if x != '\n' {
				return c.bad(i)
			}
			if c.state == chunkLastLF {
				c.state = chunkEnded
				return i + 1, Found
			}
			c.state = chunkTrailer
		}
	}
	switch c.state {
	case chunkEnded:
		return 0, Found
	case chunkBad:
		return 0, NotThis
	}
	return len(b), NeedMore
}

func (c *ChunkedBody) bad(i int) (int, Status) {
	c.state = chunkBad
	return i, NotThis
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// qdtext reports whether c may stand unescaped in a quoted string: HTAB, SP, VCHAR but '"' and '\\', obs-text.
func qdtext(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || c >= 0x23 && c != '\\' && c != 0x7f
}

func isTokenChar(c byte) bool {
	switch {
	case isAlpha(c), isDigit(c):
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !isTokenChar(c) {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}

// trimOWS removes spaces and tabs at both ends.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

func equalFoldString(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := range b {
		if lowerASCII(b[i]) != lower[i] {
			return false
		}
	}
	return true
}
