package extract

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func headSummary(n int, st Status, r *HTTPRequest) string {
	if st != Found {
		return fmt.Sprintf("%v n=%d", st, n)
	}
	s := fmt.Sprintf("found %s %s %s host=%q cl=%d", r.Method, r.Target, r.Version, r.Host, r.ContentLength)
	if r.HostFromTarget {
		s += " from_target"
	}
	if r.MultipleHosts {
		s += " multiple_hosts"
	}
	if r.HostConflict {
		s += " host_conflict"
	}
	if r.HostMismatch {
		s += " host_mismatch"
	}
	if r.Chunked {
		s += " chunked"
	}
	if r.Ambiguous {
		s += " ambiguous"
	}
	if r.Close {
		s += " close"
	}
	if string(r.Path) != string(r.Target) {
		s += fmt.Sprintf(" path=%q", r.Path)
	}
	if r.BadLine {
		s += " bad_line"
	}
	if r.UnknownMethod {
		s += " unknown_method"
	}
	return s
}

func TestParseRequestHead(t *testing.T) {
	get := readFixture(t, "http_curl_get.bin")
	post := readFixture(t, "http_curl_post_chunked.bin")
	postHead := strings.Index(string(post), "\r\n\r\n") + 4
	big := "GET / HTTP/1.1\r\nHost: a\r\nX: " + strings.Repeat("v", MaxRequestHead) + "\r\n\r\n"

	// in is "head|rest": for found cases n must be the length of head. No case has another '|'.
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"curl_get", string(get), `found GET /path/to?q=1 HTTP/1.1 host="curl.example.test" cl=-1`},
		{"curl_post_chunked", string(post[:postHead]) + "|" + string(post[postHead:]),
			`found POST /upload HTTP/1.1 host="upload.example.test" cl=-1 chunked`},
		{"host_plain", "GET / HTTP/1.0\r\nHost: example.com\r\n\r\n|BODY", `found GET / HTTP/1.0 host="example.com" cl=-1 close`},
		{"host_with_port", "GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", `found GET / HTTP/1.1 host="example.com" cl=-1`},
		{"host_with_empty_port", "GET / HTTP/1.1\r\nHost: example.com:\r\n\r\n", `found GET / HTTP/1.1 host="example.com" cl=-1`},
		{"host_ipv6_literal_with_port", "GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n",
			`found GET / HTTP/1.1 host="2001:db8::1" cl=-1`},
		{"host_ipv6_literal", "GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n", `found GET / HTTP/1.1 host="::1" cl=-1`},
		{"host_bare_ipv6_kept", "GET / HTTP/1.1\r\nHost: 2001:db8::1\r\n\r\n", `found GET / HTTP/1.1 host="2001:db8::1" cl=-1`},
		{"host_trimmed_case_kept", "GET / HTTP/1.1\r\nhOsT: \t WWW.Example.COM. \t\r\n\r\n",
			`found GET / HTTP/1.1 host="WWW.Example.COM." cl=-1`},
		{"host_folded", "GET / HTTP/1.1\r\nHost:\r\n  folded.example.com\r\nAccept: */*\r\n\r\n",
			`found GET / HTTP/1.1 host="folded.example.com" cl=-1 ambiguous`},
		{"host_folded_with_port", "GET / HTTP/1.1\r\nHost: folded\r\n\t.example.com:81\r\n\r\n",
			`found GET / HTTP/1.1 host="folded .example.com" cl=-1 ambiguous`},
		{"other_field_folded", "GET / HTTP/1.1\r\nX-Long: a\r\n b\r\nHost: h\r\n\r\n", `found GET / HTTP/1.1 host="h" cl=-1 ambiguous`},
		{"fold_before_first_field_ignored", "GET / HTTP/1.1\r\n Host: a\r\n\t\r\nHost: b\r\n\r\n", `found GET / HTTP/1.1 host="b" cl=-1 ambiguous`},
		{"bare_lf_line_endings", "GET /x HTTP/1.1\nHost: lf.example\n\n|rest", `found GET /x HTTP/1.1 host="lf.example" cl=-1`},
		{"absolute_form_target", "GET http://proxy.example:3128/p?q HTTP/1.1\r\n\r\n",
			`found GET http://proxy.example:3128/p?q HTTP/1.1 host="proxy.example" cl=-1 from_target path="/p?q"`},
		{"absolute_form_userinfo", "GET http://u:p@h.example/ HTTP/1.1\r\n\r\n",
			`found GET http://u:p@h.example/ HTTP/1.1 host="h.example" cl=-1 from_target path="/"`},
		{"absolute_form_empty_host_field", "GET HTTP://h.example HTTP/1.1\r\nHost:\r\n\r\n",
			`found GET HTTP://h.example HTTP/1.1 host="h.example" cl=-1 from_target path="/"`},
		// RFC 9112 section 3.2.2: a server takes the host of an absolute-form target and ignores the Host field.
		{"absolute_form_target_wins_over_host_field", "GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n",
			`found GET http://a.example/x HTTP/1.1 host="a.example" cl=-1 from_target host_mismatch path="/x"`},
		{"absolute_form_host_field_agrees", "GET http://A.Example.:80/x?y HTTP/1.1\r\nHost: a.example:80\r\n\r\n",
			`found GET http://A.Example.:80/x?y HTTP/1.1 host="A.Example." cl=-1 from_target path="/x?y"`},
		{"absolute_form_query_without_path", "GET http://a.example?q=1 HTTP/1.1\r\nHost: a.example\r\n\r\n",
			`found GET http://a.example?q=1 HTTP/1.1 host="a.example" cl=-1 from_target path="/?q=1"`},
		{"absolute_form_ipv6_port", "GET http://[2001:db8::1]:8080/p HTTP/1.1\r\nHost: [2001:DB8::1]\r\n\r\n",
			`found GET http://[2001:db8::1]:8080/p HTTP/1.1 host="2001:db8::1" cl=-1 from_target path="/p"`},
		// No host in the target: the Host field names the request, as Go's net/http reads it.
		{"absolute_form_empty_authority", "GET http:///x HTTP/1.1\r\nHost: b.example\r\n\r\n",
			`found GET http:///x HTTP/1.1 host="b.example" cl=-1 path="/x"`},
		{"absolute_form_target_wins_over_two_hosts", "GET http://a.example/ HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n",
			`found GET http://a.example/ HTTP/1.1 host="a.example" cl=-1 from_target multiple_hosts host_conflict host_mismatch ambiguous path="/"`},
		{"connect_host_field_differs", "CONNECT a.example:443 HTTP/1.1\r\nHost: b.example:443\r\n\r\n",
			`found CONNECT a.example:443 HTTP/1.1 host="a.example" cl=-1 from_target host_mismatch`},
		{"connect_host_field_agrees", "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n",
			`found CONNECT a.example:443 HTTP/1.1 host="a.example" cl=-1 from_target`},
		{"origin_form_not_from_target", "GET //a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n",
			`found GET //a.example/x HTTP/1.1 host="b.example" cl=-1`},
		{"connect_authority_form", "CONNECT login.live.com:443 HTTP/1.1\r\n\r\n",
			`found CONNECT login.live.com:443 HTTP/1.1 host="login.live.com" cl=-1 from_target`},
		{"no_host", "GET / HTTP/1.0\r\n\r\n", `found GET / HTTP/1.0 host="" cl=-1 close`},
		{"connection_close", "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", `found GET / HTTP/1.1 host="" cl=-1 close`},
		{"connection_options_close_last", "GET / HTTP/1.1\r\nConnection: keep-alive,, TE ,CLOSE \r\n\r\n", `found GET / HTTP/1.1 host="" cl=-1 close`},
		{"connection_close_second_field", "GET / HTTP/1.1\r\nConnection: TE\r\nConnection: close\r\n\r\n", `found GET / HTTP/1.1 host="" cl=-1 close`},
		{"connection_closed_not_close", "GET / HTTP/1.1\r\nConnection: closed, x-close\r\n\r\n", `found GET / HTTP/1.1 host="" cl=-1`},
		{"http_1_0_keep_alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", `found GET / HTTP/1.0 host="" cl=-1`},
		{"http_1_0_keep_alive_and_close", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", `found GET / HTTP/1.0 host="" cl=-1 close`},
		// RFC 9112 section 3.2: a server must reject a request with two Host fields; some take the first, some
		// the last. The name stands only when all agree, and the caller reads nothing after the request.
		{"multiple_hosts_disagree", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", `found GET / HTTP/1.1 host="" cl=-1 multiple_hosts host_conflict ambiguous`},
		{"multiple_hosts_agree", "GET / HTTP/1.1\r\nHost: A.example\r\nHost: a.example.:80\r\nContent-Length: 3\r\n\r\n",
			`found GET / HTTP/1.1 host="A.example" cl=-1 multiple_hosts ambiguous`},
		{"multiple_hosts_third_disagrees", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\nHost: c\r\n\r\n",
			`found GET / HTTP/1.1 host="" cl=-1 multiple_hosts host_conflict ambiguous`},
		{"multiple_hosts_second_empty", "GET / HTTP/1.1\r\nHost: a\r\nHost:\r\n\r\n", `found GET / HTTP/1.1 host="" cl=-1 multiple_hosts host_conflict ambiguous`},
		{"multiple_hosts_first_empty", "GET / HTTP/1.1\r\nHost:\r\nhost: a\r\n\r\n", `found GET / HTTP/1.1 host="" cl=-1 multiple_hosts host_conflict ambiguous`},
		{"multiple_hosts_folded_agree", "GET / HTTP/1.1\r\nHost:\r\n a\r\nHost: a\r\n\r\n", `found GET / HTTP/1.1 host="a" cl=-1 multiple_hosts ambiguous`},
		{"content_length", "POST /u HTTP/1.1\r\nContent-Length: 42\r\n\r\n", `found POST /u HTTP/1.1 host="" cl=42`},
		{"content_length_same_list", "POST /u HTTP/1.1\r\nContent-Length: 7, 7\r\nContent-Length: 7\r\n\r\n",
			`found POST /u HTTP/1.1 host="" cl=7`},
		{"chunked_body", "POST /u HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n",
			`found POST /u HTTP/1.1 host="" cl=-1 chunked`},
		{"chunked_not_last", "POST /u HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", `found POST /u HTTP/1.1 host="" cl=-1 ambiguous`},
		{"long_method_token", "M-SEARCH-FOR-IT! * HTTP/1.1\r\n\r\n", `found M-SEARCH-FOR-IT! * HTTP/1.1 host="" cl=-1 unknown_method`},
		{"pipelined_second_request_left", "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n|GET /2 HTTP/1.1\r\n",
			`found GET /1 HTTP/1.1 host="a" cl=-1`},
		// zeek http/261 variant 08: leading zeros are 1*DIGIT (RFC 9110 section 8.6); the body is 50 bytes.
		{"content_length_leading_zeros", "POST / HTTP/1.1\r\nHost: target\r\nContent-Length: 00000000000000000000000000000050\r\n\r\n|" + strings.Repeat("X", 50),
			`found POST / HTTP/1.1 host="target" cl=50`},
		{"content_length_zero_padded_zero", "POST / HTTP/1.1\r\nContent-Length: 000\r\n\r\n", `found POST / HTTP/1.1 host="" cl=0`},
		// suricata-verify http-uri-spaces: curl sent it; nginx accepts it.
		{"target_with_space", "GET /uri afterspace HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: curl/7.54.0\r\nAccept: */*\r\n\r\n",
			`found GET /uri afterspace HTTP/1.1 host="127.0.0.1" cl=-1`},

		// Framing that servers disagree on: the Host still names the flow, the caller stops after the head.
		{"content_length_conflict", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", `found POST / HTTP/1.1 host="" cl=-1 ambiguous`},
		// suricata-verify http-multiple-cl: which of 11 and 93 decides where the next request starts.
		{"content_length_conflict_no_space", "POST /which.php HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length:11\r\nContent-Length:93\r\n\r\n|bar=1&foo=2POST /evil.php HTTP/1.1\r\n",
			`found POST /which.php HTTP/1.1 host="127.0.0.1" cl=-1 ambiguous`},
		{"content_length_conflict_then_agree", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\nContent-Length: 1\r\n\r\n", `found POST / HTTP/1.1 host="" cl=-1 ambiguous`},
		{"content_length_list_conflict", "POST / HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\n", `found POST / HTTP/1.1 host="" cl=-1 ambiguous`},
		// zeek http/261 variant 03.
		{"content_length_negative", "POST / HTTP/1.1\r\nHost: target\r\nContent-Length: -1\r\n\r\n|GET /smuggled-cl-negative HTTP/1.1\r\n",
			`found POST / HTTP/1.1 host="target" cl=-1 ambiguous`},
		{"content_length_overflow", "POST / HTTP/1.1\r\nContent-Length: 9999999999999999999\r\n\r\n", `found POST / HTTP/1.1 host="" cl=-1 ambiguous`},
		// zeek http/261 variant 02: 2^64-1.
		{"content_length_uint64max", "POST / HTTP/1.1\r\nHost: target\r\nContent-Length: 18446744073709551615\r\n\r\n|GET /smuggled-cl-uint64max HTTP/1.1\r\n",
			`found POST / HTTP/1.1 host="target" cl=-1 ambiguous`},
		{"content_length_empty", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", `found POST / HTTP/1.1 host="h" cl=-1 ambiguous`},
		// zeek http/261 variant 10: the last coding is not chunked (RFC 9112 section 6.3: reject).
		{"transfer_encoding_chunked_identity", "POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked, identity\r\n\r\n|0\r\n\r\nGET /smuggled-multi-te HTTP/1.1\r\n",
			`found POST / HTTP/1.1 host="target" cl=-1 ambiguous`},
		{"transfer_encoding_and_content_length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
			`found POST / HTTP/1.1 host="h" cl=-1 chunked ambiguous`},
		{"transfer_encoding_twice", "POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n",
			`found POST / HTTP/1.1 host="" cl=-1 chunked ambiguous`},
		{"transfer_encoding_in_http_1_0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
			`found POST / HTTP/1.0 host="" cl=-1 chunked ambiguous close`},
		{"space_before_colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", `found GET / HTTP/1.1 host="" cl=-1 ambiguous`},
		{"space_before_colon_other_host_kept", "GET / HTTP/1.1\r\nContent-Length : 9\r\nHost: a\r\n\r\n", `found GET / HTTP/1.1 host="a" cl=-1 ambiguous`},
		// suricata-verify transform-base64-7296: "U}grade" is not a token.
		{"field_name_not_token", "GET /eicar HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nConnection:\xa0Upgrade, HTTP2-Settings\r\nU}grade: h2c\r\n  folded\r\n\r\n",
			`found GET /eicar HTTP/1.1 host="127.0.0.1" cl=-1 ambiguous`},

		{"empty", "", "need_more n=0"},
		{"method_only", "GET", "need_more n=0"},
		{"request_line_cut", "GET /index.html HT", "need_more n=0"},
		{"head_cut_in_fields", "GET / HTTP/1.1\r\nHost: a\r\n", "need_more n=0"},
		{"head_cut_before_last_lf", "GET / HTTP/1.1\r\nHost: a\r\n\r", "need_more n=0"},
		{"head_cut_in_fold", "GET / HTTP/1.1\r\nHost: a\r\n b", "need_more n=0"},

		{"head_over_16k", big, "not_this n=0"},
		{"method_over_16", "ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n\r\n", "not_this n=0"},
		{"method_over_16_unfinished", "ABCDEFGHIJKLMNOPQ", "not_this n=0"},
		{"method_not_token", "GE(T / HTTP/1.1\r\n\r\n", "not_this n=0"},
		{"binary_start", "\x16\x03\x01\x02\x00", "not_this n=0"},
		// Request lines servers refuse, still requests for their Host (BadLine): the line as sent, Close set.
		{"http_0_9", "GET /\r\n\r\n", `found GET /  host="" cl=-1 close bad_line`},
		{"version_2", "GET / HTTP/2.0\r\n\r\n", `found GET / HTTP/2.0 host="" cl=-1 close bad_line`},
		{"version_lowercase", "GET / http/1.1\r\n\r\n", `found GET / http/1.1 host="" cl=-1 close bad_line`},
		{"version_cut_short", "GET / HTTP/1.\r\nHost: www.msftconnecttest.com\r\n\r\n",
			`found GET / HTTP/1. host="www.msftconnecttest.com" cl=-1 close bad_line`},
		{"version_three_numbers", "GET /weather HTTP/1.0.8\r\nHost: 38.102.136.125\r\n\r\n",
			`found GET /weather HTTP/1.0.8 host="38.102.136.125" cl=-1 close bad_line`},
		{"version_missing", "GET /connecttest.txt\r\nHost: www.msftconnecttest.com\r\n\r\n",
			`found GET /connecttest.txt  host="www.msftconnecttest.com" cl=-1 close bad_line`},
		{"version_missing_absolute_form", "GET http://a.example/x\r\n\r\n",
			`found GET http://a.example/x  host="a.example" cl=-1 from_target close path="/x" bad_line`},
		{"space_after_version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", `found GET / HTTP/1.1 host="a" cl=-1 close bad_line`},
		{"unknown_method", "WEIRD / HTTP/1.1\r\nHost: zeek.org\r\n\r\n", `found WEIRD / HTTP/1.1 host="zeek.org" cl=-1 unknown_method`},
		{"method_lower_case_unknown", "get / HTTP/1.1\r\nHost: a\r\n\r\n", `found get / HTTP/1.1 host="a" cl=-1 unknown_method`},
		{"unknown_method_bad_version", "WEIRD / HTTP/1.\r\nHost: a\r\n\r\n", `found WEIRD / HTTP/1. host="a" cl=-1 close bad_line unknown_method`},
		// Not requests: the commands of other protocols (TLS may follow them: STARTTLS), HTTP/2's preface.
		{"unknown_method_no_version", "WEIRD /\r\nHost: a\r\n\r\n", "not_this n=0"},
		{"imap_starttls", "a1 STARTTLS\r\n", "not_this n=0"},
		{"ftp_auth_tls", "AUTH TLS\r\n", "not_this n=0"},
		{"smtp_ehlo", "EHLO client.example\r\n", "not_this n=0"},
		{"get_without_target_form", "GET STARTTLS\r\n\r\n", "not_this n=0"},
		{"http2_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "not_this n=0"},
		{"rtsp_request", "OPTIONS rtsp://a.example/ RTSP/1.0\r\nCSeq: 1\r\n\r\n", "not_this n=0"},
		{"response_not_request", "HTTP/1.1 200 OK\r\n\r\n", "not_this n=0"},
		{"target_with_control_byte", "GET /a\x01b HTTP/1.1\r\n\r\n", "not_this n=0"},
		{"double_space", "GET  / HTTP/1.1\r\n\r\n", `found GET / HTTP/1.1 host="" cl=-1 close bad_line`},
		{"double_space_before_version", "GET /  HTTP/1.1\r\n\r\n", `found GET / HTTP/1.1 host="" cl=-1 close bad_line`},
		{"target_with_tab", "GET /a\tb HTTP/1.1\r\n\r\n", "not_this n=0"},

		{"field_without_colon", "GET / HTTP/1.1\r\nHost a\r\n\r\n", "not_this n=0"},
		{"fold_before_first_field_nul", "GET / HTTP/1.1\r\n a\x00\r\n\r\n", "not_this n=0"},
		{"nul_in_field", "GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n", "not_this n=0"},
		{"bare_cr_in_field", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", "not_this n=0"},
	}
	var r HTTPRequest
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head, _, _ := strings.Cut(tt.in, "|")
			n, st := ParseRequestHead([]byte(strings.Replace(tt.in, "|", "", 1)), &r)
			if got := headSummary(n, st, &r); got != tt.want {
				t.Errorf("ParseRequestHead(%s) = %s; want %s", tt.name, got, tt.want)
			}
			if wantN := len(head); st == Found && n != wantN {
				t.Errorf("ParseRequestHead(%s) n = %d; want %d", tt.name, n, wantN)
			}
		})
	}
}

func TestParseRequestHeadEveryPrefixNeedsMore(t *testing.T) {
	var r HTTPRequest
	for _, name := range []string{"http_curl_get.bin", "http_curl_post_chunked.bin"} {
		b := readFixture(t, name)
		n, st := ParseRequestHead(b, &r)
		if st != Found {
			t.Fatalf("ParseRequestHead(%s) = %v; want found", name, st)
		}
		for i := range n {
			if _, st := ParseRequestHead(b[:i], &r); st != NeedMore {
				t.Fatalf("ParseRequestHead(%s[:%d]) = %v; want need_more", name, i, st)
			}
		}
	}
}

func TestLooksLikeHTTPRequest(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"get", "GET / HTTP/1.1", true},
		{"post_prefix", "POST ", true},
		{"method_16", "ABCDEFGHIJKLMNOP ", true},
		{"method_17", "ABCDEFGHIJKLMNOPQ ", false},
		{"no_space_yet", "GET", false},
		{"leading_space", " GET", false},
		{"tls", "\x16\x03\x01", false},
		{"response", "HTTP/1.1 200", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LooksLikeHTTPRequest([]byte(tt.in)); got != tt.want {
				t.Errorf("LooksLikeHTTPRequest(%q) = %v; want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestHTTPMethodPrefix(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"one_byte", "G", true},
		{"method", "GET", true},
		{"method_16", "ABCDEFGHIJKLMNOP", true},
		{"method_17", "ABCDEFGHIJKLMNOPQ", false},
		{"empty", "", false},
		{"with_space", "GET ", false},
		{"not_token", "GE\r", false},
		{"tls", "\x16\x03", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HTTPMethodPrefix([]byte(tt.in)); got != tt.want {
				t.Errorf("HTTPMethodPrefix(%q) = %v; want %v", tt.in, got, tt.want)
			}
		})
	}
}

// feedChunked reads in through one ChunkedBody in pieces of at most size bytes and returns the outcome as an
// offset in all of in: where the body ended (Found), where it went wrong (NotThis) or len(in) (NeedMore).
func feedChunked(in []byte, size int) (int, Status) {
	var c ChunkedBody
	off := 0
	for {
		piece := in[off:min(off+size, len(in))]
		n, st := c.Next(piece)
		if st != NeedMore || off+len(piece) == len(in) {
			return off + n, st
		}
		if n != len(piece) {
			return -1, st // breaks the contract: caught by the callers' comparison
		}
		off += n
	}
}

func TestChunkedBody(t *testing.T) {
	post := readFixture(t, "http_curl_post_chunked.bin")
	body := post[strings.Index(string(post), "\r\n\r\n")+4:]
	// in is "body|rest": for found cases n must be the length of body (all of in without a '|').
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"chunked_body", string(body), "found"},
		{"chunked_body_then_next_request", "5\r\nhello\r\n0\r\n\r\n|GET / HTTP/1.1\r\n", "found"},
		{"several_chunks_upper_hex", "A\r\n0123456789\r\n1\r\nx\r\n0\r\n\r\n", "found"},
		{"chunk_extension", "5;name=value\r\nhello\r\n0;last\r\n\r\n", "found"},
		{"chunk_extensions_quoted", "5;a=\"x;y \\\"z\\\"\";b;c=d\r\nhello\r\n0\r\n\r\n", "found"},
		{"chunk_extension_obs_text", "5;a=\"\xe9\\\xff\"\r\nhello\r\n0\r\n\r\n", "found"},
		{"chunk_extension_bws", "5 \t; a = b ;c\t\r\nhello\r\n0\r\n\r\n", "found"},
		{"chunk_size_trailing_space", "5 \t\r\nhello\r\n0\r\n\r\n", "found"},
		{"trailer_fields", "0\r\nChecksum: abc\r\nX-T: 1\r\n\r\n", "found"},
		{"trailer_empty_value", "0\r\nX:\r\n\r\n", "found"},
		{"leading_zeros", "0005\r\nhello\r\n0\r\n\r\n", "found"},
		{"data_holds_crlf", "4\r\n\r\n\r\n\r\n0\r\n\r\n|x", "found"},
		{"size_line_exactly_4k", "5;" + strings.Repeat("e", MaxChunkLine-4) + "\r\nhello\r\n0\r\n\r\n", "found"},
		{"max_15_hex_digits_needs_more", "fffffffffffffff\r\n", "need_more"},

		{"empty", "", "need_more"},
		{"size_line_cut", "5", "need_more"},
		{"data_cut", "5\r\nhel", "need_more"},
		{"data_crlf_cut", "5\r\nhello\r", "need_more"},
		{"last_chunk_without_empty_line", "0\r\n", "need_more"},
		{"trailer_cut", "0\r\nX: 1\r\n", "need_more"},
		{"quoted_string_cut", "5;a=\"x", "need_more"},

		// NotThis at the byte that shows it.
		{"size_not_hex", "g\r\n", "not_this at 0"},
		{"size_empty", "\r\nhello\r\n", "not_this at 0"},
		{"size_16_hex_digits", "1000000000000000\r\n", "not_this at 15"},
		{"size_hex_prefix", "0x5\r\n", "not_this at 1"},
		{"size_leading_space", " 5\r\nhello\r\n0\r\n\r\n", "not_this at 0"},
		{"size_line_bare_lf", "3\nabc\r\n0\r\n\r\n", "not_this at 1"},
		{"size_line_bare_cr", "3\rabc", "not_this at 2"},
		{"size_line_over_4k", "5;" + strings.Repeat("e", MaxChunkLine), "not_this at 4096"},
		{"size_line_4k_and_one", "5;" + strings.Repeat("e", MaxChunkLine-3) + "\r\n", "not_this at 4096"},
		{"data_longer_than_size", "3\r\nhello\r\n0\r\n\r\n", "not_this at 6"},
		{"data_followed_by_bare_cr", "3\r\nabc\rX", "not_this at 7"},
		{"data_followed_by_bare_lf", "3\r\nabc\n0\r\n\r\n", "not_this at 6"},
		{"extension_empty", "5;\r\n", "not_this at 2"},
		{"extension_without_name", "5;=v\r\n", "not_this at 2"},
		{"extension_name_with_space", "5;na me\r\n", "not_this at 5"},
		{"extension_value_empty", "5;a=\r\n", "not_this at 4"},
		{"extension_value_with_space", "5;a=b c\r\n", "not_this at 6"},
		{"extension_two_values", "5;a=b=c\r\n", "not_this at 5"},
		{"extension_after_quote", "5;a=\"b\"c\r\n", "not_this at 7"},
		{"extension_quote_not_closed", "5;a=\"b\r\n", "not_this at 6"},
		{"extension_quoted_control", "5;a=\"\x01\"\r\n", "not_this at 5"},
		{"extension_quoted_pair_control", "5;a=\"\\\x01\"\r\n", "not_this at 6"},
		{"extension_nul", "5;a\x00\r\n", "not_this at 3"},
		{"extension_bare_lf", "5;a\nhello", "not_this at 3"},
		{"trailer_not_a_field", "0\r\nnot a field\r\n\r\n", "not_this at 6"},
		{"trailer_name_with_space", "0\r\nX : 1\r\n\r\n", "not_this at 4"},
		{"trailer_no_name", "0\r\n: 1\r\n\r\n", "not_this at 3"},
		{"trailer_obs_fold", "0\r\nX: 1\r\n 2\r\n\r\n", "not_this at 9"},
		{"trailer_bare_lf", "0\r\nX: 1\n\r\n", "not_this at 7"},
		{"trailer_nul", "0\r\nX: \x00\r\n\r\n", "not_this at 6"},
		{"trailer_bare_cr", "0\r\nX: 1\r2\r\n\r\n", "not_this at 8"},
		{"empty_line_bare_lf", "0\r\n\n", "not_this at 3"},
		{"trailer_over_16k", "0\r\n" + strings.Repeat("X: 1\r\n", MaxTrailer/6+1) + "\r\n", "not_this at 16387"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _, _ := strings.Cut(tt.in, "|")
			in := []byte(strings.Replace(tt.in, "|", "", 1))
			for _, size := range []int{len(in) + 1, 1, 3} {
				n, st := feedChunked(in, size)
				got := st.String()
				switch st {
				case Found:
					if n != len(body) {
						t.Errorf("ChunkedBody.Next(%s) in pieces of %d ended at %d; want %d", tt.name, size, n, len(body))
					}
				case NeedMore:
					if n != len(in) {
						t.Errorf("ChunkedBody.Next(%s) in pieces of %d = need_more at %d; want all %d bytes read", tt.name, size, n, len(in))
					}
				case NotThis:
					got = fmt.Sprintf("not_this at %d", n)
				}
				if got != tt.want {
					t.Errorf("ChunkedBody.Next(%s) in pieces of %d = %s; want %s", tt.name, size, got, tt.want)
				}
			}
		})
	}
}

