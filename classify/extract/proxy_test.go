package extract

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseProxyHeader(t *testing.T) {
	v2 := func(verCmd byte, length int, body string) string {
		return proxyV2Sig + string([]byte{verCmd, 0x11, byte(length >> 8), byte(length)}) + body
	}
	addrs4 := string([]byte{11, 111, 11, 111, 222, 222, 222, 22, 0xcb, 0xd0, 0x01, 0xbb})
	// in is "header|rest": for found cases n must be the length of header.
	tests := []struct {
		name string
		in   string
		want string
	}{
		// nDPI haproxy.pcap frame 1: HAProxy's line, then the client's ClientHello in the same segment.
		{"v1_tcp4_then_tls", "PROXY TCP4 11.111.11.111 222.222.222.22 52176 443\r\n|\x16\x03\x01\x00\xfd\x01", "found"},
		{"v1_tcp6", "PROXY TCP6 2001:db8::1 2001:db8::2 52176 443\r\n|GET / HTTP/1.1\r\n", "found"},
		{"v1_unknown", "PROXY UNKNOWN\r\n|", "found"},
		{"v1_unknown_with_addresses", "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n|", "found"},
		{"v1_longest", "PROXY TCP4 " + strings.Repeat("1", MaxProxyV1-len("PROXY TCP4 \r\n")) + "\r\n|", "found"},
		{"v2_proxy_tcp4", v2(0x21, 12, addrs4) + "|\x16\x03\x01", "found"},
		{"v2_local", v2(0x20, 0, "") + "|", "found"},
		{"v2_with_tlvs", v2(0x21, 12+7, addrs4+"\x01\x00\x04h2\x00\x00") + "|", "found"},

		{"empty", "", "need_more"},
		{"v1_prefix", "PROX", "need_more"},
		{"v1_cut_in_addresses", "PROXY TCP4 11.111.", "need_more"},
		{"v1_cut_before_lf", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r", "need_more"},
		{"v1_cut_in_protocol", "PROXY UNKN", "need_more"},
		{"v2_signature_cut", proxyV2Sig[:7], "need_more"},
		{"v2_header_cut", v2(0x21, 12, addrs4)[:14], "need_more"},
		{"v2_addresses_cut", v2(0x21, 12, addrs4[:5]), "need_more"},

		{"http_request", "GET / HTTP/1.1\r\n\r\n", "not_this"},
		{"tls", "\x16\x03\x01\x00\xfd", "not_this"},
		{"v1_lowercase", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "not_this"},
		{"v1_bad_protocol", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", "not_this"},
		{"v1_protocol_only", "PROXY TCP4\r\n", "not_this"},
		{"v1_unknownx", "PROXY UNKNOWNX\r\n", "not_this"},
		{"v1_bare_lf", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "not_this"},
		{"v1_binary_byte", "PROXY TCP4 1.2.3.4\x00 5.6.7.8 1 2\r\n", "not_this"},
		{"v1_no_crlf_within_107", "PROXY TCP4 " + strings.Repeat("1", MaxProxyV1), "not_this"},
		{"v1_crlf_past_107", "PROXY TCP4 " + strings.Repeat("1", MaxProxyV1-len("PROXY TCP4 \r\n")+1) + "\r\n", "not_this"},
		{"v2_version_1", v2(0x11, 12, addrs4), "not_this"},
		{"v2_command_2", v2(0x22, 12, addrs4), "not_this"},
		{"v2_length_past_bound", v2(0x21, MaxProxyV2, ""), "not_this"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header, _, _ := strings.Cut(tt.in, "|")
			in := []byte(strings.Replace(tt.in, "|", "", 1))
			n, st := ParseProxyHeader(in)
			got := st.String()
			if got != tt.want {
				t.Errorf("ParseProxyHeader(%s) = %s; want %s", tt.name, got, tt.want)
			}
			switch {
			case st == Found && n != len(header):
				t.Errorf("ParseProxyHeader(%s) n = %d; want %d", tt.name, n, len(header))
			case st != Found && n != 0:
				t.Errorf("ParseProxyHeader(%s) n = %d; want 0", tt.name, n)
			}
			if st == Found && !LooksLikeProxyHeader(in) {
				t.Errorf("LooksLikeProxyHeader(%s) = false; want true", tt.name)
			}
		})
	}
}

func TestParseProxyHeaderEveryPrefixNeedsMore(t *testing.T) {
	for _, h := range []string{
		"PROXY TCP4 11.111.11.111 222.222.222.22 52176 443\r\n",
		"PROXY UNKNOWN\r\n",
		proxyV2Sig + "\x21\x11\x00\x0c" + "abcdefghijkl",
	} {
		for i := range len(h) {
			if n, st := ParseProxyHeader([]byte(h[:i])); st != NeedMore {
				t.Errorf("ParseProxyHeader(%q) = %v %d; want need_more", h[:i], st, n)
			}
		}
		if n, st := ParseProxyHeader([]byte(h)); st != Found || n != len(h) {
			t.Errorf("ParseProxyHeader(%q) = %v %d; want found %d", h, st, n, len(h))
		}
	}
}

func TestParseProxyHeaderAllocs(t *testing.T) {
	in := []byte("PROXY TCP4 11.111.11.111 222.222.222.22 52176 443\r\n\x16\x03\x01")
	if n := testing.AllocsPerRun(100, func() { ParseProxyHeader(in) }); n != 0 {
		t.Errorf("ParseProxyHeader allocs = %v; want 0", n)
	}
}

func FuzzParseProxyHeader(f *testing.F) {
	for _, s := range []string{
		"PROXY TCP4 11.111.11.111 222.222.222.22 52176 443\r\n\x16\x03\x01",
		"PROXY UNKNOWN\r\n",
		proxyV2Sig + "\x21\x11\x00\x0c" + "abcdefghijkl" + "GET",
		proxyV2Sig[:5],
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		n, st := ParseProxyHeader(in)
		got := fmt.Sprintf("%v %d", st, n)
		switch st {
		case Found:
			if n <= 0 || n > len(in) || n > MaxProxyV2 {
				t.Fatalf("ParseProxyHeader(%q) = %s; out of bounds", in, got)
			}
			if n2, st2 := ParseProxyHeader(in[:n]); st2 != Found || n2 != n {
				t.Fatalf("ParseProxyHeader(%q[:n]) = %v %d; want %s", in, st2, n2, got)
			}
			if _, st3 := ParseProxyHeader(in[:n-1]); st3 != NeedMore {
				t.Fatalf("ParseProxyHeader(%q[:n-1]) = %v; want need_more", in, st3)
			}
			if !LooksLikeProxyHeader(in) {
				t.Fatalf("ParseProxyHeader(%q) = %s but LooksLikeProxyHeader is false", in, got)
			}
		default:
			if n != 0 {
				t.Fatalf("ParseProxyHeader(%q) = %s; want n 0", in, got)
			}
		}
		// A start the filter says could still grow into a header must be one the parser waits on.
		if ProxyHeaderPrefix(in) && st != NeedMore {
			t.Fatalf("ParseProxyHeader(%q) = %s but ProxyHeaderPrefix is true", in, got)
		}
		if st != NeedMore {
			if n2, st2 := ParseProxyHeader(append(in[:len(in):len(in)], junk...)); st2 != st || n2 != n {
				t.Fatalf("ParseProxyHeader(%q + junk) = %v %d; want %s", in, st2, n2, got)
			}
		}
	})
}

