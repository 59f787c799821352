package capture

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultMaxSnap is the largest record Options.MaxSnap allows by default:
// 262144 bytes, the limit of tcpdump (MAXIMUM_SNAPLEN) and Wireshark
// (WTAP_MAX_PACKET_SIZE_STANDARD). A record claiming more is damage.
const DefaultMaxSnap = 262144

// maxMaxSnap is the largest MaxSnap: far above any link's frames, and small
// enough that a pcapng block of MaxSnap plus its slack fits 32 bits.
const maxMaxSnap = 16 << 20

// ErrUnknownFormat is returned (wrapped, naming the file) by OpenFiles for a
// file that is not pcap, pcapng or gzip-compressed pcap/pcapng.
var ErrUnknownFormat = errors.New("not a pcap or pcapng file")

// expectedFormats ends the message of a format error.
const expectedFormats = "expected pcap (magic a1b2c3d4 or a1b23c4d, either byte order) or pcapng (0a0d0d0a), optionally gzip-compressed (1f8b)"

// Options configures OpenFiles. The zero value works.
type Options struct {
	// MaxSnap bounds the captured length of one record and so the memory a
	// reader holds per file: a record claiming more is damage (a lying length
	// cannot make the reader allocate it), and pcapng interface snap lengths
	// above it are clamped. 0 means DefaultMaxSnap; at most 16 MiB.
	MaxSnap int
	// Logger receives debug lines (file order, files opened and finished).
	// nil discards them.
	Logger *slog.Logger
	// Defrag bounds IPv4 reassembly, on unless Defrag.Off (see
	// Packet.Reassembled and Defragmenter).
	Defrag DefragConfig
}

// Damage is a place where a capture file stopped making sense. It is the one
// damage type from capture to report: the JSON report writes it as it is. Reading that
// file stops there; every packet before it has been delivered and reading
// goes on with the next file.
type Damage struct {
	// File is the path as given to OpenFiles.
	File string `json:"file"`
	// Offset is the byte offset of the bad record or block in the file's
	// decompressed stream (the file itself unless it is gzip-compressed).
	Offset int64 `json:"offset"`
	// Reason says what was wrong, with the offset, in words a user can act on.
	Reason string `json:"reason"`
}

// Stats counts what a FileSet has read so far.
type Stats struct {
	// Files is the number of files opened for reading (damaged ones included).
	Files int
	// FileBytes is the on-disk size of those files.
	FileBytes int64
	// Frames is the number of frames delivered by Next.
	Frames int
	// CapturedBytes is the sum of the delivered frames' captured lengths.
	CapturedBytes int64
	// LinkTypes counts delivered frames per link type.
	LinkTypes map[uint16]int
	// Unsupported counts delivered frames whose link type Decode does not
	// know, per link type (they decode as L3Unknown); a subset of LinkTypes.
	Unsupported map[uint16]int
	// DamagedFiles is the number of files with a Damage.
	DamagedFiles int
	// Defrag counts IPv4 reassembly: datagrams rebuilt (delivered by Next
	// besides Frames), bounds reached, suspicious overlaps.
	Defrag DefragStats
}

// FileSet reads a set of capture files one after another, in the order of
// each file's first packet timestamp. It is not safe for concurrent use.
type FileSet struct {
	opt   Options
	log   *slog.Logger
	files []fileEntry
	next  int // index in files of the next file to open

	cur     source
	curName string

	damage []Damage
	stats  Stats

	// Progress, in bytes on disk: total of all files; finished is the sum
	// of the files done, read what has been read of the current one. They
	// are atomic so that Progress may be called from another goroutine
	// than Next (a progress display of its own).
	total    int64
	curSize  int64
	finished atomic.Int64
	read     atomic.Int64
	// per link type frame counts; a short slice searched linearly is cheaper
	// than a map update per packet and does not allocate once a type is seen.
	linkCounts []linkCount

	// defrag reassembles IPv4 fragments (nil with Options.Defrag.Off);
	// reassembled says the next call to Next delivers its datagram.
	defrag      *Defragmenter
	reassembled bool
}

type fileEntry struct {
	path  string
	first time.Time // timestamp of the first packet
	empty bool      // no packet could be read
}

