package classify

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/phonehome/phonehome/capture"
)

// TestDNSAnswerMatching plays a query and an answer as the VM's resolver
// would see them, changed one way each, and checks whether the answer names
// the flow that follows (see dnsquery.go for the rules).
func TestDNSAnswerMatching(t *testing.T) {
	pub := netip.MustParseAddr("20.42.65.92")
	other := netip.MustParseAddr("192.168.56.2")
	const name = "client.wns.windows.com"
	query := func(f *feed, id uint16, qname string, qtype ...dnsmessage.Type) {
		f.pkt(17, vm, 50000, resolver, 53, 0, 0, dnsQueryMsg(f.t, id, qname, qtype...))
	}
	answer := func(f *feed, id uint16, qname string) {
		f.pkt(17, resolver, 53, vm, 50000, 0, 0, dnsAnswerID(f.t, id, qname, nil, pub))
	}
	tests := []struct {
		name string
		play func(f *feed)
		want string // the flow's name
		dns  DNSAnswers
	}{
		{"answer_matches_query", func(f *feed) {
			query(f, 7, name)
			answer(f, 7, name)
		}, name, DNSAnswers{Matched: 1}},
		{"no_query_captured_one_sided", func(f *feed) {
			answer(f, 7, name)
		}, name, DNSAnswers{OneSided: 1}},
		{"answer_before_first_query_one_sided", func(f *feed) {
			answer(f, 7, name)
			query(f, 8, "other.example")
		}, name, DNSAnswers{OneSided: 1}},
		{"unsolicited_other_id", func(f *feed) {
			query(f, 7, name)
			answer(f, 8, name)
		}, "", DNSAnswers{Unrequested: 1}},
		{"other_question_name", func(f *feed) {
			query(f, 7, "settings-win.data.microsoft.com")
			answer(f, 7, name)
		}, "", DNSAnswers{Unrequested: 1}},
		{"other_question_type", func(f *feed) {
			query(f, 7, name, dnsmessage.TypeAAAA)
			answer(f, 7, name)
		}, "", DNSAnswers{Unrequested: 1}},
		{"other_client_port", func(f *feed) {
			query(f, 7, name)
			f.pkt(17, resolver, 53, vm, 50001, 0, 0, dnsAnswerID(f.t, 7, name, nil, pub))
		}, "", DNSAnswers{Unrequested: 1}},
		{"from_another_server", func(f *feed) {
			query(f, 7, name)
			f.pkt(17, other, 53, vm, 50000, 0, 0, dnsAnswerID(f.t, 7, name, nil, pub))
		}, "", DNSAnswers{Unrequested: 1}},
		{"answer_before_its_query", func(f *feed) {
			query(f, 6, "other.example")
			answer(f, 7, name)
			query(f, 7, name)
		}, "", DNSAnswers{Unrequested: 1}},
		{"answer_past_window", func(f *feed) {
			query(f, 7, name)
			f.now = f.now.Add(15 * time.Second)
			answer(f, 7, name)
		}, "", DNSAnswers{Unrequested: 1}},
		{"retransmitted_query_dated_anew", func(f *feed) {
			query(f, 7, name)
			f.now = f.now.Add(10 * time.Second)
			query(f, 7, name)
			f.now = f.now.Add(10 * time.Second)
			answer(f, 7, name)
		}, name, DNSAnswers{Matched: 1}},
		// 0x20 randomisation: the resolver echoes the mixed case it was sent; another may not.
		{"mixed_case_echoed", func(f *feed) {
			query(f, 7, "cLiEnT.WnS.wInDoWs.CoM")
			answer(f, 7, "cLiEnT.WnS.wInDoWs.CoM")
		}, name, DNSAnswers{Matched: 1}},
		{"mixed_case_not_echoed", func(f *feed) {
			query(f, 7, "cLiEnT.WnS.wInDoWs.CoM")
			answer(f, 7, name)
		}, name, DNSAnswers{Matched: 1}},
		{"second_answer_to_one_query", func(f *feed) {
			query(f, 7, name)
			answer(f, 7, name)
			answer(f, 7, name)
		}, name, DNSAnswers{Matched: 2}},
		// LLMNR: the query goes to the group, the answer comes from the responder's own address.
		{"llmnr_group_query_any_responder", func(f *feed) {
			query(f, 6, "other.example")
			f.pkt(17, vm, 50002, netip.MustParseAddr("224.0.0.252"), 5355, 0, 0, dnsQueryMsg(f.t, 9, name))
			f.pkt(17, other, 5355, vm, 50002, 0, 0, dnsAnswerID(f.t, 9, name, nil, pub))
		}, name, DNSAnswers{Matched: 1}},
		{"group_query_leaves_client_one_sided", func(f *feed) {
			f.pkt(17, vm, 5353, netip.MustParseAddr("224.0.0.251"), 5353, 0, 0, dnsQueryMsg(f.t, 0, "printer.local"))
			answer(f, 7, name)
		}, name, DNSAnswers{OneSided: 1}},
		{"other_client_queried", func(f *feed) {
			f.pkt(17, other, 50000, resolver, 53, 0, 0, dnsQueryMsg(f.t, 7, "x.example"))
			answer(f, 7, name)
		}, name, DNSAnswers{OneSided: 1}},
		{"tcp_query_matches", func(f *feed) {
			tcpDNS(f, 7, name, 7, name)
		}, name, DNSAnswers{Matched: 1}},
		{"tcp_answer_other_id", func(f *feed) {
			tcpDNS(f, 7, name, 8, name)
		}, "", DNSAnswers{Unrequested: 1}},
		{"udp_query_tcp_answer", func(f *feed) {
			query(f, 7, name)
			tcpDNS(f, 6, "other.example", 7, name)
		}, "", DNSAnswers{Unrequested: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var obs []string
			f := newFeed(t, Config{VM: vm, OnObservation: func(o *Observation) {
				if o.Kind == "dns" {
					obs = append(obs, o.Name+map[bool]string{true: " unrequested", false: ""}[o.Unrequested])
				}
			}})
			tt.play(f)
			f.conn(50100, pub, 443, []byte{0, 1, 2, 3})
			got := f.flows()[pub.String()+":443"]
			if got.Name != tt.want {
				t.Errorf("flow name = %q; want %q", got.Name, tt.want)
			}
			if f.c.run.DNS != tt.dns {
				t.Errorf("Run.DNS = %+v; want %+v", f.c.run.DNS, tt.dns)
			}
			if len(obs) == 0 || (tt.dns.Unrequested > 0) != strings.HasSuffix(obs[len(obs)-1], " unrequested") {
				t.Errorf("dns observations = %q; want the last one marked unrequested: %v", obs, tt.dns.Unrequested > 0)
			}
		})
	}
}

