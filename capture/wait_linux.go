//go:build cgo && linux

package capture

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// waitReadable waits up to d for fd to be readable (libpcap's ring handing
// over a block, or an error), in a raw system call: the Go scheduler is
// not told, so it neither hands the goroutine's processor to another thread
// nor keeps its monitor thread waking to watch the call. Either, tens of
// times a second for every block, cost the capture a quarter of its CPU.
// The call ends at the first signal (the runtime's preemption included),
// so it never holds up the runtime for longer than that, and at most d.
//
// A signal cuts the wait short (EINTR): the runtime's monitor sends one
// every 10 ms to a goroutine it sees running that long, which is what a raw
// call looks like to it. The wait goes on, in Go code between two calls, so
// the goroutine can be preempted there, until d has passed.
func waitReadable(fd int, d time.Duration) {
	deadline := time.Now().Add(d)
	var pfd unix.PollFd
	var ts unix.Timespec
	for {
		pfd = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
		ts = unix.NsecToTimespec(int64(d))
		_, _, errno := unix.RawSyscall6(unix.SYS_PPOLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(unsafe.Pointer(&ts)), 0, 0, 0)
		if errno != unix.EINTR {
			return
		}
		if d = time.Until(deadline); d <= 0 {
			return
		}
	}
}
