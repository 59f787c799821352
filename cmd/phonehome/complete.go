package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/reports"
)

// formats are the values --format takes, in the order help lists them, with
// what each is for.
var formats = []cobra.Completion{
	cobra.CompletionWithDesc("text", "for a terminal"),
	cobra.CompletionWithDesc("json", "one document, schema_version 1"),
	cobra.CompletionWithDesc("csv", "one row per edition, list and item"),
	cobra.CompletionWithDesc("markdown", "CommonMark with GitHub tables"),
	cobra.CompletionWithDesc("html", "one self-contained page"),
}

// registerCompletions makes the shell complete the values of --edition,
// --build and --format. The values match what the flag takes whatever their
// case; --edition takes a comma-separated list, and its last item is
// completed after the ones already given.
func registerCompletions(cmd *cobra.Command) {
	must := func(err error) {
		if err != nil {
			panic(err) // a flag name misspelt here: a bug, found by the tests
		}
	}
	must(cmd.RegisterFlagCompletionFunc("format", func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return matching(formats, "", toComplete), cobra.ShellCompDirectiveNoFileComp
	}))
	must(cmd.RegisterFlagCompletionFunc("build", completeBuild))
	must(cmd.RegisterFlagCompletionFunc("edition", func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		given, last := "", toComplete
		if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
			given, last = toComplete[:i+1], toComplete[i+1:]
		}
		var eds []cobra.Completion
		if given == "" {
			eds = append(eds, cobra.CompletionWithDesc("all", "every edition the build has a page for"))
		}
		for _, e := range editions {
			if !strings.Contains(","+strings.ToLower(given), ","+string(e)+",") {
				eds = append(eds, string(e))
			}
		}
		return matching(eds, given, last), cobra.ShellCompDirectiveNoFileComp
	}))
}

func completeBuild(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var builds []cobra.Completion
	for _, b := range catalog.Builds() {
		builds = append(builds, cobra.CompletionWithDesc(shortBuild(b), catalog.BuildTitle(b)))
	}
	return matching(builds, "", toComplete), cobra.ShellCompDirectiveNoFileComp
}

// registerCompareCompletions makes the shell complete compare's --format
// (no csv), --build, --edition (one) and --fail-on (a comma-separated list).
func registerCompareCompletions(cmd *cobra.Command) {
	must := func(err error) {
		if err != nil {
			panic(err) // a flag name misspelt here: a bug, found by the tests
		}
	}
	must(cmd.RegisterFlagCompletionFunc("format", func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var fs []cobra.Completion
		for _, f := range formats {
			if name, _, _ := strings.Cut(f, "\t"); name != "csv" {
				fs = append(fs, name)
			}
		}
		return matching(fs, "", toComplete), cobra.ShellCompDirectiveNoFileComp
	}))
	must(cmd.RegisterFlagCompletionFunc("build", completeBuild))
	must(cmd.RegisterFlagCompletionFunc("edition", func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var eds []cobra.Completion
		for _, e := range editions {
			eds = append(eds, string(e))
		}
		return matching(eds, "", toComplete), cobra.ShellCompDirectiveNoFileComp
	}))
	must(cmd.RegisterFlagCompletionFunc("fail-on", func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		given, last := "", toComplete
		if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
			given, last = toComplete[:i+1], toComplete[i+1:]
		}
		var kinds []cobra.Completion
		for _, k := range reports.FindKinds {
			if !strings.Contains(","+strings.ToLower(given), ","+k+",") {
				kinds = append(kinds, k)
			}
		}
		return matching(kinds, given, last), cobra.ShellCompDirectiveNoFileComp
	}))
}

// matching returns the values that start with prefix, whatever its case,
// each after given.
func matching(values []cobra.Completion, given, prefix string) []cobra.Completion {
	var out []cobra.Completion
	for _, v := range values {
		name, _, _ := strings.Cut(v, "\t")
		if len(name) >= len(prefix) && strings.EqualFold(name[:len(prefix)], prefix) {
			out = append(out, given+v)
		}
	}
	return out
}

// shortBuild is the name --build takes for a build: "1909" for
// "windows-10-1909", "11" for "windows-11".
func shortBuild(build string) string {
	if s, ok := strings.CutPrefix(build, "windows-10-"); ok {
		return s
	}
	return strings.TrimPrefix(build, "windows-")
}
