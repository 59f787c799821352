package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/reports"
)

func newCatalogCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "List, show, diff and validate the endpoint catalogs",
		Long: `catalog works on the endpoint data phonehome holds runs against: Microsoft's
pages per build (embedded, see catalog/README.md) and user catalogs (a TSV file
of one's own, given with --catalog; its format is in the README, User catalogs).`,
	}
	cmd.AddCommand(newCatalogListCmd(), newCatalogShowCmd(), newCatalogDiffCmd(), newCatalogValidateCmd())
	return cmd
}

// checkFormat is a usage error unless --format v is one of want.
func checkFormat(v string, want ...string) (string, error) {
	v = strings.ToLower(v)
	if !slices.Contains(want, v) {
		return "", usageError{fmt.Errorf("--format %q: want %s", v, strings.Join(want, ", "))}
	}
	return v, nil
}

// writeJSON writes v indented, as the JSON report is.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// sourceRefs are the rows of an endpoint as FILE:LINE.
func sourceRefs(es []catalog.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.File + ":" + strconv.Itoa(e.Line)
	}
	return out
}

func protocolList(ps []catalog.Protocol) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// --- list

type listPage struct {
	File   string `json:"file"`
	Commit string `json:"commit"`
	// Listed: "enterprise" for the Enterprise page, else the edition whose
	// section of the page the rows come from.
	Listed string `json:"listed"`
}

type listEdition struct {
	Edition   string     `json:"edition"`
	Endpoints int        `json:"endpoints"` // patterns, as analyze counts them
	Rows      int        `json:"rows"`      // data rows, a pattern once per page section
	Pages     []listPage `json:"pages"`     // own section first, then the Enterprise base
}

type listBuild struct {
	Build    string        `json:"build"`
	Title    string        `json:"title"`
	Editions []listEdition `json:"editions"`
}

