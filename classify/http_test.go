package classify

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
)

// TestHTTPPathsKeptAsSent: request paths are case-sensitive (RFC 3986
// section 6.2.2.1) and a trailing dot is part of their last segment, so a
// path is kept byte for byte, where a host name is lower-cased and loses its
// trailing dot.
func TestHTTPPathsKeptAsSent(t *testing.T) {
	pub := netip.MustParseAddr("23.46.237.40")
	long := "/" + strings.Repeat("AbC", 100) // over 255 bytes, capitals
	paths := []string{"/Windows/Update.CAB.", "/windows/update.cab", "/a/B?Q=1&x=Y", "/dir./", long}
	var segs [][]byte
	for _, p := range paths {
		segs = append(segs, []byte("GET "+p+" HTTP/1.1\r\nHost: Download.WindowsUpdate.com.\r\n\r\n"))
	}
	var seen []string
	f := newFeed(t, Config{VM: vm, OnObservation: func(o *Observation) { seen = append(seen, o.Path) }})
	f.conn(50002, pub, 80, segs...)
	got := f.flows()[pub.String()+":80"]
	if got.HTTPHost != "download.windowsupdate.com" {
		t.Errorf("flow Host = %q; want download.windowsupdate.com", got.HTTPHost)
	}
	if !slices.Equal(seen, paths) || !slices.Equal(got.HTTPPaths, paths) {
		t.Errorf("paths read = %q, flow paths = %q; want %q", seen, got.HTTPPaths, paths)
	}
}

