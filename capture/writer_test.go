package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"
	"github.com/klauspost/compress/gzip"

	"github.com/phonehome/phonehome/internal/testenv"
)

// clock is a settable wall clock for WriterOptions.Now.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// sampleAll reads every packet of the sample as captured (no reassembly).
func sampleAll(t testing.TB) []got {
	t.Helper()
	pkts, dmg, _ := readFiles(t, Options{Defrag: DefragConfig{Off: true}}, filepath.Join("..", "testdata", "sample", "idle-1909.pcapng"))
	if len(dmg) != 0 || len(pkts) == 0 {
		t.Fatalf("sample: %d packets, damage %v", len(pkts), dmg)
	}
	return pkts
}

// readWritten reads the files with our reader, as analyze DIR would.
func readWritten(t testing.TB, paths ...string) []got {
	t.Helper()
	pkts, dmg, _ := readFiles(t, Options{Defrag: DefragConfig{Off: true}}, paths...)
	if len(dmg) != 0 {
		t.Fatalf("reading %v back: damage %v", paths, dmg)
	}
	return pkts
}

// readPcapgo reads one written file with pcapgo.NgReader, the reference,
// and returns its packets, its interface and its section.
func readPcapgo(t testing.TB, path string) ([]got, pcapgo.NgInterface, pcapgo.NgSectionInfo) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		r = zr
	}
	ng, err := pcapgo.NewNgReader(r, pcapgo.NgReaderOptions{})
	if err != nil {
		t.Fatalf("pcapgo: %s: %v", path, err)
	}
	var out []got
	for {
		data, ci, err := ng.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("pcapgo: %s: packet %d: %v", path, len(out), err)
		}
		out = append(out, got{ts: ci.Timestamp.UTC(), frame: string(data), linkType: uint16(ng.LinkType()), wire: ci.Length, cap: ci.CaptureLength})
	}
	iface, err := ng.Interface(0)
	if err != nil {
		t.Fatalf("pcapgo: %s: %v", path, err)
	}
	return out, iface, ng.SectionInfo()
}

// samePackets compares packets by timestamp (to the nanosecond), link
// type, lengths and bytes.
func samePackets(t testing.TB, what string, got, want []got) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d packets; want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if !g.ts.Equal(w.ts) || g.linkType != w.linkType || g.wire != w.wire || g.cap != w.cap || g.frame != w.frame {
			t.Fatalf("%s: packet %d = %v link %d %d/%d bytes; want %v link %d %d/%d (or other bytes)",
				what, i, g.ts, g.linkType, g.cap, g.wire, w.ts, w.linkType, w.cap, w.wire)
		}
	}
}

