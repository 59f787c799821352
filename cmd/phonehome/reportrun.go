package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
	"github.com/phonehome/phonehome/reports"
)

// reportOptions are the flags that say which report to make of a run and
// where to write it: analyze, report and capture share them.
type reportOptions struct {
	editions string
	build    string
	catalog  string // a user catalog file; wins over build
	format   string
	output   string
	color    string // --color: auto, always or never
}

// reportFlags binds the report flags to opt.
func reportFlags(cmd *cobra.Command, opt *reportOptions) {
	f := cmd.Flags()
	f.StringVar(&opt.editions, "edition", "all", "editions to report: home, pro, education, enterprise, or all (comma-separated); one the build has no page for is named, not reported")
	f.StringVar(&opt.build, "build", "1909", "Windows build whose pages to compare with: 1709 ... 21H2, 11, or a full name ("+strings.Join(catalog.Builds(), ", ")+")")
	f.StringVar(&opt.catalog, "catalog", "", "hold the run against the user catalog in `FILE` (catalog/README.md, User catalogs) instead of --build's pages")
	f.StringVar(&opt.format, "format", "text", "report format: text (terminal), json, csv (one row per edition, list and item), markdown, or html (one self-contained page)")
	f.StringVarP(&opt.output, "output", "o", "", outputHelp)
	f.StringVar(&opt.color, "color", "auto", "colour in the text report: auto (on a terminal, unless NO_COLOR is set), always or never")
}

// textOptions are the text report's width and colours: a terminal's width
// when the report goes to one (not to -o), and colour as --color says:
// auto is colour on a terminal unless the NO_COLOR variable is set
// (no-color.org).
func textOptions(stdout io.Writer, opt reportOptions) (reports.TextOptions, error) {
	var t reports.TextOptions
	term := opt.output == "" && isTerminal(stdout)
	if term {
		t.Width = terminalWidth(stdout)
	}
	switch strings.ToLower(opt.color) {
	case "auto", "": // "": options made in code, not by the flag
		t.Color = term && os.Getenv("NO_COLOR") == ""
	case "always":
		t.Color = true
	case "never":
	default:
		return t, usageError{fmt.Errorf("--color %q: want auto, always or never", opt.color)}
	}
	return t, nil
}

// reportSetup is a report's catalog, editions and renderer, checked before
// any input is read.
type reportSetup struct {
	cat    *catalog.Catalog
	eds    []catalog.Edition
	render func(io.Writer, *reports.Report) error
	output string
}

// prepareReport checks the report flags and loads the catalog; stdout is
// where the report goes without -o (its terminal sets the text report's
// width and colour).
func prepareReport(stdout, stderr io.Writer, opt reportOptions) (*reportSetup, error) {
	eds, err := parseEditions(opt.editions)
	if err != nil {
		return nil, err
	}
	render, ok := renderers[strings.ToLower(opt.format)]
	if !ok {
		return nil, usageError{fmt.Errorf("--format %q: want text, json, csv, markdown or html", opt.format)}
	}
	to, err := textOptions(stdout, opt)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(opt.format, "text") {
		render = func(w io.Writer, rep *reports.Report) error { return reports.TextWith(w, rep, to) }
	}
	cat, err := resolveCatalog(opt.build, opt.catalog)
	if err != nil {
		return nil, usageError{err}
	}
	if err := checkEditions(stderr, cat, eds); err != nil {
		return nil, err
	}
	return &reportSetup{cat: cat, eds: eds, render: render, output: opt.output}, nil
}

// resolveCatalog is the catalog a run is held against: the user catalog
// in file (--catalog) when file is not empty, else the pages of build, by
// its full or short name (loadCatalog). A file that does not parse gives
// its first problem at FILE:LINE and how many more there are; phonehome
// catalog validate lists them all.
func resolveCatalog(build, file string) (*catalog.Catalog, error) {
	if file == "" {
		return loadCatalog(build)
	}
	cat, err := catalog.LoadFile(file)
	if err == nil {
		return cat, nil
	}
	var pe *catalog.ParseError
	if !errors.As(err, &pe) {
		return nil, fmt.Errorf("--catalog: %w", err)
	}
	n := 1
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		n = len(j.Unwrap())
	}
	msg := fmt.Sprintf("--catalog: %s", pe)
	if n > 1 {
		more := "problems: phonehome catalog validate %s lists them"
		if n == 2 {
			more = "problem: phonehome catalog validate %s lists it"
		}
		msg += fmt.Sprintf(" (and %d more "+more+")", n-1, quoteArgs([]string{file}))
	}
	return nil, errors.New(msg)
}

