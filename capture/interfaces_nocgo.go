//go:build !cgo && !windows

package capture

import "net/netip"

// Interface: see interfaces.go.
type Interface struct {
	Name, Description string
	Addrs             []netip.Prefix
	Up, Running       bool
	Loopback          bool
	LinkType, Kind    string
}

// VMLike: see interfaces.go.
func (i Interface) VMLike() bool { return i.Kind != "" }

// Interfaces fails: this build has no libpcap.
func Interfaces() ([]Interface, error) { return nil, errNoLibpcap }
