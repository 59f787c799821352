package extract

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// --- builders for hand-made DNS messages ---

var (
	label63 = strings.Repeat("x", 63)
	name255 = strings.Join([]string{label63, label63, label63, strings.Repeat("y", 61)}, ".") // 255 wire bytes
	name256 = strings.Join([]string{label63, label63, label63, strings.Repeat("y", 62)}, ".")
)

func dnsHdr(id, flags, qd, an, ns, ar uint16) []byte {
	return []byte{byte(id >> 8), byte(id), byte(flags >> 8), byte(flags), byte(qd >> 8), byte(qd),
		byte(an >> 8), byte(an), byte(ns >> 8), byte(ns), byte(ar >> 8), byte(ar)}
}

// wire encodes a dotted name without compression.
func wire(name string) []byte {
	var b []byte
	if name != "" {
		for _, l := range strings.Split(name, ".") {
			b = append(b, byte(len(l)))
			b = append(b, l...)
		}
	}
	return append(b, 0)
}

func hexBytes(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ptr(off int) []byte { return []byte{0xc0 | byte(off>>8), byte(off)} }

func question(name []byte, typ uint16) []byte {
	return cat(name, []byte{byte(typ >> 8), byte(typ), 0, 1})
}

func rr(owner []byte, typ, class uint16, ttl uint32, rdata []byte) []byte {
	return cat(owner, []byte{byte(typ >> 8), byte(typ), byte(class >> 8), byte(class),
		byte(ttl >> 24), byte(ttl >> 16), byte(ttl >> 8), byte(ttl)}, u16p(rdata))
}

const respFlags = 0x8180 // QR, RD, RA, NOERROR

// hostilePointerChain is a response for a.test whose first answer (unknown type) hides, in its rdata, the name
// "x" followed by a chain of `chain` pointers each pointing two bytes back; `records` A answers then own the
// last pointer, so every owner walk takes chain+1 jumps.
func hostilePointerChain(chain, records int) []byte {
	m := cat(dnsHdr(7, respFlags, 1, uint16(1+records), 0, 0), question(wire("a.test"), 1))
	rdStart := len(m) + 2 + 10
	rd := []byte{1, 'x', 0}
	prev := rdStart
	for range chain {
		pos := rdStart + len(rd)
		rd = append(rd, ptr(prev)...)
		prev = pos
	}
	m = cat(m, rr(ptr(12), 0xff00, 1, 0, rd))
	for range records {
		m = cat(m, rr(ptr(prev), 1, 1, 0, []byte{1, 2, 3, 4}))
	}
	return m
}

// dnsSummary renders a result for comparison and failure messages.
func dnsSummary(st Status, r *DNSResponse) string {
	if st != Found {
		return st.String()
	}
	var a []string
	for _, x := range r.A {
		ttl := fmt.Sprint(x.TTL)
		if x.MinTTL != x.TTL {
			ttl += fmt.Sprintf("(chain %d)", x.MinTTL)
		}
		a = append(a, fmt.Sprintf("%d.%d.%d.%d/%s@%s", x.Addr[0], x.Addr[1], x.Addr[2], x.Addr[3], ttl, x.Owner))
	}
	var chain []string
	for _, c := range r.CNAMEChain {
		chain = append(chain, string(c))
	}
	s := fmt.Sprintf("found id=%#04x op=%d rcode=%d q=%q/%d chain=[%s] a=[%s] aaaa=%d", r.ID, r.Opcode, r.RCode,
		r.QName, r.QType, strings.Join(chain, " "), strings.Join(a, " "), r.AAAACount)
	if r.CNAMELoop {
		s += " loop"
	}
	if r.Clipped {
		s += " clipped"
	}
	if r.Truncated {
		s += " tc"
	}
	if r.Cut {
		s += " cut"
	}
	return s
}

// builtMessage makes a response with dnsmessage.Builder (with compression): question qname/A, then answers.
func builtMessage(tb testing.TB, qname string, answers func(b *dnsmessage.Builder)) []byte {
	tb.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 1, Response: true})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		tb.Fatal(err)
	}
	if err := b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(qname), Type: dnsmessage.TypeA,
		Class: dnsmessage.ClassINET}); err != nil {
		tb.Fatal(err)
	}
	if err := b.StartAnswers(); err != nil {
		tb.Fatal(err)
	}
	answers(&b)
	m, err := b.Finish()
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

func rh(name string) dnsmessage.ResourceHeader {
	return dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(name), Class: dnsmessage.ClassINET, TTL: 60}
}

