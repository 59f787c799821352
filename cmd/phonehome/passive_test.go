package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/phonehome/phonehome/internal/testenv"
)

// buildBinary builds phonehome into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "phonehome")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var syscallLine = regexp.MustCompile(`^\d+\s+([a-z0-9_?]+)\(`)

// TestPassiveNoNetworkSyscalls traces every network system call the binary
// makes while it analyses the sample and writes flows: there must be none
// (no socket, no connect, no sendto: no packet sent, no name resolved).
func TestPassiveNoNetworkSyscalls(t *testing.T) {
	testenv.NeedRoot(t, "tracing may be refused (ptrace_scope)")
	strace := testenv.Program(t, "strace", "strace", "it traces the binary's system calls")
	bin := buildBinary(t)
	trace := filepath.Join(t.TempDir(), "trace.txt")
	flows := filepath.Join(t.TempDir(), "flows.jsonl")
	cmd := exec.Command(strace, "-f", "-qq", "-e", "signal=none", "-e", "trace=%network", "-o", trace,
		bin, "analyze", "--format", "json", "--flows", flows, sample)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("strace phonehome analyze: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	// strace writes "PID name(args) = result"; a thread that ends inside a
	// traced call leaves "PID ???( <detached ...>", which names no call.
	var calls []string
	for _, line := range strings.Split(string(raw), "\n") {
		if m := syscallLine.FindStringSubmatch(line); m != nil && m[1] != "???" {
			calls = append(calls, line)
		}
	}
	if len(calls) > 0 {
		t.Errorf("phonehome analyze made network system calls:\n%s", strings.Join(calls, "\n"))
	}
}

// TestPassiveWithoutNetwork runs the analysis in a network namespace of its
// own, with no interface up and no route: it must work the same.
func TestPassiveWithoutNetwork(t *testing.T) {
	testenv.NeedRoot(t, "cannot make a network namespace")
	unshare := testenv.Program(t, "unshare", "util-linux", "it runs the binary in a network namespace of its own")
	bin := buildBinary(t)
	want, err := exec.Command(bin, "analyze", "--format", "json", sample).Output()
	if err != nil {
		t.Fatal(err)
	}
	got, err := exec.Command(unshare, "--net", bin, "analyze", "--format", "json", sample).Output()
	if err != nil {
		t.Fatalf("phonehome analyze in an empty network namespace: %v", err)
	}
	if string(got) != string(want) {
		t.Errorf("report without a network differs from the report with one")
	}
}
