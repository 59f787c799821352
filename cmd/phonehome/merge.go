package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/phonehome/phonehome/classify"
	"github.com/phonehome/phonehome/reports"
)

// mergeOptions are merge's flags.
type mergeOptions struct {
	output string
	label  string
}

func newMergeCmd() *cobra.Command {
	opt := mergeOptions{}
	cmd := &cobra.Command{
		Use:   "merge RUN|DIR... -o RUN",
		Short: "Merge run records of one VM into the run one pass over their captures would give",
		Long: `merge reads run records (written by analyze --save, or checkpoint directories of
capture) of one VM and writes the run of all their packets, as a run record
that report and the other commands read: a week analysed day by day, files
analysed on several machines, a capture resumed after a crash.

It is the run one analyze over all the captures would give, except for the
flows cut at a boundary between two files: a connection open across it is a
flow in each run, and its later half may be unnamed (its SNI or DNS answer was
in the earlier file). merge matches the flows open at the end of one run with
those picked up mid-stream at the start of another, counts them, and the
report says how many were counted twice. Runs of different VMs are refused.

On stderr it says what it merged: each run's span, packets and flows, the
spans that overlap (the same packets twice?), and the flows cut.

Exit status: 0 success; 1 failure (a record that cannot be read, runs of
different VMs, an output that cannot be written); 2 usage error.`,
		Example: `  phonehome merge -o week.json.gz mon.json.gz tue.json.gz wed.json.gz
  ls day-*.pcapng | xargs -P 4 -I{} phonehome analyze -q --save {}.json.gz -o /dev/null {}
  phonehome merge -o week.json.gz day-*.pcapng.json.gz && phonehome report week.json.gz`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("merge needs one run record or checkpoint directory at least")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if opt.output == "" {
				return usageError{errors.New("merge needs -o RUN: where to write the merged run record (gzipped when it ends in .gz)")}
			}
			return merge(cmd.ErrOrStderr(), args, opt)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opt.output, "output", "o", "", "write the merged run record to `RUN` (atomically; gzipped when it ends in .gz)")
	f.StringVar(&opt.label, "label", "", labelHelp+"; what it leaves out comes from the label the runs share, if they all have the same")
	return cmd
}

// merge reads the records at paths, merges them and writes the result to
// opt.output, saying on stderr what was merged.
func merge(stderr io.Writer, paths []string, opt mergeOptions) error {
	label, err := parseLabel(opt.label)
	if err != nil {
		return err
	}
	runs := make([]*classify.Run, len(paths))
	shared := true // the runs all have one label
	var first runLabel
	for i, p := range paths {
		run, meta, err := classify.LoadRecord(p)
		if err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		runs[i] = run
		l := runLabel{name: meta.Label, build: meta.Build, edition: meta.Edition}
		if i == 0 {
			first = l
		}
		shared = shared && l == first
	}
	if shared {
		// What --label leaves out, the runs' shared label says.
		label = label.or(first)
	}
	merged, err := classify.Merge(runs...)
	var vms *classify.VMMismatchError
	if errors.As(err, &vms) {
		return fmt.Errorf("merge: %s is a run of VM %s and %s of VM %s: merge the runs of one VM at a time (a run with no VM, or one given with --vm, merges with any of its VM's)",
			paths[vms.Runs[0]], vms.VMs[0], paths[vms.Runs[1]], vms.VMs[1])
	}
	if err != nil {
		return err
	}
	if err := classify.SaveRecord(opt.output, merged, recordMeta(label)); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	describeMerge(stderr, paths, runs, merged, opt.output)
	return nil
}

// describeMerge says on stderr what merge merged: each run's span, packets
// and flows in the order of their spans, the spans that overlap, and the
// flows cut at a boundary.
func describeMerge(w io.Writer, paths []string, runs []*classify.Run, merged *classify.Run, output string) {
	T := reports.Terminal
	vm := "no VM"
	if merged.VM.IsValid() {
		vm = "VM " + merged.VM.String()
	}
	fmt.Fprintf(w, "phonehome: merged %d runs of %s into %s:\n", len(runs), vm, T(output))
	order := make([]int, len(runs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return runs[a].First.Compare(runs[b].First) })
	width := 0
	for _, p := range paths {
		width = max(width, len(T(p)))
	}
	for _, i := range order {
		r := runs[i]
		fmt.Fprintf(w, "  %-*s  %s  %d packets, %d flows\n", width, T(paths[i]), span(r.First, r.Last), r.Packets, flows(r))
	}
	var overlaps []string
	for x, i := range order {
		for _, j := range order[x+1:] {
			a, b := runs[i], runs[j]
			if in := sharedInput(a, b); in != "" {
				overlaps = append(overlaps, fmt.Sprintf("  %s and %s both read %s: its packets are counted twice (a file given twice?)", T(paths[i]), T(paths[j]), T(in)))
				continue
			}
			// A run merged from pieces spans its gaps: its span says
			// nothing of where its packets are. Only runs of one piece
			// each are judged by their spans.
			if a.Packets == 0 || b.Packets == 0 || !b.First.Before(a.Last) || pieces(a) > 1 || pieces(b) > 1 {
				continue
			}
			overlaps = append(overlaps, fmt.Sprintf("  %s and %s overlap from %s to %s: the same packets twice are counted twice (a file given twice? a checkpoint and the run it was resumed into?)",
				T(paths[i]), T(paths[j]), stamp(b.First), stamp(earlier(a.Last, b.Last))))
		}
	}
	for _, o := range overlaps {
		fmt.Fprintln(w, o)
	}
	fmt.Fprintf(w, "  merged: %s  %d packets, %d flows\n", span(merged.First, merged.Last), merged.Packets, flows(merged))
	for _, b := range merged.Bounds {
		if b.What == classify.BoundCutFlows {
			fmt.Fprintf(w, "phonehome: warning: %d flows were cut at a file boundary and are counted twice (once in each run; the later half may be unnamed)\n", b.Times)
		}
	}
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// flows is every flow of r, in scope or not.
func flows(r *classify.Run) uint64 {
	n := r.InScope.Flows
	for _, e := range r.Excluded {
		n += e.Flows
	}
	return n
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

func span(first, last time.Time) string {
	if first.IsZero() {
		return "no packets"
	}
	return stamp(first) + " to " + stamp(last)
}

// pieces is how many captures a run was read from: its inputs, or its
// capture sessions.
func pieces(r *classify.Run) int { return max(len(r.InputStats), len(r.Sessions)) }

// sharedInput is an input both runs read ("" for none): the same packets
// in both.
func sharedInput(a, b *classify.Run) string {
	for _, x := range a.InputStats {
		for _, y := range b.InputStats {
			if x.Name == y.Name && !x.Stream && x.Frames > 0 {
				return x.Name
			}
		}
	}
	return ""
}
