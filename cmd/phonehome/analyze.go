package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

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
	label string
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
	f.StringVar(&opt.label, "label", "", "with --save: "+labelHelp)
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
	rep, err := prepareReport(stdout, stderr, opt.reportOptions)
	if err != nil {
		return err
	}
	label, err := parseLabel(opt.label)
	if err != nil {
		return err
	}
	if label.given() && opt.save == "" {
		return usageError{errors.New("--label is kept in the run record: give --save too")}
	}
	cfg := classify.Config{}
	if cfg.VM, err = parseVM(opt.vm); err != nil {
		return err
	}
	closeFlows, _, err := openFlows(opt.flows, &cfg, false)
	if err != nil {
		return err
	}
	defer closeFlows() // closed and checked below; this is for early returns

	run, err := readCaptures(stderr, files, cfg, opt.quiet)
	if err != nil {
		return err
	}
	if err := closeFlows(); err != nil {
		return err
	}
	if opt.save != "" {
		if err := classify.SaveRecord(opt.save, run, recordMeta(label)); err != nil {
			return fmt.Errorf("--save: %w", err)
		}
	}
	return rep.write(stdout, stderr, run)
}

// readCaptures reads files as one capture and classifies it with cfg, with
// a progress line on stderr unless quiet: analyze's path, which compare
// takes for the captures it is given.
func readCaptures(stderr io.Writer, files []string, cfg classify.Config, quiet bool) (*classify.Run, error) {
	src, err := capture.OpenFiles(files, capture.Options{})
	if err != nil {
		return nil, err
	}
	defer src.Close()
	prog := newProgress(stderr, quiet)
	cfg.Inputs = files
	cfg.Progress = func(packets uint64) {
		done, total := src.Progress()
		prog.update(done, total, packets)
	}
	run, err := classify.Analyze(src, cfg)
	prog.done()
	return run, err
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
