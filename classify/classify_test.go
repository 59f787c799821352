package classify

import (
	"crypto/tls"
	"fmt"
	"math"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/phonehome/phonehome/capture"
)

var (
	t0       = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	vm       = netip.MustParseAddr("192.168.56.10")
	resolver = netip.MustParseAddr("192.168.56.1")
)

// clientHello returns the first flight of Go's crypto/tls client for sni: a
// real ClientHello (with a post-quantum key share, about 1.8 KB).
func clientHello(t testing.TB, sni string) []byte {
	t.Helper()
	c, s := net.Pipe()
	defer s.Close()
	go func() {
		cl := tls.Client(c, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
		cl.Handshake()
		c.Close()
	}()
	buf := make([]byte, 64<<10)
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got []byte
	for {
		n, err := s.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil || len(got) > 5 && len(got) >= 5+int(got[3])<<8+int(got[4]) {
			break
		}
	}
	if len(got) < 100 {
		t.Fatalf("crypto/tls wrote only %d bytes", len(got))
	}
	return got
}

// dnsAnswer builds a response, ID 7, for qname: CNAMEs in order, then A.
func dnsAnswer(t testing.TB, qname string, chain []string, addrs ...netip.Addr) []byte {
	t.Helper()
	return dnsAnswerID(t, 7, qname, chain, addrs...)
}

// dnsQueryMsg builds a query for qname, type A unless qtype says otherwise.
func dnsQueryMsg(t testing.TB, id uint16, qname string, qtype ...dnsmessage.Type) []byte {
	t.Helper()
	typ := dnsmessage.TypeA
	if len(qtype) > 0 {
		typ = qtype[0]
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	if err := b.StartQuestions(); err != nil {
		t.Fatal(err)
	}
	if err := b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(qname + "."), Type: typ, Class: dnsmessage.ClassINET}); err != nil {
		t.Fatal(err)
	}
	msg, err := b.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// dnsAnswerID builds a response with DNS ID id for qname: CNAMEs in order, then A.
func dnsAnswerID(t testing.TB, id uint16, qname string, chain []string, addrs ...netip.Addr) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, Response: true, RecursionAvailable: true})
	b.EnableCompression()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(b.StartQuestions())
	must(b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(qname + "."), Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}))
	must(b.StartAnswers())
	owner := qname
	for _, c := range chain {
		must(b.CNAMEResource(dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(owner + "."), Class: dnsmessage.ClassINET, TTL: 60},
			dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(c + ".")}))
		owner = c
	}
	for _, a := range addrs {
		must(b.AResource(dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(owner + "."), Class: dnsmessage.ClassINET, TTL: 60},
			dnsmessage.AResource{A: a.As4()}))
	}
	msg, err := b.Finish()
	must(err)
	return msg
}

// feed is a little packet script for one test.
type feed struct {
	t   testing.TB
	c   *Classifier
	now time.Time
}

func newFeed(t testing.TB, cfg Config) *feed {
	return &feed{t: t, c: New(cfg), now: t0}
}

func (f *feed) pkt(proto uint8, src netip.Addr, sport uint16, dst netip.Addr, dport uint16, flags uint8, seq uint32, payload []byte) {
	f.now = f.now.Add(time.Millisecond)
	p := capture.Packet{
		Timestamp: f.now, WireLen: 54 + len(payload), L3: capture.L3IPv4,
		Src: src, Dst: dst, Proto: proto, SrcPort: sport, DstPort: dport,
		TCPFlags: flags, Seq: seq, Payload: payload,
	}
	f.c.Add(&p)
}

func (f *feed) dns(client netip.Addr, qname string, chain []string, addrs ...netip.Addr) {
	f.pkt(17, resolver, 53, client, 50000, 0, 0, dnsAnswer(f.t, qname, chain, addrs...))
}

// conn plays a TCP connection from the VM: handshake, then each client
// payload as one segment at consecutive sequence numbers.
func (f *feed) conn(sport uint16, dst netip.Addr, dport uint16, payloads ...[]byte) {
	const isn = 1000
	f.pkt(6, vm, sport, dst, dport, capture.TCPSyn, isn, nil)
	f.pkt(6, dst, dport, vm, sport, capture.TCPSyn|capture.TCPAck, 5000, nil)
	seq := uint32(isn + 1)
	for _, p := range payloads {
		f.pkt(6, vm, sport, dst, dport, capture.TCPAck|capture.TCPPsh, seq, p)
		seq += uint32(len(p))
	}
}

