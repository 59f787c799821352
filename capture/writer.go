package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/gzip"
)

// WriterOptions configures NewWriter.
type WriterOptions struct {
	// Dir is the directory the files are written in. It must exist and be
	// writable: NewWriter creates the first file there, and creates
	// nothing else (not Dir).
	Dir string
	// LinkType, Snaplen and Interface describe the capture in each file's
	// interface description block: the link type of every frame
	// (LINKTYPE_*), the snap length (0 for none) and the interface's name
	// (if_name; "" for none).
	LinkType  uint16
	Snaplen   int
	Interface string
	// Filter is the BPF filter in force, written as the interface's
	// if_filter option; "" for none.
	Filter string
	// Application is written as the section's shb_userappl; "" means
	// "phonehome". A caller may give its version ("phonehome 1.4.0").
	Application string
	// Rotate, when positive, starts a new file whenever a packet's
	// timestamp falls in a later period than the current file's, as
	// tcpdump -G does, with periods aligned to multiples of Rotate since
	// 1970-01-01 UTC: Rotate = 1h starts a file at each full hour.
	Rotate time.Duration
	// RotateSize, when positive, starts a new file before a packet that
	// would take the current one past RotateSize bytes, as tcpdump -C
	// does. The size is of the pcapng bytes, before compression (tcpdump
	// -C with -z also counts what it writes before compressing). A packet
	// that alone takes a new file past it is written anyway.
	RotateSize int64
	// Gzip compresses each file with gzip (level 1, BestSpeed: see
	// BenchmarkWriterWritePacket) and names it .pcapng.gz.
	Gzip bool
	// Retry is how often, after a write failed, the writer tries again to
	// open a new file (besides at each rotation boundary); 0 means 10 s.
	Retry time.Duration
	// Now gives the wall-clock time: the name of the first file, and the
	// retry clock. nil means time.Now; tests set it.
	Now func() time.Time
}

// DefaultWriterRetry is WriterOptions.Retry's default.
const DefaultWriterRetry = 10 * time.Second

// writerBufSize is the Writer's buffer: 1 MiB, written to the file (and,
// with gzip, flushed through the compressor) in one piece. It is the unit in
// which a write failure loses packets: those of the buffer being written.
const writerBufSize = 1 << 20

// ErrWriterClosed is returned by a Writer's methods after Close.
var ErrWriterClosed = errors.New("pcapng writer already closed")

// Writer writes packets to pcapng files in a directory (phonehome capture
// --write), rotated by time and by size as tcpdump -G and -C rotate, each
// file compressed with gzip or not. Every file is a whole pcapng file: a
// section header block (shb_userappl "phonehome"), one interface
// description block (link type, snap length, if_name, if_filter,
// if_tsresol 9: nanoseconds) and enhanced packet blocks, so OpenFiles (and
// so phonehome analyze DIR) reads a directory of them as one capture.
//
// Files are named DIR/phonehome-YYYYMMDDTHHMMSSZ-NNNN.pcapng (.gz with
// gzip): the time, in UTC to the second, is the start of the file's period
// when it was started by time rotation, the packet that opened it otherwise,
// and the wall clock for the first file; NNNN counts the files of this
// Writer from 0000 (it takes more digits after 9999). A name's time is never
// earlier than the name before it, so the names sort in the order the files
// were written, which is the order of the packets. A file is created only
// if no file has its name (O_EXCL): a name taken (a previous run in the same
// second) makes the sequence number step on.
//
// A file is finished by writing out the buffer, the gzip trailer, fsync,
// close, and an fsync of the directory, so that its name survives a power
// cut too. Packets are gathered in a 1 MiB buffer: Flush hands it to the
// kernel (for the capture's checkpoint tick), so a crash of the process
// loses none written before the last Flush; a power cut may lose what the
// kernel had not written back yet (on Linux, 30 s by default), unless Sync
// was called.
//
// A failure to write (a full disk, a file or directory removed) never stops
// the capture. WritePacket, Flush or Close returns the error once for the
// episode, and the Writer counts the packets it could not write (WriterStats)
// while it drops packets until it has a new file: it tries to open one every
// WriterOptions.Retry and at each rotation boundary. It never writes again
// into the file whose write failed, whose tail is unknown: it closes it as it
// stands (a reader finds it cut short at its last whole block) and starts the
// next file whole. Removal of the current file (or its directory: rm -r DIR)
// is noticed when the buffer is next written out, by the file's link count
// falling to 0; its buffered packets are then counted as lost, not written
// into a file no one can read.
//
// WritePacket allocates nothing (TestWriterAllocs); starting a file does.
// A Writer is not safe for concurrent use: call all its methods from the
// goroutine that captures.
type Writer struct {
	opt   WriterOptions
	now   func() time.Time
	hdr   []byte // SHB and IDB, which begin every file
	level int    // gzip level

	f    *os.File     // nil while failing, and after Close
	fd   int          // f's descriptor, for the link count
	gz   *gzip.Writer // nil without gzip; reset for each file
	sink io.Writer    // f, or gz
	path string       // f's path

	buf        []byte    // blocks not yet written; cap writerBufSize
	bufPackets int64     // packets in buf
	bufBytes   int64     // their frame bytes
	bufFirst   time.Time // timestamp of the first of them
	size       int64     // bytes of the current file, buf included
	period     int64     // rotation period of the current file
	nameAt     time.Time
	seq        int
	files      []string

	lastTry time.Time // wall clock of the last attempt to open a file while failing
	closed  bool
	st      WriterStats
}

