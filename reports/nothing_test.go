package reports

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify"
)

// TestNothingInScope: a run with no flow in scope says why, from what was
// read; a run with one says nothing.
func TestNothingInScope(t *testing.T) {
	const head = "nothing in scope: no IPv4 flow started by the VM towards a public address: "
	vm := netip.MustParseAddr("192.168.56.10")
	given := netip.MustParseAddr("192.168.56.99")
	excluded := func(kv ...any) map[string]*classify.Excluded {
		m := map[string]*classify.Excluded{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = &classify.Excluded{Packets: uint64(kv[i+1].(int))}
		}
		return m
	}
	for _, tt := range []struct {
		name string
		run  classify.Run
		want string
	}{
		{"flows_in_scope", classify.Run{Packets: 5, InScope: classify.Excluded{Flows: 1}, VM: vm, VMDetected: true, VMFlows: 1}, ""},
		{"no_packets", classify.Run{}, head + "the input holds no packets"},
		{"damaged_before_any_packet", classify.Run{Damage: []capture.Damage{{File: "a.pcap"}}},
			head + "no packet could be read (see the damaged input)"},
		{"only_undecodable_link_types", classify.Run{Packets: 20, Excluded: excluded("undecodable", 20),
			Unsupported: map[string]uint64{"LINKTYPE 220": 19, "LINKTYPE 147": 1}},
			head + "none of the 20 frames read could be decoded, being of link types phonehome cannot read: LINKTYPE 147 (1 frame), LINKTYPE 220 (19 frames)"},
		{"vm_given_started_no_flow", classify.Run{Packets: 912, VM: given, VMHow: "given with --vm",
			BusiestLocal: vm, BusiestLocalFlows: 95, Excluded: excluded("not-started-by-vm", 700, "ipv6", 30, "non-ip", 2, "private-destination", 180)},
			head + "192.168.56.99, given with --vm, started no flow; the local address that started the most is 192.168.56.10 (95 flows): " +
				"try --vm 192.168.56.10; the 912 packets read were excluded as not-started-by-vm (700), private-destination (180), ipv6 (30), non-ip (2)"},
		{"vm_given_and_no_local_address_started_a_flow", classify.Run{Packets: 1, VM: given, Excluded: excluded("non-ip", 1)},
			head + "192.168.56.99, given with --vm, started no flow, nor did any other local address; the 1 packet read was excluded as non-ip (1)"},
		{"ipv6_and_arp_only", classify.Run{Packets: 32, Excluded: excluded("ipv6", 30, "non-ip", 2)},
			head + "no local address started an IPv4 flow; the 32 packets read were excluded as ipv6 (30), non-ip (2)"},
		{"vm_flows_all_private", classify.Run{Packets: 40, VM: vm, VMDetected: true, VMFlows: 12,
			Excluded: excluded("private-destination", 38, "undecodable", 2), Unsupported: map[string]uint64{"LINKTYPE 220": 2}},
			head + "the VM, 192.168.56.10, started 12 flows, none to a public IPv4 address; the 40 packets read were excluded as " +
				"private-destination (38), undecodable (2); link types not decoded: LINKTYPE 220 (2 frames)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := nothingInScope(&tt.run); got != tt.want {
				t.Errorf("nothingInScope = %q;\nwant %q", got, tt.want)
			}
		})
	}
}

// TestNothingInScopeAtTheTop: every format says nothing was in scope before
// anything else of the run (JSON: in its own field).
func TestNothingInScopeAtTheTop(t *testing.T) {
	run := testRun()
	run.Packets = 3
	run.VM = netip.Addr{}
	run.Inputs = []string{"ipv6-only.pcap"}
	rep, err := Compare(run, load(t), []catalog.Edition{catalog.Home})
	if err != nil {
		t.Fatal(err)
	}
	msg := "nothing in scope: no IPv4 flow started by the VM towards a public address: no local address started an IPv4 flow; the 3 packets read were excluded as ipv6 (3)"
	if rep.NothingInScope != msg {
		t.Fatalf("Report.NothingInScope = %q; want %q", rep.NothingInScope, msg)
	}
	for _, tt := range []struct {
		format string
		render func(*bytes.Buffer, *Report) error
		want   string // the warning as the format writes it
		before string // what it must come before
	}{
		{"text", func(b *bytes.Buffer, r *Report) error { return Text(b, r) }, "\n  WARNING  " + msg + "\n", "  capture  "},
		{"markdown", func(b *bytes.Buffer, r *Report) error { return Markdown(b, r) }, "\n\nWARNING: " + MarkdownText(msg) + "\n\n", "- capture: "},
		{"html", func(b *bytes.Buffer, r *Report) error { return HTML(b, r) }, "<p class=\"warn\">Warning: " + msg + "</p>", "<dt>capture</dt>"},
		{"csv", func(b *bytes.Buffer, r *Report) error { return CSV(b, r) }, "\n\"\",\"nothing_in_scope\",\"\",", "\"home\","},
		{"json", func(b *bytes.Buffer, r *Report) error { return JSON(b, r) }, "\"nothing_in_scope\": \"" + msg + "\"", "\"files\""},
	} {
		t.Run(tt.format, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.render(&b, rep); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			i, j := strings.Index(out, tt.want), strings.Index(out, tt.before)
			if i < 0 || j < 0 || i > j {
				t.Errorf("%s report: the warning %q at %d, %q at %d; want the warning first:\n%.600s", tt.format, tt.want, i, tt.before, j, out)
			}
		})
	}
	run.InScope.Flows = 1
	rep, _ = Compare(run, load(t), []catalog.Edition{catalog.Home})
	var b bytes.Buffer
	Text(&b, rep)
	if strings.Contains(b.String(), "WARNING") || rep.NothingInScope != "" {
		t.Errorf("a run with a flow in scope warns:\n%.300s", b.String())
	}
}
