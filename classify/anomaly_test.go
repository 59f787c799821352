package classify

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
)

// TestSNIChanged: a second ClientHello on a connection that names another
// server (or none, or one where the first named none) marks the flow, and
// the flow keeps the first name read; the run counts it with its name.
func TestSNIChanged(t *testing.T) {
	pub := netip.MustParseAddr("40.126.24.84")
	a, b, none := clientHello(t, "a.example"), clientHello(t, "b.example"), clientHello(t, "")
	ccs := []byte{20, 3, 3, 0, 1, 1}
	cat := func(bs ...[]byte) []byte { return slices.Concat(bs...) }
	tests := []struct {
		name    string
		segs    [][]byte
		wantSNI string
		flagged bool
	}{
		{"same_sni_after_hello_retry", [][]byte{a, cat(ccs, a)}, "a.example", false},
		{"same_sni_one_segment", [][]byte{cat(a, a)}, "a.example", false},
		{"no_sni_twice", [][]byte{none, none}, "", false},
		{"other_sni_after_hello_retry", [][]byte{a, cat(ccs, b)}, "a.example", true},
		{"other_sni_one_segment", [][]byte{cat(a, b)}, "a.example", true},
		{"sni_then_none", [][]byte{a, none}, "a.example", true},
		{"none_then_sni", [][]byte{none, b}, "b.example", true},
		{"back_to_the_first", [][]byte{a, b, a}, "a.example", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFeed(t, Config{VM: vm})
			f.conn(50003, pub, 443, tt.segs...)
			got := f.flows()[pub.String()+":443"]
			var want []string
			if tt.flagged {
				want = []string{AnomalySNIChanged}
			}
			if got.SNI != tt.wantSNI || !slices.Equal(got.Anomalies, want) {
				t.Errorf("SNI, anomalies = %q, %q; want %q, %q", got.SNI, got.Anomalies, tt.wantSNI, want)
			}
			var wantRun []Anomaly
			if tt.flagged {
				wantRun = []Anomaly{{Kind: AnomalySNIChanged, What: anomalyKinds[0].what, Flows: 1, Names: []string{tt.wantSNI}}}
			}
			if g := f.c.run.Anomalies; !anomaliesEqual(g, wantRun) {
				t.Errorf("run anomalies = %+v; want %+v", g, wantRun)
			}
		})
	}
}

func anomaliesEqual(a, b []Anomaly) bool {
	return slices.EqualFunc(a, b, func(x, y Anomaly) bool {
		return x.Kind == y.Kind && x.What == y.What && x.Flows == y.Flows && slices.Equal(x.Names, y.Names)
	})
}

// seg sends one TCP segment with an urgent pointer.
func (f *feed) seg(src netip.Addr, sport uint16, dst netip.Addr, dport uint16, flags uint8, seq uint32, urgent uint16, payload []byte) {
	f.now = f.now.Add(time.Millisecond)
	p := capture.Packet{
		Timestamp: f.now, WireLen: 54 + len(payload), L3: capture.L3IPv4,
		Src: src, Dst: dst, Proto: 6, SrcPort: sport, DstPort: dport,
		TCPFlags: flags, Seq: seq, Urgent: urgent, Payload: payload,
	}
	f.c.Add(&p)
}

