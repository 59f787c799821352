package classify

import (
	"crypto/tls"
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

// dnsAnswer builds a response to client for qname: CNAMEs in order, then A.
func dnsAnswer(t testing.TB, qname string, chain []string, addrs ...netip.Addr) []byte {
	t.Helper()
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 7, Response: true, RecursionAvailable: true})
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
		{"latest_dns_answer_wins", func(f *feed) {
			f.dns(vm, "first.example.com", nil, pub)
			f.dns(vm, "second.example.com", nil, pub)
			f.conn(50001, pub, 443, nil)
		}, "second.example.com", EvidenceDNS},
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
		pub.String() + ":443": ScopeIn,
		lan.String() + ":445": ScopePrivateDestination,
		vm.String() + ":3389": ScopeNotFromVM,
	}
	for k, w := range want {
		if g := flows[k].Scope; g != w {
			t.Errorf("scope of %s = %q; want %q", k, g, w)
		}
	}
	if g := run.InScope.Flows; g != 3 {
		t.Errorf("flows in scope = %d; want 3 (two with a SYN, one mid-stream)", g)
	}
	if e := run.Excluded[ScopeIPv6]; e == nil || e.Packets != 1 {
		t.Errorf("IPv6 excluded = %+v; want 1 packet", e)
	}
	if e := run.Excluded[ScopeNonIP]; e == nil || e.Packets != 1 {
		t.Errorf("non-IP excluded = %+v; want 1 packet", e)
	}
}

func TestSpecialRanges(t *testing.T) {
	for _, tt := range []struct {
		addr   string
		public bool
	}{
		{"8.8.8.8", true}, {"20.42.65.92", true}, {"10.1.2.3", false}, {"172.31.255.255", false},
		{"172.32.0.1", true}, {"192.168.1.1", false}, {"100.64.0.1", false}, {"100.128.0.1", true},
		{"127.0.0.1", false}, {"169.254.1.1", false}, {"192.0.2.1", false}, {"198.18.0.1", false},
		{"198.51.100.1", false}, {"203.0.113.1", false}, {"224.0.0.251", false}, {"239.255.255.250", false},
		{"240.0.0.1", false}, {"255.255.255.255", false}, {"0.1.2.3", false}, {"192.88.99.1", false},
	} {
		if g := IsPublic(netip.MustParseAddr(tt.addr)); g != tt.public {
			t.Errorf("IsPublic(%s) = %v; want %v", tt.addr, g, tt.public)
		}
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
