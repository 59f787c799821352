package classify

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/phonehome/phonehome/capture"
)

// hostileStrings are names a packet may carry: invalid UTF-8, NUL, a
// newline, U+2028, bidi controls, a lone continuation byte, an empty one.
var hostileStrings = []string{
	"\xff\xfe.example",
	"a\x00b.example",
	"evil.example\nsettings-win.data.microsoft.com",
	"line\u2028sep.example",
	"\u202eelpmaxe.live\u202c",
	"\x80",
	"ok.example",
	"",
	"\"quoted\\\".example",
	"<script>.example",
}

// filler fills any value with non-zero, varied contents by reflection, so
// that a field the record does not carry is lost in a round trip and shows.
type filler struct {
	rnd *rand.Rand
	t   testing.TB
}

var (
	timeT       = reflect.TypeOf(time.Time{})
	addrT       = reflect.TypeOf(netip.Addr{})
	damageKindT = reflect.TypeOf(capture.DamageKind(0))
)

func (f *filler) str() string {
	if f.rnd.IntN(3) == 0 {
		b := make([]byte, 1+f.rnd.IntN(12))
		for i := range b {
			b[i] = byte(f.rnd.UintN(256))
		}
		return string(b)
	}
	return hostileStrings[f.rnd.IntN(len(hostileStrings))]
}

func (f *filler) fill(v reflect.Value, path string) {
	switch v.Type() {
	case timeT:
		v.Set(reflect.ValueOf(time.Unix(1.5e9+f.rnd.Int64N(1e8), f.rnd.Int64N(1e9)).UTC()))
		return
	case addrT:
		v.Set(reflect.ValueOf(netip.AddrFrom4([4]byte{byte(1 + f.rnd.IntN(200)), byte(f.rnd.IntN(256)), byte(f.rnd.IntN(256)), byte(1 + f.rnd.IntN(250))})))
		return
	case damageKindT:
		v.SetUint(uint64(1 + f.rnd.IntN(2)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(f.str())
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(1 + f.rnd.Int64N(1e6))
	case reflect.Uint, reflect.Uint64, reflect.Uint32, reflect.Uint16, reflect.Uint8:
		v.SetUint(1 + f.rnd.Uint64N(200))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		}
	case reflect.Slice:
		n := 1 + f.rnd.IntN(3)
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			f.fill(s.Index(i), path+"[]")
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 1 + f.rnd.IntN(3) {
			k := reflect.New(v.Type().Key()).Elem()
			if k.Kind() == reflect.String {
				// Keys of the maps written as JSON objects are
				// phonehome's words; Names and Ambiguous are re-keyed
				// by fillRun.
				k.SetString("k" + string(rune('a'+f.rnd.IntN(26))))
			} else {
				f.fill(k, path+"{}")
			}
			e := reflect.New(v.Type().Elem()).Elem()
			f.fill(e, path+"[]")
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem(), path)
		v.Set(p)
	default:
		f.t.Fatalf("%s: cannot fill a %s; teach filler about it", path, v.Kind())
	}
}

// fillRun is a Run with every field of it and of the types it holds filled,
// keyed as the classifier keys it.
func fillRun(t testing.TB, seed uint64) *Run {
	f := &filler{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), t: t}
	run := new(Run)
	f.fill(reflect.ValueOf(run).Elem(), "Run")
	rekey(run)
	return run
}

// rekey keys Names, Ambiguous and Unattributed by what their values say, as
// the classifier does, gives each ambiguous set an alias list per name, and
// sorts each name's start times (the classifier keeps them so).
func rekey(run *Run) {
	names := map[string]*NameStat{}
	for _, n := range run.Names {
		slices.Sort(n.Starts)
		names[n.Name] = n
	}
	run.Names = names
	amb := map[string]*AmbiguousStat{}
	for _, a := range run.Ambiguous {
		a.Aliases = append(a.Aliases, make([][]string, len(a.Names))...)[:len(a.Names)]
		amb[ambiguousKey(a.Names)] = a
	}
	run.Ambiguous = amb
	addrs := map[netip.Addr]*AddrStat{}
	for _, a := range run.Unattributed {
		addrs[a.Addr] = a
	}
	run.Unattributed = addrs
}

