package capture

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// addPath adds the inputs of one path given to OpenFiles. It returns an
// error naming the path when nothing of it can be read (also recorded as a
// Damage of kind DamageUnreadable).
func (s *FileSet) addPath(path string) error {
	if path == "-" {
		if s.stdin {
			return s.unreadable(path, errors.New("standard input is given twice; it is read once, as the first -"))
		}
		s.stdin = true
		return s.addStream(path, os.Stdin, os.Stdin)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return s.unreadable(path, openErr(err))
	}
	switch {
	case fi.IsDir():
		return s.addDir(path)
	case fi.Mode().IsRegular():
		p, err := s.probe(path, fi.Size())
		if err != nil {
			return s.unreadable(path, err)
		}
		s.addProbed(p)
		return nil
	}
	// A FIFO (process substitution too), a character device, a socket:
	// read once, as it comes.
	f, err := os.Open(path)
	if err != nil {
		return s.unreadable(path, openErr(err))
	}
	return s.addStream(path, f, f)
}

// openErr says why a path could not be opened or examined, without the path
// (the caller names it).
func openErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("cannot open: %w", pe.Err)
	}
	return fmt.Errorf("cannot open: %w", err)
}

// unreadable records an input that cannot be read at all, and returns its
// error, naming it.
func (s *FileSet) unreadable(name string, err error) error {
	s.info = append(s.info, Input{Name: name})
	s.damage = append(s.damage, Damage{File: name, Kind: DamageUnreadable, Reason: err.Error()})
	s.stats.DamagedFiles++
	s.log.Debug("capture input unreadable", "name", name, "err", err)
	return fmt.Errorf("%s: %w", name, err)
}

// probed is a regular file read up to its first packet.
type probed struct {
	name  string
	size  int64
	info  streamInfo
	first time.Time
	found bool         // a first packet was read
	dmg   *damageError // damage before the first packet
}

// probe opens a regular file, reads its header and first packet, and closes
// it. The error is for a file that cannot be read at all.
func (s *FileSet) probe(name string, size int64) (probed, error) {
	p := probed{name: name, size: size}
	f, err := os.Open(name)
	if err != nil {
		return p, openErr(err)
	}
	defer f.Close()
	// A probe reads the beginning only: the first chunk is small.
	src, info, err := openStream(&fileReader{f: f}, nopCloser{}, s.openConfig(0))
	p.info = info
	switch {
	case err == errEmpty:
		return p, nil
	case errors.As(err, &p.dmg):
		return p, nil
	case err != nil:
		return p, err
	}
	defer src.close()
	var pk Packet
	switch err := src.next(&pk); {
	case err == nil:
		p.first, p.found = pk.Timestamp, true
	case err == io.EOF:
	default:
		p.dmg = err.(*damageError)
	}
	return p, nil
}

// addProbed adds a probed regular file: to be opened when the merge reaches
// its first packet, or done already (empty, or damaged before a packet).
func (s *FileSet) addProbed(p probed) {
	in := s.newInput(p.name, false, p.info)
	in.size = p.size
	s.info[in.info].Bytes = p.size
	s.total += p.size
	s.stats.FileBytes += p.size
	switch {
	case p.found:
		in.first = p.first
		s.pending = append(s.pending, in)
		return
	case p.dmg != nil:
		s.stopped(in, p.dmg)
	default:
		s.info[in.info].Empty = true
	}
	s.done.Add(p.size) // nothing more to read of it
}

// newInput adds an input that can be read, next in input order.
func (s *FileSet) newInput(name string, stream bool, info streamInfo) *input {
	in := &input{name: name, info: len(s.info), order: len(s.inputs), stream: stream, comp: info.compression, readOn: -1}
	in.bit = 1 << (in.order % 64)
	s.info = append(s.info, Input{Name: name, Stream: stream, Compression: info.compression, Format: info.format})
	s.inputs = append(s.inputs, in)
	s.stats.Files++
	return in
}