// TestInternerKeepsPathsAsSent: intern keeps bytes as they are and, like
// name, allocates only the first time it sees them, whatever their length.
func TestInternerKeepsPathsAsSent(t *testing.T) {
	in := newInterner(16)
	long := []byte("/" + strings.Repeat("AbC", 100))
	for _, tt := range []struct{ in, want string }{
		{"/Windows/Update.CAB.", "/Windows/Update.CAB."},
		{"/x..", "/x.."},
		{string(long), string(long)},
	} {
		if got := in.intern([]byte(tt.in)); got != tt.want {
			t.Errorf("intern(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
	if got := in.name([]byte("WWW.Example.COM..")); got != "www.example.com" {
		t.Errorf("name(WWW.Example.COM..) = %q; want www.example.com", got)
	}
	if n := testing.AllocsPerRun(100, func() { in.intern(long) }); n != 0 {
		t.Errorf("allocations per intern of a %d-byte path seen before = %v; want 0", len(long), n)
	}
}

// TestLongPathsAllocateNothing: a request whose path is over 255 bytes and
// has capitals allocates nothing once its path has been seen.
func TestLongPathsAllocateNothing(t *testing.T) {
	pub := netip.MustParseAddr("23.46.237.40")
	req := []byte("GET /" + strings.Repeat("AbC", 100) + " HTTP/1.1\r\nHost: a.example\r\n\r\n")
	f := newFeed(t, Config{VM: vm, ClosedLinger: time.Second})
	port := uint16(40000)
	connection := func() {
		port++
		f.pkt(6, vm, port, pub, 80, capture.TCPSyn, 100, nil)
		f.pkt(6, vm, port, pub, 80, capture.TCPAck, 101, req)
		f.pkt(6, vm, port, pub, 80, capture.TCPRst, uint32(101+len(req)), nil)
		f.now = f.now.Add(2 * time.Second)
	}
	for range 50 {
		connection()
	}
	if n := testing.AllocsPerRun(200, connection); n != 0 {
		t.Errorf("allocations per connection with a long path (3 packets) = %v; want 0", n)
	}
}

// playings returns whole as one segment and as one segment per byte.
func playings(whole []byte) map[string][][]byte {
	var perByte [][]byte
	for i := range whole {
		perByte = append(perByte, whole[i:i+1])
	}
	return map[string][][]byte{"one_segment": {whole}, "one_byte_per_segment": perByte}
}

// TestHostDuplicated: a request with more than one Host field (RFC 9112
// section 3.2: a server must reject it) marks the flow; it names the flow by
// its first Host only if every Host field names the same host, else by
// nothing (DNS evidence, if any, names the flow instead); and nothing after
// it is read.
func TestHostDuplicated(t *testing.T) {
	pub := netip.MustParseAddr("23.46.237.40")
	const next = "GET /next HTTP/1.1\r\nHost: a.example\r\n\r\n"
	tests := []struct {
		name      string
		dns       bool // a DNS answer for the server names it dns.example first
		reqs      string
		wantName  string
		wantEv    string
		wantHost  string
		wantPaths []string
		wantObs   []string // http observations, "name path"
	}{
		{"hosts_agree", false, "GET /first HTTP/1.1\r\nHost: a.example:80\r\nHost: A.Example.\r\n\r\n" + next,
			"a.example", EvidenceHTTPHost, "a.example", []string{"/first"}, []string{"a.example /first"}},
		{"hosts_disagree", false, "GET /first HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n" + next,
			"", EvidenceNone, "", nil, nil},
		{"hosts_disagree_dns_names_it", true, "GET /first HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n" + next,
			"dns.example", EvidenceDNS, "", nil, nil},
		{"second_host_empty", false, "GET /first HTTP/1.1\r\nHost: a.example\r\nHost:\r\n\r\n" + next,
			"", EvidenceNone, "", nil, nil},
		{"after_a_request_that_named_the_flow", false, "GET /one HTTP/1.1\r\nHost: a.example\r\n\r\n" +
			"GET /first HTTP/1.1\r\nHost: b.example\r\nHost: a.example\r\n\r\n" + next,
			"a.example", EvidenceHTTPHost, "a.example", []string{"/one"}, []string{"a.example /one"}},
	}
	for _, tt := range tests {
		for how, segs := range playings([]byte(tt.reqs)) {
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				var obs []string
				f := newFeed(t, Config{VM: vm, OnObservation: func(o *Observation) {
					if o.Kind == "http" {
						obs = append(obs, o.Name+" "+o.Path)
					}
				}})
				if tt.dns {
					f.dns(vm, "dns.example", nil, pub)
				}
				f.conn(50002, pub, 80, segs...)
				got := f.flows()[pub.String()+":80"]
				if got.Name != tt.wantName || got.Evidence != tt.wantEv || got.HTTPHost != tt.wantHost {
					t.Errorf("name, evidence, Host = %q, %q, %q; want %q, %q, %q", got.Name, got.Evidence, got.HTTPHost,
						tt.wantName, tt.wantEv, tt.wantHost)
				}
				if !slices.Equal(got.HTTPPaths, tt.wantPaths) || !slices.Equal(obs, tt.wantObs) {
					t.Errorf("flow paths = %q, observations = %q; want %q, %q", got.HTTPPaths, obs, tt.wantPaths, tt.wantObs)
				}
				if want := []string{AnomalyHostDuplicated}; !slices.Equal(got.Anomalies, want) {
					t.Errorf("anomalies = %q; want %q", got.Anomalies, want)
				}
				var names []string
				if tt.wantName != "" {
					names = []string{tt.wantName}
				}
				want := []Anomaly{{Kind: AnomalyHostDuplicated, What: anomalyKinds[2].what, Flows: 1, Names: names}}
				if g := f.c.run.Anomalies; !anomaliesEqual(g, want) {
					t.Errorf("run anomalies = %+v; want %+v", g, want)
				}
			})
		}
	}
}

// TestHostMismatch: a request whose target is absolute-form (or CONNECT's
// authority-form) is for the target's host, which a server uses in place of
// the Host field (RFC 9112 section 3.2.2): that host names the flow, the
// path is the one in the target, and a Host field that names another host
// marks the flow. The connection is read on: its framing is sound.
func TestHostMismatch(t *testing.T) {
	pub := netip.MustParseAddr("23.46.237.40")
	const next = "GET /next HTTP/1.1\r\nHost: a.example\r\n\r\n"
	tests := []struct {
		name      string
		reqs      string
		wantName  string
		wantEv    string
		wantPaths []string
		wantObs   []string
		flagged   bool
	}{
		{"absolute_form_other_host", "GET http://a.example/x HTTP/1.1\r\nHost: b.example\r\n\r\n" + next,
			"a.example", EvidenceHTTPHost, []string{"/x", "/next"}, []string{"a.example /x", "a.example /next"}, true},
		{"absolute_form_same_host", "GET http://A.example:80/x HTTP/1.1\r\nHost: a.example.\r\n\r\n" + next,
			"a.example", EvidenceHTTPHost, []string{"/x", "/next"}, []string{"a.example /x", "a.example /next"}, false},
		{"absolute_form_without_host_field", "GET http://a.example HTTP/1.1\r\n\r\n",
			"a.example", EvidenceHTTPHost, []string{"/"}, []string{"a.example /"}, false},
		{"absolute_form_query_only", "GET http://a.example?q=Y HTTP/1.1\r\nHost: a.example\r\n\r\n",
			"a.example", EvidenceHTTPHost, []string{"/?q=Y"}, []string{"a.example /?q=Y"}, false},
		// A later request for another host through the same connection (a proxy's) is read, not the flow's.
		{"second_request_other_host", "GET /one HTTP/1.1\r\nHost: a.example\r\n\r\nGET http://c.example/two HTTP/1.1\r\nHost: a.example\r\n\r\n" + next,
			"a.example", EvidenceHTTPHost, []string{"/one", "/next"}, []string{"a.example /one", "c.example /two", "a.example /next"}, true},
		{"connect_other_host", "CONNECT a.example:443 HTTP/1.1\r\nHost: b.example:443\r\n\r\n",
			"a.example", EvidenceHTTPHost, []string{"a.example:443"}, []string{"a.example a.example:443"}, true},
	}
	for _, tt := range tests {
		for how, segs := range playings([]byte(tt.reqs)) {
			t.Run(tt.name+"/"+how, func(t *testing.T) {
				var obs []string
				f := newFeed(t, Config{VM: vm, OnObservation: func(o *Observation) {
					if o.Kind == "http" {
						obs = append(obs, o.Name+" "+o.Path)
					}
				}})
				f.conn(50002, pub, 80, segs...)
				got := f.flows()[pub.String()+":80"]
				if got.Name != tt.wantName || got.Evidence != tt.wantEv || got.HTTPHost != "a.example" {
					t.Errorf("name, evidence, Host = %q, %q, %q; want %q, %q, a.example", got.Name, got.Evidence, got.HTTPHost,
						tt.wantName, tt.wantEv)
				}
				if !slices.Equal(got.HTTPPaths, tt.wantPaths) || !slices.Equal(obs, tt.wantObs) {
					t.Errorf("flow paths = %q, observations = %q; want %q, %q", got.HTTPPaths, obs, tt.wantPaths, tt.wantObs)
				}
				var want []string
				var wantRun []Anomaly
				if tt.flagged {
					want = []string{AnomalyHostMismatch}
					wantRun = []Anomaly{{Kind: AnomalyHostMismatch, What: anomalyKinds[3].what, Flows: 1, Names: []string{tt.wantName}}}
				}
				if !slices.Equal(got.Anomalies, want) {
					t.Errorf("anomalies = %q; want %q", got.Anomalies, want)
				}
				if g := f.c.run.Anomalies; !anomaliesEqual(g, wantRun) {
					t.Errorf("run anomalies = %+v; want %+v", g, wantRun)
				}
			})
		}
	}
}
