// Command phonehome holds the traffic of an idle Windows machine against the
// connection endpoints Microsoft documents for its build and edition.
//
// Exit status: 0 success; 1 failure (nothing could be analysed: no input
// could be read; an output that could not be written); 2 usage
// error (an unknown command or help topic, a missing argument, an unknown
// flag, a bad option value, no page for any edition asked for); 3 finished,
// but some input was damaged or could not be read: the report lists where,
// and what was read of it; 4 finished, but nothing was in scope (no IPv4 flow
// started by the VM towards a public address: an IPv6-only, ARP-only, empty
// or undecodable capture, a --vm that started no flow), which stderr and the
// top of the report say. 3 wins over 4. 5: capture's interface went down or
// away mid-run (the report of what was captured until then was written). 6:
// compare found what --fail-on asks about (a new endpoint, say): 6 wins over 3.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/phonehome/phonehome/reports"
)

// Exit codes, decided here and nowhere else.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitDamaged = 3
	exitNothing = 4
	// exitIfaceDown: capture's interface went down or away mid-run; the
	// report of what was captured was written.
	exitIfaceDown = 5
	// exitRegression: compare found what --fail-on asks about.
	exitRegression = 6
)

// errDamaged is returned by a command that finished on damaged input.
var errDamaged = errors.New("input damaged")

// errNothingInScope is returned by a command that finished on input in
// which nothing was in scope. errDamaged wins over it.
var errNothingInScope = errors.New("nothing in scope")

// usageError marks an error in how the command was called.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := root.Execute()
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errDamaged):
		return exitDamaged
	case errors.Is(err, errNothingInScope):
		return exitNothing
	case errors.Is(err, errInterfaceDown):
		return exitIfaceDown
	case errors.Is(err, errRegression):
		return exitRegression
	}
	// File names and arguments in the message are the user's or a
	// capture's: escaped as the report escapes them (reports.Terminal).
	fmt.Fprintf(os.Stderr, "phonehome: %s\n", reports.Terminal(err.Error()))
	var u usageError
	if errors.As(err, &u) {
		fmt.Fprintf(os.Stderr, "Run '%s --help' for usage.\n", usagePath(root, args))
		return exitUsage
	}
	return exitFailure
}

// usagePath is the command whose help a usage error should point to: the
// one args name, or the root for help and an unknown command.
func usagePath(root *cobra.Command, args []string) string {
	c, _, err := root.Find(args)
	if err != nil || c.Name() == "help" && c.Parent() == root {
		return root.CommandPath()
	}
	return c.CommandPath()
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "phonehome",
		Short: "Hold an idle Windows machine's traffic against Microsoft's documented endpoints",
		Long: `phonehome reads captures of a Windows VM's traffic, names every IPv4 flow the VM
starts towards a public address (TLS SNI, HTTP Host, DNS answers with CNAME chains),
and reports, per edition, which documented endpoints were seen, which were not, and
which hosts the VM contacted that the documentation does not list.

phonehome is passive: it never sends a packet and never resolves a name.`,
		SilenceUsage:          true,
		SilenceErrors:         true,
		DisableFlagsInUseLine: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.SetHelpCommand(newHelpCmd(root))
	root.AddCommand(newAnalyzeCmd(), newCaptureCmd(), newReportCmd(), newCompareCmd(), newExportCmd(), newMergeCmd(), newCatalogCmd(), newInterfacesCmd(), newVersionCmd())
	// --version prints what the version command does. The flag is made here,
	// not by cobra, which would also take -v (read as "verbose" elsewhere).
	root.Version = versionText(debug.ReadBuildInfo())
	root.SetVersionTemplate("{{.Version}}")
	root.Flags().Bool("version", false, "print phonehome's version, commit and Go version (as phonehome version)")
	root.InitDefaultCompletionCmd()
	// A command that only groups others (phonehome, phonehome completion)
	// prints its help when called alone, and takes an argument that names
	// no command as a usage error. Cobra would print the help for that too
	// (exit 0), or fail with exit status 1 for the root.
	// Any other command's argument check (cobra's own, as completion
	// bash's NoArgs) fails as a usage error too, not with exit status 1.
	var groups func(*cobra.Command)
	groups = func(c *cobra.Command) {
		if !c.HasSubCommands() {
			if check := c.Args; check != nil {
				c.Args = func(c *cobra.Command, args []string) error {
					if err := check(c, args); err != nil {
						var u usageError
						if errors.As(err, &u) {
							return err
						}
						return usageError{err}
					}
					return nil
				}
			}
			return
		}
		c.Args = noSuchCommand
		if !c.Runnable() {
			c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
		}
		for _, sub := range c.Commands() {
			groups(sub)
		}
	}
	groups(root)
	return root
}

// newHelpCmd replaces cobra's help command, which prints the root's usage
// and exits 0 for a topic that is no command.
func newHelpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "help prints the help of a command: phonehome help analyze.",
		RunE: func(_ *cobra.Command, args []string) error {
			c, rest, err := root.Find(args)
			if err != nil {
				return usageError{err}
			}
			if len(rest) > 0 {
				return usageError{fmt.Errorf("help %s: %w", quoteArgs(args), noSuchCommand(c, rest))}
			}
			return c.Help()
		},
	}
}

// quoteArgs joins args with spaces as a shell would take them back: an
// empty argument, or one with a space, a quote or a control character in it,
// is quoted (strconv.Quote), the others are not.
func quoteArgs(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == "" || strings.IndexFunc(a, func(r rune) bool { return r <= ' ' || r == '"' || r == '\'' || r == 0x7f }) >= 0 {
			out[i] = strconv.Quote(a)
		}
	}
	return strings.Join(out, " ")
}

// noSuchCommand is the argument check of a command that groups others: an
// argument is a usage error that names the commands there are.
func noSuchCommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() || sub.Name() == "help" {
			names = append(names, sub.Name())
		}
	}
	if len(names) == 0 {
		return usageError{fmt.Errorf("unknown command %q for %q, which has no commands", args[0], c.CommandPath())}
	}
	msg := fmt.Sprintf("unknown command %q for %q; its commands are %s", args[0], c.CommandPath(), strings.Join(names, ", "))
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	}
	return usageError{errors.New(msg)}
}
