package capture

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// Decoder memory limits. A compressed input costs its decoder's memory
// besides the reader's buffers: gzip 32 KiB of window, bzip2 about 4 MiB
// (a 900 kB block of 32-bit entries), lz4 two blocks of at most 4 MiB,
// zstd its frames' window and xz its blocks' dictionary, both chosen by the
// compressor and bounded here.
const (
	// defaultMaxWindow bounds a zstd frame's window: 128 MiB, the zstd
	// command's own default limit (--memory), so any file it decompresses
	// without being told otherwise is read. Levels 1 to 19 use at most
	// 8 MiB; --ultra -22 and --long 128 MiB.
	defaultMaxWindow = 128 << 20
	// defaultMaxDict bounds an xz block's dictionary: 64 MiB, what xz -9
	// uses (the default -6 uses 8 MiB). The decoder allocates the whole
	// dictionary a block's header asks for, up to 4 GiB, before it reads a
	// byte of data: a header asking for more is refused first.
	defaultMaxDict = 64 << 20
)

// codec is a compression format, told by the magic bytes its files start
// with.
type codec struct {
	name  string
	magic []byte
	// open returns the decompressed stream of r and what closes it.
	open func(r *bufio.Reader, cfg openConfig) (io.Reader, io.Closer, error)
}

var codecs = []codec{
	{"gzip", []byte{0x1f, 0x8b}, openGzip},
	{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}, openZstd},
	{"xz", []byte(xzMagic), openXz},
	{"bzip2", []byte("BZh"), openBzip2}, // then the block size, '1' to '9'
	{"lz4", []byte{0x04, 0x22, 0x4d, 0x18}, openLz4},
	{"lz4", []byte{0x02, 0x21, 0x4c, 0x18}, openLz4}, // the legacy frame of lz4 -l
}

const xzMagic = "\xfd7zXZ\x00"

// codecOf returns the codec whose magic b starts with, or nil.
func codecOf(b []byte) *codec {
	for i := range codecs {
		c := &codecs[i]
		if !bytes.HasPrefix(b, c.magic) {
			continue
		}
		if c.name == "bzip2" && (len(b) < 4 || b[3] < '1' || b[3] > '9') {
			continue
		}
		return c
	}
	return nil
}

// codecPrefix reports whether b, shorter than the magic read, could begin a
// compressed file.
func codecPrefix(b []byte) bool {
	for _, c := range codecs {
		if len(b) < len(c.magic) && bytes.HasPrefix(c.magic, b) || c.name == "bzip2" && string(b) == "BZh" {
			return true
		}
	}
	return false
}

func openGzip(r *bufio.Reader, _ openConfig) (io.Reader, io.Closer, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, nil, err
	}
	gz.Multistream(true)
	return gz, gz, nil
}

// errWindow is a zstd frame whose window is over the limit.
type errWindow struct{ window, limit int64 }

func (e *errWindow) Error() string {
	return fmt.Sprintf("a zstd frame that needs a window of %s, over the %s limit (made with zstd --long or --ultra?); "+
		"decompress it first (zstd -d --memory=%dMiB)", mib(e.window), mib(e.limit), (e.window+1<<20-1)>>20)
}

func mib(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

func openZstd(r *bufio.Reader, cfg openConfig) (io.Reader, io.Closer, error) {
	limit := cfg.maxWindow
	if limit == 0 {
		limit = defaultMaxWindow
	}
	// The decoder says only "window size exceeded" for a frame whose window
	// is too large (and for some corrupt blocks): the first frame's header
	// is read here to say how large.
	if b, _ := r.Peek(zstd.HeaderMaxSize); len(b) > 0 {
		var h zstd.Header
		if h.Decode(b) == nil && !h.Skippable {
			w := int64(h.WindowSize)
			if h.SingleSegment {
				w = int64(h.FrameContentSize)
			}
			if w > limit || w < 0 {
				return nil, nil, &errWindow{window: w, limit: limit}
			}
		}
	}
	// One decoder, decoding as it is read: no goroutines, and the window
	// only as large as the data needs (low memory).
	d, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(uint64(limit)), zstd.WithDecoderMaxMemory(uint64(limit)))
	if err != nil {
		return nil, nil, err
	}
	return d, closeFunc(d.Close), nil
}

type closeFunc func()

func (f closeFunc) Close() error { f(); return nil }

func openXz(r *bufio.Reader, cfg openConfig) (io.Reader, io.Closer, error) {
	limit := cfg.maxDict
	if limit == 0 {
		limit = defaultMaxDict
	}
	g := &xzGuard{r: r, maxDict: limit, want: 12, then: (*xzGuard).streamHeader}
	// The dictionary is the larger of DictCap and what a block asks for:
	// the least DictCap spares an 8 MiB allocation per block (the
	// default) when blocks ask for less.
	x, err := xz.ReaderConfig{DictCap: lzma.MinDictCap}.NewReader(g)
	if err != nil {
		return nil, nil, err
	}
	return x, nopCloser{}, nil
}