// addStream reads a stream's header and first packet, and keeps it open
// until its end; c closes it.
func (s *FileSet) addStream(name string, f io.Reader, c io.Closer) error {
	r := &fileReader{f: f}
	src, info, err := openStream(r, c, s.openConfig(0))
	var d *damageError
	switch {
	case err == errEmpty:
	case errors.As(err, &d):
	case err != nil:
		c.Close()
		return s.unreadable(name, err)
	}
	in := s.newInput(name, true, info)
	in.r = r
	if err != nil {
		c.Close()
		s.finishStream(in, err)
		return nil
	}
	in.src = src
	src.setReadOn(s.readOnHook(in))
	if err := s.read(in, &in.head); err != nil {
		s.info[in.info].Empty = err == io.EOF
		s.finish(in, err)
		return nil
	}
	in.first = in.head.Timestamp
	s.push(in)
	return nil
}

// finishStream records how a stream that ended before its first packet
// ended.
func (s *FileSet) finishStream(in *input, err error) {
	var d *damageError
	switch {
	case err == errEmpty || err == io.EOF:
		s.info[in.info].Empty = true
	case errors.As(err, &d):
		s.stopped(in, d)
	}
	s.info[in.info].Bytes = in.r.n
}

// addDir walks a directory for capture files and adds them in the order of
// their first packets.
func (s *FileSet) addDir(dir string) error {
	var found []probed
	var skipped []Input
	var errs []error
	walkErr := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			errs = append(errs, s.unreadable(path, fmt.Errorf("cannot read directory: %w", unwrapPath(err))))
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		fi, err := os.Stat(path) // follows a symbolic link
		switch {
		case err != nil && d.Type()&fs.ModeSymlink != 0:
			skipped = append(skipped, Input{Name: path, Skipped: "a symbolic link to nothing"})
			return nil
		case err != nil:
			errs = append(errs, s.unreadable(path, openErr(err)))
			return nil
		case fi.IsDir():
			skipped = append(skipped, Input{Name: path, Skipped: "a symbolic link to a directory (not followed)"})
			return nil
		case !fi.Mode().IsRegular():
			skipped = append(skipped, Input{Name: path, Skipped: "not a regular file (a FIFO, socket or device is read only when named)"})
			return nil
		}
		p, err := s.probe(path, fi.Size())
		switch {
		case errors.Is(err, ErrUnknownFormat):
			// Without the formats expected: it is no capture.
			why, _, _ := strings.Cut(err.Error(), "; expected")
			skipped = append(skipped, Input{Name: path, Bytes: fi.Size(), Skipped: why})
		case err != nil:
			errs = append(errs, s.unreadable(path, err))
		default:
			found = append(found, p)
		}
		return nil
	})
	if walkErr != nil {
		return s.unreadable(dir, fmt.Errorf("cannot read directory: %w", unwrapPath(walkErr)))
	}
	// In time order; files without a packet after, by path.
	slices.SortStableFunc(found, func(a, b probed) int {
		switch {
		case a.found != b.found:
			if a.found {
				return -1
			}
			return 1
		case a.found:
			if c := a.first.Compare(b.first); c != 0 {
				return c
			}
		}
		return strings.Compare(a.name, b.name)
	})
	for _, p := range found {
		s.addProbed(p)
	}
	s.info = append(s.info, skipped...)
	if len(found) == 0 {
		why := "holds no capture file"
		if n := len(skipped); n > 0 {
			why = fmt.Sprintf("holds no capture file (%d other files skipped)", n)
		}
		err := s.unreadable(dir, errors.New(why))
		if len(errs) > 0 {
			return errors.Join(append(errs, err)...)
		}
		return err
	}
	return nil
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// openConfig is what openStream needs for an input of size bytes (0 when
// not known, or to read the beginning only).
func (s *FileSet) openConfig(size int64) openConfig {
	return openConfig{opt: s.opt, size: size, maxWindow: s.maxWindow, maxDict: s.maxDict}
}

