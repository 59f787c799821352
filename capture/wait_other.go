//go:build cgo && !linux

package capture

import (
	"time"

	"golang.org/x/sys/unix"
)

// waitReadable waits up to d for fd to be readable.
func waitReadable(fd int, d time.Duration) {
	unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, int(d/time.Millisecond))
}
