package classify

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/phonehome/phonehome/capture"
)

// The run record is a Run written to a file: JSON, self-describing and
// versioned, so that a report can be made from it later (phonehome report),
// a live capture can resume from its last checkpoint, and two runs can be
// compared. It holds every field of Run; the README ("Run record") lists
// them with their JSON names.
//
// Versioning: within a version, fields are only added, never renamed,
// retyped or given another meaning; a reader ignores fields it does not know
// (a record written by a later phonehome of the same version loses only what
// that phonehome added). Any other change makes a new version, and a reader
// refuses a version above the one it reads, saying which phonehome wrote the
// record.
const (
	// RecordFormat is the record's "format" field.
	RecordFormat = "phonehome-run"
	// RecordVersion is the version WriteRecord writes and the highest
	// ReadRecord reads.
	RecordVersion = 1
	// CheckpointName is the record's name in a checkpoint directory:
	// LoadRecord(DIR) reads DIR/run.json.gz.
	CheckpointName = "run.json.gz"
	// MaxRecordBytes bounds the JSON text ReadRecord reads (after gzip):
	// 1 GiB. A record of 100 000 names (Config.MaxNames) each holding its
	// bounded lists in full (32 aliases, 64 paths, 32 addresses) is about
	// 480 MB (4.8 MB per 1 000 such names, measured); anything past the
	// bound is refused rather than read into memory. Reading holds the text
	// and the run at once: a few times the text's size.
	MaxRecordBytes = 1 << 30
)

// RecordMeta is what a run record says about itself, besides the run.
type RecordMeta struct {
	// Tool is the phonehome that wrote the record ("phonehome v1.2.0",
	// with its commit when known), as the caller gives it.
	Tool string
	// Written is when the record was written (wall clock, kept in UTC).
	Written time.Time
	// Label names the run for a person ("22H2 Pro, week 3"); "" for none.
	Label string
	// Build and Edition say what the VM ran ("21H1", "pro"), as the person
	// who made the run said (--label build=21H1,edition=pro): compare holds
	// each run against its build's page for its edition. "" when not said.
	Build, Edition string
	// Version is the record version read (ReadRecord); WriteRecord writes
	// RecordVersion whatever it holds.
	Version int
}

// WriteRecord writes run as a run record (JSON, one document, no gzip) to
// w, with meta. Lists are written in a fixed order (names and sets of names
// by their bytes, addresses in address order), so the same run always gives
// the same bytes. Strings are written as JSON strings when they are valid
// UTF-8 and as {"base64": "..."} otherwise, so that names from packets, which
// may hold any byte, are read back exactly.
func WriteRecord(w io.Writer, run *Run, meta RecordMeta) error {
	rec, err := toRecord(run, meta)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil {
		return fmt.Errorf("write run record: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write run record: %w", err)
	}
	return nil
}

// ReadRecord reads a run record written by WriteRecord, gzip-compressed or
// not (told by the gzip magic number). It reads at most MaxRecordBytes of
// JSON text. It refuses a record of a version above RecordVersion, naming the
// phonehome that wrote it, and one that is not a run record. Errors say where
// the record is wrong: the byte offset (in the decompressed text when the
// record is gzipped) or the field.
func ReadRecord(r io.Reader) (*Run, RecordMeta, error) {
	return readRecord(r, MaxRecordBytes)
}

