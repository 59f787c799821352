package reports

import (
	"io"
	"net/netip"
	"strconv"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/phonehome/phonehome/classify"
)

// flowTime is the --flows time format: RFC 3339 in UTC with all nine digits
// of nanoseconds, so that every line has the same shape and sorts as text.
const flowTime = "2006-01-02T15:04:05.000000000Z07:00"

// flowBuffer is how many bytes of lines FlowWriter holds before it hands
// them to be written: 1 MiB, some 2 400 lines of 430 bytes. With 64 KiB,
// --flows cost the bench capture's analyze 1.22x its time, with 1 MiB
// 1.14x (11 interleaved rounds, medians of the rounds' ratios): the
// hand-offs and the writes in small pieces cost more than the 2 MiB of two
// buffers. A live capture's lines reach the file a buffer at a time.
const flowBuffer = 1 << 20

// FlowWriter writes finished flows as JSON lines (one object per flow), the
// --flows output. The fields are those of classify.FlowRecord, in its order
// and with its JSON names and omitempty, then first_seen and last_seen, RFC
// 3339 in UTC with nanoseconds: the bytes encoding/json and safeJSON made of
// it before (TestFlowLinesAsBefore, FuzzFlowLine), written by hand.
//
// Write allocates nothing (TestFlowWriterAllocatesNothing): on the 1 GB
// bench capture json.Marshal doubled the time of analyze; see the README's
// Performance section for what --flows costs now. Lines are appended to one
// of two buffers while a goroutine writes the other to w, so the write
// system calls (a third of --flows' cost on the bench capture) run beside
// the classifier rather than in it. That goroutine runs from the first full
// buffer to Flush. A FlowWriter is not safe for concurrent use.
type FlowWriter struct {
	w     io.Writer
	buf   []byte // lines not handed to be written yet
	spare []byte // the other buffer, when not out being written
	err   error  // the first error, as far as Write knows it
	out   chan []byte
	back  chan flowWritten
	busy  bool // a buffer is out being written
}

// flowWritten is a buffer written by the writing goroutine, returned.
type flowWritten struct {
	buf []byte
	err error
}

// NewFlowWriter returns a FlowWriter on w. Call Flush at the end: it writes
// what is buffered and ends the writing goroutine.
func NewFlowWriter(w io.Writer) *FlowWriter {
	return &FlowWriter{w: w, buf: make([]byte, 0, flowBuffer+64<<10), spare: make([]byte, 0, flowBuffer+64<<10)}
}

// Write writes one flow; the first error is kept and returned by Flush.
func (f *FlowWriter) Write(rec *classify.FlowRecord) {
	if f.err != nil {
		return
	}
	f.buf = appendFlowLine(f.buf, rec)
	if len(f.buf) >= flowBuffer {
		f.handOff()
	}
}

// handOff hands the buffer to the writing goroutine (started if none runs)
// and takes the other, once it is written.
func (f *FlowWriter) handOff() {
	if f.busy {
		f.wait()
		if f.err != nil {
			return
		}
	}
	if f.out == nil {
		f.out, f.back = make(chan []byte), make(chan flowWritten)
		go writeFlows(f.w, f.out, f.back)
	}
	f.out <- f.buf
	f.busy = true
	f.buf, f.spare = f.spare[:0], nil
}

// wait waits for the buffer out being written and takes it back.
func (f *FlowWriter) wait() {
	r := <-f.back
	f.spare, f.busy = r.buf, false
	if f.err == nil {
		f.err = r.err
	}
}

// writeFlows writes each buffer from out to w and returns it on back, until
// out is closed.
func writeFlows(w io.Writer, out <-chan []byte, back chan<- flowWritten) {
	for b := range out {
		_, err := w.Write(b)
		back <- flowWritten{b, err}
	}
}

// Flush writes what is buffered, ends the writing goroutine and returns the
// first error. Write may be called after it.
func (f *FlowWriter) Flush() error {
	if f.busy {
		f.wait()
	}
	if f.out != nil {
		close(f.out)
		f.out, f.back = nil, nil
	}
	if f.err == nil && len(f.buf) > 0 {
		_, f.err = f.w.Write(f.buf)
		f.buf = f.buf[:0]
	}
	return f.err
}

