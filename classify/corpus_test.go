package classify_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/classify"
	"github.com/phonehome/phonehome/internal/testenv"
)

// corpusDir is the shared corpus of real captures with tshark's truth, found
// beside the repository (see ../shared/corpus/README.md).
const corpusDir = "../../shared/corpus"

type truthFile struct {
	TLS  []truthRecord `json:"tls_client_hellos"`
	HTTP []truthRecord `json:"http_requests"`
	DNS  []truthRecord `json:"dns_responses"`
}

type truthRecord struct {
	Frame       int      `json:"frame"`
	Kind        string   `json:"kind"`
	Transport   string   `json:"transport"`
	IPVersion   int      `json:"ip_version"`
	Flow        string   `json:"flow"`
	Tunneled    bool     `json:"tunneled"`
	InICMPError bool     `json:"in_icmp_error"`
	SNI         string   `json:"sni"`
	Host        string   `json:"host"`
	QName       string   `json:"qname"`
	CNAMEChain  []string `json:"cname_chain"`
	A           []string `json:"a"`
}

// corpusException excuses, in one file, the records of one kind that only
// one side found, with the reason proven from the bytes. What is "missing
// KIND" (tshark found them, phonehome did not) or "extra KIND" (phonehome
// found them, tshark did not). N is how many records: the test fails when the
// count changes, so a new disagreement in an excused file is not hidden, and
// when it drops to zero, so the list stays true.
type corpusException struct {
	file, what string
	n          int
	why        string
}

