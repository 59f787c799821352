//go:build linux

package capture

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRegularReader: the raw reader gives a regular file's bytes as
// os.File.Read does, ends with io.EOF, says os.ErrClosed naming the file once
// it is closed, and is not used for what is not a regular file (a pipe may
// wait for its writer).
func TestRegularReader(t *testing.T) {
	want := bytes.Repeat([]byte("0123456789abcdef"), 70_000) // over two chunks
	path := filepath.Join(t.TempDir(), "x.pcap")
	if err := os.WriteFile(path, want, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	r := newRegularReader(f, fi)
	if r == nil {
		t.Fatal("no raw reader for a regular file")
	}
	got := make([]byte, 0, len(want))
	buf := make([]byte, 100_000)
	for {
		n, err := r.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, not the file's %d", len(got), len(want))
	}
	if n, err := r.Read(nil); n != 0 || err != nil {
		t.Errorf("Read(nil) = %d, %v; want 0, nil", n, err)
	}
	f.Close()
	if _, err := r.Read(buf); !errors.Is(err, os.ErrClosed) || !strings.Contains(err.Error(), path) {
		t.Errorf("read after close: %v, want os.ErrClosed naming the file", err)
	}

	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	pi, _ := pr.Stat()
	if newRegularReader(pr, pi) != nil {
		t.Error("raw reader for a pipe")
	}
}