func (f *feed) flows() map[string]FlowRecord {
	out := map[string]FlowRecord{}
	f.c.cfg.OnFlow = func(r *FlowRecord) {
		out[r.Dst.String()+":"+itoa(int(r.DPort))] = *r
	}
	f.c.Finish()
	return out
}

func TestAttribution(t *testing.T) {
	pub := netip.MustParseAddr("20.42.65.92")
	hello := clientHello(t, "settings-win.data.microsoft.com")
	tests := []struct {
		name         string
		play         func(f *feed)
		wantName     string
		wantEvidence string
	}{
		{"sni_wins_over_dns", func(f *feed) {
			f.dns(vm, "other.example.com", nil, pub)
			f.conn(50001, pub, 443, hello)
		}, "settings-win.data.microsoft.com", EvidenceSNI},
		{"http_host_when_no_sni", func(f *feed) {
			f.dns(vm, "other.example.com", nil, pub)
			f.conn(50001, pub, 443, []byte("GET /connecttest.txt HTTP/1.1\r\nHost: www.msftconnecttest.com:443\r\n\r\n"))
		}, "www.msftconnecttest.com", EvidenceHTTPHost},
		{"dns_when_payload_names_nothing", func(f *feed) {
			f.dns(vm, "Client.WNS.Windows.com", []string{"wns.notify.trafficmanager.net"}, pub)
			f.conn(50001, pub, 443, []byte{0, 1, 2, 3})
		}, "client.wns.windows.com", EvidenceDNS},
		{"dns_answer_after_flow_start_not_used", func(f *feed) {
			f.conn(50001, pub, 443, []byte{0, 1, 2, 3})
			f.dns(vm, "late.example.com", nil, pub)
		}, "", EvidenceNone},
		{"dns_answer_to_another_client_not_used", func(f *feed) {
			f.dns(netip.MustParseAddr("192.168.56.11"), "neighbour.example.com", nil, pub)
			f.conn(50001, pub, 443, []byte{0, 1, 2, 3})
		}, "", EvidenceNone},
		// Not the latest answer: both names lead to the address within
		// their TTL, so the flow is named by both (dnsnames_test.go).
		{"two_live_dns_answers_ambiguous", func(f *feed) {
			f.dns(vm, "first.example.com", nil, pub)
			f.dns(vm, "second.example.com", nil, pub)
			f.conn(50001, pub, 443, nil)
		}, "", EvidenceDNSAmbiguous},
		{"unattributed", func(f *feed) {
			f.conn(50001, pub, 443, []byte{0, 1, 2, 3})
		}, "", EvidenceNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFeed(t, Config{VM: vm})
			tt.play(f)
			got, ok := f.flows()[pub.String()+":443"]
			if !ok {
				t.Fatalf("no flow to %s:443", pub)
			}
			if got.Name != tt.wantName || got.Evidence != tt.wantEvidence {
				t.Errorf("name, evidence = %q, %q; want %q, %q", got.Name, got.Evidence, tt.wantName, tt.wantEvidence)
			}
			if got.Scope != ScopeIn {
				t.Errorf("scope = %q; want %q", got.Scope, ScopeIn)
			}
		})
	}
}

func TestClientHelloReassembly(t *testing.T) {
	pub := netip.MustParseAddr("13.107.4.50")
	const sni = "fe3cr.delivery.mp.microsoft.com"
	hello := clientHello(t, sni)
	if len(hello) < 1500 {
		t.Fatalf("ClientHello is %d bytes; the test wants one that spans segments", len(hello))
	}
	const isn = 7000
	type seg struct {
		off, end int
	}
	tests := []struct {
		name string
		segs []seg
	}{
		{"sni_spans_two_segments", []seg{{0, 1448}, {1448, len(hello)}}},
		{"sni_spans_three_segments", []seg{{0, 700}, {700, 1400}, {1400, len(hello)}}},
		{"second_segment_first", []seg{{1000, len(hello)}, {0, 1000}}},
		{"retransmitted_first_segment", []seg{{0, 1000}, {0, 1000}, {1000, len(hello)}}},
		{"overlapping_retransmission", []seg{{0, 1000}, {500, 1500}, {1200, len(hello)}}},
		{"three_segments_reversed", []seg{{1400, len(hello)}, {700, 1400}, {0, 700}}},
		{"duplicate_held_segment", []seg{{1000, len(hello)}, {1000, len(hello)}, {0, 1000}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFeed(t, Config{VM: vm})
			f.pkt(6, vm, 50001, pub, 443, capture.TCPSyn, isn, nil)
			f.pkt(6, pub, 443, vm, 50001, capture.TCPSyn|capture.TCPAck, 1, nil)
			for _, s := range tt.segs {
				f.pkt(6, vm, 50001, pub, 443, capture.TCPAck, isn+1+uint32(s.off), hello[s.off:s.end])
			}
			got := f.flows()[pub.String()+":443"]
			if got.SNI != sni || got.Evidence != EvidenceSNI {
				t.Errorf("SNI, evidence = %q, %q; want %q, sni", got.SNI, got.Evidence, sni)
			}
			if got.TLSVersion != "TLS 1.3" {
				t.Errorf("TLS version = %q; want TLS 1.3", got.TLSVersion)
			}
		})
	}
}

