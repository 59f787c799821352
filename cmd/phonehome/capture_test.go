package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/phonehome/phonehome/internal/netns"
	"github.com/phonehome/phonehome/internal/testenv"
)

// The live tests run phonehome capture on the host end of a veth pair
// (internal/netns), replay captures or drive real clients from the VM's
// end, and hold what it reports against analyze over the same packets.

// liveCapture is one phonehome capture running in namespace B.
type liveCapture struct {
	t      *testing.T
	proc   *netns.Proc
	dir    string
	report string // -o
	flows  string // --flows
	write  string // --write
}

// startCapture starts bin capture on p's host end with args, writing its
// report, flows and packets under a directory of its own, and waits until
// it listens.
func startCapture(t *testing.T, p *netns.Pair, bin string, args ...string) *liveCapture {
	t.Helper()
	dir := t.TempDir()
	c := &liveCapture{t: t, dir: dir,
		report: filepath.Join(dir, "live.json"), flows: filepath.Join(dir, "live.jsonl"), write: filepath.Join(dir, "pcap")}
	all := append([]string{"capture", "-i", p.IfB, "--format", "json", "-o", c.report, "--flows", c.flows,
		"--write", c.write}, args...)
	c.proc = p.B.Start(bin, all...)
	c.waitFor("capturing on")
	return c
}

