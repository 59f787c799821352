package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
	"github.com/phonehome/phonehome/reports"
)

type analyzeOptions struct {
	reportOptions
	vm    string
	flows string
	save  string
	quiet bool
}

func newAnalyzeCmd() *cobra.Command {
	opt := analyzeOptions{}
	cmd := &cobra.Command{
		Use:   "analyze CAPTURE...",
		Short: "Report what a capture shows against the documented endpoints",
		Long: `analyze reads pcap and pcapng captures: files, compressed (gzip, zstd, xz, bzip2,
lz4) or not, directories of them, and streams ("-" for standard input, FIFOs).
All inputs are one capture, merged by time; a packet given twice is counted
once. It prints, for each edition, the documented
endpoints seen, those not seen, the names seen but not documented, and the public
addresses no evidence named. Traffic outside the pages' method (IPv6, private
destinations, flows the VM did not start, non-IP, undecodable frames, IPv4
fragments after the first) is counted by reason. An edition the build has no
page for (21H2 has an Enterprise page only) is named, not reported. When no flow
was in scope, stderr and the top of the report say why.

Exit status: 0 success; 1 failure (nothing could be analysed, an output that
cannot be written); 2 usage error; 3 finished, but some input was damaged or
could not be read (the report says where, and what was read of it); 4 finished,
but nothing was in scope (no IPv4 flow started by the VM towards a public
address). 3 wins over 4.`,
		Example: `  phonehome analyze testdata/sample/idle-1909.pcapng
  phonehome analyze --vm 192.168.56.10 --edition pro week/*.pcap.gz
  phonehome analyze --format json --flows flows.jsonl capture.pcapng
  phonehome analyze --save week.json.gz -o week.txt week/*.pcapng.gz`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("analyze needs at least one capture file")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return analyze(cmd.OutOrStdout(), cmd.ErrOrStderr(), args, opt)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.vm, "vm", "", "IPv4 address of the Windows VM (default: the local address that starts the most flows)")
	reportFlags(cmd, &opt.reportOptions)
	f.StringVar(&opt.flows, "flows", "", "also write every IPv4 flow to `FILE` as JSON lines")
	f.StringVar(&opt.save, "save", "", "also write the run record to `FILE` (gzipped when it ends in .gz), for phonehome report")
	f.BoolVarP(&opt.quiet, "quiet", "q", false, "no progress line on stderr (it is shown only when stderr is a terminal)")
	registerCompletions(cmd)
	return cmd
}

// renderers are the report formats --format takes.
var renderers = map[string]func(io.Writer, *reports.Report) error{
	"text":     reports.Text,
	"json":     reports.JSON,
	"csv":      reports.CSV,
	"markdown": reports.Markdown,
	"html":     reports.HTML,
}

// editions are the editions --edition takes, in report order.
var editions = []catalog.Edition{catalog.Home, catalog.Pro, catalog.Education, catalog.Enterprise}

// loadCatalog loads a build by its full name or its short one ("1909", "11").
func loadCatalog(build string) (*catalog.Catalog, error) {
	for _, name := range []string{build, "windows-10-" + build, "windows-" + build} {
		for _, b := range catalog.Builds() {
			if strings.EqualFold(b, name) {
				return catalog.Load(b)
			}
		}
	}
	return nil, fmt.Errorf("--build %q: no pages for that build; have %s", build, strings.Join(catalog.Builds(), ", "))
}

// parseEditions turns the --edition value into editions, in the catalog's order.
func parseEditions(v string) ([]catalog.Edition, error) {
	want := map[catalog.Edition]bool{}
	for _, s := range strings.Split(v, ",") {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "all" {
			for _, e := range editions {
				want[e] = true
			}
			continue
		}
		e := catalog.Edition(s)
		if !slices.Contains(editions, e) {
			return nil, usageError{fmt.Errorf("--edition %q: want home, pro, education, enterprise or all", s)}
		}
		want[e] = true
	}
	var list []catalog.Edition
	for _, e := range editions {
		if want[e] {
			list = append(list, e)
		}
	}
	return list, nil
}

func analyze(stdout, stderr io.Writer, files []string, opt analyzeOptions) error {
	rep, err := prepareReport(stderr, opt.reportOptions)
	if err != nil {
		return err
	}
	cfg := classify.Config{}
	if opt.vm != "" {
		a, err := netip.ParseAddr(opt.vm)
		if err != nil || !a.Is4() {
			return usageError{fmt.Errorf("--vm %q: want an IPv4 address such as 192.168.56.10", opt.vm)}
		}
		cfg.VM = a
	}

	var flowOut *reports.FlowWriter
	var flowFile *os.File
	if opt.flows != "" {
		fh, err := os.Create(opt.flows)
		if err != nil {
			return fmt.Errorf("--flows: %w", err)
		}
		defer fh.Close() // closed and checked below; this is for early returns
		flowFile = fh
		flowOut = reports.NewFlowWriter(fh)
		cfg.OnFlow = flowOut.Write
	}

	src, err := capture.OpenFiles(files, capture.Options{})
	if err != nil {
		return err
	}
	defer src.Close()
	prog := newProgress(stderr, opt.quiet)
	cfg.Inputs = files
	cfg.Progress = func(packets uint64) {
		done, total := src.Progress()
		prog.update(done, total, packets)
	}
	run, err := classify.Analyze(src, cfg)
	prog.done()
	if err != nil {
		return err
	}
	if flowOut != nil {
		if err := flowOut.Flush(); err != nil {
			return fmt.Errorf("--flows %s: %w", opt.flows, err)
		}
		if err := flowFile.Close(); err != nil {
			return fmt.Errorf("--flows %s: %w", opt.flows, err)
		}
	}
	if opt.save != "" {
		meta := classify.RecordMeta{Tool: toolName(debug.ReadBuildInfo()), Written: time.Now()}
		if err := classify.SaveRecord(opt.save, run, meta); err != nil {
			return fmt.Errorf("--save: %w", err)
		}
	}
	return rep.write(stdout, stderr, run)
}