// tcpDNS plays one DNS exchange over TCP from the VM to the resolver: a query
// (qid, qname) whose length prefix and message arrive in separate segments,
// and an answer (aid, aname) naming 20.42.65.92.
func tcpDNS(f *feed, qid uint16, qname string, aid uint16, aname string) {
	frame := func(msg []byte) []byte { return append([]byte{byte(len(msg) >> 8), byte(len(msg))}, msg...) }
	q := frame(dnsQueryMsg(f.t, qid, qname))
	a := frame(dnsAnswerID(f.t, aid, aname, nil, netip.MustParseAddr("20.42.65.92")))
	f.pkt(6, vm, 50300, resolver, 53, capture.TCPSyn, 100, nil)
	f.pkt(6, resolver, 53, vm, 50300, capture.TCPSyn|capture.TCPAck, 500, nil)
	f.pkt(6, vm, 50300, resolver, 53, capture.TCPAck, 101, q[:2])
	f.pkt(6, vm, 50300, resolver, 53, capture.TCPAck, 103, q[2:])
	f.pkt(6, resolver, 53, vm, 50300, capture.TCPAck, 501, a)
}

// TestDNSQueryTableBound fills one bucket of a small query table: a query
// pushed out is forgotten, counted as a bound reached, and its answer names
// nothing; queries past the window make room without counting.
func TestDNSQueryTableBound(t *testing.T) {
	pub := netip.MustParseAddr("20.42.65.92")
	f := newFeed(t, Config{VM: vm, MaxDNSQueries: queryWays}) // one bucket
	if n := f.c.queries.capacity(); n != queryWays {
		t.Fatalf("capacity = %d; want %d", n, queryWays)
	}
	for id := range uint16(queryWays) {
		f.pkt(17, vm, 50000, resolver, 53, 0, 0, dnsQueryMsg(t, id, "a.example"))
	}
	f.now = f.now.Add(time.Minute) // all of them past the window
	for id := range uint16(queryWays + 1) {
		f.pkt(17, vm, 50000, resolver, 53, 0, 0, dnsQueryMsg(t, 100+id, "b.example"))
	}
	if n := f.c.queries.evicted; n != 1 {
		t.Errorf("queries evicted = %d; want 1 (the first of the second round only)", n)
	}
	f.pkt(17, resolver, 53, vm, 50000, 0, 0, dnsAnswerID(t, 100, "b.example", nil, pub))
	f.pkt(17, resolver, 53, vm, 50000, 0, 0, dnsAnswerID(t, 101, "b.example", nil, pub))
	run := f.c.Finish()
	if run.DNS != (DNSAnswers{Matched: 1, Unrequested: 1}) {
		t.Errorf("Run.DNS = %+v; want 1 matched (ID 101), 1 unrequested (ID 100, forgotten)", run.DNS)
	}
	found := false
	for _, b := range run.Bounds {
		found = found || strings.HasPrefix(b.What, "DNS query table full") && b.Times == 1 && b.Limit == queryWays
	}
	if !found {
		t.Errorf("bounds = %+v; want the DNS query table bound, once", run.Bounds)
	}
}