type linkCount struct {
	linkType uint16
	frames   int
}

// OpenFiles checks every file (opens it, reads its header and first packet,
// closes it) and orders them by first packet timestamp; files without a
// readable packet go last, ties by path. Files are then read one after the
// other (not merged packet by packet), opened one at a time by Next.
//
// A file that cannot be opened or is not a capture is an error naming the file
// and the formats expected; a file cut short or corrupt is not: its damage is
// reported by Damage when Next reaches it.
func OpenFiles(paths []string, opt Options) (*FileSet, error) {
	if len(paths) == 0 {
		return nil, errors.New("open captures: no files given")
	}
	if opt.MaxSnap <= 0 {
		opt.MaxSnap = DefaultMaxSnap
	}
	opt.MaxSnap = min(opt.MaxSnap, maxMaxSnap)
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &FileSet{opt: opt, log: log}
	if !opt.Defrag.Off {
		s.defrag = NewDefragmenter(opt.Defrag)
	}
	var p Packet
	for _, path := range paths {
		e := fileEntry{path: path, empty: true}
		src, size, err := openSource(path, opt, nil)
		s.total += size
		var d *damageError
		switch {
		case errors.As(err, &d):
			// Reported when Next reaches the file.
		case err != nil:
			return nil, err
		default:
			err = src.next(&p)
			if err == nil {
				e.first, e.empty = p.Timestamp, false
			} else if !errors.As(err, &d) && err != io.EOF {
				src.close()
				return nil, fmt.Errorf("read %s: %w", path, err)
			}
			src.close()
		}
		s.files = append(s.files, e)
	}
	slices.SortStableFunc(s.files, func(a, b fileEntry) int {
		switch {
		case a.empty != b.empty:
			if a.empty {
				return 1
			}
			return -1
		case !a.first.Equal(b.first):
			return a.first.Compare(b.first)
		}
		return strings.Compare(a.path, b.path)
	})
	for i, f := range s.files {
		log.Debug("capture file order", "index", i, "file", f.path, "first", f.first, "empty", f.empty)
	}
	return s, nil
}

// Next reads the next frame into p, decoded by Decode, and returns nil; io.EOF
// after the last frame of the last file. Damage in a file ends that file and is
// recorded (see Damage), never returned. Other errors are I/O errors naming the
// file; that file is abandoned and a further call goes on with the next one.
//
// After an IPv4 fragment that completes a datagram, the next call delivers
// the datagram, with p.Reassembled set: it is not a frame of the file and not
// counted in Stats.Frames (see Packet.Reassembled).
//
// p.Frame and p.Payload point into the reader's buffer and stay valid only
// until the next call to Next. Next allocates nothing per packet in steady
// state (a test proves it for pcap and pcapng); opening a file allocates its
// buffers (at most about 1 MiB + MaxSnap, see the package doc).
func (s *FileSet) Next(p *Packet) error {
	if s.reassembled {
		s.reassembled = false
		s.defrag.Datagram(p)
		return nil
	}
	for {
		if s.cur == nil {
			if s.next >= len(s.files) {
				return io.EOF
			}
			f := s.files[s.next]
			s.next++
			s.read.Store(0)
			src, size, err := openSource(f.path, s.opt, &s.read)
			s.stats.Files++
			s.stats.FileBytes += size
			s.curSize = size
			var d *damageError
			if errors.As(err, &d) {
				s.addDamage(f.path, d)
				continue
			}
			if err != nil {
				return err
			}
			s.log.Debug("capture file opened", "file", f.path)
			s.cur, s.curName = src, f.path
		}
		err := s.cur.next(p)
		if err == nil {
			Decode(p.LinkType, p.Frame, p)
			p.Reassembled = 0
			s.count(p)
			if s.defrag != nil {
				s.reassembled = s.defrag.Add(p)
			}
			return nil
		}
		s.cur.close()
		s.cur = nil
		s.finished.Add(s.curSize) // the whole file, damage or not
		s.read.Store(0)
		s.log.Debug("capture file finished", "file", s.curName)
		var d *damageError
		switch {
		case err == io.EOF:
		case errors.As(err, &d):
			s.addDamage(s.curName, d)
		default:
			return fmt.Errorf("read %s: %w", s.curName, err)
		}
	}
}