func roundTrip(t *testing.T, run *Run, meta RecordMeta) (*Run, RecordMeta, []byte) {
	t.Helper()
	var b bytes.Buffer
	if err := WriteRecord(&b, run, meta); err != nil {
		t.Fatalf("WriteRecord: %v", err)
	}
	got, gotMeta, err := ReadRecord(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatalf("ReadRecord: %v", err)
	}
	return got, gotMeta, b.Bytes()
}

// TestRecordCarriesEveryField fills every field of a Run and of the types it
// holds (reflectively: a field added to Run, NameStat, capture.Session, ...
// is filled too) with varied values and hostile strings, writes it and reads
// it back: the run must be the same, so a field the record does not carry
// fails here. The second write must give the same bytes.
func TestRecordCarriesEveryField(t *testing.T) {
	for seed := range uint64(20) {
		run := fillRun(t, seed)
		meta := RecordMeta{Tool: "phonehome test \xff", Written: time.Unix(1.7e9, 5).UTC(), Label: "week\n3", Build: "21H1", Edition: "pro"}
		got, gotMeta, data := roundTrip(t, run, meta)
		if !reflect.DeepEqual(got, run) {
			t.Fatalf("seed %d: ReadRecord(WriteRecord(run)) differs from run at %s", seed, firstDifference(reflect.ValueOf(got), reflect.ValueOf(run), "Run"))
		}
		meta.Version = RecordVersion
		if gotMeta != meta {
			t.Errorf("seed %d: meta = %+v; want %+v", seed, gotMeta, meta)
		}
		if !utf8.Valid(data) {
			t.Errorf("seed %d: the record is not valid UTF-8", seed)
		}
		var again bytes.Buffer
		if err := WriteRecord(&again, got, gotMeta); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again.Bytes(), data) {
			t.Errorf("seed %d: writing the record read back gives other bytes", seed)
		}
	}
}

// firstDifference is the path of the first place a and b differ.
func firstDifference(a, b reflect.Value, path string) string {
	if reflect.DeepEqual(a.Interface(), b.Interface()) {
		return ""
	}
	switch a.Kind() {
	case reflect.Pointer:
		if !a.IsNil() && !b.IsNil() {
			return firstDifference(a.Elem(), b.Elem(), path)
		}
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if f := a.Type().Field(i); f.IsExported() {
				if d := firstDifference(a.Field(i), b.Field(i), path+"."+f.Name); d != "" {
					return d
				}
			}
		}
	case reflect.Slice:
		if a.Len() == b.Len() {
			for i := 0; i < a.Len(); i++ {
				if d := firstDifference(a.Index(i), b.Index(i), path+"["+itoa(i)+"]"); d != "" {
					return d
				}
			}
		}
	case reflect.Map:
		if a.Len() == b.Len() {
			for _, k := range a.MapKeys() {
				if bv := b.MapIndex(k); bv.IsValid() {
					if d := firstDifference(a.MapIndex(k), bv, path+"[…]"); d != "" {
						return d
					}
				}
			}
		}
	}
	return path + ": " + truncate(a) + "; want " + truncate(b)
}

func truncate(v reflect.Value) string {
	s := fmt.Sprintf("%q", fmt.Sprint(v.Interface()))
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}

