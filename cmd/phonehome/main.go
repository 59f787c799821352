// Command phonehome holds the traffic of an idle Windows machine against the
// connection endpoints Microsoft documents for its build and edition.
//
// Exit status: 0 success; 1 failure (nothing or not everything could be
// analysed: an unreadable file, an output that could not be written); 2 usage
// error (a missing argument, an unknown flag, a bad option value); 3 finished,
// but some input was damaged: the report covers everything before the damage
// and lists where it is.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes, decided here and nowhere else.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
	exitDamaged = 3
)

// errDamaged is returned by a command that finished on damaged input.
var errDamaged = errors.New("input damaged")

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
	}
	fmt.Fprintf(os.Stderr, "phonehome: %v\n", err)
	var u usageError
	if errors.As(err, &u) {
		fmt.Fprintf(os.Stderr, "Run 'phonehome %s --help' for usage.\n", commandName(root, args))
		return exitUsage
	}
	return exitFailure
}

func commandName(root *cobra.Command, args []string) string {
	if c, _, err := root.Find(args); err == nil && c != root {
		return c.Name()
	}
	return ""
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
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newAnalyzeCmd())
	return root
}
