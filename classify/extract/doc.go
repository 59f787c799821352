// Package extract holds pure wire parsers over payload bytes: the TLS ClientHello (SNI, versions), DNS
// responses (question, CNAME chain, A answers), DNS queries (header and first question), HTTP/1.x request heads (Host, body framing) and the PROXY
// protocol header a load balancer puts before a client's bytes.
//
// The parsers do no I/O, keep no global state, import nothing but the standard library's bytes package, and
// never panic on hostile input: every length-prefixed field is read into a sub-slice bounded by its length (and
// capacity-capped, so an append through it cannot overwrite what follows), every loop is bounded by the input
// length or a constant below.
//
// # Three outcomes
//
// Every parser returns a Status:
//
//   - Found: the message is complete and well formed; the output struct is filled in. One exception: an HTTP
//     request head whose framing servers disagree on (conflicting or invalid Content-Length, a
//     Transfer-Encoding not ending in chunked, a field name that is not a token, two Host fields) is Found
//     with HTTPRequest.Ambiguous set, so its Host still names the flow while the caller stops reading after
//     it. Which host a request is for follows RFC 9112 section 3.2.2: an absolute-form target's host wins over
//     the Host field (HTTPRequest.HostMismatch says when they differ), and Host fields that disagree name
//     nothing (HTTPRequest.HostConflict).
//   - NeedMore: the bytes are a valid prefix and the message goes on beyond them. Call again with the same
//     first byte and more bytes. Only stream parsers say this (ParseClientHello, ParseRequestHead,
//     SplitTCPDNS, ParseProxyHeader), and ParseDNSQuery, which reads only a message's header and first question
//     and so behaves like one; a DNS response is whole by definition. ChunkedBody is the one resumable parser: a
//     chunked body has no bound, so it keeps its place between calls and takes only the bytes that follow those
//     it has read.
//   - NotThis: not this protocol, or this protocol malformed. More bytes will not change the answer.
//     Malformed input is data, not an error: callers count it.
//
// The outcomes are stable as a stream grows, and the fuzz targets check it: a Found input stays Found, with
// the same result, when bytes are appended; every prefix of a Found stream is NeedMore or Found, never NotThis;
// a NotThis stream stays NotThis when bytes are appended; ChunkedBody gives the same outcome at the same byte
// however the stream is cut into calls. (A DNS message is not a stream: a cut message is
// NotThis even though more bytes could complete it. When the capture lost a message's end, the caller uses
// ParseDNSResponsePrefix, which reads the records that are whole and sets DNSResponse.Cut.)
//
// # Buffers and ownership
//
// Each parser writes into a caller-owned output struct (ClientHello, DNSResponse, HTTPRequest) whose zero value
// is ready. Output slices alias either the input bytes or a buffer inside the output struct; they are valid
// until the caller changes the input or passes the same struct to the parser again. Copy what you keep. The
// struct keeps its buffers' capacity between calls, so after the first calls have grown them a parser
// allocates nothing (tests check testing.AllocsPerRun == 0). A struct is not safe for concurrent use: keep one
// per goroutine.
//
// # Bounds
//
//   - TLS: records of 1..16384 bytes; the ClientHello message at most MaxClientHello (64 KiB) over any number
//     of records, gathered into the ClientHello's buffer only when it spans more than one record (one record
//     is parsed in place); SNI host names of 1..255 bytes, kept as sent; 8 supported_versions kept.
//   - DNS: names of at most 255 wire bytes and labels of at most 63; compression pointers must go strictly
//     backwards, each before the previous jump target, so they cannot loop, and a name follows at most
//     MaxPointerJumps (126) of them, so work stays linear in the message; decoded names share an arena of
//     MaxDNSArena (8 KiB); 64 CNAME records remembered, chains followed to 32 names, 64 A answers kept;
//     beyond these the response is still Found with DNSResponse.Clipped set.
//   - HTTP: a request head of at most MaxRequestHead (16 KiB); methods of at most 16 token bytes; Content-Length
//     of at most 18 significant digits (leading zeros are allowed); chunk-size lines of at most 4 KiB and
//     trailers of at most 16 KiB.
//   - PROXY: a version 1 line of at most MaxProxyV1 (107) bytes, a version 2 header of at most MaxProxyV2.
//
// # Why a hand-written DNS parser
//
// golang.org/x/net/dns/dnsmessage (in go.mod) can be driven without allocating (Parser.Start, Question,
// AnswerHeader, CNAMEResource, AResource), but every name it returns is a Name value, a 255-byte array copied out
// per call, in its own dotted form with a trailing dot; following a CNAME chain by owner name needs every CNAME's
// owner and target kept until the section ends, so they would be copied a second time into an arena anyway. Its
// pointer rule is a count (at most 10 jumps), where this package wants the stricter "each pointer strictly
// before the last" that makes a loop impossible by construction. The parser here is about 400 lines in dns.go:
// it walks the answer section twice, copies only the names it keeps into one arena, and matches A owners against
// the chain by a case-folded hash first. The tests use dnsmessage's Builder to make messages.
//
// # Performance
//
// go test -bench . -benchmem on the shared 2-core development VM (Go 1.26), 0 allocs/op everywhere, measured
// 2026-11-29 outside make bench: the rows marked "~" when the parsers were written (load average about 13 from
// other work, so treat them as upper bounds); the three real DNS answers later that day, after a name that only
// points at one already decoded was taken as that name (5 runs each, the code before and after in one session):
//
//	ParseClientHello  Go 1.26 hello, 1507 B, one record           ~70 ns
//	ParseClientHello  OpenSSL hello over three records, 1367 B     ~110 ns (one copy into the buffer)
//	ParseDNSResponse  www.github.com, 1 CNAME, 1 A                 132 ns (155 before)
//	ParseDNSResponse  ctldl.windowsupdate.com, 6 CNAMEs            438 ns (810 before)
//	ParseDNSResponse  res.wx.qq.com, 4 CNAMEs, 9 A                 650 ns (1116 before)
//	ParseDNSResponse  hostile 64 KiB, 4000 answers x 126 jumps     ~2.3 ms (150 ms before MaxPointerJumps)
//	ParseDNSQuery     ctldl.windowsupdate.com query, 41 B          ~40 ns (up to 90 on a busy spell)
//	ParseRequestHead  curl GET, 98 B                               ~90 ns
package extract
