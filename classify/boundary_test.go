package classify

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
)

func TestCutFlows(t *testing.T) {
	server := netip.MustParseAddr("20.42.65.92")
	tcp := BoundaryFlow{Proto: "tcp", Src: vm, SPort: 50000, Dst: server, DPort: 443}
	open := func(b BoundaryFlow, last, until time.Duration) BoundaryFlow {
		b.Last, b.Until = t0.Add(last), t0.Add(until)
		return b
	}
	at := func(b BoundaryFlow, first time.Duration) BoundaryFlow {
		b.First = t0.Add(first)
		return b
	}
	swapped := BoundaryFlow{Proto: "tcp", Src: server, SPort: 443, Dst: vm, DPort: 50000}
	udp := tcp
	udp.Proto = "udp"
	for _, tt := range []struct {
		name   string
		open   []BoundaryFlow
		picked []BoundaryFlow
		want   uint64
	}{
		{"one_cut", []BoundaryFlow{open(tcp, 10, 100)}, []BoundaryFlow{at(tcp, 20)}, 1},
		{"picked_up_after_expiry", []BoundaryFlow{open(tcp, 10, 100)}, []BoundaryFlow{at(tcp, 101)}, 0},
		{"picked_up_at_expiry", []BoundaryFlow{open(tcp, 10, 100)}, []BoundaryFlow{at(tcp, 100)}, 1},
		{"picked_up_at_its_last_packet", []BoundaryFlow{open(tcp, 10, 100)}, []BoundaryFlow{at(tcp, 10)}, 0},
		{"picked_up_before", []BoundaryFlow{open(tcp, 10, 100)}, []BoundaryFlow{at(tcp, 5)}, 0},
		{"no_open_flow", nil, []BoundaryFlow{at(tcp, 20)}, 0},
		{"client_taken_the_other_way", []BoundaryFlow{open(tcp, 10, 100)}, []BoundaryFlow{at(swapped, 20)}, 1},
		{"other_protocol", []BoundaryFlow{open(tcp, 10, 100)}, []BoundaryFlow{at(udp, 20)}, 0},
		{"two_picked_up_one_open", []BoundaryFlow{open(tcp, 10, 100)}, []BoundaryFlow{at(tcp, 20), at(tcp, 30)}, 1},
		// The later open flow is the nearest: the earlier one's rest is
		// not in these lists (its run was not merged, or it ended).
		{"nearest_open_expired", []BoundaryFlow{open(tcp, 10, 100), open(tcp, 50, 55)}, []BoundaryFlow{at(tcp, 60)}, 0},
		{"three_pieces", []BoundaryFlow{open(tcp, 10, 100), open(tcp, 50, 150)}, []BoundaryFlow{at(tcp, 20), at(tcp, 60)}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := cutFlows(tt.open, tt.picked); got != tt.want {
				t.Errorf("cutFlows(%v, %v) = %d; want %d", tt.open, tt.picked, got, tt.want)
			}
			// The lists as sets: their order does not matter.
			o, p := slices.Clone(tt.open), slices.Clone(tt.picked)
			slices.Reverse(o)
			slices.Reverse(p)
			if got := cutFlows(o, p); got != tt.want {
				t.Errorf("cutFlows reversed = %d; want %d", got, tt.want)
			}
		})
	}
}