var corpusExceptions = []corpusException{
	// Out of scope: DNS where phonehome does not look for it.
	{"ndpi__avast_securedns.pcapng", "missing dns", 38, "frames 2, 4, ...: TXT answers from UDP port 443; " +
		"phonehome reads DNS on ports 53, 5353 and 5355 only (a DNS heuristic over every UDP payload would misread " +
		"QUIC on 443), and TXT answers name no address"},
	{"sv__app-layer-protocol-exact__input.pcap", "missing dns", 4, "frame 4 starts cleartext HTTP/2 " +
		"(\"PRI * HTTP/2.0\", prior knowledge) on port 80: DNS over HTTPS without the TLS, the answers in HTTP/2 " +
		"DATA frames; phonehome reads HTTP/1.x heads and DNS on its ports only, and real DoH is encrypted"},
	{"sv__dns-over-http2-post__dns_over_https_POST.pcap", "missing dns", 34, "frame 4 starts cleartext " +
		"HTTP/2 on port 80: DoH POSTs without the TLS, the answers in HTTP/2 DATA frames; phonehome reads HTTP/1.x " +
		"heads and DNS on its ports only, and real DoH is encrypted"},
	{"zeek__dns__dns_notify2.pcap", "missing dns", 1, "frame 3 is a NOTIFY (opcode 4) response, rcode " +
		"Refused: its question is the zone dhcp.lbnl.us, not a lookup; phonehome reads opcode QUERY only"},
	{"zeek__dns__max-compression-depth.pcap", "missing dns", 1, "frame 1 is a response sent from " +
		"1.2.3.4:12345 to port 53 (a hand-made packet: resolvers answer from port 53); phonehome reads responses " +
		"from ports 53, 5353 and 5355. Its 6-deep pointer chain parses: extract's zeek_pointer_chain_six_deep"},

	// Out of scope: decoding that capture leaves out on purpose (see capture's devIPv4Exceptions).
	{"tcpdump__arcnet-rfc1051-arp-icmp-http.pcap", "missing dns", 2, "link type 129, Linux ARCnet: " +
		"not decoded by capture, no Windows VM is captured on ARCnet"},
	{"tcpdump__arcnet-rfc1051-arp-icmp-http.pcap", "missing http", 1, "link type 129, Linux ARCnet: " +
		"not decoded by capture, no Windows VM is captured on ARCnet"},
	{"tcpdump__arcnet-rfc1201-arp-icmp-http.pcap", "missing dns", 2, "link type 129, Linux ARCnet: " +
		"not decoded by capture, no Windows VM is captured on ARCnet"},
	{"tcpdump__arcnet-rfc1201-arp-icmp-http.pcap", "missing http", 1, "link type 129, Linux ARCnet: " +
		"not decoded by capture, no Windows VM is captured on ARCnet"},
	{"zeek__dns-inverse-query.pcap", "missing dns", 1, "link type 10, FDDI: not decoded by capture; and " +
		"the response is an IQUERY (opcode 1), which phonehome would not read either"},

	// phonehome is right, or deliberately more careful.
	{"arkime__socks5-reverse.pcap", "missing http", 2, "reverse SOCKS: 10.0.0.1 opens the connection " +
		"(frame 1, SYN) but the acceptor 10.0.0.2:8855 sends the SOCKS greeting (frame 5) and the requests (frames " +
		"11, 47); phonehome reads requests only from the side that opened the connection: what the far end asks " +
		"for does not say where the near end connects"},
	{"sv__http-multiple-cl__input.pcap", "missing http", 1, "frame 5: Content-Length 11, then 93: where " +
		"the next request starts depends on which one a server believes (93 reaches /bad.php as tshark did, 11 " +
		"reaches /evil.php); RFC 9112 section 6.3 says reject. phonehome takes the first head's Host and reads no " +
		"further (HTTPRequest.Ambiguous)"},
	{"zeek__http__261__variant-02-cl_uint64max.pcap", "missing http", 1, "frame 4: Content-Length " +
		"18446744073709551615 overflows, so the smuggled GET after the head exists only for servers that misread " +
		"it; phonehome takes the POST's Host (same name) and reads no further"},
	{"zeek__http__261__variant-03-cl_negative.pcap", "missing http", 1, "frame 4: Content-Length -1 is " +
		"invalid (RFC 9110 section 8.6), so the smuggled GET after the head exists only for servers that misread " +
		"it; phonehome takes the POST's Host (same name) and reads no further"},
	{"zeek__http__261__variant-04-te_cl_desync.pcap", "missing http", 1, "frame 4: Transfer-Encoding " +
		"chunked and Content-Length 50 together: RFC 9112 section 6.1 has the server close the connection after " +
		"the request, so the GET after the chunked body is not served; phonehome takes the POST's Host (same name) " +
		"and reads no further"},
	{"zeek__http__261__variant-10-multi_value_te.pcap", "missing http", 1, "frame 4: Transfer-Encoding " +
		"\"chunked, identity\" does not end in chunked, so the length is unknown (RFC 9112 section 6.3: reject); " +
		"phonehome takes the POST's Host (same name) and reads no further"},

	{"arkime__https-connect.pcap", "extra http", 1, "frame 4: CONNECT ts01-b.cloudsink.net:443 without a " +
		"Host field, which tshark records with an empty host; the authority-form target names the host (RFC 9112 " +
		"section 3.2.3)"},
	{"sv__http-connect__http-connect-fail__input.pcap", "extra http", 1, "frame 5: CONNECT abc:443 without " +
		"a Host field, which tshark records with an empty host; the authority-form target names the host"},
	{"sv__http-connect__http-connect-tls__input.pcap", "extra http", 1, "frame 5: CONNECT abc:443 without " +
		"a Host field, which tshark records with an empty host; the authority-form target names the host"},
	{"zeek__doc__traces__quickstart.pcap", "extra http", 1, "frame 14: \"WEIRD / HTTP/1.1\" with Host " +
		"zeek.org, an extension method (RFC 9110 section 9: a method is a token) tshark's dissector does not know"},
	{"zeek__http__putty-upload.pcap", "extra http", 1, "frame 16: POST /upload with Content-Length 1648120, " +
		"of which about 82 kB are captured before the RST (frame 30); tshark waits for the whole body and never " +
		"dissects the request, phonehome reads the head as soon as it is complete"},
	{"ndpi__ookla.pcap", "extra tls", 1, "frame 88: a ClientHello for spd-pub-mi-01-01.fastwebnet.it on TCP " +
		"port 8080, which tshark does not try as TLS (tshark -d tcp.port==8080,tls shows it)"},
	{"sv__transform-base64-7296__input.pcap", "extra http", 1, "a fuzzed capture: frame 8's seconds say " +
		"2023-12-08 (and its fraction, 1011041 µs, is read on as damage), so in capture time every flow of 2021 " +
		"is idle and ends there; frames 53-58 resend frames 5-10 (tshark: spurious retransmissions), whose " +
		"request at sequence 1 starts the flow of port 57226 anew and is read again"},
	{"ndpi__ja3_lots_of_cipher_suites_2_anon.pcap", "missing tls", 1, "the ClientHello is inside GTP-U between " +
		"132.190.244.12 and 151.121.185.44, both public: a tunnel across the internet is a host's own traffic and " +
		"is kept as a flow to its public end, not taken off (capture.Decode)"},
	{"zeek__tunnels__gtp__gtp1_gn_normal_incl_fragmentation.pcap", "missing http", 1, "the request is inside " +
		"GTP-U to 63.94.149.181, public: a tunnel across the internet is kept as a flow to its public end, not " +
		"taken off (capture.Decode)"},
}