// openDue opens every pending file whose first packet is at or before the
// merge front (the earliest packet of the open inputs), or the next one
// when none is open.
func (s *FileSet) openDue() {
	for s.pend < len(s.pending) {
		in := s.pending[s.pend]
		if len(s.open) > 0 && in.first.After(s.open[0].head.Timestamp) {
			return
		}
		s.pend++
		s.reopen(in)
	}
}

// reopen opens a probed file again to read it, up to its first packet.
func (s *FileSet) reopen(in *input) {
	f, err := os.Open(in.name)
	if err != nil {
		s.lost(in, openErr(err))
		return
	}
	in.r = &fileReader{f: f, done: &s.done}
	src, _, err := openStream(in.r, f, s.openConfig(in.size))
	var d *damageError
	switch {
	case errors.As(err, &d):
		f.Close()
		s.stopped(in, d)
		s.finished(in)
		return
	case err != nil: // the file changed since it was probed
		f.Close()
		s.lost(in, err)
		return
	}
	in.src = src
	src.setReadOn(s.readOnHook(in))
	if err := s.read(in, &in.head); err != nil {
		s.finish(in, err)
		return
	}
	s.log.Debug("capture input opened", "name", in.name)
	s.push(in)
}

// lost records a probed file that cannot be read any more.
func (s *FileSet) lost(in *input, err error) {
	s.damage = append(s.damage, Damage{File: in.name, Kind: DamageStopped, Reason: fmt.Sprintf("could be read when opened first, not when its packets were due: %v", err)})
	s.hurt(in)
	s.finished(in)
}

// advance reads the next packet of the input at the root of the heap, the
// one Next delivered last.
func (s *FileSet) advance(in *input) {
	if err := s.read(in, &in.head); err != nil {
		s.pop()
		s.finish(in, err)
		return
	}
	s.down(0)
}

// finish closes an input that ended with err (io.EOF or damage).
func (s *FileSet) finish(in *input, err error) {
	in.src.close()
	in.src = nil
	if d, ok := err.(*damageError); ok {
		s.stopped(in, d)
	}
	if in.stream {
		s.info[in.info].Bytes = in.r.n
	} else {
		s.finished(in)
	}
	s.log.Debug("capture input finished", "name", in.name)
}

// finished counts the rest of a regular file as read, damage or not.
func (s *FileSet) finished(in *input) {
	var n int64
	if in.r != nil {
		n = in.r.n
	}
	s.done.Add(max(in.size-n, 0))
}

// stopped records damage that stopped an input.
func (s *FileSet) stopped(in *input, d *damageError) {
	s.damage = append(s.damage, Damage{File: in.name, Kind: DamageStopped, Offset: d.off, Decompressed: in.comp != "", Reason: d.reason})
	s.hurt(in)
}

func (s *FileSet) hurt(in *input) {
	if !in.hurt {
		in.hurt = true
		s.stats.DamagedFiles++
	}
}

// readOnHook returns what an input's reader calls for a record it reads on
// from: the first becomes a Damage of kind DamageReadOn, the others count
// in its Records.
func (s *FileSet) readOnHook(in *input) func(off int64, reason string) {
	return func(off int64, reason string) {
		if in.readOn >= 0 {
			s.damage[in.readOn].Records++
			return
		}
		in.readOn = len(s.damage)
		s.damage = append(s.damage, Damage{File: in.name, Kind: DamageReadOn, Offset: off, Decompressed: in.comp != "", Records: 1, Reason: reason})
		s.hurt(in)
	}
}

// fileReader reads an input, counting what it reads, and adding it to a
// progress count (nil for none: a probe, a stream). Files are read through
// os.File, which tells the scheduler about every read, so that a read that
// waits (a FIFO, a network or shared-folder file system) holds up neither
// other goroutines nor a collection.
type fileReader struct {
	f    io.Reader // an *os.File but in the fuzz targets
	done *atomic.Int64
	n    int64
}

func (r *fileReader) Read(b []byte) (n int, err error) {
	n, err = r.f.Read(b)
	r.n += int64(n)
	if r.done != nil {
		r.done.Add(int64(n))
	}
	if err != nil && err != io.EOF {
		err = &ioError{err}
	}
	return n, err
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
