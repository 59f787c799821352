package capture

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

const (
	magicPcapMicro = 0xa1b2c3d4
	magicPcapNano  = 0xa1b23c4d
	magicPcapng    = 0x0a0d0d0a
	ioBufSize      = 64 << 10
)

// openConfig is what openStream needs besides the bytes.
type openConfig struct {
	opt Options
	// size is the input's length when known (a regular file, 0 for a
	// probe, which reads the beginning only): the first read chunk holds
	// it, up to chunkSize.
	size int64
	// Decoder memory limits; 0 means defaultMaxWindow and defaultMaxDict.
	maxWindow, maxDict int64
}

// streamInfo says what openStream found, as far as it got.
type streamInfo struct {
	compression string // "" for none
	format      string // "pcap" or "pcapng"
}

// openStream detects the compression and the format of r by their magic
// bytes and reads the capture's file header. c is closed by the source's
// close (the caller closes it when openStream fails).
//
// It returns errEmpty for an input of no bytes (or that decompresses to
// none); a *damageError when the input is cut short within its header or
// its decompressor fails after the first bytes (an input that is read,
// damaged); another error, without the input's name, when the input is not
// a capture or cannot be read at all.
func openStream(r io.Reader, c io.Closer, cfg openConfig) (source, streamInfo, error) {
	var info streamInfo
	var m [6]byte
	n, err := io.ReadFull(r, m[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, info, fmt.Errorf("read error: %w", unwrapIO(err))
	}
	if n == 0 {
		return nil, info, errEmpty
	}
	st := stream{where: "offset", size: cfg.size}
	raw := io.MultiReader(bytes.NewReader(m[:n]), r)
	codec := codecOf(m[:n])
	if codec == nil && n < len(m) && codecPrefix(m[:n]) {
		return nil, info, damagef(0, "compressed file cut short after %d bytes (file still being written?)", n)
	}
	if codec == nil {
		// Uncompressed: its first bytes are the capture's.
		return openCapture(raw, c, st, cfg, info)
	}
	info.compression = codec.name
	// The buffer need not be larger than the input (a fuzz input, the
	// newest file of a rotated set).
	buf := ioBufSize
	if cfg.size > 0 {
		buf = int(min(max(cfg.size, 16), ioBufSize))
	}
	dec, closeDec, err := codec.open(bufio.NewReaderSize(raw, buf), cfg)
	var ioe *ioError
	switch {
	case err == nil:
	case errors.As(err, &ioe):
		return nil, info, fmt.Errorf("read error: %w", ioe.err)
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return nil, info, damagef(0, "%s header cut short (file still being written?)", codec.name)
	case decoderLimit(err) != "":
		return nil, info, &limitError{msg: decoderLimit(err), err: err}
	default:
		return nil, info, codecErr(codec.name, err)
	}
	st = stream{where: "decompressed offset"}
	src, info, err := openCapture(dec, multiCloser{c, closeDec}, st, cfg, info)
	if err != nil {
		closeDec.Close()
	}
	return src, info, err
}

// openCapture reads a capture's magic from r and opens the reader of its
// format.
func openCapture(r io.Reader, c io.Closer, st stream, cfg openConfig, info streamInfo) (source, streamInfo, error) {
	var m [4]byte
	n, err := io.ReadFull(r, m[:])
	switch {
	case err == nil, err == io.EOF, err == io.ErrUnexpectedEOF:
	case info.compression == "":
		return nil, info, fmt.Errorf("read error: %w", unwrapIO(err))
	default:
		var ioe *ioError
		if errors.As(err, &ioe) {
			return nil, info, fmt.Errorf("read error: %w", ioe.err)
		}
		if msg := decoderLimit(err); msg != "" {
			return nil, info, &limitError{msg: msg, err: err}
		}
		return nil, info, codecErr(info.compression, err)
	}
	if n == 0 {
		if info.compression != "" && err == io.ErrUnexpectedEOF {
			return nil, info, damagef(0, "%s stream cut short before its first decompressed byte (file still being written?)", info.compression)
		}
		return nil, info, errEmpty
	}
	if n < 4 {
		if !magicPrefix(m[:n]) {
			return nil, info, fmt.Errorf("%w (magic %x); %s", ErrUnknownFormat, m[:n], expectedFormats)
		}
		return nil, info, damagef(0, "file header cut short after %d bytes (file still being written?)", n)
	}
	le, bigE := leU32(m[:]), beU32(m[:])
	switch {
	case le == magicPcapMicro || le == magicPcapNano || bigE == magicPcapMicro || bigE == magicPcapNano:
		info.format = "pcap"
		src, err := openPcap(m, r, c, st, cfg.opt)
		return src, info, err
	case le == magicPcapng:
		info.format = "pcapng"
		src, err := openPcapng(m, r, c, st, cfg.opt)
		return src, info, err
	}
	if info.compression != "" && codecOf(m[:]) != nil {
		return nil, info, fmt.Errorf("%w: compressed twice (%s, then magic %x); decompress it once first", ErrUnknownFormat, info.compression, m[:])
	}
	return nil, info, fmt.Errorf("%w (magic %x); %s", ErrUnknownFormat, m[:], expectedFormats)
}

// limitError is a decoder that would need more memory than it may have,
// before the first decompressed byte: the input cannot be read.
type limitError struct {
	msg string
	err error
}

func (e *limitError) Error() string { return e.msg }
func (e *limitError) Unwrap() error { return e.err }

func unwrapIO(err error) error {
	var ioe *ioError
	if errors.As(err, &ioe) {
		return ioe.err
	}
	return err
}

// codecErr says that the compressed stream is corrupt before its first
// decompressed bytes: whatever the magic said, it is not a capture.
func codecErr(name string, err error) error {
	return fmt.Errorf("%w: corrupt %s stream (%v); %s", ErrUnknownFormat, name, err, expectedFormats)
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
