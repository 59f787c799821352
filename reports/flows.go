package reports

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/phonehome/phonehome/classify"
)

// FlowWriter writes finished flows as JSON lines (one object per flow), the
// --flows output. Times are RFC 3339 with nanoseconds (time.Time's JSON form).
type FlowWriter struct {
	bw  *bufio.Writer
	err error
}

// NewFlowWriter returns a FlowWriter on w. Call Flush at the end.
func NewFlowWriter(w io.Writer) *FlowWriter {
	return &FlowWriter{bw: bufio.NewWriterSize(w, 64<<10)}
}

// Write writes one flow; the first error is kept and returned by Flush.
func (f *FlowWriter) Write(rec *classify.FlowRecord) {
	if f.err != nil {
		return
	}
	b, err := json.Marshal(rec)
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
