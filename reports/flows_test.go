package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/classify"
)

// oldFlowWriter is the FlowWriter that json.Marshal made the lines of, kept
// as the reference the hand-written one must match byte for byte.
type oldFlowWriter struct {
	bw  *bufio.Writer
	err error
}

func newOldFlowWriter(w io.Writer) *oldFlowWriter {
	return &oldFlowWriter{bw: bufio.NewWriterSize(w, 64<<10)}
}

// oldFlowLine is FlowRecord with its times formatted.
type oldFlowLine struct {
	*classify.FlowRecord
	FirstSeen string `json:"first_seen"`
	LastSeen  string `json:"last_seen"`
}

// oldLine is rec's line as the old writer made it, newline included.
func oldLine(rec *classify.FlowRecord) ([]byte, error) {
	b, err := json.Marshal(oldFlowLine{
		FlowRecord: rec,
		FirstSeen:  rec.FirstSeen.UTC().Format(flowTime),
		LastSeen:   rec.LastSeen.UTC().Format(flowTime),
	})
	if err != nil {
		return nil, err
	}
	return append(safeJSON(b), '\n'), nil
}

func (f *oldFlowWriter) Write(rec *classify.FlowRecord) {
	if f.err != nil {
		return
	}
	b, err := oldLine(rec)
	if err == nil {
		_, err = f.bw.Write(b)
	}
	f.err = err
}

func (f *oldFlowWriter) Flush() error {
	if f.err != nil {
		return f.err
	}
	return f.bw.Flush()
}

