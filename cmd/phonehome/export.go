package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
	"github.com/phonehome/phonehome/reports"
)

// exportLists are the lists export --list takes.
var exportLists = []string{"undocumented", "seen", "documented"}

type exportOptions struct {
	list, as       string
	build, edition string
	catalogFile    string
	output         string
	vm             string
	quiet          bool
}

func newExportCmd() *cobra.Command {
	opt := exportOptions{}
	cmd := &cobra.Command{
		Use:   "export --list undocumented|seen|documented --as hosts|dnsmasq|unbound|adblock|pihole [RUN|DIR|CAPTURE...]",
		Short: "Write a run's names, or a page's patterns, as a block list",
		Long: `export writes a block list: --list undocumented, the names the run contacted that
the edition's page does not document; seen, every name it contacted; documented,
the page's patterns. --as says the format: hosts (0.0.0.0 NAME), dnsmasq
(address=/NAME/0.0.0.0), unbound (local-zone: "NAME." always_nxdomain), adblock
(||NAME^) or pihole (one name a line).

The run is a run record (analyze --save), a checkpoint directory (capture
--checkpoint), or captures, read as analyze reads them. --list documented needs
none: the patterns are the page's.

The page: --catalog FILE, else --build and --edition when given, else the run
record's label (analyze --save --label), else 1909 and pro. The list's header
says which, and which run, and how the format says patterns: dnsmasq, unbound
and adblock block a name and every name below it, so an exact name there also
blocks its subdomains and *.NAME also NAME itself; hosts and pihole hold exact
names. What a format cannot say (a path, a star inside a label) is a comment
that says why, never left out silently.

Names come from packets: one that is no plain host name (a space, a newline,
'#', '/', a quote, bytes outside ASCII, an address, a single label, a public
suffix such as co.uk) is refused: left out, counted in the list, shown quoted
in a comment at its end and named on stderr.

Exit status: as report: 0 success; 1 failure (the run cannot be read, the
output cannot be written); 2 usage error; 3 the run read damaged input; 4
nothing was in scope. 3 wins over 4.`,
		Example: `  phonehome export --list undocumented --as hosts week.json.gz >> /etc/hosts
  phonehome export --list seen --as dnsmasq -o /etc/dnsmasq.d/windows.conf /var/lib/phonehome/virbr0
  phonehome export --list documented --as unbound --build 21H2 --edition enterprise
  phonehome export --list undocumented --as adblock --edition pro capture.pcapng`,
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			return export(cmd.OutOrStdout(), cmd.ErrOrStderr(), args, opt, f.Changed("build"), f.Changed("edition"))
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.list, "list", "undocumented", "what to list: undocumented, seen or documented")
	f.StringVar(&opt.as, "as", "hosts", "list format: "+strings.Join(reports.BlockFormats, ", "))
	f.StringVar(&opt.build, "build", "1909", "build whose page to hold the run against (default: the run record's label, else 1909): 1709 ... 21H2, 11, or a full name")
	f.StringVar(&opt.edition, "edition", "pro", "edition whose page to hold the run against (default: the run record's label, else pro): home, pro, education or enterprise")
	f.StringVar(&opt.catalogFile, "catalog", "", "hold the run against the user catalog in `FILE` instead of --build's pages")
	f.StringVarP(&opt.output, "output", "o", "", outputHelp)
	f.StringVar(&opt.vm, "vm", "", "IPv4 address of the Windows VM in the captures given (default: the local address that starts the most flows)")
	f.BoolVarP(&opt.quiet, "quiet", "q", false, "no progress line on stderr while captures are read")
	registerExportCompletions(cmd)
	return cmd
}

