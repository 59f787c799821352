package capture

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stdinFrom makes the file standard input for the rest of the test, through
// a pipe, so that it reads as a stream.
func stdinFrom(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.Write(data)
		w.Close()
	}()
	old := os.Stdin
	os.Stdin = r
	t.Cleanup(func() {
		os.Stdin = old
		r.Close()
	})
}

// readWithin reads paths as readFiles does, failing when that takes more
// than 10 s: a stream opened twice waits for ever for its writer.
func readWithin(t *testing.T, paths ...string) ([]got, []Damage, Stats) {
	t.Helper()
	type result struct {
		pkts []got
		dmg  []Damage
		st   Stats
	}
	done := make(chan result, 1)
	go func() {
		pkts, dmg, st := readFiles(t, Options{}, paths...)
		done <- result{pkts, dmg, st}
	}()
	select {
	case r := <-done:
		return r.pkts, r.dmg, r.st
	case <-time.After(10 * time.Second):
		t.Fatalf("reading %v did not finish in 10 s (a stream read twice?)", paths)
	}
	return nil, nil, Stats{}
}

// TestStreams reads a capture (zstd-compressed) as a stream, once: from
// standard input (-), a FIFO, and a pipe named by /dev/fd/N (what a shell's
// <(zstdcat x.pcap.zst) gives); and a character device that gives nothing.
// Each was read twice before, and failed.
func TestStreams(t *testing.T) {
	src := filepath.Join("testdata", "compressed", "part.pcapng.zst")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	want := samplePackets(t, 40)
	writeTo := func(t *testing.T, w *os.File) {
		go func() {
			w.Write(data)
			w.Close()
		}()
	}
	tests := []struct {
		name  string
		setup func(t *testing.T) string
	}{
		{"standard_input", func(t *testing.T) string {
			stdinFrom(t, src)
			return "-"
		}},
		{"fifo", func(t *testing.T) string {
			fifo := filepath.Join(t.TempDir(), "capture.fifo")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Skipf("no FIFO: %v", err)
			}
			go func() {
				w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
				if err == nil {
					writeTo(t, w)
				}
			}()
			return fifo
		}},
		{"dev_fd_pipe", func(t *testing.T) string {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			path := "/dev/fd/" + strconv.Itoa(int(r.Fd()))
			if _, err := os.Stat(path); err != nil {
				t.Skipf("no /dev/fd: %v", err)
			}
			writeTo(t, w)
			return path
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.setup(t)
			pkts, dmg, st := readWithin(t, path)
			if len(dmg) != 0 || len(pkts) != len(want) {
				t.Fatalf("read %d packets, damage %v; want %d, none", len(pkts), dmg, len(want))
			}
			for i := range want {
				if pkts[i] != want[i] {
					t.Fatalf("packet %d = %+v; want %+v", i, pkts[i], want[i])
				}
			}
			in := st.Inputs[0]
			if !in.Stream || in.Name != path || in.Compression != "zstd" || in.Format != "pcapng" || in.Bytes != int64(len(data)) || in.Frames != 40 {
				t.Errorf("Stats().Inputs[0] = %+v; want a zstd pcapng stream %s of %d bytes, 40 frames", in, path, len(data))
			}
			if st.FileBytes != 0 {
				t.Errorf("Stats().FileBytes = %d; want 0 (a stream's length is not known)", st.FileBytes)
			}
		})
	}
	t.Run("character_device_empty", func(t *testing.T) {
		pkts, dmg, st := readWithin(t, os.DevNull)
		if len(pkts) != 0 || len(dmg) != 0 || !st.Inputs[0].Empty || !st.Inputs[0].Stream {
			t.Errorf("%s: %d packets, damage %v, inputs %+v; want an empty stream", os.DevNull, len(pkts), dmg, st.Inputs)
		}
	})
	t.Run("standard_input_twice", func(t *testing.T) {
		stdinFrom(t, src)
		pkts, dmg, _ := readWithin(t, "-", "-")
		if len(pkts) != 40 || len(dmg) != 1 || dmg[0].Kind != DamageUnreadable || !strings.Contains(dmg[0].Reason, "standard input is given twice") {
			t.Errorf("- twice: %d packets, damage %+v; want 40 and the second - unreadable", len(pkts), dmg)
		}
	})
}

