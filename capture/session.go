package capture

import (
	"errors"
	"time"
)

// Session is one live capture (phonehome capture) from its start to its end:
// where it listened, how, and what libpcap counted. A run read from files has
// none; a capture resumed after a crash or a restart has one per start, in
// order, and the time between one's End and the next's Start is a gap in the
// capture that the report names.
type Session struct {
	// Interface is the interface listened on, LinkType its link type
	// (LinkTypeName).
	Interface string `json:"interface"`
	LinkType  string `json:"link_type"`
	// Filter is the BPF filter in force, as given; empty for none (then
	// every frame is read, and what is out of scope is counted).
	Filter string `json:"filter,omitempty"`
	// Snaplen, Promiscuous, BufferSize and Immediate are the handle's
	// settings.
	Snaplen     int  `json:"snaplen"`
	Promiscuous bool `json:"promiscuous"`
	BufferSize  int  `json:"buffer_size"`
	Immediate   bool `json:"immediate"`
	// Start and End are wall-clock times: when the handle was opened, and
	// when the session ended or, while it runs, when this record of it was
	// made (End then says "running").
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Ended says how the session ended: EndRunning, EndStopped,
	// EndDuration, EndInterfaceDown or EndReadError, with the error's text
	// after a colon for the last two.
	Ended string `json:"ended"`
	// Received, Dropped and IfDropped are libpcap's counts (pcap_stats):
	// packets the filter passed, packets the kernel dropped for want of
	// buffer room, and packets the interface or its driver dropped (not
	// every platform counts those). Any drop means the run misses traffic.
	Received  uint64 `json:"received"`
	Dropped   uint64 `json:"dropped"`
	IfDropped uint64 `json:"if_dropped"`
	// WriteError is the last failure to write the packets to files
	// (--write: a full disk, a directory gone), and WriteLost the frames
	// not written because of it; CheckpointError the last failure to write
	// a checkpoint, when no checkpoint has succeeded since. Empty and zero
	// when all went well.
	WriteError      string `json:"write_error,omitempty"`
	WriteLost       uint64 `json:"write_lost,omitempty"`
	CheckpointError string `json:"checkpoint_error,omitempty"`
}

// How a Session ended (Session.Ended).
const (
	// EndRunning: the session was still running when its record was made
	// (a checkpoint); if no later record follows, the capture stopped
	// without ending cleanly (a crash, a kill, a power cut) after End.
	EndRunning = "running"
	// EndStopped: stopped by a signal (Ctrl-C, SIGTERM) or by the caller.
	EndStopped = "stopped"
	// EndDuration: the capture ran for the duration it was given.
	EndDuration = "duration"
	// EndInterfaceDown: the interface went down or away mid-run.
	EndInterfaceDown = "interface-down"
	// EndReadError: libpcap failed in another way.
	EndReadError = "read-error"
)

// Gap is the time between the end of one session and the start of the next
// (zero or less when they touch).
func Gap(earlier, later Session) time.Duration { return later.Start.Sub(earlier.End) }

// ErrIdle is returned by a live source's Next when it has no packet to give
// yet (none came within its read timeout), or when a while of capture time
// has passed since it last said so: the caller may do what it does between
// packets (a checkpoint, a status line) and call Next again. A file source
// never returns it.
var ErrIdle = errors.New("capture: no packet yet")
