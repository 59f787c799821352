package capture

import "io"

// chunkSize is the piece of a capture file read at once. Measured on a 1 GB
// capture in the page cache: reads of 256 KiB to 1 MiB cost the same kernel
// time, smaller ones more system calls, and larger ones have left the cache
// before they are parsed.
//
// Reading chunks ahead on another goroutine was measured too, and left out:
// the parser then finds every record in the other core's cache. Reading
// alone ahead took 0.43 s of wall time and 0.56 s of CPU against 0.37 s and
// 0.38 s (the parser's own user time rose from 0.23 s to 0.37 s); reading and
// decoding ahead into lent chunks, frames not copied, 0.39 s of wall time
// against 0.30 s.
const chunkSize = 512 << 10

// minChunk is the first chunk of a stream whose length is unknown (gzip) or
// small. Each chunk that a read fills doubles it, up to chunkSize, so a
// small stream does not cost 512 KiB: the fuzz targets open thousands of
// inputs of a few hundred bytes a second, and with a chunk of 512 KiB each
// the collector took most of the time (0.56 ms an input against 0.03 ms).
const minChunk = 4 << 10

// chunks reads a stream in chunks of up to chunkSize so that a parser can
// take records straight out of the bytes the kernel copied: a record that
// lies whole in buf is sliced out of it (the parser's fast path); one cut by
// the end of a chunk is put together in joined by gather.
type chunks struct {
	r      io.Reader
	chunk  []byte // the read buffer
	buf    []byte // what is left of the current chunk
	end    error  // what ended the stream (io.EOF at a clean end), once buf is the last
	joined []byte // the last record put together, reused
	filled bool   // chunk has been filled (so the stream is longer than it)
}

// newChunks reads r, whose length is size bytes when known (0 when not):
// the first chunk holds it, between minChunk and chunkSize bytes.
func newChunks(r io.Reader, size int64) chunks {
	return chunks{r: r, chunk: make([]byte, min(max(size, minChunk), chunkSize))}
}

// gather appends the stream's next bytes to dst until it holds n, reading
// chunks as needed. When the stream ends first, it returns what it got and
// the error that ended it (io.EOF at a clean end).
func (c *chunks) gather(dst []byte, n int) ([]byte, error) {
	for len(dst) < n {
		if len(c.buf) == 0 {
			if c.end != nil {
				return dst, c.end
			}
			if c.filled && len(c.chunk) < chunkSize {
				c.chunk = make([]byte, min(2*len(c.chunk), chunkSize))
			}
			c.filled = true
			k, err := fill(c.r, c.chunk, n-len(dst))
			c.buf, c.end = c.chunk[:k], err
			continue
		}
		k := min(n-len(dst), len(c.buf))
		dst, c.buf = append(dst, c.buf[:k]...), c.buf[k:]
	}
	return dst, nil
}

// fill reads into buf until it holds at least need bytes and a read has
// come back short of the room left (the source has no more for now), or buf
// is full, or r returns an error, which it passes on as is: io.EOF at a clean
// end; a gzip stream cut short says io.ErrUnexpectedEOF, which must not read
// as a clean end. A regular file fills buf in one read; a pipe (tcpdump -U -w
// - | phonehome analyze -) gives what has been written, and the packets in
// it are delivered without waiting for a chunk's worth more.
func fill(r io.Reader, buf []byte, need int) (int, error) {
	n, empty := 0, 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			return n, err
		}
		if k == 0 {
			if empty++; empty == 100 {
				return n, io.ErrNoProgress
			}
			continue
		}
		if n >= need {
			return n, nil
		}
	}
	return n, nil
}