// WriterStats says what a Writer wrote and what it could not.
type WriterStats struct {
	// Files is the number of files started, the current one included.
	Files int
	// Packets and Bytes count the packets written (handed to the file or
	// waiting in the Writer's buffer) and their captured bytes.
	Packets, Bytes int64
	// LostPackets and LostBytes count the packets the Writer could not
	// write, and their captured bytes, over all failures.
	LostPackets, LostBytes int64
	// LostSince is the timestamp of the first packet lost in the failure
	// going on (when the failure met no packet to lose, as a Flush of an
	// empty buffer, the wall-clock time it began); zero when the Writer is
	// writing.
	LostSince time.Time
	// Failures is the number of failure episodes: each began with an error
	// returned once, and ended when a new file was started.
	Failures int
	// LastError is the last write error (nil before any), and LastErrorAt
	// the wall-clock time it happened.
	LastError   error
	LastErrorAt time.Time
}

// Failing reports whether the Writer is dropping packets for want of a file.
func (s WriterStats) Failing() bool { return !s.LostSince.IsZero() }

// NewWriter checks opt and creates the first file in opt.Dir, so that a
// directory that is missing or not writable is an error now, naming it and
// what to do, not a failure at the first packet.
func NewWriter(opt WriterOptions) (*Writer, error) {
	switch {
	case opt.Dir == "":
		return nil, errors.New("pcapng writer: no directory given")
	case opt.Rotate < 0:
		return nil, fmt.Errorf("pcapng writer: rotation period %v is negative", opt.Rotate)
	case opt.RotateSize < 0:
		return nil, fmt.Errorf("pcapng writer: rotation size %d is negative", opt.RotateSize)
	case opt.Snaplen < 0 || int64(opt.Snaplen) > 1<<32-1:
		return nil, fmt.Errorf("pcapng writer: snap length %d out of range 0 to 2^32-1", opt.Snaplen)
	}
	fi, err := os.Stat(opt.Dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("write directory %s does not exist: create it (mkdir -p %s) or name another", opt.Dir, opt.Dir)
	case err != nil:
		return nil, fmt.Errorf("write directory: %w", err)
	case !fi.IsDir():
		return nil, fmt.Errorf("write directory %s is not a directory: name a directory, the files are made in it", opt.Dir)
	}
	w := &Writer{opt: opt, now: opt.Now, level: gzip.BestSpeed, buf: make([]byte, 0, writerBufSize)}
	if w.now == nil {
		w.now = time.Now
	}
	if w.opt.Retry <= 0 {
		w.opt.Retry = DefaultWriterRetry
	}
	w.hdr = ngHeader(opt)
	now := w.now()
	if err := w.open(now, w.periodOf(now)); err != nil {
		hint := "name another directory"
		switch {
		case errors.Is(err, fs.ErrPermission):
			hint = fmt.Sprintf("give the user phonehome runs as (uid %d) write permission on %s, or name another directory", os.Geteuid(), opt.Dir)
		case errors.Is(err, errNoSpace):
			hint = fmt.Sprintf("free space on the file system of %s, or name another directory", opt.Dir)
		}
		return nil, fmt.Errorf("write directory: %w; %s", err, hint)
	}
	return w, nil
}

