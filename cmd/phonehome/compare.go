package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
	"github.com/phonehome/phonehome/reports"
)

// errRegression is returned by compare when it found what --fail-on asks
// about (exit status 6).
var errRegression = errors.New("regression found")

type compareOptions struct {
	build, edition string
	catalogFile    string // --catalog: every run against this catalog
	format, output string
	runs           []string // --run NAME=FILE,FILE
	labels         []string // --label-of RUN=build=...,edition=...,name=...
	failOn         string
	fold           bool
	ratio          float64
	minFlows       int
	vm             string
	quiet          bool
}

func newCompareCmd() *cobra.Command {
	opt := compareOptions{}
	cmd := &cobra.Command{
		Use:   "compare A B [C...]",
		Short: "Compare runs: what changed between builds, editions or weeks (the regression report)",
		Long: `compare holds each run against its own build's page for its edition (as report
does) and prints the differences between those reports, from the first run to
the last: endpoints contacted in one and not the other, documented patterns that
became seen or stopped being seen, names that moved between documented and
undocumented (because the traffic changed or because the page did), protocol
changes, flows and bytes per day that changed by --ratio or more, and the
page's changes between the two builds. With three runs or more it also prints
a matrix of every endpoint in every run, changed rows first.

Each argument is a run: a run record (analyze --save), a checkpoint directory
(capture --checkpoint), or a capture file or directory, read as analyze reads it.
A run made of several capture files is --run NAME=FILE,FILE; the --run runs come
after the arguments, in the order given.

Each run's build and edition: --label-of RUN=build=21H1,edition=pro,name=TEXT
(RUN is the run's position from 1, or the argument as given, or --run's NAME), else its run record's label
(analyze --save --label), else --build and --edition. Names and patterns are
compared by endpoint: lower case, without the wildcards at either end, so
*.wns.windows.com and wns.windows.com are one; a CNAME target is counted under
the name that led to it; --fold-numbered also folds numbered load-balanced
labels (v10c and v20.events.data.microsoft.com are v#.events...).

--fail-on new|new-undocumented|gone|any (comma-separated) makes compare exit
with status 6 when it finds that from the first run to the last: an endpoint
contacted that was not before; one of those the page does not document; an
endpoint no longer contacted; any change at all (page and matrix included).

Exit status: 0 success (whatever changed, without --fail-on); 1 failure (a run
cannot be read, an output that cannot be written); 2 usage error; 3 a run read
damaged input; 6 --fail-on found what it asks about (6 wins over 3).`,
		Example: `  phonehome compare week1.json.gz week2.json.gz
  phonehome compare --fail-on new-undocumented baseline.json.gz /var/lib/phonehome
  phonehome compare --label-of 1=build=1909 --label-of 2=build=21H1 old.pcapng new.pcapng
  phonehome compare --run monday=a.pcap,b.pcap --run tuesday=c.pcap --format markdown
  phonehome compare --format html -o matrix.html 1909.json.gz 2004.json.gz 21H1.json.gz`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return compare(cmd.OutOrStdout(), cmd.ErrOrStderr(), args, opt)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.build, "build", "1909", "build of the runs whose record and --label-of do not say: 1709 ... 21H2, 11, or a full name")
	f.StringVar(&opt.catalogFile, "catalog", "", "hold every run against the catalog in `FILE` (phonehome's user catalog format) instead of its build's page: the changes are then Windows' alone")
	f.StringVar(&opt.edition, "edition", "pro", "edition of the runs whose record and --label-of do not say: home, pro, education or enterprise")
	f.StringVar(&opt.format, "format", "text", "report format: text, json, markdown, or html (one self-contained page)")
	f.StringVarP(&opt.output, "output", "o", "", outputHelp)
	f.StringArrayVar(&opt.runs, "run", nil, "a run made of several captures: `NAME=FILE,FILE` (repeatable; after the arguments)")
	f.StringArrayVar(&opt.labels, "label-of", nil, "say what a run is: `RUN=LABEL`, RUN its position from 1, the argument as given or --run's NAME, LABEL as analyze's --label: build=21H1,edition=pro,name=TEXT (repeatable; wins over the run record's label)")
	f.StringVar(&opt.failOn, "fail-on", "", "exit with status 6 when the comparison finds `WHAT`: new, new-undocumented, gone or any (comma-separated)")
	f.BoolVar(&opt.fold, "fold-numbered", false, "fold numbered load-balanced first labels: v10c and v20.events.data.microsoft.com are v#.events.data.microsoft.com (the report states the rule)")
	f.Float64Var(&opt.ratio, "ratio", reports.DefaultRatio, "report an endpoint's flows or bytes per day when they change by this factor or more")
	f.IntVar(&opt.minFlows, "min-flows", reports.DefaultMinFlows, "with --ratio: only when the busier run has at least this many flows of the endpoint")
	f.StringVar(&opt.vm, "vm", "", "IPv4 address of the Windows VM in the captures given (default: the local address that starts the most flows)")
	f.BoolVarP(&opt.quiet, "quiet", "q", false, "no progress line on stderr while captures are read")
	registerCompareCompletions(cmd)
	return cmd
}

