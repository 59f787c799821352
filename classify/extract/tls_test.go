package extract

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// goClientHello runs this toolchain's crypto/tls client over net.Pipe and returns the first flight it writes.
func goClientHello(tb testing.TB, serverName string) []byte {
	tb.Helper()
	c, s := net.Pipe()
	defer s.Close()
	done := make(chan error, 1)
	go func() {
		tc := tls.Client(c, &tls.Config{ServerName: serverName})
		tc.SetDeadline(time.Now().Add(5 * time.Second))
		done <- tc.Handshake()
		c.Close()
	}()
	// crypto/tls writes the whole ClientHello record in one Write; net.Pipe hands it over in reads.
	var got []byte
	buf := make([]byte, 4096)
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	var h ClientHello
	for ParseClientHello(got, &h) == NeedMore {
		n, err := s.Read(buf)
		if err != nil {
			tb.Fatalf("reading Go ClientHello: %v", err)
		}
		got = append(got, buf[:n]...)
	}
	s.Close()
	<-done
	return got
}

// --- builders for hand-made ClientHellos ---

func u8p(b []byte) []byte  { return append([]byte{byte(len(b))}, b...) }
func u16p(b []byte) []byte { return append([]byte{byte(len(b) >> 8), byte(len(b))}, b...) }
func u24p(b []byte) []byte {
	return append([]byte{byte(len(b) >> 16), byte(len(b) >> 8), byte(len(b))}, b...)
}
func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func ext(typ uint16, data []byte) []byte { return cat([]byte{byte(typ >> 8), byte(typ)}, u16p(data)) }

func sniExt(names ...string) []byte {
	var list []byte
	for _, n := range names {
		list = cat(list, []byte{0}, u16p([]byte(n)))
	}
	return ext(extServerName, u16p(list))
}

func versionsExt(vs ...uint16) []byte {
	var l []byte
	for _, v := range vs {
		l = append(l, byte(v>>8), byte(v))
	}
	return ext(extSupportedVersions, u8p(l))
}

// helloMsg is a handshake message: header and a ClientHello body with the given extensions block.
func helloMsg(exts []byte) []byte {
	body := cat([]byte{3, 3}, bytes.Repeat([]byte{0xab}, 32), u8p(bytes.Repeat([]byte{1}, 32)),
		u16p([]byte{0x13, 0x01, 0xc0, 0x2f}), u8p([]byte{0}), exts)
	return cat([]byte{handshakeClientHello}, u24p(body))
}

// records wraps msg in TLS handshake records of at most size bytes each.
func records(msg []byte, size int) []byte {
	var out []byte
	for len(msg) > 0 {
		n := min(size, len(msg))
		out = cat(out, []byte{recordHandshake, 3, 1}, u16p(msg[:n]))
		msg = msg[n:]
	}
	return out
}

func hello(extensions ...[]byte) []byte { return records(helloMsg(u16p(cat(extensions...))), 1<<14) }

// --- tests ---

type helloWant struct {
	st       Status
	sni      string
	multi    bool
	hasSNI   bool
	legacy   uint16
	versions []uint16
	records  int
}

func (w helloWant) String() string {
	return fmt.Sprintf("%v sni=%q multi=%v hasSNI=%v legacy=%#04x versions=%#04x records=%d",
		w.st, w.sni, w.multi, w.hasSNI, w.legacy, w.versions, w.records)
}

func gotHello(st Status, h *ClientHello) helloWant {
	if st != Found {
		return helloWant{st: st}
	}
	return helloWant{st: st, sni: string(h.ServerName), multi: h.MultipleNames, hasSNI: h.HasSNI,
		legacy: h.LegacyVersion, versions: slices.Clone(h.Versions()), records: h.Records}
}

