package classify

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsAnswerTTL builds a response for qname, ID 7: CNAMEs in order, each with
// TTL cnameTTL, then A records with TTL aTTL.
func dnsAnswerTTL(t testing.TB, qname string, chain []string, cnameTTL, aTTL uint32, addrs ...netip.Addr) []byte {
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
		must(b.CNAMEResource(dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(owner + "."), Class: dnsmessage.ClassINET, TTL: cnameTTL},
			dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(c + ".")}))
		owner = c
	}
	for _, a := range addrs {
		must(b.AResource(dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(owner + "."), Class: dnsmessage.ClassINET, TTL: aTTL},
			dnsmessage.AResource{A: a.As4()}))
	}
	msg, err := b.Finish()
	must(err)
	return msg
}

// candidates renders a flow's DNS candidates as "a(x,y) b".
func candidates(rec FlowRecord) string {
	var out []string
	for _, c := range rec.DNSCandidates {
		s := c.Name
		if len(c.CNAMEs) > 0 {
			s += "(" + strings.Join(c.CNAMEs, ",") + ")"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// TestDNSNames holds the rules by which DNS answers name a flow (README,
// "Names"): the names whose answers lead to the destination within their TTL
// (the smallest on the chain, at least 10 s); if none, those answered within
// 24 h; one name names the flow, several leave it ambiguous, named by all.
func TestDNSNames(t *testing.T) {
	pub := netip.MustParseAddr("13.107.4.50")
	other := netip.MustParseAddr("13.107.4.51")
	neighbour := netip.MustParseAddr("192.168.56.11")
	hello := clientHello(t, "fe3cr.delivery.mp.microsoft.com")
	type answer struct {
		after      time.Duration // since the previous packet
		client     netip.Addr    // zero: the VM
		qname      string
		chain      []string
		cname, ttl uint32
		addrs      []netip.Addr
	}
	a := func(after time.Duration, qname string, ttl uint32) answer {
		return answer{after: after, qname: qname, ttl: ttl, addrs: []netip.Addr{pub}}
	}
	tests := []struct {
		name          string
		answers       []answer
		after         time.Duration // from the last answer to the flow
		payload       []byte
		wantName      string
		wantEvidence  string
		wantDNSName   string
		wantCands     string
		wantCrowded   uint64
		wantAmbiguous string // the run's key for the flow's set of names
	}{
		{"one_name", []answer{a(0, "fe3cr.delivery.mp.microsoft.com", 60)}, time.Second, nil,
			"fe3cr.delivery.mp.microsoft.com", EvidenceDNS, "fe3cr.delivery.mp.microsoft.com", "", 0, ""},
		// The sample's case from issue 10: two names of one CDN address, both
		// live; the most recent is not the flow's name.
		{"two_names_within_ttl_ambiguous", []answer{
			a(0, "fe3cr.delivery.mp.microsoft.com", 300), a(time.Minute, "fe2cr.update.microsoft.com", 300)},
			time.Second, nil, "", EvidenceDNSAmbiguous, "",
			"fe2cr.update.microsoft.com fe3cr.delivery.mp.microsoft.com", 0,
			"fe2cr.update.microsoft.com\nfe3cr.delivery.mp.microsoft.com"},
		{"same_name_twice_one_name", []answer{
			a(0, "fe3cr.delivery.mp.microsoft.com", 300), a(time.Minute, "FE3CR.delivery.mp.microsoft.COM", 300)},
			time.Second, nil, "fe3cr.delivery.mp.microsoft.com", EvidenceDNS, "fe3cr.delivery.mp.microsoft.com", "", 0, ""},
		{"expired_name_not_a_candidate", []answer{
			a(0, "old.example.com", 60), a(2*time.Minute, "new.example.com", 300)},
			time.Second, nil, "new.example.com", EvidenceDNS, "new.example.com", "", 0, ""},
		// A name alone, past its TTL: a client that kept the address past
		// its TTL had that name.
		{"expired_alone_still_names", []answer{a(0, "old.example.com", 60)}, 10 * time.Minute, nil,
			"old.example.com", EvidenceDNS, "old.example.com", "", 0, ""},
		{"all_expired_ambiguous", []answer{
			a(0, "first.example.com", 60), a(time.Minute, "second.example.com", 60)},
			time.Hour, nil, "", EvidenceDNSAmbiguous, "", "first.example.com second.example.com", 0,
			"first.example.com\nsecond.example.com"},
		{"older_than_24h_not_used", []answer{a(0, "old.example.com", 86400)}, 25 * time.Hour, nil,
			"", EvidenceNone, "", "", 0, ""},
		// The chain's shortest TTL decides: a CNAME of 30 s ends the first
		// answer before the second comes.
		{"cname_ttl_ends_answer", []answer{
			{qname: "short.example.com", chain: []string{"edge.example.net"}, cname: 30, ttl: 3600, addrs: []netip.Addr{pub}},
			a(time.Minute, "new.example.com", 300)},
			time.Second, nil, "new.example.com", EvidenceDNS, "new.example.com", "", 0, ""},
		{"cname_chains_kept_per_name", []answer{
			{qname: "a.example.com", chain: []string{"x.cdn.net"}, cname: 300, ttl: 300, addrs: []netip.Addr{pub}},
			{after: time.Second, qname: "b.example.com", chain: []string{"y.cdn.net", "x.cdn.net"}, cname: 300, ttl: 300, addrs: []netip.Addr{pub}}},
			time.Second, nil, "", EvidenceDNSAmbiguous, "", "a.example.com(x.cdn.net) b.example.com(y.cdn.net,x.cdn.net)", 0,
			"a.example.com\nb.example.com"},
		// TTL 0 means "do not cache", not "do not use": the client connects
		// to what it was just given.
		{"ttl_zero_names_the_next_flow", []answer{a(0, "zero.example.com", 0)}, 100 * time.Millisecond, nil,
			"zero.example.com", EvidenceDNS, "zero.example.com", "", 0, ""},
		{"ttl_zero_does_not_outlive_a_live_answer", []answer{
			a(0, "live.example.com", 3600), a(time.Minute, "zero.example.com", 0)},
			time.Minute, nil, "live.example.com", EvidenceDNS, "live.example.com", "", 0, ""},
		{"other_address_other_client_not_mixed", []answer{
			a(0, "mine.example.com", 300),
			{after: time.Second, qname: "elsewhere.example.com", ttl: 300, addrs: []netip.Addr{other}},
			{after: time.Second, client: neighbour, qname: "neighbour.example.com", ttl: 300, addrs: []netip.Addr{pub}}},
			time.Second, nil, "mine.example.com", EvidenceDNS, "mine.example.com", "", 0, ""},
		{"fifth_name_drops_the_least_recent", []answer{
			a(0, "n1.example.com", 300), a(time.Second, "n2.example.com", 300), a(time.Second, "n3.example.com", 300),
			a(time.Second, "n4.example.com", 300), a(time.Second, "n5.example.com", 300)},
			time.Second, nil, "", EvidenceDNSAmbiguous, "", "n2.example.com n3.example.com n4.example.com n5.example.com", 1,
			"n2.example.com\nn3.example.com\nn4.example.com\nn5.example.com"},
		{"fifth_name_drops_an_expired_one_silently", []answer{
			a(0, "n1.example.com", 10), a(time.Minute, "n2.example.com", 300), a(time.Second, "n3.example.com", 300),
			a(time.Second, "n4.example.com", 300), a(time.Second, "n5.example.com", 300)},
			time.Second, nil, "", EvidenceDNSAmbiguous, "", "n2.example.com n3.example.com n4.example.com n5.example.com", 0,
			"n2.example.com\nn3.example.com\nn4.example.com\nn5.example.com"},
		{"sni_decides_candidates_kept", []answer{
			a(0, "fe3cr.delivery.mp.microsoft.com", 300), a(time.Minute, "fe2cr.update.microsoft.com", 300)},
			time.Second, hello, "fe3cr.delivery.mp.microsoft.com", EvidenceSNI, "",
			"fe2cr.update.microsoft.com fe3cr.delivery.mp.microsoft.com", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFeed(t, Config{VM: vm})
			for _, ans := range tt.answers {
				f.now = f.now.Add(ans.after)
				client := ans.client
				if !client.IsValid() {
					client = vm
				}
				f.pkt(17, resolver, 53, client, 50000, 0, 0, dnsAnswerTTL(t, ans.qname, ans.chain, ans.cname, ans.ttl, ans.addrs...))
			}
			f.now = f.now.Add(tt.after - time.Millisecond) // pkt adds a millisecond
			var payloads [][]byte
			if tt.payload != nil {
				payloads = append(payloads, tt.payload)
			}
			f.conn(50001, pub, 443, payloads...)
			var got FlowRecord
			f.c.cfg.OnFlow = func(r *FlowRecord) {
				if r.Dst == pub {
					got = *r
					got.DNSCandidates = slices.Clone(r.DNSCandidates)
				}
			}
			run := f.c.Finish()
			if got.Name != tt.wantName || got.Evidence != tt.wantEvidence || got.DNSName != tt.wantDNSName {
				t.Errorf("name, evidence, dns_name = %q, %q, %q; want %q, %q, %q",
					got.Name, got.Evidence, got.DNSName, tt.wantName, tt.wantEvidence, tt.wantDNSName)
			}
			if c := candidates(got); c != tt.wantCands {
				t.Errorf("dns_candidates = %q; want %q", c, tt.wantCands)
			}
			if f.c.dns.crowded != tt.wantCrowded {
				t.Errorf("names dropped while within their TTL = %d; want %d", f.c.dns.crowded, tt.wantCrowded)
			}
			var sets []string
			for k, a := range run.Ambiguous {
				sets = append(sets, strings.Join(a.Names, "\n"))
				if a.Flows != 1 || len(a.Aliases) != len(a.Names) {
					t.Errorf("Run.Ambiguous[%q] = %+v; want its names, 1 flow, aliases per name", k, a)
				}
			}
			if strings.Join(sets, "|") != tt.wantAmbiguous {
				t.Errorf("Run.Ambiguous sets = %q; want %q", sets, tt.wantAmbiguous)
			}
			if tt.wantAmbiguous != "" && len(run.Names) != 0 {
				t.Errorf("Run.Names = %v; want none: an ambiguous flow is named by no one name", run.Names)
			}
			crowded := false
			for _, b := range run.Bounds {
				crowded = crowded || strings.HasPrefix(b.What, "DNS names per address") && b.Times == tt.wantCrowded && b.Limit == 4
			}
			if crowded != (tt.wantCrowded > 0) {
				t.Errorf("Run.Bounds = %+v; want the per-address bound listed %d times", run.Bounds, tt.wantCrowded)
			}
		})
	}
}

// TestDNSMapBounds fills the map past its capacity: the least recently
// answered addresses go first, with all their names, and are counted.
func TestDNSMapBounds(t *testing.T) {
	d := newDNSMap(6, 24*time.Hour)
	client := [4]byte{192, 168, 56, 10}
	key := func(i byte) dnsKey { return newDNSKey(client, [4]byte{20, 0, 0, i}) }
	at := int64(0)
	put := func(i byte, name string) {
		at += int64(time.Second)
		d.put(key(i), name, nil, frameRef{at: at}, 300)
	}
	put(1, "a1")
	put(1, "b1")
	put(1, "c1")
	put(2, "a2")
	put(2, "b2")
	put(3, "a3") // 6 names: full
	put(1, "a1") // address 1 answered again: now the most recent
	put(4, "a4") // evicts address 2, the least recently answered (2 names)
	if d.held != 5 || d.evicted != 2 || d.m[key(2)] != nil {
		t.Fatalf("held %d, evicted %d, address 2 kept %v; want 5, 2, false", d.held, d.evicted, d.m[key(2)] != nil)
	}
	var c dnsCandidates
	d.lookup(key(1), at, &c)
	var names []string
	for _, n := range c.names[:c.n] {
		names = append(names, n.qname)
	}
	if got := strings.Join(names, " "); got != "a1 c1 b1" {
		t.Errorf("lookup(address 1) = %q; want a1 c1 b1, the most recently answered first", got)
	}
	// A capacity below maxNamesPerAddr: one address fills it alone.
	d = newDNSMap(2, 24*time.Hour)
	put(1, "a1")
	put(1, "b1")
	put(1, "c1")
	if d.held != 2 || d.evicted != 1 || len(d.m[key(1)].names) != 2 {
		t.Errorf("held %d, evicted %d, names %d; want 2, 1, 2", d.held, d.evicted, len(d.m[key(1)].names))
	}
}

// TestAmbiguousSetsWithNewlineInNameStayApart: a name from a packet may hold a
// newline, so {"a.x\nb.x", "c.x"} and {"a.x", "b.x", "c.x"} are two sets, each
// with its own flow; joined by newlines they were one key, and the second
// set's CNAME then indexed past the first set's names (a panic).
func TestAmbiguousSetsWithNewlineInNameStayApart(t *testing.T) {
	p1, p2 := netip.MustParseAddr("13.107.4.50"), netip.MustParseAddr("13.107.4.51")
	f := newFeed(t, Config{VM: vm})
	answer := func(q string, chain []string, a netip.Addr) {
		f.pkt(17, resolver, 53, vm, 50000, 0, 0, dnsAnswerTTL(t, q, chain, 300, 300, a))
	}
	answer("a.x\nb.x", nil, p1)
	answer("c.x", nil, p1)
	f.conn(50001, p1, 443)
	answer("a.x", nil, p2)
	answer("b.x", nil, p2)
	answer("c.x", []string{"edge.cdn.net"}, p2)
	f.now = f.now.Add(time.Second)
	f.conn(50002, p2, 443)
	run := f.c.Finish()
	if len(run.Ambiguous) != 2 {
		t.Fatalf("ambiguous sets = %d; want 2", len(run.Ambiguous))
	}
	for _, a := range run.Ambiguous {
		if a.Flows != 1 || len(a.Aliases) != len(a.Names) {
			t.Errorf("set %q: flows %d, aliases for %d names; want 1 flow, one alias list per name", a.Names, a.Flows, len(a.Aliases))
		}
	}
}