// compareRenderers are the formats compare's --format takes.
var compareRenderers = map[string]func(io.Writer, *reports.Regression) error{
	"text":     reports.RegressionText,
	"json":     reports.RegressionJSON,
	"markdown": reports.RegressionMarkdown,
	"html":     reports.RegressionHTML,
}

// runArg is one run as given: its files and the name it goes by.
type runArg struct {
	name  string
	files []string
	named bool // by --run
}

func compare(stdout, stderr io.Writer, args []string, opt compareOptions) error {
	render, ok := compareRenderers[strings.ToLower(opt.format)]
	if !ok {
		return usageError{fmt.Errorf("--format %q: want text, json, markdown or html", opt.format)}
	}
	failOn, err := parseFailOn(opt.failOn)
	if err != nil {
		return err
	}
	if opt.ratio <= 1 {
		return usageError{fmt.Errorf("--ratio %v: want a factor above 1, such as 2", opt.ratio)}
	}
	if opt.minFlows < 1 {
		return usageError{fmt.Errorf("--min-flows %d: want 1 or more", opt.minFlows)}
	}
	var list []runArg
	for _, a := range args {
		list = append(list, runArg{name: a, files: []string{a}})
	}
	for _, r := range opt.runs {
		name, files, ok := strings.Cut(r, "=")
		if !ok || name == "" || files == "" {
			return usageError{fmt.Errorf("--run %q: want NAME=FILE,FILE", r)}
		}
		list = append(list, runArg{name: name, files: strings.Split(files, ","), named: true})
	}
	if len(list) < 2 {
		return usageError{fmt.Errorf("compare needs two runs or more; have %d", len(list))}
	}
	labels, err := parseLabelsOf(opt.labels, list)
	if err != nil {
		return err
	}
	def := runLabel{build: opt.build, edition: strings.ToLower(opt.edition)}
	if !slices.Contains(editions, catalog.Edition(def.edition)) {
		return usageError{fmt.Errorf("--edition %q: want home, pro, education or enterprise", opt.edition)}
	}
	if _, err := loadCatalog(def.build); err != nil {
		return usageError{err}
	}
	var user *catalog.Catalog // --catalog's, for every run
	if opt.catalogFile != "" {
		if user, err = resolveCatalog("", opt.catalogFile); err != nil {
			return usageError{err}
		}
	}
	cfg := classify.Config{}
	if cfg.VM, err = parseVM(opt.vm); err != nil {
		return err
	}

	// The page of a run read from captures is known now: a wrong one is
	// said before the captures are read.
	for i, ra := range list {
		if len(ra.files) != 1 || !isRecord(ra.files[0]) {
			if _, err := labelRun(i, ra, classify.RecordMeta{}, labels[i], def, user); err != nil {
				return err
			}
		}
	}
	var runs []reports.RegressRun
	damaged := false
	for i, ra := range list {
		run, meta, err := loadRun(stderr, ra, cfg, opt.quiet)
		if err != nil {
			return fmt.Errorf("run %d (%s): %w", i+1, ra.name, err)
		}
		for _, d := range run.Damage {
			fmt.Fprintf(stderr, "phonehome: run %d: %s %s: %s\n", i+1, reports.Terminal(d.File), d.Where(), reports.Terminal(d.Reason))
			damaged = true
		}
		rr, err := labelRun(i, ra, meta, labels[i], def, user)
		if err != nil {
			return err
		}
		rr.Run = run
		runs = append(runs, rr)
	}
	reg, err := reports.Regress(runs, reports.RegressOptions{FoldNumbered: opt.fold, Ratio: opt.ratio, MinFlows: opt.minFlows})
	if err != nil {
		return err
	}
	if err := toOutput(stdout, opt.output, func(w io.Writer) error { return render(w, reg) }); err != nil {
		return err
	}
	var found []string
	for _, what := range failOn {
		if reg.Finds(what) {
			found = append(found, what)
		}
	}
	switch {
	case len(found) > 0:
		fmt.Fprintf(stderr, "phonehome: --fail-on: found %s from run %d to run %d (exit status 6)\n",
			strings.Join(found, ", "), reg.Changes.From+1, reg.Changes.To+1)
		return errRegression
	case damaged:
		fmt.Fprintf(stderr, "phonehome: finished on damaged input: each run's own report says where (exit status 3)\n")
		return errDamaged
	}
	return nil
}

// parseFailOn reads --fail-on: comma-separated reports.FindKinds.
func parseFailOn(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []string
	for _, w := range strings.Split(s, ",") {
		w = strings.ToLower(strings.TrimSpace(w))
		if !slices.Contains(reports.FindKinds, w) {
			return nil, usageError{fmt.Errorf("--fail-on %q: want %s (comma-separated)", w, strings.Join(reports.FindKinds, ", "))}
		}
		out = append(out, w)
	}
	return out, nil
}