func TestHTTPKeepAlive(t *testing.T) {
	pub := netip.MustParseAddr("23.46.237.40")
	reqs := []string{
		"GET /msdownload/update/v3/static/trustedr/en/authrootstl.cab HTTP/1.1\r\nHost: ctldl.windowsupdate.com\r\n\r\n",
		"POST /upload HTTP/1.1\r\nHost: ctldl.windowsupdate.com\r\nContent-Length: 11\r\n\r\nhello world",
		"POST /chunks HTTP/1.1\r\nHost: ctldl.windowsupdate.com\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: y\r\n\r\n",
		"GET /msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab HTTP/1.1\r\nHost: CTLDL.windowsupdate.com.\r\n\r\n",
		"GET /other HTTP/1.1\r\nHost: other.example.com\r\n\r\n",
	}
	// One segment per request, and the same bytes cut at odd places.
	whole := []byte(strings.Join(reqs, ""))
	var perRequest, cut [][]byte
	for _, r := range reqs {
		perRequest = append(perRequest, []byte(r))
	}
	for i := 0; i < len(whole); i += 37 {
		cut = append(cut, whole[i:min(i+37, len(whole))])
	}
	for name, segs := range map[string][][]byte{"one_request_per_segment": perRequest, "cut_every_37_bytes": cut} {
		t.Run(name, func(t *testing.T) {
			var hosts, paths []string
			f := newFeed(t, Config{VM: vm, OnObservation: func(o *Observation) {
				hosts = append(hosts, o.Name)
				paths = append(paths, o.Path)
			}})
			f.conn(50002, pub, 80, segs...)
			got := f.flows()[pub.String()+":80"]
			if got.Name != "ctldl.windowsupdate.com" || got.Evidence != EvidenceHTTPHost {
				t.Errorf("name, evidence = %q, %q; want ctldl.windowsupdate.com, http-host", got.Name, got.Evidence)
			}
			wantPaths := "/msdownload/update/v3/static/trustedr/en/authrootstl.cab /upload /chunks /msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab /other"
			if g := strings.Join(paths, " "); g != wantPaths {
				t.Errorf("paths = %s; want %s", g, wantPaths)
			}
			if len(got.HTTPPaths) != 4 {
				t.Errorf("flow paths = %v; want the 4 of ctldl.windowsupdate.com", got.HTTPPaths)
			}
		})
	}
}

