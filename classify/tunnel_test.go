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
// frames put in every other encapsulation and in 802.11): the flows are the
// VM's, inside the tunnel, named as without it, each marked with its
// tunnel; the mirror's addresses start no flow, so the VM is found; a DNS
// answer fragmented inside the tunnel (download...) and one fragmented
// outside it (tlu...; in gretap.pcap the full-size segments too) are both
// reassembled and read. Before capture took tunnels off, the ERSPAN
// captures gave "VM 10.99.1.1", the mirror, and no flow in scope.
func TestTunnelledCaptures(t *testing.T) {
	const (
		tls  = "tcp 20.72.205.209:443 slscr.update.microsoft.com sni"
		http = "tcp 23.56.3.67:80 ctldl.windowsupdate.com http-host"
	)
	// The two big answers hold 120 and 80 A records, of which extract
	// keeps the first MaxAAnswers; either is read only once reassembled
	// (the classifier reads no whole first fragment).
	maxA := strconv.Itoa(extract.MaxAAnswers)
	vxlanFlows := []string{tls, http}
	vxlanDNS := []string{"ctldl.windowsupdate.com 0", "ctldl.windowsupdate.com 1", "download.windowsupdate.com " + maxA,
		"settings-win.data.microsoft.com 1", "slscr.update.microsoft.com 1"}
	tests := []struct {
		file   string
		tunnel string
		flows  []string // in scope: "proto dst:port name evidence"
		dns    []string // names of the DNS answers read, with their A count
	}{
		{"vxlan.pcap", "vxlan", vxlanFlows, vxlanDNS},
		{"vxlan-linux-port.pcap", "vxlan", []string{http}, []string{"ctldl.windowsupdate.com 0", "ctldl.windowsupdate.com 1"}},
		{"vxlan-outer-fragments.pcap", "vxlan", []string{http},
			[]string{"ctldl.windowsupdate.com 0", "ctldl.windowsupdate.com 1", "tlu.dl.delivery.mp.microsoft.com " + maxA}},
		// vxlan.pcap's frames, rewrapped by gen tunnel-rewrap.
		{"gre.pcap", "gre", vxlanFlows, vxlanDNS},
		{"gre-options.pcap", "gre", vxlanFlows, vxlanDNS},
		{"gretap.pcap", "gre", vxlanFlows, vxlanDNS},
		{"gre-in-gre.pcap", "gre", vxlanFlows, vxlanDNS},
		{"gre-udp.pcap", "gre-udp", vxlanFlows, vxlanDNS},
		{"erspan-i.pcap", "erspan-i", vxlanFlows, vxlanDNS},
		{"erspan-ii.pcap", "erspan-ii", vxlanFlows, vxlanDNS},
		{"erspan-iii.pcap", "erspan-iii", vxlanFlows, vxlanDNS},
		{"erspan-iii-dot1q.pcap", "erspan-iii", vxlanFlows, vxlanDNS},
		{"geneve.pcap", "geneve", vxlanFlows, vxlanDNS},
		{"gtp-u.pcap", "gtp-u", vxlanFlows, vxlanDNS},
		{"ipip.pcap", "ipip", vxlanFlows, vxlanDNS},
		{"4in6.pcap", "4in6", vxlanFlows, vxlanDNS},
		{"radiotap.pcap", "", vxlanFlows, vxlanDNS},
		{"ppi.pcap", "", vxlanFlows, vxlanDNS},
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
			if vm := netip.MustParseAddr("192.168.56.10"); run.VM != vm {
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

// TestTunnelledCapturesNotNamed analyses the fixtures whose inner packets
// name nothing: IPv6 inside 6in4 and 6in6 (taken off, then excluded as IPv6,
// so no VM is found, where the IPv4 outer headers would have made the
// tunnel's near end the VM), the VM's own PPTP tunnel (GRE version 1, left
// on: the VM's flow is the one to its VPN server, not tunnelled), and a DNS
// exchange nested past capture.MaxTunnelDepth (the packet reached at the
// bound is read as it is there, and the report lists the bound).
func TestTunnelledCapturesNotNamed(t *testing.T) {
	vm := netip.MustParseAddr("192.168.56.10")
	tests := []struct {
		file    string
		vm      netip.Addr
		flows   []string // every flow: "proto src:port -> dst:port tunnel=..."
		ipv6    uint64   // packets excluded as IPv6
		tooDeep uint64   // packets nested past the bound
	}{
		{"6in4.pcap", netip.Addr{}, nil, 43, 0},
		{"6in6.pcap", netip.Addr{}, nil, 43, 0},
		{"gre-pptp.pcap", vm, []string{"gre 192.168.56.10:0 -> 198.51.100.7:0 tunnel="}, 0, 0},
		{"too-deep.pcap", vm, []string{
			"udp 10.99.5.1:2152 -> 10.99.5.2:2152 tunnel=gre",
			"udp 192.168.56.10:48063 -> 192.168.56.1:53 tunnel=gre",
			"udp 192.168.56.10:51319 -> 192.168.56.1:53 tunnel=gre",
			"udp 192.168.56.10:57222 -> 192.168.56.1:53 tunnel=gre",
		}, 0, 2},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".pcap"), func(t *testing.T) {
			var flows []string
			cfg := classify.Config{OnFlow: func(r *classify.FlowRecord) {
				flows = append(flows, r.Proto+" "+netip.AddrPortFrom(r.Src, r.SPort).String()+" -> "+
					netip.AddrPortFrom(r.Dst, r.DPort).String()+" tunnel="+r.Tunnel)
			}}
			run, err := classifyFile(filepath.Join("..", "testdata", "tunnels", tt.file), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if run.VM != tt.vm {
				t.Errorf("VM = %v (%s); want %v", run.VM, run.VMHow, tt.vm)
			}
			sort.Strings(flows)
			if got, want := strings.Join(flows, "\n"), strings.Join(tt.flows, "\n"); got != want {
				t.Errorf("flows:\n%s\nwant:\n%s", got, want)
			}
			var ipv6 uint64
			if e := run.Excluded[classify.ScopeIPv6]; e != nil {
				ipv6 = e.Packets
			}
			if ipv6 != tt.ipv6 {
				t.Errorf("Excluded[%s] = %d packets; want %d", classify.ScopeIPv6, ipv6, tt.ipv6)
			}
			var tooDeep uint64
			for _, b := range run.Bounds {
				if strings.HasPrefix(b.What, "tunnel nesting") {
					tooDeep = b.Times
				}
			}
			if tooDeep != tt.tooDeep {
				t.Errorf("tunnel nesting bound reached %d times; want %d (Bounds %+v)", tooDeep, tt.tooDeep, run.Bounds)
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
