package capture

import (
	"bufio"
	"fmt"
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

// tunnelFixtures is, for each capture, the outermost encapsulation and the
// depth of every tunnelled frame, read from its bytes (testdata/tunnels/README.md
// says how each was made); EncapNone where no frame is tunnelled.
var tunnelFixtures = map[string]struct {
	kind  Encap
	depth uint8
}{
	"vxlan.pcap":                 {EncapVXLAN, 1},
	"vxlan-outer-fragments.pcap": {EncapVXLAN, 1},
	"vxlan-linux-port.pcap":      {EncapVXLAN, 1},
	"gre.pcap":                   {EncapGRE, 1},
	"gre-options.pcap":           {EncapGRE, 1},
	"gretap.pcap":                {EncapGRE, 1}, // 0x6558, as Linux gretap sends it
	"gre-in-gre.pcap":            {EncapGRE, 2},
	"gre-udp.pcap":               {EncapGREUDP, 1},
	"gre-pptp.pcap":              {EncapNone, 0},
	"erspan-i.pcap":              {EncapERSPANI, 1},
	"erspan-ii.pcap":             {EncapERSPANII, 1},
	"erspan-iii.pcap":            {EncapERSPANIII, 1},
	"erspan-iii-dot1q.pcap":      {EncapERSPANIII, 1},
	"geneve.pcap":                {EncapGeneve, 1},
	"gtp-u.pcap":                 {EncapGTPU, 1},
	"ipip.pcap":                  {EncapIPIP, 1},
	"6in4.pcap":                  {Encap6in4, 1},
	"4in6.pcap":                  {Encap4in6, 1},
	"6in6.pcap":                  {Encap6in6, 1},
	"too-deep.pcap":              {EncapGRE, MaxTunnelDepth}, // 4 or 5 deep: taken off to the bound
	"radiotap.pcap":              {EncapNone, 0},
	"ppi.pcap":                   {EncapNone, 0},
}

// tunnelFixtureExceptions lists the frames where Decode's innermost packet
// is not tshark's, per capture: how many, and why, from the bytes.
var tunnelFixtureExceptions = map[string]struct {
	frames int
	why    string
}{
	"gre-pptp.pcap": {11, "enhanced GRE (version 1, PPTP) carrying PPP: tshark reads the PPP, Decode leaves GRE " +
		"version 1 on (a VPN client's own tunnel, its PPP usually encrypted), so the packet is the VM's IPv4 one " +
		"to its VPN server, carrying GRE"},
	"too-deep.pcap": {2, "the 2 frames nested five deep: Decode takes MaxTunnelDepth (4) encapsulations off and " +
		"leaves the fifth (GTP-U) on, marked TooDeep, so the packet is the UDP one to port 2152 inside Geneve; " +
		"tshark reads through all five"},
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
	if len(files) != len(tunnelFixtures) {
		t.Errorf("%d captures in %s; tunnelFixtures names %d", len(files), tunnelDir, len(tunnelFixtures))
	}
	var frames, tunnelled, tooDeep, agree int
	for _, path := range files {
		name := filepath.Base(path)
		want, ok := truth[name]
		if !ok {
			t.Errorf("%s: not in TRUTH.tsv; rerun testdata/gen/make-tunnel-fixtures.sh", name)
			continue
		}
		fx, ok := tunnelFixtures[name]
		if !ok {
			t.Errorf("%s: no entry in tunnelFixtures", name)
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
				if p.Tunnel.Kind != fx.kind || p.Tunnel.Depth != fx.depth {
					t.Errorf("%s frame %d: tunnel %v, depth %d; want %v, depth %d", name, w.frame, p.Tunnel.Kind, p.Tunnel.Depth, fx.kind, fx.depth)
				}
			} else if fx.kind != EncapNone && !p.Fragment {
				t.Errorf("%s frame %d: not tunnelled; want %v", name, w.frame, fx.kind)
			}
			if p.Tunnel.TooDeep {
				tooDeep++
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
	if want := tunnelFixtureExceptions["too-deep.pcap"].frames; tooDeep != want {
		t.Errorf("%d frames nested past MaxTunnelDepth; want %d (too-deep.pcap)", tooDeep, want)
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

// TestTunnelDecodeAllocs: decoding real tunnelled frames, the gretap
// packets fragmented outside the tunnel among them, and rebuilding those
// allocates nothing once the Defragmenter has its slots.
func TestTunnelDecodeAllocs(t *testing.T) {
	var frames [][]byte
	var lts []uint16
	for _, name := range []string{"gretap.pcap", "vxlan.pcap", "erspan-iii-dot1q.pcap", "geneve.pcap", "gtp-u.pcap", "4in6.pcap", "too-deep.pcap", "radiotap.pcap", "ppi.pcap"} {
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
			for more := d.Add(&p); more; more = d.Add(&q) {
				d.Datagram(&q)
				rebuilt++
			}
		}
	}
	pass() // the Defragmenter's slots and blocks
	// A DNS answer fragmented inside the tunnel in each of the 9
	// captures, and in gretap.pcap 3 datagrams fragmented outside GRE, one
	// of them that answer's first fragment.
	if rebuilt != 12 {
		t.Fatalf("%d datagrams rebuilt; want 12: the fixtures lost their fragments", rebuilt)
	}
	if n := testing.AllocsPerRun(20, pass); n != 0 {
		t.Errorf("decoding %d tunnelled frames and rebuilding their datagrams: %v allocs; want 0", len(frames), n)
	}
}

// TestTunnelFragmentedOutsideAndInside: in gretap.pcap a DNS answer the
// gateway fragmented inside the tunnel (MTU 1450) is mirrored over a path of
// MTU 1400, so its first fragment is fragmented again outside the tunnel.
// Next rebuilds the outer datagram, then, from it and the second inner
// fragment, the answer: a UDP datagram inside GRE, whole. Before, the
// rebuilt outer datagram was an inner fragment that went no further, and
// the answer's names were lost.
func TestTunnelFragmentedOutsideAndInside(t *testing.T) {
	s, err := OpenFiles([]string{filepath.Join(tunnelDir, "gretap.pcap")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var p Packet
	var rebuilt []string
	answer := false
	for {
		err := s.Next(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.Reassembled == 0 {
			continue
		}
		got := innermost(&p)
		if p.Fragment {
			got += " fragment"
		}
		rebuilt = append(rebuilt, got)
		if p.Proto == 17 && p.SrcPort == 53 && !p.Fragment {
			answer = true
			if p.Truncated || p.Tunnel.Kind != EncapGRE || p.Tunnel.Depth != 1 || p.Reassembled != 2 {
				t.Errorf("rebuilt answer: Truncated %v, tunnel %v depth %d, from %d fragments; want false, gre depth 1, 2",
					p.Truncated, p.Tunnel.Kind, p.Tunnel.Depth, p.Reassembled)
			}
			if len(p.Payload) < 2000 {
				t.Errorf("rebuilt answer: %d bytes of payload; want the whole 2 KB answer", len(p.Payload))
			}
		}
	}
	if !answer {
		t.Errorf("datagrams rebuilt:\n%s\nwant the DNS answer from 192.168.56.1:53 among them", strings.Join(rebuilt, "\n"))
	}
}

// TestDefragInsideCompletedByOutside: gretap.pcap's DNS answer with its
// inner second fragment first (frame 46 before 44 and 45: some stacks send
// the last fragment first), so that the datagram rebuilt outside GRE is the
// one that completes the answer inside it. Given back to Add as FileSet.Next
// does, before its caller reads it, it must stay whole while the answer is
// rebuilt.
func TestDefragInsideCompletedByOutside(t *testing.T) {
	s, err := OpenFiles([]string{filepath.Join(tunnelDir, "gretap.pcap")}, Options{Defrag: DefragConfig{Off: true}})
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	var p Packet
	for s.Next(&p) == nil {
		frames = append(frames, append([]byte(nil), p.Frame...))
	}
	s.Close()
	if len(frames) != 46 {
		t.Fatalf("gretap.pcap: %d frames; want 46", len(frames))
	}
	frames = append(frames[:43], frames[45], frames[43], frames[44])
	d := NewDefragmenter(DefragConfig{})
	var q Packet
	var rebuilt []string
	for _, f := range frames {
		Decode(LinkTypeEthernet, f, &p)
		if !d.Add(&p) {
			continue
		}
		for more := true; more; {
			d.Datagram(&q)
			got := innermost(&q)
			if q.Fragment {
				got += " fragment"
			}
			if q.SrcPort == 53 && !q.Fragment && (len(q.Payload) < 2000 || q.Tunnel.Kind != EncapGRE || q.Tunnel.Depth != 1) {
				got += fmt.Sprintf(" (%d bytes of payload, tunnel %v depth %d; want 2 KB, gre depth 1)", len(q.Payload), q.Tunnel.Kind, q.Tunnel.Depth)
			}
			rebuilt = append(rebuilt, got)
			frag, payload := q.Fragment, len(q.Payload)
			more = d.Add(&q)
			var again Packet
			Decode(LinkTypeIPv4, q.Frame, &again)
			if innermost(&again) != innermost(&q) || again.Fragment != frag || len(again.Payload) != payload {
				t.Errorf("datagram %q (%d bytes of payload), given back to Add: its Frame now decodes as %q (fragment %v, %d bytes)",
					got, payload, innermost(&again), again.Fragment, len(again.Payload))
			}
		}
	}
	want := []string{
		"4 23.56.3.67 > 192.168.56.10 tcp 80 > 44540",
		"4 23.56.3.67 > 192.168.56.10 tcp 80 > 44540",
		"4 192.168.56.1 > 192.168.56.10 udp 53 > 48063 fragment",
		"4 192.168.56.1 > 192.168.56.10 udp 53 > 48063",
	}
	if got := strings.Join(rebuilt, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("datagrams rebuilt:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}
