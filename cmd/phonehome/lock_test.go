//go:build unix

package main

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestLockDirHeldAcrossGC: the checkpoint lock holds after garbage
// collections, while its file is kept. It did not: lockDir let the locked
// file go, its finalizer closed it at a collection, and a second capture on
// the directory ran beside the first (TestCaptureErrors/checkpoint_in_use
// hung once a capture allocated enough to collect).
func TestLockDirHeldAcrossGC(t *testing.T) {
	dir := t.TempDir()
	lock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	for range 5 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // finalizers run on their own goroutine
	}
	again, err := lockDir(dir)
	if err == nil {
		again.Close()
		t.Fatal("lockDir after garbage collection took the lock a second time; want it still held")
	}
	if !strings.Contains(err.Error(), "another phonehome capture is using it") {
		t.Errorf("lockDir = %v; want it to say another capture is using it", err)
	}
}
