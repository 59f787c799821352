package extract

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Properties every fuzz target checks, besides not panicking:
//   - outputs stay within the documented bounds;
//   - Found stays Found, with the same result, when bytes are appended;
//   - for the stream parsers, NotThis stays NotThis when bytes are appended (not for ParseDNSResponse: a DNS
//     message is whole, and a cut one is NotThis although more bytes could complete it);
//   - for the stream parsers, prefixes of a Found input are NeedMore or Found (never NotThis), and a Found
//     input cut just before its end (n-1 bytes) is NeedMore.

// seedFixtures adds every testdata file whose name starts with prefix.
func seedFixtures(f *testing.F, prefix string) {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", prefix+"*.bin"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no fixtures %s*.bin in testdata", prefix)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// junk is appended to inputs to check that trailing bytes change nothing.
const junk = ("\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00GET / HTTP/1.1\r\n\r\n\x00\xc0\x0c")

func FuzzParseClientHello(f *testing.F) {
	seedFixtures(f, "tls_")
	frag := readFixture(f, "tls_openssl_client_hello_frag512.bin")
	f.Add(frag[:700])
	f.Add(hello(sniExt("a.test", "b.test"), versionsExt(0x0a0a, 0x0304)))
	f.Add(hello(ext(extServerName, []byte{0, 9, 0, 0, 20, 'a'})))
	f.Fuzz(func(t *testing.T, in []byte) {
		var h, h2 ClientHello
		st := ParseClientHello(in, &h)
		got := gotHello(st, &h)
		if st == Found {
			if n := len(h.ServerName); h.ServerName != nil && (!validServerName(h.ServerName) || n > MaxServerName) {
				t.Fatalf("ParseClientHello(%x).ServerName = %q; want 1..255 bytes", in, h.ServerName)
			}
			if h.MultipleNames && h.ServerName == nil || h.ServerName != nil && !h.HasSNI {
				t.Fatalf("ParseClientHello(%x) = %v; inconsistent SNI flags", in, got)
			}
			if h.NumSupportedVersions > MaxSupportedVersions || h.Records < 1 || cap(h.buf) > 2*MaxClientHello {
				t.Fatalf("ParseClientHello(%x) = %v, buf cap %d; out of bounds", in, got, cap(h.buf))
			}
			for _, v := range h.Versions() {
				if isGREASE(v) {
					t.Fatalf("ParseClientHello(%x).Versions() = %#04x; want no GREASE", in, h.Versions())
				}
			}
			if h.Records == 1 && !bytes.Contains(in, h.ServerName) { // over several records it may be split
				t.Fatalf("ParseClientHello(%x).ServerName = %q; not in the input", in, h.ServerName)
			}
			for _, cut := range []int{len(in) - 1, len(in) / 2, 5} {
				if cut < 0 || cut >= len(in) {
					continue
				}
				if pst := ParseClientHello(in[:cut], &h2); pst == NotThis ||
					pst == Found && gotHello(pst, &h2).String() != got.String() {
					t.Fatalf("ParseClientHello(%x[:%d]) = %v; want need_more or %v", in, cut, gotHello(pst, &h2), got)
				}
			}
		}
		if TLSRecordPrefix(in) && st != NeedMore || st == Found && !LooksLikeTLS(in) {
			t.Fatalf("ParseClientHello(%x) = %v; TLSRecordPrefix %v, LooksLikeTLS %v disagree", in, got, TLSRecordPrefix(in), LooksLikeTLS(in))
		}
		if st != NeedMore {
			if got2 := gotHello(ParseClientHello(append(in[:len(in):len(in)], junk...), &h2), &h2); got2.String() != got.String() {
				t.Fatalf("ParseClientHello(%x + junk) = %v; want %v", in, got2, got)
			}
		}
	})
}

