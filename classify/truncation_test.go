package classify

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
)

// cutPkt sends a packet whose payload the capture cut to its first keep bytes
// (keep < 0: the TCP header itself was cut, no payload at all), as a snap
// length does: the frame was 54+len(payload) bytes on the wire.
func (f *feed) cutPkt(proto uint8, src netip.Addr, sport uint16, dst netip.Addr, dport uint16, flags uint8, seq uint32, payload []byte, keep int) {
	f.now = f.now.Add(time.Millisecond)
	p := capture.Packet{
		Timestamp: f.now, WireLen: 54 + len(payload), CapLen: 54 + keep, L3: capture.L3IPv4,
		Src: src, Dst: dst, Proto: proto, SrcPort: sport, DstPort: dport,
		TCPFlags: flags, Seq: seq, Truncated: true,
	}
	if keep >= 0 {
		p.Payload = payload[:keep]
	} else {
		p.CapLen = 40
	}
	f.c.Add(&p)
}

// TestTruncatedStreams: a TCP segment the capture cut leaves a hole in its
// stream. The stream is read up to the hole and no further; a ClientHello or
// request head across it names nothing, and the flow is marked and falls back
// on DNS.
func TestTruncatedStreams(t *testing.T) {
	pub := netip.MustParseAddr("20.42.65.92")
	const sni = "v10.events.data.microsoft.com"
	hello := clientHello(t, sni) // about 1.8 KB: two segments
	request := []byte("GET /connecttest.txt HTTP/1.1\r\nHost: www.msftconnecttest.com\r\n\r\n")
	post := []byte("POST /upload HTTP/1.1\r\nHost: ctldl.windowsupdate.com\r\nContent-Length: 2000\r\n\r\n" + strings.Repeat("x", 2000))
	const isn = 1000
	type seg struct {
		off, end int
		keep     int // bytes captured; -1 for all, -2 for none and no TCP header
	}
	tests := []struct {
		name         string
		payload      []byte
		dns          bool // a DNS answer names the destination first
		segs         []seg
		wantName     string
		wantEvidence string
		wantCut      string
		wantGivenUp  uint64
	}{
		{"hello_cut_named_by_dns", hello, true, []seg{{0, 1448, 208}, {1448, len(hello), -1}},
			"client.wns.windows.com", EvidenceDNS, CutClientHello, 0},
		{"hello_cut_unattributed", hello, false, []seg{{0, 1448, 208}, {1448, len(hello), -1}},
			"", EvidenceNone, CutClientHello, 0},
		// The second segment cut: the first is whole, the ClientHello is not.
		{"hello_second_segment_cut", hello, true, []seg{{0, 1448, -1}, {1448, len(hello), 10}},
			"client.wns.windows.com", EvidenceDNS, CutClientHello, 0},
		// The cut segment comes first, out of order: read up to its hole once
		// the gap fills, then stop.
		{"hello_cut_segment_out_of_order", hello, true, []seg{{1000, len(hello), 300}, {0, 1000, -1}},
			"client.wns.windows.com", EvidenceDNS, CutClientHello, 0},
		// A cut copy of bytes already read loses nothing.
		{"cut_retransmission_of_read_bytes", hello, false, []seg{{0, 1448, -1}, {0, 1448, 208}, {1448, len(hello), -1}},
			sni, EvidenceSNI, "", 0},
		// Segments after the hole are not held and counted as a reassembly
		// bound reached: the capture lost the bytes, no bound was hit.
		{"segments_after_hole_not_a_reassembly_bound", post, true, []seg{{0, 20, 10}, {20, 300, -1}, {300, 600, -1},
			{600, 900, -1}, {900, 1200, -1}, {1200, 1500, -1}, {1500, 1800, -1}, {1800, 1900, -1}, {1900, 2000, -1}, {2000, len(post), -1}},
			"client.wns.windows.com", EvidenceDNS, CutRequestHead, 0},
		// The head is within what the capture kept: its Host names the flow;
		// the body after it was lost and is not read.
		{"request_head_within_kept_bytes", post, true, []seg{{0, 1448, 300}, {1448, len(post), -1}},
			"ctldl.windowsupdate.com", EvidenceHTTPHost, "", 0},
		{"request_cut", request, true, []seg{{0, len(request), 30}},
			"client.wns.windows.com", EvidenceDNS, CutRequestHead, 0},
		// Only the TCP header was captured, cut: nothing after it is read.
		{"tcp_header_cut", request, true, []seg{{0, len(request), -2}, {0, len(request), -1}},
			"client.wns.windows.com", EvidenceDNS, CutFirstPayload, 0},
		// All the segment's payload cut, its header whole: the hole is at its
		// first byte.
		{"payload_cut_to_nothing", hello, true, []seg{{0, 1448, 0}, {1448, len(hello), -1}},
			"client.wns.windows.com", EvidenceDNS, CutFirstPayload, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFeed(t, Config{VM: vm})
			if tt.dns {
				f.dns(vm, "client.wns.windows.com", nil, pub)
			}
			f.pkt(6, vm, 50001, pub, 443, capture.TCPSyn, isn, nil)
			f.pkt(6, pub, 443, vm, 50001, capture.TCPSyn|capture.TCPAck, 5000, nil)
			for _, s := range tt.segs {
				seq := isn + 1 + uint32(s.off)
				b := tt.payload[s.off:s.end]
				switch s.keep {
				case -1:
					f.pkt(6, vm, 50001, pub, 443, capture.TCPAck, seq, b)
				case -2:
					f.cutPkt(6, vm, 50001, pub, 443, capture.TCPAck, seq, b, -1)
				default:
					f.cutPkt(6, vm, 50001, pub, 443, capture.TCPAck, seq, b, s.keep)
				}
			}
			var got FlowRecord
			f.c.cfg.OnFlow = func(r *FlowRecord) {
				if r.Dst == pub {
					got = *r
					got.Anomalies = slices.Clone(r.Anomalies)
				}
			}
			run := f.c.Finish()
			if got.Name != tt.wantName || got.Evidence != tt.wantEvidence {
				t.Errorf("name, evidence = %q, %q; want %q, %q", got.Name, got.Evidence, tt.wantName, tt.wantEvidence)
			}
			if got.Cut != tt.wantCut || len(got.Anomalies) > 0 {
				t.Errorf("cut, anomalies = %q, %q; want %q, none", got.Cut, got.Anomalies, tt.wantCut)
			}
			if !got.Truncated {
				t.Errorf("truncated = false; want true")
			}
			if f.c.streamsGivenUp != tt.wantGivenUp || len(run.Bounds) != 0 {
				t.Errorf("directions given up %d, bounds %+v; want %d, none", f.c.streamsGivenUp, run.Bounds, tt.wantGivenUp)
			}
			tr := run.Truncation
			cut := 0
			for _, s := range tt.segs {
				if s.keep != -1 {
					cut++
				}
			}
			if tr.Frames != uint64(cut) || tr.Flows != 1 {
				t.Errorf("Truncation frames, flows = %d, %d; want %d, 1", tr.Frames, tr.Flows, cut)
			}
			heads := tr.ClientHellos + tr.RequestHeads + tr.FirstPayloads
			if (heads == 1) != (tt.wantCut != "") || tr.NamedByDNS+tr.Unnamed != heads {
				t.Errorf("Truncation = %+v; want the cut head counted once, by what named the flow", tr)
			}
		})
	}
}