func TestScope(t *testing.T) {
	pub := netip.MustParseAddr("52.114.128.10")
	lan := netip.MustParseAddr("192.168.56.20")
	f := newFeed(t, Config{})
	f.conn(50001, pub, 443, []byte{1})
	f.conn(50002, pub, 443, []byte{1})
	f.conn(50003, lan, 445, []byte{1})
	// An inbound flow: a LAN host connects to the VM.
	f.pkt(6, lan, 40000, vm, 3389, capture.TCPSyn, 1, nil)
	f.pkt(6, vm, 3389, lan, 40000, capture.TCPSyn|capture.TCPAck, 1, nil)
	// Mid-stream TCP with no SYN seen: the unprivileged side is the client.
	f.pkt(6, pub, 443, vm, 50010, capture.TCPAck, 1, []byte{2})
	f.pkt(6, vm, 50010, pub, 443, capture.TCPAck, 7, []byte{3})
	// Packets towards the VM only (a stray SYN-ACK): the VM started nothing.
	f.pkt(6, pub, 443, vm, 50020, capture.TCPSyn|capture.TCPAck, 1, nil)
	v6 := capture.Packet{Timestamp: t0, L3: capture.L3IPv6, WireLen: 100}
	f.c.Add(&v6)
	arp := capture.Packet{Timestamp: t0, L3: capture.L3NonIP, WireLen: 42}
	f.c.Add(&arp)
	flows := f.flows()
	run := &f.c.run
	if run.VM != vm || !run.VMDetected {
		t.Errorf("VM = %v (detected %v); want %v detected", run.VM, run.VMDetected, vm)
	}
	want := map[string]string{
		lan.String() + ":445": ScopePrivateDestination,
		vm.String() + ":3389": ScopeNotFromVM,
	}
	for k, w := range want {
		if g := flows[k].Scope; g != w {
			t.Errorf("scope of %s = %q; want %q", k, g, w)
		}
	}
	if g := run.InScope.Flows; g != 3 {
		t.Errorf("flows in scope = %d; want 3 (two with a SYN, one mid-stream; not the stray SYN-ACK)", g)
	}
	if e := run.Excluded[ScopeNotFromVM]; e == nil || e.Flows != 2 {
		t.Errorf("flows not started by the VM = %+v; want 2 (the inbound one and the stray SYN-ACK)", e)
	}
	if g := run.VMFlows; g != 4 {
		t.Errorf("flows the VM started = %d; want 4 (its SYN to the LAN host too)", g)
	}
	if e := run.Excluded[ScopeIPv6]; e == nil || e.Packets != 1 {
		t.Errorf("IPv6 excluded = %+v; want 1 packet", e)
	}
	if e := run.Excluded[ScopeNonIP]; e == nil || e.Packets != 1 {
		t.Errorf("non-IP excluded = %+v; want 1 packet", e)
	}
}

func TestIdleExpiryAndBoundedTable(t *testing.T) {
	pub := netip.MustParseAddr("52.114.128.10")
	f := newFeed(t, Config{VM: vm, MaxFlows: 8, UDPIdle: time.Minute})
	for i := 0; i < 100; i++ {
		f.pkt(17, vm, uint16(40000+i), pub, 123, 0, 0, []byte{1})
	}
	if n := f.c.flows.len(); n > 8 {
		t.Errorf("live flows = %d; want at most 8", n)
	}
	f.now = f.now.Add(2 * time.Minute)
	f.pkt(17, vm, 39999, pub, 123, 0, 0, []byte{1})
	if n := f.c.flows.len(); n != 1 {
		t.Errorf("live flows after idle expiry = %d; want 1", n)
	}
	run := f.c.Finish()
	if run.InScope.Flows != 101 {
		t.Errorf("flows = %d; want 101", run.InScope.Flows)
	}
	if len(run.Bounds) == 0 {
		t.Errorf("bounds reached = none; want the flow table bound reported")
	}
}

