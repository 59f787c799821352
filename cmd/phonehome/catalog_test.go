package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCatalogList(t *testing.T) {
	var out bytes.Buffer
	if err := catalogList(&out, "json"); err != nil {
		t.Fatal(err)
	}
	var builds []listBuild
	if err := json.Unmarshal(out.Bytes(), &builds); err != nil {
		t.Fatal(err)
	}
	if len(builds) != 10 || builds[8].Build != "windows-10-21H2" {
		t.Fatalf("list: %d builds, the 9th %q; want 10, windows-10-21H2", len(builds), builds[8].Build)
	}
	if eds := builds[8].Editions; len(eds) != 1 || eds[0].Edition != "enterprise" || eds[0].Pages[0].File != "manage-windows-21h2-endpoints.md" {
		t.Errorf("list 21H2 = %+v; want Enterprise only, from manage-windows-21h2-endpoints.md", eds)
	}
	pro := builds[6].Editions[2] // 20H2: enterprise, home, pro
	if pro.Edition != "pro" || len(pro.Pages) != 2 || pro.Pages[0].Listed != "pro" || pro.Pages[1].Listed != "enterprise" || pro.Endpoints != 80 {
		t.Errorf("list 20H2 pro = %+v; want 80 endpoints from its section, then the Enterprise base", pro)
	}
	out.Reset()
	if err := catalogList(&out, "text"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\n21H2   enterprise  ") {
		t.Errorf("list text has no 21H2 enterprise line:\n%s", out.String())
	}
}

func TestCatalogShow(t *testing.T) {
	var out bytes.Buffer
	if err := catalogShow(&out, showOptions{build: "20h2", edition: "pro", format: "json"}); err != nil {
		t.Fatal(err)
	}
	var doc showDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Build != "windows-10-20H2" || doc.Edition != "pro" || len(doc.Endpoints) != 80 {
		t.Fatalf("show 20h2 pro: %s %s, %d endpoints; want windows-10-20H2 pro, 80", doc.Build, doc.Edition, len(doc.Endpoints))
	}
	e := doc.Endpoints[1]
	if e.Pattern != "*.delivery.mp.microsoft.com" || !slices.Equal(e.Sources, []string{"windows-endpoints-20H2-non-enterprise-editions.md:191", "manage-windows-20H2-endpoints.md:122"}) ||
		e.Area != "Windows Update" || !slices.Equal(e.Protocols, []string{"HTTP", "HTTPS", "TLS 1.2"}) {
		t.Errorf("show 20h2 pro, 2nd endpoint = %+v", e)
	}
	for _, f := range []string{"text", "csv", "markdown"} {
		out.Reset()
		if err := catalogShow(&out, showOptions{build: "20H2", edition: "pro", format: f}); err != nil || !strings.Contains(out.String(), "windows-endpoints-20H2-non-enterprise-editions.md:191") {
			t.Errorf("show --format %s: %v; want the line windows-endpoints-20H2-non-enterprise-editions.md:191 in\n%.300s", f, err, out.String())
		}
	}
	out.Reset()
	if err := catalogShow(&out, showOptions{catalog: exampleCatalog, edition: "home", format: "csv"}); err != nil {
		t.Fatal(err)
	}
	if want := "login.live.com,TLS 1.2,Accounts,Microsoft account sign-in," + exampleCatalog + ":13\n"; !strings.Contains(out.String(), want) {
		t.Errorf("show --catalog example --format csv = %q; want a row %q", out.String(), want)
	}
	for name, opt := range map[string]showOptions{
		"no_page":      {build: "21H2", edition: "pro", format: "text"},
		"two_editions": {build: "20H2", edition: "pro,home", format: "text"},
		"bad_format":   {build: "20H2", edition: "pro", format: "html"},
		"bad_build":    {build: "95", edition: "pro", format: "text"},
	} {
		var u usageError
		if err := catalogShow(&out, opt); !errors.As(err, &u) {
			t.Errorf("show %s: %v; want a usage error", name, err)
		}
	}
}