// reportOptions are the flags that say which report to make of a run and
// where to write it: analyze, report and capture share them.
type reportOptions struct {
	editions string
	build    string
	format   string
	output   string
}

// reportFlags binds the report flags to opt.
func reportFlags(cmd *cobra.Command, opt *reportOptions) {
	f := cmd.Flags()
	f.StringVar(&opt.editions, "edition", "all", "editions to report: home, pro, education, enterprise, or all (comma-separated); one the build has no page for is named, not reported")
	f.StringVar(&opt.build, "build", "1909", "Windows build whose pages to compare with: 1709 ... 21H2, 11, or a full name ("+strings.Join(catalog.Builds(), ", ")+")")
	f.StringVar(&opt.format, "format", "text", "report format: text (terminal), json, csv (one row per edition, list and item), markdown, or html (one self-contained page)")
	f.StringVarP(&opt.output, "output", "o", "", "write the report to `FILE` instead of standard output")
}

// reportSetup is a report's catalog, editions and renderer, checked before
// any input is read.
type reportSetup struct {
	cat    *catalog.Catalog
	eds    []catalog.Edition
	render func(io.Writer, *reports.Report) error
	output string
}

// prepareReport checks the report flags and loads the catalog.
func prepareReport(stderr io.Writer, opt reportOptions) (*reportSetup, error) {
	eds, err := parseEditions(opt.editions)
	if err != nil {
		return nil, err
	}
	render, ok := renderers[strings.ToLower(opt.format)]
	if !ok {
		return nil, usageError{fmt.Errorf("--format %q: want text, json, csv, markdown or html", opt.format)}
	}
	cat, err := loadCatalog(opt.build)
	if err != nil {
		return nil, usageError{err}
	}
	if err := checkEditions(stderr, cat, eds); err != nil {
		return nil, err
	}
	return &reportSetup{cat: cat, eds: eds, render: render, output: opt.output}, nil
}

// write compares run with the catalog, writes the report (to stdout, or to
// the -o file), says on stderr where the input was damaged and when nothing
// was in scope, and returns errDamaged or errNothingInScope for the exit
// status.
func (s *reportSetup) write(stdout, stderr io.Writer, run *classify.Run) error {
	for _, d := range run.Damage {
		fmt.Fprintf(stderr, "phonehome: %s %s: %s\n", reports.Terminal(d.File), d.Where(), reports.Terminal(d.Reason))
	}
	rep, err := reports.Compare(run, s.cat, s.eds)
	if err != nil {
		return err
	}
	dst := stdout
	var file *os.File
	if s.output != "" {
		file, err = os.Create(s.output)
		if err != nil {
			return fmt.Errorf("-o: %w", err)
		}
		defer file.Close() // closed and checked below; this is for early returns
		dst = file
	}
	// Renderers write in small pieces: one system call each, unbuffered.
	out := bufio.NewWriterSize(dst, 64<<10)
	if err := s.render(out, rep); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if file != nil {
		if err := file.Close(); err != nil {
			return fmt.Errorf("write report %s: %w", s.output, err)
		}
	}
	// Exit status 3 (damage) wins over 4 (nothing in scope); both are said.
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

// checkEditions holds the editions asked for against those the build has a
// page for (21H2 has an Enterprise page only), before any capture is read.
// None: a usage error. Some: the others are named on stderr; the report
// names them too (reports.Report.EditionsWithoutPage).
func checkEditions(stderr io.Writer, cat *catalog.Catalog, eds []catalog.Edition) error {
	have := cat.Editions()
	var with, without []string
	for _, e := range eds {
		if slices.Contains(have, e) {
			with = append(with, string(e))
		} else {
			without = append(without, string(e))
		}
	}
	switch {
	case len(without) == 0:
		return nil
	case len(with) == 0:
		pages := make([]string, len(have))
		for i, e := range have {
			pages[i] = string(e)
		}
		return usageError{fmt.Errorf("--edition %s: %s has no page for %s; it has pages for %s: ask for one of those, or another --build",
			strings.Join(without, ","), catalog.BuildTitle(cat.Build), strings.Join(without, ", "), strings.Join(pages, ", "))}
	}
	fmt.Fprintf(stderr, "phonehome: %s has no page for %s: reporting %s only\n", catalog.BuildTitle(cat.Build), strings.Join(without, ", "), strings.Join(with, ", "))
	return nil
}