// TestStreamStarts checks what a client stream is read as when it does not
// start with a plain ClientHello or request, or holds more than one.
func TestStreamStarts(t *testing.T) {
	pub := netip.MustParseAddr("40.126.24.84")
	const sni = "login.live.com"
	hello := clientHello(t, sni)
	ccs := []byte{20, 3, 3, 0, 1, 1}                    // ChangeCipherSpec, middlebox compatibility mode
	appData := []byte{23, 3, 3, 0, 3, 0xaa, 0xbb, 0xcc} // an encrypted record
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	b := func(s string) []byte { return []byte(s) }
	proxyV2 := cat(b("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c"), []byte{10, 0, 0, 1, 40, 126, 24, 84, 0xcb, 0xd0, 1, 187})
	tests := []struct {
		name  string
		segs  [][]byte
		want  string // observations, "kind:name" space-separated
		wantN string // the flow's name
	}{
		// ja4 tls-sni.pcapng and nDPI steam.pcapng: after a HelloRetryRequest the client sends a
		// ChangeCipherSpec and a second ClientHello in one segment.
		{"hello_retry_second_hello", [][]byte{hello, cat(ccs, hello)}, "tls:" + sni + " tls:" + sni, sni},
		{"hello_retry_without_ccs", [][]byte{hello, hello}, "tls:" + sni + " tls:" + sni, sni},
		// suricata-verify tls-duplicate-hello: the same ClientHello twice in a row.
		{"duplicate_hello_one_segment", [][]byte{cat(hello, hello)}, "tls:" + sni + " tls:" + sni, sni},
		{"hello_then_ccs_then_app_data", [][]byte{hello, cat(ccs, appData), cat(ccs, hello)}, "tls:" + sni, sni},
		{"hello_then_client_key_exchange", [][]byte{hello, b("\x16\x03\x03\x00\x05\x10\x00\x00\x01\x00"), hello},
			"tls:" + sni, sni},
		{"hellos_bounded", [][]byte{hello, hello, hello, hello, hello, hello}, strings.Repeat("tls:"+sni+" ", 4)[:4*len("tls:"+sni+" ")-1], sni},
		{"two_ccs_allowed_three_not", [][]byte{hello, cat(ccs, ccs, hello), cat(ccs, ccs, ccs, hello)}, "tls:" + sni + " tls:" + sni, sni},

		// ppa mail_receiver_server_3.pcapng: an IMAP tag looks like an HTTP method.
		{"imap_starttls_tag_looks_like_method", [][]byte{b("1 STARTTLS\r\n"), hello}, "tls:" + sni, sni},
		// zeek ftp/ftp-auth-tls.pcap.
		{"ftp_auth_tls_looks_like_method", [][]byte{b("AUTH TLS\r\n"), hello}, "tls:" + sni, sni},
		{"smtp_starttls_after_ehlo", [][]byte{b("EHLO client.example\r\n"), b("STARTTLS\r\n"), hello}, "tls:" + sni, sni},

		// nDPI haproxy.pcap: HAProxy's PROXY line and the ClientHello in one segment.
		{"proxy_v1_then_tls_one_segment", [][]byte{cat(b("PROXY TCP4 11.111.11.111 222.222.222.22 52176 443\r\n"), hello)}, "tls:" + sni, sni},
		{"proxy_v1_split_then_tls", [][]byte{b("PROXY TCP4 11.111.11.111 "), b("222.222.222.22 52176 443\r\n"), hello}, "tls:" + sni, sni},
		{"proxy_v2_then_http", [][]byte{cat(proxyV2, b("GET / HTTP/1.1\r\nHost: proxied.example\r\n\r\n"))}, "http:proxied.example", "proxied.example"},
		{"request_line_a_byte_per_segment", [][]byte{b("G"), b("E"), b("T"), b(" "), b("/ HTTP/1.1\r\nHost: slow.example\r\n\r\n")},
			"http:slow.example", "slow.example"},
		{"method_of_16_bytes_in_two_segments", [][]byte{b("ABCDEFGHIJKLMNOP"), b(" / HTTP/1.1\r\nHost: long.example\r\n\r\n")},
			"http:long.example", "long.example"},
		{"token_bytes_past_16_then_tls", [][]byte{b("ABCDEFGHIJKLMNOPQ"), hello}, "tls:" + sni, sni},
		{"proxy_like_method", [][]byte{b("PROXY /x HTTP/1.1\r\nHost: odd.example\r\n\r\n")}, "http:odd.example", "odd.example"},

		// suricata-verify detect-pcre-03: an extra CRLF after the first request.
		{"empty_line_between_requests", [][]byte{b("GET /one/ HTTP/1.1\r\nHost: one.example.org\r\n\r\n\r\nGET /two/ HTTP/1.1\r\nHost: two.example.org\r\n\r\n\r\n")},
			"http:one.example.org http:two.example.org", "one.example.org"},
		// zeek http/261 variant 08: the body is skipped and the next request read.
		{"content_length_leading_zeros", [][]byte{b("POST / HTTP/1.1\r\nHost: target\r\nContent-Length: 00000000000000000000000000000050\r\n\r\n" +
			strings.Repeat("X", 50) + "GET /smuggled-leading-zeros HTTP/1.1\r\nHost: target\r\n\r\n")}, "http:target http:target", "target"},
		// zeek http/261 variant 02: the Host names the flow, what follows is not read.
		{"content_length_uint64max_host_kept", [][]byte{b("POST / HTTP/1.1\r\nHost: target\r\nContent-Length: 18446744073709551615\r\n\r\n" +
			"GET /smuggled HTTP/1.1\r\nHost: elsewhere.example\r\n\r\n")}, "http:target", "target"},
		{"content_length_conflict_host_kept", [][]byte{b("POST /which.php HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length:11\r\nContent-Length:93\r\n\r\n"),
			b("bar=1&foo=2POST /evil.php HTTP/1.1\r\nHost: evil.example\r\n\r\n")}, "http:127.0.0.1", "127.0.0.1"},
		{"upgrade_then_other_bytes", [][]byte{b("GET / HTTP/1.1\r\nHost: ws.example\r\nUpgrade: websocket\r\n\r\n"), []byte{0x81, 0x85, 1, 2, 3, 4}, hello},
			"http:ws.example", "ws.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var obs []string
			f := newFeed(t, Config{VM: vm, OnObservation: func(o *Observation) { obs = append(obs, o.Kind+":"+o.Name) }})
			f.conn(50003, pub, 443, tt.segs...)
			got := f.flows()[pub.String()+":443"]
			if g := strings.Join(obs, " "); g != tt.want {
				t.Errorf("observations = %s; want %s", g, tt.want)
			}
			if got.Name != tt.wantN {
				t.Errorf("flow name = %q; want %q", got.Name, tt.wantN)
			}
		})
	}
}

