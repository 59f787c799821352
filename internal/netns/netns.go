// Package netns gives a root-only test its own small network: two network
// namespaces joined by a veth pair, made for that test and removed when it
// ends (failed or not), with commands run and background processes started
// inside either namespace.
//
// The layout copies a VM host: namespace A is the VM (10.56.0.10/24 on its
// veth end), namespace B the host (10.56.0.1/24), where phonehome listens on
// B's veth end. The addresses and MACs are not those of the sample and of
// cmd/mkcapture (VM 192.168.56.10, resolver 192.168.56.1, gateway MAC
// 0a:00:27:00:00:00), so B's stack ignores replayed frames: it answers no
// ARP request and no packet of theirs, and the capture on B's end holds
// exactly the frames replayed. Nothing else is in either namespace but lo, and
// neither has a route out: whatever a test sends or replays stays on the
// veth pair. Servers (servers.go) add public-looking addresses to B's lo
// and routes to exactly those addresses in A; they too exist only inside
// the two namespaces.
//
// Names are unique per test and working directory (a hash of both), so
// packages run in parallel, or the same package in two worktrees, do not
// clash; a namespace of the same name left by a killed run is deleted
// first.
//
// Offloads: the veth ends are set to gso_max_segs 1 and gro_max_size 0
// (neither TSO/GSO nor GRO merges segments), so a capture on either end
// sees frames of wire size, as on a VM's tap, and not the super-frames a
// local TCP sender hands a veth by default: without gso_max_segs 1, the
// capture of TestClientsAcrossTheVeth held a 3202-byte frame (curl's
// answer in one piece). Replayed frames are never merged either way:
// tcpreplay sends each one through a packet socket.
//
// Only tests import it (layers_test.go keeps it so).
package netns

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/phonehome/phonehome/internal/testenv"
)

// The veth's addresses: A is the VM (phonehome capture --vm AddrA), B the
// host it talks through and its resolver.
var (
	AddrA = netip.MustParseAddr("10.56.0.10")
	AddrB = netip.MustParseAddr("10.56.0.1")
)

// MAC addresses of the veth ends (locally administered), fixed so that
// captures are the same from run to run.
const (
	MACA = "02:00:0a:38:00:0a"
	MACB = "02:00:0a:38:00:01"
)

// NS is one network namespace of a Pair.
type NS struct {
	Name string // as ip netns knows it: ip netns exec NAME ...
	t    testing.TB
}

// Pair is two namespaces joined by a veth pair: IfA in A, IfB in B.
type Pair struct {
	A, B     *NS
	IfA, IfB string // interface names of the veth ends (at most 15 bytes)
}

// New makes the pair for t, or skips t when not root (testenv.NeedRoot) and
// ends it through testenv.Program when ip is missing. Both namespaces and
// every process started in them are removed by t.Cleanup.
func New(t testing.TB) *Pair {
	t.Helper()
	testenv.NeedRoot(t, "making network namespaces needs root")
	testenv.Program(t, "ip", "iproute2", "it makes the network namespaces")
	id := ID(t)
	p := &Pair{
		A:   &NS{Name: "ph-" + id + "-a", t: t},
		B:   &NS{Name: "ph-" + id + "-b", t: t},
		IfA: "ph" + id + "a",
		IfB: "ph" + id + "b",
	}
	// Leftovers of a run that was killed before its cleanup.
	p.A.deleteNS()
	p.B.deleteNS()
	t.Cleanup(func() {
		p.A.deleteNS()
		p.B.deleteNS()
	})
	for _, ns := range []*NS{p.A, p.B} {
		run(t, "ip", "netns", "add", ns.Name)
		ns.MustRun("ip", "link", "set", "lo", "up")
		ns.MustRun("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
	}
	// Made directly inside the namespaces: the root namespace never holds
	// either end, so its interface names cannot clash.
	run(t, "ip", "link", "add", p.IfA, "netns", p.A.Name, "type", "veth", "peer", "name", p.IfB, "netns", p.B.Name)
	for _, end := range []struct {
		ns       *NS
		dev, mac string
		addr     netip.Addr
	}{{p.A, p.IfA, MACA, AddrA}, {p.B, p.IfB, MACB, AddrB}} {
		end.ns.MustRun("ip", "link", "set", end.dev, "address", end.mac, "gso_max_segs", "1", "up")
		// veth does GRO only with NAPI on (XDP, ethtool -K gro on); this
		// keeps it from merging even then. Linux and iproute2 before 5.19
		// have no gro_max_size: the default stays.
		end.ns.Run("ip", "link", "set", end.dev, "gro_max_size", "0")
		end.ns.MustRun("ip", "addr", "add", end.addr.String()+"/24", "dev", end.dev)
	}
	return p
}

// ID is the hash that names t's namespaces: 8 hex digits of the working
// directory (the package's, under go test) and t.Name().
func ID(t testing.TB) string {
	wd, _ := os.Getwd()
	sum := sha256.Sum256([]byte(wd + "\x00" + t.Name()))
	return hex.EncodeToString(sum[:4])
}

// run runs a command in the root namespace and fails t if it fails.
func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (ns *NS) deleteNS() {
	// ip netns del also removes the veth end inside (and so its peer).
	exec.Command("ip", "netns", "del", ns.Name).Run()
	os.RemoveAll("/etc/netns/" + ns.Name)
}

// Command returns the command name args to run inside ns, through ip netns
// exec (which execs it: the process is the command itself, so a signal to
// its pid reaches it).
func (ns *NS) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns.Name, name}, args...)...)
}