// ngHeader builds the section header and interface description blocks.
func ngHeader(opt WriterOptions) []byte {
	le := binary.LittleEndian
	app := opt.Application
	if app == "" {
		app = "phonehome"
	}
	block := func(b []byte, typ uint32, body []byte) []byte {
		n := uint32(12 + len(body))
		b = le.AppendUint32(b, typ)
		b = le.AppendUint32(b, n)
		b = append(b, body...)
		return le.AppendUint32(b, n)
	}
	opt1 := func(b []byte, code uint16, v []byte) []byte {
		b = le.AppendUint16(b, code)
		b = le.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
		return append(b, make([]byte, padTo4(len(v)))...)
	}
	var shb []byte
	shb = le.AppendUint32(shb, 0x1a2b3c4d) // byte-order magic
	shb = le.AppendUint16(shb, 1)          // version 1.0
	shb = le.AppendUint16(shb, 0)
	shb = le.AppendUint64(shb, ^uint64(0)) // section length: not given
	shb = opt1(shb, 4, []byte(app))        // shb_userappl
	shb = opt1(shb, 0, nil)                // opt_endofopt
	var idb []byte
	idb = le.AppendUint16(idb, opt.LinkType)
	idb = le.AppendUint16(idb, 0)
	idb = le.AppendUint32(idb, uint32(opt.Snaplen))
	if opt.Interface != "" {
		idb = opt1(idb, 2, []byte(opt.Interface)) // if_name
	}
	idb = opt1(idb, ngOptTSResol, []byte{9}) // nanoseconds
	if opt.Filter != "" {
		idb = opt1(idb, 11, append([]byte{0}, opt.Filter...)) // if_filter: a libpcap filter string
	}
	idb = opt1(idb, 0, nil)
	return block(block(nil, ngSHB, shb), ngIDB, idb)
}

// padTo4 is the padding that takes n to a multiple of 4.
func padTo4(n int) int { return -n & 3 }

// epbLen is the length of the enhanced packet block of a frame of n bytes.
func epbLen(n int) int { return 32 + n + padTo4(n) }

// unixNano is ts in nanoseconds since 1970, clamped to the years 1970 to
// 2255 (a timestamp outside them is wrong anyway; UnixNano is undefined
// past 2262).
func unixNano(ts time.Time) int64 {
	switch s := ts.Unix(); {
	case s < 0:
		return 0
	case s >= 9e9:
		return 9e18
	}
	return ts.UnixNano()
}

// periodOf is ts's rotation period: the number of whole Rotate periods
// since 1970-01-01 UTC, or 0 without time rotation.
func (w *Writer) periodOf(ts time.Time) int64 {
	d := int64(w.opt.Rotate)
	if d <= 0 {
		return 0
	}
	return unixNano(ts) / d
}