// TestTCPUrgent: a direction being read is read up to the byte a segment's
// urgent pointer names and no further (a receiver may or may not keep that
// byte in the stream), and the flow is marked. Segments are sent from
// sequence number 1001; a step is a segment at an offset from there.
func TestTCPUrgent(t *testing.T) {
	pub := netip.MustParseAddr("23.46.237.40")
	const isn = 1000
	one := "GET /one HTTP/1.1\r\nHost: a.example\r\n\r\n"
	two := "GET /two HTTP/1.1\r\nHost: a.example\r\n\r\n"
	hello := clientHello(t, "tls.example")
	type step struct {
		server bool // from the server
		off    int  // from the first byte of the direction
		urgent int  // the urgent pointer, -1 for none
		data   string
	}
	tests := []struct {
		name      string
		port      uint16
		steps     []step
		wantName  string
		wantPaths []string
		flagged   bool
	}{
		// suricata-verify tcp-urgp-01-oob: Linux's server took the X out and read /malicious.
		{"urgent_byte_in_path", 80, []step{{false, 0, -1, "GET /malic"}, {false, 10, 1, "X"},
			{false, 11, -1, "ious HTTP/1.1\r\nHost: a.example\r\n\r\n"}}, "", nil, true},
		{"urgent_after_first_request", 80, []step{{false, 0, -1, one}, {false, len(one), 5, two}},
			"a.example", []string{"/one"}, true},
		{"urgent_pointer_ahead_of_data", 80, []step{{false, 0, len(one) + 10, ""}, {false, 0, -1, one + two}},
			"a.example", []string{"/one"}, true},
		{"urgent_pointer_past_the_requests", 80, []step{{false, 0, len(one+two) + 1, one + two}},
			"a.example", []string{"/one", "/two"}, false},
		{"urgent_pointer_zero", 80, []step{{false, 0, -1, one}, {false, len(one), 0, two}},
			"a.example", []string{"/one"}, true},
		{"urgent_pointer_into_bytes_read", 80, []step{{false, 0, -1, one}, {false, 0, 1, one}, {false, len(one), -1, two}},
			"a.example", []string{"/one"}, true},
		{"urgent_segment_held_out_of_order", 80, []step{{false, len(one), 5, two}, {false, 0, -1, one}},
			"a.example", []string{"/one"}, true},
		{"urgent_from_a_server_not_read", 80, []step{{false, 0, -1, one}, {true, 0, 1, "HTTP/1.1 200 OK\r\n\r\n"},
			{false, len(one), -1, two}}, "a.example", []string{"/one", "/two"}, false},
		{"urgent_byte_in_client_hello", 443, []step{{false, 0, -1, string(hello[:100])}, {false, 100, 1, string(hello[100:])}},
			"", nil, true},
		// After a ClientHello a second may follow (HelloRetryRequest): still read.
		{"urgent_where_a_second_hello_may_start", 443, []step{{false, 0, -1, string(hello)}, {false, len(hello), 1, "\x17\x03\x03\x00\x01x"}},
			"tls.example", nil, true},
		{"urgent_after_a_record_that_ends_the_hellos", 443, []step{{false, 0, -1, string(hello)},
			{false, len(hello), 7, "\x17\x03\x03\x00\x01x"}}, "tls.example", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var paths []string
			f := newFeed(t, Config{VM: vm, OnObservation: func(o *Observation) {
				if o.Kind == "http" {
					paths = append(paths, o.Path)
				}
			}})
			f.pkt(6, vm, 50005, pub, tt.port, capture.TCPSyn, isn, nil)
			f.pkt(6, pub, tt.port, vm, 50005, capture.TCPSyn|capture.TCPAck, isn, nil)
			for _, s := range tt.steps {
				flags := uint8(capture.TCPAck)
				if s.urgent >= 0 {
					flags |= capture.TCPUrg
				}
				if s.server {
					f.seg(pub, tt.port, vm, 50005, flags, isn+1+uint32(s.off), uint16(max(s.urgent, 0)), []byte(s.data))
				} else {
					f.seg(vm, 50005, pub, tt.port, flags, isn+1+uint32(s.off), uint16(max(s.urgent, 0)), []byte(s.data))
				}
			}
			got := f.flows()[pub.String()+":"+itoa(int(tt.port))]
			var want []string
			if tt.flagged {
				want = []string{AnomalyTCPUrgent}
			}
			if got.Name != tt.wantName || !slices.Equal(got.Anomalies, want) {
				t.Errorf("name, anomalies = %q, %q; want %q, %q", got.Name, got.Anomalies, tt.wantName, want)
			}
			if !slices.Equal(paths, tt.wantPaths) || !slices.Equal(got.HTTPPaths, tt.wantPaths) {
				t.Errorf("paths read = %q, flow paths = %q; want %q", paths, got.HTTPPaths, tt.wantPaths)
			}
			if n := len(f.c.run.Anomalies); n != len(want) {
				t.Errorf("run anomalies = %+v; want %d kinds", f.c.run.Anomalies, len(want))
			}
		})
	}
}

// TestTCPUrgentAllocatesNothing: marking urgent data and the flows it cuts
// short allocates nothing per packet once warm.
func TestTCPUrgentAllocatesNothing(t *testing.T) {
	pub := netip.MustParseAddr("23.46.237.40")
	req := []byte("GET /one HTTP/1.1\r\nHost: a.example\r\n\r\n")
	f := newFeed(t, Config{VM: vm, ClosedLinger: time.Second})
	port := uint16(40000)
	connection := func() {
		port++
		f.seg(vm, port, pub, 80, capture.TCPSyn, 100, 0, nil)
		f.seg(vm, port, pub, 80, capture.TCPAck, 101, 0, req[:10])
		f.seg(vm, port, pub, 80, capture.TCPAck|capture.TCPUrg, 111, 1, req[10:11])
		f.seg(vm, port, pub, 80, capture.TCPAck, 112, 0, req[11:])
		f.seg(vm, port, pub, 80, capture.TCPRst, uint32(101+len(req)), 0, nil)
		f.now = f.now.Add(2 * time.Second) // past ClosedLinger: the next packet finishes it
	}
	for range 50 {
		connection()
	}
	if n := testing.AllocsPerRun(200, connection); n != 0 {
		t.Errorf("allocations per connection with urgent data (5 packets) = %v; want 0", n)
	}
	if a := f.c.Finish().Anomalies; len(a) != 1 || a[0].Flows != 251 {
		t.Errorf("run anomalies = %+v; want 251 flows of tcp-urgent", a)
	}
}