// writeAll writes pkts with a new Writer and closes it.
func writeAll(t testing.TB, opt WriterOptions, pkts []got) *Writer {
	t.Helper()
	w, err := NewWriter(opt)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		if err := w.WritePacket(p.ts, []byte(p.frame), p.wire); err != nil {
			t.Fatalf("WritePacket(packet %d) = %v; want nil", i, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close() = %v; want nil", err)
	}
	return w
}

// TestWriterRoundTrip writes the sample's packets and reads them back with
// our reader (as phonehome analyze DIR does) and with pcapgo: the same
// frames, nanosecond timestamps and lengths, and the interface as given.
func TestWriterRoundTrip(t *testing.T) {
	want := sampleAll(t)
	// A timestamp to the nanosecond, which the sample (microseconds)
	// lacks, and a frame cut by the snap length.
	extra := want[len(want)-1]
	extra.ts = extra.ts.Add(time.Second + 123_456_789)
	extra.wire = extra.cap + 1000
	want = append(want, extra)
	for _, tt := range []struct {
		name      string
		gzip      bool
		rotateSiz int64
	}{
		{"plain", false, 0},
		{"gzip", true, 0},
		{"plain_rotated", false, 64 << 10},
		{"gzip_rotated", true, 64 << 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c := &clock{want[0].ts.Add(-time.Second)}
			w := writeAll(t, WriterOptions{Dir: dir, LinkType: want[0].linkType, Snaplen: 65535, Interface: "virbr0",
				Filter: "not port 22", RotateSize: tt.rotateSiz, Gzip: tt.gzip, Now: c.now}, want)
			files := w.Files()
			if tt.rotateSiz > 0 && len(files) < 3 {
				t.Fatalf("Files() = %d files; want 3 or more at %d bytes a file", len(files), tt.rotateSiz)
			}
			st := w.Stats()
			if st.Files != len(files) || st.Packets != int64(len(want)) || st.LostPackets != 0 || st.Failures != 0 || st.LastError != nil {
				t.Errorf("Stats() = %+v; want %d files, %d packets, nothing lost", st, len(files), len(want))
			}
			samePackets(t, "OpenFiles(DIR)", readWritten(t, dir), want)
			var ref []got
			for _, path := range files {
				if got := strings.HasSuffix(path, ".gz"); got != tt.gzip {
					t.Errorf("%s: name ends in .gz = %v; want %v", path, got, tt.gzip)
				}
				pkts, iface, sec := readPcapgo(t, path)
				ref = append(ref, pkts...)
				if iface.Name != "virbr0" || iface.SnapLength != 65535 || iface.Filter != "not port 22" ||
					iface.TimestampResolution != 9 || uint16(iface.LinkType) != want[0].linkType || sec.Application != "phonehome" {
					t.Errorf("%s: pcapgo reads interface %+v, section %+v", path, iface, sec)
				}
			}
			samePackets(t, "pcapgo", ref, want)
		})
	}
}

// epbSize is the size of an enhanced packet block of an n-byte frame.
func epbSize(n int) int64 { return int64(32 + (n+3)&^3) }