// WritePacket writes one packet: its timestamp (kept to the nanosecond), its
// captured frame and its length on the wire (taken as len(frame) when
// smaller). The frame is copied before WritePacket returns. A timestamp
// before 1970 is written as 1970-01-01 (and one after 2255 as 2255).
//
// A packet in a later rotation period than the current file's, or that
// would take the file past WriterOptions.RotateSize, starts a new file
// first. A timestamp earlier than the packet before it (a clock stepped
// back) starts no file for the past: the packet goes into the current file.
//
// It returns an error only when a failure begins: the packet (and those
// still in the buffer) could not be written, and the Writer drops packets
// until it can start a new file, counting them (see Writer). While it
// drops them, WritePacket returns nil.
func (w *Writer) WritePacket(ts time.Time, frame []byte, wireLen int) error {
	if w.closed {
		return ErrWriterClosed
	}
	n := epbLen(len(frame))
	p := w.periodOf(ts)
	if w.f == nil {
		if !w.retryDue(p) {
			w.lose(ts, len(frame))
			return nil
		}
		if err := w.openNext(ts, p); err != nil {
			w.lose(ts, len(frame))
			w.noteErr(err)
			w.period = max(w.period, p) // next try: Retry from now, or the next period
			return nil
		}
		w.st.LostSince = time.Time{}
	} else if p > w.period || (w.opt.RotateSize > 0 && w.size > int64(len(w.hdr)) && w.size+int64(n) > w.opt.RotateSize) {
		if err := w.rotate(ts, p); err != nil {
			w.lose(ts, len(frame))
			return err
		}
	}
	if len(w.buf)+n > cap(w.buf) {
		if err := w.writeBuf(); err != nil {
			err = w.fail(ts, err) // the buffer's packets are lost first
			w.lose(ts, len(frame))
			return err
		}
	}
	if n > cap(w.buf) {
		// A block larger than the buffer (a frame over 1 MiB) goes out
		// through a buffer of its own.
		b := w.appendEPB(make([]byte, 0, n), ts, frame, wireLen)
		if err := w.writeOut(b, false, 1); err != nil {
			err = w.fail(ts, err)
			w.lose(ts, len(frame))
			return err
		}
	} else {
		if w.bufPackets == 0 {
			w.bufFirst = ts
		}
		w.buf = w.appendEPB(w.buf, ts, frame, wireLen)
		w.bufPackets++
		w.bufBytes += int64(len(frame))
	}
	w.size += int64(n)
	w.st.Packets++
	w.st.Bytes += int64(len(frame))
	return nil
}

// appendEPB appends the enhanced packet block of a frame to b, which has
// room for it.
func (w *Writer) appendEPB(b []byte, ts time.Time, frame []byte, wireLen int) []byte {
	le := binary.LittleEndian
	ns := uint64(unixNano(ts))
	total := uint32(epbLen(len(frame)))
	wire := uint32(max(wireLen, len(frame)))
	var h [28]byte
	le.PutUint32(h[0:], ngEPB)
	le.PutUint32(h[4:], total)
	le.PutUint32(h[8:], 0) // interface 0
	le.PutUint32(h[12:], uint32(ns>>32))
	le.PutUint32(h[16:], uint32(ns))
	le.PutUint32(h[20:], uint32(len(frame)))
	le.PutUint32(h[24:], wire)
	b = append(b, h[:]...)
	b = append(b, frame...)
	var tail [7]byte // padding (at most 3 bytes), then the trailing length
	pad := padTo4(len(frame))
	le.PutUint32(tail[pad:], total)
	return append(b, tail[:pad+4]...)
}

// retryDue reports whether a failing Writer should try to open a file now,
// for a packet of period p: at a rotation boundary, or Retry after the last
// try.
func (w *Writer) retryDue(p int64) bool {
	return p > w.period || w.now().Sub(w.lastTry) >= w.opt.Retry
}

// lose counts a packet the Writer could not write.
func (w *Writer) lose(ts time.Time, n int) {
	if w.st.LostSince.IsZero() {
		w.st.LostSince = ts
		if w.st.LostSince.IsZero() {
			w.st.LostSince = time.Unix(0, 0).UTC()
		}
	}
	w.st.LostPackets++
	w.st.LostBytes += int64(n)
}

// noteErr records err as the last error.
func (w *Writer) noteErr(err error) {
	w.st.LastError, w.st.LastErrorAt = err, w.now()
}

// fail begins a failure episode after a write to the current file failed:
// the packets of the buffer are counted as lost, the file is closed as it
// stands, never written again, and err is returned. The caller then counts
// the packet that met the failure, if any.
func (w *Writer) fail(ts time.Time, err error) error {
	w.dropBuf()
	if w.f != nil {
		w.f.Close() // the write error says what went wrong
		w.f, w.sink = nil, nil
	}
	if w.st.LostSince.IsZero() {
		w.st.LostSince = ts
	}
	// Try again Retry from now, or in the next period.
	w.period = max(w.period, w.periodOf(ts))
	w.st.Failures++
	w.noteErr(err)
	w.lastTry = w.now()
	return err
}

