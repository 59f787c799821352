package classify

import (
	"net/netip"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/classify/extract"
)

// Bounds of what one direction may buffer before its parser decides.
const (
	maxClientHelloBytes = 64 << 10
	maxHTTPHeadBytes    = 16 << 10
	// A client stream that began with something else is checked for a
	// ClientHello or an HTTP request starting at the start of each of its
	// in-order runs (a segment, with the held segments it joins): STARTTLS
	// (SMTP, IMAP, FTP, LDAP, PostgreSQL), SOCKS and HTTP CONNECT put TLS
	// after a short plain exchange. A run that starts like one but is too
	// short to tell (1 or 2 bytes of a TLS record header, a method without
	// its space) is joined to the next; one that starts like neither is
	// passed over. The direction is given up once maxProbes runs and
	// maxProbeBytes bytes have been passed over, both: a bound in runs alone
	// would end a plain exchange sent a byte per segment after 8 bytes, and
	// one in bytes alone would check fewer runs of full segments than 8.
	// So however the client's bytes are cut, a ClientHello after less than
	// 4 KiB of plain exchange is read. Each check looks at three bytes.
	maxProbes     = 8
	maxProbeBytes = 4 << 10
	// decideBytes is how many bytes a client direction gathers before its
	// parser is chosen: LooksLikeTLS needs 3, and a first segment of 1 or 2
	// bytes is legal TCP. (More would hold back short plain openings, such
	// as PostgreSQL's 8-byte SSLRequest, that a ClientHello follows.) A
	// request method is waited for up to its space, at most MaxMethod
	// bytes, and a PROXY header's start up to its 6-byte "PROXY " or its
	// 12-byte version 2 signature, so that either sent a byte per segment
	// is still one.
	decideBytes = 3
)

// consume hands new in-order bytes of one direction to the parser that the
// first bytes chose, buffering only what a parser needs more of.
func (c *Classifier) consume(f *flow, st *stream, toServer bool, data []byte, p *capture.Packet) {
	buf := data
	if len(st.buf) > 0 {
		if !c.bufs.appendTo(st, data) {
			c.cannotHold(st, len(st.buf)+len(data))
			return
		}
		buf = st.buf
	}
	for {
		if st.state == streamUndecided && toServer && (len(buf) < decideBytes || extract.HTTPMethodPrefix(buf) ||
			extract.ProxyHeaderPrefix(buf)) {
			// Too few bytes to tell a ClientHello, a PROXY header or a
			// request line from anything else, a method not yet
			// followed by its space (at most MaxMethod bytes), or the
			// start of a PROXY header (at most 11 bytes): wait for more.
			if !c.bufs.store(st, buf) {
				c.cannotHold(st, len(buf))
			}
			return
		}
		if st.state == streamUndecided {
			st.state = decide(f, toServer, buf)
		}
		if st.state == streamProbe {
			switch {
			case extract.LooksLikeTLS(buf):
				st.state = streamTLS
			case extract.LooksLikeHTTPRequest(buf):
				st.state = streamHTTP
			case extract.TLSRecordPrefix(buf) || extract.HTTPMethodPrefix(buf):
				// Too short to tell: join the next run to it.
				if !c.bufs.store(st, buf) {
					c.cannotHold(st, len(buf))
				}
				return
			case len(buf) > len(data):
				// Runs joined to such a start did not make one: pass
				// over the earlier ones, and check the newest from its
				// own start, as if nothing had been joined to it.
				st.probe(len(buf) - len(data))
				if st.state == streamDone {
					return
				}
				buf = buf[len(buf)-len(data):]
				continue
			default:
				c.bufs.releaseBuf(st)
				st.probe(len(buf))
				return
			}
		}
		if st.state == streamDone {
			st.finish()
			return
		}
		state := st.state
		var n int
		switch state {
		case streamProxy:
			n = proxyHeader(st, buf)
		case streamTLS:
			n = c.clientHello(f, st, buf, p)
		case streamHTTP:
			n = c.httpRequests(f, st, buf, p)
		case streamDNS, streamDNSQueries:
			n = c.tcpDNS(st, buf, p)
		}
		switch {
		case st.state == streamDone:
			return
		case st.state == streamProbe && n == len(buf):
			// The parser handed back and used the run (a first line that
			// only looked like a request, or CONNECT's head ending it):
			// later runs are probed afresh.
			c.bufs.releaseBuf(st)
			return
		}
		// What follows a PROXY header, or CONNECT's head in the same run,
		// is decided or probed now.
		buf = buf[n:]
		// A PROXY header hands what follows it on to another parser.
		if st.state == state || len(buf) == 0 {
			break
		}
	}
	if !c.bufs.store(st, buf) {
		c.cannotHold(st, len(buf))
	}
}

