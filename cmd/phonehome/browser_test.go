package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/internal/testenv"
)

// TestHTMLInBrowser opens the sample's HTML report in headless Chromium,
// with a fragment that filters for "vendor" and sorts the first table by
// flows, descending, and reads the page as the browser left it: the script
// ran (allowed by its hash), no console error, no load refused, the rows
// filtered and sorted, the timelines drawn. With -update it also takes the
// screenshot committed as testdata/report.png.
func TestHTMLInBrowser(t *testing.T) {
	chromium := testenv.Program(t, "chromium", "chromium", "it renders the HTML report")
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if code, _, stderr := runCaptured(t, "analyze", "-q", "--edition", "pro", "--format", "html", "-o", page, sample); code != 0 {
		t.Fatalf("analyze --format html: exit status %d: %s", code, stderr)
	}
	browse := func(args ...string) (stdout, stderr string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, chromium, append([]string{
			"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--user-data-dir=" + filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0",
		}, args...)...)
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, errb.String())
		}
		return out.String(), errb.String()
	}
	dom, log := browse("--virtual-time-budget=3000", "--dump-dom", "file://"+page+"#filter=vendor&sort=0:2:desc")
	for _, bad := range regexp.MustCompile(`(?m)^.*(CONSOLE|Refused to|Content Security Policy).*$`).FindAllString(log, -1) {
		t.Errorf("browser said: %s", bad)
	}
	if !strings.Contains(dom, `data-sorted="2:desc"`) {
		t.Errorf("the first table is not sorted by its third column: the script did not run")
	}
	if n := strings.Count(dom, "<tr hidden"); n == 0 {
		t.Errorf("no row hidden by the filter")
	}
	if !regexp.MustCompile(`<tr><td class="name">vendor-updater\.net</td><td class="name">api\.vendor-updater\.net`).MatchString(dom) {
		t.Errorf("the row of api.vendor-updater.net is not shown")
	}
	if !strings.Contains(dom, `<svg class="tl"`) {
		t.Errorf("no timeline")
	}
	if *update {
		shot := filepath.Join(dir, "shot.png")
		browse("--window-size=1400,1800", "--hide-scrollbars", "--screenshot="+shot, "file://"+page)
		png, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "report.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
