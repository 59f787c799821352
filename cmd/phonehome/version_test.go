package main

import (
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	platform := runtime.GOOS + "/" + runtime.GOARCH
	for _, tt := range []struct {
		name string
		bi   *debug.BuildInfo
		ok   bool
		want string
	}{
		{"clone_with_changes", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: module, Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"},
				{Key: "vcs.revision", Value: "091b2110e5c1a1f0c1b5b0a3cdd5f2b1f0e9a8c7"}, {Key: "vcs.time", Value: "2026-03-02T08:00:00Z"},
				{Key: "vcs.modified", Value: "true"}}}, true,
			"phonehome (devel)\ncommit  091b2110e5c1a1f0c1b5b0a3cdd5f2b1f0e9a8c7 2026-03-02T08:00:00Z (with uncommitted changes)\ngo      go1.26.8 linux/arm64\n"},
		{"go_install_at_a_version", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: module, Version: "v1.2.3"}}, true,
			"phonehome v1.2.3\ncommit  unknown (not recorded: go build records it only in a git clone's main tree, and not with -buildvcs=false)\ngo      go1.26.8 " + platform + "\n"},
		{"no_build_information", nil, false,
			"phonehome unknown version (the binary holds no build information)\ngo      " + runtime.Version() + " " + platform + "\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionText(tt.bi, tt.ok); got != tt.want {
				t.Errorf("versionText = %q;\nwant %q", got, tt.want)
			}
		})
	}
}

const module = "github.com/phonehome/phonehome"

// TestVersionCommand builds the binary and holds `phonehome version` and
// `phonehome --version` against what `go version -m` reads from it: the
// module version, the commit when the build recorded one, the Go version.
func TestVersionCommand(t *testing.T) {
	bin := buildBinary(t)
	info, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	want := map[string]string{}
	for _, line := range strings.Split(string(info), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "mod" && f[1] == module:
			want["version"] = f[2]
		case len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision="):
			want["commit"] = strings.TrimPrefix(f[1], "vcs.revision=")
		case len(f) == 2 && strings.HasSuffix(f[0], ":") && strings.HasPrefix(f[1], "go1"):
			want["go"] = f[1]
		}
	}
	if want["version"] == "" || want["go"] == "" {
		t.Fatalf("go version -m %s says no module version or Go version:\n%s", bin, info)
	}
	if want["commit"] == "" {
		want["commit"] = "unknown"
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			t.Fatalf("phonehome %s: %v", args[0], err)
		}
		lines := strings.Split(string(out), "\n")
		if len(lines) != 4 || lines[0] != "phonehome "+want["version"] || !strings.HasPrefix(lines[1], "commit  "+want["commit"]) ||
			!strings.HasPrefix(lines[2], "go      "+want["go"]+" ") {
			t.Errorf("phonehome %s =\n%s\nwant phonehome %s, commit %s, go %s", args[0], out, want["version"], want["commit"], want["go"])
		}
	}
	if code, _, _ := runCaptured(t, "version", "extra"); code != exitUsage {
		t.Errorf("phonehome version extra: exit status %d; want %d", code, exitUsage)
	}
}