// TestBoundaryFlows: the classifier keeps the flows open when its input
// ends, with when each would expire, and those picked up mid-stream near
// its start: TCP without a SYN within TCPIdle, other flows within UDPIdle.
func TestBoundaryFlows(t *testing.T) {
	server := netip.MustParseAddr("20.42.65.92")
	f := newFeed(t, Config{VM: vm})
	f.pkt(6, vm, 50000, server, 443, capture.TCPAck|capture.TCPPsh, 7, []byte("mid-stream")) // picked up
	f.pkt(17, vm, 50001, resolver, 53, 0, 0, dnsQueryMsg(t, 1, "a.example"))                 // picked up
	f.conn(50002, server, 443)                                                               // a SYN: not picked up
	f.pkt(6, server, 443, vm, 50003, capture.TCPSyn|capture.TCPAck, 9, nil)                  // picked up: its SYN may be in the file before
	f.now = t0.Add(10 * time.Minute)
	f.pkt(17, vm, 50004, resolver, 53, 0, 0, dnsQueryMsg(t, 2, "b.example"))   // past UDPIdle: not picked up
	f.pkt(6, vm, 50005, server, 443, capture.TCPAck, 7, nil)                   // within TCPIdle: picked up
	f.pkt(6, vm, 50002, server, 443, capture.TCPFin|capture.TCPAck, 1001, nil) // closing, lingers
	f.pkt(6, server, 443, vm, 50002, capture.TCPFin|capture.TCPAck, 5001, nil)
	f.now = t0.Add(2 * time.Hour)
	f.pkt(6, vm, 50006, server, 443, capture.TCPAck, 7, nil) // past TCPIdle: not picked up; the others expire
	run := f.c.Finish()
	var picked []uint16
	for _, b := range run.PickedUp {
		picked = append(picked, b.SPort)
	}
	if want := []uint16{50000, 50003, 50005, 50001}; !slices.Equal(picked, want) {
		t.Errorf("picked up: source ports %v; want %v (TCP, then UDP)", picked, want)
	}
	if len(run.OpenAtEnd) != 1 || run.OpenAtEnd[0].SPort != 50006 || !run.OpenAtEnd[0].Last.Equal(f.now) ||
		!run.OpenAtEnd[0].Until.Equal(f.now.Add(time.Hour)) {
		t.Errorf("open at end = %+v; want the flow from port 50006, last at %v, until an hour later", run.OpenAtEnd, f.now)
	}

	// Before the sweep at two hours: each open flow expires after its
	// own state's timeout.
	f = newFeed(t, Config{VM: vm})
	f.conn(50002, server, 443)
	f.pkt(6, vm, 50002, server, 443, capture.TCPRst, 1001, nil)
	f.pkt(17, vm, 50001, resolver, 53, 0, 0, dnsQueryMsg(t, 1, "a.example"))
	f.conn(50003, server, 443)
	run = f.c.Finish()
	idle := map[uint16]time.Duration{50002: 30 * time.Second, 50001: 5 * time.Minute, 50003: time.Hour}
	if len(run.OpenAtEnd) != 3 {
		t.Fatalf("open at end = %+v; want 3 flows", run.OpenAtEnd)
	}
	for _, b := range run.OpenAtEnd {
		if got := b.Until.Sub(b.Last); got != idle[b.SPort] {
			t.Errorf("open flow from port %d expires %v after its last packet; want %v", b.SPort, got, idle[b.SPort])
		}
	}
}