// flowCaptures are the repository's captures whose flows the writers must
// agree on: the sample, the fixtures and the tunnels.
func flowCaptures(t testing.TB) []string {
	root := filepath.Join("..", "testdata")
	files := []string{filepath.Join(root, "sample", "idle-1909.pcapng")}
	for _, pat := range []string{"fixtures/*.pcap", "fixtures/*.pcapng", "fixtures/*.pcapng.gz", "tunnels/*.pcap"} {
		m, err := filepath.Glob(filepath.Join(root, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	return files
}

// eachFlow calls fn with every flow of the capture at path.
func eachFlow(t testing.TB, path string, fn func(*classify.FlowRecord)) {
	t.Helper()
	src, err := capture.OpenFiles([]string{path}, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if _, err := classify.Analyze(src, classify.Config{OnFlow: fn}); err != nil {
		t.Fatalf("Analyze(%s): %v", path, err)
	}
}

// TestFlowLinesAsBefore: the hand-written writer writes every flow of the
// repository's captures as json.Marshal and safeJSON did, byte for byte.
func TestFlowLinesAsBefore(t *testing.T) {
	all := 0
	for _, path := range flowCaptures(t) {
		var got, want bytes.Buffer
		w, old := NewFlowWriter(&got), newOldFlowWriter(&want)
		n := 0
		eachFlow(t, path, func(rec *classify.FlowRecord) {
			w.Write(rec)
			old.Write(rec)
			n++
		})
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if err := old.Flush(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			gl, wl := strings.Split(got.String(), "\n"), strings.Split(want.String(), "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Errorf("%s: flow line %d =\n%s\nwant (json.Marshal)\n%s", path, i+1, gl[i], wl[i])
					break
				}
			}
			if len(gl) != len(wl) {
				t.Errorf("%s: %d flow lines; want %d", path, len(gl)-1, len(wl)-1)
			}
		}
		all += n
	}
	t.Logf("%d flows of %d captures", all, len(flowCaptures(t)))
	if all < 100 {
		t.Errorf("%d flows in the captures; want the sample's and the fixtures' (hundreds)", all)
	}
}

// hostileNames are names with what escaping must get right: every byte
// value, invalid UTF-8, C1 controls, format characters (one past U+FFFF),
// U+2028 and U+2029, HTML's specials, U+FFFD itself.
func hostileNames() []string {
	var every strings.Builder
	for c := range 256 {
		every.WriteByte(byte(c))
	}
	return []string{
		every.String(),
		"a\xffb\xc3", "\xed\xa0\x80surrogate", "\xf4\x90\x80\x80past-max", "\xe2\x80", // invalid UTF-8
		"csi\u009b31m\u0085", "rlo\u202eexe.moc", "zw\u200bsp\ufeff", "tag\U000E0001\U000E0041", "soft\u00adhyphen",
		"ls\u2028ps\u2029", "<script>&amp;</script>", `quote"back\slash`, "\b\f\n\r\t\x00\x1f\x7f",
		"\ufffd", "ünïcödé.例え.テスト", "",
	}
}

// fullFlow is a flow with every field set, its names from names.
func fullFlow(names []string) *classify.FlowRecord {
	at := func(i int) string { return names[i%len(names)] }
	return &classify.FlowRecord{
		Proto: "tcp", Src: netip.MustParseAddr("192.168.56.10"), SPort: 49703,
		Dst: netip.MustParseAddr("20.54.24.148"), DPort: 443,
		FirstSeen: time.Date(2026, 3, 2, 9, 0, 4, 1000, time.FixedZone("CET", 3600)), LastSeen: t0.Add(time.Second),
		PacketsOut: 17, PacketsIn: 22, BytesOut: 2197, BytesIn: 1<<64 - 1,
		Name: at(0), Evidence: classify.EvidenceSNI, Scope: classify.ScopeIn,
		SNI: at(1), HTTPHost: at(2), HTTPPaths: []string{at(3), "/"}, DNSName: at(4), CNAMEs: []string{at(5), at(6)},
		TLSVersion: "TLS 1.3",
		DNSCandidates: []classify.DNSCandidate{
			{Name: at(7), CNAMEs: []string{at(8)}}, {Name: at(9)},
		},
		Anomalies: []string{classify.AnomalySNIChanged, classify.AnomalyTCPUrgent},
		Truncated: true, Cut: classify.CutClientHello, Tunnel: "erspan-ii",
	}
}

// TestFlowLineHostile: hostile names, zoned IPv6 addresses and times out of
// the ordinary are written as json.Marshal and safeJSON wrote them.
func TestFlowLineHostile(t *testing.T) {
	names := hostileNames()
	for i := range names {
		rec := fullFlow(slices.Concat(names[i:], names[:i]))
		check := func(what string) {
			t.Helper()
			want, err := oldLine(rec)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendFlowLine(nil, rec); !bytes.Equal(got, want) {
				t.Errorf("%s, names from %q: flow line =\n%s\nwant (json.Marshal)\n%s", what, names[i], got, want)
			}
		}
		check("every field")
		rec.SNI, rec.HTTPHost, rec.DNSName = rec.Name, rec.Name, rec.Name
		check("the name as SNI, Host and DNS name")
		rec.Src, rec.Dst = netip.Addr{}, netip.MustParseAddr("fe80::1").WithZone(names[i])
		rec.FirstSeen, rec.LastSeen = time.Time{}, time.Unix(1<<40, 999999999)
		check("zero and zoned addresses, far times")
		*rec = classify.FlowRecord{}
		check("zero flow")
	}
}

// TestFlowWriterAllocatesNothing: Write of a flow with every field set, names
// that need escaping among them, allocates nothing.
func TestFlowWriterAllocatesNothing(t *testing.T) {
	w := NewFlowWriter(io.Discard)
	rec := fullFlow(hostileNames()[1:])
	for w.out == nil { // past the first full buffer: the writing goroutine runs
		w.Write(rec)
	}
	if n := testing.AllocsPerRun(5000, func() { w.Write(rec) }); n != 0 {
		t.Errorf("FlowWriter.Write allocates %v times per flow; want 0", n)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

// TestFlowWriterBuffers: ten buffers' worth of flows, written while the
// writing goroutine writes the one before, come out whole and in order, with
// a Flush between them.
func TestFlowWriterBuffers(t *testing.T) {
	flows := sampleFlows(t)
	var got, want bytes.Buffer
	w, old := NewFlowWriter(&got), newOldFlowWriter(&want)
	for i := 0; want.Len() < 10*flowBuffer; i++ {
		w.Write(&flows[i%len(flows)])
		old.Write(&flows[i%len(flows)])
		if i == 2500 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := old.Flush(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Errorf("flows written by FlowWriter (%d bytes) differ from json.Marshal's (%d bytes)", got.Len(), want.Len())
	}
}

// failingWriter fails every write after the first ok.
type failingWriter struct {
	ok, writes int
}

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(b []byte) (int, error) {
	if w.writes++; w.writes > w.ok {
		return 0, errDiskFull
	}
	return len(b), nil
}

// TestFlowWriterError: a failed write is returned by Flush, and nothing is
// written after it.
func TestFlowWriterError(t *testing.T) {
	for _, ok := range []int{0, 1, 3} {
		fw := &failingWriter{ok: ok}
		w := NewFlowWriter(fw)
		rec := fullFlow(hostileNames())
		for range 6*flowBuffer/len(appendFlowLine(nil, rec)) + 1 { // six buffers
			w.Write(rec)
		}
		if err := w.Flush(); err != errDiskFull {
			t.Errorf("Flush after write %d failed = %v; want %v", ok+1, err, errDiskFull)
		}
		if fw.writes != ok+1 {
			t.Errorf("writes to a writer that failed at write %d = %d; want none after it", ok+1, fw.writes)
		}
	}
}

// FuzzFlowLine: for any names, addresses and times, the hand-written line is
// json.Marshal's and safeJSON's, and valid JSON, whose name reads back as
// itself when it is valid UTF-8.
func FuzzFlowLine(f *testing.F) {
	for _, s := range hostileNames() {
		f.Add(s, s, "", uint64(1), int64(1772438400), int64(5), []byte{192, 168, 56, 10}, "")
	}
	f.Add("example.com", "\u2028<", "a&b", uint64(1<<63), int64(-62135596800), int64(-1), []byte("0123456789abcdef"), "eth0\x00\xff")
	f.Fuzz(func(t *testing.T, a, b, c string, n uint64, sec, nsec int64, ip []byte, zone string) {
		names := []string{a, b, c, a + b, b + c}
		rec := fullFlow(names)
		rec.PacketsOut, rec.BytesIn = n, n>>7
		rec.FirstSeen, rec.LastSeen = time.Unix(sec, nsec), time.Unix(sec/3, nsec^sec)
		switch len(ip) {
		case 4:
			rec.Src = netip.AddrFrom4([4]byte(ip))
		case 16:
			rec.Src = netip.AddrFrom16([16]byte(ip))
			rec.Dst = rec.Src.WithZone(zone)
		default:
			rec.Src = netip.Addr{}
		}
		if n%3 == 0 {
			rec.SNI, rec.DNSName = rec.Name, rec.Name
		}
		if n%2 == 0 {
			rec.Truncated, rec.DNSCandidates, rec.HTTPPaths, rec.Tunnel = false, nil, []string{}, ""
		}
		want, err := oldLine(rec)
		if err != nil {
			t.Skip(err) // a time json.Marshal's Format cannot write is not ours to check
		}
		got := appendFlowLine(nil, rec)
		if !bytes.Equal(got, want) {
			t.Fatalf("flow line =\n%s\nwant (json.Marshal)\n%s", got, want)
		}
		var line struct{ Name string }
		if !utf8.Valid(got) || json.Unmarshal(got, &line) != nil {
			t.Fatalf("flow line is not valid JSON in UTF-8: %q", got)
		}
		if utf8.ValidString(a) && line.Name != a {
			t.Fatalf("flow line's name reads back as %+q; want %+q", line.Name, a)
		}
	})
}

// sampleFlows is every flow of the sample, copied.
func sampleFlows(tb testing.TB) []classify.FlowRecord {
	var flows []classify.FlowRecord
	eachFlow(tb, filepath.Join("..", "testdata", "sample", "idle-1909.pcapng"), func(rec *classify.FlowRecord) {
		r := *rec
		r.HTTPPaths, r.CNAMEs, r.Anomalies = slices.Clone(r.HTTPPaths), slices.Clone(r.CNAMEs), slices.Clone(r.Anomalies)
		r.DNSCandidates = slices.Clone(r.DNSCandidates)
		flows = append(flows, r)
	})
	return flows
}

// BenchmarkFlowWriter writes the sample's flows in turn, with the
// json.Marshal writer (old) and the hand-written one (new), to io.Discard;
// ns/op is per flow. (To a file, the page cache's cost comes on top: the
// whole-process rows of make bench measure it.)
func BenchmarkFlowWriter(b *testing.B) {
	flows := sampleFlows(b)
	for _, name := range []string{"old", "new"} {
		b.Run(name, func(b *testing.B) {
			var fw interface {
				Write(*classify.FlowRecord)
				Flush() error
			} = NewFlowWriter(io.Discard)
			if name == "old" {
				fw = newOldFlowWriter(io.Discard)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				fw.Write(&flows[i])
				if i++; i == len(flows) {
					i = 0
				}
			}
			if err := fw.Flush(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// TestEscapedNamesKeepTheirValue: a name escaped for JSON, by safeJSON after
// json.Marshal (the JSON report) and by the flow writer, reads back as
// itself, format characters past U+FFFD included (as a surrogate pair: a
// \u escape has four hex digits, so \ue0001 would read as U+E000 and "1").
func TestEscapedNamesKeepTheirValue(t *testing.T) {
	for _, name := range []string{
		"tag\U000E0001\U000E0041.example", "beam\U0001D173", "kaithi\U000110BD", "rlo\u202e", "csi\u009b", "ls\u2028",
		"<&>", "ünïcödé",
	} {
		b, err := json.Marshal(name)
		if err != nil {
			t.Fatal(err)
		}
		for what, enc := range map[string][]byte{"safeJSON": safeJSON(b), "flow writer": appendJSONString(nil, name)} {
			var got string
			if err := json.Unmarshal(enc, &got); err != nil || got != name {
				t.Errorf("%s: %s reads back as %+q (%v); want %+q", what, enc, got, err, name)
			}
		}
	}
}
