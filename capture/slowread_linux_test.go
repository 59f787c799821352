//go:build linux

package capture

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/phonehome/phonehome/internal/testenv"
)

// slowReadEnv tells the child of TestSlowReadStallsNothing what to read:
// "fifo:PATH" or "file:PATH".
const slowReadEnv = "PHONEHOME_TEST_SLOW_READ"

// TestSlowReadStallsNothing: a read that waits holds up neither another
// goroutine nor a collection, even on one processor. Two reads wait:
//
//   - fifo_writer_paused: a capture from a FIFO whose writer has written
//     nothing yet, opened and read as OpenFiles does;
//   - regular_file_read_waits: a regular file read by fileReader into a
//     buffer whose page is missing and registered with userfaultfd(2), so
//     that read(2) waits in the kernel, as a read on NFS, SMB, vboxsf or FUSE
//     waits for its server, until the page is supplied (never, here). It
//     needs userfaultfd (root, or vm.unprivileged_userfaultfd) and is run
//     with asynchronous preemption off: its signal would end this wait with
//     EFAULT, where a file server's wait ignores it.
//
// Read with a raw read(2) the scheduler is not told about, as capture did
// before, the second stalls the whole process, timers included, so each read
// runs in a child process (this test binary again), given 10 s.
func TestSlowReadStallsNothing(t *testing.T) {
	if v := os.Getenv(slowReadEnv); v != "" {
		slowReadChild(v)
		return
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "capture.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// Open read-write, the writer's end neither waits for a reader nor ends
	// the stream: the child's reads wait.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	file := writeFile(t, dir, "x.pcap", make([]byte, 64<<10))
	for _, tt := range []struct{ name, what, godebug string }{
		{"fifo_writer_paused", "fifo:" + fifo, ""},
		{"regular_file_read_waits", "file:" + file, "asyncpreemptoff=1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSlowReadStallsNothing$", "-test.v")
			cmd.Env = append(os.Environ(), slowReadEnv+"="+tt.what)
			if tt.godebug != "" {
				cmd.Env = append(cmd.Env, "GODEBUG="+tt.godebug)
			}
			out, err := cmd.CombinedOutput()
			switch {
			case ctx.Err() != nil:
				t.Fatalf("reading %s stalled the process: no collection within 10 s; output:\n%s", tt.what, out)
			case strings.Contains(string(out), "skip:"):
				testenv.SkipOrFail(t, "%s", out)
			case err != nil || !strings.Contains(string(out), "collected while the read waits"):
				t.Fatalf("child reading %s: %v; output:\n%s", tt.what, err, out)
			}
		})
	}
}

// slowReadChild starts a read that waits, on one processor, and collects
// while it waits.
func slowReadChild(what string) {
	runtime.GOMAXPROCS(1)
	kind, path, _ := strings.Cut(what, ":")
	read := func() error {
		s, err := OpenFiles([]string{path}, Options{}) // reads the header: waits
		if err == nil {
			var p Packet
			err = s.Next(&p)
		}
		return err
	}
	if kind == "file" {
		buf, err := missingPage()
		if err != nil {
			fmt.Printf("skip: no userfaultfd: %v\n", err)
			return
		}
		f, err := os.Open(path)
		if err != nil {
			fmt.Println(err)
			return
		}
		read = func() error {
			_, err := (&fileReader{f: f}).Read(buf)
			return err
		}
	}
	go func() {
		fmt.Printf("read %s returned: %v\n", path, read())
	}()
	time.Sleep(200 * time.Millisecond) // the reader waits in read(2) by now
	start := time.Now()
	runtime.GC()
	fmt.Printf("collected while the read waits, in %v\n", time.Since(start))
}

// missingPage maps a page that is not there and registers it with a new
// userfaultfd, whose faults nobody serves: a write to it waits.
func missingPage() ([]byte, error) {
	nr := map[string]uintptr{"amd64": 323, "arm64": 282, "386": 374, "arm": 388, "riscv64": 282, "ppc64le": 364, "s390x": 355, "loong64": 282}[runtime.GOARCH]
	if nr == 0 {
		return nil, fmt.Errorf("no system call number for %s", runtime.GOARCH)
	}
	fd, _, errno := syscall.Syscall(nr, syscall.O_CLOEXEC, 0, 0)
	if errno != 0 {
		return nil, errno
	}
	// UFFDIO_API with struct uffdio_api{api: UFFD_API}.
	api := [3]uint64{0xaa}
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, 0xc018aa3f, uintptr(unsafe.Pointer(&api))); errno != 0 {
		return nil, errno
	}
	buf, err := syscall.Mmap(-1, 0, os.Getpagesize(), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		return nil, err
	}
	// UFFDIO_REGISTER with struct uffdio_register{range: {start, len}, mode:
	// UFFDIO_REGISTER_MODE_MISSING}.
	reg := [4]uint64{uint64(uintptr(unsafe.Pointer(&buf[0]))), uint64(len(buf)), 1}
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, 0xc020aa00, uintptr(unsafe.Pointer(&reg))); errno != 0 {
		return nil, errno
	}
	return buf, nil
}