// parseLabelsOf reads each --label-of RUN=LABEL into the label of the run
// it names: by position from 1, else by name (the argument or --run NAME).
func parseLabelsOf(values []string, list []runArg) ([]runLabel, error) {
	out := make([]runLabel, len(list))
	for _, v := range values {
		which, label, ok := strings.Cut(v, "=")
		if !ok {
			return nil, usageError{fmt.Errorf("--label-of %q: want RUN=build=21H1,edition=pro,name=TEXT", v)}
		}
		i := -1
		if n, err := strconv.Atoi(which); err == nil {
			if n < 1 || n > len(list) {
				return nil, usageError{fmt.Errorf("--label-of %q: run %d: there are %d runs", v, n, len(list))}
			}
			i = n - 1
		} else {
			for j, ra := range list {
				if ra.name == which {
					i = j
					break
				}
			}
			if i < 0 {
				return nil, usageError{fmt.Errorf("--label-of %q: no run is called %q; give its position from 1", v, which)}
			}
		}
		l, err := parseLabel(label)
		if err != nil {
			return nil, usageError{fmt.Errorf("--label-of %q: %w", v, err)}
		}
		out[i] = l
	}
	return out, nil
}

// labelRun settles the run's name, build and edition: --label-of, else the
// run record's label, else the defaults. The run is held against its build's
// page, or against user (--catalog) when that is not nil.
func labelRun(i int, ra runArg, meta classify.RecordMeta, given, def runLabel, user *catalog.Catalog) (reports.RegressRun, error) {
	rr := reports.RegressRun{Name: ra.name}
	build, edition := def.build, def.edition
	from := []string{}
	// pick sets v from --label-of, else the record, and says which; false
	// for the default.
	pick := func(v *string, rec, flag, what string) bool {
		switch {
		case flag != "":
			*v = flag
			from = append(from, what+" from --label-of")
		case rec != "":
			*v = rec
			from = append(from, what+" from the run record")
		default:
			from = append(from, what+" by default")
			return false
		}
		return true
	}
	buildSaid := pick(&build, meta.Build, given.build, "build")
	pick(&edition, meta.Edition, given.edition, "edition")
	if user != nil {
		from[0] = "page from --catalog" // the build does not choose it
	}
	switch {
	case given.name != "":
		rr.Name = given.name
	case meta.Label != "" && !ra.named:
		rr.Name = meta.Label
	}
	rr.LabelFrom = strings.Join(from, ", ")
	cat := user
	if cat == nil {
		var err error
		if cat, err = loadCatalog(build); err != nil {
			if buildSaid {
				// Not --build's: say where the build came from.
				err = fmt.Errorf("%s %q: no pages for that build; have %s; give one with --label-of %d=build=B",
					from[0], build, strings.Join(catalog.Builds(), ", "), i+1)
			}
			return rr, usageError{fmt.Errorf("run %d (%s): %w", i+1, ra.name, err)}
		}
	}
	rr.Catalog, rr.Edition = cat, catalog.Edition(strings.ToLower(edition))
	if !slices.Contains(cat.Editions(), rr.Edition) {
		var have []string
		for _, e := range cat.Editions() {
			have = append(have, string(e))
		}
		return rr, usageError{fmt.Errorf("run %d (%s): %s has no page for %s; it has pages for %s: give one with --label-of %d=edition=%s",
			i+1, ra.name, catalog.BuildTitle(cat.Build), rr.Edition, strings.Join(have, ", "), i+1, have[0])}
	}
	return rr, nil
}

// loadRun reads one run: a run record or checkpoint directory when it is
// one path that holds one, else captures, read as analyze reads them.
func loadRun(stderr io.Writer, ra runArg, cfg classify.Config, quiet bool) (*classify.Run, classify.RecordMeta, error) {
	if len(ra.files) == 1 && isRecord(ra.files[0]) {
		return classify.LoadRecord(ra.files[0])
	}
	run, err := readCaptures(stderr, ra.files, cfg, quiet)
	return run, classify.RecordMeta{}, err
}

// isRecord says whether path is a run record (its first byte, after gzip,
// is '{', where a capture starts with its magic number) or a checkpoint
// directory (it holds classify.CheckpointName).
func isRecord(path string) bool {
	st, err := os.Stat(path)
	if err != nil {
		return false // the reader says what is wrong
	}
	if st.IsDir() {
		_, err := os.Stat(filepath.Join(path, classify.CheckpointName))
		return err == nil
	}
	if !st.Mode().IsRegular() {
		return false // a FIFO is read once: as a capture
	}
	fh, err := os.Open(path)
	if err != nil {
		return false
	}
	defer fh.Close()
	br := bufio.NewReader(fh)
	in := io.Reader(br)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return false
		}
		defer zr.Close()
		in = zr
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(in, head)
	head = bytes.TrimLeft(head[:n], " \t\r\n")
	return len(head) > 0 && head[0] == '{'
}