// TestWriterRotate: time rotation starts a file when a packet's period
// changes, periods aligned to the clock, never for the past; size rotation
// starts one before a packet that would take the file past the size. The
// names sort in the order of the files.
func TestWriterRotate(t *testing.T) {
	frame := eth(0x0800, ipv4TCP(t, "x"))
	hdr := int64(len(ngHeader(WriterOptions{LinkType: LinkTypeEthernet})))
	at := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	type file struct {
		name    string
		packets int
	}
	tests := []struct {
		name    string
		rotate  time.Duration
		size    int64
		now     string
		packets []string
		want    []file
	}{
		{"hourly", time.Hour, 0, "2026-12-07T13:59:50Z",
			[]string{"2026-12-07T13:59:58Z", "2026-12-07T13:59:59.999999999Z", "2026-12-07T14:00:00Z", "2026-12-07T14:59:00Z", "2026-12-07T15:00:00.5Z"},
			[]file{{"20261207T135950Z-0000", 2}, {"20261207T140000Z-0001", 2}, {"20261207T150000Z-0002", 1}}},
		{"first_packet_in_next_period", time.Hour, 0, "2026-12-07T13:59:59Z",
			[]string{"2026-12-07T14:00:01Z"},
			[]file{{"20261207T135959Z-0000", 0}, {"20261207T140000Z-0001", 1}}},
		{"jump_skips_empty_periods", time.Hour, 0, "2026-12-07T13:00:00Z",
			[]string{"2026-12-07T13:10:00Z", "2026-12-07T17:05:00Z"},
			[]file{{"20261207T130000Z-0000", 1}, {"20261207T170000Z-0001", 1}}},
		{"clock_back_stays_in_current_file", time.Hour, 0, "2026-12-07T13:00:00Z",
			[]string{"2026-12-07T14:00:00Z", "2026-12-07T13:30:00Z", "2026-12-07T12:00:00Z", "2026-12-07T14:10:00Z"},
			[]file{{"20261207T130000Z-0000", 0}, {"20261207T140000Z-0001", 4}}},
		{"every_10s", 10 * time.Second, 0, "2026-12-07T13:00:00Z",
			[]string{"2026-12-07T13:00:09Z", "2026-12-07T13:00:10Z", "2026-12-07T13:00:25Z"},
			[]file{{"20261207T130000Z-0000", 1}, {"20261207T130010Z-0001", 1}, {"20261207T130020Z-0002", 1}}},
		{"size_exactly_three_packets", 0, hdr + 3*epbSize(len(frame)), "2026-12-07T13:00:00Z",
			[]string{"2026-12-07T13:00:01Z", "2026-12-07T13:00:02Z", "2026-12-07T13:00:03Z", "2026-12-07T13:00:04Z",
				"2026-12-07T13:00:05Z", "2026-12-07T13:00:06Z", "2026-12-07T13:00:07Z"},
			[]file{{"20261207T130000Z-0000", 3}, {"20261207T130004Z-0001", 3}, {"20261207T130007Z-0002", 1}}},
		{"size_one_byte_short_of_three", 0, hdr + 3*epbSize(len(frame)) - 1, "2026-12-07T13:00:00Z",
			[]string{"2026-12-07T13:00:01Z", "2026-12-07T13:00:02Z", "2026-12-07T13:00:03Z"},
			[]file{{"20261207T130000Z-0000", 2}, {"20261207T130003Z-0001", 1}}},
		{"size_below_one_packet_one_file_each", 0, 10, "2026-12-07T13:00:00Z",
			[]string{"2026-12-07T13:00:01Z", "2026-12-07T13:00:01Z", "2026-12-07T13:00:02Z"},
			[]file{{"20261207T130000Z-0000", 1}, {"20261207T130001Z-0001", 1}, {"20261207T130002Z-0002", 1}}},
		{"size_clock_back_names_still_sort", 0, hdr + epbSize(len(frame)), "2026-12-07T13:00:00Z",
			[]string{"2026-12-07T13:00:05Z", "2026-12-07T13:00:06Z", "2026-12-07T12:00:00Z"},
			[]file{{"20261207T130000Z-0000", 1}, {"20261207T130006Z-0001", 1}, {"20261207T130006Z-0002", 1}}},
		{"time_and_size", time.Minute, hdr + 2*epbSize(len(frame)), "2026-12-07T13:00:00Z",
			[]string{"2026-12-07T13:00:01Z", "2026-12-07T13:00:02Z", "2026-12-07T13:00:03Z", "2026-12-07T13:01:00Z"},
			[]file{{"20261207T130000Z-0000", 2}, {"20261207T130003Z-0001", 1}, {"20261207T130100Z-0002", 1}}},
	}
	for _, tt := range tests {
		for _, gz := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/gzip=%v", tt.name, gz), func(t *testing.T) {
				dir := t.TempDir()
				var pkts []got
				for _, s := range tt.packets {
					pkts = append(pkts, got{ts: at(s), frame: string(frame), linkType: LinkTypeEthernet, wire: len(frame), cap: len(frame)})
				}
				c := &clock{at(tt.now)}
				w := writeAll(t, WriterOptions{Dir: dir, LinkType: LinkTypeEthernet, Rotate: tt.rotate, RotateSize: tt.size, Gzip: gz, Now: c.now}, pkts)
				files := w.Files()
				var names []string
				var all []got
				for i, path := range files {
					name := strings.TrimPrefix(filepath.Base(path), "phonehome-")
					name = strings.TrimSuffix(strings.TrimSuffix(name, ".gz"), ".pcapng")
					names = append(names, name)
					in, _, _ := readPcapgo(t, path)
					all = append(all, in...)
					if i < len(tt.want) && len(in) != tt.want[i].packets {
						t.Errorf("file %s holds %d packets; want %d", name, len(in), tt.want[i].packets)
					}
					if fi, err := os.Stat(path); err == nil && tt.size > 0 && !gz && fi.Size() > max(tt.size, hdr+epbSize(len(frame))) {
						t.Errorf("file %s is %d bytes; want at most %d", name, fi.Size(), tt.size)
					}
				}
				var wantNames []string
				for _, f := range tt.want {
					wantNames = append(wantNames, f.name)
				}
				if !slices.Equal(names, wantNames) {
					t.Errorf("Files() = %v; want %v", names, wantNames)
				}
				if !slices.IsSorted(files) {
					t.Errorf("Files() = %v; not in sorted order", files)
				}
				samePackets(t, "the files in order", all, pkts)
			})
		}
	}
}

