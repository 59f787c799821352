package netns

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// exists reports whether ip netns knows the namespace.
func exists(t *testing.T, name string) bool {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatalf("ip netns list: %v", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return true
		}
	}
	return false
}

func TestNewMakesTheVethAndCleanupRemovesIt(t *testing.T) {
	var p *Pair
	var sleeper *Proc
	t.Run("pair", func(t *testing.T) {
		p = New(t)
		for _, end := range []struct {
			ns       *NS
			dev, mac string
		}{{p.A, p.IfA, MACA}, {p.B, p.IfB, MACB}} {
			out, err := exec.Command("ip", "-n", end.ns.Name, "-d", "link", "show", end.dev).CombinedOutput()
			if err != nil {
				t.Fatalf("ip -n %s link show %s: %v\n%s", end.ns.Name, end.dev, err, out)
			}
			for _, want := range []string{"state UP", "veth", end.mac, "gso_max_segs 1"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("ip -n %s -d link show %s = %q; want %q in it", end.ns.Name, end.dev, out, want)
				}
			}
		}
		if out := p.A.MustRun("ip", "-4", "addr", "show", p.IfA); !strings.Contains(out, AddrA.String()+"/24") {
			t.Errorf("address of %s = %q; want %s/24", p.IfA, out, AddrA)
		}
		// No route out of either namespace: the /24 of the veth and nothing else.
		for _, ns := range []*NS{p.A, p.B} {
			if out := ns.MustRun("ip", "-4", "route", "show"); strings.Contains(out, "default") || strings.Count(strings.TrimSpace(out), "\n") != 0 {
				t.Errorf("routes in %s = %q; want only the veth's /24", ns.Name, out)
			}
		}
		sleeper = p.B.Start("sleep", "1000")
	})
	if p == nil {
		return // skipped: not root
	}
	for _, ns := range []*NS{p.A, p.B} {
		if exists(t, ns.Name) {
			t.Errorf("namespace %s still exists after its test ended", ns.Name)
		}
	}
	if !sleeper.Exited() {
		t.Errorf("process started in the namespace still runs after its test ended")
	}
}

func TestNewDeletesLeftovers(t *testing.T) {
	if os.Geteuid() != 0 {
		New(t) // skips
	}
	a := "ph-" + ID(t) + "-a"
	if out, err := exec.Command("ip", "netns", "add", a).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s (the leftover): %v\n%s", a, err, out)
	}
	p := New(t)
	if p.A.Name != a {
		t.Fatalf("New named A %s; want %s", p.A.Name, a)
	}
	p.A.MustRun("ip", "link", "show", p.IfA)
}

func TestNamesDifferPerTest(t *testing.T) {
	var ids []string
	for _, name := range []string{"one", "two"} {
		t.Run(name, func(t *testing.T) { ids = append(ids, ID(t)) })
	}
	if ids[0] == ids[1] || len(ids[0]) != 8 {
		t.Errorf("ID of two subtests = %q; want two different 8-digit ids", ids)
	}
	if n := len("ph" + ids[0] + "a"); n > 15 {
		t.Errorf("interface name is %d bytes; Linux takes at most 15", n)
	}
}

func TestDownUpDelete(t *testing.T) {
	p := New(t)
	state := func() string {
		out, _ := p.B.Run("cat", "/sys/class/net/"+p.IfB+"/operstate")
		return strings.TrimSpace(out)
	}
	p.B.Down(p.IfB)
	if got := state(); got != "down" {
		t.Errorf("operstate after Down = %q; want down", got)
	}
	p.B.Up(p.IfB)
	deadline := time.Now().Add(5 * time.Second)
	for state() != "up" && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := state(); got != "up" {
		t.Errorf("operstate after Up = %q; want up", got)
	}
	p.A.Delete(p.IfA)
	if out, err := p.B.Run("ip", "link", "show", p.IfB); err == nil {
		t.Errorf("ip link show %s after deleting its peer = %q; want it gone", p.IfB, out)
	}
}

func TestProcStopAndOutput(t *testing.T) {
	p := New(t)
	proc := p.A.Start("sh", "-c", `trap 'echo got TERM; exit 3' TERM; echo ready; while :; do sleep 0.05; done`)
	proc.WaitFor(t, "ready", 5*time.Second)
	err := proc.Stop(syscall.SIGTERM, 5*time.Second)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Errorf("Stop(SIGTERM) = %v; want exit status 3", err)
	}
	if got := proc.Output(); got != "ready\ngot TERM\n" {
		t.Errorf("Output() = %q; want %q", got, "ready\ngot TERM\n")
	}
	// A process that ignores the signal is killed after the timeout.
	stubborn := p.A.Start("sh", "-c", `trap '' TERM; echo ready; while :; do sleep 0.05; done`)
	stubborn.WaitFor(t, "ready", 5*time.Second)
	if err := stubborn.Stop(syscall.SIGTERM, 300*time.Millisecond); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("Stop of a process ignoring SIGTERM = %v; want it killed after the timeout", err)
	}
}