func (s *FileSet) count(p *Packet) {
	s.stats.Frames++
	s.stats.CapturedBytes += int64(p.CapLen)
	for i := range s.linkCounts {
		if s.linkCounts[i].linkType == p.LinkType {
			s.linkCounts[i].frames++
			return
		}
	}
	s.linkCounts = append(s.linkCounts, linkCount{p.LinkType, 1})
}

func (s *FileSet) addDamage(file string, d *damageError) {
	s.damage = append(s.damage, Damage{File: file, Offset: d.off, Reason: d.reason})
	s.stats.DamagedFiles++
}

// Progress returns how many bytes of the files (on disk, so compressed bytes
// for a gzip file) have been read, and their total. It is safe to call while
// another goroutine calls Next.
func (s *FileSet) Progress() (done, total int64) {
	return min(s.finished.Load()+s.read.Load(), s.total), s.total
}

// Damage returns the damage found so far, in reading order. The slice is the
// caller's.
func (s *FileSet) Damage() []Damage { return slices.Clone(s.damage) }

// Stats returns the counts so far. The maps are the caller's.
func (s *FileSet) Stats() Stats {
	st := s.stats
	if s.defrag != nil {
		st.Defrag = s.defrag.Stats()
	}
	st.LinkTypes = make(map[uint16]int, len(s.linkCounts))
	st.Unsupported = make(map[uint16]int)
	for _, c := range s.linkCounts {
		st.LinkTypes[c.linkType] = c.frames
		if !LinkTypeSupported(c.linkType) {
			st.Unsupported[c.linkType] = c.frames
		}
	}
	return st
}

// Close closes the file being read, if any. Next after Close goes on with the
// next file.
func (s *FileSet) Close() error {
	if s.cur == nil {
		return nil
	}
	err := s.cur.close()
	s.cur = nil
	return err
}

// source is one open capture file.
type source interface {
	// next fills p's Timestamp, Offset, WireLen, CapLen, LinkType, Interface
	// and Frame. It returns io.EOF at a clean end, a *damageError for damage
	// and anything else for I/O errors.
	next(p *Packet) error
	close() error
}

// damageError carries a Damage out of a source.
type damageError struct {
	off    int64
	reason string
}

func (e *damageError) Error() string { return e.reason }

func damagef(off int64, format string, args ...any) *damageError {
	return &damageError{off: off, reason: fmt.Sprintf(format, args...)}
}

// ioError marks an error of the file itself (not of its contents) so that it
// survives the gzip and bufio layers and is returned, not recorded as damage.
type ioError struct{ err error }

func (e *ioError) Error() string { return e.err.Error() }
func (e *ioError) Unwrap() error { return e.err }

// fileReader reads a capture file, adding what it reads to a progress count
// (nil for none). It reads through os.File, which tells the scheduler about
// every read, so that a read that waits (a FIFO, a network or shared-folder
// file system) holds up neither other goroutines nor a collection.
type fileReader struct {
	f    *os.File
	read *atomic.Int64
}

func newFileReader(f *os.File, read *atomic.Int64) fileReader { return fileReader{f: f, read: read} }

func (r fileReader) Read(b []byte) (n int, err error) {
	n, err = r.f.Read(b)
	if r.read != nil {
		r.read.Add(int64(n))
	}
	if err != nil && err != io.EOF {
		err = &ioError{err}
	}
	return n, err
}

// stream says where offsets are counted, for damage messages, and how long
// the stream is.
type stream struct {
	where string // "offset" or "decompressed offset"
	size  int64  // length in bytes when known (not compressed), else 0
}

// streamErr turns an error met while reading the stream at off into damage
// (end of data, corrupt compression) unless it is an I/O error.
func (st stream) streamErr(err error, off int64, what string) error {
	var ioe *ioError
	if errors.As(err, &ioe) {
		return err
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return damagef(off, "truncated %s at %s %d (file still being written?)", what, st.where, off)
	}
	return damagef(off, "unreadable %s at %s %d: %v", what, st.where, off, err)
}