// TestWriterNameTaken: a file of the name the Writer would make (an earlier
// run in the same second) is left alone; the sequence number steps on.
func TestWriterNameTaken(t *testing.T) {
	dir := t.TempDir()
	c := &clock{time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)}
	taken := writeFile(t, dir, "phonehome-20261207T130000Z-0000.pcapng", []byte("earlier run"))
	w, err := NewWriter(WriterOptions{Dir: dir, LinkType: LinkTypeEthernet, Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if want := filepath.Join(dir, "phonehome-20261207T130000Z-0001.pcapng"); !slices.Equal(w.Files(), []string{want}) {
		t.Errorf("Files() = %v; want [%s]", w.Files(), want)
	}
	if b, _ := os.ReadFile(taken); string(b) != "earlier run" {
		t.Errorf("%s was overwritten", taken)
	}
}

// TestNewWriterErrors: a directory that is missing, not a directory or not
// writable is an error naming it and what to do.
func TestNewWriterErrors(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "file", nil)
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opt  WriterOptions
		want string // in the error
	}{
		{"no_dir", WriterOptions{}, "no directory"},
		{"missing_dir", WriterOptions{Dir: filepath.Join(dir, "missing")}, "does not exist: create it (mkdir -p " + filepath.Join(dir, "missing")},
		{"not_a_dir", WriterOptions{Dir: file}, file + " is not a directory"},
		{"not_writable", WriterOptions{Dir: ro}, "permission denied; give the user phonehome runs as (uid "},
		{"negative_rotate", WriterOptions{Dir: dir, Rotate: -time.Second}, "negative"},
		{"negative_size", WriterOptions{Dir: dir, RotateSize: -1}, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "not_writable" && os.Geteuid() == 0 {
				t.Skip("root writes into a directory of mode 0555")
			}
			w, err := NewWriter(tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewWriter(%+v) = %v; want an error saying %q", tt.opt, err, tt.want)
			}
			if w != nil {
				t.Errorf("NewWriter(%+v) returned a Writer with its error", tt.opt)
			}
		})
	}
}

// TestWriterAllocs: writing a packet allocates nothing, with gzip or not.
func TestWriterAllocs(t *testing.T) {
	frame := eth(0x0800, ipv4TCP(t, strings.Repeat("x", 200)))
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			w, err := NewWriter(WriterOptions{Dir: t.TempDir(), LinkType: LinkTypeEthernet, Gzip: gz})
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			ts := time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)
			// 2000 runs of a 254-byte frame: half a MiB, within the buffer.
			allocs := testing.AllocsPerRun(2000, func() {
				ts = ts.Add(time.Microsecond)
				if err := w.WritePacket(ts, frame, len(frame)); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("WritePacket: %v allocations per packet; want 0", allocs)
			}
		})
	}
}