// waitFor waits until the capture's output holds s.
func (c *liveCapture) waitFor(s string) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(c.proc.Output(), s) {
		if c.proc.Exited() || time.Now().After(deadline) {
			c.t.Fatalf("phonehome capture did not say %q:\n%s", s, c.proc.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends sig and returns the exit status.
func (c *liveCapture) stop(sig syscall.Signal) int {
	c.t.Helper()
	// Frames just replayed may still be in the kernel's buffer: libpcap
	// hands them over within its timeout.
	time.Sleep(500 * time.Millisecond)
	return exitCode(c.t, c.proc.Stop(sig, 30*time.Second))
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

// replay sends the frames of file from the VM's end, as fast as tcpreplay
// can.
func replay(t *testing.T, p *netns.Pair, file string) {
	t.Helper()
	tcpreplay := testenv.Program(t, "tcpreplay", "tcpreplay", "it replays captures into the veth")
	if strings.HasSuffix(file, ".gz") {
		raw := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(file), ".gz"))
		out, err := exec.Command("sh", "-c", `gzip -dc "$1" > "$2"`, "sh", file, raw).CombinedOutput()
		if err != nil {
			t.Fatalf("gunzip %s: %v\n%s", file, err, out)
		}
		file = raw
	}
	p.A.MustRun(tcpreplay, "-q", "--topspeed", "-i", p.IfA, file)
}

// jsonReport reads a JSON report and drops what names where the packets
// came from, which differs between a live capture and files.
func jsonReport(t *testing.T, path string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(evidenceFiles.ReplaceAll(raw, []byte(`"file":""`)), &rep); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, k := range []string{"files", "inputs", "capture_sessions", "capture_warnings", "damage"} {
		delete(rep, k)
	}
	return rep
}

// flowLines reads a --flows file as sorted lines.
func flowLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	slices.Sort(lines)
	return lines
}

// analyzeFiles runs bin analyze on the files capture wrote, and returns the
// paths of its JSON report and flows.
func analyzeFiles(t *testing.T, bin string, args ...string) (report, flows string) {
	t.Helper()
	dir := t.TempDir()
	report, flows = filepath.Join(dir, "offline.json"), filepath.Join(dir, "offline.jsonl")
	cmd := exec.Command(bin, append([]string{"analyze", "--format", "json", "-o", report, "--flows", flows}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil && exitCode(t, err) != exitNothing {
		t.Fatalf("phonehome analyze %v: %v\n%s", args, err, out)
	}
	return report, flows
}

// sameAsOffline holds the live report and flows against analyze over the
// files capture wrote (--write).
func (c *liveCapture) sameAsOffline(bin string, args ...string) {
	c.t.Helper()
	report, flows := analyzeFiles(c.t, bin, append(args, c.write)...)
	if got, want := jsonReport(c.t, c.report), jsonReport(c.t, report); !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		c.t.Errorf("live report differs from analyze over the --write files:\nlive:\n%s\noffline:\n%s", g, w)
	}
	// The file of the evidence is the interface live, the --write file
	// offline; its frame number is the same (a live capture numbers the
	// frames of its session, which the one --write file holds in order).
	got, want := flowLines(c.t, c.flows), flowLines(c.t, flows)
	for _, l := range [][]string{got, want} {
		for i, line := range l {
			l[i] = evidenceFiles.ReplaceAllString(line, `"file":""`)
		}
		slices.Sort(l)
	}
	if !slices.Equal(got, want) {
		c.t.Errorf("live flows (%d) differ from analyze's over the --write files (%d):\nlive    %q\noffline %q", len(got), len(want), got[:min(2, len(got))], want[:min(2, len(want))])
	}
}

// evidenceFiles matches the file of a flow's evidence, or a name's, in a
// --flows line or a JSON report.
var evidenceFiles = regexp.MustCompile(`"file": ?"[^"]*"`)

// names returns the names a JSON report saw (documented or not), per
// edition, as "edition name" strings.
func names(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Editions []struct {
			Edition string `json:"edition"`
			Seen    []struct {
				Names []string `json:"names"`
			} `json:"documented_seen"`
			Undocumented []struct {
				Name string `json:"name"`
			} `json:"undocumented"`
		} `json:"editions"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range rep.Editions {
		for _, s := range e.Seen {
			for _, n := range s.Names {
				out = append(out, e.Edition+" "+n)
			}
		}
		for _, u := range e.Undocumented {
			out = append(out, e.Edition+" "+u.Name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestCaptureReplayedSample replays the sample and fixtures across the veth:
// capture's report and flows equal analyze's over the files it wrote, its
// names equal analyze's over the original capture, and nothing was
// dropped.
func TestCaptureReplayedSample(t *testing.T) {
	p := netns.New(t)
	bin := buildBinary(t)
	for _, tc := range []struct {
		name, file string
		// sameNames: the names equal analyze's over the original file.
		// Replayed at top speed, a capture's hours take a second: idle
		// timeouts and DNS answers' TTLs see another capture, which
		// may name a flow otherwise (sample-snap262's
		// 2.tlu.dl.delivery.mp.microsoft.com: its answers and another
		// name's, hours apart in the file, are both alive at once, so
		// the flow is ambiguous). The packets written are what was
		// captured, so live and offline over them always agree.
		sameNames bool
	}{
		{"sample", sample, true},
		{"tls_fixture", filepath.Join("..", "..", "testdata", "fixtures", "tls-openssl.pcap"), true},
		{"snaplen_cut", filepath.Join("..", "..", "testdata", "fixtures", "sample-snap262.pcapng.gz"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := startCapture(t, p, bin, "--status-every", "100ms")
			replay(t, p, tc.file)
			if code := c.stop(syscall.SIGTERM); code != 0 && code != exitNothing {
				t.Fatalf("capture exit status %d; want 0\n%s", code, c.proc.Output())
			}
			c.sameAsOffline(bin)
			orig, _ := analyzeFiles(t, bin, tc.file)
			if got, want := names(t, c.report), names(t, orig); tc.sameNames && !slices.Equal(got, want) {
				t.Errorf("live names = %q\nwant (analyze %s) %q", got, tc.file, want)
			}
			var rep struct {
				Sessions []struct {
					Received, Dropped, IfDropped uint64
					Ended                        string
				} `json:"capture_sessions"`
			}
			raw, _ := os.ReadFile(c.report)
			if err := json.Unmarshal(raw, &rep); err != nil || len(rep.Sessions) != 1 {
				t.Fatalf("capture_sessions = %+v (%v); want one session", rep.Sessions, err)
			}
			if s := rep.Sessions[0]; s.Dropped+s.IfDropped > 0 || s.Ended != "stopped" {
				t.Errorf("session = %+v; want no drop, ended stopped", s)
			}
			// Not on a terminal: a status line every interval, and
			// each undocumented name once, as it is first seen.
			out := c.proc.Output()
			if !strings.Contains(out, " packets, ") || !strings.Contains(out, "live flows") {
				t.Errorf("no status line in the capture's output:\n%s", out)
			}
			if tc.name == "sample" && strings.Count(out, "new undocumented name: api.vendor-updater.net") != 1 {
				t.Errorf("the sample's undocumented api.vendor-updater.net is not said once as it appears:\n%s", out)
			}
		})
	}
}

// TestCaptureRealClients drives dig, curl and openssl from the VM's end to
// servers in the host's namespace: each name the clients asked for names
// its flows, live as offline.
func TestCaptureRealClients(t *testing.T) {
	p := netns.New(t)
	bin := buildBinary(t)
	servers := p.Serve()
	c := startCapture(t, p, bin, "--vm", netns.AddrA.String())
	exchanges := servers.Drive()
	if code := c.stop(syscall.SIGINT); code != 0 && code != exitNothing {
		t.Fatalf("capture exit status %d\n%s", code, c.proc.Output())
	}
	c.sameAsOffline(bin, "--vm", netns.AddrA.String())
	flows := strings.Join(flowLines(t, c.flows), "\n")
	answers := 0
	for _, e := range exchanges {
		if e.Evidence == "dns" {
			answers++ // an answer only: no flow, but a DNS answer matched to its query
			continue
		}
		if !strings.Contains(flows, `"name":"`+e.Name+`"`) || !strings.Contains(flows, `"dst":"`+e.Addr.String()+`"`) {
			t.Errorf("no flow to %s named %q (%+v) in the live flows:\n%s", e.Addr, e.Name, e, flows)
		}
	}
	var rep struct {
		DNS struct{ Matched int } `json:"dns_answers"`
	}
	raw, _ := os.ReadFile(c.report)
	if err := json.Unmarshal(raw, &rep); err != nil || rep.DNS.Matched != answers {
		t.Errorf("dns_answers.matched = %d (%v); want %d: every answer dig got matched to its query", rep.DNS.Matched, err, answers)
	}
}

// TestCaptureKilledAndResumed kills capture with SIGKILL after a checkpoint,
// reports from the checkpoint, resumes with the same directory, and checks
// the merged report: both parts' names, two sessions, the gap said.
func TestCaptureKilledAndResumed(t *testing.T) {
	p := netns.New(t)
	bin := buildBinary(t)
	ckpt := filepath.Join(t.TempDir(), "ckpt")
	first := filepath.Join("..", "..", "testdata", "fixtures", "tls-openssl.pcap")
	second := filepath.Join("..", "..", "testdata", "fixtures", "http-keepalive-three-requests.pcap")

	c := startCapture(t, p, bin, "--checkpoint", ckpt, "--checkpoint-every", "200ms")
	replay(t, p, first)
	time.Sleep(1500 * time.Millisecond) // a checkpoint after the replay
	if code := c.stop(syscall.SIGKILL); code != -1 {
		t.Logf("capture killed: exit status %d", code)
	}
	crashed := filepath.Join(t.TempDir(), "crashed.json")
	out, err := exec.Command(bin, "report", "--format", "json", "-o", crashed, ckpt).CombinedOutput()
	if err != nil && exitCode(t, err) != exitNothing {
		t.Fatalf("phonehome report %s after SIGKILL: %v\n%s", ckpt, err, out)
	}
	firstNames, _ := analyzeFiles(t, bin, first)
	if got, want := names(t, crashed), names(t, firstNames); !slices.Equal(got, want) {
		t.Errorf("report from the checkpoint: names %q; want %q", got, want)
	}
	if raw, _ := os.ReadFile(crashed); !strings.Contains(string(raw), "without ending cleanly") {
		t.Errorf("report from the checkpoint of a killed capture does not say it did not end cleanly:\n%s", raw)
	}

	time.Sleep(1100 * time.Millisecond) // a gap of a second or more
	c2 := startCapture(t, p, bin, "--checkpoint", ckpt)
	if !strings.Contains(c2.proc.Output(), "resuming") {
		t.Errorf("capture started on a checkpoint does not say it resumes:\n%s", c2.proc.Output())
	}
	replay(t, p, second)
	if code := c2.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("resumed capture exit status %d\n%s", code, c2.proc.Output())
	}
	secondNames, _ := analyzeFiles(t, bin, second)
	want := slices.Compact(slices.Sorted(slices.Values(append(names(t, firstNames), names(t, secondNames)...))))
	if got := names(t, c2.report); !slices.Equal(got, want) {
		t.Errorf("resumed report: names %q; want both parts' %q", got, want)
	}
	var rep struct {
		Sessions []struct {
			Gap   float64 `json:"gap_before_seconds"`
			Ended string  `json:"ended"`
		} `json:"capture_sessions"`
		Warnings []string `json:"capture_warnings"`
	}
	raw, _ := os.ReadFile(c2.report)
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Sessions) != 2 || rep.Sessions[0].Ended != "running" || rep.Sessions[1].Ended != "stopped" || rep.Sessions[1].Gap < 1 {
		t.Errorf("sessions = %+v; want two, the first cut while running, the second stopped after a gap of 1 s or more", rep.Sessions)
	}
	if w := strings.Join(rep.Warnings, "\n"); !strings.Contains(w, "not running for") {
		t.Errorf("warnings do not name the gap:\n%s", w)
	}
	// The checkpoint directory now holds the final run: report gives the
	// same report as capture did.
	final := filepath.Join(t.TempDir(), "final.json")
	if out, err := exec.Command(bin, "report", "--format", "json", "-o", final, ckpt).CombinedOutput(); err != nil {
		t.Fatalf("phonehome report %s: %v\n%s", ckpt, err, out)
	}
	if got, want := jsonReport(t, final), jsonReport(t, c2.report); !reflect.DeepEqual(got, want) {
		t.Errorf("report of the final checkpoint differs from capture's report")
	}
	// Started again once its --duration has passed (a reboot with the
	// service enabled): the finished run's report, no new session.
	again := filepath.Join(t.TempDir(), "again.json")
	out, err = p.B.Command(bin, "capture", "-i", p.IfB, "--checkpoint", ckpt, "--duration", "1s", "--format", "json", "-o", again).CombinedOutput()
	if err != nil {
		t.Fatalf("capture on a finished run: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "it is finished") {
		t.Errorf("capture on a finished run does not say it is finished:\n%s", out)
	}
	if got, want := jsonReport(t, again), jsonReport(t, c2.report); !reflect.DeepEqual(got, want) {
		t.Errorf("capture on a finished run changed its report")
	}
}

// TestCaptureErrors checks the message and exit status of what goes wrong:
// a filter libpcap rejects, an unknown interface, no permission, and the
// interface removed mid-run (the report of what was captured is written).
func TestCaptureErrors(t *testing.T) {
	p := netns.New(t)
	bin := buildBinary(t)
	run := func(ns *netns.NS, args ...string) (int, string) {
		cmd := ns.Command(bin, args...)
		out, err := cmd.CombinedOutput()
		return exitCode(t, err), string(out)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"bad_filter", []string{"capture", "-i", p.IfB, "--filter", "tcp port"}, exitUsage, []string{`--filter "tcp port"`, "libpcap rejects it"}},
		{"unknown_interface", []string{"capture", "-i", "nosuch0"}, exitUsage, []string{"no such interface", p.IfB}},
		{"no_interface", []string{"capture"}, exitUsage, []string{"-i IFACE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out := run(p.B, tc.args...)
			if code != tc.code {
				t.Errorf("exit status %d; want %d\n%s", code, tc.code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not say %q:\n%s", w, out)
				}
			}
		})
	}
	t.Run("checkpoint_in_use", func(t *testing.T) {
		ckpt := filepath.Join(t.TempDir(), "ckpt")
		first := startCapture(t, p, bin, "--checkpoint", ckpt)
		code, out := run(p.B, "capture", "-i", p.IfB, "--checkpoint", ckpt)
		if code != exitFailure || !strings.Contains(out, "another phonehome capture is using it") {
			t.Errorf("a second capture on one checkpoint directory: exit status %d; want %d, saying another uses it:\n%s", code, exitFailure, out)
		}
		first.stop(syscall.SIGTERM)
	})
	t.Run("no_permission", func(t *testing.T) {
		setpriv := testenv.Program(t, "setpriv", "util-linux", "it runs phonehome as an unprivileged user")
		raw, err := p.B.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", bin, "capture", "-i", p.IfB).CombinedOutput()
		code := exitCode(t, err)
		out := string(raw)
		if code != exitFailure || !strings.Contains(out, "CAP_NET_RAW") || !strings.Contains(out, "setcap") {
			t.Errorf("as nobody: exit status %d; want %d, naming CAP_NET_RAW and setcap:\n%s", code, exitFailure, out)
		}
	})
	t.Run("interface_removed", func(t *testing.T) {
		c := startCapture(t, p, bin)
		replay(t, p, filepath.Join("..", "..", "testdata", "fixtures", "tls-openssl.pcap"))
		time.Sleep(500 * time.Millisecond)
		p.B.Delete(p.IfB)
		if err := c.proc.Wait(10 * time.Second); exitCode(t, err) != exitIfaceDown {
			t.Errorf("after the interface went away: %v; want exit status %d\n%s", err, exitIfaceDown, c.proc.Output())
		}
		if out := c.proc.Output(); !strings.Contains(out, "ended") || !strings.Contains(out, "interface") {
			t.Errorf("capture does not say the interface went away:\n%s", out)
		}
		if got := names(t, c.report); len(got) == 0 {
			t.Errorf("no report of what was captured before the interface went away")
		}
	})
}

// socketCall is one line of strace's output: "PID call(fd, ...) = result".
var socketCall = regexp.MustCompile(`^\d+\s+([a-z0-9_]+)\((\d+)?.*?\)\s+=\s+(-?\d+)`)

// TestPassiveCapture traces a whole live run (a replay across the veth,
// checkpoints, --write) and holds its system calls to what passive capture
// needs: a packet socket it only reads (a receive ring; no write, send or
// connect on it), netlink sockets to ask the kernel about the interface,
// and nothing else: no IP or Unix socket, so no packet sent and no name
// resolved.
func TestPassiveCapture(t *testing.T) {
	p := netns.New(t)
	strace := testenv.Program(t, "strace", "strace", "it traces the binary's system calls")
	bin := buildBinary(t)
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace.txt")
	proc := p.B.Start(strace, "-f", "-qq", "-e", "signal=none", "-e", "trace=%network,write,writev,pwrite64", "-o", trace,
		bin, "capture", "-i", p.IfB, "--duration", "4s", "--checkpoint", filepath.Join(dir, "ckpt"), "--checkpoint-every", "1s",
		"--write", filepath.Join(dir, "pcap"), "--format", "json", "-o", filepath.Join(dir, "live.json"))
	proc.WaitFor(t, "capturing on", 10*time.Second)
	replay(t, p, sample)
	if err := proc.Wait(30 * time.Second); err != nil {
		t.Fatalf("strace phonehome capture: %v\n%s", err, proc.Output())
	}
	raw, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	family := map[string]string{} // fd -> socket family, while open
	var bad []string
	for _, line := range strings.Split(string(raw), "\n") {
		m := socketCall.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		call, fd, result := m[1], m[2], m[3]
		switch call {
		case "socket", "socketpair":
			switch {
			case strings.Contains(line, "AF_PACKET"):
				family[result] = "AF_PACKET"
			case strings.Contains(line, "AF_NETLINK"):
				family[result] = "AF_NETLINK"
			default:
				bad = append(bad, line) // an IP or Unix socket: nothing passive needs one
			}
		case "connect", "sendto", "sendmsg", "sendmmsg", "write", "writev", "pwrite64":
			switch family[fd] {
			case "AF_PACKET":
				bad = append(bad, line) // a frame written to the wire
			case "":
				if call != "write" && call != "writev" && call != "pwrite64" {
					bad = append(bad, line)
				}
			}
		}
	}
	if !slices.Contains(slices.Collect(maps.Values(family)), "AF_PACKET") {
		t.Errorf("the trace holds no packet socket: did the capture run?\n%s", raw)
	}
	if len(bad) > 0 {
		t.Errorf("phonehome capture made system calls a passive capture does not:\n%s", strings.Join(bad, "\n"))
	}
}

// TestCaptureSIGHUP checks that SIGHUP writes a checkpoint and an interim
// report, and the capture goes on.
func TestCaptureSIGHUP(t *testing.T) {
	p := netns.New(t)
	bin := buildBinary(t)
	ckpt := filepath.Join(t.TempDir(), "ckpt")
	c := startCapture(t, p, bin, "--checkpoint", ckpt, "--checkpoint-every", "1h")
	replay(t, p, filepath.Join("..", "..", "testdata", "fixtures", "tls-openssl.pcap"))
	time.Sleep(500 * time.Millisecond)
	if err := c.proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	c.waitFor("interim report written")
	if c.proc.Exited() {
		t.Fatalf("capture ended on SIGHUP:\n%s", c.proc.Output())
	}
	interim := names(t, c.report)
	if len(interim) == 0 {
		t.Errorf("the interim report names nothing")
	}
	if _, err := os.Stat(filepath.Join(ckpt, "run.json.gz")); err != nil {
		t.Errorf("no checkpoint after SIGHUP: %v", err)
	}
	replay(t, p, filepath.Join("..", "..", "testdata", "fixtures", "http-keepalive-three-requests.pcap"))
	if code := c.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit status %d\n%s", code, c.proc.Output())
	}
	if final := names(t, c.report); len(final) <= len(interim) {
		t.Errorf("final report names %q; want more than the interim one's %q", final, interim)
	}
}

// TestCaptureDropsRoot checks --user: after the interface is open, the
// process runs as that user, and what it writes is that user's.
func TestCaptureDropsRoot(t *testing.T) {
	p := netns.New(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	// nobody must reach dir (t.TempDir's parent is root's, mode 0700)
	// and make the outputs in it.
	if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o1777); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	proc := p.B.Start(bin, "capture", "-i", p.IfB, "--user", "nobody", "--write", filepath.Join(out, "pcap"),
		"--checkpoint", filepath.Join(out, "ckpt"), "--format", "json", "-o", filepath.Join(out, "live.json"))
	proc.WaitFor(t, "capturing on", 10*time.Second)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", proc.Cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^Uid:\s+65534\s+65534\s+65534\s+65534$`).Match(status) {
		t.Errorf("capture --user nobody runs as:\n%s", regexp.MustCompile(`(?m)^(Uid|Gid|CapEff).*$`).FindAll(status, -1))
	}
	replay(t, p, filepath.Join("..", "..", "testdata", "fixtures", "tls-openssl.pcap"))
	time.Sleep(500 * time.Millisecond)
	if err := proc.Stop(syscall.SIGTERM, 30*time.Second); err != nil {
		t.Fatalf("capture --user nobody: %v\n%s", err, proc.Output())
	}
	for _, f := range []string{filepath.Join(out, "live.json"), filepath.Join(out, "ckpt", "run.json.gz")} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Errorf("%v\n%s", err, proc.Output())
			continue
		}
		if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != 65534 {
			t.Errorf("%s is owned by uid %d; want 65534 (nobody)", f, uid)
		}
	}
}