func diffJSON(t *testing.T, opt diffOptions) diffDoc {
	t.Helper()
	opt.format = "json"
	if opt.editions == "" {
		opt.editions = "all"
	}
	var out bytes.Buffer
	if err := catalogDiff(&out, opt); err != nil {
		t.Fatal(err)
	}
	var doc diffDoc
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestCatalogDiff(t *testing.T) {
	doc := diffJSON(t, diffOptions{from: "20H2", to: "21H1", editions: "enterprise"})
	if len(doc.Editions) != 1 || len(doc.Editions[0].Changes) != 0 {
		t.Errorf("diff 20H2 21H1 enterprise = %+v; want no change", doc.Editions)
	}
	doc = diffJSON(t, diffOptions{from: "21H1", to: "21H2"})
	if len(doc.NotCompared) != 3 || len(doc.Editions) != 1 {
		t.Fatalf("diff 21H1 21H2: not compared %q, %d editions; want home, pro, education not compared, enterprise compared", doc.NotCompared, len(doc.Editions))
	}
	// Removed: the two hosts; changed: the pattern www.msftconnecttest.com*
	// became www.msftconnecttest.com (no host gained or lost, but what the
	// page covers changed).
	var removed, changed []string
	for _, c := range doc.Editions[0].Changes {
		switch {
		case c.Kind == "removed" && len(c.From.Sources) > 0 && strings.HasPrefix(c.From.Sources[0], "manage-windows-21H1-endpoints.md:"):
			removed = append(removed, c.Key)
		case c.Kind == "changed" && c.PatternsChanged && !c.ProtocolsChanged:
			changed = append(changed, c.Key)
		default:
			t.Errorf("change %+v; want a removal with its 21H1 line, or a change of pattern", c)
		}
	}
	if want := []string{"v20.events.data.microsoft.com", "www.microsoft.com"}; !slices.Equal(removed, want) {
		t.Errorf("diff 21H1 21H2 enterprise removed %q; want %q", removed, want)
	}
	if want := []string{"www.msftconnecttest.com"}; !slices.Equal(changed, want) {
		t.Errorf("diff 21H1 21H2 enterprise changed %q; want %q", changed, want)
	}
	doc = diffJSON(t, diffOptions{from: "21H1", to: "windows-10-21H2", editions: "enterprise", fold: true})
	removed = nil
	for _, c := range doc.Editions[0].Changes {
		if c.Kind == "removed" {
			removed = append(removed, c.Key)
		}
	}
	if !doc.FoldNumbered || doc.NumberedRule == "" || !slices.Equal(removed, []string{"www.microsoft.com"}) {
		t.Errorf("diff --fold-numbered = %+v; want the rule named and v20 folded into v#, so one removal", doc)
	}
	// A user catalog on either side.
	doc = diffJSON(t, diffOptions{from: exampleCatalog, to: "1909", editions: "home"})
	if doc.From != "example-allow-list" || len(doc.Editions[0].Changes) == 0 {
		t.Errorf("diff example 1909 = %+v", doc)
	}
	for _, f := range []string{"text", "csv", "markdown"} {
		var out bytes.Buffer
		if err := catalogDiff(&out, diffOptions{from: "21H1", to: "21H2", editions: "enterprise", format: f, fold: true}); err != nil ||
			!strings.Contains(out.String(), "www") || !strings.Contains(out.String(), "manage-windows-21H1-endpoints.md:67") {
			t.Errorf("diff --format %s: %v; want www.microsoft.com, line 67, in\n%s", f, err, out.String())
		}
		if f != "csv" && !strings.Contains(out.String(), "are v") {
			t.Errorf("diff --format %s --fold-numbered does not name the rule:\n%s", f, out.String())
		}
	}
	for name, opt := range map[string]diffOptions{
		"no_from":        {to: "21H2", editions: "all", format: "text"},
		"bad_to":         {from: "1909", to: "95", editions: "all", format: "text"},
		"no_page_at_all": {from: "21H1", to: "21H2", editions: "pro", format: "text"},
		"bad_format":     {from: "21H1", to: "21H2", editions: "all", format: "html"},
	} {
		var u usageError
		if err := catalogDiff(&bytes.Buffer{}, opt); !errors.As(err, &u) {
			t.Errorf("diff %s: %v; want a usage error", name, err)
		}
	}
}

func TestCatalogValidateCommand(t *testing.T) {
	code, stdout, _ := runCaptured(t, "catalog", "validate", exampleCatalog)
	if code != exitOK || stdout != exampleCatalog+": 0 errors, 0 warnings\n" {
		t.Errorf("validate example: exit %d, %q; want 0, no problem", code, stdout)
	}
	bad := filepath.Join(t.TempDir(), "bad.tsv")
	if err := os.WriteFile(bad, []byte("pattern\tprotocols\n\nok.example\tHTTPS\nx.example\tFTP\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCaptured(t, "catalog", "validate", exampleCatalog, bad)
	if code != exitFailure || !strings.Contains(stdout, bad+`:4: protocols: protocol "FTP": unknown name "FTP"`) || !strings.Contains(stderr, "errors in "+bad) {
		t.Errorf("validate bad: exit %d, stdout %q, stderr %q; want %d, %s:4: ...", code, stdout, stderr, exitFailure, bad)
	}
	if code, _, _ := runCaptured(t, "catalog", "validate"); code != exitUsage {
		t.Errorf("validate alone: exit %d; want %d", code, exitUsage)
	}
	pages, _ := filepath.Glob("../../../shared/catalog-sources/*-*.md")
	if len(pages) == 0 {
		t.Log("no shared catalog sources: the pages are not validated here (catalog's TestValidateShippedPages does when they are present)")
		return
	}
	if code, stdout, _ := runCaptured(t, append([]string{"catalog", "validate"}, pages...)...); code != exitOK || strings.Count(stdout, " 0 errors, ") != len(pages) {
		t.Errorf("validate the %d shipped pages: exit %d\n%s", len(pages), code, stdout)
	}
}
