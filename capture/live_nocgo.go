//go:build !cgo

package capture

import (
	"errors"
	"time"
)

// errNoLibpcap: this build has no libpcap (cgo was off when it was built).
var errNoLibpcap = errors.New("this phonehome was built without cgo, so without libpcap: live capture needs it; install libpcap-dev and build again with CGO_ENABLED=1 (make build does)")

// Live: see live.go. Without libpcap it cannot be opened.
type Live struct {
	Tap func(ts time.Time, frame []byte, wireLen int)
}

// OpenLive fails: this build has no libpcap.
func OpenLive(string, LiveOptions) (*Live, error) { return nil, errNoLibpcap }

func (*Live) LinkType() uint16   { return 0 }
func (*Live) Stop(string)        {}
func (*Live) Next(*Packet) error { return errNoLibpcap }
func (*Live) Session() Session   { return Session{} }
func (*Live) Stats() Stats       { return Stats{} }
func (*Live) Damage() []Damage   { return nil }
func (*Live) Bounds() []Bound    { return nil }
func (*Live) Close() error       { return nil }
