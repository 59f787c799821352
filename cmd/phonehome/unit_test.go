package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnit holds contrib's unit to what the README promises: capture
// with the checkpoint directory it restarts on, only CAP_NET_RAW and
// CAP_NET_ADMIN, a restart on failure, SIGTERM to stop; and its command line
// must be one capture accepts.
func TestSystemdUnit(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "contrib", "phonehome-capture@.service"))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			keys[k] = v
		}
	}
	for k, want := range map[string]string{
		"AmbientCapabilities":   "CAP_NET_RAW CAP_NET_ADMIN",
		"CapabilityBoundingSet": "CAP_NET_RAW CAP_NET_ADMIN",
		"Restart":               "on-failure",
		"KillSignal":            "SIGTERM",
		"NoNewPrivileges":       "yes",
		"DynamicUser":           "yes",
	} {
		if keys[k] != want {
			t.Errorf("%s=%q; want %q", k, keys[k], want)
		}
	}
	exec1 := keys["ExecStart"]
	exec1 = strings.ReplaceAll(exec1, "%i", "virbr0")
	exec1 = strings.ReplaceAll(exec1, "$PHONEHOME_ARGS", "--vm 192.168.122.50 --build 21H2 --duration 7d")
	args := strings.Fields(exec1)
	if len(args) < 3 || filepath.Base(args[0]) != "phonehome" || args[1] != "capture" {
		t.Fatalf("ExecStart=%q; want phonehome capture ...", keys["ExecStart"])
	}
	if !strings.Contains(exec1, "--checkpoint /var/lib/phonehome/virbr0") {
		t.Errorf("ExecStart=%q; want a --checkpoint in the state directory, which a restart resumes from", keys["ExecStart"])
	}
	root := newRootCmd()
	cmd, rest, err := root.Find(args[1:])
	if err != nil || cmd.Name() != "capture" {
		t.Fatalf("ExecStart's arguments find %v (%v); want capture", cmd, err)
	}
	if err := cmd.ParseFlags(rest); err != nil {
		t.Errorf("capture does not take ExecStart's flags: %v", err)
	}
	// systemd's own check, where systemd is: on an instance of the
	// template. The binary is not installed here; that is all it may say.
	if analyze, err := exec.LookPath("systemd-analyze"); err == nil {
		unit := filepath.Join(t.TempDir(), "phonehome-capture@virbr0.service")
		if err := os.WriteFile(unit, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command(analyze, "verify", "--man=no", unit).CombinedOutput()
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line != "" && !strings.Contains(line, "/usr/local/bin/phonehome is not executable") {
				t.Errorf("systemd-analyze verify: %s", line)
			}
		}
	}
}