// Run runs a command inside ns and returns its output (stdout and stderr
// together) and error.
func (ns *NS) Run(name string, args ...string) (string, error) {
	out, err := ns.Command(name, args...).CombinedOutput()
	if err != nil {
		err = fmt.Errorf("in namespace %s: %s %s: %w", ns.Name, name, strings.Join(args, " "), err)
	}
	return string(out), err
}

// MustRun is Run that fails the test when the command fails.
func (ns *NS) MustRun(name string, args ...string) string {
	ns.t.Helper()
	out, err := ns.Run(name, args...)
	if err != nil {
		ns.t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// Up sets the interface dev of ns up.
func (ns *NS) Up(dev string) { ns.t.Helper(); ns.MustRun("ip", "link", "set", dev, "up") }

// Down sets the interface dev of ns down (as a VM that stops: the tap goes
// down).
func (ns *NS) Down(dev string) { ns.t.Helper(); ns.MustRun("ip", "link", "set", dev, "down") }

// Delete removes the interface dev of ns (as a VM that is destroyed: its
// tap goes away). Deleting one end of a veth pair deletes both.
func (ns *NS) Delete(dev string) { ns.t.Helper(); ns.MustRun("ip", "link", "del", dev) }

// Proc is a process started in a namespace by Start.
type Proc struct {
	Cmd  *exec.Cmd
	out  syncBuffer
	done chan struct{}
	err  error // Wait's, once done is closed
}

// Start starts a command inside ns in the background, with stdout and
// stderr captured together (Output). At cleanup it is killed (SIGKILL) if
// it still runs, and its output is logged when the test failed.
func (ns *NS) Start(name string, args ...string) *Proc {
	ns.t.Helper()
	p := &Proc{Cmd: ns.Command(name, args...), done: make(chan struct{})}
	p.Cmd.Stdout = &p.out
	p.Cmd.Stderr = &p.out
	if err := p.Cmd.Start(); err != nil {
		ns.t.Fatalf("in namespace %s: start %s: %v", ns.Name, name, err)
	}
	go func() {
		p.err = p.Cmd.Wait()
		close(p.done)
	}()
	t := ns.t
	t.Cleanup(func() {
		p.Cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("output of %s in %s:\n%s", strings.Join(p.Cmd.Args[3:], " "), ns.Name, p.Output())
		}
	})
	return p
}

// Output returns what the process has written so far.
func (p *Proc) Output() string { return p.out.String() }

// Signal sends sig to the process (SIGTERM, SIGINT: how phonehome capture
// and tcpdump are told to stop and write what they hold).
func (p *Proc) Signal(sig syscall.Signal) error { return p.Cmd.Process.Signal(sig) }

// Wait waits up to timeout for the process to end and returns how it ended
// (nil for exit status 0, an *exec.ExitError otherwise); after timeout it
// kills the process and says so.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		p.Cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not end within %v: killed", p.Cmd.Args[3], timeout)
	}
}