func openBzip2(r *bufio.Reader, _ openConfig) (io.Reader, io.Closer, error) {
	return bzip2.NewReader(r), nopCloser{}, nil
}

func openLz4(r *bufio.Reader, _ openConfig) (io.Reader, io.Closer, error) {
	return lz4.NewReader(r), nopCloser{}, nil
}

// decoderLimit returns the message for an error that says a decoder would
// need more memory than it may have, or "".
func decoderLimit(err error) string {
	var w *errWindow
	var d *errDict
	switch {
	case errors.As(err, &w):
		return w.Error()
	case errors.As(err, &d):
		return d.Error()
	case errors.Is(err, zstd.ErrWindowSizeExceeded), errors.Is(err, zstd.ErrDecoderSizeExceeded):
		return fmt.Sprintf("a zstd frame that needs a window over the %s limit, or is corrupt (zstd: %v); "+
			"if zstd -t passes, decompress it first (zstd -d)", mib(defaultMaxWindow), err)
	}
	return ""
}

// errDict is an xz block whose dictionary is over the limit.
type errDict struct{ dict, limit int64 }

func (e *errDict) Error() string {
	return fmt.Sprintf("an xz block that needs a dictionary of %s, over the %s limit (made with a custom --lzma2=dict=?); "+
		"decompress it first (xz -d)", mib(e.dict), mib(e.limit))
}

// xzGuard passes an xz file through to the decoder, following its framing
// (stream headers, block headers, LZMA2 chunk headers, index, footer,
// padding) without decompressing, so that a block header asking for a
// dictionary over the limit is refused before the decoder has its last
// byte, and so before it allocates the dictionary. Framing it cannot follow
// is an error too; the decoder would refuse it (the decoder checks the
// CRCs, which the guard does not read). It costs a few state changes per
// LZMA2 chunk of up to 64 KiB.
type xzGuard struct {
	r       io.Reader
	maxDict int64
	err     error // the error that ended the stream, returned from then on

	skip int64                // bytes to pass before the next field
	want int                  // bytes of the next field still to collect in h
	h    []byte               // the field collected so far
	then func(*xzGuard) error // reads the field once collected
	buf  [1024]byte           // h's storage: a block header is at most 1024 bytes

	check      int64                // bytes of a block's check, from the stream flags
	block      int64                // a block's unpadded size so far (header and data)
	index      int64                // the index's size so far
	records    uint64               // numbers of the index still to read
	varint     uint64               // a variable-length integer being read
	varintLen  int                  // its bytes so far
	varintThen func(*xzGuard) error // what reads it once read
}

func (g *xzGuard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	n, err := g.r.Read(p)
	if k, gerr := g.scan(p[:n]); gerr != nil {
		g.err = gerr
		return k, gerr
	}
	return n, err
}

// scan follows b through the framing. On an error it returns how many bytes
// of b come before the field refused.
func (g *xzGuard) scan(b []byte) (int, error) {
	start := 0 // where the field being collected began in b (0: before b)
	for i := 0; i < len(b); {
		if g.skip > 0 {
			k := int(min(g.skip, int64(len(b)-i)))
			g.skip -= int64(k)
			i += k
			continue
		}
		if len(g.h) == 0 {
			start = i
		}
		k := min(g.want, len(b)-i)
		g.h = append(g.h, b[i:i+k]...)
		g.want -= k
		i += k
		if g.want > 0 {
			continue
		}
		if err := g.then(g); err != nil {
			return start, err
		}
	}
	return len(b), nil
}

// expect asks for a field of n bytes after skip bytes, read by then.
func (g *xzGuard) expect(skip int64, n int, then func(*xzGuard) error) error {
	g.skip, g.want, g.h, g.then = skip, n, g.buf[:0], then
	return nil
}

var errXzFraming = errors.New("xz: corrupt framing")

// xzCheckSizes are the sizes of a block's check by check ID.
var xzCheckSizes = [16]int64{0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64}

func (g *xzGuard) streamHeader() error {
	if string(g.h[:6]) != xzMagic || g.h[6] != 0 || g.h[7] > 0x0f {
		return fmt.Errorf("%w: bad stream header", errXzFraming)
	}
	g.check = xzCheckSizes[g.h[7]]
	return g.expect(0, 1, (*xzGuard).blockOrIndex)
}

// blockOrIndex reads the first byte of a block header, or the index's
// indicator.
func (g *xzGuard) blockOrIndex() error {
	if g.h[0] == 0 {
		g.index = 1
		return g.readVarint((*xzGuard).indexCount)
	}
	g.want, g.then = int(g.h[0])*4+3, (*xzGuard).blockHeader // h keeps the size byte
	return nil
}