// TestChunkedBodyAfterEnd: once Found or NotThis, a ChunkedBody says so again and reads nothing.
func TestChunkedBodyAfterEnd(t *testing.T) {
	for _, in := range []string{"0\r\n\r\n", "x"} {
		var c ChunkedBody
		_, want := c.Next([]byte(in))
		for _, more := range []string{"", "0\r\n\r\n", "GET / HTTP/1.1\r\n"} {
			if n, st := c.Next([]byte(more)); n != 0 || st != want {
				t.Errorf("ChunkedBody.Next(%q) after %q = %d, %v; want 0, %v", more, in, n, st, want)
			}
		}
	}
}

func TestParseRequestHeadAllocs(t *testing.T) {
	var r HTTPRequest
	for _, in := range [][]byte{readFixture(t, "http_curl_get.bin"),
		[]byte("GET / HTTP/1.1\r\nHost: a\r\n  .example:80\r\nContent-Length: 3\r\n\r\n"),
		[]byte("GET http://a.example?q=1 HTTP/1.1\r\nHost: b\r\n\r\n")} {
		ParseRequestHead(in, &r) // grows the fold buffer
		if n := testing.AllocsPerRun(100, func() { ParseRequestHead(in, &r) }); n != 0 {
			t.Errorf("ParseRequestHead(%q) allocs = %v; want 0", in, n)
		}
	}
	post := readFixture(t, "http_curl_post_chunked.bin")
	body := post[strings.Index(string(post), "\r\n\r\n")+4:]
	if n := testing.AllocsPerRun(100, func() {
		var c ChunkedBody
		c.Next(body)
	}); n != 0 {
		t.Errorf("ChunkedBody.Next allocs = %v; want 0", n)
	}
}