func TestProxyHeaderPrefix(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"empty", "", false},
		{"v1_one_byte", "P", true},
		{"v1_five_bytes", "PROXY", true},
		{"v1_whole_prefix", "PROXY ", false}, // LooksLikeProxyHeader tells
		{"v1_other_word", "PROXI", false},
		{"v2_one_byte", "\r", true},
		{"v2_eleven_bytes", proxyV2Sig[:11], true},
		{"v2_whole_signature", proxyV2Sig, false}, // LooksLikeProxyHeader tells
		{"v2_wrong_byte", "\r\n\r\n\x01", false},
		{"crlf_crlf_then_text", "\r\n\r\nGET", false},
	}
	for _, tt := range tests {
		if got := ProxyHeaderPrefix([]byte(tt.in)); got != tt.want {
			t.Errorf("ProxyHeaderPrefix(%s) = %v; want %v", tt.name, got, tt.want)
		}
	}
	// Every proper prefix of a header's start is one, or LooksLikeProxyHeader already tells.
	for _, h := range []string{"PROXY TCP4 ", proxyV2Sig + "\x21"} {
		for i := 1; i < len(h); i++ {
			if !ProxyHeaderPrefix([]byte(h[:i])) && !LooksLikeProxyHeader([]byte(h[:i])) {
				t.Errorf("ProxyHeaderPrefix(%q) = false and LooksLikeProxyHeader false; want one true", h[:i])
			}
		}
	}
}