func export(stdout, stderr io.Writer, args []string, opt exportOptions, buildGiven, editionGiven bool) error {
	list := strings.ToLower(opt.list)
	if !slices.Contains(exportLists, list) {
		return usageError{fmt.Errorf("--list %q: want %s", opt.list, strings.Join(exportLists, ", "))}
	}
	format := strings.ToLower(opt.as)
	if !slices.Contains(reports.BlockFormats, format) {
		return usageError{fmt.Errorf("--as %q: want %s", opt.as, strings.Join(reports.BlockFormats, ", "))}
	}
	if len(args) == 0 && list != "documented" {
		return usageError{fmt.Errorf("export --list %s needs a run: a run record, a checkpoint directory or captures", list)}
	}
	var user *catalog.Catalog
	if opt.catalogFile != "" {
		var err error
		if user, err = resolveCatalog("", opt.catalogFile); err != nil {
			return usageError{err}
		}
	}
	cfg := classify.Config{}
	var err error
	if cfg.VM, err = parseVM(opt.vm); err != nil {
		return err
	}
	given := runLabel{}
	if buildGiven {
		given.build = opt.build
	}
	if editionGiven {
		given.edition = strings.ToLower(opt.edition)
	}
	ra := runArg{name: strings.Join(args, ", "), files: args}
	def := runLabel{build: "1909", edition: "pro"}
	// The page of captures (or of no run) is known now: a wrong one is said
	// before the captures are read.
	record := len(args) == 1 && isRecord(args[0])
	tg, err := exportPage(classify.RecordMeta{}, given, def, user)
	if err != nil && !record {
		return err
	}
	var run *classify.Run
	if len(args) > 0 {
		var meta classify.RecordMeta
		if run, meta, err = loadRun(stderr, ra, cfg, opt.quiet); err != nil {
			return err
		}
		for _, d := range run.Damage {
			fmt.Fprintf(stderr, "phonehome: %s %s: %s\n", reports.Terminal(d.File), d.Where(), reports.Terminal(d.Reason))
		}
		if tg, err = exportPage(meta, given, def, user); err != nil {
			return err
		}
	}

	bl := reports.BlockList{Format: format}
	var rep *reports.Report
	if run != nil {
		if rep, err = reports.Compare(run, tg.cat, []catalog.Edition{tg.ed}); err != nil {
			return err
		}
	}
	switch list {
	case "documented":
		for _, en := range tg.cat.ForEdition(tg.ed) {
			bl.Patterns = append(bl.Patterns, en.Pattern)
		}
	case "undocumented":
		for _, u := range rep.Editions[0].Undocumented {
			bl.Names = append(bl.Names, u.Name)
		}
	case "seen":
		set := map[string]bool{}
		for _, s := range rep.Editions[0].DocumentedSeen {
			for _, n := range s.Names {
				set[n] = true
			}
		}
		for _, u := range rep.Editions[0].Undocumented {
			set[u.Name] = true
		}
		for n := range set {
			bl.Names = append(bl.Names, n)
		}
		slices.Sort(bl.Names)
	}
	bl.Header = exportHeader(list, format, args, run, tg)

	var st reports.BlockStats
	write := func(w io.Writer) error {
		var err error
		st, err = reports.WriteBlockList(w, bl)
		return err
	}
	if err := toOutput(stdout, opt.output, write); err != nil {
		return err
	}
	for _, r := range st.Refused {
		fmt.Fprintf(stderr, "phonehome: export: refused %s: %s\n", strconv.QuoteToASCII(r.Name), r.Why)
	}
	summary := fmt.Sprintf("%d %s entries", st.Entries, format)
	if len(bl.Patterns) > 0 {
		summary += fmt.Sprintf("; %d patterns %s cannot say (comments at the end of the list)", len(st.NotExpressible), format)
	}
	if run != nil {
		summary += fmt.Sprintf("; %d names refused", len(st.Refused))
	}
	fmt.Fprintf(stderr, "phonehome: export: %s\n", summary)
	if run == nil {
		return nil
	}
	return exitStatus(stderr, run, rep)
}

// exportTarget is the page a list is made against and how it was chosen.
type exportTarget struct {
	cat  *catalog.Catalog
	ed   catalog.Edition
	from string // "build from the run record, edition by default"
}