// TestDNSOverTCPSeveralMessagesPerSegment: a resolver may answer several
// queries on one TCP connection, two answers in one segment and a third cut
// across two; each must name its address.
func TestDNSOverTCPSeveralMessagesPerSegment(t *testing.T) {
	a1, a2, a3 := netip.MustParseAddr("20.1.1.1"), netip.MustParseAddr("20.2.2.2"), netip.MustParseAddr("20.3.3.3")
	frame := func(msg []byte) []byte { return append([]byte{byte(len(msg) >> 8), byte(len(msg))}, msg...) }
	m1 := frame(dnsAnswer(t, "one.example", nil, a1))
	m2 := frame(dnsAnswer(t, "two.example", []string{"two.cdn.example"}, a2))
	m3 := frame(dnsAnswer(t, "three.example", nil, a3))
	f := newFeed(t, Config{VM: vm})
	f.pkt(6, vm, 50100, resolver, 53, capture.TCPSyn, 100, nil)
	f.pkt(6, resolver, 53, vm, 50100, capture.TCPSyn|capture.TCPAck, 500, nil)
	seg1 := append(append(append([]byte{}, m1...), m2...), m3[:7]...)
	f.pkt(6, resolver, 53, vm, 50100, capture.TCPAck, 501, seg1)
	f.pkt(6, resolver, 53, vm, 50100, capture.TCPAck, 501+uint32(len(seg1)), m3[7:])
	for i, a := range []netip.Addr{a1, a2, a3} {
		f.conn(uint16(50200+i), a, 443, []byte{0, 1})
	}
	flows := f.flows()
	for a, want := range map[netip.Addr]string{a1: "one.example", a2: "two.example", a3: "three.example"} {
		if got := flows[a.String()+":443"]; got.Name != want || got.Evidence != EvidenceDNS {
			t.Errorf("flow to %s named %q by %q; want %q by dns", a, got.Name, got.Evidence, want)
		}
	}
}

