package main

import (
	"slices"
	"strings"
	"testing"
)

// TestCompletion asks cobra's __complete command, as the shell scripts do,
// for the values of --edition, --build and --format: each offers what the
// flag takes, whatever the case typed, and no file names.
func TestCompletion(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"compare_format", []string{"compare", "--format", ""}, []string{"text", "json", "markdown", "html"}},
		{"compare_edition", []string{"compare", "--edition", ""}, []string{"home", "pro", "education", "enterprise"}},
		{"compare_fail_on", []string{"compare", "--fail-on", ""}, []string{"new", "new-undocumented", "gone", "any"}},
		{"compare_fail_on_after_a_comma", []string{"compare", "--fail-on", "new,G"}, []string{"new,gone"}},
		{"compare_build", []string{"compare", "--build", "21h"}, []string{"21H1", "21H2"}},
		{"format", []string{"--format", ""}, []string{"text", "json", "csv", "markdown", "html"}},
		{"format_upper_case", []string{"--format", "J"}, []string{"json"}},
		{"format_equals", []string{"--format=m"}, []string{"markdown"}}, // the shell script puts "--format=" back
		{"edition", []string{"--edition", ""}, []string{"all", "home", "pro", "education", "enterprise"}},
		{"edition_after_a_comma", []string{"--edition", "home,P"}, []string{"home,pro"}},
		{"edition_list_leaves_out_given", []string{"--edition", "Home,pro,"}, []string{"Home,pro,education", "Home,pro,enterprise"}},
		{"build", []string{"--build", "2"}, []string{"2004", "20H2", "21H1", "21H2"}},
		{"build_lower_case", []string{"--build", "21h"}, []string{"21H1", "21H2"}},
		{"build_every_one", []string{"--build", ""}, []string{"1709", "1803", "1809", "1903", "1909", "2004", "20H2", "21H1", "21H2", "11"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"__complete", "analyze"}, tt.args...)
			if tt.args[0] == "compare" {
				args = append([]string{"__complete"}, tt.args...)
			}
			code, stdout, _ := runCaptured(t, args...)
			lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
			if code != exitOK || len(lines) == 0 {
				t.Fatalf("__complete: exit status %d, output %q", code, stdout)
			}
			// The last line is the directive: 4 is ShellCompDirectiveNoFileComp.
			if dir := lines[len(lines)-1]; dir != ":4" {
				t.Errorf("directive %s; want :4 (no file names)", dir)
			}
			var got []string
			for _, l := range lines[:len(lines)-1] {
				v, _, _ := strings.Cut(l, "\t")
				got = append(got, v)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("completions %q; want %q", got, tt.want)
			}
		})
	}
}

// TestFlagValuesIgnoreCase: --format, --edition and --build take their
// values in any case.
func TestFlagValuesIgnoreCase(t *testing.T) {
	code, stdout, stderr := runCaptured(t, "analyze", "--format", "JSON", "--edition", "Pro,HOME", "--build", "windows-10-1909", sample)
	if code != exitOK || !strings.HasPrefix(stdout, "{") || !strings.Contains(stdout, `"edition": "pro"`) {
		t.Errorf("--format JSON --edition Pro,HOME: exit status %d, stdout %.80q, stderr %q; want 0 and a JSON report of Pro", code, stdout, stderr)
	}
	code, stdout, stderr = runCaptured(t, "analyze", "--format", "Markdown", "--build", "21h2", "--edition", "ENTERPRISE", sample)
	if code != exitOK || !strings.HasPrefix(stdout, "# phonehome") {
		t.Errorf("--format Markdown --build 21h2: exit status %d, stdout %.80q, stderr %q; want 0 and a Markdown report", code, stdout, stderr)
	}
}