// write compares run with the catalog, writes the report (to stdout, or to
// the -o file), says on stderr where the input was damaged and when nothing
// was in scope, and returns errDamaged or errNothingInScope for the exit
// status.
func (s *reportSetup) write(stdout, stderr io.Writer, run *classify.Run) error {
	for _, d := range run.Damage {
		fmt.Fprintf(stderr, "phonehome: %s %s: %s\n", reports.Terminal(d.File), d.Where(), reports.Terminal(d.Reason))
	}
	rep, err := s.writeReport(stdout, run)
	if err != nil {
		return err
	}
	return exitStatus(stderr, run, rep)
}

// writeReport compares run with the catalog and writes the report: to
// stdout, or to the -o file, written whole beside it and renamed into place,
// so that a reader (or a crash, or an interim report on SIGHUP) never leaves
// half a report there.
func (s *reportSetup) writeReport(stdout io.Writer, run *classify.Run) (*reports.Report, error) {
	rep, err := reports.Compare(run, s.cat, s.eds)
	if err != nil {
		return nil, err
	}
	if err := toOutput(stdout, s.output, func(w io.Writer) error { return s.render(w, rep) }); err != nil {
		return nil, err
	}
	return rep, nil
}

// exitStatus says on stderr when nothing was in scope and when the input
// was damaged, and returns the error that gives the exit status: 3
// (damage) wins over 4 (nothing in scope).
func exitStatus(stderr io.Writer, run *classify.Run, rep *reports.Report) error {
	damaged := len(run.Damage) > 0
	if rep.NothingInScope != "" {
		status := " (exit status 4)"
		if damaged {
			status = ""
		}
		fmt.Fprintf(stderr, "phonehome: warning: %s%s\n", reports.Terminal(rep.NothingInScope), status)
	}
	switch {
	case damaged:
		fmt.Fprintf(stderr, "phonehome: finished on damaged input: the report says where, and what was read of it (exit status 3)\n")
		return errDamaged
	case rep.NothingInScope != "":
		return errNothingInScope
	}
	return nil
}

// parseVM is --vm's value: an IPv4 address, or the zero address for none.
func parseVM(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, usageError{fmt.Errorf("--vm %q: want an IPv4 address such as 192.168.56.10", s)}
	}
	return a, nil
}

// openFlows opens --flows (nothing when path is empty) and sets cfg to
// write every flow to it: a new file, or with keep (a capture resumed from
// its checkpoint) the file as the earlier sessions left it, their flows
// kept and this one's added after them. closeFn flushes and closes it; it
// may be called more than once (later calls return nil), so a command
// defers it for early returns and calls it to check the error.
//
// flush, for a run that lasts, writes the lines buffered so far (on the
// goroutine that writes flows: Config.Poll's), so a reader of the file sees
// them; its errors come back from closeFn as well.
func openFlows(path string, cfg *classify.Config, keep bool) (closeFn, flush func() error, err error) {
	if path == "" {
		none := func() error { return nil }
		return none, none, nil
	}
	var fh *os.File
	if keep {
		fh, err = openFlowsToAppend(path)
	} else {
		fh, err = os.Create(path)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("--flows: %w", err)
	}
	w := reports.NewFlowWriter(fh)
	cfg.OnFlow = w.Write
	closed := false
	return func() error {
		if closed {
			return nil
		}
		closed = true
		err := w.Flush()
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("--flows %s: %w", path, err)
		}
		return nil
	}, w.Flush, nil
}