// TestCaptureOutputsVanish removes the checkpoint and --write directories
// mid-run: both fail loudly (stderr, the report's warnings), the capture
// and the run in memory go on, and the report holds every name.
func TestCaptureOutputsVanish(t *testing.T) {
	p := netns.New(t)
	bin := buildBinary(t)
	ckpt := filepath.Join(t.TempDir(), "ckpt")
	c := startCapture(t, p, bin, "--checkpoint", ckpt, "--checkpoint-every", "200ms")
	first := filepath.Join("..", "..", "testdata", "fixtures", "tls-openssl.pcap")
	second := filepath.Join("..", "..", "testdata", "fixtures", "http-keepalive-three-requests.pcap")
	replay(t, p, first)
	time.Sleep(500 * time.Millisecond)
	for _, d := range []string{ckpt, c.write} {
		// Renamed away first, so the path vanishes at once: removed in
		// place, the capture could write a new file into it between
		// RemoveAll's listing and its rmdir ("directory not empty").
		gone := d + ".gone"
		if err := os.Rename(d, gone); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(gone); err != nil {
			t.Fatal(err)
		}
	}
	replay(t, p, second)
	time.Sleep(time.Second)
	if code := c.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit status %d; want 0: the run went on\n%s", code, c.proc.Output())
	}
	out := c.proc.Output()
	for _, w := range []string{"warning: checkpoint", "warning: --write"} {
		if !strings.Contains(out, w) {
			t.Errorf("stderr does not say %q:\n%s", w, out)
		}
	}
	var rep struct {
		Warnings []string `json:"capture_warnings"`
	}
	raw, _ := os.ReadFile(c.report)
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(rep.Warnings, "\n"); !strings.Contains(w, "--write failed") || !strings.Contains(w, "checkpoint failed") {
		t.Errorf("report warnings do not name the failed --write and checkpoint:\n%s", w)
	}
	a, _ := analyzeFiles(t, bin, first)
	b, _ := analyzeFiles(t, bin, second)
	want := slices.Compact(slices.Sorted(slices.Values(append(names(t, a), names(t, b)...))))
	if got := names(t, c.report); !slices.Equal(got, want) {
		t.Errorf("names = %q; want both replays' %q", got, want)
	}
}