// TestWriterDirRemoved: a directory removed mid-run (rm -r DIR) is noticed
// when the buffer is next written out; the error is returned once, the
// packets not written are counted, and the Writer starts a new file once
// the directory is back, at its retry interval or at the next rotation
// boundary.
func TestWriterDirRemoved(t *testing.T) {
	frame := eth(0x0800, ipv4TCP(t, "x"))
	t0 := time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name      string
		rotate    time.Duration
		retryWait time.Duration // wall clock until the Writer retries
		retryTS   time.Duration // capture time of the packet that retries
	}{
		{"retry_interval", 0, 10 * time.Second, 10 * time.Second},
		{"retry_at_rotation_boundary", time.Hour, time.Second, time.Hour},
	} {
		for _, gz := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/gzip=%v", tt.name, gz), func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "out")
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				c := &clock{t0}
				w, err := NewWriter(WriterOptions{Dir: dir, LinkType: LinkTypeEthernet, Rotate: tt.rotate, Gzip: gz, Retry: 10 * time.Second, Now: c.now})
				if err != nil {
					t.Fatal(err)
				}
				ts := t0
				write := func(n int) (errs []error) {
					for range n {
						ts = ts.Add(time.Millisecond)
						if err := w.WritePacket(ts, frame, len(frame)); err != nil {
							errs = append(errs, err)
						}
					}
					return errs
				}
				if errs := write(10); errs != nil || w.Flush() != nil {
					t.Fatalf("writing before the removal: %v", errs)
				}
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if errs := write(5); errs != nil {
					t.Fatalf("WritePacket into the buffer = %v; want nil", errs)
				}
				firstLost := t0.Add(11 * time.Millisecond)
				err = w.Flush()
				if err == nil || !strings.Contains(err.Error(), "removed") || !strings.Contains(err.Error(), "recreate "+dir) {
					t.Fatalf("Flush() after rm -r DIR = %v; want an error saying the file was removed and to recreate %s", err, dir)
				}
				t.Logf("Flush() = %v", err)
				// Failing: no more errors, every packet counted.
				if errs := write(5); errs != nil || w.Flush() != nil {
					t.Fatalf("while failing: WritePacket errors %v, or Flush failed; want none", errs)
				}
				st := w.Stats()
				if st.Packets != 10 || st.LostPackets != 10 || st.LostBytes != int64(10*len(frame)) || !st.Failing() ||
					!st.LostSince.Equal(firstLost) || st.Failures != 1 || st.LastError == nil {
					t.Fatalf("Stats() = %+v; want 10 written, 10 lost since %v, 1 failure", st, firstLost)
				}
				// Still gone at the retry: no error, counted, the error kept.
				c.t = c.t.Add(tt.retryWait)
				ts = ts.Add(tt.retryTS)
				if errs := write(1); errs != nil {
					t.Fatalf("a failed retry returned %v; want nil (one error per failure)", errs)
				}
				if st = w.Stats(); st.LostPackets != 11 || !strings.Contains(fmt.Sprint(st.LastError), "no such file or directory") {
					t.Fatalf("Stats() after a failed retry = %+v; want 11 lost, the create error last", st)
				}
				// Back: not before the retry is due, then a new file.
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				c.t = c.t.Add(tt.retryWait / 2)
				if errs := write(1); errs != nil || w.Stats().LostPackets != 12 {
					t.Fatalf("before the retry is due: errors %v, %d lost; want none, 12", errs, w.Stats().LostPackets)
				}
				c.t = c.t.Add(tt.retryWait)
				ts = ts.Add(tt.retryTS)
				if errs := write(3); errs != nil {
					t.Fatalf("after the directory is back: %v", errs)
				}
				if err := w.Close(); err != nil {
					t.Fatalf("Close() = %v", err)
				}
				st = w.Stats()
				if st.Packets != 13 || st.LostPackets != 12 || st.Failing() || st.Failures != 1 || st.Files != 2 {
					t.Errorf("Stats() at the end = %+v; want 13 written, 12 lost, not failing, 1 failure, 2 files", st)
				}
				files := w.Files()
				if len(files) != 2 || !slices.IsSorted(files) {
					t.Fatalf("Files() = %v; want 2, sorted", files)
				}
				if got := readWritten(t, files[1]); len(got) != 3 {
					t.Errorf("the new file holds %d packets; want 3", len(got))
				}
			})
		}
	}
}