// cannotHold ends a direction whose n pending bytes the pool would not
// hold, counting it once under the bound that stopped it: the size of one
// direction (maxStreamBuffer, counted as a stream given up) or the memory of
// all of them (counted by the pool).
func (c *Classifier) cannotHold(st *stream, n int) {
	if n > maxStreamBuffer {
		st.giveUp()
		return
	}
	st.finish()
}

// probe passes over one in-order run of n bytes, of a direction in
// streamProbe state, that did not start a ClientHello or a request, and gives
// the direction up once maxProbes runs and maxProbeBytes bytes have been
// passed over.
func (s *stream) probe(n int) {
	s.state = streamProbe
	s.probes = min(s.probes+1, maxProbes)
	s.probed = uint16(min(int(s.probed)+n, maxProbeBytes))
	if s.probes == maxProbes && s.probed == maxProbeBytes {
		s.finish()
	}
}

// decide picks the parser for a direction from its first bytes.
func decide(f *flow, toServer bool, first []byte) streamState {
	switch {
	case toServer && extract.LooksLikeTLS(first):
		return streamTLS
	case toServer && extract.LooksLikeProxyHeader(first):
		return streamProxy
	case toServer && extract.LooksLikeHTTPRequest(first):
		return streamHTTP
	case !toServer && dnsPort(f.server.port()):
		return streamDNS
	case toServer && dnsPort(f.server.port()):
		return streamDNSQueries
	case toServer:
		return streamProbe
	}
	return streamDone
}

// proxyHeader skips a PROXY protocol header (HAProxy and other load balancers
// send one before the client's bytes) and leaves what follows to be decided
// anew. A start that is not a PROXY header is read as an HTTP request line.
func proxyHeader(st *stream, buf []byte) int {
	n, status := extract.ParseProxyHeader(buf)
	switch status {
	case extract.Found:
		st.state = streamUndecided
		return n
	case extract.NeedMore:
		return 0
	}
	st.state = streamHTTP
	return 0
}

// Bounds of what follows a ClientHello in the same direction.
const (
	// maxClientHellos is how many ClientHellos one direction is read for: a
	// second comes after a HelloRetryRequest (RFC 8446 section 4.1.4), and
	// some clients repeat the first.
	maxClientHellos = 4
	// maxCCSBetweenHellos is how many ChangeCipherSpec records may come
	// before the next ClientHello (middlebox compatibility mode, RFC 8446
	// appendix D.4, sends one).
	maxCCSBetweenHellos = 2
)

const (
	tlsChangeCipherSpec = 20 // record content type
	tlsClientHello      = 1  // handshake message type
)

// clientHello reads the ClientHellos at the start of a client's stream: the
// first, and any that follow it directly, after at most a ChangeCipherSpec
// record. Anything else after a ClientHello (a ClientKeyExchange, encrypted
// records, an alert) ends what is readable in the clear.
func (c *Classifier) clientHello(f *flow, st *stream, buf []byte, p *capture.Packet) int {
	used := 0
	for {
		rest := buf[used:]
		if st.found > 0 {
			// After a ClientHello: look at the next record header and the
			// handshake type behind it.
			if len(rest) < 6 {
				return used
			}
			if rest[0] == tlsChangeCipherSpec && rest[1] == 3 && rest[3] == 0 && rest[4] == 1 && st.probes < maxCCSBetweenHellos {
				st.probes++
				used += 6
				continue
			}
			if !extract.LooksLikeTLS(rest) || rest[5] != tlsClientHello {
				st.finish()
				return len(buf)
			}
		}
		switch extract.ParseClientHello(rest, &c.ch) {
		case extract.Found:
			c.sawClientHello(f, st.found == 0, p)
			st.found++
			end := recordsEnd(rest, c.ch.Records)
			if st.found == maxClientHellos || end > len(rest) {
				// Enough, or the last record holds more than the
				// ClientHello and is not all here: nothing to gain.
				st.finish()
				return len(buf)
			}
			used += end
			st.probes = 0
		case extract.NeedMore:
			if len(rest) > maxClientHelloBytes {
				st.giveUp()
			}
			return used
		default:
			st.finish()
			return len(buf)
		}
	}
}