// corpusUnrequested lists the files with DNS answers that matched no captured
// query of a client whose queries the capture holds (Run.DNS.Unrequested: not
// used as evidence), each with its count and the reason from the bytes. The
// test fails when a count moves, as for corpusExceptions.
var corpusUnrequested = []corpusException{
	{"sv__dns__dns-udp-unsolicited-response__dns-response-2x.pcap", "unrequested dns", 1, "frame 2 answers ID " +
		"0x9941 to 10.16.1.11:53679, which only ever asked 0x99ab (frame 1, answered by frame 3): an unsolicited " +
		"response, as the capture's name says"},
	{"sv__dns__dns-incomplete__input.pcap", "unrequested dns", 2, "DNS over TCP to port 5353, hand-made: frame 7 " +
		"answers 0x1032 google.com A when only 0x1133 google.net TXT was asked (frame 5); frame 13 answers 0x1032 " +
		"google.com A to the query of frames 9 and 11, 0x1032 google.com TXT: another type"},
	{"sv__dns-tcp-ts-gap__input.pcap", "unrequested dns", 2, "frame 8 answers ID 1, whose query is the 34 client " +
		"bytes from seq 870718863 that the capture lacks (the client's ACK of frame 7 and its next segment, frame " +
		"10, start 34 bytes apart); frame 11 answers ID 2, whose query (frame 10) lies after that gap, which TCP " +
		"reassembly does not read past"},
}

// key says what must agree for one record: kind, flow as "proto src -> dst",
// and the name with its evidence.
func truthKeys(t truthRecord, kind string) (string, bool) {
	// Tunnelled records count as any other: capture takes the tunnels off,
	// and the truth's addresses are the innermost header's, as ours.
	if t.IPVersion != 4 || t.InICMPError {
		return "", false
	}
	switch kind {
	case "tls":
		// kind quic (QUIC Initials) and kind tls over UDP (DTLS, e.g. RDP's
		// UDP transport in ndpi__rdp2.pcap) are out of scope for now:
		// phonehome reads ClientHellos over TCP only.
		if t.Kind != "tls" || t.Transport == "udp" || t.SNI == "" {
			return "", false
		}
		return "tls " + t.Flow + " " + norm(t.SNI), true
	case "http":
		if t.Kind != "http" {
			return "", false
		}
		return "http " + t.Flow + " " + norm(stripPort(t.Host)), t.Host != ""
	case "dns":
		return "dns " + t.Flow + " " + norm(t.QName) + " cname=" + normList(t.CNAMEChain) + " a=" + sortedList(t.A), t.QName != ""
	}
	return "", false
}

// norm lower-cases ASCII only, as phonehome does, and drops a trailing dot.
func norm(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return strings.TrimSuffix(string(b), ".")
}

// asTshark renders a name read from the wire as the truth files hold it.
// tshark 4.0 prints a DNS name's bytes as UTF-8, each ill-formed sequence
// replaced by one U+FFFD: a lead byte and the continuation bytes (0x80-0xbf)
// its bit pattern announces in the original, up-to-6-byte UTF-8 (0xc0-0xdf:
// 1, 0xe0-0xef: 2, 0xf0-0xf7: 3, 0xf8-0xfb: 4, 0xfc-0xfd: 5), whichever are
// present. That rule reproduces all 212 names of the iodine tunnel capture,
// whose labels are binary; Python's and Go's replacement rules do not. The
// names are then the same on both sides.
func asTshark(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || size > 1 {
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		b.WriteRune(utf8.RuneError)
		need := 0
		switch c := s[i]; {
		case c >= 0xfe:
		case c >= 0xfc:
			need = 5
		case c >= 0xf8:
			need = 4
		case c >= 0xf0:
			need = 3
		case c >= 0xe0:
			need = 2
		case c >= 0xc0:
			need = 1
		}
		i++
		for ; need > 0 && i < len(s) && s[i]&0xc0 == 0x80; need-- {
			i++
		}
	}
	return b.String()
}

func normList(l []string) string {
	var out []string
	for _, s := range l {
		out = append(out, norm(s))
	}
	return strings.Join(out, ",")
}

func sortedList(l []string) string {
	l = append([]string(nil), l...)
	sort.Strings(l)
	return strings.Join(l, ",")
}

