package classify_test

import (
	"net/netip"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/classify"
	"github.com/phonehome/phonehome/classify/extract"
)

// TestTunnelledCaptures analyses the real tunnel fixtures (testdata/tunnels:
// dig, curl and openssl s_client through a Linux VXLAN tunnel, and the same
// frames put in ERSPAN II and III): the flows are the VM's, inside the
// tunnel, named as without it, each marked with its tunnel; the mirror's
// addresses start no flow, so the VM is found; a DNS answer fragmented
// inside the tunnel (download...) and one fragmented outside it (tlu...)
// are both reassembled and read. Before capture took tunnels off, the ERSPAN captures gave
// "VM 10.200.0.3", the mirror, and no flow in scope.
func TestTunnelledCaptures(t *testing.T) {
	vm := netip.MustParseAddr("192.168.56.10")
	const (
		tls  = "tcp 20.72.205.209:443 slscr.update.microsoft.com sni"
		http = "tcp 23.56.3.67:80 ctldl.windowsupdate.com http-host"
	)
	// The two big answers hold 120 and 80 A records, of which extract
	// keeps the first MaxAAnswers; either is read only once reassembled
	// (the classifier reads no whole first fragment).
	maxA := strconv.Itoa(extract.MaxAAnswers)
	tests := []struct {
		file   string
		tunnel string
		flows  []string // in scope: "proto dst:port name evidence"
		dns    []string // names of the DNS answers read, with their A count
	}{
		{"vxlan.pcap", "vxlan", []string{tls, http},
			[]string{"ctldl.windowsupdate.com 0", "ctldl.windowsupdate.com 1", "download.windowsupdate.com " + maxA,
				"settings-win.data.microsoft.com 1", "slscr.update.microsoft.com 1"}},
		{"erspan-ii.pcap", "erspan-ii", []string{tls, http},
			[]string{"ctldl.windowsupdate.com 0", "ctldl.windowsupdate.com 1", "download.windowsupdate.com " + maxA,
				"settings-win.data.microsoft.com 1", "slscr.update.microsoft.com 1"}},
		{"erspan-iii.pcap", "erspan-iii", []string{tls, http},
			[]string{"ctldl.windowsupdate.com 0", "ctldl.windowsupdate.com 1", "download.windowsupdate.com " + maxA,
				"settings-win.data.microsoft.com 1", "slscr.update.microsoft.com 1"}},
		{"vxlan-linux-port.pcap", "vxlan", []string{http}, []string{"ctldl.windowsupdate.com 0", "ctldl.windowsupdate.com 1"}},
		{"vxlan-outer-fragments.pcap", "vxlan", []string{http},
			[]string{"ctldl.windowsupdate.com 0", "ctldl.windowsupdate.com 1", "tlu.dl.delivery.mp.microsoft.com " + maxA}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".pcap"), func(t *testing.T) {
			var flows, dns []string
			cfg := classify.Config{
				OnFlow: func(r *classify.FlowRecord) {
					if r.Tunnel != tt.tunnel {
						t.Errorf("flow %s %s:%d -> %s:%d: tunnel %q; want %q", r.Proto, r.Src, r.SPort, r.Dst, r.DPort, r.Tunnel, tt.tunnel)
					}
					if r.Scope == classify.ScopeIn {
						flows = append(flows, r.Proto+" "+netip.AddrPortFrom(r.Dst, r.DPort).String()+" "+r.Name+" "+r.Evidence)
					}
				},
				OnObservation: func(o *classify.Observation) {
					if o.Kind == "dns" {
						dns = append(dns, o.Name+" "+strconv.Itoa(len(o.A)))
					}
				},
			}
			run, err := classifyFile(filepath.Join("..", "testdata", "tunnels", tt.file), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if run.VM != vm {
				t.Errorf("VM = %v (%s); want %v", run.VM, run.VMHow, vm)
			}
			sort.Strings(flows)
			sort.Strings(dns)
			if got, want := strings.Join(flows, "\n"), strings.Join(tt.flows, "\n"); got != want {
				t.Errorf("flows in scope:\n%s\nwant:\n%s", got, want)
			}
			if got, want := strings.Join(dns, "\n"), strings.Join(tt.dns, "\n"); got != want {
				t.Errorf("DNS answers:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestTunnelFragmentsAndDepth: a later fragment of a tunnelled packet (GRE
// here; capture took the tunnel off the first) is a fragment, not a flow
// between the mirror's addresses; a packet still tunnelled at
// capture.MaxTunnelDepth is reported as a bound.
func TestTunnelFragmentsAndDepth(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	mirror, collector := netip.MustParseAddr("10.200.0.3"), netip.MustParseAddr("10.200.0.224")
	var flows []string
	c := classify.New(classify.Config{OnFlow: func(r *classify.FlowRecord) {
		flows = append(flows, r.Proto+" "+r.Src.String()+" -> "+r.Dst.String()+" tunnel="+r.Tunnel)
	}})
	later := capture.Packet{Timestamp: t0, WireLen: 1514, L3: capture.L3IPv4, Src: mirror, Dst: collector, Proto: 47, Fragment: true}
	c.Add(&later)
	deep := capture.Packet{Timestamp: t0, WireLen: 200, L3: capture.L3IPv4, Src: mirror, Dst: collector, Proto: 4,
		Tunnel: capture.Tunnel{Kind: capture.EncapIPIP, Depth: capture.MaxTunnelDepth, TooDeep: true, Src: mirror, Dst: collector}}
	c.Add(&deep)
	run := c.Finish()
	if e := run.Excluded[classify.ScopeFragment]; e == nil || e.Packets != 1 {
		t.Errorf("Excluded[%s] = %+v; want the GRE fragment, 1 packet", classify.ScopeFragment, e)
	}
	if want := []string{"ip-4 10.200.0.3 -> 10.200.0.224 tunnel=ipip"}; strings.Join(flows, "\n") != strings.Join(want, "\n") {
		t.Errorf("flows = %q; want %q", flows, want)
	}
	found := false
	for _, b := range run.Bounds {
		if strings.HasPrefix(b.What, "tunnel nesting") && b.Limit == capture.MaxTunnelDepth && b.Times == 1 {
			found = true
		}
	}
	if !found {
		t.Errorf("Bounds = %+v; want the tunnel nesting bound, reached once", run.Bounds)
	}
}