// TestHostileSegments: sequence numbers half the space away (where a signed
// difference overflows), a ClientHello whose first segment is 2 bytes, and
// out-of-order segments from many flows against the shared held-bytes bound.
func TestHostileSegments(t *testing.T) {
	pub := netip.MustParseAddr("20.42.65.92")
	hello := clientHello(t, "settings-win.data.microsoft.com")
	t.Run("seq_half_space_behind", func(t *testing.T) {
		f := newFeed(t, Config{VM: vm})
		f.pkt(6, vm, 50001, pub, 443, capture.TCPAck, 1<<31+5, []byte{1, 2, 3, 4})
		// next is now 2^31+9; seq 9 is exactly 2^31 away.
		f.pkt(6, vm, 50001, pub, 443, capture.TCPAck, 9, []byte{1, 2, 3, 4})
		f.pkt(6, vm, 50001, pub, 443, capture.TCPAck, 1<<31+9, []byte{5})
		f.c.Finish()
	})
	t.Run("client_hello_first_segment_two_bytes", func(t *testing.T) {
		f := newFeed(t, Config{VM: vm})
		f.conn(50002, pub, 443, hello[:2], hello[2:])
		if got := f.flows()[pub.String()+":443"]; got.SNI != "settings-win.data.microsoft.com" {
			t.Errorf("SNI = %q; want settings-win.data.microsoft.com", got.SNI)
		}
	})
	t.Run("held_segments_bounded_across_flows", func(t *testing.T) {
		f := newFeed(t, Config{VM: vm, MaxReassemblyBytes: 1 << 20})
		gap := make([]byte, 1400)
		for i := 0; i < 5000; i++ {
			port := uint16(10000 + i)
			f.pkt(6, vm, port, pub, 443, capture.TCPSyn, 100, nil)
			for j := 0; j < 4; j++ { // segments after a gap: held
				f.pkt(6, vm, port, pub, 443, capture.TCPAck, uint32(2000+1400*j), gap)
			}
			if f.c.bufs.held > f.c.bufs.heldLimit {
				t.Fatalf("held bytes = %d; want at most %d", f.c.bufs.held, f.c.bufs.heldLimit)
			}
		}
		run := f.c.Finish()
		if f.c.bufs.held != 0 {
			t.Errorf("held bytes after Finish = %d; want 0", f.c.bufs.held)
		}
		found := false
		for _, b := range run.Bounds {
			found = found || strings.HasPrefix(b.What, "out-of-order memory full")
		}
		if !found {
			t.Errorf("bounds = %+v; want the out-of-order memory bound reported", run.Bounds)
		}
	})
	t.Run("one_packet_far_in_the_future", func(t *testing.T) {
		f := newFeed(t, Config{VM: vm, UDPIdle: time.Minute})
		f.pkt(17, vm, 40000, pub, 123, 0, 0, []byte{1})
		future := f.now
		f.now = f.now.Add(100 * 365 * 24 * time.Hour)
		f.pkt(17, vm, 40001, pub, 123, 0, 0, []byte{1})
		f.now = future
		for i := 0; i < 100; i++ {
			f.now = f.now.Add(2 * time.Minute)
			f.pkt(17, vm, uint16(41000+i), pub, 123, 0, 0, []byte{1})
		}
		if n := f.c.flows.len(); n > 3 {
			t.Errorf("live flows = %d; want idle ones expired despite the future packet", n)
		}
	})
}

// TestReusedFourTuple: a client that reuses its port right after a close
// starts a new connection, with its own SNI.
func TestReusedFourTuple(t *testing.T) {
	pub := netip.MustParseAddr("20.42.65.92")
	var snis []string
	f := newFeed(t, Config{VM: vm, OnFlow: func(r *FlowRecord) { snis = append(snis, r.SNI) }})
	f.conn(50001, pub, 443, clientHello(t, "first.example"))
	f.pkt(6, vm, 50001, pub, 443, capture.TCPRst, 1, nil)
	f.conn(50001, pub, 443, clientHello(t, "second.example"))
	f.c.Finish()
	if strings.Join(snis, " ") != "first.example second.example" {
		t.Errorf("flows' SNIs = %q; want two flows, first.example then second.example", snis)
	}
}

// TestHugeDetectWindow: a window larger than memory means "decide at the
// end"; flows held back must not reserve it up front.
func TestHugeDetectWindow(t *testing.T) {
	pub := netip.MustParseAddr("52.114.128.10")
	f := newFeed(t, Config{DetectWindow: math.MaxInt, UDPIdle: time.Second})
	for i := range 3 {
		f.pkt(17, vm, uint16(40000+i), pub, 123, 0, 0, []byte{1})
		f.now = f.now.Add(2 * time.Second) // the previous flow expires
	}
	run := f.c.Finish()
	if run.InScope.Flows != 3 || run.VM != vm {
		t.Errorf("in scope %d flows, VM %v; want 3 flows of %v", run.InScope.Flows, run.VM, vm)
	}
}