func stripPort(h string) string {
	h = strings.TrimSpace(h)
	if strings.HasPrefix(h, "[") {
		if i := strings.Index(h, "]"); i > 0 {
			return h[1:i]
		}
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.Count(h, ":") == 1 {
		return h[:i]
	}
	return h
}

func observationKey(o *classify.Observation) string {
	flow := fmt.Sprintf("%s %s:%d -> %s:%d", o.Proto, o.Src, o.SPort, o.Dst, o.DPort)
	switch o.Kind {
	case "dns":
		var a []string
		for _, x := range o.A {
			a = append(a, x.String())
		}
		var chain []string
		for _, c := range o.CNAMEs {
			chain = append(chain, asTshark(c))
		}
		return "dns " + flow + " " + asTshark(o.Name) + " cname=" + strings.Join(chain, ",") + " a=" + sortedList(a)
	}
	return o.Kind + " " + flow + " " + asTshark(o.Name)
}

// TestCorpusAgreement runs every clean capture of the shared corpus through
// capture and classify and checks that every IPv4 DNS response, TLS SNI and
// HTTP Host tshark found (outside ICMP errors; inside tunnels too, on the
// innermost addresses) is found on the
// same flow with the same name, CNAME chain and A answers, as many times as
// tshark found it, and that phonehome finds nothing tshark did not. Each
// disagreement must be listed, with its count, in corpusExceptions.
func TestCorpusAgreement(t *testing.T) {
	dev := filepath.Join(corpusDir, "dev")
	files, _ := filepath.Glob(filepath.Join(dev, "*"))
	if len(files) == 0 {
		testenv.SkipOrFail(t, "no shared corpus at %s: the agreement test needs ../shared/corpus beside the repository; put the shared directory there", corpusDir)
	}
	ex := newExceptionBook(t, "corpus", corpusExceptions)
	unrequested := newExceptionBook(t, "unrequested", corpusUnrequested)
	var dns classify.DNSAnswers
	type tally struct{ want, got, extra int }
	perKind := map[string]*tally{"tls": {}, "http": {}, "dns": {}}
	filesWithRecords := 0
	for _, path := range files {
		name := filepath.Base(path)
		raw, err := os.ReadFile(filepath.Join(corpusDir, "truth", "dev", name+".json"))
		if err != nil {
			continue
		}
		want, _ := truthRecords(t, name, raw)
		got := map[string]int{}
		cfg := classify.Config{OnObservation: func(o *classify.Observation) { got[observationKey(o)]++ }}
		run, err := classifyFile(path, cfg)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		dns.Matched += run.DNS.Matched
		dns.OneSided += run.DNS.OneSided
		dns.Unrequested += run.DNS.Unrequested
		unrequested.checkCount(name, "unrequested dns", int(run.DNS.Unrequested), "")
		if len(want) > 0 {
			filesWithRecords++
		}
		a := compareRecords(want, got)
		for kind, k := range perKind {
			k.want += a.wanted[kind]
			k.got += a.matched[kind]
			k.extra += a.extra[kind]
		}
		ex.check(name, a)
		if testing.Verbose() {
			for _, k := range a.missing {
				t.Logf("%s: missing %s", name, k)
			}
			for _, k := range a.extras {
				t.Logf("%s: extra %s", name, k)
			}
		}
	}
	for _, kind := range []string{"tls", "http", "dns"} {
		k := perKind[kind]
		t.Logf("agreement %-4s %5d of %5d tshark records (%.2f%%), %d found by phonehome only",
			kind, k.got, k.want, 100*float64(k.got)/float64(max(k.want, 1)), k.extra)
	}
	t.Logf("%d captures, %d with IPv4 names in the truth; %d records excused by %d exceptions",
		len(files), filesWithRecords, ex.excused, len(corpusExceptions))
	t.Logf("DNS answers: %d matched a captured query, %d taken without one (no query from the client seen yet), "+
		"%d unrequested (not evidence)", dns.Matched, dns.OneSided, dns.Unrequested)
	ex.report()
	unrequested.report()
}

// truthRecords reads a truth file's records that must agree (see truthKeys),
// counted by key, with the frames each was found in.
func truthRecords(t *testing.T, name string, raw []byte) (map[string]int, map[string][]int) {
	t.Helper()
	var truth truthFile
	if err := json.Unmarshal(raw, &truth); err != nil {
		t.Fatalf("%s: truth: %v", name, err)
	}
	want, frames := map[string]int{}, map[string][]int{}
	for kind, recs := range map[string][]truthRecord{"tls": truth.TLS, "http": truth.HTTP, "dns": truth.DNS} {
		for _, r := range recs {
			if k, ok := truthKeys(r, kind); ok {
				want[k]++
				frames[k] = append(frames[k], r.Frame)
			}
		}
	}
	return want, frames
}

// agreement compares one file's records with its truth. Keys start with
// their kind ("dns ...").
type agreement struct {
	wanted, matched, extra map[string]int    // per kind: in the truth, found of those, found beyond
	count                  map[string]int    // per "missing KIND" or "extra KIND": records
	example                map[string]string // per "missing KIND" or "extra KIND": the smallest key
	missing, extras        []string          // keys, sorted
}

func compareRecords(want, got map[string]int) agreement {
	a := agreement{wanted: map[string]int{}, matched: map[string]int{}, extra: map[string]int{},
		count: map[string]int{}, example: map[string]string{}}
	note := func(what, k string, n int) {
		a.count[what] += n
		if a.example[what] == "" || k < a.example[what] {
			a.example[what] = k
		}
	}
	for k, n := range want {
		kind := k[:strings.IndexByte(k, ' ')]
		m := min(n, got[k])
		a.wanted[kind] += n
		a.matched[kind] += m
		if m < n {
			note("missing "+kind, k, n-m)
			a.missing = append(a.missing, k)
		}
	}
	for k, n := range got {
		if n > want[k] {
			kind := k[:strings.IndexByte(k, ' ')]
			a.extra[kind] += n - want[k]
			note("extra "+kind, k, n-want[k])
			a.extras = append(a.extras, k)
		}
	}
	sort.Strings(a.missing)
	sort.Strings(a.extras)
	return a
}

// exceptionBook holds a list of exceptions against the files read, so that
// every disagreement is excused with its exact count, and every exception is
// still needed.
type exceptionBook struct {
	byKey    map[[2]string]corpusException
	seen     map[[2]string]bool
	excused  int
	failures []string
	t        *testing.T
}

func newExceptionBook(t *testing.T, what string, list []corpusException) *exceptionBook {
	b := &exceptionBook{byKey: map[[2]string]corpusException{}, seen: map[[2]string]bool{}, t: t}
	for _, e := range list {
		k := [2]string{e.file, e.what}
		if _, dup := b.byKey[k]; dup || e.n <= 0 || e.why == "" {
			t.Errorf("%s exception %s %s: duplicate, or without a count or a reason", what, e.file, e.what)
		}
		b.byKey[k] = e
	}
	return b
}

var disagreementKinds = []string{"missing tls", "missing http", "missing dns", "extra tls", "extra http", "extra dns"}

// check holds one file's disagreements against its exceptions.
func (b *exceptionBook) check(name string, a agreement) {
	for _, what := range disagreementKinds {
		b.checkCount(name, what, a.count[what], a.example[what])
	}
}

// checkCount holds one file's count of one kind against its exception.
func (b *exceptionBook) checkCount(name, what string, n int, example string) {
	ex, ok := b.byKey[[2]string{name, what}]
	b.seen[[2]string{name, what}] = true
	switch {
	case ok && n == ex.n:
		b.excused += ex.n
	case ok && n == 0:
		b.fail("%s: %s: none now; drop the stale exception %q", name, what, ex.why)
	case ok:
		b.fail("%s: %s: %d records; the exception says %d (%s), e.g. %s", name, what, n, ex.n, ex.why, example)
	case n > 0:
		b.fail("%s: %s: %d records, e.g. %s", name, what, n, example)
	}
}

// refused notes a file that is not read at all: its exceptions are stale.
func (b *exceptionBook) refused(name string) {
	for _, what := range disagreementKinds {
		b.seen[[2]string{name, what}] = true
		if e, ok := b.byKey[[2]string{name, what}]; ok {
			b.fail("%s: %s: refused as not a capture; drop the stale exception %q", name, what, e.why)
		}
	}
}

func (b *exceptionBook) fail(format string, args ...any) {
	b.failures = append(b.failures, fmt.Sprintf(format, args...))
}

// report fails the test for every disagreement not excused and every
// exception not used.
func (b *exceptionBook) report() {
	for k, e := range b.byKey {
		if !b.seen[k] {
			b.fail("%s: %s: no such capture or truth; drop the stale exception %q", e.file, e.what, e.why)
		}
	}
	sort.Strings(b.failures)
	for _, f := range b.failures {
		b.t.Error(f)
	}
}

func classifyFile(path string, cfg classify.Config) (*classify.Run, error) {
	src, err := capture.OpenFiles([]string{path}, capture.Options{})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	c := classify.New(cfg)
	var p capture.Packet
	for {
		err := src.Next(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		c.Add(&p)
	}
	return c.Finish(), nil
}
