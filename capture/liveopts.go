package capture

import (
	"errors"
	"net/netip"
	"time"
)

// What live capture is asked and says, whether or not this build has
// libpcap (live.go, interfaces.go; without cgo, live_nocgo.go).

// LiveOptions set up a live capture. The zero value of a field picks the
// default beside it.
type LiveOptions struct {
	// Snaplen is the most bytes kept of a frame (default 262 144, as
	// tcpdump: whole frames, so no name is cut).
	Snaplen int
	// Promiscuous puts the interface in promiscuous mode: needed on a
	// bridge or a host interface to see the VM's frames to other hosts.
	Promiscuous bool
	// BufferSize is the kernel ring's size in bytes (default 32 MiB: at
	// 200 000 packets/s of 560 bytes, the most a veth delivered here, about
	// 0.3 s of traffic in hand while the reader is busy; it counts in the
	// process's resident memory once the ring has gone round).
	BufferSize int
	// Immediate delivers each packet as it arrives rather than a ring
	// block at a time: lower latency for the status line, more wake-ups.
	Immediate bool
	// Timeout is how long a read waits for a packet before Next returns
	// ErrIdle, and how much capture time passes between two ErrIdle
	// under steady traffic (default 250 ms).
	Timeout time.Duration
	// Filter is a BPF filter in libpcap's syntax; empty for none.
	Filter string
	// Defrag sets up IPv4 reassembly, as for files.
	Defrag DefragConfig
}

// What OpenLive's error wraps when the fault is in what it was asked.
var (
	ErrNoSuchInterface = errors.New("unknown interface")
	ErrBadFilter       = errors.New("bad filter")
)

// askedError is an error in what OpenLive was asked: errors.Is(err, kind).
type askedError struct {
	kind error
	msg  string
}

func (e askedError) Error() string        { return e.msg }
func (e askedError) Is(target error) bool { return target == e.kind }

// DefaultSnaplen and DefaultBufferSize are LiveOptions' defaults.
const (
	DefaultSnaplen    = 262144
	DefaultBufferSize = 32 << 20
	defaultTimeout    = 250 * time.Millisecond
)

// Interface is one interface libpcap can capture on.
type Interface struct {
	Name        string
	Description string
	Addrs       []netip.Prefix
	Up, Running bool
	Loopback    bool
	// LinkType is what the interface's frames are, as the system says
	// (Linux: /sys/class/net/NAME/type), empty when it does not say.
	LinkType string
	// Kind says what the interface looks like to a VM host: "bridge",
	// "libvirt bridge", "VirtualBox host-only", "tap", "libvirt tap",
	// "veth", "bridge port of NAME"; empty for anything else.
	Kind string
}

// VMLike reports whether the interface looks like where a VM's traffic
// passes: a bridge, a tap, a veth, a bridge port.
func (i Interface) VMLike() bool { return i.Kind != "" }