// TestNewConnectionOnOpenFourTuple: a SYN with a new ISN on a 4-tuple whose
// connection the capture saw open, but not end, starts a new flow; a SYN that
// repeats the ISN, or comes from a side that has sent only SYNs, does not.
func TestNewConnectionOnOpenFourTuple(t *testing.T) {
	pub := netip.MustParseAddr("20.42.65.92")
	first, second := clientHello(t, "first.example"), clientHello(t, "second.example")
	const syn, synAck, ack = capture.TCPSyn, capture.TCPSyn | capture.TCPAck, capture.TCPAck
	// open plays a handshake from the VM with ISN isn, the ClientHello, and
	// the server's ACK of it: both sides open, no FIN, no RST.
	open := func(f *feed, isn, serverISN uint32, hello []byte) {
		f.pkt(6, vm, 50001, pub, 443, syn, isn, nil)
		f.pkt(6, pub, 443, vm, 50001, synAck, serverISN, nil)
		f.pkt(6, vm, 50001, pub, 443, ack, isn+1, hello)
		f.pkt(6, pub, 443, vm, 50001, ack, serverISN+1, nil)
	}
	type flowSeen struct {
		src     string
		sni     string
		out, in uint64
	}
	tests := []struct {
		name string
		play func(f *feed)
		want []flowSeen // finished flows in order: client, SNI, packets out and in
	}{
		{"second_connection_without_fin", func(f *feed) {
			open(f, 1000, 5000, first)
			open(f, 90000, 7000, second)
		}, []flowSeen{{"192.168.56.10", "first.example", 2, 2}, {"192.168.56.10", "second.example", 2, 2}}},
		{"retransmitted_syn_same_isn", func(f *feed) {
			f.pkt(6, vm, 50001, pub, 443, syn, 1000, nil)
			open(f, 1000, 5000, first)
		}, []flowSeen{{"192.168.56.10", "first.example", 3, 2}}},
		{"late_copy_of_syn_after_open", func(f *feed) {
			open(f, 1000, 5000, first)
			f.pkt(6, vm, 50001, pub, 443, syn, 1000, nil)
		}, []flowSeen{{"192.168.56.10", "first.example", 3, 2}}},
		// The first SYN went unanswered; the client tried again with another ISN: one attempt, and the
		// ClientHello after the second ISN is read.
		{"unanswered_syn_retried_with_new_isn", func(f *feed) {
			f.pkt(6, vm, 50001, pub, 443, syn, 1000, nil)
			open(f, 40000, 5000, first)
		}, []flowSeen{{"192.168.56.10", "first.example", 3, 2}}},
		// The old server opens a connection back on the same 4-tuple: its flow, not the VM's.
		{"syn_from_server_side", func(f *feed) {
			open(f, 1000, 5000, first)
			f.pkt(6, pub, 443, vm, 50001, syn, 123456, nil)
			f.pkt(6, vm, 50001, pub, 443, synAck, 777, nil)
		}, []flowSeen{{"192.168.56.10", "first.example", 2, 2}, {"20.42.65.92", "", 1, 1}}},
		// RFC 9293 figure 8: both sides send a SYN, then a SYN-ACK each.
		{"simultaneous_open", func(f *feed) {
			f.pkt(6, vm, 50001, pub, 443, syn, 1000, nil)
			f.pkt(6, pub, 443, vm, 50001, syn, 5000, nil)
			f.pkt(6, vm, 50001, pub, 443, synAck, 1000, nil)
			f.pkt(6, pub, 443, vm, 50001, synAck, 5000, nil)
			f.pkt(6, vm, 50001, pub, 443, ack, 1001, first)
		}, []flowSeen{{"192.168.56.10", "first.example", 3, 2}}},
		// TCP Fast Open: the second connection's ClientHello rides on its SYN; a retransmission of that SYN
		// carries the same ISN and the same bytes.
		{"fast_open_syn_with_data", func(f *feed) {
			open(f, 1000, 5000, first)
			f.pkt(6, vm, 50001, pub, 443, syn, 90000, second)
			f.pkt(6, vm, 50001, pub, 443, syn, 90000, second)
			f.pkt(6, pub, 443, vm, 50001, synAck, 7000, nil)
		}, []flowSeen{{"192.168.56.10", "first.example", 2, 2}, {"192.168.56.10", "second.example", 2, 1}}},
		// Picked up mid-stream (no SYN seen): a SYN from the side that sent data opens a new connection.
		{"syn_after_mid_stream_pickup", func(f *feed) {
			f.pkt(6, vm, 50001, pub, 443, ack, 31337, []byte{23, 3, 3, 0, 1})
			f.pkt(6, pub, 443, vm, 50001, ack, 999, nil)
			open(f, 1000, 5000, second)
		}, []flowSeen{{"192.168.56.10", "", 1, 1}, {"192.168.56.10", "second.example", 2, 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []flowSeen
			f := newFeed(t, Config{VM: vm, OnFlow: func(r *FlowRecord) {
				got = append(got, flowSeen{r.Src.String(), r.SNI, r.PacketsOut, r.PacketsIn})
			}})
			tt.play(f)
			f.c.Finish()
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("flows (client, SNI, packets out, in) = %v; want %v", got, tt.want)
			}
		})
	}
}