// dropBuf counts the packets in the buffer as lost and empties it.
func (w *Writer) dropBuf() {
	if w.bufPackets > 0 && w.st.LostSince.IsZero() {
		w.st.LostSince = w.bufFirst
	}
	w.st.Packets -= w.bufPackets
	w.st.Bytes -= w.bufBytes
	w.st.LostPackets += w.bufPackets
	w.st.LostBytes += w.bufBytes
	w.buf, w.bufPackets, w.bufBytes = w.buf[:0], 0, 0
}

// writeBuf writes the buffer out. On failure the caller calls fail, which
// counts the buffer's packets as lost.
func (w *Writer) writeBuf() error {
	if len(w.buf) == 0 {
		return nil
	}
	if err := w.writeOut(w.buf, true, w.bufPackets); err != nil {
		return err
	}
	w.buf, w.bufPackets, w.bufBytes = w.buf[:0], 0, 0
	return nil
}

// writeOut writes b, holding packets packets, to the file, after checking
// that the file is still there. When b is the buffer (isBuf) and a short
// write of an uncompressed file leaves whole blocks of it in the file, those
// packets count as written: the buffer keeps what was not.
func (w *Writer) writeOut(b []byte, isBuf bool, packets int64) error {
	if gone, err := linkGone(w.fd); err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	} else if gone {
		return fmt.Errorf("write %s: the file was removed (or its directory was): %d packets not written; "+
			"recreate %s if it is gone: the writer drops packets, counting them, and starts a new file there every %v",
			w.path, packets, w.opt.Dir, w.opt.Retry)
	}
	n, err := w.sink.Write(b)
	if err == nil && w.gz != nil {
		err = w.gz.Flush() // the buffer is then whole in the file
	}
	if err == nil {
		return nil
	}
	if w.gz == nil && n > 0 && isBuf {
		// Whole blocks before n reached the file: count them written.
		// The blocks are ours: their lengths are right.
		le := binary.LittleEndian
		var done, doneBytes int64
		off := 0
		for ; off < len(b); off += int(le.Uint32(b[off+4:])) {
			epb := le.Uint32(b[off:]) == ngEPB
			if off+int(le.Uint32(b[off+4:])) > n {
				if epb { // the first packet lost
					ns := uint64(le.Uint32(b[off+12:]))<<32 | uint64(le.Uint32(b[off+16:]))
					w.bufFirst = time.Unix(0, int64(ns)).UTC()
				}
				break
			}
			if epb {
				done++
				doneBytes += int64(le.Uint32(b[off+20:]))
			}
		}
		w.buf = w.buf[:0] // the rest is dropped by fail, which counts it
		w.bufPackets -= done
		w.bufBytes -= doneBytes
	}
	return fmt.Errorf("write %s: %w; %s", w.path, bare(err), failHint(err, w.opt.Dir, w.opt.Retry))
}

// bare is err without the *fs.PathError around it, whose path and
// operation the caller's message names.
func bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// failHint says what to do about a write or create error.
func failHint(err error, dir string, retry time.Duration) string {
	switch {
	case errors.Is(err, errNoSpace):
		return fmt.Sprintf("free space on the file system of %s; the writer drops packets, counting them, and starts a new file every %v", dir, retry)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("recreate %s (mkdir -p %s); the writer drops packets, counting them, and starts a new file there every %v", dir, dir, retry)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("give the user phonehome runs as write permission on %s; the writer drops packets, counting them, and tries again every %v", dir, retry)
	}
	return fmt.Sprintf("the writer drops packets, counting them, and starts a new file in %s every %v", dir, retry)
}

// rotate finishes the current file and starts the next, for a packet at ts
// in period p. A failure to finish the file or to start the next begins a
// failure episode.
func (w *Writer) rotate(ts time.Time, p int64) error {
	if err := w.finish(); err != nil {
		return w.fail(ts, err)
	}
	if err := w.openNext(ts, p); err != nil {
		return w.fail(ts, err)
	}
	return nil
}