// sawClientHello records a ClientHello read from f's client; first says
// whether it is the connection's first. The flow keeps the first SNI read; a
// later ClientHello whose SNI differs from it (present or not) marks the flow
// AnomalySNIChanged.
func (c *Classifier) sawClientHello(f *flow, first bool, p *capture.Packet) {
	name := c.names.name(c.ch.ServerName)
	version := maxVersion(&c.ch)
	if f.tlsVersion == 0 {
		f.tlsVersion = version
	}
	switch {
	case first:
		f.sni = name
		f.sniAt = refOf(p)
	case name != f.sni:
		f.anomalies |= anomalySNIChanged
		if f.sni == "" {
			f.sni = name // the first named no server: this is the first name
			f.sniAt = refOf(p)
		}
	}
	if c.cfg.OnObservation != nil && name != "" {
		o := c.observation("tls", p, name)
		o.TLSVersion = version
		c.cfg.OnObservation(o)
	}
}

// recordsEnd returns the offset in b just after its first n TLS records (their
// headers are known to be there: ParseClientHello read them). It is past
// len(b) when the last record is not all in b.
func recordsEnd(b []byte, n int) int {
	end := 0
	for range n {
		if len(b)-end < 5 {
			return len(b) + 1
		}
		end += 5 + (int(b[end+3])<<8 | int(b[end+4]))
	}
	return end
}

// httpRequests reads every request head in buf, skipping bodies, and returns
// how many bytes it used.
func (c *Classifier) httpRequests(f *flow, st *stream, buf []byte, p *capture.Packet) int {
	used := 0
	for used < len(buf) {
		rest := buf[used:]
		if st.skip > 0 {
			k := int64(len(rest))
			if k > st.skip {
				k = st.skip
			}
			st.skip -= k
			used += int(k)
			continue
		}
		if st.chunked {
			n, status := st.body.Next(rest)
			switch status {
			case extract.Found:
				st.chunked = false
				used += n
				continue
			case extract.NeedMore:
				return used + n // all of rest
			}
			// Where the body ends is in doubt, so whatever follows may or
			// may not be a request: stop reading.
			st.finish()
			return len(buf)
		}
		if st.found > 0 && (rest[0] == '\r' || rest[0] == '\n') {
			// An empty line before a request line is ignored (RFC 9112
			// section 2.2): some clients end a body with an extra CRLF.
			used++
			continue
		}
		n, status := extract.ParseRequestHead(rest, &c.req)
		switch status {
		case extract.Found:
			c.request(f, p)
			if st.found < maxFound {
				st.found++
			}
			used += n
			if string(c.req.Method) == "CONNECT" {
				// A tunnel follows, usually TLS, from the byte after the
				// head: watch for it.
				st.state = streamProbe
				st.probes, st.probed, st.found = 0, 0, 0
				return used
			}
			if c.req.Ambiguous || c.req.Close {
				// Where this request ends is in doubt, so whatever follows
				// may or may not be a request; or the connection ends with
				// its response, so a server reads no request after it: the
				// Host is taken, the rest is not read.
				st.finish()
				return len(buf)
			}
			if c.req.Chunked {
				st.chunked = true
				st.body = extract.ChunkedBody{}
			} else if c.req.ContentLength > 0 {
				st.skip = c.req.ContentLength
			}
		case extract.NeedMore:
			if len(rest) > maxHTTPHeadBytes {
				st.finish()
			}
			return used
		default:
			if st.found == 0 {
				// The first line only looked like a request: an IMAP tag
				// ("1 STARTTLS"), an FTP or SMTP command ("AUTH TLS"). TLS
				// may follow a plain exchange: watch for it.
				st.probe(len(buf))
				return len(buf)
			}
			// Not a request head where one should start: a tunnel after
			// an Upgrade, or bytes we misread. Stop reading.
			st.finish()
			return used
		}
	}
	return used
}

// request records a request head read from f's client. The host it is for
// (extract.HTTPRequest.Host: an absolute-form target's host, else the Host
// field's, else none) names the flow if no earlier request did; its path is
// kept when it is for the flow's host. Two Host fields mark the flow
// AnomalyHostDuplicated (when they disagree the request names nothing), and
// a target whose host another Host field contradicts AnomalyHostMismatch.
func (c *Classifier) request(f *flow, p *capture.Packet) {
	r := &c.req
	if r.MultipleHosts {
		f.anomalies |= anomalyHostDuplicated
	}
	if r.HostMismatch {
		f.anomalies |= anomalyHostMismatch
	}
	host := ""
	if len(r.Host) > 0 {
		host = c.names.name(clip(r.Host, maxNameBytes))
	}
	path := c.paths.intern(clip(r.Path, maxPathBytes))
	f.requests++
	if c.req.BadLine || c.req.UnknownMethod {
		f.anomalies |= anomalyMalformedRequest
	}
	if f.host == "" && host != "" {
		f.host = host
		f.hostAt = refOf(p)
	}
	if host != "" && host == f.host {
		f.paths = addBounded(f.paths, path, maxPathsPerFlow)
	}
	if c.cfg.OnObservation != nil && host != "" {
		o := c.observation("http", p, host)
		o.Method = string(r.Method)
		o.Path = path
		c.cfg.OnObservation(o)
	}
}