// appendFlowLine appends rec's line, newline included, to b.
func appendFlowLine(b []byte, rec *classify.FlowRecord) []byte {
	b = append(b, `{"proto":`...)
	b = appendJSONString(b, rec.Proto)
	b = append(b, `,"src":`...)
	b = appendJSONAddr(b, rec.Src)
	b = append(b, `,"sport":`...)
	b = strconv.AppendUint(b, uint64(rec.SPort), 10)
	b = append(b, `,"dst":`...)
	b = appendJSONAddr(b, rec.Dst)
	b = append(b, `,"dport":`...)
	b = strconv.AppendUint(b, uint64(rec.DPort), 10)
	b = append(b, `,"packets_out":`...)
	b = strconv.AppendUint(b, rec.PacketsOut, 10)
	b = append(b, `,"packets_in":`...)
	b = strconv.AppendUint(b, rec.PacketsIn, 10)
	b = append(b, `,"bytes_out":`...)
	b = strconv.AppendUint(b, rec.BytesOut, 10)
	b = append(b, `,"bytes_in":`...)
	b = strconv.AppendUint(b, rec.BytesIn, 10)
	b = append(b, `,"name":`...)
	name := len(b)
	b = appendJSONString(b, rec.Name)
	escName := b[name:len(b):len(b)] // Name, escaped, for SNI, Host and DNS name, which are often the same
	b = append(b, `,"evidence":`...)
	b = appendJSONString(b, rec.Evidence)
	b = append(b, `,"scope":`...)
	b = appendJSONString(b, rec.Scope)
	b = appendOptName(b, `,"sni":`, rec.SNI, rec.Name, escName)
	b = appendOptName(b, `,"http_host":`, rec.HTTPHost, rec.Name, escName)
	b = appendOptStrings(b, `,"http_paths":`, rec.HTTPPaths)
	b = appendOptName(b, `,"dns_name":`, rec.DNSName, rec.Name, escName)
	b = appendOptStrings(b, `,"cnames":`, rec.CNAMEs)
	b = appendOptString(b, `,"tls_version":`, rec.TLSVersion)
	if len(rec.DNSCandidates) > 0 {
		b = append(b, `,"dns_candidates":[`...)
		for i := range rec.DNSCandidates {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = appendJSONString(b, rec.DNSCandidates[i].Name)
			b = appendOptStrings(b, `,"cnames":`, rec.DNSCandidates[i].CNAMEs)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendOptStrings(b, `,"anomalies":`, rec.Anomalies)
	if rec.Truncated {
		b = append(b, `,"truncated":true`...)
	}
	b = appendOptString(b, `,"cut":`, rec.Cut)
	b = appendOptString(b, `,"tunnel":`, rec.Tunnel)
	b = appendOptString(b, `,"file":`, rec.File)
	if rec.Frame != 0 {
		b = strconv.AppendInt(append(b, `,"frame":`...), rec.Frame, 10)
	}
	b = append(b, `,"first_seen":`...)
	b = appendJSONTime(b, rec.FirstSeen)
	b = append(b, `,"last_seen":`...)
	b = appendJSONTime(b, rec.LastSeen)
	return append(b, '}', '\n')
}

// appendOptString appends key and s unless s is empty (omitempty).
func appendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendJSONString(append(b, key...), s)
}

// appendOptName is appendOptString for a field that is often the flow's
// name: when s is name, it appends escName, name as escaped before, rather
// than escaping it again.
func appendOptName(b []byte, key, s, name string, escName []byte) []byte {
	if s == "" {
		return b
	}
	b = append(b, key...)
	if s == name {
		return append(b, escName...)
	}
	return appendJSONString(b, s)
}

// appendOptStrings appends key and the array of ss unless ss is empty
// (omitempty).
func appendOptStrings(b []byte, key string, ss []string) []byte {
	if len(ss) == 0 {
		return b
	}
	b = append(b, key...)
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONTime appends t in UTC as a flowTime string; its text is ASCII
// that needs no escaping. Years 0 to 9999 it writes by hand, at a third of
// AppendFormat's cost (which was half of a flow line's); others go to
// AppendFormat.
func appendJSONTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		b = append(b, '"')
		b = t.AppendFormat(b, flowTime)
		return append(b, '"')
	}
	hour, minute, sec := t.Clock()
	ns := t.Nanosecond()
	b = append(b, '"',
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+month/10), byte('0'+month%10), '-', byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.')
	var digits [9]byte
	for i := 8; i >= 0; i-- {
		digits[i] = byte('0' + ns%10)
		ns /= 10
	}
	b = append(b, digits[:]...)
	return append(b, 'Z', '"')
}

// appendJSONAddr appends a as encoding/json writes it (its text, "" for the
// zero Addr). Only an IPv6 zone can hold what needs escaping.
func appendJSONAddr(b []byte, a netip.Addr) []byte {
	b = append(b, '"')
	if zone := a.Zone(); zone != "" {
		b = a.WithZone("").AppendTo(b)
		b = append(b, '%')
		b = appendJSONEscaped(b, zone)
	} else {
		b = a.AppendTo(b)
	}
	return append(b, '"')
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it (with HTML escaping) and then safeJSON.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendJSONEscaped(b, s)
	return append(b, '"')
}

// jsonPlain holds true for the ASCII bytes a JSON string keeps as they are:
// printable ones (DEL included, as encoding/json keeps it) but '"', '\\'
// and the HTML-unsafe '<', '>' and '&'.
var jsonPlain = func() (t [utf8.RuneSelf]bool) {
	for c := byte(0x20); c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

const lowerHex = "0123456789abcdef"

// appendJSONEscaped appends the inside of s as a JSON string. It escapes as
// encoding/json's Marshal does: '"' and '\\' with a backslash; \b, \f, \n,
// \r, \t as such; other C0 controls, '<', '>' and '&' as \u00XX; each byte of
// invalid UTF-8 as \ufffd; U+2028 and U+2029 as \u2028 and \u2029; and then as
// safeJSON does: C1 controls and format characters (unicode.Cf) as \uXXXX
// (a surrogate pair past U+FFFF).
func appendJSONEscaped(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonPlain[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', lowerHex[c>>4], lowerHex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r < 0xa0 || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r):
			b = append(b, s[start:i]...)
			b = appendRuneEscape(b, r)
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(b, s[start:]...)
}

// appendRuneEscape appends r as a JSON \u escape: four lower-case hex
// digits, as safeJSON writes it; past U+FFFF a UTF-16 surrogate pair.
func appendRuneEscape(b []byte, r rune) []byte {
	if r > 0xffff {
		r1, r2 := utf16.EncodeRune(r)
		return appendRuneEscape(appendRuneEscape(b, r1), r2)
	}
	return append(b, '\\', 'u', lowerHex[r>>12&0xf], lowerHex[r>>8&0xf], lowerHex[r>>4&0xf], lowerHex[r&0xf])
}

// utc returns t in UTC, so the JSON report does not depend on the machine's
// time zone.
func utc(t time.Time) time.Time { return t.UTC() }