// openNext starts the next file, for a packet at ts in period p: named by
// the start of the period when time rotation moved on, else by ts.
func (w *Writer) openNext(ts time.Time, p int64) error {
	w.lastTry = w.now()
	at := ts
	if p > w.period {
		at = time.Unix(0, p*int64(w.opt.Rotate))
	}
	if p < w.period {
		p = w.period // no file for the past
	}
	if err := w.open(at, p); err != nil {
		return fmt.Errorf("%w; %s", err, failHint(err, w.opt.Dir, w.opt.Retry))
	}
	return nil
}

// open creates the next file, named by at (or the previous name's time,
// whichever is later), and puts the headers in the buffer.
func (w *Writer) open(at time.Time, p int64) error {
	if at.Before(w.nameAt) {
		at = w.nameAt
	}
	ext := ".pcapng"
	if w.opt.Gzip {
		ext += ".gz"
	}
	stamp := at.UTC().Format("20060102T150405Z")
	for tries := 0; ; tries++ {
		path := filepath.Join(w.opt.Dir, fmt.Sprintf("phonehome-%s-%04d%s", stamp, w.seq, ext))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) && tries < 10000 {
			w.seq++
			continue
		}
		if err != nil {
			return fmt.Errorf("create %s: %w", path, bare(err))
		}
		w.f, w.fd, w.path, w.sink = f, int(f.Fd()), path, f
		break
	}
	if w.opt.Gzip {
		if w.gz == nil {
			w.gz, _ = gzip.NewWriterLevel(w.f, w.level)
		} else {
			w.gz.Reset(w.f)
		}
		w.sink = w.gz
	}
	w.seq++
	w.nameAt, w.period = at, p
	w.files = append(w.files, w.path)
	w.st.Files++
	w.buf = append(w.buf[:0], w.hdr...)
	w.bufPackets, w.bufBytes = 0, 0
	w.size = int64(len(w.hdr))
	return nil
}

// finish ends the current file: its buffer, the gzip trailer, fsync,
// close, and an fsync of the directory (which holds its name). On failure
// the file is closed as it stands and the buffer's packets are counted as
// lost.
func (w *Writer) finish() error {
	err := w.writeBuf()
	if err == nil && w.gz != nil {
		if err = w.gz.Close(); err != nil {
			err = fmt.Errorf("write %s: %w; %s", w.path, bare(err), failHint(err, w.opt.Dir, w.opt.Retry))
		}
	}
	if err == nil {
		if err = w.f.Sync(); err != nil {
			err = fmt.Errorf("sync %s: %w; %s", w.path, bare(err), failHint(err, w.opt.Dir, w.opt.Retry))
		}
	}
	if err != nil {
		w.dropBuf()
		w.f.Close()
		w.f, w.sink = nil, nil
		return err
	}
	err = w.f.Close()
	w.f, w.sink = nil, nil
	if err != nil {
		return fmt.Errorf("close %s: %w; %s", w.path, bare(err), failHint(err, w.opt.Dir, w.opt.Retry))
	}
	if d, err := os.Open(w.opt.Dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("sync directory %s: %w", w.opt.Dir, bare(err))
		}
	}
	return nil
}

// Flush hands the buffered packets to the kernel (through the compressor,
// whose output is then whole up to them), so that a crash of the process
// loses none written before. Call it at the capture's checkpoint tick. An
// error begins a failure episode, as in WritePacket; while failing, Flush
// does nothing and returns nil.
func (w *Writer) Flush() error {
	if w.closed {
		return ErrWriterClosed
	}
	if w.f == nil {
		return nil
	}
	if err := w.writeBuf(); err != nil {
		return w.fail(w.now(), err)
	}
	return nil
}

// Close finishes the current file (see Writer) and returns the error that
// kept it from being finished, if any; a failure then is counted in Stats
// as any other. It does nothing when the Writer is failing. Calling it
// again returns ErrWriterClosed.
func (w *Writer) Close() error {
	if w.closed {
		return ErrWriterClosed
	}
	w.closed = true
	if w.f == nil {
		return nil
	}
	if err := w.finish(); err != nil {
		w.st.Failures++
		w.noteErr(err)
		return err
	}
	return nil
}

// Stats says what the Writer wrote and lost so far.
func (w *Writer) Stats() WriterStats { return w.st }

// Files returns the paths of the files started, in order (also the ones a
// failure cut short).
func (w *Writer) Files() []string { return append([]string(nil), w.files...) }
