//go:build !cgo && !windows

package capture

// Interfaces fails: this build has no libpcap.
func Interfaces() ([]Interface, error) { return nil, errNoLibpcap }