// openFlowsToAppend opens a --flows file to add lines after those in it.
// A last line cut short (a crash while it was being written) is cut off,
// so every line of the file stays one whole flow.
func openFlowsToAppend(path string) (*os.File, error) {
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, err
	}
	end, err := fh.Seek(0, io.SeekEnd)
	keep := end
	buf := make([]byte, 64<<10)
	for err == nil && keep > 0 {
		n := min(int64(len(buf)), keep)
		if _, err = fh.ReadAt(buf[:n], keep-n); err != nil {
			break
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			keep = keep - n + int64(i) + 1
			break
		}
		keep -= n
	}
	if err == nil && keep < end {
		err = fh.Truncate(keep)
	}
	if err == nil {
		_, err = fh.Seek(keep, io.SeekStart)
	}
	if err != nil {
		fh.Close()
		return nil, err
	}
	return fh, nil
}

// recordMeta is what a run record written now says of its writer, with
// the run's label.
func recordMeta(l runLabel) classify.RecordMeta {
	return classify.RecordMeta{Tool: toolName(debug.ReadBuildInfo()), Written: time.Now(), Label: l.name, Build: l.build, Edition: l.edition}
}

// runLabel is --label: what a run is, kept in its run record for compare.
type runLabel struct{ name, build, edition string }

func (l runLabel) given() bool { return l != runLabel{} }

// or fills each part l leaves empty from d.
func (l runLabel) or(d runLabel) runLabel {
	for _, p := range []struct{ v, d *string }{{&l.name, &d.name}, {&l.build, &d.build}, {&l.edition, &d.edition}} {
		if *p.v == "" {
			*p.v = *p.d
		}
	}
	return l
}

// labelHelp is --label's help text.
const labelHelp = "say what the run is, in its run record: `build=21H1,edition=pro,name=TEXT` (any of the three); compare holds the run against that build's page for that edition"

// parseLabel reads --label: comma-separated key=value pairs, keys build,
// edition and name.
func parseLabel(s string) (runLabel, error) {
	var l runLabel
	if strings.TrimSpace(s) == "" {
		return l, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok || v == "" {
			return l, usageError{fmt.Errorf("--label %q: %q is not key=value; want build=21H1,edition=pro,name=TEXT", s, kv)}
		}
		switch k {
		case "build":
			l.build = v
		case "edition":
			v = strings.ToLower(v)
			if !slices.Contains(editions, catalog.Edition(v)) {
				return l, usageError{fmt.Errorf("--label %q: edition %q: want home, pro, education or enterprise", s, v)}
			}
			l.edition = v
		case "name":
			l.name = v
		default:
			return l, usageError{fmt.Errorf("--label %q: unknown key %q; want build, edition or name", s, k)}
		}
	}
	return l, nil
}

// writeFileAtomic writes path through fill into a temporary file beside
// it, synced, then renames it into place: path holds the old file or the
// new one, never a part of one.
//
// A path that names something other than a regular file (/dev/null,
// /dev/stdout, a FIFO) is written into as it is: a rename would replace
// the device or the pipe with a file.
func writeFileAtomic(path string, fill func(io.Writer) error) error {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return writeInto(path, fill)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing is there
	bw := bufio.NewWriterSize(tmp, 64<<10)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644) // CreateTemp makes it 0600; a report is no secret
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return err
}

// writeInto writes path, which exists and is no regular file, through fill.
func writeInto(path string, fill func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	err = fill(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// outputHelp is -o's help, the same on every command that writes a report.
const outputHelp = "write the report to `FILE` (written whole beside it, then renamed into place) instead of standard output"

// toOutput runs write into the -o file path, atomically (writeFileAtomic),
// or, when path is "", into stdout through a buffer.
func toOutput(stdout io.Writer, path string, write func(io.Writer) error) error {
	if path != "" {
		if err := writeFileAtomic(path, write); err != nil {
			return fmt.Errorf("write report %s: %w", path, err)
		}
		return nil
	}
	// Renderers write in small pieces: one system call each, unbuffered.
	bw := bufio.NewWriterSize(stdout, 64<<10)
	if err := write(bw); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
