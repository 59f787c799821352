//go:build cgo

package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/classify"
	"github.com/phonehome/phonehome/internal/testenv"
)

// captureLoopback runs capture in this process on the loopback interface
// for a second and a half, through a filter for a UDP socket of the test's
// own, to which it sends a few datagrams once the capture listens: a flow
// from 127.0.0.1 that ends with the capture. opt's interface, filter and
// duration are set here.
func captureLoopback(t *testing.T, opt captureOptions) (stdout, stderr string, err error) {
	t.Helper()
	testenv.NeedRoot(t, "live capture opens a packet socket")
	conn, lerr := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if lerr != nil {
		t.Fatal(lerr)
	}
	defer conn.Close()
	to := conn.LocalAddr().(*net.UDPAddr)
	opt.iface, opt.filter, opt.duration = "lo", "udp and port "+strconv.Itoa(to.Port), 1500*time.Millisecond
	if opt.reportOptions == (reportOptions{}) {
		opt.reportOptions = reportOptions{editions: "all", build: "1909", format: "json"}
	}
	opt.snaplen = capture.DefaultSnaplen
	opt.bufferSize = "1MiB"
	go func() {
		time.Sleep(500 * time.Millisecond)
		for range 3 {
			conn.WriteToUDP([]byte("phonehome capture test"), to)
		}
	}()
	var out, errOut bytes.Buffer
	err = captureLive(&out, &errOut, opt)
	return out.String(), errOut.String(), err
}

// TestCaptureReportDespiteFlowsFailure: --flows that cannot be written at
// the end (a full disk: /dev/full) is said, and the exit status says it,
// but the week's report is written all the same.
func TestCaptureReportDespiteFlowsFailure(t *testing.T) {
	stdout, stderr, err := captureLoopback(t, captureOptions{flows: "/dev/full", quiet: true})
	if err == nil || !strings.Contains(err.Error(), "--flows") {
		t.Errorf("capture with --flows /dev/full = %v; want the --flows failure", err)
	}
	if !strings.Contains(stdout, `"editions"`) {
		t.Errorf("capture with --flows /dev/full wrote no report:\nstdout %q\nstderr %s", stdout, stderr)
	}
}

// TestCaptureResumedKeepsFlows: a capture resumed from its checkpoint adds
// its flows to --flows; the earlier sessions' flows stay in the file.
func TestCaptureResumedKeepsFlows(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "ckpt")
	if err := os.Mkdir(ckpt, 0o755); err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC() // --duration counts from here: the run goes on
	prior := &classify.Run{Sessions: []capture.Session{{Interface: "lo", Start: start, End: start.Add(time.Second), Ended: capture.EndRunning}}}
	if err := classify.SaveRecord(filepath.Join(ckpt, classify.CheckpointName), prior, classify.RecordMeta{}); err != nil {
		t.Fatal(err)
	}
	flows := filepath.Join(dir, "flows.jsonl")
	const earlier = `{"earlier":"session"}` + "\n"
	if err := os.WriteFile(flows, []byte(earlier), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := captureLoopback(t, captureOptions{flows: flows, checkpoint: ckpt, quiet: true}); err != nil && err != errNothingInScope {
		t.Fatalf("capture: %v\n%s", err, stderr)
	}
	got, err := os.ReadFile(flows)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(got), earlier) || len(got) == len(earlier) {
		t.Errorf("--flows after a resumed capture = %q; want the earlier session's flow, then this one's", got)
	}
}

// TestOpenFlowsToAppend: the lines already in a --flows file are kept, and
// a last line cut short by a crash is cut off.
func TestOpenFlowsToAppend(t *testing.T) {
	long := strings.Repeat("x", 100<<10) + "\n"
	for _, tc := range []struct {
		name, in, want string
	}{
		{"whole_lines", "a\nb\n", "a\nb\n"},
		{"last_line_cut", "a\nb\npar", "a\nb\n"},
		{"only_a_cut_line", "par", ""},
		{"empty", "", ""},
		{"cut_line_longer_than_a_read", "a\n" + long[:len(long)-1], "a\n"},
		{"long_lines", long + long, long + long},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "flows.jsonl")
			if err := os.WriteFile(path, []byte(tc.in), 0o644); err != nil {
				t.Fatal(err)
			}
			fh, err := openFlowsToAppend(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fh.WriteString("new\n"); err != nil {
				t.Fatal(err)
			}
			fh.Close()
			got, _ := os.ReadFile(path)
			if want := tc.want + "new\n"; string(got) != want {
				t.Errorf("openFlowsToAppend then a line: file = %.60q (%d bytes); want %.60q (%d bytes)", got, len(got), want, len(want))
			}
		})
	}
}