func FuzzParseDNSResponse(f *testing.F) {
	seedFixtures(f, "dns_udp_")
	tcp := readFixture(f, "dns_tcp_www_tcpdump_org.bin")
	f.Add(tcp[2:])
	q := question(wire("a.test"), 1)
	f.Add(cat(dnsHdr(7, respFlags, 1, 4, 0, 0), q, rr(ptr(12), 5, 1, 5, wire("b.test")),
		rr(wire("b.test"), 5, 1, 5, ptr(12)), rr(ptr(12), 1, 1, 5, []byte{1, 1, 1, 1}), rr(ptr(24), 28, 1, 5, make([]byte, 16))))
	f.Add(cat(dnsHdr(7, respFlags, 1, 0, 0, 0), []byte{1, 'a'}, ptr(12), []byte{0, 1, 0, 1}))
	f.Add(hostilePointerChain(MaxPointerJumps-1, 3))
	f.Fuzz(func(t *testing.T, in []byte) {
		var r, r2 DNSResponse
		st := ParseDNSResponse(in, &r)
		got := dnsSummary(st, &r)
		if st == NeedMore {
			t.Fatalf("ParseDNSResponse(%x) = need_more; want found or not_this", in)
		}
		// The shortcuts for names that only point at a name already decoded
		// change nothing but arena use: the same as decoding every name,
		// unless that filled the arena.
		if slow := dnsSummary(parseDNS(in, &r2, false, false), &r2); !r2.Clipped && slow != got {
			t.Fatalf("ParseDNSResponse(%x) = %s; decoding every name gives %s", in, got, slow)
		}
		if slow := dnsSummary(parseDNS(in, &r2, true, false), &r2); !r2.Clipped {
			if fast := dnsSummary(ParseDNSResponsePrefix(in, &r2), &r2); fast != slow {
				t.Fatalf("ParseDNSResponsePrefix(%x) = %s; decoding every name gives %s", in, fast, slow)
			}
		}
		if st == Found {
			if len(r.CNAMEChain) > MaxCNAMEChain || len(r.A) > MaxAAnswers || len(r.cnames) > MaxCNAMERecords ||
				cap(r.arena) != MaxDNSArena || len(r.QName) > 253 {
				t.Fatalf("ParseDNSResponse(%x) = %s; out of bounds", in, got)
			}
			for i, c := range r.CNAMEChain {
				if len(c) > 253 || equalFoldASCII(c, r.QName) {
					t.Fatalf("ParseDNSResponse(%x) = %s; chain entry %d bad", in, got, i)
				}
				for _, d := range r.CNAMEChain[:i] {
					if equalFoldASCII(c, d) {
						t.Fatalf("ParseDNSResponse(%x) = %s; chain repeats %q", in, got, c)
					}
				}
			}
			for _, a := range r.A {
				if !equalFoldASCII(a.Owner, r.QName) && !r.inChain(a.Owner) {
					t.Fatalf("ParseDNSResponse(%x) = %s; A owner %q not in chain", in, got, a.Owner)
				}
			}
			if r.Truncated != (in[2]&0x02 != 0) || r.ID != be16(in) {
				t.Fatalf("ParseDNSResponse(%x) = %s; header misread", in, got)
			}
		}
		// A DNS message is whole, not a stream: a cut message is NotThis, and the same bytes with more after them
		// may be a valid message (fuzz crasher dbb28849d5fb5a45). Only Found must survive trailing bytes.
		if st == Found {
			if got2 := dnsSummary(ParseDNSResponse(append(in[:len(in):len(in)], junk...), &r2), &r2); got2 != got {
				t.Fatalf("ParseDNSResponse(%x + junk) = %s; want %s", in, got2, got)
			}
		}
		// ParseDNSResponsePrefix: never NeedMore, the same on a whole message, and on a cut one a part of what
		// the whole gives: the chain a prefix of its chain, the A records a subsequence of its A records.
		stP := ParseDNSResponsePrefix(in, &r2)
		if gotP := dnsSummary(stP, &r2); stP == NeedMore || st == Found && gotP != got {
			t.Fatalf("ParseDNSResponsePrefix(%x) = %s; want %s", in, gotP, got)
		}
		if st != Found || r.Clipped {
			return
		}
		for _, n := range []int{len(in) - 1, len(in) * 2 / 3, len(in) / 2} {
			stP := ParseDNSResponsePrefix(in[:n], &r2)
			gotP := dnsSummary(stP, &r2)
			if stP == NeedMore || stP == Found && (r2.ID != r.ID || !equalFoldASCII(r2.QName, r.QName) ||
				len(r2.CNAMEChain) > len(r.CNAMEChain) || r2.Clipped) {
				t.Fatalf("ParseDNSResponsePrefix(%x cut to %d) = %s; whole %s", in, n, gotP, got)
			}
			if stP != Found {
				continue
			}
			for i, c := range r2.CNAMEChain {
				if string(c) != string(r.CNAMEChain[i]) {
					t.Fatalf("ParseDNSResponsePrefix(%x cut to %d) = %s; chain not a prefix of %s", in, n, gotP, got)
				}
			}
			j := 0
			for _, a := range r2.A {
				for j < len(r.A) && (r.A[j].Addr != a.Addr || string(r.A[j].Owner) != string(a.Owner) || r.A[j].TTL != a.TTL ||
					r.A[j].MinTTL != a.MinTTL) {
					j++
				}
				if j == len(r.A) {
					t.Fatalf("ParseDNSResponsePrefix(%x cut to %d) = %s; A records not within %s", in, n, gotP, got)
				}
				j++
			}
		}
	})
}

