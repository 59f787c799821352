package classify_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/classify"
	"github.com/phonehome/phonehome/internal/testenv"
)

// malformedExceptions excuses, per damaged file, the records that only one
// side found, with the reason proven from the bytes: "missing KIND" (tshark
// recovers them, phonehome does not) or "extra KIND" (phonehome finds them,
// tshark does not), with the number of records, as in corpusExceptions. The
// test fails when a count changes, so a new disagreement in an excused file
// is not hidden, and when it drops to zero, so the list stays true.
var malformedExceptions = []corpusException{
	// Placeholders: tshark's text for a name it could not read is not a name.
	{"tcpdump__dns-badcookie.pcap", "missing dns", 2, "frames 2 and 4 answer a question for the root " +
		"(name 00, type SOA), which tshark prints as its placeholder \"<Root>\"; the root is not a host name and " +
		"neither answer holds an A record (frame 2: rcode BADCOOKIE, no answers; frame 4: the root's SOA)"},
	{"tcpdump__dns-badvers.pcap", "missing dns", 2, "frames 2 and 4 answer a question for the root " +
		"(name 00, type TXT), which tshark prints as its placeholder \"<Root>\"; the root is not a host name and " +
		"neither holds an answer record"},
	{"tcpdump__dns-badlabel.pcap", "missing dns", 1, "frame 1 (flags 0xffef: opcode 15, rcode 15; " +
		"QDCOUNT 64259) starts with a question name of 1- and 3-byte labels (01 fb 03 01 fb ...) that runs past " +
		"255 bytes, which tshark prints as its placeholder \"<Name too long>\": not a name, and RFC 1035 makes the " +
		"message malformed, so phonehome reads none of it"},
	{"tcpdump__dns_fwdptr.pcap", "missing dns", 1, "frame 1 (flags 0xffef: opcode 15, rcode 15; QDCOUNT " +
		"64259) starts with a question name of 1- and 3-byte labels (01 fb 03 01 fb ...) that runs past 255 " +
		"bytes, which tshark prints as its placeholder \"<Name too long>\": not a name, and RFC 1035 makes the " +
		"message malformed, so phonehome reads none of it"},
	{"ndpi__malformed_dns.pcap", "missing dns", 4, "frames 2, 3, 5 and 6 (the same response) answer " +
		"www.xt.com with A 66.66.66.66 and a CNAME whose target, like the second question's name, is a run of " +
		"labels ('?' bytes) over 255 bytes long; tshark keys the record with its placeholder \"<Name too long>\" " +
		"as the CNAME chain, which no reader can match, and phonehome finds the names over RFC 1035's limit and " +
		"reads none of the message (a resolver rejects it as malformed)"},

	// Malformed messages: tshark reports what it read before its exception; a resolver rejects them.
	{"ndpi__fuzz-2006-06-26-2594.pcap", "missing dns", 13, "a fuzzer's mutations of one PTR response " +
		"(1.0.0.127.in-addr.arpa -> localhost; none holds an A record). Frames 29 (UDP 9587 -> 156) and 355 (UDP " +
		"117 -> 2769) are not from a DNS port, and phonehome reads DNS on ports 53, 5353 and 5355 only. The 11 " +
		"others are malformed, and tshark reports the question it read before \"Malformed Packet\": a question " +
		"label of extended type or over 63 bytes, printed as the placeholder \"<Unknown extended label>\" " +
		"(frames 246, 288, 536, 569, 671); QDCOUNT 9843 or 100 with one question present (frames 320, 452); " +
		"ANCOUNT 37 or 513 with one answer present (frames 280, 577); an answer whose RDLENGTH, 9587, runs past " +
		"the message (frame 409); an answer owner of 0xaa bytes, an extended label (frame 590)"},
	{"ndpi__fuzz-2006-09-29-28586.pcap", "missing http", 1, "frames 19-20: the request head's field lines " +
		"hold NUL bytes (a fuzzer's \"%s\\x00\" insertions): \"Host:%s\\x002.20.3.5\", and Content-Type too. " +
		"tshark cuts the Host value at the NUL and reports \"%s\", which is not a host; RFC 9110 section 5.5 " +
		"forbids NUL in a field value (servers answer 400), so phonehome rejects the head"},

	{"ndpi__tls_invalid_reads.pcap", "missing tls", 1, "frame 12 (in GTP-U) is a ClientHello for " +
		"e.crashlytics.com whose extension block (93 bytes) is garbage from its fifth extension on: ALPN (type 16, " +
		"11 bytes) opens with a protocol list length of 0xb889, and the next extension, type 0x47e3, claims 0x4fc6 " +
		"bytes. tshark reports the SNI it read before the damage; extract, as crypto/tls, takes a ClientHello only " +
		"when its extensions fill the message exactly"},

	// Out of scope, as in the dev corpus.
	{"zeek__dns__max-compression-depth.pcap", "missing dns", 1, "frame 1 is a response sent from " +
		"1.2.3.4:12345 to port 53 (a hand-made packet: resolvers answer from port 53); phonehome reads responses " +
		"from ports 53, 5353 and 5355, as corpusExceptions says for the same file in dev/. Its 6-deep pointer " +
		"chain parses: extract's zeek_pointer_chain_six_deep"},
}