// TestWriterDiskFull fills a 1 MiB tmpfs: the write that meets ENOSPC
// returns it once, saying to free space; the file keeps its whole blocks
// (read back, they are the packets Stats counts as written); the Writer
// counts what it drops and starts a new file once there is room.
func TestWriterDiskFull(t *testing.T) {
	testenv.NeedRoot(t, "mounting a 1 MiB tmpfs to fill it")
	rnd := rand.New(rand.NewPCG(1, 2))
	frames := make([][]byte, 64)
	for i := range frames {
		frames[i] = make([]byte, 100+rnd.IntN(1400)) // random bytes: gzip cannot shrink them
		for j := range frames[i] {
			frames[i][j] = byte(rnd.Uint32())
		}
	}
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprintf("gzip=%v", gz), func(t *testing.T) {
			dir := t.TempDir()
			if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
				testenv.SkipOrFail(t, "mount -t tmpfs: %v: %s", err, out)
			}
			t.Cleanup(func() { exec.Command("umount", dir).Run() })
			filler := writeFile(t, dir, "filler", make([]byte, 512<<10))
			c := &clock{time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)}
			w, err := NewWriter(WriterOptions{Dir: dir, LinkType: LinkTypeEthernet, Gzip: gz, Now: c.now})
			if err != nil {
				t.Fatal(err)
			}
			ts := c.t
			var sent, sentBytes int64
			var errs []error
			for i := 0; i < 4000 && (len(errs) == 0 || i%1000 != 0); i++ {
				ts = ts.Add(time.Millisecond)
				f := frames[i%len(frames)]
				if err := w.WritePacket(ts, f, len(f)); err != nil {
					errs = append(errs, err)
				}
				sent++
				sentBytes += int64(len(f))
			}
			if len(errs) != 1 || !errors.Is(errs[0], syscall.ENOSPC) || !strings.Contains(errs[0].Error(), "free space on the file system of "+dir) {
				t.Fatalf("WritePacket errors %v; want one, ENOSPC, saying to free space", errs)
			}
			t.Logf("WritePacket() = %v", errs[0])
			st := w.Stats()
			if !st.Failing() || st.Failures != 1 || st.Packets+st.LostPackets != sent || st.Bytes+st.LostBytes != sentBytes || st.LostPackets == 0 {
				t.Fatalf("Stats() = %+v; want failing, %d packets written or lost", st, sent)
			}
			// The packets are lost in order: the first lost follows the last written.
			if want := c.t.Add(time.Duration(st.Packets+1) * time.Millisecond); !st.LostSince.Equal(want) {
				t.Errorf("Stats().LostSince = %v; want %v, the time of packet %d, the first not written", st.LostSince, want, st.Packets)
			}
			// The cut file reads up to its last whole block: the packets
			// counted written (gzip: and perhaps some of the buffer that failed).
			s, err := OpenFiles(w.Files()[:1], Options{Defrag: DefragConfig{Off: true}})
			if err != nil {
				t.Fatal(err)
			}
			var read int64
			var p Packet
			for s.Next(&p) == nil {
				read++
			}
			s.Close()
			if read < st.Packets || (!gz && read != st.Packets) || read > st.Packets+st.LostPackets {
				t.Errorf("the full file reads as %d packets; %d were counted written", read, st.Packets)
			}
			// Room again: a new file at the retry.
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
			c.t = c.t.Add(DefaultWriterRetry)
			for i := range 10 {
				ts = ts.Add(time.Millisecond)
				if err := w.WritePacket(ts, frames[i], len(frames[i])); err != nil {
					t.Fatalf("WritePacket after space was freed = %v", err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatalf("Close() = %v", err)
			}
			if st2 := w.Stats(); st2.Failing() || st2.Files != 2 || st2.Packets != st.Packets+10 {
				t.Errorf("Stats() at the end = %+v; want not failing, 2 files, %d packets", st2, st.Packets+10)
			}
			if got := readWritten(t, w.Files()[1]); len(got) != 10 {
				t.Errorf("the new file reads as %d packets; want 10", len(got))
			}
		})
	}
}