func FuzzSplitTCPDNS(f *testing.F) {
	tcp := readFixture(f, "dns_tcp_www_tcpdump_org.bin")
	f.Add(tcp)
	f.Add(cat(tcp, tcp[:7]))
	f.Add([]byte{0, 11})
	f.Fuzz(func(t *testing.T, in []byte) {
		msg, rest, st := SplitTCPDNS(in)
		switch st {
		case Found:
			if len(msg) < dnsHeaderLen || len(msg) != int(be16(in)) || cap(msg) != len(msg) ||
				2+len(msg)+len(rest) != len(in) || !bytes.Equal(msg, in[2:2+len(msg)]) {
				t.Fatalf("SplitTCPDNS(%x) = %x, %x; inconsistent", in, msg, rest)
			}
			m2, r2, st2 := SplitTCPDNS(append(in[:len(in):len(in)], junk...))
			if st2 != Found || !bytes.Equal(m2, msg) || len(r2) != len(rest)+len(junk) {
				t.Fatalf("SplitTCPDNS(%x + junk) = %v; want found, same message", in, st2)
			}
			if _, _, st3 := SplitTCPDNS(in[:2+len(msg)-1]); st3 != NeedMore {
				t.Fatalf("SplitTCPDNS(%x cut by 1) = %v; want need_more", in, st3)
			}
		case NeedMore, NotThis:
			if msg != nil || len(rest) != len(in) {
				t.Fatalf("SplitTCPDNS(%x) = %x, %d rest, %v; want nil, all", in, msg, len(rest), st)
			}
			if st == NotThis && len(in) >= 2 && be16(in) >= dnsHeaderLen {
				t.Fatalf("SplitTCPDNS(%x) = not_this for length %d", in, be16(in))
			}
		}
	})
}