// TestMalformedCorpus runs every damaged capture of the shared corpus through
// capture and classify: no panic, no hang, bounded memory; every name tshark
// still recovers (IPv4, outside ICMP errors; inside tunnels too) is recovered on the
// same flow, as many times, and phonehome finds nothing tshark does not,
// unless malformedExceptions says why.
func TestMalformedCorpus(t *testing.T) {
	dir := filepath.Join(corpusDir, "malformed")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		testenv.SkipOrFail(t, "no shared corpus at %s: the damaged-capture test needs ../shared/corpus beside the repository; put the shared directory there", corpusDir)
	}
	ex := newExceptionBook(t, "malformed", malformedExceptions)
	recovered, wanted, extras, opened, refused := 0, 0, 0, 0, 0
	for _, path := range files {
		name := filepath.Base(path)
		want, frames := map[string]int{}, map[string][]int{}
		if raw, err := os.ReadFile(filepath.Join(corpusDir, "truth", "malformed", name+".json")); err == nil {
			want, frames = truthRecords(t, name, raw)
		}
		got := map[string]int{}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		done := make(chan error, 1)
		go func() {
			done <- classifyDamaged(path, classify.Config{OnObservation: func(o *classify.Observation) {
				got[asTsharkText(observationKey(o))]++
			}})
		}()
		var err error
		select {
		case err = <-done:
		case <-time.After(60 * time.Second):
			t.Fatalf("%s: still reading after a minute: a hang", name)
		}
		runtime.ReadMemStats(&after)
		if grown := int64(after.TotalAlloc - before.TotalAlloc); grown > 256<<20 {
			t.Errorf("%s: allocated %d MB; want a bounded amount", name, grown>>20)
		}
		if err != nil {
			refused++
			if !strings.Contains(err.Error(), name) {
				t.Errorf("%s: error %q does not name the file", name, err)
			}
			ex.refused(name)
			continue
		}
		opened++
		a := compareRecords(want, got)
		for kind := range a.wanted {
			wanted += a.wanted[kind]
			recovered += a.matched[kind]
		}
		for _, n := range a.extra {
			extras += n
		}
		ex.check(name, a)
		if testing.Verbose() {
			for _, k := range a.missing {
				t.Logf("%s: missing %s (frames %v)", name, k, frames[k])
			}
			for _, k := range a.extras {
				t.Logf("%s: extra %s", name, k)
			}
		}
	}
	t.Logf("%d damaged captures: %d read (to their damage), %d refused as not a capture; %d of %d names tshark recovers are recovered, "+
		"%d found by phonehome only; %d records excused by %d exceptions",
		len(files), opened, refused, recovered, wanted, extras, ex.excused, len(malformedExceptions))
	ex.report()
}

// asTsharkText renders control and format characters the way tshark 4.0
// prints them in a field (its format_text), after asTshark's handling of
// ill-formed UTF-8: BEL, BS, HT, LF, VT, FF and CR as \a \b \t \n \v \f \r,
// other C0 controls and DEL as three octal digits (\001), C1 controls and
// format characters as \u and four upper-case hex digits (\u0085, \u202E);
// a backslash stays as it is. Checked against tshark 4.0.17 with hand-made
// DNS names holding each kind (see ndpi__dns-invalid-chars.pcap's
// "www.allyourbasesare\001\002\003ongto.cn"). Flows hold none of these
// characters, so a whole observation key can go through it.
func asTsharkText(s string) string {
	s = asTshark(s)
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 7 && r <= 13:
			b.WriteByte('\\')
			b.WriteByte("abtnvfr"[r-7])
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\%03o", r)
		case unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r):
			fmt.Fprintf(&b, "\\u%04X", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// classifyDamaged is classifyFile for a damaged capture: damage ends the
// file (reported by the FileSet), and the names before it still count.
func classifyDamaged(path string, cfg classify.Config) error {
	src, err := capture.OpenFiles([]string{path}, capture.Options{})
	if err != nil {
		return err
	}
	defer src.Close()
	c := classify.New(cfg)
	var p capture.Packet
	for src.Next(&p) == nil {
		c.Add(&p)
	}
	c.Finish()
	return nil
}

// TestTCPUrgentCorpus reads suricata-verify's tcp-urgp-01-oob capture: a GET
// whose path holds an urgent byte ("/malic", "X", "ious"); Linux's server
// read /malicious. The flow is marked, and no path or Host read.
func TestTCPUrgentCorpus(t *testing.T) {
	path := filepath.Join(corpusDir, "malformed", "sv__tcp-urgp-01-oob__tcp-urgent1.pcap")
	if _, err := os.Stat(path); err != nil {
		testenv.SkipOrFail(t, "no shared corpus at %s: the urgent-data test needs ../shared/corpus beside the repository", corpusDir)
	}
	src, err := capture.OpenFiles([]string{path}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var flows []string
	c := classify.New(classify.Config{OnFlow: func(r *classify.FlowRecord) {
		flows = append(flows, r.Dst.String()+":"+strconv.Itoa(int(r.DPort))+" host="+r.HTTPHost+" paths="+
			strings.Join(r.HTTPPaths, ",")+" anomalies="+strings.Join(r.Anomalies, ","))
	}})
	var p capture.Packet
	for src.Next(&p) == nil {
		c.Add(&p)
	}
	c.Finish()
	want := "10.10.10.55:9090 host= paths= anomalies=" + classify.AnomalyTCPUrgent
	if !slices.Equal(flows, []string{want}) {
		t.Errorf("flows = %q; want %q", flows, want)
	}
}
