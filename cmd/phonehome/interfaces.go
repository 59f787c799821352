package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/reports"
)

func newInterfacesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "interfaces",
		Short: "List the interfaces capture can listen on, marking those that look like a VM's",
		Long: `interfaces lists the interfaces libpcap can capture on, with their addresses,
link type and state. Those that look like where a VM's traffic passes (a bridge
such as libvirt's virbr0, a tap such as vnet0, VirtualBox's vboxnet0, a veth, a
bridge port) are marked with *: give one to phonehome capture -i.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{fmt.Errorf("interfaces takes no arguments; got %q", args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, err := capture.Interfaces()
			if err != nil {
				return fmt.Errorf("list interfaces: %w", err)
			}
			return writeInterfaces(cmd.OutOrStdout(), list)
		},
	}
}

// writeInterfaces prints the list as a table. Names and descriptions come
// from the system: escaped as the reports escape names.
func writeInterfaces(w io.Writer, list []capture.Interface) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tSTATE\tLINK\tKIND\tADDRESSES")
	for _, in := range list {
		mark := " "
		if in.VMLike() {
			mark = "*"
		}
		state := "down"
		switch {
		case in.Up && in.Running:
			state = "up"
		case in.Up:
			state = "up, no carrier"
		}
		if in.Loopback {
			state += ", loopback"
		}
		addrs := make([]string, len(in.Addrs))
		for i, a := range in.Addrs {
			addrs[i] = a.String()
		}
		kind := in.Kind
		if kind == "" {
			kind = "-"
		}
		link := in.LinkType
		if link == "" {
			link = "-"
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%s\t%s\n", mark, reports.Terminal(in.Name), state, link, reports.Terminal(kind), strings.Join(addrs, " "))
	}
	fmt.Fprintln(tw, "\n* looks like a VM's bridge, tap or veth: capture -i NAME")
	return tw.Flush()
}