// tcpDNS reads length-prefixed DNS messages: answers from a server's stream,
// queries from a client's.
func (c *Classifier) tcpDNS(st *stream, buf []byte, p *capture.Packet) int {
	used := 0
	for {
		msg, rest, status := extract.SplitTCPDNS(buf[used:])
		switch status {
		case extract.Found:
			if st.state == streamDNSQueries {
				c.dnsQuery(p, msg)
			} else {
				c.dnsMessage(p, msg, false)
			}
			used = len(buf) - len(rest)
		case extract.NeedMore:
			return used
		default:
			st.finish()
			return used
		}
	}
}

// dnsMessage reads a DNS response sent to p's destination and, when it is
// evidence (see requested), remembers for each IPv4 answer the query name and
// CNAME chain that led to it. cut says msg is the start of a message whose end
// the capture lost.
func (c *Classifier) dnsMessage(p *capture.Packet, msg []byte, cut bool) {
	parse := extract.ParseDNSResponse
	if cut {
		parse = extract.ParseDNSResponsePrefix
	}
	if parse(msg, &c.resp) != extract.Found || !queryLayout(c.resp.Opcode) {
		return
	}
	r := &c.resp
	if cut {
		c.trunc.DNSResponses++
		if r.Cut {
			c.trunc.AnswersLost++
		}
	}
	qname := c.names.name(r.QName)
	if qname == "" {
		return
	}
	c.chain = c.chain[:0]
	for _, cn := range r.CNAMEChain {
		c.chain = append(c.chain, c.names.name(cn))
	}
	evidence := c.requested(p)
	client := p.Dst.As4()
	for _, a := range r.A {
		if evidence {
			c.dns.put(newDNSKey(client, a.Addr), qname, c.chain, refOf(p), a.MinTTL)
		}
	}
	if c.cfg.OnObservation != nil {
		o := c.observation("dns", p, qname)
		o.CNAMEs = c.chain
		o.Unrequested = !evidence
		o.A = o.A[:0]
		for _, a := range r.A {
			o.A = append(o.A, netip.AddrFrom4(a.Addr))
		}
		c.cfg.OnObservation(o)
	}
}

// queryLayout reports whether a response's opcode gives its question and
// answer sections the meaning a standard query's have: QUERY (0), and the
// codes no RFC assigns (3 and 7 to 15), which define no other layout (tshark
// reads them as queries too). Not the assigned others: IQUERY (1) answers with
// names in the question section, STATUS (2) was never defined, NOTIFY (4) and
// UPDATE (5) carry a zone in the question and, for UPDATE, prerequisites (not
// facts) where the answers go, DSO (6) has no question. An unassigned opcode
// lets a forger claim nothing a forged QUERY response could not.
func queryLayout(opcode uint8) bool {
	switch opcode {
	case 1, 2, 4, 5, 6:
		return false
	}
	return true
}

func (c *Classifier) observation(kind string, p *capture.Packet, name string) *Observation {
	a := c.obs.A[:0]
	c.obs = Observation{
		Kind: kind, Time: p.Timestamp, Proto: protoName(p.Proto),
		Src: p.Src, Dst: p.Dst, SPort: p.SrcPort, DPort: p.DstPort, Name: name, A: a,
	}
	return &c.obs
}

func protoName(p uint8) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	case 1:
		return "icmp"
	case 47:
		return "gre"
	case 50:
		return "esp"
	}
	return "ip-" + itoa(int(p))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// maxVersion is the highest TLS version a ClientHello offers: the largest of
// supported_versions (TLS 1.3 clients), else the legacy version field.
func maxVersion(ch *extract.ClientHello) uint16 {
	v := ch.LegacyVersion
	for _, x := range ch.Versions() {
		if x > v && x <= 0x0304 {
			v = x
		}
	}
	return v
}

// Bytes kept of a name and of a request path read from a packet: a host name
// is at most 253 bytes, and a path past 1 KiB only matters up to where a
// documented host/path pattern could reach. With the name tables bounded by
// count (Config.MaxNames), this bounds them by bytes too.
const (
	maxNameBytes = 255
	maxPathBytes = 1 << 10
)

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