// exportPage is the page the run is held against: --catalog's when user is
// not nil, else --build's; the edition of --edition; each, when not given,
// from the run record's label, else def's.
func exportPage(meta classify.RecordMeta, given, def runLabel, user *catalog.Catalog) (exportTarget, error) {
	build, edition := def.build, def.edition
	var from []string
	pick := func(v *string, rec, flag, what, name string) {
		switch {
		case flag != "":
			*v = flag
			from = append(from, what+" from "+name)
		case rec != "":
			*v = rec
			from = append(from, what+" from the run record")
		default:
			from = append(from, what+" by default")
		}
	}
	pick(&build, meta.Build, given.build, "build", "--build")
	pick(&edition, meta.Edition, given.edition, "edition", "--edition")
	t := exportTarget{cat: user, ed: catalog.Edition(strings.ToLower(edition))}
	if user != nil {
		from[0] = "page from --catalog"
	} else {
		var err error
		if t.cat, err = loadCatalog(build); err != nil {
			return t, usageError{err}
		}
	}
	t.from = strings.Join(from, ", ")
	if !slices.Contains(t.cat.Editions(), t.ed) {
		var have []string
		for _, e := range t.cat.Editions() {
			have = append(have, string(e))
		}
		return t, usageError{fmt.Errorf("%s has no page for %s (%s); it has pages for %s: give one with --edition",
			catalog.BuildTitle(t.cat.Build), t.ed, t.from, strings.Join(have, ", "))}
	}
	return t, nil
}

// exportHeader is what a list says of itself at its top.
func exportHeader(list, format string, args []string, run *classify.Run, tg exportTarget) []string {
	what := map[string]string{
		"undocumented": "the names the run contacted that the page does not document",
		"seen":         "every name the run contacted, documented or not (names of an ambiguous set, a flow's address that several names resolved to, are not listed; nor CNAME targets)",
		"documented":   "the page's patterns",
	}[list]
	h := []string{
		fmt.Sprintf("phonehome export --list %s --as %s: %s", list, format, what),
		"written by " + toolName(debug.ReadBuildInfo()),
	}
	page := catalog.BuildTitle(tg.cat.Build) + " connection endpoints"
	if tg.cat.Source != "" {
		page = "catalog " + tg.cat.Build + " (" + tg.cat.Source + ")"
	}
	h = append(h, fmt.Sprintf("page: %s, edition %s (%s)", page, tg.ed, tg.from))
	if run == nil {
		return append(h, "run: none (the page's patterns need none)")
	}
	h = append(h, "run: "+strings.Join(args, " "))
	if len(run.Inputs) > 0 && !slices.Equal(run.Inputs, args) {
		h = append(h, "  captures: "+strings.Join(run.Inputs, " "))
	}
	if !run.First.IsZero() {
		vm := ""
		if run.VM.IsValid() {
			vm = ", VM " + run.VM.String()
		}
		h = append(h, fmt.Sprintf("  span: %s to %s UTC%s", run.First.UTC().Format("2006-01-02 15:04:05"), run.Last.UTC().Format("2006-01-02 15:04:05"), vm))
	}
	return h
}

func registerExportCompletions(cmd *cobra.Command) {
	must := func(err error) {
		if err != nil {
			panic(err) // a flag name misspelt here: a bug, found by the tests
		}
	}
	fixed := func(values []string) func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return matching(values, "", toComplete), cobra.ShellCompDirectiveNoFileComp
		}
	}
	var eds []string
	for _, e := range editions {
		eds = append(eds, string(e))
	}
	must(cmd.RegisterFlagCompletionFunc("list", fixed(exportLists)))
	must(cmd.RegisterFlagCompletionFunc("as", fixed(reports.BlockFormats)))
	must(cmd.RegisterFlagCompletionFunc("edition", fixed(eds)))
	must(cmd.RegisterFlagCompletionFunc("build", completeBuild))
}