// BenchmarkWriterWritePacket writes the sample's frames in a loop, the
// Writer against gopacket's pcapgo.NgWriter (over a 1 MiB bufio, as ours)
// as the baseline, to files in the same directory: on /dev/shm when there
// is one, so that the figure is the writers' cost and not the disk's
// (writes to a disk stall on the kernel's dirty-page limits). Each writer
// starts again (timer stopped, files removed) every 64 MiB. gzip runs at
// BestSpeed, the Writer's level, and at the default level, which the
// Writer does not use.
func BenchmarkWriterWritePacket(b *testing.B) {
	pkts := sampleAll(b)
	frames := make([][]byte, len(pkts))
	var total int64
	for i, p := range pkts {
		frames[i] = []byte(p.frame)
		total += int64(len(p.frame))
	}
	const restart = 64 << 20
	type sink interface {
		write(ts time.Time, frame []byte) error
		close() error
	}
	ours := func(gz bool, level int) func(dir string) sink {
		return func(dir string) sink {
			w, err := NewWriter(WriterOptions{Dir: dir, LinkType: LinkTypeEthernet, Snaplen: 262144, Gzip: gz})
			if err != nil {
				b.Fatal(err)
			}
			if gz && level != gzip.BestSpeed {
				w.gz, _ = gzip.NewWriterLevel(w.f, level)
				w.sink = w.gz
			}
			return ourSink{w}
		}
	}
	ref := func(gz bool, level int) func(dir string) sink {
		return func(dir string) sink {
			f, err := os.Create(filepath.Join(dir, "ref.pcapng"))
			if err != nil {
				b.Fatal(err)
			}
			s := &refSink{f: f}
			var out io.Writer = f
			if gz {
				s.gz, _ = gzip.NewWriterLevel(f, level)
				out = s.gz
			}
			s.bw = bufio.NewWriterSize(out, writerBufSize)
			if s.w, err = pcapgo.NewNgWriter(s.bw, layers.LinkTypeEthernet); err != nil {
				b.Fatal(err)
			}
			return s
		}
	}
	for _, c := range []struct {
		name string
		open func(dir string) sink
	}{
		{"pcapgo", ref(false, 0)},
		{"plain", ours(false, 0)},
		{"pcapgo_gzip", ref(true, gzip.BestSpeed)},
		{"gzip", ours(true, gzip.BestSpeed)},
		{"pcapgo_gzip_default", ref(true, gzip.DefaultCompression)},
		{"gzip_default", ours(true, gzip.DefaultCompression)},
	} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			if shm, err := os.MkdirTemp("/dev/shm", "phonehome-bench-"); err == nil {
				dir = shm
				b.Cleanup(func() { os.RemoveAll(shm) })
			}
			s := c.open(dir)
			ts := time.Date(2026, 12, 7, 13, 0, 0, 0, time.UTC)
			var written int64
			i := 0
			b.ReportAllocs()
			b.SetBytes(total / int64(len(frames)))
			cpu0 := cpuTime(b)
			for b.Loop() {
				f := frames[i]
				if i++; i == len(frames) {
					i = 0
				}
				ts = ts.Add(time.Microsecond)
				if err := s.write(ts, f); err != nil {
					b.Fatal(err)
				}
				if written += int64(len(f)); written > restart {
					b.StopTimer()
					if err := s.close(); err != nil {
						b.Fatal(err)
					}
					os.RemoveAll(dir)
					os.Mkdir(dir, 0o755)
					s, written = c.open(dir), 0
					b.StartTimer()
				}
			}
			// The process's CPU time per packet: steadier than ns/op on a
			// machine shared with other work (restarts included).
			b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
			if err := s.close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

type ourSink struct{ w *Writer }

func (s ourSink) write(ts time.Time, frame []byte) error {
	return s.w.WritePacket(ts, frame, len(frame))
}
func (s ourSink) close() error { return s.w.Close() }

// refSink is pcapgo's NgWriter over the same buffer size, gzip and file
// (closed as ours is: flush, gzip trailer, fsync, close).
type refSink struct {
	f  *os.File
	gz *gzip.Writer
	bw *bufio.Writer
	w  *pcapgo.NgWriter
	ci gopacket.CaptureInfo
}

func (s *refSink) write(ts time.Time, frame []byte) error {
	s.ci.Timestamp, s.ci.CaptureLength, s.ci.Length = ts, len(frame), len(frame)
	return s.w.WritePacket(s.ci, frame)
}

func (s *refSink) close() error {
	err := s.w.Flush()
	if err == nil {
		err = s.bw.Flush()
	}
	if err == nil && s.gz != nil {
		err = s.gz.Close()
	}
	if err == nil {
		err = s.f.Sync()
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}