// TestRecordHostileNames: names with invalid UTF-8, NUL, a newline, U+2028
// and bidi controls come back byte for byte; only the invalid UTF-8 takes
// the base64 form, and the record stays valid UTF-8 JSON.
func TestRecordHostileNames(t *testing.T) {
	for _, tt := range []struct {
		name, value string
		base64      bool
	}{
		{"invalid_utf8", "\xff\xfe.example", true},
		{"lone_continuation_byte", "a\x80b", true},
		{"cut_rune", "caf\xc3", true},
		{"nul", "a\x00b.example", false},
		{"newline_forging_a_line", "x.example\nsettings-win.data.microsoft.com", false},
		{"line_separator", "a\u2028b.example", false},
		{"bidi_override", "\u202eelpmaxe\u202c.example", false},
		{"quote_and_backslash", "a\"b\\c", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			run := &Run{Names: map[string]*NameStat{tt.value: {Name: tt.value, Evidence: map[string]int{EvidenceSNI: 1}, Flows: 1,
				Paths: []string{tt.value}, Aliases: []string{tt.value}}}}
			got, _, data := roundTrip(t, run, RecordMeta{})
			n := got.Names[tt.value]
			if n == nil || n.Name != tt.value || n.Paths[0] != tt.value || n.Aliases[0] != tt.value {
				t.Fatalf("ReadRecord(WriteRecord(%q)) names = %q; want it back exactly", tt.value, slicesKeys(got.Names))
			}
			if !utf8.Valid(data) {
				t.Errorf("record of %q is not valid UTF-8", tt.value)
			}
			if b := bytes.Contains(data, []byte(`{"base64":`)); b != tt.base64 {
				t.Errorf("record of %q uses base64: %v; want %v", tt.value, b, tt.base64)
			}
		})
	}
}

func slicesKeys[V any](m map[string]V) []string {
	var l []string
	for k := range m {
		l = append(l, k)
	}
	return l
}