const (
	magicPcapMicro = 0xa1b2c3d4
	magicPcapNano  = 0xa1b23c4d
	magicPcapng    = 0x0a0d0d0a
	ioBufSize      = 64 << 10
)

// openSource opens path, detects gzip and the format by magic bytes, and reads
// the file header. It returns the file's size; a *damageError when the file is
// too short to hold a header (an empty or growing file); an error naming the
// file otherwise.
func openSource(path string, opt Options, read *atomic.Int64) (source, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("open capture %s: %w", path, err)
	}
	var size int64
	fi, err := f.Stat()
	if err == nil {
		size = fi.Size()
	}
	src, err := openStream(path, newFileReader(f, read), size, f, opt)
	if err != nil {
		f.Close()
		return nil, size, err
	}
	return src, size, nil
}

// openStream detects the format of fr, size bytes long (0 when unknown), and
// reads its header. c is closed by the source's close (the caller closes it
// when openStream fails); path is for messages.
func openStream(path string, fr io.Reader, size int64, c io.Closer, opt Options) (source, error) {
	var m [4]byte
	n, err := io.ReadFull(fr, m[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	st := stream{where: "offset", size: size}
	var r io.Reader = fr
	closers := []io.Closer{c}
	if n >= 2 && m[0] == 0x1f && m[1] == 0x8b {
		// The buffer need not be larger than the file (a fuzz input, the
		// newest file of a rotated set).
		buf := int(min(max(size, 16), ioBufSize))
		gz, err := gzip.NewReader(bufio.NewReaderSize(io.MultiReader(bytes.NewReader(m[:n]), fr), buf))
		var ioe *ioError
		switch {
		case errors.As(err, &ioe):
			return nil, fmt.Errorf("read %s: %w", path, err)
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return nil, damagef(0, "gzip header cut short (file still being written?)")
		case err != nil:
			return nil, fmt.Errorf("%s: corrupt gzip header (%v): %w; %s", path, err, ErrUnknownFormat, expectedFormats)
		}
		gz.Multistream(true)
		closers = append(closers, gz)
		st.where, st.size = "decompressed offset", 0
		r = gz
		n, err = io.ReadFull(gz, m[:])
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			if errors.As(err, &ioe) {
				return nil, fmt.Errorf("read %s: %w", path, err)
			}
			return nil, damagef(0, "unreadable gzip stream at decompressed offset 0: %v", err)
		}
	}
	mc := multiCloser(closers)
	if n < 4 {
		if !magicPrefix(m[:n]) {
			return nil, fmt.Errorf("%s: %w (magic %x); %s", path, ErrUnknownFormat, m[:n], expectedFormats)
		}
		if n == 0 {
			return nil, damagef(0, "empty file: no capture header yet (file still being written?)")
		}
		return nil, damagef(0, "file header cut short after %d bytes (file still being written?)", n)
	}
	le, bigE := leU32(m[:]), beU32(m[:])
	switch {
	case le == magicPcapMicro || le == magicPcapNano || bigE == magicPcapMicro || bigE == magicPcapNano:
		return openPcap(m, r, mc, st, opt)
	case le == magicPcapng:
		return openPcapng(m, r, mc, st, opt)
	}
	return nil, fmt.Errorf("%s: %w (magic %x); %s", path, ErrUnknownFormat, m[:], expectedFormats)
}

// magicPrefix reports whether b (shorter than 4 bytes) could begin a capture.
func magicPrefix(b []byte) bool {
	for _, m := range []uint32{magicPcapMicro, magicPcapNano, magicPcapng} {
		var mb, ml [4]byte
		binary.BigEndian.PutUint32(mb[:], m)
		ml[0], ml[1], ml[2], ml[3] = mb[3], mb[2], mb[1], mb[0]
		if bytes.HasPrefix(mb[:], b) || bytes.HasPrefix(ml[:], b) {
			return true
		}
	}
	return false
}

func leU32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
func beU32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

type multiCloser []io.Closer

func (m multiCloser) Close() error {
	var first error
	for i := len(m) - 1; i >= 0; i-- {
		if err := m[i].Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
