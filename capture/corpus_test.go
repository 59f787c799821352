package capture

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/internal/testenv"
)

// corpusDir is the shared corpus, found at ../shared/corpus from the
// repository root; where it is absent, tests that need it skip, saying so
// (fail, in a strict run: see internal/testenv).
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(dir, "index.tsv")); err != nil {
		testenv.SkipOrFail(t, "corpus not found at %s (../shared/corpus from the repository root): %v; put the shared directory beside the repository", dir, err)
	}
	return dir
}

type truthFeatures struct {
	Frames int            `json:"frames"`
	Counts map[string]int `json:"counts"`
}

func readTruth(t testing.TB, path string) truthFeatures {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read truth: %v", err)
	}
	var v struct {
		Features truthFeatures `json:"features"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return v.Features
}

type readResult struct {
	frames, ipv4, tunneled int
	damage                 []Damage
	stats                  Stats
}

// readAll reads files to the end, failing on an error from Next.
func readAll(t testing.TB, paths []string) (readResult, error) {
	t.Helper()
	s, err := OpenFiles(paths, Options{})
	if err != nil {
		return readResult{}, err
	}
	defer s.Close()
	var r readResult
	var p Packet
	for {
		err := s.Next(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if p.Reassembled > 0 { // not a frame: rebuilt from fragments read before
			continue
		}
		r.frames++
		// tshark counts a frame with an IPv4 header at any layer: the
		// innermost packet's, or the outermost tunnel's (a frame whose
		// only IPv4 header is a middle one does not occur in the corpus).
		if p.L3 == L3IPv4 || p.Tunnel.Src.Is4() {
			r.ipv4++
		}
		if p.Tunnel.Depth > 0 {
			r.tunneled++
		}
	}
	r.damage, r.stats = s.Damage(), s.Stats()
	return r, nil
}

// devIPv4Exceptions lists dev captures whose IPv4 frame count differs from
// tshark's, and why. None is a link type an idle Windows VM capture has. An
// exception that stops being needed fails the test, so the list stays true.
var devIPv4Exceptions = map[string]string{
	"tcpdump__arcnet-rfc1051-arp-icmp-http.pcap": "link type 129 ARCNET (Linux) not decoded",
	"tcpdump__arcnet-rfc1201-arp-icmp-http.pcap": "link type 129 ARCNET (Linux) not decoded",
	"zeek__dns-inverse-query.pcap":               "link type 10 FDDI not decoded",
}

// devFrameExceptions lists dev captures whose frame count differs from tshark's.
var devFrameExceptions = map[string]string{}

// devDamage lists dev captures that hold damage all the same: their one
// Damage (its File is left out).
var devDamage = map[string]Damage{
	// A suricata-verify capture put together by hand: 3 of its 59 records
	// have a fraction of a second of 10^6 µs or more, the first at record 8.
	// Their framing is intact: all 59 are read, as tshark reads them.
	"sv__transform-base64-7296__input.pcap": {Kind: DamageReadOn, Offset: 747, Records: 3, Reason: "record at offset 747 has a fraction " +
		"of a second of 1011041 µs, not under 10^6 (corrupt timestamp); its framing is intact, so it and the records after it were " +
		"read, as tshark reads them, each such record timed at the last nanosecond of its second"},
}

func TestCorpusDevFrameCounts(t *testing.T) {
	dir := corpusDir(t)
	// Every file: one capture is named .trace.
	paths, _ := filepath.Glob(filepath.Join(dir, "dev", "*"))
	if len(paths) == 0 {
		testenv.SkipOrFail(t, "no captures in %s/dev: the shared corpus is incomplete; restore it", dir)
	}
	var exact, ipv4Exact, ipv4Checked int
	for _, path := range paths {
		name := filepath.Base(path)
		truth := readTruth(t, filepath.Join(dir, "truth", "dev", name+".json"))
		r, err := readAll(t, []string{path})
		if err != nil {
			t.Errorf("%s: OpenFiles: %v", name, err)
			continue
		}
		if want, ok := devDamage[name]; ok {
			want.File = path
			if len(r.damage) != 1 || r.damage[0] != want {
				t.Errorf("%s: damage %+v; want one: %+v", name, r.damage, want)
			}
		} else if len(r.damage) > 0 {
			t.Errorf("%s: damage in a clean capture: %v", name, r.damage)
		}
		if r.frames == truth.Frames {
			exact++
		} else if why, ok := devFrameExceptions[name]; ok {
			t.Logf("%s: frames = %d; tshark %d (known: %s)", name, r.frames, truth.Frames, why)
		} else {
			t.Errorf("%s: frames = %d; want %d (tshark)", name, r.frames, truth.Frames)
		}
		want, ok := truth.Counts["ipv4_frames"]
		if !ok {
			want = 0
		}
		ipv4Checked++
		if r.ipv4 == want {
			ipv4Exact++
			if why, ok := devIPv4Exceptions[name]; ok {
				t.Errorf("%s: ipv4 frames agree with tshark now; drop the stale exception %q", name, why)
			}
		} else if why, ok := devIPv4Exceptions[name]; ok {
			t.Logf("%s: ipv4 frames = %d; tshark %d (known: %s)", name, r.ipv4, want, why)
		} else {
			t.Errorf("%s: ipv4 frames = %d; want %d (tshark) link types %v", name, r.ipv4, want, r.stats.LinkTypes)
		}
	}
	t.Logf("frame counts: %d of %d files match tshark exactly; IPv4 frame counts: %d of %d", exact, len(paths), ipv4Exact, ipv4Checked)
}

// malformedExceptions lists malformed files where we read fewer frames than
// tshark: how many we read, and why.
var malformedExceptions = map[string]struct {
	frames int
	why    string
}{
	"derived__pcap_record_huge_incl_len.pcap": {1, "record at offset 106 claims 4294967280 bytes: " +
		"we stop there; tshark's pcap-variant guessing reads it as a 66-byte frame of wire length 649580544, then fails"},
	"sv__bug-6875-01__fuzz.pcap": {1, "record at offset 228 claims 1409179648 bytes: " +
		"we stop there; tshark reads it as a 1-byte frame of wire length 1048576, then fails"},
	"ndpi__fuzz-2021-10-13.pcap": {0, "the only record claims 524501 bytes (over MaxSnap) and the file ends 197 bytes into it: " +
		"tshark shows the partial record as a frame, we report damage"},
	"gopacket__le__test017.pcapng": {0, customBlocks},
	"gopacket__be__test017.pcapng": {0, customBlocks},
	"gopacket__le__test018.pcapng": {4, customBlocks},
	"gopacket__be__test018.pcapng": {4, customBlocks},
	"gopacket__le__test102.pcapng": {5, customBlocks},
	"gopacket__be__test102.pcapng": {5, customBlocks},
	"gopacket__le__test202.pcapng": {8, customBlocks},
	"gopacket__be__test202.pcapng": {8, customBlocks},
}

const customBlocks = "tshark lists pcapng custom blocks (types 0xBAD, 0x40000BAD) as frames; they hold no packet, and capinfos counts the packets we read"

func TestCorpusMalformed(t *testing.T) {
	dir := corpusDir(t)
	paths, _ := filepath.Glob(filepath.Join(dir, "malformed", "*"))
	if len(paths) == 0 {
		testenv.SkipOrFail(t, "no files in %s/malformed: the shared corpus is incomplete; restore it", dir)
	}
	var opened, refused, damaged, atLeast, exact int
	var maxAlloc uint64
	for _, path := range paths {
		name := filepath.Base(path)
		truth := readTruth(t, filepath.Join(dir, "truth", "malformed", name+".json"))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		r, err := readAll(t, []string{path})
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: read took %v", name, d)
		}
		runtime.ReadMemStats(&after)
		// OpenFiles opens each file twice (peek, then read): twice the
		// per-file bound of the package doc, and slack for the test itself.
		alloc := after.TotalAlloc - before.TotalAlloc
		if alloc > 4<<20 {
			t.Errorf("%s: reading allocated %d bytes; want under 4 MiB", name, alloc)
		}
		maxAlloc = max(maxAlloc, alloc)
		if err != nil {
			refused++
			if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), path) {
				t.Errorf("%s: OpenFiles error %q does not name the file and ErrUnknownFormat", name, err)
			}
			if truth.Frames > 0 {
				t.Errorf("%s: refused (%v) but tshark reads %d frames", name, err, truth.Frames)
			}
			t.Logf("%s: refused: %v", name, err)
			continue
		}
		opened++
		if len(r.damage) > 0 {
			damaged++
			for _, d := range r.damage {
				t.Logf("%s: damage: %s", name, d.Reason)
			}
		}
		switch {
		case r.frames == truth.Frames:
			exact++
			atLeast++
		case r.frames > truth.Frames:
			atLeast++
			t.Logf("%s: frames = %d; tshark %d", name, r.frames, truth.Frames)
		default:
			if e, ok := malformedExceptions[name]; ok {
				if r.frames != e.frames {
					t.Errorf("%s: frames = %d; want %d (%s)", name, r.frames, e.frames, e.why)
				}
				t.Logf("%s: frames = %d; tshark %d (known: %s)", name, r.frames, truth.Frames, e.why)
			} else {
				t.Errorf("%s: frames = %d; want at least %d (tshark) damage %v", name, r.frames, truth.Frames, r.damage)
			}
		}
	}
	t.Logf("malformed: %d files, %d opened (%d with damage), %d refused; %d read as many frames as tshark (%d exactly); most allocated for one file: %d bytes",
		len(paths), opened, damaged, refused, atLeast, exact, maxAlloc)
}

// devTunnelExceptions lists dev captures whose count of tunnelled frames
// differs from tshark's: ours, and why.
var devTunnelExceptions = map[string]struct {
	frames int
	why    string
}{
	"arkime__gtp-iphone.pcap": {106, "tshark's count leaves out the 4 frames (7, 83, 84, 89) whose ICMP error " +
		"quotes an IP packet; they are in GTP-U all the same (tshark -o ip.defragment:FALSE finds 106 frames with two IP headers)"},
	"ndpi__6in4tunnel.pcap": {0, "6in4 between 174.3.73.24 and the relay 184.105.255.26, both public: a " +
		"tunnel across the internet is the host's own traffic, kept as a flow to its public end, not taken off"},
	"ndpi__ja3_lots_of_cipher_suites_2_anon.pcap": {0, "GTP-U between 132.190.244.12 and 151.121.185.44, both " +
		"public: a tunnel across the internet is kept as a flow to its public end, not taken off"},
	"zeek__tunnels__gtp__gtp1_gn_normal_incl_fragmentation.pcap": {0, "GTP-U to 63.94.149.181, public: a " +
		"tunnel across the internet is kept as a flow to its public end, not taken off"},
	"zeek__tunnels__gtp__gtp6_gtp_0x32.pcap": {0, "GTP-U between 79.188.154.91 and 243.149.173.198, not " +
		"special-purpose at the outer source: a tunnel across the internet is kept as a flow to its public end, " +
		"not taken off"},
	"zeek__tunnels__Teredo.pcap": {0, "Teredo (UDP 3544) is not taken off: it is a host's own IPv6 over an IPv4 " +
		"flow to a Teredo server, and that IPv4 flow is the one to name"},
	"zeek__tunnels__ayiya3.pcap": {0, "AYIYA (UDP 5072) is not taken off: it is a host's own IPv6 over an IPv4 " +
		"flow to a tunnel broker, and that IPv4 flow is the one to name"},
}

// TestCorpusDevTunnels counts the frames each dev capture holds inside a
// tunnel against tshark's count (frames with more than one IP header, ICMP
// errors quoting one left out); devTunnelExceptions lists the differences.
func TestCorpusDevTunnels(t *testing.T) {
	dir := corpusDir(t)
	paths, _ := filepath.Glob(filepath.Join(dir, "dev", "*"))
	if len(paths) == 0 {
		testenv.SkipOrFail(t, "no captures in %s/dev: the shared corpus is incomplete; restore it", dir)
	}
	var files, frames, exact int
	for _, path := range paths {
		name := filepath.Base(path)
		truth := readTruth(t, filepath.Join(dir, "truth", "dev", name+".json"))
		want := truth.Counts["tunneled_frames"]
		r, err := readAll(t, []string{path})
		if err != nil {
			t.Errorf("%s: OpenFiles: %v", name, err)
			continue
		}
		e, excused := devTunnelExceptions[name]
		switch {
		case r.tunneled == want && excused:
			t.Errorf("%s: %d tunnelled frames, as tshark; drop the stale exception %q", name, want, e.why)
		case r.tunneled == want:
			if want > 0 {
				exact++
			}
		case excused && r.tunneled == e.frames:
			t.Logf("%s: %d tunnelled frames; tshark %d (known: %s)", name, r.tunneled, want, e.why)
		default:
			t.Errorf("%s: %d tunnelled frames; want %d (tshark)", name, r.tunneled, want)
		}
		if r.tunneled > 0 || want > 0 {
			files++
			frames += r.tunneled
		}
	}
	t.Logf("%d captures with tunnelled frames, %d frames; %d agree with tshark exactly", files, frames, exact)
}
