package testenv

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// recorder is a testing.TB that records how a test would have ended.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

func (r *recorder) Skip(args ...any) { r.skip = fmt.Sprint(args...) }

func (r *recorder) Skipf(format string, args ...any) { r.skip = fmt.Sprintf(format, args...) }

func TestSkipOrFail(t *testing.T) {
	tests := []struct {
		name, ci, strict string
		fails            bool
		why              string
	}{
		{"neither_set", "", "", false, ""},
		{"ci_true", "true", "", true, "CI=true"},
		{"ci_1", "1", "", true, "CI=1"},
		{"ci_false", "false", "", false, ""},
		{"ci_garbage", "yes", "", false, ""},
		{"strict_1", "", "1", true, "PHONEHOME_STRICT=1"},
		{"strict_0_ci_true", "true", "0", true, "CI=true"},
		{"strict_1_ci_false", "false", "1", true, "PHONEHOME_STRICT=1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			t.Setenv("PHONEHOME_STRICT", tt.strict)
			r := &recorder{TB: t}
			SkipOrFail(r, "no corpus at %s: clone it there", "../shared")
			const msg = "no corpus at ../shared: clone it there"
			if tt.fails {
				if r.skip != "" || !strings.HasPrefix(r.fatal, msg+"\n") || !strings.Contains(r.fatal, "("+tt.why+")") {
					t.Errorf("SkipOrFail skipped %q, failed %q; want a failure starting %q naming %s", r.skip, r.fatal, msg, tt.why)
				}
				return
			}
			if r.fatal != "" || r.skip != msg {
				t.Errorf("SkipOrFail skipped %q, failed %q; want a skip %q", r.skip, r.fatal, msg)
			}
		})
	}
}

func TestProgram(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv("PHONEHOME_STRICT", "1")
	r := &recorder{TB: t}
	if got := Program(r, "phonehome-no-such-program", "nosuchpkg", "to test Program"); got != "" || r.skip != "" ||
		!strings.Contains(r.fatal, "make deps (apt-get install nosuchpkg)") {
		t.Errorf("Program(missing) = %q, skipped %q, failed %q; want a failure saying make deps installs nosuchpkg", got, r.skip, r.fatal)
	}
	r = &recorder{TB: t}
	if got := Program(r, "go", "golang", "to test Program"); got == "" || r.skip != "" || r.fatal != "" {
		t.Errorf("Program(go) = %q, skipped %q, failed %q; want its path", got, r.skip, r.fatal)
	}
}

func TestNeedRoot(t *testing.T) {
	t.Setenv("PHONEHOME_STRICT", "1")
	r := &recorder{TB: t}
	NeedRoot(r, "to test NeedRoot")
	if root := os.Geteuid() == 0; root != (r.skip == "") || r.fatal != "" {
		t.Errorf("NeedRoot as root=%v: skipped %q, failed %q; want a skip exactly when not root, never a failure", root, r.skip, r.fatal)
	}
}
