package capture

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// tunnelDir holds the tunnel and 802.11 captures (testdata/tunnels/README.md)
// and TRUTH.tsv, what tshark reads in each of their frames.
const tunnelDir = "../testdata/tunnels"

// tunnelFixtureKinds is the outermost encapsulation of every tunnelled frame
// of each capture, read from its bytes; EncapNone where no frame is.
var tunnelFixtureKinds = map[string]Encap{
	"vxlan.pcap":                                     EncapVXLAN,
	"vxlan-outer-fragments.pcap":                     EncapVXLAN,
	"vxlan-linux-port.pcap":                          EncapVXLAN,
	"erspan-ii.pcap":                                 EncapERSPANII,
	"erspan-iii.pcap":                                EncapERSPANIII,
	"zeek__erspan.pcap.gz":                           EncapGRE, // 0x6558, as Linux gretap sends it
	"zeek__erspanI.pcap":                             EncapERSPANI,
	"zeek__erspanII.pcap":                            EncapERSPANII,
	"zeek__erspanIII.pcap":                           EncapERSPANIII,
	"zeek__tunnels__gre-erspan3-dot1q.pcap":          EncapERSPANIII,
	"zeek__tunnels__gre-sample.pcap":                 EncapGRE,
	"zeek__tunnels__gre-within-gre.pcap.gz":          EncapGRE,
	"zeek__tunnels__gre-pptp.pcap":                   Encap4in6,
	"zeek__tunnels__4in4.pcap":                       EncapIPIP,
	"zeek__tunnels__4in6.pcap":                       Encap4in6,
	"zeek__tunnels__6in4.pcap":                       Encap6in4,
	"zeek__tunnels__6in6.pcap":                       Encap6in6,
	"zeek__tunnels__geneve.pcap":                     EncapGeneve,
	"zeek__tunnels__geneve-vxlan-dns-truncated.pcap": EncapGeneve,
	"zeek__tunnels__vxlan-triple-v2.pcap":            EncapVXLAN,
	"zeek__tunnels__vxlan-encapsulated-http.pcap":    EncapVXLAN,
	"zeek__tunnels__gtp__gtp_ext_header.pcap":        EncapGTPU,
	"zeek__tunnels__gtp__gtp3_false_gtp.pcap":        EncapNone,
	"zeek__radiotap.pcap":                            EncapNone,
	"zeek__wlanmon.pcap":                             EncapNone,
	"zeek__arp-who-has-radiotap.pcap":                EncapNone,
}

// tunnelFixtureExceptions lists the frames where Decode's innermost packet
// is not tshark's, per capture: how many, and why, from the bytes.
var tunnelFixtureExceptions = map[string]struct {
	frames int
	why    string
}{
	"zeek__tunnels__gre-pptp.pcap": {2, "IPv4 in IPv6, then enhanced GRE (version 1, PPTP) carrying PPP: tshark " +
		"reads the PPP, Decode leaves GRE version 1 on (a VPN client's own, its PPP usually encrypted), so the packet " +
		"is the IPv4 one carrying GRE"},
}

type tunnelTruth struct {
	frame        int
	protocols    string
	version      int
	src, dst     string
	transport    string
	sport, dport string
	line         int
}

func readTunnelTruth(t *testing.T) map[string][]tunnelTruth {
	t.Helper()
	f, err := os.Open(filepath.Join(tunnelDir, "TRUTH.tsv"))
	if err != nil {
		t.Fatalf("tunnel fixtures: %v (made by testdata/gen/make-tunnel-fixtures.sh)", err)
	}
	defer f.Close()
	out := map[string][]tunnelTruth{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		c := strings.Split(sc.Text(), "\t")
		if n == 1 {
			continue
		}
		if len(c) != 9 {
			t.Fatalf("TRUTH.tsv line %d: %d columns; want 9", n, len(c))
		}
		frame, _ := strconv.Atoi(c[1])
		ver, _ := strconv.Atoi(c[3])
		out[c[0]] = append(out[c[0]], tunnelTruth{frame: frame, protocols: c[2], version: ver, src: c[4], dst: c[5],
			transport: c[6], sport: c[7], dport: c[8], line: n})
	}
	return out
}