func TestParseClientHello(t *testing.T) {
	tls13 := []uint16{0x0304, 0x0303}
	openssl30 := []uint16{0x0304, 0x0303, 0x0302, 0x0301} // OpenSSL 3.0.19 and curl 7.88.1 on it offer TLS 1.0..1.3
	goHello := goClientHello(t, "live.example.test")
	openssl := readFixture(t, "tls_openssl_client_hello.bin")
	frag := readFixture(t, "tls_openssl_client_hello_frag512.bin")
	goMsg := goHello[5:] // one record; re-split below
	long := bytes.Repeat([]byte("a"), 256)

	tests := []struct {
		name string
		in   []byte
		want helloWant
	}{
		{"go_crypto_tls_live", goHello,
			helloWant{Found, "live.example.test", false, true, 0x0303, tls13, 1}},
		{"go_crypto_tls_fixture", readFixture(t, "tls_go_client_hello.bin"),
			helloWant{Found, "go.example.test", false, true, 0x0303, tls13, 1}},
		{"openssl_s_client", openssl,
			helloWant{Found, "openssl.example.test", false, true, 0x0303, openssl30, 1}},
		{"curl", readFixture(t, "tls_curl_client_hello.bin"),
			helloWant{Found, "curl.example.test", false, true, 0x0303, openssl30, 1}},
		{"client_hello_split_over_three_records", frag,
			helloWant{Found, "fragmented.openssl.example.test", false, true, 0x0303, openssl30, 3}},
		{"go_hello_split_over_three_records", records(goMsg, (len(goMsg)+2)/3),
			helloWant{Found, "live.example.test", false, true, 0x0303, tls13, 3}},
		{"go_hello_one_byte_records", records(goMsg, 1),
			helloWant{Found, "live.example.test", false, true, 0x0303, tls13, len(goMsg)}},
		{"client_hello_truncated_needs_more", goHello[:len(goHello)-1], helloWant{st: NeedMore}},
		{"split_hello_missing_last_record", frag[:len(frag)-300], helloWant{st: NeedMore}},
		{"empty_stream", nil, helloWant{st: NeedMore}},
		{"record_header_only", []byte{0x16, 3, 1, 0, 200}, helloWant{st: NeedMore}},
		{"trailing_bytes_ignored", cat(goHello, []byte{0x14, 3, 3, 0, 1, 1}),
			helloWant{Found, "live.example.test", false, true, 0x0303, tls13, 1}},
		{"no_extensions", records(helloMsg(nil), 1<<14), helloWant{Found, "", false, false, 0x0303, nil, 1}},
		{"no_sni", hello(versionsExt(0x0304)), helloWant{Found, "", false, false, 0x0303, []uint16{0x0304}, 1}},
		{"grease_versions_skipped", hello(sniExt("a.test"), versionsExt(0x7a7a, 0x0304, 0xfafa, 0x0303)),
			helloWant{Found, "a.test", false, true, 0x0303, tls13, 1}},
		{"several_host_names", hello(sniExt("first.test", "second.test")),
			helloWant{Found, "first.test", true, true, 0x0303, nil, 1}},
		{"sni_case_kept", hello(sniExt("WWW.Example.COM.")),
			helloWant{Found, "WWW.Example.COM.", false, true, 0x0303, nil, 1}},
		{"sni_max_255", hello(sniExt(string(long[:255]))),
			helloWant{Found, string(long[:255]), false, true, 0x0303, nil, 1}},

		// Hostile and malformed.
		{"sni_length_overruns_extension", hello(ext(extServerName, []byte{0, 9, 0, 0, 20, 'a', 'b', 'c', 'd', 'e', 'f'})),
			helloWant{st: NotThis}},
		{"sni_list_length_overruns_extension", hello(ext(extServerName, []byte{0, 50, 0, 0, 3, 'a', 'b', 'c'})),
			helloWant{st: NotThis}},
		{"sni_list_shorter_than_extension", hello(ext(extServerName, []byte{0, 6, 0, 0, 3, 'a', 'b', 'c', 0})),
			helloWant{st: NotThis}},
		{"sni_empty_name", hello(sniExt("")), helloWant{st: NotThis}},
		{"sni_empty_list", hello(ext(extServerName, []byte{0, 0})), helloWant{st: NotThis}},
		{"sni_over_255", hello(sniExt(string(long))), helloWant{st: NotThis}},
		// Kept as seen: evidence is what the client sent; renderers escape it.
		{"sni_binary_bytes", hello(sniExt("a\x00b.test")), helloWant{st: Found, sni: "a\x00b.test", hasSNI: true, legacy: 0x0303, records: 1}},
		{"sni_with_space", hello(sniExt("a b.test")), helloWant{st: Found, sni: "a b.test", hasSNI: true, legacy: 0x0303, records: 1}},
		{"sni_raw_utf8_idn", hello(sniExt("bücher.example")), helloWant{st: Found, sni: "bücher.example", hasSNI: true, legacy: 0x0303, records: 1}},
		{"sni_ansi_escape_sequence", hello(sniExt("\x1b[2J.example")), helloWant{st: Found, sni: "\x1b[2J.example", hasSNI: true, legacy: 0x0303, records: 1}},
		{"duplicate_sni_extension", hello(sniExt("a.test"), sniExt("b.test")), helloWant{st: NotThis}},
		{"extension_length_overruns_block", hello(sniExt("a.test"), []byte{0, 10, 0, 9, 1}), helloWant{st: NotThis}},
		{"supported_versions_odd_length", hello(ext(extSupportedVersions, []byte{3, 3, 4, 3})), helloWant{st: NotThis}},
		{"extensions_block_shorter_than_message", records(helloMsg(cat(u16p(sniExt("a.test")), []byte{0})), 1<<14),
			helloWant{st: NotThis}},
		{"not_client_hello_server_hello", cat([]byte{0x16, 3, 3, 0, 4}, []byte{2, 0, 0, 60}), helloWant{st: NotThis}},
		{"handshake_length_over_64k", []byte{0x16, 3, 1, 0, 4, 1, 1, 0, 0}, helloWant{st: NotThis}},
		{"handshake_length_too_small", []byte{0x16, 3, 1, 0, 4, 1, 0, 0, 10}, helloWant{st: NotThis}},
		{"record_length_zero", []byte{0x16, 3, 1, 0, 0, 1, 0, 1, 0}, helloWant{st: NotThis}},
		{"record_length_over_16k", []byte{0x16, 3, 1, 0x40, 1, 1}, helloWant{st: NotThis}},
		{"second_record_not_handshake", cat(records(goMsg[:100], 100), []byte{0x17, 3, 3, 0, 5}), helloWant{st: NotThis}},
		{"alert_record", []byte{0x15, 3, 3, 0, 2, 2, 40}, helloWant{st: NotThis}},
		{"http_request", []byte("GET / HTTP/1.1\r\n"), helloWant{st: NotThis}},
		{"sslv2_hello", []byte{0x80, 0x2e, 0x01, 0x00, 0x02}, helloWant{st: NotThis}},
		{"legacy_version_2_0", records(cat([]byte{1}, u24p(cat([]byte{2, 0}, make([]byte, 60)))), 1<<14),
			helloWant{st: NotThis}},
		{"random_bytes_after_tls_header", cat([]byte{0x16, 3, 1, 0, 200, 1, 0, 0, 196}, pseudoRandom(196, 7)),
			helloWant{st: NotThis}},
	}
	var h ClientHello
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := gotHello(ParseClientHello(tt.in, &h), &h)
			if got.String() != tt.want.String() {
				t.Errorf("ParseClientHello(%s) = %v; want %v", tt.name, got, tt.want)
			}
		})
	}
}

