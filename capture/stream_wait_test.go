package capture

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/phonehome/phonehome/internal/testenv"
)

// TestStreamPacketNotHeldBack: a FIFO whose writer has written a header and
// one packet, and holds the pipe open (tcpdump -U -w - between packets),
// gives that packet at once, not when a read chunk's worth more has come or
// the writer closes.
func TestStreamPacketNotHeldBack(t *testing.T) {
	fr := make([]byte, 60)
	fr[12], fr[13] = 0x08, 0x06
	pc := buildPcap(pcapSpec{linkType: 1, snap: 65535}, rec{ts: time.Unix(10, 0), data: fr})
	fifo := filepath.Join(t.TempDir(), "f")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		testenv.SkipOrFail(t, "no FIFO: %v", err)
	}
	release := make(chan struct{})
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer w.Close()
		w.Write(pc)
		<-release
	}()
	defer close(release)
	got := make(chan error, 1)
	go func() {
		s, err := OpenFiles([]string{fifo}, Options{})
		if err != nil {
			got <- err
			return
		}
		var p Packet
		got <- s.Next(&p)
	}()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("Next = %v; want the packet", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the packet written to the FIFO was not delivered within 5 s while the writer held the pipe open")
	}
}
