package reports

import (
	"bufio"
	"encoding/json"
	"io"
	"time"

	"github.com/phonehome/phonehome/classify"
)

// flowTime is the --flows time format: RFC 3339 in UTC with all nine digits
// of nanoseconds, so that every line has the same shape and sorts as text.
const flowTime = "2006-01-02T15:04:05.000000000Z07:00"

// FlowWriter writes finished flows as JSON lines (one object per flow), the
// --flows output. The fields are those of classify.FlowRecord; first_seen and
// last_seen are RFC 3339 in UTC with nanoseconds.
type FlowWriter struct {
	bw  *bufio.Writer
	err error
}

// NewFlowWriter returns a FlowWriter on w. Call Flush at the end.
func NewFlowWriter(w io.Writer) *FlowWriter {
	return &FlowWriter{bw: bufio.NewWriterSize(w, 64<<10)}
}

// flowLine is FlowRecord with its times formatted.
type flowLine struct {
	*classify.FlowRecord
	FirstSeen string `json:"first_seen"`
	LastSeen  string `json:"last_seen"`
}

// Write writes one flow; the first error is kept and returned by Flush.
func (f *FlowWriter) Write(rec *classify.FlowRecord) {
	if f.err != nil {
		return
	}
	b, err := json.Marshal(flowLine{
		FlowRecord: rec,
		FirstSeen:  rec.FirstSeen.UTC().Format(flowTime),
		LastSeen:   rec.LastSeen.UTC().Format(flowTime),
	})
	if err == nil {
		_, err = f.bw.Write(append(safeJSON(b), '\n'))
	}
	f.err = err
}

// Flush writes what is buffered and returns the first error.
func (f *FlowWriter) Flush() error {
	if f.err != nil {
		return f.err
	}
	return f.bw.Flush()
}

// utc returns t in UTC, so the JSON report does not depend on the machine's
// time zone.
func utc(t time.Time) time.Time { return t.UTC() }