// goodRecord is a small valid record's text.
func goodRecord(t testing.TB) []byte {
	var b bytes.Buffer
	run := fillRun(t, 1)
	if err := WriteRecord(&b, run, RecordMeta{Tool: "phonehome v1.0.0"}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestReadRecordErrors: each way a record can be wrong gives an error that
// says what and where.
func TestReadRecordErrors(t *testing.T) {
	good := string(goodRecord(t))
	for _, tt := range []struct {
		name, text string
		want       []string
	}{
		{"empty", "", []string{"byte 0", "cut short"}},
		{"cut_short", good[:len(good)/2], []string{"byte ", "cut short or is not JSON"}},
		{"not_json", "PK\x03\x04zip", []string{"byte 0: 0x50", "not a run record"}},
		{"not_a_record", `{"format":"pcapng","version":1}`, []string{`format "pcapng"`, "not a phonehome run record"}},
		{"no_format", `{"version":1}`, []string{`no "format" field`}},
		{"no_version", `{"format":"phonehome-run"}`, []string{"version ;", "want a whole number"}},
		{"version_zero", `{"format":"phonehome-run","version":0}`, []string{"version 0"}},
		{"later_version", `{"format":"phonehome-run","version":2,"tool":"phonehome v9.1.0","run":{"names":"new"}}`,
			[]string{"version 2", "written by phonehome v9.1.0", "reads versions up to 1", "read it with phonehome v9.1.0 or a later one"}},
		{"later_version_no_tool", `{"format":"phonehome-run","version":7}`, []string{"version 7", "a later phonehome"}},
		{"wrong_type", `{"format":"phonehome-run","version":1,"run":{"names":[{"name":"a","flows":"many"}]}}`,
			[]string{"field run.names.flows (byte ", "string; want a JSON value for Go's int"}},
		{"bad_address", `{"format":"phonehome-run","version":1,"run":{"unattributed":[{"addr":"300.1.2.3"}]}}`,
			[]string{"field run.unattributed.addr", "300.1.2.3", "IP address"}},
		{"bad_time", `{"format":"phonehome-run","version":1,"run":{"first":"yesterday"}}`,
			[]string{"field run.first", "yesterday", "RFC 3339"}},
		{"time_past_9999_in_utc", `{"format":"phonehome-run","version":1,"run":{"first":"9999-12-31T23:00:00-05:00"}}`,
			[]string{"field run.first", "years 0 to 9999"}},
		{"bad_base64", `{"format":"phonehome-run","version":1,"run":{"names":[{"name":{"base64":"!!"}}]}}`,
			[]string{"field run.names.name", "base64"}},
		{"name_twice", `{"format":"phonehome-run","version":1,"run":{"names":[{"name":"a"},{"name":"a"}]}}`,
			[]string{"field run.names[1]", "name a given twice"}},
		{"ambiguous_without_aliases", `{"format":"phonehome-run","version":1,"run":{"ambiguous":[{"names":["a","b"]}]}}`,
			[]string{"field run.ambiguous[0]", "2 names and 0 alias lists"}},
		{"negative_flows", `{"format":"phonehome-run","version":1,"run":{"names":[{"name":"a","flows":-1}]}}`,
			[]string{"field run.names[0].flows: negative"}},
		{"starts_unsorted", `{"format":"phonehome-run","version":1,"run":{"names":[{"name":"a","flows":2,"starts_ns":[1000,-1]}]}}`,
			[]string{"field run.names[0].starts: start time 1: distance -1"}},
		{"starts_overflow", `{"format":"phonehome-run","version":1,"run":{"names":[{"name":"a","flows":2,"starts_ns":[9223372036854775000,1000]}]}}`,
			[]string{"field run.names[0].starts: start time 1: distance 1000"}},
		{"unknown_damage_kind", `{"format":"phonehome-run","version":1,"run":{"damage":[{"kind":"melted"}]}}`,
			[]string{"field run.damage[0].kind: melted"}},
		{"null_excluded", `{"format":"phonehome-run","version":1,"run":{"excluded":{"ipv6":null}}}`,
			[]string{"field run.excluded[ipv6]: null"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ReadRecord(strings.NewReader(tt.text))
			if err == nil {
				t.Fatalf("ReadRecord(%.60q) = nil error; want one saying %q", tt.text, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ReadRecord(%.60q) = %q; want it to say %q", tt.text, err, w)
				}
			}
		})
	}
}

// TestReadRecordBounded: a record larger than the bound is refused, gzipped
// or not, and the offset of an error in a gzipped record is said to be in the
// decompressed text.
func TestReadRecordBounded(t *testing.T) {
	good := goodRecord(t)
	if _, _, err := readRecord(bytes.NewReader(good), int64(len(good))); err != nil {
		t.Fatalf("readRecord(record, its length) = %v; want it read", err)
	}
	_, _, err := readRecord(bytes.NewReader(good), int64(len(good))-1)
	if err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("readRecord(record, its length - 1) = %v; want it refused for its size", err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(make([]byte, 10<<20)) // 10 MiB of zeros: a few KiB of gzip
	zw.Close()
	_, _, err = readRecord(bytes.NewReader(z.Bytes()), 1<<20)
	if err == nil || !strings.Contains(err.Error(), "more than 1048576 bytes of the decompressed text") {
		t.Errorf("readRecord(gzip bomb) = %v; want it refused for its decompressed size", err)
	}
	z.Reset()
	zw = gzip.NewWriter(&z)
	zw.Write(good[:100])
	zw.Close()
	_, _, err = ReadRecord(bytes.NewReader(z.Bytes()))
	if err == nil || !strings.Contains(err.Error(), "byte 100 of the decompressed text") {
		t.Errorf("ReadRecord(gzipped record cut at 100 bytes) = %v; want the offset in the decompressed text", err)
	}
}

// failingWriter fails once n bytes have been written through it.
type failingWriter struct {
	w io.Writer
	n int
}

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k, _ := f.w.Write(p[:f.n])
		f.n = 0
		return k, errors.New("disk full (test)")
	}
	f.n -= len(p)
	return f.w.Write(p)
}

// TestSaveRecordAtomic: a save that fails at any step leaves the previous
// record as it was and no temporary file; one that succeeds replaces it.
func TestSaveRecordAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, CheckpointName)
	first := fillRun(t, 1)
	if err := SaveRecord(path, first, RecordMeta{Tool: "one"}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	size, _ := os.Stat(path)
	for _, n := range []int{0, 10, int(size.Size()) / 2} {
		err := saveRecord(path, fillRun(t, 2), RecordMeta{Tool: "two"}, func(w io.Writer) io.Writer { return &failingWriter{w, n} })
		if err == nil || !strings.Contains(err.Error(), "disk full (test)") || !strings.Contains(err.Error(), path) {
			t.Errorf("SaveRecord through a writer failing after %d bytes = %v; want the failure, naming the file", n, err)
		}
		if after, _ := os.ReadFile(path); !bytes.Equal(after, before) {
			t.Errorf("a save failing after %d bytes changed the previous record", n)
		}
		assertOnly(t, dir, CheckpointName)
	}
	// The rename fails: the target is a directory that is not empty.
	blocked := filepath.Join(dir, "blocked.json")
	os.MkdirAll(filepath.Join(blocked, "x"), 0o755)
	if err := SaveRecord(blocked, first, RecordMeta{}); err == nil {
		t.Errorf("SaveRecord over a non-empty directory = nil; want an error")
	}
	assertOnly(t, dir, CheckpointName, "blocked.json")
	// The directory is gone.
	if err := SaveRecord(filepath.Join(dir, "gone", "run.json"), first, RecordMeta{}); err == nil {
		t.Errorf("SaveRecord into a missing directory = nil; want an error")
	}
	// A save that works replaces the record; LoadRecord reads it by the
	// directory's name, gzipped.
	second := fillRun(t, 3)
	if err := SaveRecord(path, second, RecordMeta{Tool: "three"}); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, dir, CheckpointName, "blocked.json")
	got, meta, err := LoadRecord(dir)
	if err != nil {
		t.Fatal(err)
	}
	if meta.Tool != "three" || !reflect.DeepEqual(got, second) {
		t.Errorf("LoadRecord(dir) = a run written by %q; want the last saved, by three", meta.Tool)
	}
	if head, _ := os.ReadFile(path); len(head) < 2 || head[0] != 0x1f || head[1] != 0x8b {
		t.Errorf("SaveRecord(%s) did not gzip it", CheckpointName)
	}
	// Not gzipped when the name does not end in .gz.
	plain := filepath.Join(dir, "run.json")
	if err := SaveRecord(plain, second, RecordMeta{}); err != nil {
		t.Fatal(err)
	}
	if head, _ := os.ReadFile(plain); len(head) == 0 || head[0] != '{' {
		t.Errorf("SaveRecord(run.json) wrote %.10q; want JSON text", head)
	}
	if got, _, err := LoadRecord(plain); err != nil || !reflect.DeepEqual(got, second) {
		t.Errorf("LoadRecord(run.json) = %v; want the run", err)
	}
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	slices.Sort(names)
	if strings.Join(got, " ") != strings.Join(names, " ") {
		t.Errorf("directory holds %q; want only %q (a temporary file left behind?)", got, names)
	}
}

func TestLoadRecordEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	_, _, err := LoadRecord(dir)
	if err == nil || !strings.Contains(err.Error(), "no "+CheckpointName) || !strings.Contains(err.Error(), "no checkpoint has been written there yet") {
		t.Errorf("LoadRecord(empty dir) = %v; want it to say no checkpoint was written yet", err)
	}
	if _, _, err := LoadRecord(filepath.Join(dir, "none.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadRecord(missing file) = %v; want a not-exist error", err)
	}
}

// FuzzReadRecord reads any bytes as a run record: nothing panics, and a
// record that is read is written back and read again to the same run, the
// second write giving the bytes of the first.
func FuzzReadRecord(f *testing.F) {
	good := goodRecord(f)
	f.Add(good)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(good)
	zw.Close()
	f.Add(z.Bytes())
	f.Add([]byte(`{"format":"phonehome-run","version":1,"run":{"names":[{"name":{"base64":"/w=="},"addrs":["1.2.3.4"]}],"ambiguous":[{"names":["a","b"],"aliases":[[],["c"]]}]}}`))
	f.Add([]byte(`{"format":"phonehome-run","version":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		run, meta, err := readRecord(bytes.NewReader(data), 1<<20)
		if err != nil {
			return
		}
		var one, two bytes.Buffer
		if err := WriteRecord(&one, run, meta); err != nil {
			t.Fatalf("WriteRecord of a record read: %v", err)
		}
		again, meta2, err := ReadRecord(bytes.NewReader(one.Bytes()))
		if err != nil {
			t.Fatalf("ReadRecord of a record written: %v\n%s", err, one.Bytes())
		}
		if err := WriteRecord(&two, again, meta2); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(one.Bytes(), two.Bytes()) {
			t.Fatalf("a record read, written, read and written again changed:\n%s\n%s", one.Bytes(), two.Bytes())
		}
	})
}