// TestTunnelFixtures decodes every frame of the tunnel and 802.11 captures
// and holds its innermost packet against tshark's (TRUTH.tsv, made with IP
// reassembly off, so one line per captured frame, and UDP 8472 read as VXLAN): version, addresses,
// transport and ports; a packet inside a tunnel that is not IP (ARP) is held
// by its tunnel's addresses, which tshark then reports as the innermost.
func TestTunnelFixtures(t *testing.T) {
	truth := readTunnelTruth(t)
	files, _ := filepath.Glob(filepath.Join(tunnelDir, "*.pcap*"))
	if len(files) != len(tunnelFixtureKinds) {
		t.Errorf("%d captures in %s; tunnelFixtureKinds names %d", len(files), tunnelDir, len(tunnelFixtureKinds))
	}
	var frames, tunnelled, agree int
	for _, path := range files {
		name := filepath.Base(path)
		want, ok := truth[name]
		if !ok {
			t.Errorf("%s: not in TRUTH.tsv; rerun testdata/gen/make-tunnel-fixtures.sh", name)
			continue
		}
		kind, ok := tunnelFixtureKinds[name]
		if !ok {
			t.Errorf("%s: no entry in tunnelFixtureKinds", name)
		}
		s, err := OpenFiles([]string{path}, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var p Packet
		i, differ := 0, 0
		for {
			err := s.Next(&p)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: Next: %v", name, err)
			}
			if p.Reassembled > 0 {
				continue
			}
			if i >= len(want) {
				t.Errorf("%s: more frames than tshark's %d", name, len(want))
				break
			}
			w := want[i]
			i++
			frames++
			if p.Tunnel.Depth > 0 {
				tunnelled++
				if p.Tunnel.Kind != kind {
					t.Errorf("%s frame %d: tunnel %v; want %v", name, w.frame, p.Tunnel.Kind, kind)
				}
			}
			wantS := w.summary()
			if p.L3 != L3IPv4 && p.L3 != L3IPv6 && p.Tunnel.Depth > 0 {
				wantS = w.addrs() + " (tunnel)"
			}
			if got := innermost(&p); got != wantS {
				differ++
				if _, ok := tunnelFixtureExceptions[name]; !ok {
					t.Errorf("%s frame %d (%s): Decode gives %q; tshark %q", name, w.frame, w.protocols, got, wantS)
				}
				continue
			}
			agree++
		}
		s.Close()
		if i != len(want) {
			t.Errorf("%s: %d frames; tshark %d", name, i, len(want))
		}
		if e, ok := tunnelFixtureExceptions[name]; ok && differ != e.frames {
			t.Errorf("%s: %d frames differ from tshark; the exception says %d (%s)", name, differ, e.frames, e.why)
		}
	}
	t.Logf("%d captures, %d frames, %d in tunnels; %d agree with tshark", len(files), frames, tunnelled, agree)
}

// summary writes a truth line's innermost packet as innermost does.
func (w tunnelTruth) summary() string {
	if w.version == 0 {
		return "non-ip"
	}
	s := w.addrs()
	switch {
	case w.version != 4:
	case w.transport == "icmp":
		s += " icmp"
	case w.transport != "":
		s += " " + w.transport + " " + w.sport + " > " + w.dport
	}
	return s
}

func (w tunnelTruth) addrs() string { return strconv.Itoa(w.version) + " " + w.src + " > " + w.dst }

// innermost writes what Decode made of p as tshark's truth puts it.
func innermost(p *Packet) string {
	switch {
	case p.L3 == L3IPv4:
		s := "4 " + p.Src.String() + " > " + p.Dst.String()
		switch {
		case p.Proto == 1:
			s += " icmp"
		case (p.Proto == 6 || p.Proto == 17) && (p.SrcPort != 0 || p.DstPort != 0):
			s += " " + protoWord(p.Proto) + " " + strconv.Itoa(int(p.SrcPort)) + " > " + strconv.Itoa(int(p.DstPort))
		}
		return s
	case p.L3 == L3IPv6:
		return "6 " + p.Src.String() + " > " + p.Dst.String()
	case p.Tunnel.Depth > 0: // not IP inside: tshark's innermost is the tunnel's
		v := "4"
		if p.Tunnel.Src.Is6() {
			v = "6"
		}
		return v + " " + p.Tunnel.Src.String() + " > " + p.Tunnel.Dst.String() + " (tunnel)"
	}
	return "non-ip"
}

func protoWord(p uint8) string {
	if p == 6 {
		return "tcp"
	}
	return "udp"
}

// TestTunnelDecodeAllocs: decoding real tunnelled frames, the GRE packets
// fragmented outside the tunnel among them, and rebuilding those allocates
// nothing once the Defragmenter has its slots.
func TestTunnelDecodeAllocs(t *testing.T) {
	var frames [][]byte
	var lts []uint16
	for _, name := range []string{"zeek__erspan.pcap.gz", "vxlan.pcap", "zeek__radiotap.pcap", "zeek__tunnels__gtp__gtp_ext_header.pcap"} {
		s, err := OpenFiles([]string{filepath.Join(tunnelDir, name)}, Options{Defrag: DefragConfig{Off: true}})
		if err != nil {
			t.Fatal(err)
		}
		var p Packet
		for s.Next(&p) == nil {
			frames = append(frames, append([]byte(nil), p.Frame...))
			lts = append(lts, p.LinkType)
		}
		s.Close()
	}
	d := NewDefragmenter(DefragConfig{})
	var p, q Packet
	rebuilt := 0
	pass := func() {
		for i, f := range frames {
			Decode(lts[i], f, &p)
			if d.Add(&p) {
				d.Datagram(&q)
				rebuilt++
			}
		}
	}
	pass() // the Defragmenter's slots and blocks
	if rebuilt == 0 {
		t.Fatal("no datagram rebuilt: the fixtures lost their fragments")
	}
	if n := testing.AllocsPerRun(20, pass); n != 0 {
		t.Errorf("decoding %d tunnelled frames and rebuilding their datagrams: %v allocs; want 0", len(frames), n)
	}
}
