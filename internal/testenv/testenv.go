// Package testenv decides what a test does when something it needs is not
// on the machine: the shared corpus beside the repository (../shared), a
// program such as strace, or root.
//
// On a developer's machine such a test skips and says what is missing and
// how to provide it. In a strict run (CI or PHONEHOME_STRICT set to true or
// 1 in the environment) it fails instead, with the same message, so that a
// run which checked less can never report ok as if it had checked
// everything. .ci/run sets both.
//
// Not being root is the one gap a strict run still skips: the root-only
// tests need privileges a developer may rightly not give a test run, and
// CI runs as root. A program missing while running as root fails a strict
// run, since `make deps` installs every program the tests call.
//
// The package holds no state: every call reads the environment afresh. Only
// tests import it (layers_test.go keeps it so).
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// Strict reports whether a missing prerequisite fails the test rather than
// skipping it, and why ("PHONEHOME_STRICT=1"): PHONEHOME_STRICT or CI is set
// to a value strconv.ParseBool reads as true (1, t, true, TRUE, True). CI
// services set CI=true.
func Strict() (strict bool, why string) {
	for _, name := range []string{"PHONEHOME_STRICT", "CI"} {
		v := os.Getenv(name)
		if on, err := strconv.ParseBool(v); err == nil && on {
			return true, name + "=" + v
		}
	}
	return false, ""
}

// SkipOrFail ends t: it skips with the message, or in a strict run fails
// with the message and what to do. The message should say what is missing,
// where it was looked for and how to provide it.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if strict, why := Strict(); strict {
		t.Fatalf("%s\nThis run is strict (%s), so a missing prerequisite fails the test instead of skipping it: "+
			"provide it, or unset CI and PHONEHOME_STRICT to skip.", msg, why)
		return // t.Fatalf does not return; a fake testing.TB may
	}
	t.Skip(msg)
}

// NeedRoot skips t unless the test runs as root (effective user id 0), in
// strict runs too: see the package comment.
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("not root: %s; CI runs this as root", why)
	}
}

// Program returns the path of the named program on PATH. When it is not
// there it calls SkipOrFail, saying that `make deps` installs pkg, the
// Debian package that has it, and what the test needed it for.
func Program(t testing.TB, name, pkg, why string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		SkipOrFail(t, "%s not found on PATH: %s. Install it: make deps (apt-get install %s)", name, why, pkg)
	}
	return path
}
