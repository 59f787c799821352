//go:build cgo

package capture

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/gopacket/pcap"
)

// Live reads packets from a network interface through libpcap. It is a
// source for classify.Analyze, as a FileSet is: the same decoding, the same
// IPv4 reassembly, and the same packets, so a live run and an analysis of
// the same frames written to a file give the same report.
//
// Next, Stats, Damage and Bounds must be called from one goroutine; Stop may
// be called from any.
type Live struct {
	h        *pcapHandle
	linkType uint16
	timeout  int64 // ns

	session Session
	stop    atomic.Pointer[string] // the Ended reason Stop was given
	ended   bool

	defrag      *Defragmenter
	reassembled bool

	// A packet read but not delivered yet: Next said ErrIdle first.
	held     bool
	heldData []byte
	heldTS   time.Time
	heldLen  int
	lastIdle int64 // capture time of the last ErrIdle, ns

	frames, capturedBytes int

	// Tap, if set, sees every frame read, before it is decoded: the
	// capture command writes them (--write). frame is valid only during
	// the call.
	Tap func(ts time.Time, frame []byte, wireLen int)
}

// OpenLive opens iface for capture with opt. Its errors say what to do:
// an interface that does not exist lists those that do; a permission
// refused names the capabilities; a filter libpcap rejects quotes
// libpcap's message.
func OpenLive(iface string, opt LiveOptions) (*Live, error) {
	if opt.Snaplen <= 0 {
		opt.Snaplen = DefaultSnaplen
	}
	if opt.BufferSize <= 0 {
		opt.BufferSize = DefaultBufferSize
	}
	if opt.Timeout <= 0 {
		opt.Timeout = defaultTimeout
	}
	h, err := openLibpcap(iface, opt)
	if err != nil {
		return nil, err
	}
	if opt.Filter != "" {
		if err := h.setFilter(opt.Filter); err != nil {
			h.close()
			return nil, askedError{ErrBadFilter, fmt.Sprintf("--filter %q: libpcap rejects it: %v; the syntax is pcap-filter(7)'s, as tcpdump's", opt.Filter, err)}
		}
	}
	return newLive(h, iface, opt), nil
}

// newLive reads h, an activated handle (or, in tests, a file opened by
// libpcap), as the session opt describes.
func newLive(h *pcapHandle, iface string, opt LiveOptions) *Live {
	l := &Live{
		h:        h,
		linkType: h.linkType(),
		timeout:  int64(opt.Timeout),
		session: Session{
			Interface: iface, Filter: opt.Filter, Snaplen: opt.Snaplen, Promiscuous: opt.Promiscuous,
			BufferSize: opt.BufferSize, Immediate: opt.Immediate, Start: time.Now().UTC(), Ended: EndRunning,
		},
	}
	l.session.LinkType = LinkTypeName(l.linkType)
	if !opt.Defrag.Off {
		l.defrag = NewDefragmenter(opt.Defrag)
	}
	return l
}

// activateError turns libpcap's refusal to open iface (pcap_activate's code
// and message) into one a person can act on.
func activateError(iface string, code int, msg string) error {
	switch code {
	case pcapErrorNoSuchDevice:
		names := []string{}
		if devs, err := pcap.FindAllDevs(); err == nil {
			for _, d := range devs {
				names = append(names, d.Name)
			}
		}
		return askedError{ErrNoSuchInterface, fmt.Sprintf("capture on %s: no such interface; the interfaces are: %s (phonehome interfaces lists them with their addresses)",
			iface, strings.Join(names, ", "))}
	case pcapErrorPermDenied, pcapErrorPromiscPermDenied:
		return fmt.Errorf("capture on %s: permission denied (%s): capturing needs CAP_NET_RAW and CAP_NET_ADMIN; run as root, or give the binary the capabilities once with: sudo setcap cap_net_raw,cap_net_admin=eip $(command -v phonehome)", iface, msg)
	case pcapErrorIfaceNotUp:
		return fmt.Errorf("capture on %s: the interface is down; bring it up (ip link set %s up) or start the VM first", iface, iface)
	}
	return fmt.Errorf("capture on %s: %s", iface, msg)
}

// LinkType is the interface's link type (a LINKTYPE_* value).
func (l *Live) LinkType() uint16 { return l.linkType }

// InputName returns the interface listened on, the input every frame of a
// live capture comes from (Packet.Input is 0).
func (l *Live) InputName(int) string { return l.session.Interface }

// Stop makes Next return io.EOF within the read timeout (after the packet
// held behind an ErrIdle, if any), and the session end as ended says
// (EndStopped, EndDuration). Safe from any goroutine; the first reason given
// is kept.
func (l *Live) Stop(ended string) { l.stop.CompareAndSwap(nil, &ended) }