func TestParseDNSResponse(t *testing.T) {
	tcpStream := readFixture(t, "dns_tcp_www_tcpdump_org.bin")
	tcpMsg, _, _ := SplitTCPDNS(tcpStream)

	q := question(wire("a.test"), 1)

	longChain := builtMessage(t, "c0.test.", func(b *dnsmessage.Builder) {
		for i := range 40 {
			b.CNAMEResource(rh(fmt.Sprintf("c%d.test.", i)), dnsmessage.CNAMEResource{
				CNAME: dnsmessage.MustNewName(fmt.Sprintf("c%d.test.", i+1))})
		}
		b.AResource(rh("c40.test."), dnsmessage.AResource{A: [4]byte{10, 0, 0, 40}})
	})
	var chain32 []string
	for i := 1; i <= 32; i++ {
		chain32 = append(chain32, fmt.Sprintf("c%d.test", i))
	}
	manyA := builtMessage(t, "many.test.", func(b *dnsmessage.Builder) {
		for i := range 70 {
			b.AResource(rh("many.test."), dnsmessage.AResource{A: [4]byte{10, 0, 0, byte(i)}})
		}
	})
	var a64 []string
	for i := range 64 {
		a64 = append(a64, fmt.Sprintf("10.0.0.%d/60@many.test", i))
	}
	// 70 CNAMEs whose owners are 250-byte names, uncompressed: more than the 8 KiB arena holds.
	var bigNames []byte
	for i := range 70 {
		n := fmt.Sprintf("%s.%s.%s.z%03d", label63, label63, label63, i)
		bigNames = cat(bigNames, rr(wire(n), 5, 1, 1, wire("t.test")))
	}

	// zeek testing/btest/Traces/dns/max-compression-depth.pcap, frame 1's UDP payload.
	zeekMaxCompressionDepth := hexBytes(t, "12348180000100070000000001610000010001016100000100010000012c00047f000001"+
		"c013000100010000012c00047f000002c024000100010000012c00047f000003c034000100010000012c00047f000004"+
		"c044000100010000012c00047f000005c054000100010000012c00047f000006c064000100010000012c00047f000007")

	tests := []struct {
		name string
		in   []byte
		want string
	}{
		// Real responses from the shared corpus; expectations are tshark's (truth/dev/*.json).
		{"arkime_www_github_com", readFixture(t, "dns_udp_www_github_com.bin"),
			`found id=0xe039 op=0 rcode=0 q="www.github.com"/1 chain=[github.com] a=[192.30.252.128/4@github.com] aaaa=0`},
		{"ctldl_windowsupdate_six_cnames", readFixture(t, "dns_udp_ctldl_windowsupdate_com.bin"),
			`found id=0xc2c3 op=0 rcode=0 q="ctldl.windowsupdate.com"/1 chain=[wu-bg-shim.trafficmanager.net wu.azureedge.net wu.ec.azureedge.net bg.apr-52dd2-0503.edgecastdns.net hlb.apr-52dd2-0.edgecastdns.net cs11.wpc.v0cdn.net] a=[93.184.221.240/3335(chain 35)@cs11.wpc.v0cdn.net] aaaa=0`},
		{"wechat_four_cnames_nine_a", readFixture(t, "dns_udp_res_wx_qq_com.bin"),
			`found id=0x30dd op=0 rcode=0 q="res.wx.qq.com"/1 chain=[reswx.tc.qq.com reswx.tcdn.qq.com ssd.tc.qq.com ssd.tcdn.qq.com] a=[203.205.158.34/140(chain 46)@ssd.tcdn.qq.com 203.205.151.212/140(chain 46)@ssd.tcdn.qq.com 203.205.158.53/140(chain 46)@ssd.tcdn.qq.com 203.205.158.55/140(chain 46)@ssd.tcdn.qq.com 203.205.151.227/140(chain 46)@ssd.tcdn.qq.com 203.205.158.35/140(chain 46)@ssd.tcdn.qq.com 203.205.158.56/140(chain 46)@ssd.tcdn.qq.com 203.205.151.211/140(chain 46)@ssd.tcdn.qq.com 203.205.158.54/140(chain 46)@ssd.tcdn.qq.com] aaaa=0`},
		{"netflix_aaaa_counted", readFixture(t, "dns_udp_netflix_aaaa.bin"),
			`found id=0x9a61 op=0 rcode=0 q="ios.nccp.netflix.com"/28 chain=[ios.nccp.geo.netflix.com ios.nccp.us-west-2.prodaa.netflix.com] a=[] aaaa=8`},
		{"nxdomain", readFixture(t, "dns_udp_nxdomain.bin"),
			`found id=0x8295 op=0 rcode=3 q="dne.oisf.net"/1 chain=[] a=[] aaaa=0`},
		// zeek dns/max-compression-depth.pcap frame 1: each answer's owner points at the previous answer's
		// owner, so the 7th walks 6 pointers to reach "a".
		{"zeek_pointer_chain_six_deep", zeekMaxCompressionDepth,
			`found id=0x1234 op=0 rcode=0 q="a"/1 chain=[] a=[127.0.0.1/300@a 127.0.0.2/300@a 127.0.0.3/300@a 127.0.0.4/300@a 127.0.0.5/300@a 127.0.0.6/300@a 127.0.0.7/300@a] aaaa=0`},
		{"tcp_www_tcpdump_org", tcpMsg,
			`found id=0x4319 op=0 rcode=0 q="www.tcpdump.org"/1 chain=[] a=[192.139.46.66/60@www.tcpdump.org 198.199.88.104/60@www.tcpdump.org] aaaa=0`},

		// Chains and owners.
		{"cname_out_of_order", cat(dnsHdr(7, respFlags, 1, 3, 0, 0), q,
			rr(wire("b.test"), 1, 1, 5, []byte{1, 2, 3, 4}),
			rr(wire("c.test"), 5, 1, 5, wire("b.test")),
			rr(ptr(12), 5, 1, 5, wire("c.test"))),
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[c.test b.test] a=[1.2.3.4/5@b.test] aaaa=0`},
		// MinTTL: an A record's own TTL and those of the CNAMEs that lead to its owner, no others.
		{"ttl_min_over_links_to_owner", cat(dnsHdr(7, respFlags, 1, 5, 0, 0), q,
			rr(ptr(12), 5, 1, 300, wire("b.test")),
			rr(wire("b.test"), 5, 1, 20, wire("c.test")),
			rr(wire("b.test"), 1, 1, 600, []byte{2, 2, 2, 2}),
			rr(wire("c.test"), 1, 1, 60, []byte{3, 3, 3, 3}),
			rr(ptr(12), 1, 1, 900, []byte{1, 1, 1, 1})),
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[b.test c.test] a=[2.2.2.2/600(chain 300)@b.test 3.3.3.3/60(chain 20)@c.test 1.1.1.1/900@a.test] aaaa=0`},
		{"cname_loop", cat(dnsHdr(7, respFlags, 1, 4, 0, 0), q,
			rr(ptr(12), 5, 1, 5, wire("b.test")),
			rr(wire("b.test"), 5, 1, 5, ptr(12)),
			rr(ptr(12), 1, 1, 5, []byte{1, 1, 1, 1}),
			rr(wire("b.test"), 1, 1, 5, []byte{2, 2, 2, 2})),
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[b.test] a=[1.1.1.1/5@a.test 2.2.2.2/5@b.test] aaaa=0 loop`},
		{"cname_self_loop", cat(dnsHdr(7, respFlags, 1, 1, 0, 0), q, rr(ptr(12), 5, 1, 5, ptr(12))),
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[] a=[] aaaa=0 loop`},
		{"cname_case_insensitive", cat(dnsHdr(7, respFlags, 1, 2, 0, 0), q,
			rr(wire("A.TEST"), 5, 1, 5, wire("B.test")),
			rr(wire("b.TEST"), 1, 1, 5, []byte{9, 9, 9, 9})),
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[B.test] a=[9.9.9.9/5@B.test] aaaa=0`},
		{"unrelated_records_ignored", cat(dnsHdr(7, respFlags, 1, 3, 0, 0), q,
			rr(wire("x.test"), 5, 1, 5, wire("y.test")),
			rr(wire("y.test"), 1, 1, 5, []byte{6, 6, 6, 6}),
			rr(ptr(12), 1, 1, 5, []byte{5, 5, 5, 5})),
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[] a=[5.5.5.5/5@a.test] aaaa=0`},
		{"class_chaos_ignored", cat(dnsHdr(7, respFlags, 1, 1, 0, 0), q, rr(ptr(12), 1, 3, 5, []byte{1, 2, 3, 4, 5})),
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[] a=[] aaaa=0`},
		{"mdns_cache_flush_class", cat(dnsHdr(0, 0x8400, 1, 1, 0, 0), q, rr(ptr(12), 1, 0x8001, 120, []byte{192, 168, 1, 2})),
			`found id=0x0000 op=0 rcode=0 q="a.test"/1 chain=[] a=[192.168.1.2/120@a.test] aaaa=0`},
		{"no_question", cat(dnsHdr(7, 0x8185, 0, 1, 0, 0), rr(wire("a.test"), 1, 1, 5, []byte{1, 2, 3, 4})),
			`found id=0x0007 op=0 rcode=5 q=""/0 chain=[] a=[] aaaa=0`},
		{"two_questions_first_used", cat(dnsHdr(7, respFlags, 2, 1, 0, 0), q, question(wire("b.test"), 1),
			rr(ptr(12), 1, 1, 5, []byte{1, 2, 3, 4})),
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[] a=[1.2.3.4/5@a.test] aaaa=0`},
		{"root_name_question", cat(dnsHdr(7, respFlags, 1, 0, 0, 0), question(wire(""), 2)),
			`found id=0x0007 op=0 rcode=0 q=""/2 chain=[] a=[] aaaa=0`},
		{"truncated_bit", cat(dnsHdr(7, 0x8380, 1, 0, 0, 0), q),
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[] a=[] aaaa=0 tc`},
		{"opcode_notify_reported", cat(dnsHdr(7, 0xa000, 1, 0, 0, 0), q),
			`found id=0x0007 op=4 rcode=0 q="a.test"/1 chain=[] a=[] aaaa=0`},
		{"trailing_garbage_after_answers_ignored", cat(dnsHdr(7, respFlags, 1, 0, 1, 0), q, []byte{0xff, 0xff}),
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[] a=[] aaaa=0`},
		{"name_exactly_255", cat(dnsHdr(7, respFlags, 1, 0, 0, 0), question(wire(name255), 1)),
			fmt.Sprintf(`found id=0x0007 op=0 rcode=0 q=%q/1 chain=[] a=[] aaaa=0`, name255)},
		{"label_bytes_kept_as_sent", cat(dnsHdr(7, respFlags, 1, 0, 0, 0), question([]byte{3, 'A', '.', 0xff, 0}, 1)),
			`found id=0x0007 op=0 rcode=0 q="A.\xff"/1 chain=[] a=[] aaaa=0`},

		// Bounds.
		{"chain_longer_than_32", longChain,
			fmt.Sprintf(`found id=0x0001 op=0 rcode=0 q="c0.test"/1 chain=[%s] a=[] aaaa=0 clipped`, strings.Join(chain32, " "))},
		{"more_than_64_a", manyA,
			fmt.Sprintf(`found id=0x0001 op=0 rcode=0 q="many.test"/1 chain=[] a=[%s] aaaa=0 clipped`, strings.Join(a64, " "))},
		{"arena_full", cat(dnsHdr(7, respFlags, 1, 70, 0, 0), q, bigNames),
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[] a=[] aaaa=0 clipped`},

		// Hostile and malformed.
		{"query_not_response", cat(dnsHdr(7, 0x0100, 1, 0, 0, 0), q), "not_this"},
		{"short_header", dnsHdr(7, respFlags, 0, 0, 0, 0)[:11], "not_this"},
		// Fuzz crasher dbb28849d5fb5a45: 9 bytes are NotThis although appending bytes makes a valid message.
		{"header_cut_at_9_bytes", []byte("00\x810\x00\x01\x00\x000"), "not_this"},
		{"compression_pointer_loop", cat(dnsHdr(7, respFlags, 1, 0, 0, 0), []byte{1, 'a'}, ptr(12), []byte{0, 1, 0, 1}), "not_this"},
		{"pointer_to_itself", cat(dnsHdr(7, respFlags, 1, 0, 0, 0), ptr(12), []byte{0, 1, 0, 1}), "not_this"},
		{"pointer_forward_chain", cat(dnsHdr(7, respFlags, 1, 0, 0, 0), ptr(18), []byte{0, 1, 0, 1}, wire("a.test")), "not_this"},
		{"two_pointer_loop", cat(dnsHdr(7, respFlags, 1, 1, 0, 0), q,
			// owner at 24: "b" then a pointer to 28, which points back to 24.
			[]byte{1, 'b'}, ptr(28), ptr(24), []byte{0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 1, 2, 3, 4}), "not_this"},
		{"pointer_past_end", cat(dnsHdr(7, respFlags, 1, 1, 0, 0), q, []byte{0xc0}), "not_this"},
		{"pointer_chain_126_jumps", hostilePointerChain(MaxPointerJumps-1, 3),
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[] a=[] aaaa=0`},
		{"pointer_chain_over_126_jumps", hostilePointerChain(MaxPointerJumps, 3), "not_this"},
		{"label_over_63", cat(dnsHdr(7, respFlags, 1, 0, 0, 0), []byte{64}, bytes.Repeat([]byte{'x'}, 64), []byte{0, 0, 1, 0, 1}), "not_this"},
		{"extended_label_type_0x80", cat(dnsHdr(7, respFlags, 1, 0, 0, 0), []byte{0x81, 'x', 0, 0, 1, 0, 1}), "not_this"},
		{"name_over_255", cat(dnsHdr(7, respFlags, 1, 0, 0, 0), question(wire(name256), 1)), "not_this"},
		{"name_255_via_pointers", cat(dnsHdr(7, respFlags, 1, 1, 0, 0), question(wire(name255[64:]), 1),
			[]byte{63}, []byte(label63), ptr(12), []byte{0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 1, 2, 3, 4}),
			fmt.Sprintf(`found id=0x0007 op=0 rcode=0 q=%q/1 chain=[] a=[] aaaa=0`, name255[64:])},
		{"name_over_255_via_pointers", cat(dnsHdr(7, respFlags, 1, 1, 0, 0), question(wire(name255[64:]), 1),
			[]byte{63}, []byte(label63), []byte{1, 'z'}, ptr(12), []byte{0, 1, 0, 1, 0, 0, 0, 5, 0, 4, 1, 2, 3, 4}), "not_this"},
		{"label_overruns_message", cat(dnsHdr(7, respFlags, 1, 0, 0, 0), []byte{20, 'a', 'b'}), "not_this"},
		{"question_type_missing", cat(dnsHdr(7, respFlags, 1, 0, 0, 0), wire("a.test"), []byte{0, 1}), "not_this"},
		{"answer_count_overruns_message", cat(dnsHdr(7, respFlags, 1, 2, 0, 0), q, rr(ptr(12), 1, 1, 5, []byte{1, 2, 3, 4})), "not_this"},
		{"rdlength_overruns_message", cat(dnsHdr(7, respFlags, 1, 1, 0, 0), q, rr(ptr(12), 1, 1, 5, []byte{1, 2, 3, 4})[:15]), "not_this"},
		{"a_rdlength_5", cat(dnsHdr(7, respFlags, 1, 1, 0, 0), q, rr(ptr(12), 1, 1, 5, []byte{1, 2, 3, 4, 5})), "not_this"},
		{"aaaa_rdlength_4", cat(dnsHdr(7, respFlags, 1, 1, 0, 0), q, rr(ptr(12), 28, 1, 5, []byte{1, 2, 3, 4})), "not_this"},
		{"cname_rdata_longer_than_name", cat(dnsHdr(7, respFlags, 1, 1, 0, 0), q, rr(ptr(12), 5, 1, 5, cat(wire("b.test"), []byte{0}))), "not_this"},
		{"cname_name_overruns_rdata", cat(dnsHdr(7, respFlags, 1, 2, 0, 0), q,
			rr(ptr(12), 5, 1, 5, wire("b.test"))[:12], []byte{0, 3}, wire("b.test"), rr(ptr(12), 1, 1, 5, []byte{1, 2, 3, 4})), "not_this"},
	}
	var r DNSResponse
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dnsSummary(ParseDNSResponse(tt.in, &r), &r); got != tt.want {
				t.Errorf("ParseDNSResponse(%s) = %s; want %s", tt.name, got, tt.want)
			}
			// A whole message reads the same as a prefix.
			if got := dnsSummary(ParseDNSResponsePrefix(tt.in, &r), &r); strings.HasPrefix(tt.want, "found") && got != tt.want {
				t.Errorf("ParseDNSResponsePrefix(%s) = %s; want %s", tt.name, got, tt.want)
			}
		})
	}
}

