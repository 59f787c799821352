package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print phonehome's version, commit and Go version",
		Long: `version prints the module version phonehome was built as ("(devel)" when built
from a source tree), the commit it was built from with its time (when the build
recorded it: go build does in a git clone, unless -buildvcs=false), and the Go
version and platform. phonehome --version prints the same.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("version takes no arguments; got %q", args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), versionText(debug.ReadBuildInfo()))
			return err
		},
	}
}

// versionText describes the build from its build information (ok false when
// the binary has none).
func versionText(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "phonehome unknown version (the binary holds no build information)\ngo      " +
			runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	set := map[string]string{}
	for _, s := range bi.Settings {
		set[s.Key] = s.Value
	}
	commit := "unknown (not recorded: go build records it only in a git clone's main tree, and not with -buildvcs=false)"
	if rev := set["vcs.revision"]; rev != "" {
		commit = rev
		if t := set["vcs.time"]; t != "" {
			commit += " " + t
		}
		if set["vcs.modified"] == "true" {
			commit += " (with uncommitted changes)"
		}
	}
	goos, goarch := set["GOOS"], set["GOARCH"]
	if goos == "" || goarch == "" {
		goos, goarch = runtime.GOOS, runtime.GOARCH
	}
	var b strings.Builder
	fmt.Fprintf(&b, "phonehome %s\n", version)
	fmt.Fprintf(&b, "commit  %s\n", commit)
	fmt.Fprintf(&b, "go      %s %s/%s\n", bi.GoVersion, goos, goarch)
	return b.String()
}

// toolName is the phonehome a run record says wrote it (RecordMeta.Tool):
// "phonehome v1.2.0", or "phonehome (devel) 0123456789ab" with the commit
// (its first 12 digits, "+dirty" with uncommitted changes) when the build
// recorded one.
func toolName(bi *debug.BuildInfo, ok bool) string {
	if !ok || bi == nil {
		return "phonehome unknown version"
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	name := "phonehome " + version
	var rev, dirty string
	for _, s := range bi.Settings {
		switch {
		case s.Key == "vcs.revision":
			rev = s.Value
		case s.Key == "vcs.modified" && s.Value == "true":
			dirty = "+dirty"
		}
	}
	if rev != "" {
		name += " " + rev[:min(12, len(rev))] + dirty
	}
	return name
}
