package classify

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestHTTPFramingInDoubt plays, for each way the end of a request can be in
// doubt, a connection whose first request names the flow and whose second
// (GET /smuggled) one server would read as a request and another as part of
// the first (or, after "Connection: close", not at all): the first request's
// Host must be taken, and nothing after it read, so the second's path is
// never recorded. The controls (valid chunk
// extensions, a valid trailer section) show that a second request is read
// when the framing is sound. Each connection is played as one segment, as
// one segment per byte (the chunked-body parser keeps its place between
// calls) and cut every 7 bytes.
func TestHTTPFramingInDoubt(t *testing.T) {
	pub := netip.MustParseAddr("23.46.237.40")
	const (
		host    = "Host: first.example\r\n"
		post    = "POST /first HTTP/1.1\r\n" + host
		chunked = post + "Transfer-Encoding: chunked\r\n\r\n"
		second  = "GET /smuggled HTTP/1.1\r\n" + host + "\r\n"
	)
	cl := strconv.Itoa(len(second))
	tests := []struct {
		name  string
		first string // the first request, head and body
		read  bool   // the second request is read
	}{
		{"control_chunked_body", chunked + "5\r\nhello\r\n0\r\n\r\n", true},
		{"control_content_length", post + "Content-Length: 5\r\n\r\nhello", true},

		// Chunk sizes.
		{"chunk_size_not_hex", chunked + "5g\r\nhello\r\n0\r\n\r\n", false},
		{"chunk_size_hex_prefix", chunked + "0x5\r\nhello\r\n0\r\n\r\n", false},
		{"chunk_size_signed", chunked + "+5\r\nhello\r\n0\r\n\r\n", false},
		{"chunk_size_leading_space", chunked + " 5\r\nhello\r\n0\r\n\r\n", false},
		{"chunk_size_overflows_64_bits", chunked + "10000000000000005\r\nhello\r\n0\r\n\r\n", false},
		{"chunk_size_line_bare_lf", chunked + "5\nhello\r\n0\r\n\r\n", false},
		{"chunk_size_line_bare_cr", chunked + "5\rhello\r\n0\r\n\r\n", false},
		{"chunk_size_line_over_4k", chunked + "5;a=" + strings.Repeat("b", 4<<10) + "\r\nhello\r\n0\r\n\r\n", false},

		// Chunk data.
		{"chunk_data_without_crlf", chunked + "5\r\nhelloXYZ\r\n0\r\n\r\n", false},
		{"chunk_data_longer_than_size", chunked + "3\r\nhello\r\n0\r\n\r\n", false},
		{"chunk_data_then_bare_lf", chunked + "5\r\nhello\n0\r\n\r\n", false},

		// Chunk extensions.
		{"control_chunk_extensions", chunked + "5;name=value;flag;q=\"a \\\"b\\\";c\"\r\nhello\r\n0;last\r\n\r\n", true},
		{"control_chunk_extension_whitespace", chunked + "5 ; name = value \r\nhello\r\n0\r\n\r\n", true},
		{"chunk_extension_without_name", chunked + "5;=value\r\nhello\r\n0\r\n\r\n", false},
		{"chunk_extension_name_with_space", chunked + "5;na me\r\nhello\r\n0\r\n\r\n", false},
		{"chunk_extension_value_with_space", chunked + "5;name=va lue\r\nhello\r\n0\r\n\r\n", false},
		{"chunk_extension_quote_not_closed", chunked + "5;name=\"value\r\nhello\r\n0\r\n\r\n", false},
		{"chunk_extension_bare_lf", chunked + "5;name\nhello\r\n0\r\n\r\n", false},
		{"chunk_extension_empty", chunked + "5;\r\nhello\r\n0\r\n\r\n", false},

		// Trailers.
		{"control_trailer_section", chunked + "0\r\nChecksum: abc\r\nX-T: 1\r\n\r\n", true},
		{"trailer_not_a_field", chunked + "0\r\nnot a field\r\n\r\n", false},
		{"trailer_name_with_space", chunked + "0\r\nChecksum : abc\r\n\r\n", false},
		{"trailer_obs_fold", chunked + "0\r\nChecksum: a\r\n bc\r\n\r\n", false},
		{"trailer_bare_lf", chunked + "0\r\nChecksum: abc\n\r\n", false},
		{"trailer_nul", chunked + "0\r\nChecksum: a\x00c\r\n\r\n", false},
		// The head.
		{"content_length_and_chunked", post + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false},
		{"transfer_encoding_not_chunked", post + "Transfer-Encoding: gzip\r\n\r\n", false},
		{"transfer_encoding_twice", post + "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false},
		{"transfer_encoding_in_http_1_0", "POST /first HTTP/1.0\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", false},
		{"content_length_conflict", post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello", false},
		{"field_name_not_a_token", post + "Content-Length : 5\r\n\r\nhello", false},
		// A server that reads the continuation as a field of its own sees a body as long as: the second request.
		{"obs_fold", post + "X-Pad: a\r\n Content-Length: " + cl + "\r\n\r\n", false},
		// The connection ends with the first request's response: a server reads no request after it.
		{"connection_close", post + "Connection: close\r\nContent-Length: 5\r\n\r\nhello", false},
		{"connection_close_among_options", post + "Connection: keep-alive, Close\r\n\r\n", false},
		{"http_1_0_without_keep_alive", "GET /first HTTP/1.0\r\n" + host + "\r\n", false},
		{"control_http_1_0_keep_alive", "GET /first HTTP/1.0\r\n" + host + "Connection: Keep-Alive\r\n\r\n", true},
		// RFC 9112 section 3.2: a server must reject it (and then closes the connection); a lax one reads on.
		{"host_duplicated", "GET /first HTTP/1.1\r\n" + host + host + "\r\n", false},
		{"obs_fold_before_first_field", "POST /first HTTP/1.1\r\n Content-Length: " + cl + "\r\n" + host + "\r\n", false},
		// A request line servers refuse still names the flow; a server answers 400 and closes.
		{"request_line_bad_version", "POST /first HTTP/1.\r\n" + host + "Content-Length: 5\r\n\r\nhello", false},
		{"request_line_without_version", "GET /first\r\n" + host + "\r\n", false},
		{"request_line_double_space", "GET  /first HTTP/1.1\r\n" + host + "\r\n", false},
		{"request_line_bad_version_ambiguous_body", "POST /first HTTP/1.\r\n" + host + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello", false},
		// An unknown method is answered 501 on a connection that stays open.
		{"control_unknown_method", "WEIRD /first HTTP/1.1\r\n" + host + "\r\n", true},
	}
	for _, tt := range tests {
		whole := []byte(tt.first + second)
		var perByte, cut [][]byte
		for i := range whole {
			perByte = append(perByte, whole[i:i+1])
		}
		for i := 0; i < len(whole); i += 7 {
			cut = append(cut, whole[i:min(i+7, len(whole))])
		}
		for _, s := range []struct {
			name string
			segs [][]byte
		}{{"one_segment", [][]byte{whole}}, {"one_byte_per_segment", perByte}, {"cut_every_7_bytes", cut}} {
			t.Run(tt.name+"/"+s.name, func(t *testing.T) {
				var paths []string
				f := newFeed(t, Config{VM: vm, OnObservation: func(o *Observation) { paths = append(paths, o.Path) }})
				f.conn(50002, pub, 80, s.segs...)
				got := f.flows()[pub.String()+":80"]
				want := []string{"/first"}
				if tt.read {
					want = append(want, "/smuggled")
				}
				if got.HTTPHost != "first.example" {
					t.Errorf("flow Host = %q; want first.example", got.HTTPHost)
				}
				if !slices.Equal(paths, want) || !slices.Equal(got.HTTPPaths, want) {
					t.Errorf("paths read = %q, flow paths = %q; want %q", paths, got.HTTPPaths, want)
				}
			})
		}
	}
}

// TestOddRequestLines: a first request whose line servers would refuse, or
// whose method no registry lists, still names its flow by its Host (where it
// went is the fact), and marks the flow malformed-request.
func TestOddRequestLines(t *testing.T) {
	pub := netip.MustParseAddr("23.46.237.40")
	const host = "Host: www.msftconnecttest.com\r\n"
	tests := []struct {
		name      string
		request   string
		wantName  string
		wantPaths string
		wantOdd   bool
	}{
		{"version_cut_short", "GET /connecttest.txt HTTP/1.\r\n" + host + "\r\n", "www.msftconnecttest.com", "/connecttest.txt", true},
		{"version_missing", "GET /connecttest.txt\r\n" + host + "\r\n", "www.msftconnecttest.com", "/connecttest.txt", true},
		{"version_lower_case", "GET /connecttest.txt http/1.1\r\n" + host + "\r\n", "www.msftconnecttest.com", "/connecttest.txt", true},
		{"unknown_method", "FETCH /connecttest.txt HTTP/1.1\r\n" + host + "\r\n", "www.msftconnecttest.com", "/connecttest.txt", true},
		{"control_well_formed", "GET /connecttest.txt HTTP/1.1\r\n" + host + "\r\n", "www.msftconnecttest.com", "/connecttest.txt", false},
		// Not a request at all: nothing named, nothing marked.
		{"another_protocol", "a1 STARTTLS\r\n", "", "", false},
		{"http2_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFeed(t, Config{VM: vm})
			f.conn(50002, pub, 80, []byte(tt.request))
			got := f.flows()[pub.String()+":80"]
			wantEvidence := EvidenceHTTPHost
			if tt.wantName == "" {
				wantEvidence = EvidenceNone
			}
			if got.Name != tt.wantName || got.Evidence != wantEvidence || strings.Join(got.HTTPPaths, " ") != tt.wantPaths {
				t.Errorf("name, evidence, paths = %q, %q, %q; want %q, %q, %q",
					got.Name, got.Evidence, got.HTTPPaths, tt.wantName, wantEvidence, tt.wantPaths)
			}
			if odd := slices.Contains(got.Anomalies, AnomalyMalformedRequest); odd != tt.wantOdd {
				t.Errorf("anomalies = %q; want malformed-request %v", got.Anomalies, tt.wantOdd)
			}
		})
	}
}
