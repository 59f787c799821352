//go:build unix

package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/phonehome/phonehome/classify"
)

// TestOutputIntoFIFO checks that -o and --save write into a path that is not
// a regular file (a FIFO here; /dev/null and /dev/stdout alike) rather than
// rename a file over it, which would replace the device or pipe.
func TestOutputIntoFIFO(t *testing.T) {
	dir := t.TempDir()
	report, rec := filepath.Join(dir, "report"), filepath.Join(dir, "run.json")
	for _, p := range []string{report, rec} {
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Skipf("mkfifo: %v", err)
		}
	}
	got := map[string]chan string{report: make(chan string, 1), rec: make(chan string, 1)}
	for p, ch := range got {
		go func() {
			f, err := os.Open(p)
			if err != nil {
				ch <- err.Error()
				return
			}
			b, _ := io.ReadAll(f)
			f.Close()
			ch <- string(b)
		}()
	}
	if code, _, stderr := runCaptured(t, "analyze", "-q", "--format", "json", "-o", report, "--save", rec, sample); code != 0 {
		t.Fatalf("analyze -o FIFO --save FIFO: exit status %d, stderr %q", code, stderr)
	}
	for _, p := range []string{report, rec} {
		if fi, err := os.Stat(p); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Fatalf("%s after the run: %v, %v; want the FIFO still there", filepath.Base(p), fi.Mode(), err)
		}
	}
	// Written into, each FIFO's reader has its bytes by now; the timeout
	// only keeps a broken writer from hanging the test.
	read := func(p string) string {
		select {
		case s := <-got[p]:
			return s
		case <-time.After(20 * time.Second):
			return "nothing"
		}
	}
	if s := read(report); !strings.Contains(s, `"schema_version"`) {
		t.Errorf("the report FIFO carried %.80q; want the JSON report", s)
	}
	if s := read(rec); !strings.Contains(s, `"format":"`+classify.RecordFormat+`"`) && !strings.Contains(s, `"format": "`+classify.RecordFormat+`"`) {
		t.Errorf("the record FIFO carried %.80q; want a run record", s)
	}
}