func TestParseDNSResponsePrefix(t *testing.T) {
	q := question(wire("a.test"), 1)
	cname := rr(ptr(12), 5, 1, 5, wire("b.test")) // owner at 24, target at 36
	aB := rr(ptr(36), 1, 1, 5, []byte{1, 2, 3, 4})
	aB2 := rr(ptr(36), 1, 1, 5, []byte{5, 6, 7, 8})
	whole := cat(dnsHdr(7, respFlags, 1, 3, 1, 0), q, cname, aB, aB2, rr(ptr(12), 2, 1, 5, wire("ns.test")))
	answersEnd := len(whole) - len(rr(ptr(12), 2, 1, 5, wire("ns.test")))
	// ndpi badpackets.pcap frame 6: the first fragment of a 3077-byte answer (IP total length 1500, MF set) of
	// which 165 bytes were captured, so its UDP payload stops inside the 2nd of 13 answers, an RRSIG. tshark
	// reads the question and the CNAME before it.
	badpackets6 := hexBytes(t, "3d8384100001000d0004000d08656467652d68647103776f63046e6f616103676f760000010001"+
		"c00c000500010000012c000c07656467652d7031016cc019c00c002e00010000012c0120000505040000012c592b8bc859225148"+
		"bf8e03776f63046e6f616103676f76001fd7d868434eb69848267517a2307a0dffcb1390608bf98b331691520bb8")

	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"whole_message_as_parse", whole,
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[b.test] a=[1.2.3.4/5@b.test 5.6.7.8/5@b.test] aaaa=0`},
		{"cut_in_authority_section", whole[:len(whole)-3],
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[b.test] a=[1.2.3.4/5@b.test 5.6.7.8/5@b.test] aaaa=0`},
		{"cut_at_record_boundary", whole[:answersEnd-len(aB2)],
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[b.test] a=[1.2.3.4/5@b.test] aaaa=0 cut`},
		{"cut_in_a_rdata", whole[:answersEnd-2],
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[b.test] a=[1.2.3.4/5@b.test] aaaa=0 cut`},
		{"cut_in_fixed_fields", whole[:answersEnd-len(aB2)+5],
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[b.test] a=[1.2.3.4/5@b.test] aaaa=0 cut`},
		{"cut_in_pointer", whole[:answersEnd-len(aB2)+1],
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[b.test] a=[1.2.3.4/5@b.test] aaaa=0 cut`},
		{"cut_in_owner_label", cat(dnsHdr(7, respFlags, 1, 2, 0, 0), q, rr(ptr(12), 1, 1, 5, []byte{9, 9, 9, 9}),
			[]byte{5, 'a', 'b'}),
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[] a=[9.9.9.9/5@a.test] aaaa=0 cut`},
		{"cut_in_cname_rdata", whole[:24+12+3],
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[] a=[] aaaa=0 cut`},
		{"cut_in_second_question", cat(dnsHdr(7, respFlags, 2, 1, 0, 0), q, wire("b.test")),
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[] a=[] aaaa=0 cut`},
		{"ndpi_badpackets_first_fragment_cut", badpackets6,
			`found id=0x3d83 op=0 rcode=0 q="edge-hdq.woc.noaa.gov"/1 chain=[edge-p1.l.noaa.gov] a=[] aaaa=0 cut`},
		// What the capture does not show cannot be told from a lie: the caller passes a prefix only when the
		// capture says the packet was cut.
		{"answer_count_overruns_message", cat(dnsHdr(7, respFlags, 1, 2, 0, 0), q, rr(ptr(12), 1, 1, 5, []byte{1, 2, 3, 4})),
			`found id=0x0007 op=0 rcode=0 q="a.test"/1 chain=[] a=[1.2.3.4/5@a.test] aaaa=0 cut`},

		// Only where the bytes stop is a record forgiven.
		{"cut_in_header", whole[:11], "not_this"},
		{"cut_in_first_question_name", whole[:15], "not_this"},
		{"cut_in_first_question_type", whole[:12+8+2], "not_this"},
		{"malformed_answer_before_cut", cat(dnsHdr(7, respFlags, 1, 3, 0, 0), q, rr(ptr(12), 1, 1, 5, []byte{1, 2, 3, 4, 5}), aB[:5]),
			"not_this"},
		{"pointer_loop_before_cut", cat(dnsHdr(7, respFlags, 1, 2, 0, 0), q, []byte{1, 'b'}, ptr(24), []byte{0, 1}),
			"not_this"},
		{"forward_pointer_past_end", cat(dnsHdr(7, respFlags, 1, 2, 0, 0), q, rr(ptr(12), 1, 1, 5, []byte{1, 2, 3, 4}), ptr(200)),
			"not_this"},
		{"cname_target_overruns_rdata", cat(dnsHdr(7, respFlags, 1, 2, 0, 0), q,
			rr(ptr(12), 5, 1, 5, wire("b.test"))[:12], []byte{0, 3}, wire("b.test")), "not_this"},
		{"query_not_response", cat(dnsHdr(7, 0x0100, 1, 0, 0, 0), q), "not_this"},
	}
	var r DNSResponse
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := dnsSummary(ParseDNSResponsePrefix(tt.in, &r), &r); got != tt.want {
				t.Errorf("ParseDNSResponsePrefix(%s) = %s; want %s", tt.name, got, tt.want)
			}
		})
	}
	if n := testing.AllocsPerRun(100, func() { ParseDNSResponsePrefix(badpackets6, &r) }); n != 0 {
		t.Errorf("ParseDNSResponsePrefix allocs = %v; want 0", n)
	}
}

func TestSplitTCPDNS(t *testing.T) {
	real := readFixture(t, "dns_tcp_www_tcpdump_org.bin")
	two := cat(real, real, real[:5])
	tests := []struct {
		name     string
		in       []byte
		msgLen   int
		restLen  int
		wantStat Status
	}{
		{"one_message", real, len(real) - 2, 0, Found},
		{"several_messages_per_segment", two, len(real) - 2, len(real) + 5, Found},
		{"length_only", real[:2], 0, 2, NeedMore},
		{"one_byte", real[:1], 0, 1, NeedMore},
		{"empty", nil, 0, 0, NeedMore},
		{"message_cut", real[:100], 0, 100, NeedMore},
		{"length_below_header", []byte{0, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 0, 13, NotThis},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, rest, st := SplitTCPDNS(tt.in)
			if st != tt.wantStat || len(msg) != tt.msgLen || len(rest) != tt.restLen {
				t.Errorf("SplitTCPDNS(%s) = msg %d, rest %d, %v; want msg %d, rest %d, %v",
					tt.name, len(msg), len(rest), st, tt.msgLen, tt.restLen, tt.wantStat)
			}
		})
	}
	// Walk the two-message stream to the end.
	var r DNSResponse
	n := 0
	for rest := two; ; {
		msg, next, st := SplitTCPDNS(rest)
		if st != Found {
			if st != NeedMore || len(next) != 5 {
				t.Fatalf("SplitTCPDNS(tail) = %v with %d bytes left; want need_more with 5", st, len(next))
			}
			break
		}
		if ParseDNSResponse(msg, &r) != Found || string(r.QName) != "www.tcpdump.org" {
			t.Fatalf("ParseDNSResponse(message %d) = %s; want www.tcpdump.org", n, dnsSummary(Found, &r))
		}
		n++
		rest = next
	}
	if n != 2 {
		t.Errorf("SplitTCPDNS walked %d messages; want 2", n)
	}
}

func TestParseDNSResponseAllocs(t *testing.T) {
	var r DNSResponse
	for _, name := range []string{"dns_udp_ctldl_windowsupdate_com.bin", "dns_udp_res_wx_qq_com.bin"} {
		in := readFixture(t, name)
		ParseDNSResponse(in, &r) // first use allocates the arena and tables
		if n := testing.AllocsPerRun(100, func() { ParseDNSResponse(in, &r) }); n != 0 {
			t.Errorf("ParseDNSResponse(%s) allocs = %v; want 0", name, n)
		}
	}
	stream := readFixture(t, "dns_tcp_www_tcpdump_org.bin")
	if n := testing.AllocsPerRun(100, func() { SplitTCPDNS(stream) }); n != 0 {
		t.Errorf("SplitTCPDNS allocs = %v; want 0", n)
	}
}

func BenchmarkParseDNSResponse(b *testing.B) {
	type input struct {
		name string
		in   []byte
	}
	var inputs []input
	for _, name := range []string{"dns_udp_www_github_com.bin", "dns_udp_ctldl_windowsupdate_com.bin", "dns_udp_res_wx_qq_com.bin"} {
		inputs = append(inputs, input{name, readFixture(b, name)})
	}
	// The worst case within the bounds: a 64 KiB message of 4000 A answers whose owners each take 126 jumps.
	inputs = append(inputs, input{"hostile_pointer_chain_64k", hostilePointerChain(MaxPointerJumps-1, 4000)})
	for _, tc := range inputs {
		in := tc.in
		b.Run(tc.name, func(b *testing.B) {
			var r DNSResponse
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if ParseDNSResponse(in, &r) != Found {
					b.Fatal("not found")
				}
			}
		})
	}
}

// querySummary renders a ParseDNSQuery result for comparison and failure messages.
func querySummary(st Status, q *DNSQuery) string {
	if st != Found {
		return st.String()
	}
	return fmt.Sprintf("id=%#04x op=%d qd=%d an=%d ns=%d ar=%d q=%q/%d/%#x", q.ID, q.Opcode, q.QDCount, q.ANCount,
		q.NSCount, q.ARCount, q.QName, q.QType, q.QClass)
}

const queryFlags = 0x0100 // RD

func TestParseDNSQuery(t *testing.T) {
	github := readFixture(t, "dns_query_udp_www_github_com.bin")
	ctldl := readFixture(t, "dns_query_udp_ctldl_windowsupdate_com.bin")
	tcpMsg := readFixture(t, "dns_query_tcp_www_tcpdump_org.bin")[2:]
	q := question(wire("a.test"), 1)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"arkime_www_github_com", github, `id=0xe039 op=0 qd=1 an=0 ns=0 ar=0 q="www.github.com"/1/0x1`},
		{"windows_ctldl_windowsupdate_com", ctldl, `id=0xc2c3 op=0 qd=1 an=0 ns=0 ar=0 q="ctldl.windowsupdate.com"/1/0x1`},
		{"tcp_with_edns_opt", tcpMsg, `id=0x4319 op=0 qd=1 an=0 ns=0 ar=1 q="www.tcpdump.org"/1/0x1`},
		// A resolver using 0x20 randomisation sends the name in mixed case; the bytes are kept as sent.
		{"mixed_case_kept", cat(dnsHdr(9, queryFlags, 1, 0, 0, 0), question(wire("WwW.GiThUb.CoM"), 1)),
			`id=0x0009 op=0 qd=1 an=0 ns=0 ar=0 q="WwW.GiThUb.CoM"/1/0x1`},
		{"mdns_unicast_response_bit", cat(dnsHdr(0, 0, 1, 0, 0, 0), wire("printer.local"), []byte{0, 1, 0x80, 1}),
			`id=0x0000 op=0 qd=1 an=0 ns=0 ar=0 q="printer.local"/1/0x8001`},
		{"opcode_notify_reported", cat(dnsHdr(7, 0x2000, 1, 0, 0, 0), q), `id=0x0007 op=4 qd=1 an=0 ns=0 ar=0 q="a.test"/1/0x1`},
		{"two_questions_first_read", cat(dnsHdr(7, queryFlags, 2, 0, 0, 0), q, question(wire("b.test"), 28)),
			`id=0x0007 op=0 qd=2 an=0 ns=0 ar=0 q="a.test"/1/0x1`},
		{"root_name", cat(dnsHdr(7, queryFlags, 1, 0, 0, 0), question(wire(""), 2)), `id=0x0007 op=0 qd=1 an=0 ns=0 ar=0 q=""/2/0x1`},
		{"name_exactly_255", cat(dnsHdr(7, queryFlags, 1, 0, 0, 0), question(wire(name255), 1)),
			fmt.Sprintf(`id=0x0007 op=0 qd=1 an=0 ns=0 ar=0 q=%q/1/0x1`, name255)},
		{"trailing_garbage_ignored", cat(dnsHdr(7, queryFlags, 1, 0, 0, 0), q, []byte{0xc0}),
			`id=0x0007 op=0 qd=1 an=0 ns=0 ar=0 q="a.test"/1/0x1`},

		{"response_not_query", readFixture(t, "dns_udp_www_github_com.bin"), "not_this"},
		{"response_bit_in_three_bytes", []byte{0xe0, 0x39, 0x81}, "not_this"},
		{"no_question", cat(dnsHdr(7, queryFlags, 0, 0, 0, 1), q), "not_this"},
		{"no_question_in_six_bytes", dnsHdr(7, queryFlags, 0, 0, 0, 0)[:6], "not_this"},
		{"compression_pointer_loop", cat(dnsHdr(7, queryFlags, 1, 0, 0, 0), []byte{1, 'a'}, ptr(12), []byte{0, 1, 0, 1}), "not_this"},
		{"pointer_to_itself", cat(dnsHdr(7, queryFlags, 1, 0, 0, 0), ptr(12), []byte{0, 1, 0, 1}), "not_this"},
		{"label_over_63", cat(dnsHdr(7, queryFlags, 1, 0, 0, 0), []byte{64}, bytes.Repeat([]byte{'x'}, 64), []byte{0, 0, 1, 0, 1}), "not_this"},
		{"name_over_255", cat(dnsHdr(7, queryFlags, 1, 0, 0, 0), question(wire(name256), 1)), "not_this"},

		{"empty", nil, "need_more"},
		{"header_cut", github[:11], "need_more"},
		{"name_cut", github[:20], "need_more"},
		{"class_cut", github[:len(github)-1], "need_more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got DNSQuery
			if s := querySummary(ParseDNSQuery(tt.in, &got), &got); s != tt.want {
				t.Errorf("ParseDNSQuery(%s) = %s; want %s", tt.name, s, tt.want)
			}
		})
	}
}

// TestDNSQueryAnswerQuestion: the fixtures' queries and their answers carry the same question, read by the two
// parsers the same way.
func TestDNSQueryAnswerQuestion(t *testing.T) {
	for _, pair := range [][2]string{
		{"dns_query_udp_www_github_com.bin", "dns_udp_www_github_com.bin"},
		{"dns_query_udp_ctldl_windowsupdate_com.bin", "dns_udp_ctldl_windowsupdate_com.bin"},
		{"dns_query_tcp_www_tcpdump_org.bin", "dns_tcp_www_tcpdump_org.bin"},
	} {
		qb, ab := readFixture(t, pair[0]), readFixture(t, pair[1])
		if strings.Contains(pair[0], "_tcp_") {
			qb, ab = qb[2:], ab[2:]
		}
		var q DNSQuery
		var r DNSResponse
		if ParseDNSQuery(qb, &q) != Found || ParseDNSResponse(ab, &r) != Found {
			t.Fatalf("%s, %s: not both found", pair[0], pair[1])
		}
		if q.ID != r.ID || string(q.QName) != string(r.QName) || q.QType != r.QType || q.QClass != r.QClass {
			t.Errorf("%s = %s; answer %s", pair[0], querySummary(Found, &q), dnsSummary(Found, &r))
		}
	}
}

func TestParseDNSQueryAllocs(t *testing.T) {
	var q DNSQuery
	in := readFixture(t, "dns_query_udp_ctldl_windowsupdate_com.bin")
	if n := testing.AllocsPerRun(100, func() { ParseDNSQuery(in, &q) }); n != 0 {
		t.Errorf("ParseDNSQuery allocs = %v; want 0", n)
	}
}

func BenchmarkParseDNSQuery(b *testing.B) {
	in := readFixture(b, "dns_query_udp_ctldl_windowsupdate_com.bin")
	var q DNSQuery
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if ParseDNSQuery(in, &q) != Found {
			b.Fatal("not found")
		}
	}
}
