package match_test

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time of the calling thread, so that benchmarks on
// a shared, loaded machine can report CPU rather than wall time per lookup.
// The caller must hold runtime.LockOSThread.
func threadCPU() (time.Duration, bool) {
	const rusageThread = 1 // RUSAGE_THREAD
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