// blockHeader reads a block header and the dictionary size of its LZMA2
// filter.
func (g *xzGuard) blockHeader() error {
	h := g.h
	end := len(h) - 4 // the CRC32 follows
	bad := fmt.Errorf("%w: bad block header", errXzFraming)
	flags := h[1]
	if flags&0x3c != 0 {
		return bad
	}
	pos := 2
	next := func() (uint64, bool) {
		var x uint64
		for i := 0; i < 9 && pos < end; i++ {
			c := h[pos]
			pos++
			x |= uint64(c&0x7f) << (7 * i)
			if c&0x80 == 0 {
				return x, true
			}
		}
		return 0, false
	}
	if flags&0x40 != 0 { // compressed size
		if _, ok := next(); !ok {
			return bad
		}
	}
	if flags&0x80 != 0 { // uncompressed size
		if _, ok := next(); !ok {
			return bad
		}
	}
	for range int(flags&3) + 1 {
		id, ok := next()
		if !ok {
			return bad
		}
		n, ok := next()
		if !ok || n > uint64(end-pos) {
			return bad
		}
		props := h[pos : pos+int(n)]
		pos += int(n)
		if id != 0x21 { // not LZMA2 (a branch or delta filter before it)
			continue
		}
		if n != 1 || props[0] > 40 {
			return bad
		}
		if d := lzma2Dict(props[0]); d > g.maxDict {
			return &errDict{dict: d, limit: g.maxDict}
		}
	}
	g.block = int64(len(h))
	return g.expect(0, 1, (*xzGuard).chunk)
}

// lzma2Dict is the dictionary size an LZMA2 filter's property byte (at most
// 40) gives.
func lzma2Dict(p byte) int64 {
	if p == 40 {
		return 1<<32 - 1
	}
	return int64(2|p&1) << (p/2 + 11)
}

// chunk reads the control byte of an LZMA2 chunk.
func (g *xzGuard) chunk() error {
	c := g.h[0]
	g.block++
	switch {
	case c == 0: // end of the block's data: padding to 4 bytes, the check
		return g.expect((4-g.block%4)%4+g.check, 1, (*xzGuard).blockOrIndex)
	case c == 1 || c == 2: // uncompressed: its size follows
		return g.expect(0, 2, (*xzGuard).storedChunk)
	case c < 0x80:
		return fmt.Errorf("%w: bad LZMA2 chunk", errXzFraming)
	case c >= 0xc0: // sizes, then new properties
		return g.expect(0, 5, (*xzGuard).lzmaChunk)
	}
	return g.expect(0, 4, (*xzGuard).lzmaChunk)
}

func (g *xzGuard) storedChunk() error {
	size := (int64(g.h[0])<<8 | int64(g.h[1])) + 1
	g.block += 2 + size
	return g.expect(size, 1, (*xzGuard).chunk)
}

// lzmaChunk reads an LZMA chunk's sizes: the unpacked size's low 16 bits,
// the packed size, and maybe properties.
func (g *xzGuard) lzmaChunk() error {
	packed := (int64(g.h[2])<<8 | int64(g.h[3])) + 1
	g.block += int64(len(g.h)) + packed
	return g.expect(packed, 1, (*xzGuard).chunk)
}

// readVarint reads a variable-length integer of the index into g.varint,
// then calls then.
func (g *xzGuard) readVarint(then func(*xzGuard) error) error {
	g.varint, g.varintLen, g.varintThen = 0, 0, then
	return g.expect(0, 1, (*xzGuard).varintByte)
}

func (g *xzGuard) varintByte() error {
	c := g.h[0]
	g.index++
	if g.varintLen == 9 {
		return fmt.Errorf("%w: bad index", errXzFraming)
	}
	g.varint |= uint64(c&0x7f) << (7 * g.varintLen)
	g.varintLen++
	if c&0x80 != 0 {
		return g.expect(0, 1, (*xzGuard).varintByte)
	}
	return g.varintThen(g)
}

// indexCount reads the number of index records: two numbers each.
func (g *xzGuard) indexCount() error {
	if g.varint > 1<<62 {
		return fmt.Errorf("%w: bad index", errXzFraming)
	}
	g.records = 2 * g.varint
	return g.indexRecords()
}

func (g *xzGuard) indexRecords() error {
	if g.records > 0 {
		g.records--
		return g.readVarint((*xzGuard).indexRecords)
	}
	// Padding to 4 bytes and the CRC32, then the stream footer.
	return g.expect((4-g.index%4)%4+4, 12, (*xzGuard).footer)
}

func (g *xzGuard) footer() error {
	if g.h[10] != 'Y' || g.h[11] != 'Z' {
		return fmt.Errorf("%w: bad stream footer", errXzFraming)
	}
	return g.expect(0, 1, (*xzGuard).padding)
}

// padding reads the zero bytes between streams, or the start of the next.
func (g *xzGuard) padding() error {
	switch g.h[0] {
	case 0:
		return g.expect(0, 1, (*xzGuard).padding)
	case 0xfd:
		g.want, g.then = 11, (*xzGuard).streamHeader // h keeps the first byte
		return nil
	}
	return fmt.Errorf("%w: data after the stream", errXzFraming)
}