// pseudoRandom returns n deterministic bytes (xorshift), for "random bytes" cases.
func pseudoRandom(n int, seed uint32) []byte {
	b := make([]byte, n)
	x := seed | 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

// Every strict prefix of a real ClientHello stream is NeedMore: the caller waits for more segments.
func TestParseClientHelloEveryPrefixNeedsMore(t *testing.T) {
	var h ClientHello
	for _, name := range []string{"tls_openssl_client_hello_frag512.bin", "tls_go_client_hello.bin", "tls_curl_client_hello.bin"} {
		b := readFixture(t, name)
		for i := range len(b) {
			if st := ParseClientHello(b[:i], &h); st != NeedMore {
				t.Fatalf("ParseClientHello(%s[:%d]) = %v; want need_more", name, i, st)
			}
		}
	}
}

// Random bytes that pass LooksLikeTLS must never come out as a Found with a garbage name.
func TestParseClientHelloRandomIsNotThis(t *testing.T) {
	var h ClientHello
	found := 0
	for seed := uint32(1); seed < 20000; seed++ {
		b := pseudoRandom(261, seed)
		// A record of 256 bytes holding a client_hello of 252 bytes, legacy_version 0x0303, random rest.
		copy(b, []byte{0x16, 3, 1, 1, 0, 1, 0, 0, 252, 3, 3})
		if ParseClientHello(b, &h) == Found {
			found++
		}
	}
	if found != 0 {
		t.Errorf("ParseClientHello(random) found %d of 20000; want 0", found)
	}
}

func TestLooksLikeTLS(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"tls10_record", []byte{0x16, 3, 1, 2}, true},
		{"ssl30_record", []byte{0x16, 3, 0}, true},
		{"tls13_record_version", []byte{0x16, 3, 4}, true},
		{"too_short", []byte{0x16, 3}, false},
		{"minor_5", []byte{0x16, 3, 5}, false},
		{"application_data", []byte{0x17, 3, 3}, false},
		{"http", []byte("GET"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := LooksLikeTLS(tt.in); got != tt.want {
				t.Errorf("LooksLikeTLS(%x) = %v; want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestTLSRecordPrefix(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want bool
	}{
		{"empty", nil, false},
		{"content_type", []byte{0x16}, true},
		{"content_type_and_major", []byte{0x16, 3}, true},
		{"three_bytes_looks_like_tls_tells", []byte{0x16, 3, 1}, false},
		{"major_2", []byte{0x16, 2}, false},
		{"application_data", []byte{0x17}, false},
		{"http", []byte("G"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TLSRecordPrefix(tt.in); got != tt.want {
				t.Errorf("TLSRecordPrefix(%x) = %v; want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseClientHelloAllocs(t *testing.T) {
	frag := readFixture(t, "tls_openssl_client_hello_frag512.bin")
	single := readFixture(t, "tls_go_client_hello.bin")
	var h ClientHello
	ParseClientHello(frag, &h) // grows the reassembly buffer
	for _, tc := range []struct {
		name string
		in   []byte
	}{{"one_record", single}, {"three_records", frag}} {
		if n := testing.AllocsPerRun(100, func() { ParseClientHello(tc.in, &h) }); n != 0 {
			t.Errorf("ParseClientHello(%s) allocs = %v; want 0", tc.name, n)
		}
	}
}

func BenchmarkParseClientHello(b *testing.B) {
	for _, name := range []string{"tls_go_client_hello.bin", "tls_openssl_client_hello_frag512.bin"} {
		in := readFixture(b, name)
		b.Run(name, func(b *testing.B) {
			var h ClientHello
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if ParseClientHello(in, &h) != Found {
					b.Fatal("not found")
				}
			}
		})
	}
}

// crypto/tls's server is the reference: for every real ClientHello, its ClientHelloInfo must agree with ours.
func TestParseClientHelloMatchesCryptoTLS(t *testing.T) {
	for _, name := range []string{"tls_go_client_hello.bin", "tls_openssl_client_hello.bin",
		"tls_openssl_client_hello_frag512.bin", "tls_curl_client_hello.bin"} {
		t.Run(name, func(t *testing.T) {
			in := readFixture(t, name)
			info := cryptoTLSHello(t, in)
			var h ClientHello
			if st := ParseClientHello(in, &h); st != Found {
				t.Fatalf("ParseClientHello(%s) = %v; want found", name, st)
			}
			if string(h.ServerName) != info.ServerName {
				t.Errorf("ParseClientHello(%s).ServerName = %q; want %q", name, h.ServerName, info.ServerName)
			}
			if !slices.Equal(h.Versions(), info.SupportedVersions) {
				t.Errorf("ParseClientHello(%s).Versions() = %#04x; want %#04x", name, h.Versions(), info.SupportedVersions)
			}
		})
	}
}

// cryptoTLSHello feeds stream to a crypto/tls server and returns the ClientHelloInfo it saw.
func cryptoTLSHello(t *testing.T, stream []byte) *tls.ClientHelloInfo {
	t.Helper()
	c, s := net.Pipe()
	defer c.Close()
	got := make(chan *tls.ClientHelloInfo, 1)
	go func() {
		srv := tls.Server(s, &tls.Config{GetConfigForClient: func(i *tls.ClientHelloInfo) (*tls.Config, error) {
			got <- i
			return nil, fmt.Errorf("stop")
		}})
		srv.SetDeadline(time.Now().Add(5 * time.Second))
		srv.Handshake()
		s.Close()
		close(got)
	}()
	go func() {
		c.Write(stream)
		io.Copy(io.Discard, c)
	}()
	info, ok := <-got
	if !ok || info == nil {
		t.Fatal("crypto/tls did not see a ClientHello")
	}
	return info
}