// TestMergePiecesOfSample splits the sample capture at three points
// (editcap -r, or the pieces committed in testdata/sample/pieces when
// editcap is missing), analyses each piece and merges the runs: the merged
// run has the packets and bytes of the sample analysed whole, and as many
// more flows as flows were cut, which Merge counts exactly: the flows of the
// whole capture with a packet on each side of a cut point. The names the
// pieces lose at a boundary (a DNS query in one piece, its answer in the
// next) are listed with counts.
func TestMergePiecesOfSample(t *testing.T) {
	sample := filepath.Join("..", "testdata", "sample", "idle-1909.pcapng")
	// The pieces end after these packets (of 912, as the sample is now).
	cuts := []int{150, 400, 700}
	cfg := Config{VM: vm}
	var flows []FlowRecord
	whole := analyzeFiles(t, Config{VM: vm, OnFlow: func(r *FlowRecord) { flows = append(flows, *r) }}, sample)
	pieces := samplePieces(t, sample, cuts, int(whole.Packets))
	var runs []*Run
	for _, p := range pieces {
		runs = append(runs, analyzeFiles(t, cfg, p))
	}
	// The flows open across each cut: a packet at or before the last of
	// the piece before it, and one at or after the first of the piece
	// after it (the sample has no two packets at one time).
	var want uint64
	for i := range cuts {
		for _, fl := range flows {
			if !fl.FirstSeen.After(runs[i].Last) && !fl.LastSeen.Before(runs[i+1].First) {
				want++
			}
		}
	}
	merged := mustMerge(t, runs...)
	if got := cutCount(merged); got != want || want == 0 {
		t.Errorf("Merge of the pieces counts %d flows cut; want %d, the flows of the whole open across a cut (and some)", got, want)
	}
	if got, w := allFlows(merged), allFlows(whole)+want; got != w {
		t.Errorf("Merge of the pieces has %d flows; want %d: the whole's %d and %d cut flows counted twice", got, w, allFlows(whole), want)
	}
	if merged.Packets != whole.Packets || merged.Bytes != whole.Bytes || merged.InScope.Packets != whole.InScope.Packets ||
		merged.InScope.Bytes != whole.InScope.Bytes || !merged.First.Equal(whole.First) || !merged.Last.Equal(whole.Last) {
		t.Errorf("Merge of the pieces: %d packets, %d bytes, %d and %d in scope, %v to %v; want the whole's %d, %d, %d, %d, %v to %v",
			merged.Packets, merged.Bytes, merged.InScope.Packets, merged.InScope.Bytes, merged.First, merged.Last,
			whole.Packets, whole.Bytes, whole.InScope.Packets, whole.InScope.Bytes, whole.First, whole.Last)
	}
	// Every name of the whole is in the merged run; those with more
	// flows (cut flows named in both halves) or fewer are listed.
	var lost, extra []string
	for k, n := range whole.Names {
		m := merged.Names[k]
		switch {
		case m == nil:
			lost = append(lost, k)
		case m.Flows != n.Flows:
			// Fewer: a flow after a cut that a DNS answer before it
			// named in the whole.
			extra = append(extra, k+" "+strconv.Itoa(m.Flows-n.Flows))
		}
	}
	for k := range merged.Names {
		if whole.Names[k] == nil {
			extra = append(extra, k+" (not in the whole)")
		}
	}
	var newAddrs []string
	for a := range merged.Unattributed {
		if whole.Unattributed[a] == nil {
			newAddrs = append(newAddrs, a.String())
		}
	}
	slices.Sort(extra)
	slices.Sort(newAddrs)
	// The halves after cuts 150 (a TLS connection to
	// slscr.update.microsoft.com) and 700 (the push connection to
	// client.wns.windows.com) have no SNI: their servers are
	// unattributed, and the names keep the flows and the bytes of the
	// halves before. The third cut flow is a DNS query before cut 400 and
	// its answer after it: the answer matches no query of its piece.
	var wantExtra []string
	wantAddrs := []string{"20.72.205.209", "52.177.166.224"}
	if len(lost) > 0 || !slices.Equal(extra, wantExtra) || !slices.Equal(newAddrs, wantAddrs) {
		t.Errorf("names lost %v, with other flow counts %v, new unattributed addresses %v; want none, %v, %v", lost, extra, newAddrs, wantExtra, wantAddrs)
	}
	if merged.DNS.Unrequested != 1 || whole.DNS.Unrequested != 0 {
		t.Errorf("unrequested DNS answers: merged %d, whole %d; want 1 (a query before a cut, its answer after) and 0", merged.DNS.Unrequested, whole.DNS.Unrequested)
	}
}

// samplePieces splits sample, of packets packets, after each of cuts: with editcap into a
// temporary directory when it is installed, else the committed pieces.
func samplePieces(t *testing.T, sample string, cuts []int, packets int) []string {
	t.Helper()
	committed := filepath.Join("..", "testdata", "sample", "pieces")
	var pieces []string
	editcap, err := exec.LookPath("editcap")
	dir := t.TempDir()
	if err != nil {
		t.Logf("editcap not found (Debian: apt-get install wireshark-common): the committed pieces in %s are used", committed)
	}
	from := 1
	for i, to := range append(slices.Clone(cuts), packets) {
		name := "idle-1909-" + strconv.Itoa(i+1) + ".pcapng"
		if editcap == "" {
			pieces = append(pieces, filepath.Join(committed, name))
			continue
		}
		out := filepath.Join(dir, name)
		cmd := exec.Command(editcap, "-r", sample, out, strconv.Itoa(from)+"-"+strconv.Itoa(to))
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", cmd, err, b)
		}
		pieces = append(pieces, out)
		from = to + 1
	}
	for _, p := range pieces {
		if _, err := os.Stat(p); err != nil {
			t.Fatal(err)
		}
	}
	return pieces
}

func analyzeFiles(t *testing.T, cfg Config, paths ...string) *Run {
	t.Helper()
	src, err := capture.OpenFiles(paths, capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	run, err := Analyze(src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

// allFlows is every flow of r, in scope or not.
func allFlows(r *Run) uint64 {
	n := r.InScope.Flows
	for _, e := range r.Excluded {
		n += e.Flows
	}
	return n
}