// Next reads the next packet into p and decodes it (Decode). It returns
// ErrIdle when no packet came within the read timeout, or before the first
// packet dated a timeout or more after the last ErrIdle; io.EOF once Stop
// was called or libpcap failed (the interface went down: Session says how
// it ended). p's slices are valid until the next call.
func (l *Live) Next(p *Packet) error {
	if l.reassembled {
		l.defrag.Datagram(p)
		l.reassembled = l.defrag.Add(p)
		return nil
	}
	if l.ended {
		return io.EOF
	}
	if why := l.stop.Load(); why != nil && !l.held && !l.h.pending() {
		// Frames libpcap already handed over (and counted as received)
		// are delivered first: a stopped capture keeps every one.
		l.end(*why)
		return io.EOF
	}
	data, ts, wireLen := l.heldData, l.heldTS, l.heldLen
	if l.held {
		l.held = false
	} else {
		var err error
		data, ts, wireLen, err = l.h.next()
		if err != nil {
			return l.readFailed(err)
		}
		if ns := ts.UnixNano(); ns-l.lastIdle >= l.timeout || ns < l.lastIdle {
			l.lastIdle = ns
			l.held, l.heldData, l.heldTS, l.heldLen = true, data, ts, wireLen
			return ErrIdle
		}
	}
	*p = Packet{Timestamp: ts, WireLen: wireLen, CapLen: len(data), LinkType: l.linkType, Frame: data, Number: int64(l.frames) + 1}
	if l.Tap != nil {
		l.Tap(p.Timestamp, data, wireLen)
	}
	Decode(p.LinkType, p.Frame, p)
	p.Reassembled = 0
	l.frames++
	l.capturedBytes += len(data)
	if l.defrag != nil {
		l.reassembled = l.defrag.Add(p)
	}
	return nil
}

// readFailed is what Next returns when the handle gave err rather than a
// frame: ErrIdle for a timeout, io.EOF (the session ended) for anything
// else. Apart from Next, so that Next's frame path allocates nothing.
func (l *Live) readFailed(err error) error {
	var rerr *readError
	switch {
	case err == errTimeout:
		return ErrIdle
	case err == io.EOF:
		l.end(EndStopped)
	case errors.As(err, &rerr):
		l.end(readEnd(rerr))
	default:
		l.end(EndReadError + ": " + err.Error())
	}
	return io.EOF
}

// readEnd is a Session.Ended value for libpcap's read error, with
// libpcap's own message ("The interface went down", "The interface
// disappeared").
func readEnd(err *readError) string {
	low := strings.ToLower(err.msg)
	if err.code == pcapErrorIfaceNotUp || strings.Contains(low, "went down") || strings.Contains(low, "disappeared") ||
		strings.Contains(low, "network is down") || strings.Contains(low, "no such device") {
		return EndInterfaceDown + ": " + err.msg
	}
	return EndReadError + ": " + err.msg
}

// end closes the session: its libpcap counts are taken once more and kept.
func (l *Live) end(how string) {
	if l.ended {
		return
	}
	l.updateSession()
	l.ended = true
	l.session.Ended = how
}

// updateSession takes libpcap's counts, unless the session has ended.
func (l *Live) updateSession() {
	if l.ended {
		return
	}
	l.session.End = time.Now().UTC()
	if recv, drop, ifdrop, ok := l.h.stats(); ok {
		// libpcap counts in 32 bits (they wrap after 4 G packets); on
		// Linux it sums the kernel's counters as it reads them.
		l.session.Received, l.session.Dropped, l.session.IfDropped = recv, drop, ifdrop
	}
}

// Session returns the session as it stands: while it runs, End is now and
// Ended is EndRunning.
func (l *Live) Session() Session {
	l.updateSession()
	return l.session
}

// Stats returns the counts so far, with the session.
func (l *Live) Stats() Stats {
	st := Stats{Frames: l.frames, CapturedBytes: int64(l.capturedBytes), LinkTypes: map[uint16]int{}, Unsupported: map[uint16]int{}}
	if l.frames > 0 {
		st.LinkTypes[l.linkType] = l.frames
	}
	if l.frames > 0 && !LinkTypeSupported(l.linkType) {
		st.Unsupported[l.linkType] = l.frames // one link type: every frame
	}
	if l.defrag != nil {
		st.Defrag = l.defrag.Stats()
	}
	st.Sessions = []Session{l.Session()}
	return st
}

// Damage is always empty: libpcap delivers whole records. What a live
// capture loses is in the session's drop counts.
func (l *Live) Damage() []Damage { return nil }

// Bounds returns the limits IPv4 reassembly reached.
func (l *Live) Bounds() []Bound {
	var out []Bound
	if l.defrag != nil {
		out = defragBounds(l.defrag.Stats())
	}
	if n := l.h.overflow(); n > 0 {
		out = append(out, Bound{What: "live read batch full: a frame libpcap handed over was not kept", Limit: batchFrames, Times: n})
	}
	return out
}

// Close releases the handle.
func (l *Live) Close() error {
	l.h.close()
	return nil
}