func newCatalogListCmd() *cobra.Command {
	var format, output string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the builds, their editions, endpoint counts and source pages",
		Long: `list prints every build phonehome has pages for: its editions, how many
endpoints (patterns) and data rows each has, and the page files (with their
MicrosoftDocs/windows-itpro-docs commit) each edition comes from: Home, Pro and
Education are their section of the non-Enterprise page plus the Enterprise page.

Exit status: 0 success; 1 failure (a catalog file that cannot be read, an
output that cannot be written); 2 usage error.`,
		Example: `  phonehome catalog list
  phonehome catalog list --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := checkFormat(format, "text", "json")
			if err != nil {
				return err
			}
			return toOutput(cmd.OutOrStdout(), output, func(w io.Writer) error { return catalogList(w, f) })
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	cmd.Flags().StringVarP(&output, "output", "o", "", outputHelp)
	return cmd
}

func listCatalog(cat *catalog.Catalog) listBuild {
	lb := listBuild{Build: cat.Build, Title: catalog.BuildTitle(cat.Build)}
	for _, ed := range cat.Editions() {
		le := listEdition{Edition: string(ed), Endpoints: len(cat.ForEdition(ed))}
		var own, base []listPage
		for _, e := range cat.Entries {
			if !slices.Contains(e.Editions, ed) {
				continue
			}
			le.Rows++
			p := listPage{File: e.File, Commit: e.Commit, Listed: string(e.Listed)}
			switch {
			case slices.Contains(own, p) || slices.Contains(base, p):
			case e.Listed == ed:
				own = append(own, p)
			default:
				base = append(base, p)
			}
		}
		le.Pages = append(own, base...)
		lb.Editions = append(lb.Editions, le)
	}
	return lb
}

func catalogList(w io.Writer, format string) error {
	var builds []listBuild
	for _, b := range catalog.Builds() {
		cat, err := catalog.Load(b)
		if err != nil {
			return err
		}
		builds = append(builds, listCatalog(cat))
	}
	if format == "json" {
		return writeJSON(w, builds)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "BUILD\tEDITION\tENDPOINTS\tROWS\tPAGES (commit)\n")
	for _, b := range builds {
		name := shortBuild(b.Build)
		for _, e := range b.Editions {
			for i, p := range e.Pages {
				page := p.File + " @ " + shortCommit(p.Commit)
				if p.Listed != e.Edition {
					page += " (Enterprise base)"
				} else if p.Listed != string(catalog.Enterprise) {
					page += " (its section)"
				}
				if i == 0 {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", name, e.Edition, e.Endpoints, e.Rows, page)
				} else {
					fmt.Fprintf(tw, "\t\t\t\t%s\n", page)
				}
				name = ""
			}
		}
	}
	return tw.Flush()
}

// --- show

type showOptions struct {
	build, catalog, edition, format, output string
}

type showEndpoint struct {
	Pattern     string   `json:"pattern"`
	Protocols   []string `json:"protocols"`
	Area        string   `json:"area"`
	Description string   `json:"description"`
	Sources     []string `json:"sources"` // FILE:LINE, the edition's own section first
}

type showDoc struct {
	Build       string         `json:"build"`
	CatalogFile string         `json:"catalog_file,omitempty"`
	Edition     string         `json:"edition"`
	Endpoints   []showEndpoint `json:"endpoints"`
}

func newCatalogShowCmd() *cobra.Command {
	opt := showOptions{}
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Show the endpoints of a build's edition, with the page lines they come from",
		Long: `show prints the endpoints one edition of a build documents (those analyze holds
a run against), one per pattern: its protocols, area and description (from the
edition's own section when it has one) and every page line documenting it as
FILE:LINE. --catalog shows a user catalog instead.

Exit status: 0 success; 1 failure (a catalog file that cannot be read, an
output that cannot be written); 2 usage error.`,
		Example: `  phonehome catalog show --build 20H2 --edition pro
  phonehome catalog show --build 21H2 --edition enterprise --format csv
  phonehome catalog show --catalog testdata/catalogs/example.tsv --edition home`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return toOutput(cmd.OutOrStdout(), opt.output, func(w io.Writer) error { return catalogShow(w, opt) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.build, "build", "1909", "Windows build: 1709 ... 21H2, 11, or a full name ("+strings.Join(catalog.Builds(), ", ")+")")
	f.StringVar(&opt.catalog, "catalog", "", "show the user catalog in `FILE` instead of --build's pages")
	f.StringVar(&opt.edition, "edition", "pro", "edition: home, pro, education or enterprise")
	f.StringVar(&opt.format, "format", "text", "output format: text, json, csv or markdown")
	f.StringVarP(&opt.output, "output", "o", "", outputHelp)
	return cmd
}

// oneEdition is --edition's value when it must name one edition.
func oneEdition(cat *catalog.Catalog, v string) (catalog.Edition, error) {
	eds, err := parseEditions(v)
	if err != nil {
		return "", err
	}
	if len(eds) != 1 {
		return "", usageError{fmt.Errorf("--edition %q: want one edition", v)}
	}
	if have := cat.Editions(); !slices.Contains(have, eds[0]) {
		return "", usageError{fmt.Errorf("--edition %s: %s has no page for it; it has %s", eds[0], catalog.BuildTitle(cat.Build), editionList(have))}
	}
	return eds[0], nil
}

func editionList(eds []catalog.Edition) string {
	s := make([]string, len(eds))
	for i, e := range eds {
		s[i] = string(e)
	}
	return strings.Join(s, ", ")
}

func catalogShow(w io.Writer, opt showOptions) error {
	format, err := checkFormat(opt.format, "text", "json", "csv", "markdown")
	if err != nil {
		return err
	}
	cat, err := resolveCatalog(opt.build, opt.catalog)
	if err != nil {
		return usageError{err}
	}
	ed, err := oneEdition(cat, opt.edition)
	if err != nil {
		return err
	}
	doc := showDoc{Build: cat.Build, CatalogFile: cat.Source, Edition: string(ed)}
	for _, ep := range cat.ForEdition(ed) {
		se := showEndpoint{Pattern: ep.Pattern, Protocols: []string{}, Sources: sourceRefs(ep.Sources)}
		for _, p := range ep.Protocols {
			se.Protocols = append(se.Protocols, string(p))
		}
		se.Area, se.Description = ep.Sources[0].Area, ep.Sources[0].Description
		doc.Endpoints = append(doc.Endpoints, se)
	}
	switch format {
	case "json":
		return writeJSON(w, doc)
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"pattern", "protocols", "area", "description", "sources"})
		for _, e := range doc.Endpoints {
			cw.Write([]string{e.Pattern, strings.Join(e.Protocols, ","), e.Area, e.Description, strings.Join(e.Sources, " ")})
		}
		cw.Flush()
		return cw.Error()
	case "markdown":
		m := reports.MarkdownText
		ew := &errWriterTo{w: w}
		ew.printf("# %s, %s: %d endpoints\n\n", m(catalog.BuildTitle(doc.Build)), reports.EditionTitle(string(ed)), len(doc.Endpoints))
		ew.printf("| Pattern | Protocols | Area | Description | Source |\n| --- | --- | --- | --- | --- |\n")
		for _, e := range doc.Endpoints {
			ew.printf("| %s | %s | %s | %s | %s |\n", m(e.Pattern), m(strings.Join(e.Protocols, ", ")), m(e.Area), m(e.Description), m(strings.Join(e.Sources, ", ")))
		}
		return ew.err
	}
	T := reports.Terminal
	fmt.Fprintf(w, "%s, %s: %d endpoints\n", T(catalog.BuildTitle(doc.Build)), reports.EditionTitle(string(ed)), len(doc.Endpoints))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "PATTERN\tPROTOCOLS\tAREA\tDESCRIPTION\tSOURCE\n")
	for _, e := range doc.Endpoints {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", T(e.Pattern), strings.Join(e.Protocols, ", "), T(clipText(e.Area, 24)), T(clipText(e.Description, 50)), T(strings.Join(e.Sources, ", ")))
	}
	return tw.Flush()
}

// clipText cuts s to n runes, the last an ellipsis, as the text report does.
func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// errWriterTo keeps the first write error, so a renderer checks once.
type errWriterTo struct {
	w   io.Writer
	err error
}

func (e *errWriterTo) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}

// --- diff

type diffOptions struct {
	from, to, editions, format, output string
	fold, descriptions                 bool
}

type diffSideJSON struct {
	catalog.DiffSide
	Sources []string `json:"sources"`
}

type diffChangeJSON struct {
	Key                string       `json:"key"`
	Kind               string       `json:"kind"`
	From               diffSideJSON `json:"from"`
	To                 diffSideJSON `json:"to"`
	ProtocolsChanged   bool         `json:"protocols_changed"`
	AreaChanged        bool         `json:"area_changed"`
	DescriptionChanged bool         `json:"description_changed"`
	PatternsChanged    bool         `json:"patterns_changed"`
}

type diffEditionJSON struct {
	Edition string           `json:"edition"`
	Changes []diffChangeJSON `json:"changes"`
}

type diffDoc struct {
	From                 string            `json:"from"`
	To                   string            `json:"to"`
	FoldNumbered         bool              `json:"fold_numbered"`
	NumberedRule         string            `json:"numbered_rule,omitempty"`
	DescriptionsCompared bool              `json:"descriptions_compared"`
	Editions             []diffEditionJSON `json:"editions"`
	// NotCompared names the editions asked for that one of the catalogs
	// has no page for, and which.
	NotCompared []string `json:"not_compared"`
}

func newCatalogDiffCmd() *cobra.Command {
	opt := diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff --from BUILD --to BUILD",
		Short: "Show the endpoints added, removed and changed between two builds",
		Long: `diff compares what two builds' pages document for each edition: endpoints
added, removed, and changed (protocols, area; description text with
--descriptions). An endpoint is its pattern without the wildcards at either
end (catalog.EndpointKey): "*.wns.windows.com" and "wns.windows.com" are one
endpoint, so a moved wildcard is no change. --fold-numbered also folds
load-balanced numbered first labels (v10 and v20.events.data.microsoft.com are
one endpoint) and the output says so. --from and --to take what --build takes,
or a user catalog file. An edition one build has no page for is named, not
compared.

Exit status: 0 success; 1 failure (a catalog file that cannot be read, an
output that cannot be written); 2 usage error.`,
		Example: `  phonehome catalog diff --from 1909 --to 20H2 --edition pro
  phonehome catalog diff --from 21H1 --to 21H2 --edition enterprise --format json
  phonehome catalog diff --from 2004 --to 11 --fold-numbered --format markdown`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return toOutput(cmd.OutOrStdout(), opt.output, func(w io.Writer) error { return catalogDiff(w, opt) })
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.from, "from", "", "the older pages: `BUILD` (as --build: 1909, 21H1, 11) or a user catalog FILE")
	f.StringVar(&opt.to, "to", "", "the newer pages: `BUILD` (as --build) or a user catalog FILE")
	f.StringVar(&opt.editions, "edition", "all", "editions to compare: home, pro, education, enterprise, or all (comma-separated)")
	f.StringVar(&opt.format, "format", "text", "output format: text, json, csv or markdown")
	f.StringVarP(&opt.output, "output", "o", "", outputHelp)
	f.BoolVar(&opt.fold, "fold-numbered", false, "fold numbered first labels: "+catalog.NumberedRule)
	f.BoolVar(&opt.descriptions, "descriptions", false, "also compare description text (the pages reword it between builds)")
	return cmd
}

// buildOrFile is --from or --to: a file that exists is a user catalog,
// anything else a build name.
func buildOrFile(flag, v string) (*catalog.Catalog, error) {
	if v == "" {
		return nil, usageError{fmt.Errorf("%s: want a build (1709 ... 21H2, 11) or a user catalog file", flag)}
	}
	if st, err := os.Stat(v); err == nil && st.Mode().IsRegular() {
		cat, err := resolveCatalog("", v)
		if err != nil {
			return nil, usageError{fmt.Errorf("%s: %w", flag, err)}
		}
		return cat, nil
	}
	cat, err := loadCatalog(v)
	if err != nil {
		return nil, usageError{fmt.Errorf("%s: %w", flag, err)}
	}
	return cat, nil
}

func catalogDiff(w io.Writer, opt diffOptions) error {
	format, err := checkFormat(opt.format, "text", "json", "csv", "markdown")
	if err != nil {
		return err
	}
	eds, err := parseEditions(opt.editions)
	if err != nil {
		return err
	}
	from, err := buildOrFile("--from", opt.from)
	if err != nil {
		return err
	}
	to, err := buildOrFile("--to", opt.to)
	if err != nil {
		return err
	}
	doc := diffDoc{From: from.Build, To: to.Build, FoldNumbered: opt.fold, DescriptionsCompared: opt.descriptions, Editions: []diffEditionJSON{}, NotCompared: []string{}}
	if opt.fold {
		doc.NumberedRule = catalog.NumberedRule
	}
	for _, ed := range eds {
		var missing []string
		for _, c := range []*catalog.Catalog{from, to} {
			if !slices.Contains(c.Editions(), ed) {
				missing = append(missing, catalog.BuildTitle(c.Build))
			}
		}
		if len(missing) > 0 {
			doc.NotCompared = append(doc.NotCompared, fmt.Sprintf("%s: %s has no page for it", ed, strings.Join(missing, " and ")))
			continue
		}
		de := diffEditionJSON{Edition: string(ed), Changes: []diffChangeJSON{}}
		for _, c := range catalog.Diff(from, to, ed, catalog.DiffOptions{FoldNumbered: opt.fold, Descriptions: opt.descriptions}) {
			de.Changes = append(de.Changes, diffChangeJSON{
				Key: c.Key, Kind: string(c.Kind),
				From: diffSideJSON{c.From, sourceRefs(c.From.Sources)}, To: diffSideJSON{c.To, sourceRefs(c.To.Sources)},
				ProtocolsChanged: c.ProtocolsChanged, AreaChanged: c.AreaChanged, DescriptionChanged: c.DescriptionChanged,
				PatternsChanged: c.PatternsChanged,
			})
		}
		doc.Editions = append(doc.Editions, de)
	}
	if len(doc.Editions) == 0 {
		return usageError{fmt.Errorf("--edition %s: nothing to compare: %s", opt.editions, strings.Join(doc.NotCompared, "; "))}
	}
	switch format {
	case "json":
		return writeJSON(w, doc)
	case "csv":
		return diffCSV(w, doc)
	case "markdown":
		return diffMarkdown(w, doc)
	}
	return diffText(w, doc)
}

func counts(cs []diffChangeJSON) string {
	n := map[string]int{}
	for _, c := range cs {
		n[c.Kind]++
	}
	return fmt.Sprintf("%d added, %d removed, %d changed", n["added"], n["removed"], n["changed"])
}

// what says how a changed endpoint changed; for the others, its protocols.
func what(c diffChangeJSON) string {
	pl := func(s catalog.DiffSide) string {
		if len(s.Protocols) == 0 {
			return "no protocol"
		}
		return protocolList(s.Protocols)
	}
	switch c.Kind {
	case "added":
		return pl(c.To.DiffSide)
	case "removed":
		return pl(c.From.DiffSide)
	}
	var parts []string
	if c.PatternsChanged {
		parts = append(parts, "patterns "+strings.Join(c.From.Patterns, ", ")+" -> "+strings.Join(c.To.Patterns, ", "))
	}
	if c.ProtocolsChanged {
		parts = append(parts, "protocols "+pl(c.From.DiffSide)+" -> "+pl(c.To.DiffSide))
	}
	if c.AreaChanged {
		parts = append(parts, "area "+strings.Join(c.From.Areas, ", ")+" -> "+strings.Join(c.To.Areas, ", "))
	}
	if c.DescriptionChanged {
		parts = append(parts, "description reworded")
	}
	return strings.Join(parts, "; ")
}

// where is the rows of a change: the new ones, or the removed ones.
func where(c diffChangeJSON) []string {
	if c.Kind == "removed" {
		return c.From.Sources
	}
	return c.To.Sources
}

var kindMark = map[string]string{"added": "+", "removed": "-", "changed": "~"}

func diffText(w io.Writer, doc diffDoc) error {
	T := reports.Terminal
	fmt.Fprintf(w, "phonehome: %s -> %s\n", T(catalog.BuildTitle(doc.From)), T(catalog.BuildTitle(doc.To)))
	if doc.FoldNumbered {
		fmt.Fprintf(w, "  folded   %s\n", doc.NumberedRule)
	}
	for _, n := range doc.NotCompared {
		fmt.Fprintf(w, "  not compared  %s\n", T(n))
	}
	for _, e := range doc.Editions {
		fmt.Fprintf(w, "\n== %s: %s ==\n", reports.EditionTitle(e.Edition), counts(e.Changes))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, c := range e.Changes {
			fmt.Fprintf(tw, "  %s %s\t%s\t%s\n", kindMark[c.Kind], T(c.Key), T(clipText(what(c), 70)), T(strings.Join(where(c), ", ")))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func diffMarkdown(w io.Writer, doc diffDoc) error {
	m := reports.MarkdownText
	ew := &errWriterTo{w: w}
	ew.printf("# %s -> %s\n\n", m(catalog.BuildTitle(doc.From)), m(catalog.BuildTitle(doc.To)))
	if doc.FoldNumbered {
		ew.printf("Folded: %s\n\n", m(doc.NumberedRule))
	}
	for _, n := range doc.NotCompared {
		ew.printf("- not compared: %s\n", m(n))
	}
	for _, e := range doc.Editions {
		ew.printf("\n## %s: %s\n\n", reports.EditionTitle(e.Edition), counts(e.Changes))
		if len(e.Changes) == 0 {
			continue
		}
		ew.printf("| | Endpoint | Change | Source |\n| --- | --- | --- | --- |\n")
		for _, c := range e.Changes {
			ew.printf("| %s | %s | %s | %s |\n", c.Kind, m(c.Key), m(what(c)), m(strings.Join(where(c), ", ")))
		}
	}
	return ew.err
}

// diffCSV writes one row per change; lists are joined with "; ".
func diffCSV(w io.Writer, doc diffDoc) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"edition", "kind", "key", "from_patterns", "to_patterns", "from_protocols", "to_protocols", "from_areas", "to_areas", "from_sources", "to_sources"})
	j := func(s []string) string { return strings.Join(s, "; ") }
	pj := func(ps []catalog.Protocol) string { return protocolList(ps) }
	for _, e := range doc.Editions {
		for _, c := range e.Changes {
			cw.Write([]string{e.Edition, c.Kind, c.Key, j(c.From.Patterns), j(c.To.Patterns), pj(c.From.Protocols), pj(c.To.Protocols),
				j(c.From.Areas), j(c.To.Areas), j(c.From.Sources), j(c.To.Sources)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// --- validate

func newCatalogValidateCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check a user catalog or one of Microsoft's endpoint pages",
		Long: `validate checks each FILE: one of Microsoft's connection-endpoint pages when
its name ends in .md (read as the importer reads them), else a user catalog. It
prints every problem as FILE:LINE: what is wrong; the oddities of the published
pages (a repeated row, a name that looks cut short, TLS 1.3, empty Protocol
cells) as warnings.

Exit status: 0 no errors (warnings allowed); 1 an error in a file, or a file
that cannot be read; 2 usage error.`,
		Example: `  phonehome catalog validate testdata/catalogs/example.tsv
  phonehome catalog validate ../shared/catalog-sources/*-endpoints*.md`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("validate needs at least one file")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			// The problems are written whole, also for a file with errors,
			// whose status is returned after.
			var status error
			if err := toOutput(cmd.OutOrStdout(), output, func(w io.Writer) error {
				status = catalogValidate(w, args)
				return nil
			}); err != nil {
				return err
			}
			return status
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", outputHelp)
	return cmd
}

func catalogValidate(w io.Writer, files []string) error {
	T := reports.Terminal
	var bad []string
	for _, f := range files {
		src, err := catalog.ReadFile(f)
		if err != nil {
			fmt.Fprintf(w, "%s\n", T(err.Error()))
			bad = append(bad, f)
			continue
		}
		errs, warns := 0, 0
		for _, p := range catalog.Validate(f, src) {
			fmt.Fprintln(w, T(p.String()))
			if p.Warning {
				warns++
			} else {
				errs++
			}
		}
		fmt.Fprintf(w, "%s: %d errors, %d warnings\n", T(f), errs, warns)
		if errs > 0 {
			bad = append(bad, f)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("catalog validate: errors in %s", quoteArgs(bad))
	}
	return nil
}