// Stop sends sig and waits up to timeout, as Wait.
func (p *Proc) Stop(sig syscall.Signal, timeout time.Duration) error {
	if err := p.Signal(sig); err != nil {
		select {
		case <-p.done: // it had already ended
			return p.err
		default:
			return err
		}
	}
	return p.Wait(timeout)
}

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// syncBuffer is a bytes.Buffer safe for the process's writes and the test's
// reads at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// WaitFor waits up to timeout for the process's output to contain s (such
// as tcpdump's "listening on"), and fails the test if it does not, or if
// the process ends first.
func (p *Proc) WaitFor(t testing.TB, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.Output(), s) {
		if p.Exited() || time.Now().After(deadline) {
			t.Fatalf("%s did not write %q within %v (ended: %v):\n%s", strings.Join(p.Cmd.Args[3:], " "), s, timeout, p.Exited(), p.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Replay sends the frames of a capture file (pcap or pcapng) out of A's
// veth end with tcpreplay, so that they arrive on IfB as they are in the
// file, and returns tcpreplay's report. args go before the file:
// "--topspeed", "--pps", "100000", "--loop", "3". Without a rate option
// tcpreplay keeps the file's timing. It fails the test when tcpreplay
// could not send a frame: a frame longer than the MTU (1500) is refused
// (cmd/mkcapture's IPv6 segments are 1534-byte frames). The frames reach
// B's stack too, which
// drops those not addressed to it (B does not forward); none leaves B.
func (p *Pair) Replay(file string, args ...string) string {
	t := p.A.t
	t.Helper()
	testenv.Program(t, "tcpreplay", "tcpreplay", "it replays captures into the veth")
	out := p.A.MustRun("tcpreplay", append(append([]string{"-i", p.IfA}, args...), file)...)
	if n := replayFailed(out); n != 0 {
		t.Fatalf("tcpreplay could not send %d frames of %s through %s (a frame over the MTU? raise it: "+
			"p.A.MustRun(\"ip\", \"link\", \"set\", p.IfA, \"mtu\", \"9000\") and the same for B):\n%s", n, file, p.IfA, out)
	}
	return out
}

// replayFailed reads tcpreplay's "Failed packets:" count (-1 when absent).
func replayFailed(out string) int {
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "Failed packets:"); ok {
			var n int
			if _, err := fmt.Sscan(rest, &n); err == nil {
				return n
			}
		}
	}
	return -1
}

// Tcpdump starts tcpdump -i dev --immediate-mode -B 65536 -U -s 0 -w file in ns (args before -w,
// such as a filter) and returns once it is listening. Stop it with
// Stop(syscall.SIGINT, ...): it then writes its counts, which TcpdumpCounts
// reads. Immediate mode: without it, libpcap hands tcpdump the frames in
// blocks, up to a second late, and frames still in the kernel's ring when
// SIGINT arrives are "received by filter" but never written. A 64 MiB
// buffer: with the default 2 MiB, immediate mode dropped 70 of the
// sample's 912 frames replayed at --topspeed.
func (ns *NS) Tcpdump(dev, file string, args ...string) *Proc {
	ns.t.Helper()
	testenv.Program(ns.t, "tcpdump", "tcpdump", "it records what crossed the veth")
	p := ns.Start("tcpdump", append(append([]string{"-i", dev, "-n", "--immediate-mode", "-B", "65536", "-U", "-s", "0"}, args...), "-w", file)...)
	p.WaitFor(ns.t, "listening on", 10*time.Second)
	return p
}

// TcpdumpCounts reads the counts tcpdump writes when it stops: packets
// captured, received by filter and dropped by kernel (-1 for a line
// missing).
func TcpdumpCounts(output string) (captured, received, dropped int) {
	captured, received, dropped = -1, -1, -1
	for _, line := range strings.Split(output, "\n") {
		var n int
		if _, err := fmt.Sscan(line, &n); err != nil {
			continue
		}
		switch {
		case strings.HasSuffix(line, " packets captured") || strings.HasSuffix(line, " packet captured"):
			captured = n
		case strings.Contains(line, " received by filter"):
			received = n
		case strings.Contains(line, " dropped by kernel"):
			dropped = n
		}
	}
	return captured, received, dropped
}