func FuzzParseRequestHead(f *testing.F) {
	seedFixtures(f, "http_")
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost:\r\n  folded.example.com\r\nAccept: */*\r\n\r\n",
		"GET http://u:p@[::1]:80/ HTTP/1.1\r\nContent-Length: 7, 7\r\n\r\n",
		"CONNECT a:443 HTTP/1.0\nTransfer-Encoding: chunked\n\n",
		"GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 0002\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
		"GET /a b HTTP/1.1\r\nU}grade: h2c\r\n folded\r\nHost : x\r\n\r\n",
		"GET http://a.example?q HTTP/1.1\r\nHost: b.example\r\nHost: A.example.:80\r\n\r\n",
		"CONNECT a.example:443 HTTP/1.1\r\nHost:\r\n a.example\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var r, r2 HTTPRequest
		n, st := ParseRequestHead(in, &r)
		got := headSummary(n, st, &r)
		if st == Found {
			if n <= 0 || n > len(in) || n > MaxRequestHead || len(r.Method) > MaxMethod ||
				!bytes.Contains(in[:n], r.Target) || r.ContentLength < -1 || len(r.Host) > n ||
				(r.HostFromTarget && !bytes.Contains(r.Target, r.Host)) {
				t.Fatalf("ParseRequestHead(%q) = %s; out of bounds", in, got)
			}
			// The host rules: the target's host wins; disagreeing Host fields name nothing; two Host fields
			// make the request ambiguous.
			if r.HostConflict && !r.MultipleHosts || r.MultipleHosts && (!r.Ambiguous || !r.HasHost) ||
				r.HostMismatch && (!r.HostFromTarget || !r.HasHost) ||
				!r.HostFromTarget && !bytes.Equal(r.Host, r.HostField) && !(r.HostConflict && len(r.Host) == 0) {
				t.Fatalf("ParseRequestHead(%q) = %s, host field %q; host rules broken", in, got, r.HostField)
			}
			if len(r.Path) == 0 || len(r.Path) > len(r.Target)+1 || r.Target[0] == '/' && !bytes.Equal(r.Path, r.Target) {
				t.Fatalf("ParseRequestHead(%q) = %s; path out of bounds", in, got)
			}
			if n2, st2 := ParseRequestHead(in[:n], &r2); headSummary(n2, st2, &r2) != got {
				t.Fatalf("ParseRequestHead(%q[:n]) = %s; want %s", in, headSummary(n2, st2, &r2), got)
			}
			if n3, st3 := ParseRequestHead(in[:n-1], &r2); st3 != NeedMore {
				t.Fatalf("ParseRequestHead(%q[:n-1]) = %s; want need_more", in, headSummary(n3, st3, &r2))
			}
			if n4, st4 := ParseRequestHead(in[:n/2], &r2); st4 != NeedMore {
				t.Fatalf("ParseRequestHead(%q[:n/2]) = %s; want need_more", in, headSummary(n4, st4, &r2))
			}
		}
		if st != NeedMore {
			if n2, st2 := ParseRequestHead(append(in[:len(in):len(in)], junk...), &r2); headSummary(n2, st2, &r2) != got {
				t.Fatalf("ParseRequestHead(%q + junk) = %s; want %s", in, headSummary(n2, st2, &r2), got)
			}
		}
		if st == Found && !LooksLikeHTTPRequest(in) {
			t.Fatalf("ParseRequestHead(%q) = found but LooksLikeHTTPRequest is false", in)
		}
	})
}

// FuzzChunkedBody reads the input as a chunked body twice, whole and in the pieces cuts gives (each byte of cuts,
// plus one, is a piece's length, taken in turn): the outcome must be the same at the same byte, whatever the pieces.
// It also holds the whole outcome against chunkedReference, the grammar written the slow, obvious way.
func FuzzChunkedBody(f *testing.F) {
	post := readFixture(f, "http_curl_post_chunked.bin")
	f.Add(post[strings.Index(string(post), "\r\n\r\n")+4:], []byte{0})
	for _, s := range []string{"5;x=y\r\nhello\r\n0\r\nA: b\r\n\r\n", "3\nabc\n0\n\n", "fffffffffffffff\r\n",
		"5 ; a = \"b\\\"c\" ;d\r\nhello\r\n0\r\n\r\n", "5\r\nhelloXYZ\r\n0\r\n\r\n", "0\r\nX: 1\r\n 2\r\n\r\n"} {
		f.Add([]byte(s), []byte{1, 2, 7})
	}
	f.Fuzz(func(t *testing.T, in, cuts []byte) {
		var c ChunkedBody
		n, st := c.Next(in)
		switch st {
		case Found:
			if n <= 0 || n > len(in) {
				t.Fatalf("ChunkedBody.Next(%q) = found %d; out of bounds", in, n)
			}
			var d ChunkedBody
			if n2, st2 := d.Next(in[:n-1]); st2 != NeedMore || n2 != n-1 {
				t.Fatalf("ChunkedBody.Next(%q[:n-1]) = %v %d; want need_more %d", in, st2, n2, n-1)
			}
		case NeedMore:
			if n != len(in) {
				t.Fatalf("ChunkedBody.Next(%q) = need_more %d; want %d", in, n, len(in))
			}
		case NotThis:
			if n < 0 || n >= len(in) {
				t.Fatalf("ChunkedBody.Next(%q) = not_this at %d; out of bounds", in, n)
			}
		}
		if st != NeedMore {
			if n2, st2 := c.Next([]byte(junk)); n2 != 0 || st2 != st {
				t.Fatalf("ChunkedBody.Next(junk) after %v = %v %d; want %v 0", st, st2, n2, st)
			}
		}

		var p ChunkedBody
		off, pst := 0, NeedMore
		for k := 0; ; k++ {
			size := 1
			if len(cuts) > 0 {
				size += int(cuts[k%len(cuts)])
			}
			piece := in[off:min(off+size, len(in))]
			pn, st2 := p.Next(piece)
			if st2 != NeedMore {
				off, pst = off+pn, st2
				break
			}
			if pn != len(piece) {
				t.Fatalf("ChunkedBody.Next(%q) = need_more %d; want %d", piece, pn, len(piece))
			}
			if off += pn; off == len(in) {
				break
			}
		}
		if pst != st || off != n {
			t.Fatalf("ChunkedBody.Next(%q) in pieces %v = %v at %d; whole %v at %d", in, cuts, pst, off, st, n)
		}

		ref := chunkedReference(in)
		ok := false
		switch ref.st {
		case Found:
			ok = st == Found && n == ref.lo
		case NotThis:
			ok = st == NotThis && ref.lo <= n && n < ref.hi
		default: // cut inside chunk data (hi 0) or inside a line starting at lo
			ok = st == NeedMore || ref.hi != 0 && st == NotThis && n >= ref.lo
		}
		if !ok {
			t.Fatalf("ChunkedBody.Next(%q) = %v at %d; the reference says %v in [%d, %d)", in, st, n, ref.st, ref.lo, ref.hi)
		}
	})
}

func FuzzParseDNSQuery(f *testing.F) {
	seedFixtures(f, "dns_query_udp_")
	tcp := readFixture(f, "dns_query_tcp_www_tcpdump_org.bin")
	f.Add(tcp[2:])
	f.Add(cat(dnsHdr(7, queryFlags, 1, 0, 0, 0), []byte{1, 'a'}, ptr(12), []byte{0, 1, 0, 1}))
	f.Add(cat(dnsHdr(0, 0, 1, 0, 0, 0), wire("PrInTeR.local"), []byte{0, 1, 0x80, 1}))
	f.Fuzz(func(t *testing.T, in []byte) {
		var q, q2 DNSQuery
		st := ParseDNSQuery(in, &q)
		got := querySummary(st, &q)
		if st == Found {
			if len(q.QName) > 253 || q.QDCount == 0 || q.ID != be16(in) || in[2]&0x80 != 0 {
				t.Fatalf("ParseDNSQuery(%x) = %s; out of bounds or header misread", in, got)
			}
			// The response parser reads the same question: set QR and read the bytes as the start of a
			// response (its answer records, if any, may be anything; a malformed one makes it not_this).
			resp := append([]byte(nil), in...)
			resp[2] |= 0x80
			var r DNSResponse
			if ParseDNSResponsePrefix(resp, &r) == Found && (string(r.QName) != string(q.QName) || r.QType != q.QType ||
				r.QClass != q.QClass || r.ID != q.ID || r.Opcode != q.Opcode) {
				t.Fatalf("ParseDNSQuery(%x) = %s; as a response the question is %q/%d/%#x", in, got, r.QName, r.QType, r.QClass)
			}
			for _, cut := range []int{len(in) - 1, len(in) / 2, 11} {
				if cut < 0 || cut >= len(in) {
					continue
				}
				if pst := ParseDNSQuery(in[:cut], &q2); pst == NotThis || pst == Found && querySummary(pst, &q2) != got {
					t.Fatalf("ParseDNSQuery(%x[:%d]) = %s; want need_more or %s", in, cut, querySummary(pst, &q2), got)
				}
			}
		}
		// Only the header and the first question are read, so the result is a stream parser's: Found and
		// NotThis survive appended bytes.
		if st != NeedMore {
			if got2 := querySummary(ParseDNSQuery(append(in[:len(in):len(in)], junk...), &q2), &q2); got2 != got {
				t.Fatalf("ParseDNSQuery(%x + junk) = %s; want %s", in, got2, got)
			}
		}
	})
}