func BenchmarkParseRequestHead(b *testing.B) {
	in := readFixture(b, "http_curl_get.bin")
	var r HTTPRequest
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, st := ParseRequestHead(in, &r); st != Found {
			b.Fatal("not found")
		}
	}
}

// The grammar of a chunked body as ChunkedBody reads it (RFC 9112 section 7.1, strict: see ChunkedBody), as
// regular expressions over a line without its CRLF, each byte read as the rune of the same number (Latin-1), so
// that [\x80-\xff] is obs-text.
var (
	chunkSizeLine = regexp.MustCompile(`^[0-9A-Fa-f]{1,15}` +
		`([ \t]*;[ \t]*` + tokenRE + `([ \t]*=[ \t]*(` + tokenRE + `|` + quotedRE + `))?)*[ \t]*$`)
	trailerLine = regexp.MustCompile(`^` + tokenRE + `:[^\x00\r\n]*$`)
)

const (
	tokenRE  = "[!#$%&'*+.^_`|~0-9A-Za-z-]+"
	quotedRE = `"([\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"`
)

func latin1(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// chunkRef is chunkedReference's answer: Found at lo; NotThis at a byte in [lo, hi); NeedMore in chunk data (hi
// 0) or in a line that starts at lo and is not whole (hi 1: only its end tells whether it is valid).
type chunkRef struct {
	st     Status
	lo, hi int
}

// chunkedReference reads a chunked body the slow, obvious way, a whole line at a time: the oracle of
// FuzzChunkedBody.
func chunkedReference(b []byte) chunkRef {
	off := 0
	line := func() (string, int, bool) { // the line at off without its LF, and the offset after it
		j := bytes.IndexByte(b[off:], '\n')
		if j < 0 {
			return "", 0, false
		}
		return string(b[off : off+j]), off + j + 1, true
	}
	for {
		l, next, whole := line()
		if !whole {
			return chunkRef{NeedMore, off, 1}
		}
		if len(l)+1 > MaxChunkLine || !strings.HasSuffix(l, "\r") || !chunkSizeLine.MatchString(latin1([]byte(l[:len(l)-1]))) {
			return chunkRef{NotThis, off, next}
		}
		digits := strings.IndexFunc(l, func(r rune) bool { return !strings.ContainsRune("0123456789abcdefABCDEF", r) })
		size, _ := strconv.ParseUint(l[:digits], 16, 64)
		off = next
		if size == 0 {
			break
		}
		if uint64(len(b)-off) < size {
			return chunkRef{NeedMore, off, 0}
		}
		off += int(size)
		for _, want := range []byte("\r\n") {
			if off == len(b) {
				return chunkRef{NeedMore, off, 0}
			}
			if b[off] != want {
				return chunkRef{NotThis, off, off + 1}
			}
			off++
		}
	}
	trailer := off
	for {
		l, next, whole := line()
		if !whole {
			return chunkRef{NeedMore, off, 1}
		}
		if next-trailer > MaxTrailer || !strings.HasSuffix(l, "\r") {
			return chunkRef{NotThis, off, next}
		}
		if l == "\r" {
			return chunkRef{Found, next, next}
		}
		if !trailerLine.MatchString(latin1([]byte(l[:len(l)-1]))) {
			return chunkRef{NotThis, off, next}
		}
		off = next
	}
}