// readRecord is ReadRecord reading at most limit bytes of JSON text.
func readRecord(r io.Reader, limit int64) (*Run, RecordMeta, error) {
	br := bufio.NewReader(r)
	in := io.Reader(br)
	of := ""
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, RecordMeta{}, fmt.Errorf("run record: gzip: %w", err)
		}
		defer zr.Close()
		in, of = zr, " of the decompressed text"
	}
	data, err := io.ReadAll(io.LimitReader(in, limit+1))
	if err != nil {
		return nil, RecordMeta{}, fmt.Errorf("run record: read: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, RecordMeta{}, fmt.Errorf("run record: more than %d bytes%s: not read (MaxRecordBytes; a record of 100 000 names with full lists is about 480 MB: is this a run record?)", limit, of)
	}
	if i := bytes.IndexFunc(data, func(r rune) bool { return !strings.ContainsRune(" \t\r\n", r) }); i >= 0 && data[i] != '{' {
		return nil, RecordMeta{}, fmt.Errorf("run record: byte %d%s: 0x%02x where a run record starts with '{': not a run record (is it a capture? analyze reads those)", i, of, data[i])
	}
	var head struct {
		Format  *string         `json:"format"`
		Version json.RawMessage `json:"version"`
		Tool    json.RawMessage `json:"tool"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, RecordMeta{}, recordError(err, of)
	}
	if head.Format == nil || *head.Format != RecordFormat {
		what := "no \"format\" field"
		if head.Format != nil {
			what = fmt.Sprintf("format %q", *head.Format)
		}
		return nil, RecordMeta{}, fmt.Errorf("run record: %s; want %q: not a phonehome run record", what, RecordFormat)
	}
	var version int
	if err := json.Unmarshal(head.Version, &version); err != nil || version < 1 {
		return nil, RecordMeta{}, fmt.Errorf("run record: version %s; want a whole number from 1 to %d", strings.TrimSpace(string(head.Version)), RecordVersion)
	}
	if version > RecordVersion {
		var tool rstr
		_ = json.Unmarshal(head.Tool, &tool)
		by := "a later phonehome"
		if tool != "" {
			by = string(tool)
		}
		return nil, RecordMeta{}, fmt.Errorf("run record: version %d, written by %s; this phonehome reads versions up to %d: read it with %s or a later one",
			version, printable(by), RecordVersion, printable(by))
	}
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, RecordMeta{}, recordError(err, of)
	}
	run, err := fromRecord(&rec)
	if err != nil {
		return nil, RecordMeta{}, fmt.Errorf("run record: %w", err)
	}
	meta := RecordMeta{Tool: string(rec.Tool), Written: time.Time(rec.Written), Label: string(rec.Label),
		Build: string(rec.Build), Edition: string(rec.Edition), Version: version}
	return run, meta, nil
}

// printable quotes s for an error message when it holds anything but printable
// ASCII.
func printable(s string) string {
	for _, c := range []byte(s) {
		if c < ' ' || c > '~' {
			return fmt.Sprintf("%q", s)
		}
	}
	return s
}

// recordError says where encoding/json found the record wrong.
func recordError(err error, of string) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("run record: byte %d%s: %v: the file is cut short or is not JSON", syn.Offset, of, syn)
	case errors.As(err, &typ):
		where := typ.Field
		if where == "" {
			where = "the top level"
		}
		at := ""
		if typ.Offset > 0 {
			at = fmt.Sprintf(" (byte %d%s)", typ.Offset, of)
		}
		return fmt.Errorf("run record: field %s%s: %s; want %s", where, at, typ.Value, typeName(typ.Type))
	}
	return fmt.Errorf("run record: %w", err)
}

// typeName says in words what a field of the record holds.
func typeName(t reflect.Type) string {
	switch t {
	case reflect.TypeOf(rtime{}):
		return "a time (RFC 3339, years 0 to 9999 in UTC)"
	case reflect.TypeOf(raddr{}):
		return "an IP address (or \"\")"
	case reflect.TypeOf(rstr("")):
		return "a string (or {\"base64\": \"...\"})"
	}
	return "a JSON value for Go's " + t.String()
}

// SaveRecord writes run as a run record to path, atomically: to a temporary
// file in path's directory, which is synced, closed and renamed over path,
// and then the directory is synced. A failure at any step removes the
// temporary file and leaves a file already at path as it was, so a
// checkpoint is either the previous one or the new one, never a part. The
// record is gzip-compressed when path ends in ".gz". The file has the mode of
// the one it replaces, else 0644. A path that names something other than a
// regular file (/dev/stdout, a FIFO) is written into as it is: a rename
// would replace the device or the pipe with a file.
func SaveRecord(path string, run *Run, meta RecordMeta) error {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() && !fi.IsDir() {
		return writeRecordInto(path, run, meta)
	}
	return saveRecord(path, run, meta, nil)
}

// writeRecordInto writes the record into path, which exists and is no
// regular file.
func writeRecordInto(path string, run *Run, meta RecordMeta) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("save run record %s: %w", path, err)
	}
	var w io.Writer = f
	var zw *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		zw = gzip.NewWriter(f)
		w = zw
	}
	err = WriteRecord(w, run, meta)
	if err == nil && zw != nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("save run record %s: %w", path, err)
	}
	return nil
}

// saveRecord is SaveRecord with a hook that may wrap the temporary file's
// writer (tests make it fail).
func saveRecord(path string, run *Run, meta RecordMeta, wrap func(io.Writer) io.Writer) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("save run record %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("save run record %s: %w", path, err)
		}
	}()
	// os.CreateTemp makes the file 0600: give it the mode of the record it
	// replaces, or 0644 (the umask is not applied).
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		mode = fi.Mode().Perm()
	}
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	var w io.Writer = tmp
	if wrap != nil {
		w = wrap(w)
	}
	var zw *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		zw = gzip.NewWriter(w)
		w = zw
	}
	if err := WriteRecord(w, run, meta); err != nil {
		return err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return err
		}
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// The rename is durable once the directory is synced. A failure here
	// leaves the new record in place; it is said all the same.
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return err
	}
	return nil
}

// LoadRecord reads the run record at path: a file, or a checkpoint
// directory, whose record is path/CheckpointName.
func LoadRecord(path string) (*Run, RecordMeta, error) {
	file := path
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		file = filepath.Join(path, CheckpointName)
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) {
			return nil, RecordMeta{}, fmt.Errorf("%s: a directory with no %s in it: no checkpoint has been written there yet (a capture writes its first within a second of starting, then every --checkpoint-every)", path, CheckpointName)
		}
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, RecordMeta{}, err
	}
	defer f.Close()
	run, meta, err := ReadRecord(f)
	if err != nil {
		return nil, RecordMeta{}, fmt.Errorf("%s: %w", file, err)
	}
	return run, meta, nil
}

// rstr is a string as the record holds it: valid UTF-8 as a JSON string,
// anything else as {"base64": "..."} (standard encoding, padded), so that any
// bytes are read back as they were.
type rstr string

func (s rstr) MarshalJSON() ([]byte, error) {
	if utf8.ValidString(string(s)) {
		return json.Marshal(string(s))
	}
	return json.Marshal(struct {
		Base64 string `json:"base64"`
	}{base64.StdEncoding.EncodeToString([]byte(s))})
}

func (s *rstr) UnmarshalJSON(b []byte) error {
	bad := &json.UnmarshalTypeError{Value: quoteJSON(b), Type: reflect.TypeOf(rstr(""))}
	if len(b) > 0 && b[0] == '{' {
		var v struct {
			Base64 *string `json:"base64"`
		}
		if err := json.Unmarshal(b, &v); err != nil || v.Base64 == nil {
			return bad
		}
		d, err := base64.StdEncoding.DecodeString(*v.Base64)
		if err != nil {
			return bad
		}
		*s = rstr(d)
		return nil
	}
	var v string
	if err := json.Unmarshal(b, &v); err != nil {
		return bad
	}
	*s = rstr(v)
	return nil
}

// quoteJSON shows a piece of the record in an error, cut to 40 bytes.
func quoteJSON(b []byte) string {
	if len(b) > 40 {
		return printable(string(b[:40])) + "..."
	}
	return printable(string(b))
}

// rtime is a time as the record holds it: RFC 3339 with nanoseconds, in UTC.
type rtime time.Time

func (t rtime) MarshalJSON() ([]byte, error) { return time.Time(t).UTC().MarshalJSON() }

func (t *rtime) UnmarshalJSON(b []byte) error {
	var v time.Time
	if err := v.UnmarshalJSON(b); err != nil || v.UTC().Year() < 0 || v.UTC().Year() > 9999 {
		return &json.UnmarshalTypeError{Value: quoteJSON(b), Type: reflect.TypeOf(rtime{})}
	}
	*t = rtime(v.UTC())
	return nil
}

// raddr is an address as the record holds it: its text form, "" for none.
type raddr netip.Addr

func (a raddr) MarshalJSON() ([]byte, error) {
	t, _ := netip.Addr(a).MarshalText()
	return json.Marshal(string(t))
}

func (a *raddr) UnmarshalJSON(b []byte) error {
	var s string
	var v netip.Addr
	if err := json.Unmarshal(b, &s); err != nil || v.UnmarshalText([]byte(s)) != nil {
		return &json.UnmarshalTypeError{Value: quoteJSON(b), Type: reflect.TypeOf(raddr{})}
	}
	*a = raddr(v)
	return nil
}

// The record's types. Field names are the JSON names; every field of Run and
// of the types it holds has one (TestRecordCarriesEveryField).
type (
	record struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
		Tool    rstr   `json:"tool"`
		Written rtime  `json:"written"`
		Label   rstr   `json:"label,omitempty"`
		Build   rstr   `json:"build,omitempty"`
		Edition rstr   `json:"edition,omitempty"`
		Run     recRun `json:"run"`
	}
	recRun struct {
		VM                raddr                   `json:"vm"`
		VMDetected        bool                    `json:"vm_detected"`
		VMFlows           int                     `json:"vm_flows"`
		VMHow             rstr                    `json:"vm_how"`
		BusiestLocal      raddr                   `json:"busiest_local"`
		BusiestLocalFlows int                     `json:"busiest_local_flows"`
		First             rtime                   `json:"first"`
		Last              rtime                   `json:"last"`
		Packets           uint64                  `json:"packets"`
		Bytes             uint64                  `json:"bytes"`
		InScope           recExcluded             `json:"in_scope"`
		Names             []recName               `json:"names"`
		Ambiguous         []recAmbiguous          `json:"ambiguous"`
		Unattributed      []recAddr               `json:"unattributed"`
		Excluded          map[string]*recExcluded `json:"excluded"`
		DNS               DNSAnswers              `json:"dns"`
		Bounds            []recBound              `json:"bounds"`
		Truncation        Truncation              `json:"truncation"`
		Anomalies         []recAnomaly            `json:"anomalies"`
		Inputs            []rstr                  `json:"inputs"`
		Damage            []recDamage             `json:"damage"`
		Unsupported       map[string]uint64       `json:"unsupported"`
		Duplicates        uint64                  `json:"duplicates"`
		InputStats        []recInput              `json:"input_stats"`
		Sessions          []recSession            `json:"sessions"`
		OpenAtEnd         []recBoundary           `json:"open_at_end"`
		PickedUp          []recBoundary           `json:"picked_up"`
	}
	recBoundary struct {
		Proto rstr   `json:"proto"`
		Src   raddr  `json:"src"`
		SPort uint16 `json:"sport"`
		Dst   raddr  `json:"dst"`
		DPort uint16 `json:"dport"`
		// Only the times a list sets are written.
		First *rtime `json:"first,omitempty"`
		Last  *rtime `json:"last,omitempty"`
		Until *rtime `json:"until,omitempty"`
	}
	recExcluded struct {
		Packets uint64 `json:"packets"`
		Bytes   uint64 `json:"bytes"`
		Flows   uint64 `json:"flows"`
	}
	recName struct {
		Name      rstr           `json:"name"`
		Evidence  map[string]int `json:"evidence"`
		Flows     int            `json:"flows"`
		BytesOut  uint64         `json:"bytes_out"`
		BytesIn   uint64         `json:"bytes_in"`
		First     rtime          `json:"first"`
		Last      rtime          `json:"last"`
		Protocols []rstr         `json:"protocols"`
		Aliases   []rstr         `json:"aliases"`
		Paths     []rstr         `json:"paths"`
		HostLevel bool           `json:"host_level"`
		Addrs     []raddr        `json:"addrs"`
		// Written only when known: a record written before evidence
		// was kept has none.
		FirstEvidence *recEvidence `json:"first_evidence,omitempty"`
		// Starts are NameStat.Starts, delta-encoded (see
		// toRecStarts); absent in a record written before they were
		// kept.
		Starts []int64 `json:"starts_ns,omitempty"`
	}
	recEvidence struct {
		File  rstr   `json:"file"`
		Frame int64  `json:"frame"`
		Time  rtime  `json:"time"`
		Kind  rstr   `json:"kind"`
		Proto rstr   `json:"proto"`
		Src   raddr  `json:"src"`
		SPort uint16 `json:"sport"`
		Dst   raddr  `json:"dst"`
		DPort uint16 `json:"dport"`
		Start rtime  `json:"start"`
	}
	recAmbiguous struct {
		Names     []rstr   `json:"names"`
		Aliases   [][]rstr `json:"aliases"`
		Flows     int      `json:"flows"`
		BytesOut  uint64   `json:"bytes_out"`
		BytesIn   uint64   `json:"bytes_in"`
		First     rtime    `json:"first"`
		Last      rtime    `json:"last"`
		Protocols []rstr   `json:"protocols"`
		Addrs     []raddr  `json:"addrs"`
		// As recName's.
		FirstEvidence *recEvidence `json:"first_evidence,omitempty"`
	}
	recAddr struct {
		Addr     raddr  `json:"addr"`
		Flows    int    `json:"flows"`
		BytesOut uint64 `json:"bytes_out"`
		BytesIn  uint64 `json:"bytes_in"`
		First    rtime  `json:"first"`
		Last     rtime  `json:"last"`
		Ports    []rstr `json:"ports"`
	}
	recBound struct {
		What  rstr   `json:"what"`
		Limit int    `json:"limit"`
		Times uint64 `json:"times"`
	}
	recAnomaly struct {
		Kind  rstr   `json:"kind"`
		What  rstr   `json:"what"`
		Flows uint64 `json:"flows"`
		Names []rstr `json:"names"`
	}
	recDamage struct {
		File         rstr   `json:"file"`
		Kind         string `json:"kind"`
		Offset       int64  `json:"offset"`
		Decompressed bool   `json:"decompressed"`
		Records      int    `json:"records"`
		Reason       rstr   `json:"reason"`
	}
	recInput struct {
		Name        rstr  `json:"name"`
		Stream      bool  `json:"stream"`
		Compression rstr  `json:"compression"`
		Format      rstr  `json:"format"`
		Bytes       int64 `json:"bytes"`
		Frames      int   `json:"frames"`
		Duplicates  int   `json:"duplicates"`
		Empty       bool  `json:"empty"`
		Skipped     rstr  `json:"skipped"`
	}
	recSession struct {
		Interface   rstr   `json:"interface"`
		LinkType    rstr   `json:"link_type"`
		Filter      rstr   `json:"filter"`
		Snaplen     int    `json:"snaplen"`
		Promiscuous bool   `json:"promiscuous"`
		BufferSize  int    `json:"buffer_size"`
		Immediate   bool   `json:"immediate"`
		Start       rtime  `json:"start"`
		End         rtime  `json:"end"`
		Ended       rstr   `json:"ended"`
		Received    uint64 `json:"received"`
		Dropped     uint64 `json:"dropped"`
		IfDropped   uint64 `json:"if_dropped"`
		// What failed while it ran; omitted when nothing did.
		WriteError      rstr   `json:"write_error,omitempty"`
		WriteLost       uint64 `json:"write_lost,omitempty"`
		CheckpointError rstr   `json:"checkpoint_error,omitempty"`
	}
)

func strs(l []string) []rstr {
	out := make([]rstr, len(l))
	for i, s := range l {
		out[i] = rstr(s)
	}
	return out
}

func addrs(l []netip.Addr) []raddr {
	out := make([]raddr, len(l))
	for i, a := range l {
		out[i] = raddr(a)
	}
	return out
}

// fromStrs is the inverse of strs; nil for none, as the classifier leaves an
// empty list.
func fromStrs(l []rstr) []string {
	if len(l) == 0 {
		return nil
	}
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = string(s)
	}
	return out
}

func fromAddrs(l []raddr) []netip.Addr {
	if len(l) == 0 {
		return nil
	}
	out := make([]netip.Addr, len(l))
	for i, a := range l {
		out[i] = netip.Addr(a)
	}
	return out
}

// vocabulary checks that the keys of a map the record writes as a JSON
// object are valid UTF-8: they are phonehome's own words (evidence kinds,
// scope reasons, link type names), never bytes from a packet, and a JSON
// object key has no form for other bytes.
func vocabulary[V any](field string, m map[string]V) error {
	for k := range m {
		if !utf8.ValidString(k) {
			return fmt.Errorf("write run record: %s key %q is not UTF-8", field, k)
		}
	}
	return nil
}

func toRecord(run *Run, meta RecordMeta) (*record, error) {
	if err := vocabulary("excluded", run.Excluded); err != nil {
		return nil, err
	}
	if err := vocabulary("unsupported", run.Unsupported); err != nil {
		return nil, err
	}
	r := &record{Format: RecordFormat, Version: RecordVersion, Tool: rstr(meta.Tool), Written: rtime(meta.Written), Label: rstr(meta.Label),
		Build: rstr(meta.Build), Edition: rstr(meta.Edition)}
	rr := &r.Run
	*rr = recRun{
		VM: raddr(run.VM), VMDetected: run.VMDetected, VMFlows: run.VMFlows, VMHow: rstr(run.VMHow),
		BusiestLocal: raddr(run.BusiestLocal), BusiestLocalFlows: run.BusiestLocalFlows,
		First: rtime(run.First), Last: rtime(run.Last), Packets: run.Packets, Bytes: run.Bytes,
		InScope:      recExcluded(run.InScope),
		Names:        make([]recName, 0, len(run.Names)),
		Ambiguous:    make([]recAmbiguous, 0, len(run.Ambiguous)),
		Unattributed: make([]recAddr, 0, len(run.Unattributed)),
		Excluded:     make(map[string]*recExcluded, len(run.Excluded)),
		DNS:          run.DNS,
		Bounds:       make([]recBound, len(run.Bounds)),
		Truncation:   run.Truncation,
		Anomalies:    make([]recAnomaly, len(run.Anomalies)),
		Inputs:       strs(run.Inputs),
		Damage:       make([]recDamage, len(run.Damage)),
		Unsupported:  run.Unsupported,
		Duplicates:   run.Duplicates,
		InputStats:   make([]recInput, len(run.InputStats)),
		Sessions:     make([]recSession, len(run.Sessions)),
		OpenAtEnd:    boundaryRecs(run.OpenAtEnd),
		PickedUp:     boundaryRecs(run.PickedUp),
	}
	if rr.Unsupported == nil {
		rr.Unsupported = map[string]uint64{}
	}
	for _, k := range slices.Sorted(maps.Keys(run.Names)) {
		n := run.Names[k]
		if err := vocabulary("evidence of a name", n.Evidence); err != nil {
			return nil, err
		}
		ev := n.Evidence
		if ev == nil {
			ev = map[string]int{}
		}
		rr.Names = append(rr.Names, recName{
			Name: rstr(n.Name), Evidence: ev, Flows: n.Flows, BytesOut: n.BytesOut, BytesIn: n.BytesIn,
			First: rtime(n.First), Last: rtime(n.Last), Protocols: strs(n.Protocols), Aliases: strs(n.Aliases),
			Paths: strs(n.Paths), HostLevel: n.HostLevel, Addrs: addrs(n.Addrs), FirstEvidence: toRecEvidence(n.FirstEvidence),
			Starts: toRecStarts(n.Starts),
		})
	}
	for _, k := range slices.Sorted(maps.Keys(run.Ambiguous)) {
		a := run.Ambiguous[k]
		al := make([][]rstr, len(a.Aliases))
		for i, l := range a.Aliases {
			al[i] = strs(l)
		}
		rr.Ambiguous = append(rr.Ambiguous, recAmbiguous{
			Names: strs(a.Names), Aliases: al, Flows: a.Flows, BytesOut: a.BytesOut, BytesIn: a.BytesIn,
			First: rtime(a.First), Last: rtime(a.Last), Protocols: strs(a.Protocols), Addrs: addrs(a.Addrs),
			FirstEvidence: toRecEvidence(a.FirstEvidence),
		})
	}
	for _, k := range slices.SortedFunc(maps.Keys(run.Unattributed), netip.Addr.Compare) {
		a := run.Unattributed[k]
		rr.Unattributed = append(rr.Unattributed, recAddr{
			Addr: raddr(a.Addr), Flows: a.Flows, BytesOut: a.BytesOut, BytesIn: a.BytesIn,
			First: rtime(a.First), Last: rtime(a.Last), Ports: strs(a.Ports),
		})
	}
	for k, e := range run.Excluded {
		rr.Excluded[k] = (*recExcluded)(e)
	}
	for i, b := range run.Bounds {
		rr.Bounds[i] = recBound{What: rstr(b.What), Limit: b.Limit, Times: b.Times}
	}
	for i, a := range run.Anomalies {
		rr.Anomalies[i] = recAnomaly{Kind: rstr(a.Kind), What: rstr(a.What), Flows: a.Flows, Names: strs(a.Names)}
	}
	for i, d := range run.Damage {
		rr.Damage[i] = recDamage{File: rstr(d.File), Kind: d.Kind.String(), Offset: d.Offset, Decompressed: d.Decompressed,
			Records: d.Records, Reason: rstr(d.Reason)}
	}
	for i, in := range run.InputStats {
		rr.InputStats[i] = recInput{Name: rstr(in.Name), Stream: in.Stream, Compression: rstr(in.Compression),
			Format: rstr(in.Format), Bytes: in.Bytes, Frames: in.Frames, Duplicates: in.Duplicates, Empty: in.Empty,
			Skipped: rstr(in.Skipped)}
	}
	for i, s := range run.Sessions {
		rr.Sessions[i] = recSession{Interface: rstr(s.Interface), LinkType: rstr(s.LinkType), Filter: rstr(s.Filter),
			Snaplen: s.Snaplen, Promiscuous: s.Promiscuous, BufferSize: s.BufferSize, Immediate: s.Immediate,
			Start: rtime(s.Start), End: rtime(s.End), Ended: rstr(s.Ended),
			Received: s.Received, Dropped: s.Dropped, IfDropped: s.IfDropped,
			WriteError: rstr(s.WriteError), WriteLost: s.WriteLost, CheckpointError: rstr(s.CheckpointError)}
	}
	return r, nil
}

// damageKinds reads Damage.Kind back from its name.
var damageKinds = map[string]capture.DamageKind{
	capture.DamageStopped.String():    capture.DamageStopped,
	capture.DamageReadOn.String():     capture.DamageReadOn,
	capture.DamageUnreadable.String(): capture.DamageUnreadable,
}

// fromRecord makes the Run a record holds, and checks what JSON's types do
// not: no name, set of names or address twice, an alias list for each name
// of a set, counts that are not negative, known damage kinds.
func fromRecord(rec *record) (*Run, error) {
	rr := &rec.Run
	run := &Run{
		VM: netip.Addr(rr.VM), VMDetected: rr.VMDetected, VMFlows: rr.VMFlows, VMHow: string(rr.VMHow),
		BusiestLocal: netip.Addr(rr.BusiestLocal), BusiestLocalFlows: rr.BusiestLocalFlows,
		First: time.Time(rr.First), Last: time.Time(rr.Last), Packets: rr.Packets, Bytes: rr.Bytes,
		InScope:      Excluded(rr.InScope),
		Names:        make(map[string]*NameStat, len(rr.Names)),
		Ambiguous:    make(map[string]*AmbiguousStat, len(rr.Ambiguous)),
		Unattributed: make(map[netip.Addr]*AddrStat, len(rr.Unattributed)),
		Excluded:     make(map[string]*Excluded, len(rr.Excluded)),
		DNS:          rr.DNS,
		Truncation:   rr.Truncation,
		Inputs:       fromStrs(rr.Inputs),
		Unsupported:  rr.Unsupported,
		Duplicates:   rr.Duplicates,
	}
	if rr.VMFlows < 0 || rr.BusiestLocalFlows < 0 {
		return nil, errors.New("field run.vm_flows or run.busiest_local_flows: negative")
	}
	if run.Unsupported == nil {
		run.Unsupported = map[string]uint64{}
	}
	for i, n := range rr.Names {
		where := fmt.Sprintf("field run.names[%d]", i)
		if _, dup := run.Names[string(n.Name)]; dup {
			return nil, fmt.Errorf("%s: name %s given twice", where, printable(string(n.Name)))
		}
		if n.Flows < 0 {
			return nil, fmt.Errorf("%s.flows: negative", where)
		}
		ev := n.Evidence
		if ev == nil {
			ev = map[string]int{}
		}
		starts, err := fromRecStarts(n.Starts)
		if err != nil {
			return nil, fmt.Errorf("%s.starts: %w", where, err)
		}
		run.Names[string(n.Name)] = &NameStat{
			Name: string(n.Name), Evidence: ev, Flows: n.Flows, BytesOut: n.BytesOut, BytesIn: n.BytesIn,
			First: time.Time(n.First), Last: time.Time(n.Last), Protocols: fromStrs(n.Protocols),
			Aliases: fromStrs(n.Aliases), Paths: fromStrs(n.Paths), HostLevel: n.HostLevel, Addrs: fromAddrs(n.Addrs),
			FirstEvidence: fromRecEvidence(n.FirstEvidence), Starts: starts,
		}
	}
	for i, a := range rr.Ambiguous {
		where := fmt.Sprintf("field run.ambiguous[%d]", i)
		if len(a.Names) == 0 || len(a.Aliases) != len(a.Names) {
			return nil, fmt.Errorf("%s: %d names and %d alias lists; want one list for each name, and a name at least", where, len(a.Names), len(a.Aliases))
		}
		names := fromStrs(a.Names)
		for _, n := range names {
			if len(n) > 0xffff {
				return nil, fmt.Errorf("%s: a name of %d bytes; names are at most 65535", where, len(n))
			}
		}
		key := ambiguousKey(names)
		if _, dup := run.Ambiguous[key]; dup {
			return nil, fmt.Errorf("%s: set of names given twice", where)
		}
		if a.Flows < 0 {
			return nil, fmt.Errorf("%s.flows: negative", where)
		}
		al := make([][]string, len(a.Aliases))
		for i, l := range a.Aliases {
			al[i] = fromStrs(l)
		}
		run.Ambiguous[key] = &AmbiguousStat{
			Names: names, Aliases: al, Flows: a.Flows, BytesOut: a.BytesOut, BytesIn: a.BytesIn,
			First: time.Time(a.First), Last: time.Time(a.Last), Protocols: fromStrs(a.Protocols), Addrs: fromAddrs(a.Addrs),
			FirstEvidence: fromRecEvidence(a.FirstEvidence),
		}
	}
	for i, a := range rr.Unattributed {
		addr := netip.Addr(a.Addr)
		if _, dup := run.Unattributed[addr]; dup {
			return nil, fmt.Errorf("field run.unattributed[%d]: address %s given twice", i, addr)
		}
		if a.Flows < 0 {
			return nil, fmt.Errorf("field run.unattributed[%d].flows: negative", i)
		}
		run.Unattributed[addr] = &AddrStat{Addr: addr, Flows: a.Flows, BytesOut: a.BytesOut, BytesIn: a.BytesIn,
			First: time.Time(a.First), Last: time.Time(a.Last), Ports: fromStrs(a.Ports)}
	}
	for k, e := range rr.Excluded {
		if e == nil {
			return nil, fmt.Errorf("field run.excluded[%s]: null", printable(k))
		}
		run.Excluded[k] = (*Excluded)(e)
	}
	for _, b := range rr.Bounds {
		run.Bounds = append(run.Bounds, capture.Bound{What: string(b.What), Limit: b.Limit, Times: b.Times})
	}
	for _, a := range rr.Anomalies {
		run.Anomalies = append(run.Anomalies, Anomaly{Kind: string(a.Kind), What: string(a.What), Flows: a.Flows, Names: fromStrs(a.Names)})
	}
	for i, d := range rr.Damage {
		kind, ok := damageKinds[d.Kind]
		if !ok {
			return nil, fmt.Errorf("field run.damage[%d].kind: %s; want stopped, read-on or unreadable", i, printable(d.Kind))
		}
		run.Damage = append(run.Damage, capture.Damage{File: string(d.File), Kind: kind, Offset: d.Offset,
			Decompressed: d.Decompressed, Records: d.Records, Reason: string(d.Reason)})
	}
	for _, in := range rr.InputStats {
		run.InputStats = append(run.InputStats, capture.Input{Name: string(in.Name), Stream: in.Stream,
			Compression: string(in.Compression), Format: string(in.Format), Bytes: in.Bytes, Frames: in.Frames,
			Duplicates: in.Duplicates, Empty: in.Empty, Skipped: string(in.Skipped)})
	}
	run.OpenAtEnd, run.PickedUp = fromBoundaryRecs(rr.OpenAtEnd), fromBoundaryRecs(rr.PickedUp)
	for _, s := range rr.Sessions {
		run.Sessions = append(run.Sessions, capture.Session{Interface: string(s.Interface), LinkType: string(s.LinkType),
			Filter: string(s.Filter), Snaplen: s.Snaplen, Promiscuous: s.Promiscuous, BufferSize: s.BufferSize,
			Immediate: s.Immediate, Start: time.Time(s.Start), End: time.Time(s.End), Ended: string(s.Ended),
			Received: s.Received, Dropped: s.Dropped, IfDropped: s.IfDropped,
			WriteError: string(s.WriteError), WriteLost: s.WriteLost, CheckpointError: string(s.CheckpointError)})
	}
	return run, nil
}

func boundaryRecs(l []BoundaryFlow) []recBoundary {
	out := make([]recBoundary, len(l))
	at := func(t time.Time) *rtime {
		if t.IsZero() {
			return nil
		}
		r := rtime(t)
		return &r
	}
	for i, b := range l {
		out[i] = recBoundary{Proto: rstr(b.Proto), Src: raddr(b.Src), SPort: b.SPort, Dst: raddr(b.Dst), DPort: b.DPort,
			First: at(b.First), Last: at(b.Last), Until: at(b.Until)}
	}
	return out
}

func fromBoundaryRecs(l []recBoundary) []BoundaryFlow {
	if len(l) == 0 {
		return nil
	}
	out := make([]BoundaryFlow, len(l))
	at := func(t *rtime) time.Time {
		if t == nil {
			return time.Time{}
		}
		return time.Time(*t)
	}
	for i, b := range l {
		out[i] = BoundaryFlow{Proto: string(b.Proto), Src: netip.Addr(b.Src), SPort: b.SPort, Dst: netip.Addr(b.Dst), DPort: b.DPort,
			First: at(b.First), Last: at(b.Last), Until: at(b.Until)}
	}
	return out
}

// toRecEvidence is e as the record writes it: nil for the zero EvidenceRef.
func toRecEvidence(e EvidenceRef) *recEvidence {
	if e == (EvidenceRef{}) {
		return nil
	}
	return &recEvidence{File: rstr(e.File), Frame: e.Frame, Time: rtime(e.Time), Kind: rstr(e.Kind), Proto: rstr(e.Proto),
		Src: raddr(e.Src), SPort: e.SPort, Dst: raddr(e.Dst), DPort: e.DPort, Start: rtime(e.Start)}
}

// fromRecEvidence is toRecEvidence undone.
func fromRecEvidence(r *recEvidence) EvidenceRef {
	if r == nil {
		return EvidenceRef{}
	}
	return EvidenceRef{File: string(r.File), Frame: r.Frame, Time: time.Time(r.Time), Kind: string(r.Kind), Proto: string(r.Proto),
		Src: netip.Addr(r.Src), SPort: r.SPort, Dst: netip.Addr(r.Dst), DPort: r.DPort, Start: time.Time(r.Start)}
}

// toRecStarts writes start times (Unix nanoseconds, sorted) as the first,
// then each one's distance from the one before: 256 starts of a name
// contacted every 15 min take 3.3 kB rather than the 8 kB of as many RFC
// 3339 times, so a record of 100 000 names full stays within the reader's
// 1 GiB.
func toRecStarts(starts []int64) []int64 {
	if len(starts) == 0 {
		return nil
	}
	out := make([]int64, len(starts))
	out[0] = starts[0]
	for i := 1; i < len(starts); i++ {
		out[i] = starts[i] - starts[i-1]
	}
	return out
}

// fromRecStarts is toRecStarts undone; the times must be sorted (no
// negative distance) and at most MaxStarts, as the classifier and Merge keep
// them, else an error (Merge and the rhythm rely on it).
func fromRecStarts(r []int64) ([]int64, error) {
	if len(r) == 0 {
		return nil, nil
	}
	if len(r) > MaxStarts {
		return nil, fmt.Errorf("%d start times; at most %d are kept", len(r), MaxStarts)
	}
	out := make([]int64, len(r))
	out[0] = r[0]
	for i := 1; i < len(r); i++ {
		if r[i] < 0 || out[i-1] > math.MaxInt64-r[i] {
			return nil, fmt.Errorf("start time %d: distance %d from the one before; want 0 or more, within int64 nanoseconds", i, r[i])
		}
		out[i] = out[i-1] + r[i]
	}
	return out, nil
}
