package capture

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
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

// ErrUnknownFormat is returned (wrapped, naming the input) by OpenFiles for
// an input that is not pcap or pcapng, compressed or not; among other
// inputs that can be read, it is a Damage of kind DamageUnreadable instead.
var ErrUnknownFormat = errors.New("not a pcap or pcapng file")

// expectedFormats ends the message of a format error.
const expectedFormats = "expected pcap (magic a1b2c3d4 or a1b23c4d, either byte order) or pcapng (0a0d0d0a), " +
	"uncompressed or compressed by gzip, zstd, xz, bzip2 or lz4"

// Options configures OpenFiles. The zero value works.
type Options struct {
	// MaxSnap bounds the captured length of one record and so the memory a
	// reader holds per input: a record claiming more is damage (a lying
	// length cannot make the reader allocate it), and pcapng interface snap
	// lengths above it are clamped. 0 means DefaultMaxSnap; at most 16 MiB.
	MaxSnap int
	// Logger receives debug lines (inputs found, opened and finished). nil
	// discards them.
	Logger *slog.Logger
	// Defrag bounds IPv4 reassembly, on unless Defrag.Off (see
	// Packet.Reassembled and Defragmenter).
	Defrag DefragConfig
}

// Damage is a place where an input stopped making sense, or an input that
// could not be read at all. Kind says what it did to the reading. It is the
// one damage type from capture to report: the JSON report writes it as it
// is.
type Damage struct {
	// File is the input as given to OpenFiles ("-" for standard input; a
	// file found in a directory, the directory joined with its path there).
	File string `json:"file"`
	// Kind says whether reading stopped, went on, or never started.
	Kind DamageKind `json:"kind"`
	// Offset is the byte offset of the (first) bad record or block in the
	// input's stream: the file itself, or its decompressed bytes when
	// Decompressed. 0 for DamageUnreadable.
	Offset int64 `json:"offset"`
	// Decompressed says that Offset counts bytes of the decompressed stream
	// of a compressed input, not bytes of the file.
	Decompressed bool `json:"decompressed,omitempty"`
	// Records is, for DamageReadOn, how many records had the fault (the
	// first at Offset); 0 for the other kinds.
	Records int `json:"records,omitempty"`
	// Reason says what was wrong, with the offset, in words a user can act on.
	Reason string `json:"reason"`
}

// DamageKind says what a Damage did to the reading of its input. The zero
// value is DamageStopped.
type DamageKind uint8

const (
	// DamageStopped: reading of the input stopped at Offset (a corrupt
	// length, a file cut short, a read error); every packet before it was
	// delivered, and reading went on with the other inputs.
	DamageStopped DamageKind = iota
	// DamageReadOn: records whose framing is intact but one field cannot be
	// right (a pcap fraction of a second of a second or more); they were
	// delivered, Reason says how the field was taken, and reading went on.
	DamageReadOn
	// DamageUnreadable: the input could not be read at all (missing, not
	// readable, not a capture, a directory holding no capture); nothing of it
	// was delivered, and the other inputs were read.
	DamageUnreadable
)

var damageKindNames = [...]string{DamageStopped: "stopped", DamageReadOn: "read-on", DamageUnreadable: "unreadable"}

