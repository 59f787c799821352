package classify

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
)

// split cuts each segment into pieces of at most n bytes.
func split(segs [][]byte, n int) [][]byte {
	var out [][]byte
	for _, s := range segs {
		for len(s) > n {
			out = append(out, s[:n])
			s = s[n:]
		}
		out = append(out, s)
	}
	return out
}

// TestTinySegments: a stream whose segments are cut into pieces of one or
// two bytes gives the same names as the same stream sent as its client
// sent it: a PROXY header (version 1 or 2) before a ClientHello or a
// request, and a ClientHello after a plain exchange (STARTTLS in SMTP, IMAP,
// FTP, LDAP and PostgreSQL, a SOCKS5 request, HTTP CONNECT), however many
// pieces the plain part comes in (up to 4 KiB of it).
func TestTinySegments(t *testing.T) {
	pub := netip.MustParseAddr("40.126.24.84")
	const sni = "login.live.com"
	hello := clientHello(t, sni)
	b := func(s string) []byte { return []byte(s) }
	cat := func(bs ...[]byte) []byte { return slices.Concat(bs...) }
	proxyV2 := b("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\x0a\x00\x00\x01\x28\x7e\x18\x54\xcb\xd0\x01\xbb")
	ldapStartTLS := b("\x30\x1d\x02\x01\x01\x77\x18\x80\x16" + "1.3.6.1.4.1.1466.20037")
	var chatty [][]byte // 20 plain lines, more runs than maxProbes, then STARTTLS
	for range 20 {
		chatty = append(chatty, b("NOOP\r\n"))
	}
	tests := []struct {
		name string
		segs [][]byte
		want string // the flow's name
	}{
		{"tls_at_start", [][]byte{hello}, sni},
		{"proxy_v1_then_tls", [][]byte{b("PROXY TCP4 10.0.0.1 40.126.24.84 52176 443\r\n"), hello}, sni},
		{"proxy_v2_then_tls", [][]byte{proxyV2, hello}, sni},
		{"proxy_v2_then_http", [][]byte{cat(proxyV2, b("GET / HTTP/1.1\r\nHost: proxied.example\r\n\r\n"))}, "proxied.example"},
		{"proxy_v2_local_then_tls", [][]byte{b("\r\n\r\n\x00\r\nQUIT\n\x20\x00\x00\x00"), hello}, sni},
		{"smtp_starttls", [][]byte{b("EHLO client.example\r\n"), b("STARTTLS\r\n"), hello}, sni},
		{"imap_starttls", [][]byte{b("a001 CAPABILITY\r\n"), b("a002 STARTTLS\r\n"), hello}, sni},
		{"ftp_auth_tls", [][]byte{b("AUTH TLS\r\n"), hello}, sni},
		{"ldap_starttls", [][]byte{ldapStartTLS, hello}, sni},
		{"postgres_ssl_request", [][]byte{b("\x00\x00\x00\x08\x04\xd2\x16\x2f"), hello}, sni},
		{"socks5", [][]byte{b("\x05\x01\x00"), b("\x05\x01\x00\x03\x0elogin.live.com\x01\xbb"), hello}, sni},
		{"http_connect", [][]byte{b("CONNECT tunnel.example:443 HTTP/1.1\r\nHost: tunnel.example:443\r\n\r\n"), hello}, sni},
		{"http_connect_and_hello_in_one_segment", [][]byte{cat(b("CONNECT other.example:443 HTTP/1.1\r\n\r\n"), hello)}, sni},
		{"many_short_lines_then_starttls", append(chatty, b("STARTTLS\r\n"), hello), sni},
	}
	for _, tt := range tests {
		for _, n := range []int{0, 1, 2} {
			segs, how := tt.segs, "as_sent"
			if n > 0 {
				segs, how = split(tt.segs, n), []string{"", "one_byte_per_segment", "two_bytes_per_segment"}[n]
			}
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				f := newFeed(t, Config{VM: vm})
				f.conn(50003, pub, 443, segs...)
				if got := f.flows()[pub.String()+":443"]; got.Name != tt.want {
					t.Errorf("flow name = %q; want %q", got.Name, tt.want)
				}
			})
		}
	}
}

// TestProbeBound: a direction that began with something else is watched for
// a ClientHello or a request until at least maxProbes runs and
// maxProbeBytes bytes have passed without one, however the bytes are cut.
func TestProbeBound(t *testing.T) {
	pub := netip.MustParseAddr("40.126.24.84")
	hello := clientHello(t, "login.live.com")
	plain := func(n int) []byte { return []byte(strings.Repeat("x", n-2) + "\r\n") }
	tests := []struct {
		name string
		segs [][]byte
		want string
	}{
		{"eight_short_runs_then_hello", append(split([][]byte{[]byte(strings.Repeat("x", 7*8))}, 7), hello), "login.live.com"},
		{"under_4k_in_bytes_then_hello", append(split([][]byte{plain(maxProbeBytes - 1)}, 1), hello), "login.live.com"},
		{"4k_in_bytes_then_hello", append(split([][]byte{plain(maxProbeBytes)}, 1), hello), ""},
		{"seven_big_runs_then_hello", append(split([][]byte{plain(7 * 1400)}, 1400), hello), "login.live.com"},
		{"eight_big_runs_then_hello", append(split([][]byte{plain(8 * 1400)}, 1400), hello), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFeed(t, Config{VM: vm})
			f.conn(50003, pub, 443, tt.segs...)
			if got := f.flows()[pub.String()+":443"]; got.Name != tt.want {
				t.Errorf("flow name = %q; want %q", got.Name, tt.want)
			}
		})
	}
}

// TestTinySegmentsAllocateNothing: joining runs too short to tell, and
// passing over plain ones, allocates nothing per packet once warm: a PROXY
// version 2 header a byte per segment before a request, and a STARTTLS
// exchange and its ClientHello two bytes per segment.
func TestTinySegmentsAllocateNothing(t *testing.T) {
	pub := netip.MustParseAddr("40.126.24.84")
	hello := clientHello(t, "login.live.com")
	proxied := split([][]byte{[]byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c\x0a\x00\x00\x01\x28\x7e\x18\x54\xcb\xd0\x01\xbb" +
		"GET / HTTP/1.1\r\nHost: proxied.example\r\n\r\n")}, 1)
	starttls := split([][]byte{[]byte("EHLO client.example\r\n"), []byte("STARTTLS\r\n"), hello}, 2)
	f := newFeed(t, Config{VM: vm, ClosedLinger: time.Second})
	port := uint16(40000)
	play := func(dport uint16, segs [][]byte) {
		port++
		seq := uint32(101)
		f.pkt(6, vm, port, pub, dport, capture.TCPSyn, 100, nil)
		for _, s := range segs {
			f.pkt(6, vm, port, pub, dport, capture.TCPAck, seq, s)
			seq += uint32(len(s))
		}
		f.pkt(6, vm, port, pub, dport, capture.TCPRst, seq, nil)
	}
	connection := func() {
		play(80, proxied)
		play(25, starttls)
		f.now = f.now.Add(2 * time.Second)
	}
	for range 50 {
		connection()
	}
	if n := testing.AllocsPerRun(100, connection); n != 0 {
		t.Errorf("allocations per pair of connections in tiny segments (%d packets) = %v; want 0", len(proxied)+len(starttls)+4, n)
	}
	run := f.c.Finish()
	for _, name := range []string{"proxied.example", "login.live.com"} {
		if n := run.Names[name]; n == nil || n.Flows != 151 {
			t.Errorf("%s = %+v; want 151 flows", name, n)
		}
	}
}
