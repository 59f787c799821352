package main

import (
	"errors"
	"io"

	"github.com/spf13/cobra"

	"github.com/phonehome/phonehome/classify"
)

func newReportCmd() *cobra.Command {
	opt := reportOptions{}
	cmd := &cobra.Command{
		Use:   "report RUN|DIR",
		Short: "Report what a saved run record shows against the documented endpoints",
		Long: `report reads a run record (written by analyze --save, or by capture as its
checkpoint) and prints the report analyze would have printed for the same
packets, in any format and for any edition and build. RUN is the record's file,
gzipped or not; DIR is a checkpoint directory (capture --checkpoint DIR), whose
record is DIR/` + classify.CheckpointName + `: the report up to its last checkpoint.

Exit status: as analyze: 0 success; 1 failure (the record cannot be read, an
output that cannot be written); 2 usage error; 3 the run read damaged input; 4
nothing was in scope. 3 wins over 4.`,
		Example: `  phonehome report week.json.gz
  phonehome report --format html -o week.html --edition pro /var/lib/phonehome
  phonehome report --build 21H2 --edition enterprise week.json.gz`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("report needs one run record or checkpoint directory")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return report(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], opt)
		},
	}
	reportFlags(cmd, &opt)
	registerCompletions(cmd)
	return cmd
}

// report renders the run record at path (a file or a checkpoint directory).
func report(stdout, stderr io.Writer, path string, opt reportOptions) error {
	rep, err := prepareReport(stdout, stderr, opt)
	if err != nil {
		return err
	}
	run, _, err := classify.LoadRecord(path)
	if err != nil {
		return err
	}
	return rep.write(stdout, stderr, run)
}