// pcapFrames reads a classic pcap written by tcpdump: the captured length of
// each frame.
func pcapFrames(t *testing.T, file string) []int {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) < 24 || binary.LittleEndian.Uint32(raw) != 0xa1b2c3d4 {
		t.Fatalf("%s is not a little-endian pcap", file)
	}
	var lens []int
	for off := 24; off+16 <= len(raw); {
		n := int(binary.LittleEndian.Uint32(raw[off+8:]))
		lens = append(lens, n)
		off += 16 + n
	}
	return lens
}

const sample = "../../testdata/sample/idle-1909.pcapng"

func TestReplayArrivesWhole(t *testing.T) {
	p := New(t)
	want := len(pcapFrames(t, tcpdumpRead(t, sample)))
	file := filepath.Join(t.TempDir(), "b.pcap")
	dump := p.B.Tcpdump(p.IfB, file)
	out := p.Replay(sample, "--topspeed")
	time.Sleep(200 * time.Millisecond)
	if err := dump.Stop(syscall.SIGINT, 10*time.Second); err != nil {
		t.Fatalf("tcpdump: %v\n%s", err, dump.Output())
	}
	captured, received, dropped := TcpdumpCounts(dump.Output())
	if captured != want || dropped != 0 || received < captured {
		t.Errorf("tcpdump on %s after replaying %d frames: captured %d, received %d, dropped %d; want all, none dropped\n%s\n%s",
			p.IfB, want, captured, received, dropped, out, dump.Output())
	}
	if got := len(pcapFrames(t, file)); got != want {
		t.Errorf("frames in %s = %d; want %d", file, got, want)
	}
}

// tcpdumpRead copies file into a classic pcap with tcpdump (the sample is
// pcapng), so that pcapFrames can count it.
func tcpdumpRead(t *testing.T, file string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "ref.pcap")
	if b, err := exec.Command("tcpdump", "-r", file, "-w", out).CombinedOutput(); err != nil {
		t.Fatalf("tcpdump -r %s: %v\n%s", file, err, b)
	}
	return out
}

// TestClientsAcrossTheVeth drives the real clients and checks the capture on
// B's end: every name on the wire, and no frame over the MTU (the offloads
// are off: with TSO on, a local TCP sender hands the veth 64 KB frames).
func TestClientsAcrossTheVeth(t *testing.T) {
	p := New(t)
	s := p.Serve()
	file := filepath.Join(t.TempDir(), "b.pcap")
	dump := p.B.Tcpdump(p.IfB, file)
	ex := s.Drive()
	time.Sleep(200 * time.Millisecond)
	if err := dump.Stop(syscall.SIGINT, 10*time.Second); err != nil {
		t.Fatalf("tcpdump: %v\n%s", err, dump.Output())
	}
	if len(ex) != 5 {
		t.Errorf("Drive() = %d exchanges; want 5 (3 dig, curl, openssl)", len(ex))
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ex {
		// On the wire: dotted in SNI and Host, as labels in DNS.
		labels := ""
		for _, l := range strings.Split(e.Name, ".") {
			labels += string(rune(len(l))) + l
		}
		if !strings.Contains(string(raw), e.Name) && !strings.Contains(string(raw), labels) {
			t.Errorf("%s asked for %s, but the name is not in the capture on %s", e.Client, e.Name, p.IfB)
		}
	}
	for i, n := range pcapFrames(t, file) {
		if n > 1514 {
			t.Errorf("frame %d is %d bytes, over the MTU: an offload merged segments", i+1, n)
		}
	}
}

func TestReplayFailedCount(t *testing.T) {
	tests := []struct {
		name, out string
		want      int
	}{
		{"none_failed", "Statistics for network device: x\n\tSuccessful packets:        912\n\tFailed packets:            0\n", 0},
		{"some_failed", "\tFailed packets:            33\n\tTruncated packets:         0\n", 33},
		{"no_summary", "tcpreplay: fatal\n", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := replayFailed(tt.out); got != tt.want {
				t.Errorf("replayFailed(%q) = %d; want %d", tt.out, got, tt.want)
			}
		})
	}
}

func TestTcpdumpCounts(t *testing.T) {
	out := "tcpdump: listening on x, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n842 packets captured\n912 packets received by filter\n70 packets dropped by kernel\n"
	if c, r, d := TcpdumpCounts(out); c != 842 || r != 912 || d != 70 {
		t.Errorf("TcpdumpCounts(%q) = %d, %d, %d; want 842, 912, 70", out, c, r, d)
	}
	if c, r, d := TcpdumpCounts("1 packet captured\n"); c != 1 || r != -1 || d != -1 {
		t.Errorf("TcpdumpCounts(one packet) = %d, %d, %d; want 1, -1, -1", c, r, d)
	}
}