// TestTruncationCounts: frames cut to one length give the snap length;
// frames cut to several, or whose headers lie, give none. A cut DNS response
// is read as far as its records are whole, and counted.
func TestTruncationCounts(t *testing.T) {
	pub := netip.MustParseAddr("20.42.65.92")
	answer := dnsAnswer(t, "settings-win.data.microsoft.com",
		[]string{"settings-win.data.microsoft.com.akadns.net", "atm-settingsfe-prod-geo2.trafficmanager.net"}, pub, pub.Next())
	udp := func(f *feed, keep, capLen int) {
		f.now = f.now.Add(time.Millisecond)
		f.c.Add(&capture.Packet{Timestamp: f.now, WireLen: 42 + len(answer), CapLen: capLen, L3: capture.L3IPv4,
			Src: resolver, Dst: vm, Proto: 17, SrcPort: 53, DstPort: 50000, Payload: answer[:keep], Truncated: true})
	}
	tests := []struct {
		name      string
		play      func(f *feed)
		want      Truncation
		wantNamed string
	}{
		{"snap_length", func(f *feed) {
			udp(f, 100, 142)                                              // cut before the A records: answers lost
			udp(f, len(answer)-2, 142)                                    // cut in the last A record: one lost (not a snap length of 142, but counted so)
			f.cutPkt(6, vm, 50001, pub, 443, 0, 1, make([]byte, 300), 88) // 54+88 = 142
		}, Truncation{Frames: 3, SnapLen: 142, Flows: 1, DNSResponses: 2, AnswersLost: 2}, "settings-win.data.microsoft.com"},
		// A frame kept longer than the cut ones: no snap length cut them.
		{"longer_frame_kept_no_snap_length", func(f *feed) {
			f.cutPkt(6, vm, 50001, pub, 443, 0, 1, make([]byte, 300), 88)
			f.now = f.now.Add(time.Millisecond)
			f.c.Add(&capture.Packet{Timestamp: f.now, WireLen: 200, CapLen: 200, L3: capture.L3IPv4, Src: vm, Dst: pub,
				Proto: 17, SrcPort: 50003, DstPort: 443, Payload: make([]byte, 158)})
		}, Truncation{Frames: 1, Flows: 1}, ""},
		{"two_lengths_no_snap_length", func(f *feed) {
			f.cutPkt(6, vm, 50001, pub, 443, 0, 1, make([]byte, 300), 88)
			f.cutPkt(6, vm, 50001, pub, 443, 0, 301, make([]byte, 300), 100)
		}, Truncation{Frames: 2, Flows: 1}, ""},
		{"header_lies_no_snap_length", func(f *feed) {
			udp(f, len(answer)-2, 42+len(answer)) // captured whole: the IP length lies
		}, Truncation{Frames: 1, DNSResponses: 1, AnswersLost: 1}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFeed(t, Config{VM: vm})
			tt.play(f)
			f.conn(50002, pub, 443)
			var named string
			f.c.cfg.OnFlow = func(r *FlowRecord) {
				if r.Dst == pub && r.SPort == 50002 {
					named = r.Name
				}
			}
			run := f.c.Finish()
			if run.Truncation != tt.want {
				t.Errorf("Truncation = %+v; want %+v", run.Truncation, tt.want)
			}
			if tt.wantNamed != "" && named != tt.wantNamed {
				t.Errorf("flow after the cut answers named %q; want %q (the records before the cut are read)", named, tt.wantNamed)
			}
		})
	}
}