// TestDirectory: a directory is walked for captures, by content, in the
// order of their first packets; other files are listed as skipped, with the
// reason; directories below are walked too, symbolic links to directories
// are not followed.
func TestDirectory(t *testing.T) {
	dir := t.TempDir()
	week := filepath.Join(dir, "week")
	for _, d := range []string{"week", "week/mon", "week/tue", "elsewhere"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	f := func(tag string) []byte { return ipv4UDP(t, tag) }
	pcap := func(recs ...rec) []byte {
		return buildPcap(pcapSpec{snap: 65535, linkType: uint32(LinkTypeRaw)}, recs...)
	}
	day := 24 * time.Hour
	tue := writeFile(t, filepath.Join(week, "tue"), "a.pcap.gz", gzipBytes(t, pcap(rec{ts: t0.Add(day), data: f("tue")})))
	mon := writeFile(t, filepath.Join(week, "mon"), "z.pcap", pcap(rec{ts: t0, data: f("mon")}, rec{ts: t0.Add(day + time.Hour), data: f("mon-late")}))
	empty := writeFile(t, week, "newest.pcap", nil)
	notes := writeFile(t, week, "notes.txt", []byte("captured on br0\n"))
	outside := writeFile(t, filepath.Join(dir, "elsewhere"), "x.pcap", pcap(rec{ts: t0.Add(2 * day), data: f("linked")}))
	link := filepath.Join(week, "link.pcap")
	dirLink := filepath.Join(week, "elsewhere")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "elsewhere"), dirLink); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(week, "live.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}

	pkts, dmg, st := readWithin(t, week)
	n := len(f(""))
	var tags []string
	for _, p := range pkts {
		tags = append(tags, p.frame[n:])
	}
	if got := strings.Join(tags, " "); got != "mon tue mon-late linked" {
		t.Errorf("packets = %s; want mon tue mon-late linked", got)
	}
	if len(dmg) != 0 {
		t.Errorf("Damage() = %+v; want none", dmg)
	}
	want := []Input{
		{Name: mon, Format: "pcap"},
		{Name: tue, Format: "pcap", Compression: "gzip"},
		{Name: link, Format: "pcap"},
		{Name: empty, Empty: true},
		{Name: dirLink, Skipped: "a symbolic link to a directory (not followed)"},
		{Name: fifo, Skipped: "not a regular file (a FIFO, socket or device is read only when named)"},
		{Name: notes, Skipped: "not a pcap or pcapng file (magic 63617074)"},
	}
	if len(st.Inputs) != len(want) {
		t.Fatalf("Stats().Inputs = %+v; want %d", st.Inputs, len(want))
	}
	for i, w := range want {
		g := st.Inputs[i]
		if g.Name != w.Name || g.Format != w.Format || g.Compression != w.Compression || g.Empty != w.Empty || g.Skipped != w.Skipped {
			t.Errorf("Stats().Inputs[%d] = %+v; want %+v", i, g, w)
		}
	}
	if st.Files != 4 {
		t.Errorf("Stats().Files = %d; want 4 (the skipped ones left out)", st.Files)
	}
}

// TestEmptyInputs: a file of no bytes, a capture header alone, and a
// compressed stream of nothing are empty inputs, not damage.
func TestEmptyInputs(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name   string
		data   []byte
		format string
	}{
		{"no_bytes", nil, ""},
		{"pcap_header_alone", buildPcap(pcapSpec{snap: 65535, linkType: 1}), "pcap"},
		{"gzip_of_nothing", gzipBytes(t, nil), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, dir, tt.name, tt.data)
			pkts, dmg, st := readFiles(t, Options{}, path)
			if len(pkts) != 0 || len(dmg) != 0 || st.DamagedFiles != 0 {
				t.Errorf("%d packets, damage %+v; want none", len(pkts), dmg)
			}
			if in := st.Inputs[0]; !in.Empty || in.Format != tt.format {
				t.Errorf("Stats().Inputs[0] = %+v; want empty, format %q", in, tt.format)
			}
			s, err := OpenFiles([]string{path}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if done, total := s.Progress(); done != int64(len(tt.data)) || total != int64(len(tt.data)) {
				t.Errorf("Progress() = %d of %d; want all %d", done, total, len(tt.data))
			}
			var p Packet
			if err := s.Next(&p); err != io.EOF {
				t.Errorf("Next = %v; want io.EOF", err)
			}
		})
	}
}
