package capture

import (
	"io"
)

// Read-ahead sizes: a batch carries up to readAheadPackets packets and their
// frames, copied into an arena of readAheadArena bytes (plus room for one
// frame of the largest size); readAheadBatches batches circulate, so at most
// about 5 MiB is in flight.
const (
	readAheadPackets = 4096
	readAheadArena   = 4 << 20
	readAheadBatches = 4
)

// batch is a run of packets whose frames live in the batch's own arena.
type batch struct {
	pkts  []Packet
	arena []byte
	err   error // after the last packet: io.EOF or a reading error
}

// ReadAhead reads and decodes packets from a FileSet on a goroutine of its
// own, so that reading and classifying use two cores. Packets come out in
// the same order and with the same contents as from the FileSet itself.
//
// Frames are copied out of the reader's buffer into batch arenas; p.Frame and
// p.Payload point into them and stay valid until the next call to Next, as
// with FileSet. Steady state allocates nothing: the batches are made once
// and go round between the two goroutines.
//
// Damage and Stats of the FileSet may be read once Next has returned io.EOF
// or an error. Close stops the goroutine.
type ReadAhead struct {
	src   *FileSet
	full  chan *batch
	free  chan *batch
	stop  chan struct{}
	cur   *batch
	i     int
	done  bool
	ended chan struct{}
}

// NewReadAhead starts reading src ahead of the caller.
func NewReadAhead(src *FileSet) *ReadAhead {
	r := &ReadAhead{
		src:   src,
		full:  make(chan *batch, readAheadBatches),
		free:  make(chan *batch, readAheadBatches),
		stop:  make(chan struct{}),
		ended: make(chan struct{}),
	}
	for i := 0; i < readAheadBatches; i++ {
		r.free <- &batch{pkts: make([]Packet, 0, readAheadPackets), arena: make([]byte, 0, readAheadArena+src.opt.MaxSnap)}
	}
	go r.fill()
	return r
}

// fill runs on its own goroutine: it reads packets into free batches and
// hands them over full, until the end of input, an error or Close. A batch
// ends at readAheadPackets packets or once readAheadArena bytes of frames
// are in it; the arena has room for one more frame of the largest size.
func (r *ReadAhead) fill() {
	defer close(r.ended)
	var p Packet
	for {
		var b *batch
		select {
		case b = <-r.free:
		case <-r.stop:
			return
		}
		b.pkts, b.arena, b.err = b.pkts[:0], b.arena[:0], nil
		for len(b.pkts) < cap(b.pkts) && len(b.arena) < readAheadArena {
			if err := r.src.Next(&p); err != nil {
				b.err = err
				break
			}
			b.pkts = append(b.pkts, p)
			b.arena = rebase(&b.pkts[len(b.pkts)-1], b.arena)
		}
		select {
		case r.full <- b:
		case <-r.stop:
			return
		}
		if b.err != nil {
			return
		}
	}
}

// rebase copies p's frame to the end of arena and points p.Frame and
// p.Payload at the copy. Payload always aliases Frame (Decode slices it out
// of the frame), so its place in the frame is the difference of capacities.
func rebase(p *Packet, arena []byte) []byte {
	start := len(arena)
	arena = append(arena, p.Frame...)
	frame := arena[start:len(arena):len(arena)]
	if p.Payload != nil {
		off := cap(p.Frame) - cap(p.Payload)
		p.Payload = frame[off : off+len(p.Payload)]
	}
	p.Frame = frame
	return arena
}

// Next fills p with the next packet, like FileSet.Next.
func (r *ReadAhead) Next(p *Packet) error {
	for {
		if r.cur != nil {
			if r.i < len(r.cur.pkts) {
				*p = r.cur.pkts[r.i]
				r.i++
				return nil
			}
			if err := r.cur.err; err != nil {
				r.done = true
				return err
			}
			r.free <- r.cur
			r.cur = nil
		}
		if r.done {
			return io.EOF
		}
		r.cur, r.i = <-r.full, 0
	}
}

// Source returns the FileSet being read, for Damage and Stats once Next has
// returned io.EOF or an error.
func (r *ReadAhead) Source() *FileSet { return r.src }

// Close stops reading ahead and waits for the goroutine to end. It does not
// close the FileSet.
func (r *ReadAhead) Close() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	<-r.ended
}