// String returns "stopped", "read-on" or "unreadable".
func (k DamageKind) String() string {
	if int(k) < len(damageKindNames) {
		return damageKindNames[k]
	}
	return "DamageKind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText writes the kind as String does, for JSON.
func (k DamageKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Where says, for a report line, what the damage did and where: "stopped at
// byte 747" (of the decompressed stream, when Decompressed), "3 records read
// on from byte 747", or "not read".
func (d Damage) Where() string {
	of := ""
	if d.Decompressed {
		of = " of the decompressed stream"
	}
	switch d.Kind {
	case DamageReadOn:
		rec := "records"
		if d.Records == 1 {
			rec = "record"
		}
		return fmt.Sprintf("%d %s read on from byte %d%s", d.Records, rec, d.Offset, of)
	case DamageUnreadable:
		return "not read"
	}
	return fmt.Sprintf("stopped at byte %d%s", d.Offset, of)
}

// Stats counts what a FileSet has read so far.
type Stats struct {
	// Files is the number of inputs that could be read (damaged and empty
	// ones included; not those that could not be read, nor files skipped in
	// a directory).
	Files int
	// FileBytes is the on-disk size of the regular files among them (a
	// stream's length is not known; Inputs has what was read of it).
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
	// DamagedFiles is the number of inputs with a Damage of any kind.
	DamagedFiles int
	// Duplicates is the number of frames dropped as duplicates: frames with
	// the time, bytes and lengths of one another input delivered (see
	// FileSet). They are not in Frames, CapturedBytes or LinkTypes.
	Duplicates int
	// Defrag counts IPv4 reassembly: datagrams rebuilt (delivered by Next
	// besides Frames), bounds reached, suspicious overlaps.
	Defrag DefragStats
	// Inputs lists every input in input order (see FileSet): those read,
	// those that could not be read, and files skipped in a directory.
	Inputs []Input
	// Sessions are the live captures the packets came from, in order
	// (a live source's); none for files.
	Sessions []Session
}

// Input is one input of a FileSet, as read so far.
type Input struct {
	// Name is the input as given ("-" for standard input; a file found in a
	// directory, the directory joined with its path there), as in Damage.
	Name string `json:"name"`
	// Stream says the input was read once as it came (standard input, a
	// FIFO, a character device), not as a regular file.
	Stream bool `json:"stream,omitempty"`
	// Compression is "gzip", "zstd", "xz", "bzip2" or "lz4" for a
	// compressed input, "" otherwise.
	Compression string `json:"compression,omitempty"`
	// Format is "pcap" or "pcapng"; "" when the input was empty or could not
	// be read.
	Format string `json:"format,omitempty"`
	// Bytes is the size of a regular file on disk, or what has been read of
	// a stream.
	Bytes int64 `json:"bytes"`
	// Frames counts the frames delivered from the input; Duplicates those
	// dropped as duplicates of another input's.
	Frames     int `json:"frames"`
	Duplicates int `json:"duplicates,omitempty"`
	// Empty says the input held no packet at all (a file of no bytes, or a
	// capture header alone): not damage.
	Empty bool `json:"empty,omitempty"`
	// Skipped says why a file found in a directory was not read (not a
	// capture, not a regular file); "" for every other input.
	Skipped string `json:"skipped,omitempty"`
}

// FileSet reads a set of inputs (capture files, standard input, FIFOs) as
// one capture: their packets are merged by timestamp, as mergecap merges
// files, and packets that one input repeats from another are delivered once.
// It is not safe for concurrent use.
//
// Input order is the order of the paths given to OpenFiles, a directory's
// captures taking its place in the order of their first packets (then of
// their paths). Next always delivers the packet with the earliest timestamp
// among the inputs' next packets; of equal timestamps, the one of the
// earliest input (mergecap 4.0 takes the last input's, a side effect of its
// "not later than" comparison; the two agree wherever no two inputs have a
// packet of one timestamp). An input's packets come out in their order in
// the input (mergecap's rule too, also where an input's clock steps back).
//
// A regular file is opened to read its header and first packet, closed, and
// opened again when the merge reaches that packet, so that a week of rotated
// files holds one file open at a time, and only overlapping files more; it
// is closed at its end. A stream is read once: it is opened by OpenFiles and
// stays open from its first packet to its end.
//
// A duplicate is a frame with the timestamp, link type, lengths and bytes
// (a 64-bit hash of them) of one that another input delivered: the same
// file given twice, or rotated files that overlap. Frames repeated within
// one input are kept (a capture on two interfaces of one bridge has them).
// Only frames of the same timestamp are compared, at most dupWindow of them.
type FileSet struct {
	opt Options
	log *slog.Logger

	inputs  []*input // the inputs that can be read, in input order
	info    []Input  // every input, in input order, for Stats
	pending []*input // regular files not yet opened, by first packet, then input order
	pend    int      // index in pending of the next one to open
	open    []*input // the open inputs: a heap, least head first
	last    *input   // the input of the last delivery, advanced at the next call
	dups    dupWindow
	closed  bool
	stdin   bool // standard input is an input already
	// Decoder memory limits (openConfig); 0, the default but in fuzz
	// targets, means defaultMaxWindow and defaultMaxDict.
	maxWindow, maxDict int64

	damage []Damage
	stats  Stats

	// Progress, in bytes of the regular files on disk: total of them all,
	// done of what has been read. done is atomic so that Progress may be
	// called from another goroutine than Next (a progress display of its
	// own).
	total int64
	done  atomic.Int64
	// per link type frame counts; a short slice searched linearly is cheaper
	// than a map update per packet and does not allocate once a type is seen.
	linkCounts []linkCount

	// defrag reassembles IPv4 fragments (nil with Options.Defrag.Off);
	// reassembled says the next call to Next delivers its datagram.
	defrag      *Defragmenter
	reassembled bool
}

// input is one input that can be read.
type input struct {
	name   string
	info   int    // index in FileSet.info
	order  int    // input order: the earlier input's packet wins a tie
	bit    uint64 // 1 << (order % 64), its mark in dupWindow
	stream bool
	size   int64     // on disk, for a regular file
	comp   string    // compression, "" for none
	first  time.Time // timestamp of the first packet
	src    source    // nil unless open
	r      *fileReader
	head   Packet // the next packet to deliver, while open
	frames int64  // frames read from it so far, duplicates too: the last one's Packet.Number
	readOn int    // index in FileSet.damage of its DamageReadOn, -1 before one
	hurt   bool   // has a Damage
}

type linkCount struct {
	linkType uint16
	frames   int
}

// OpenFiles opens a set of inputs to be read as one capture (see FileSet).
// Each path is a capture file (pcap or pcapng, compressed or not, told by
// its bytes, never its name), "-" for standard input, a FIFO or character
// device (read as a stream), or a directory, walked for capture files (by
// content: other files are listed as skipped in Stats.Inputs, with the
// reason; subdirectories too; symbolic links to files are followed, to
// directories not).
//
// Every input is read up to its first packet here: a stream, whose first
// packet is kept; a regular file, which is closed again. An input that
// cannot be read (missing, unreadable, not a capture, a directory without
// one) is a Damage of kind DamageUnreadable, and the others are read; when
// none of the inputs can be read, OpenFiles fails with an error naming each
// (errors.Is finds fs.ErrNotExist, ErrUnknownFormat...). An input cut short
// or corrupt is a Damage too, reported by Damage. An input without packets
// (an empty file, a header alone) is Empty, not damage.
func OpenFiles(paths []string, opt Options) (*FileSet, error) {
	if len(paths) == 0 {
		return nil, errors.New("open captures: no files given")
	}
	s := newFileSet(opt)
	var errs []error
	for _, path := range paths {
		if err := s.addPath(path); err != nil {
			errs = append(errs, err)
		}
	}
	if len(s.inputs) == 0 {
		return nil, joinErrors(errs)
	}
	slices.SortStableFunc(s.pending, func(a, b *input) int {
		if c := a.first.Compare(b.first); c != 0 {
			return c
		}
		return a.order - b.order
	})
	for _, in := range s.inputs {
		s.log.Debug("capture input", "order", in.order, "name", in.name, "first", in.first, "stream", in.stream)
	}
	return s, nil
}

// joinErrors joins the errors of inputs that cannot be read into one, on
// one line (errors.Join's line breaks would be escaped where it is shown);
// errors.Is and errors.As find each.
func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return multiError(errs)
}

type multiError []error

func (m multiError) Error() string {
	msgs := make([]string, len(m))
	for i, err := range m {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (m multiError) Unwrap() []error { return m }

// newFileSet returns an empty set for opt, defaults set.
func newFileSet(opt Options) *FileSet {
	if opt.MaxSnap <= 0 {
		opt.MaxSnap = DefaultMaxSnap
	}
	opt.MaxSnap = min(opt.MaxSnap, maxMaxSnap)
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &FileSet{opt: opt, log: log, dups: newDupWindow()}
	if !opt.Defrag.Off {
		s.defrag = NewDefragmenter(opt.Defrag)
	}
	return s
}

// Next reads the next packet of the merged inputs into p, decoded by Decode,
// and returns nil; io.EOF after the last packet of the last input. Damage is
// recorded (see Damage), never returned: an input whose damage stops it ends
// there and the others are read on.
//
// After an IPv4 fragment that completes a datagram, the next call delivers
// the datagram, with p.Reassembled set: it is not a frame of an input and
// not counted in Stats.Frames (see Packet.Reassembled).
//
// p.Frame and p.Payload point into the buffer of the input's reader and stay
// valid only until the next call to Next, which is when that reader moves
// on. Next allocates nothing per packet in steady state (a test proves it
// for pcap and pcapng); opening an input allocates its buffers (see the
// package doc). After Close, Next returns io.EOF.
func (s *FileSet) Next(p *Packet) error {
	if s.reassembled {
		s.defrag.Datagram(p)
		// A datagram rebuilt outside a tunnel may be a fragment inside
		// it, which can complete a datagram of its own: delivered next.
		s.reassembled = s.defrag.Add(p)
		return nil
	}
	for {
		if in := s.last; in != nil {
			s.last = nil
			if len(s.open) == 1 && s.pend == len(s.pending) {
				// The only input left (one file, the last of a
				// rotated set): no merge, its reader reads straight
				// into p. Its head is not used again.
				if err := s.read(in, p); err != nil {
					s.pop()
					s.finish(in, err)
					continue
				}
				s.last = in
				if s.duplicate(in, p) {
					continue
				}
				s.deliver(in, p)
				return nil
			}
			s.advance(in)
		}
		s.openDue()
		if len(s.open) == 0 {
			return io.EOF
		}
		in := s.open[0]
		s.last = in
		h := &in.head
		if s.duplicate(in, h) {
			continue
		}
		p.Timestamp, p.Offset, p.WireLen, p.CapLen = h.Timestamp, h.Offset, h.WireLen, h.CapLen
		p.LinkType, p.Interface, p.Frame = h.LinkType, h.Interface, h.Frame
		p.Input, p.Number = h.Input, h.Number
		s.deliver(in, p)
		return nil
	}
}

// read reads the next packet of in into p and numbers it (Packet.Input,
// Packet.Number). Every record the source returns is a frame Wireshark
// numbers: duplicates are dropped after this, so they keep their numbers.
func (s *FileSet) read(in *input, p *Packet) error {
	if err := in.src.next(p); err != nil {
		return err
	}
	in.frames++
	p.Input, p.Number = in.info, in.frames
	return nil
}

// deliver decodes and counts the packet read into p from in.
func (s *FileSet) deliver(in *input, p *Packet) {
	Decode(p.LinkType, p.Frame, p)
	p.Reassembled = 0
	s.count(p)
	s.info[in.info].Frames++
	if s.defrag != nil {
		s.reassembled = s.defrag.Add(p)
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

// InputName returns the name of input i (Packet.Input), as Stats.Inputs
// has it, without copying it; "" for an index no input has.
func (s *FileSet) InputName(i int) string {
	if i < 0 || i >= len(s.info) {
		return ""
	}
	return s.info[i].Name
}

// Progress returns how many bytes of the regular files (on disk, so
// compressed bytes for a compressed file) have been read, and their total.
// A stream's length is not known beforehand: it is in neither. It is safe
// to call while another goroutine calls Next.
func (s *FileSet) Progress() (done, total int64) {
	return min(s.done.Load(), s.total), s.total
}

// Damage returns the damage found so far, in the order found: inputs that
// could not be read first. The slice is the caller's.
func (s *FileSet) Damage() []Damage { return slices.Clone(s.damage) }

// Stats returns the counts so far. The maps and slices are the caller's.
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
	st.Inputs = slices.Clone(s.info)
	for _, in := range s.inputs {
		if in.stream && in.r != nil {
			st.Inputs[in.info].Bytes = in.r.n
		}
	}
	return st
}

// Close closes every open input. Next after Close returns io.EOF.
func (s *FileSet) Close() error {
	var first error
	for _, in := range s.open {
		if err := in.src.close(); err != nil && first == nil {
			first = err
		}
		in.src = nil
	}
	s.open, s.last, s.pend, s.closed = s.open[:0], nil, len(s.pending), true
	return first
}

// source is one open capture stream.
type source interface {
	// next fills p's Timestamp, Offset, WireLen, CapLen, LinkType, Interface
	// and Frame. It returns io.EOF at a clean end, and a *damageError for
	// anything else (damage, a read error).
	next(p *Packet) error
	close() error
	// setReadOn sets what the source calls for a record whose framing is
	// intact but a field is impossible, which it delivers all the same:
	// the record's offset, and the reason the first time (later calls
	// have ""). nil, the default, calls nothing (a probe).
	setReadOn(func(off int64, reason string))
}

// damageError carries a Damage that stops an input out of a source.
type damageError struct {
	off    int64
	reason string
}

func (e *damageError) Error() string { return e.reason }

func damagef(off int64, format string, args ...any) *damageError {
	return &damageError{off: off, reason: fmt.Sprintf(format, args...)}
}

// errEmpty says an input holds no bytes at all (or, compressed, decompresses
// to none).
var errEmpty = errors.New("empty")

// ioError marks an error of reading the input itself (not of its contents)
// so that it survives the decompressors and bufio layers and is told from
// corrupt compressed data.
type ioError struct{ err error }

func (e *ioError) Error() string { return e.err.Error() }
func (e *ioError) Unwrap() error { return e.err }

// stream says where offsets are counted, for damage messages, and how long
// the stream is.
type stream struct {
	where string // "offset" or "decompressed offset"
	size  int64  // length in bytes when known (not compressed), else 0
}

// streamErr turns an error met while reading the stream at off into damage:
// end of data, corrupt compression, a read error.
func (st stream) streamErr(err error, off int64, what string) error {
	var ioe *ioError
	switch {
	case errors.As(err, &ioe):
		return damagef(off, "read error in %s at %s %d: %v; rest of input skipped", what, st.where, off, ioe.err)
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return damagef(off, "truncated %s at %s %d (file still being written?)", what, st.where, off)
	}
	if msg := decoderLimit(err); msg != "" {
		return damagef(off, "%s at %s %d: %s; rest of input skipped", what, st.where, off, msg)
	}
	return damagef(off, "unreadable %s at %s %d: %v", what, st.where, off, err)
}