// TestInterfaces lists the namespace's interfaces: the veth end, marked as
// one a VM's traffic may pass, with its address.
func TestInterfaces(t *testing.T) {
	p := netns.New(t)
	bin := buildBinary(t)
	out := p.B.MustRun(bin, "interfaces")
	line := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, p.IfB) {
			line = l
		}
	}
	for _, w := range []string{"* " + p.IfB, "up", "ethernet", "veth", netns.AddrB.String() + "/24"} {
		if !strings.Contains(line, w) {
			t.Errorf("phonehome interfaces: the line of %s = %q; want it to say %q\n%s", p.IfB, line, w, out)
		}
	}
}

// TestCaptureStatusOnATerminal runs capture on a pseudo-terminal (script, from
// bsdutils): the status line is redrawn in place (carriage return,
// clear to the end of the line), each new undocumented name is printed on a
// line of its own above it, and the line is cleared before the report.
func TestCaptureStatusOnATerminal(t *testing.T) {
	p := netns.New(t)
	script := testenv.Program(t, "script", "bsdutils", "it gives capture a terminal")
	bin := buildBinary(t)
	report := filepath.Join(t.TempDir(), "live.json")
	cmd := fmt.Sprintf("%s capture -i %s --status-every 100ms --duration 4s --format json -o %s", bin, p.IfB, report)
	proc := p.B.Start(script, "-qfec", cmd, "/dev/null")
	proc.WaitFor(t, "capturing on", 10*time.Second)
	replay(t, p, sample)
	if err := proc.Wait(30 * time.Second); err != nil {
		t.Fatalf("capture on a terminal: %v\n%q", err, proc.Output())
	}
	out := proc.Output()
	if n := strings.Count(out, "\r\x1b[K"); n < 3 {
		t.Errorf("the status line was drawn in place %d times; want it redrawn every 100 ms:\n%q", n, out)
	}
	if !regexp.MustCompile(`\r\x1b\[K[^\r\n]*packets, [^\r\n]*live flows`).MatchString(out) {
		t.Errorf("no status line drawn in place:\n%q", out)
	}
	if !regexp.MustCompile(`(^|\n|\x1b\[K)phonehome: new undocumented name: api\.vendor-updater\.net\r?\n`).MatchString(out) {
		t.Errorf("the new undocumented name is not on a line of its own:\n%q", out)
	}
	if strings.Contains(out, "T08:") || strings.Contains(out, "Z phonehome:") {
		t.Errorf("on a terminal, lines carry no log timestamps:\n%q", out)
	}
}
