package classify

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
)

// recordOf is run as its record: runs are equal when their records are (the
// record writes a nil and an empty list alike, and every time in UTC).
func recordOf(t *testing.T, run *Run) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteRecord(&b, run, RecordMeta{}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func mustMerge(t *testing.T, runs ...*Run) *Run {
	t.Helper()
	m, err := Merge(runs...)
	if err != nil {
		t.Fatalf("Merge: %v", err)
	}
	return m
}

// mergeRun is a generated run of one VM (given or detected), sharing names,
// sets of names, addresses, bounds and anomalies with the other runs of
// the same family, so that merging them merges entries and not only
// concatenates.
func mergeRun(t *testing.T, seed uint64) *Run {
	run := fillRun(t, seed)
	run.VM = netip.MustParseAddr("192.168.56.10")
	run.VMDetected = seed%3 != 0
	run.VMHow = []string{"given with --vm", "detected: the local address that started the most flows",
		"detected: the local address that started the most flows, counted over the first 9 flows"}[seed%3]
	shared := fillRun(t, 1000) // the same in every run
	// The runs disagree on which flow of a shared name came first: by
	// its start, or, at one start, by the packet (a tie Merge breaks), or
	// know none (a record written before evidence was kept).
	vary := func(e *EvidenceRef) {
		switch seed % 4 {
		case 1:
			e.Frame += int64(seed)
		case 2:
			e.Start = e.Start.Add(-time.Duration(seed) * time.Minute)
		case 3:
			*e = EvidenceRef{}
		}
	}
	for k, n := range shared.Names {
		c := cloneName(n)
		c.Flows += int(seed)
		vary(&c.FirstEvidence)
		c.Starts = MergeStarts(c.Starts, []int64{int64(seed) * 1e9})
		run.Names[k] = c
	}
	for k, a := range shared.Ambiguous {
		c := cloneAmbiguous(a)
		vary(&c.FirstEvidence)
		run.Ambiguous[k] = c
	}
	for k, a := range shared.Unattributed {
		run.Unattributed[k] = cloneAddr(a)
	}
	run.Bounds = append(run.Bounds, shared.Bounds...)
	run.Anomalies = append(run.Anomalies, shared.Anomalies...)
	run.Truncation.SnapLen = 262
	// The busiest local address of each part of a capture of one VM is
	// the VM; runs that disagree on it are the one exception to
	// associativity (see Merge).
	run.BusiestLocal = run.VM
	// Run seed is the seed-th hour of one capture: a connection open
	// throughout is picked up at its start and open at its end, so
	// consecutive runs have one flow cut between them.
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).Add(time.Duration(seed) * time.Hour)
	conn := BoundaryFlow{Proto: "tcp", Src: run.VM, SPort: 50000, Dst: netip.MustParseAddr("20.42.65.92"), DPort: 443}
	at, open := conn, conn
	at.First = start.Add(time.Second)
	open.Last, open.Until = start.Add(time.Hour-time.Second), start.Add(2*time.Hour-time.Second)
	run.PickedUp = append(run.PickedUp, at)
	run.OpenAtEnd = append(run.OpenAtEnd, open)
	return run
}

// TestMergeCommutativeAssociative: on generated runs, Merge(a, b) is
// Merge(b, a), Merge(Merge(a, b), c) is Merge(a, Merge(b, c)) and Merge(a,
// b, c), and a run merged with an empty one, or alone, is itself.
func TestMergeCommutativeAssociative(t *testing.T) {
	for seed := uint64(0); seed < 30; seed += 3 {
		a, b, c := mergeRun(t, seed), mergeRun(t, seed+1), mergeRun(t, seed+2)
		ab, ba := mustMerge(t, a, b), mustMerge(t, b, a)
		if x, y := recordOf(t, ab), recordOf(t, ba); x != y {
			t.Errorf("seed %d: Merge(a, b) != Merge(b, a):\n%s", seed, firstDiffLine(x, y))
		}
		if n := cutCount(ab); n != 1 {
			t.Errorf("seed %d: Merge(a, b) counts %d flows cut; want 1 (one connection open across)", seed, n)
		}
		left := mustMerge(t, ab, c)
		right := mustMerge(t, a, mustMerge(t, b, c))
		all := mustMerge(t, c, a, b)
		if x, y := recordOf(t, left), recordOf(t, right); x != y {
			t.Errorf("seed %d: Merge(Merge(a, b), c) != Merge(a, Merge(b, c)):\n%s", seed, firstDiffLine(x, y))
		}
		if x, y := recordOf(t, left), recordOf(t, all); x != y {
			t.Errorf("seed %d: Merge(Merge(a, b), c) != Merge(c, a, b):\n%s", seed, firstDiffLine(x, y))
		}
		// a and c, the first and third hours, merged first: the
		// connection looks cut between them until b comes.
		if x, y := recordOf(t, mustMerge(t, mustMerge(t, a, c), b)), recordOf(t, all); x != y {
			t.Errorf("seed %d: Merge(Merge(a, c), b) != Merge(c, a, b):\n%s", seed, firstDiffLine(x, y))
		}
		if n := cutCount(all); n != 2 {
			t.Errorf("seed %d: Merge(a, b, c) counts %d flows cut; want 2", seed, n)
		}
		want := recordOf(t, a)
		for name, m := range map[string]*Run{
			"Merge(a, empty)": mustMerge(t, a, &Run{}), "Merge(empty, a)": mustMerge(t, &Run{}, a),
			"Merge(a)": mustMerge(t, a), "Merge(nil, a)": mustMerge(t, nil, a),
		} {
			if got := recordOf(t, m); got != want {
				t.Errorf("seed %d: %s != a:\n%s", seed, name, firstDiffLine(got, want))
			}
		}
		// The result shares nothing with the runs.
		before := recordOf(t, a)
		for _, n := range ab.Names {
			n.Evidence["poison"]++
			n.Flows++
			if len(n.Aliases) > 0 {
				n.Aliases[0] = "poison"
			}
		}
		for _, an := range ab.Anomalies {
			if len(an.Names) > 0 {
				an.Names[0] = "poison"
			}
		}
		if recordOf(t, a) != before {
			t.Errorf("seed %d: changing Merge(a, b) changed a", seed)
		}
	}
}

// cutCount is the flows Merge counted as cut at a boundary.
func cutCount(r *Run) uint64 {
	for _, b := range r.Bounds {
		if b.What == BoundCutFlows {
			return b.Times
		}
	}
	return 0
}

// firstDiffLine shows where two records first differ.
func firstDiffLine(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	from := max(0, i-80)
	return "  " + a[from:min(len(a), i+80)] + "\n  " + b[from:min(len(b), i+80)]
}

func TestMergeCounts(t *testing.T) {
	t0 := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	vm := netip.MustParseAddr("192.168.56.10")
	a := &Run{VM: vm, VMDetected: true, VMHow: "detected", First: t0, Last: t0.Add(time.Hour), Packets: 10, Bytes: 1000,
		InScope: Excluded{Packets: 8, Bytes: 800, Flows: 2},
		Names: map[string]*NameStat{"a.example": {Name: "a.example", Evidence: map[string]int{EvidenceSNI: 1}, Flows: 1,
			First: t0, Last: t0.Add(time.Minute), Protocols: []string{"TLS 1.3"}, Addrs: []netip.Addr{netip.MustParseAddr("20.0.0.2")}}},
		Excluded:   map[string]*Excluded{ScopeIPv6: {Packets: 2, Bytes: 200}},
		Truncation: Truncation{Frames: 1, SnapLen: 262},
		Sessions:   []capture.Session{{Interface: "virbr0", Start: t0.Add(2 * time.Hour)}},
	}
	b := &Run{VM: vm, VMHow: "given with --vm", First: t0.Add(2 * time.Hour), Last: t0.Add(3 * time.Hour), Packets: 5, Bytes: 500,
		Names: map[string]*NameStat{"a.example": {Name: "a.example", Evidence: map[string]int{EvidenceDNS: 2}, Flows: 2,
			First: t0.Add(-time.Minute), Last: t0, Protocols: []string{"HTTP"}, Addrs: []netip.Addr{netip.MustParseAddr("20.0.0.1")}}},
		Excluded:   map[string]*Excluded{ScopeIPv6: {Packets: 1, Bytes: 100}},
		Truncation: Truncation{Frames: 1, SnapLen: 128},
		Sessions:   []capture.Session{{Interface: "virbr0", Start: t0}},
	}
	m := mustMerge(t, a, b)
	n := m.Names["a.example"]
	switch {
	case m.Packets != 15 || m.Bytes != 1500 || m.InScope.Flows != 2 || m.Excluded[ScopeIPv6].Packets != 3:
		t.Errorf("Merge counts: packets %d, bytes %d, in scope %d, ipv6 %d; want 15, 1500, 2, 3", m.Packets, m.Bytes, m.InScope.Flows, m.Excluded[ScopeIPv6].Packets)
	case !m.First.Equal(t0) || !m.Last.Equal(t0.Add(3*time.Hour)):
		t.Errorf("Merge span %v to %v; want %v to %v", m.First, m.Last, t0, t0.Add(3*time.Hour))
	case n.Flows != 3 || n.Evidence[EvidenceSNI] != 1 || n.Evidence[EvidenceDNS] != 2 || !n.First.Equal(t0.Add(-time.Minute)) || !n.Last.Equal(t0.Add(time.Minute)):
		t.Errorf("merged name = %+v; want 3 flows, sni 1, dns 2, from t0-1m to t0+1m", n)
	case strings.Join(n.Protocols, ",") != "HTTP,TLS 1.3" || len(n.Addrs) != 2 || n.Addrs[0] != netip.MustParseAddr("20.0.0.1"):
		t.Errorf("merged name's lists = %v, %v; want HTTP,TLS 1.3 and both addresses in order", n.Protocols, n.Addrs)
	case m.Truncation.Frames != 2 || m.Truncation.SnapLen != 0:
		t.Errorf("merged truncation = %+v; want 2 frames, snap length 0 (two lengths)", m.Truncation)
	case len(m.Sessions) != 2 || !m.Sessions[0].Start.Equal(t0):
		t.Errorf("merged sessions = %+v; want both, by start", m.Sessions)
	case m.VM != vm || m.VMDetected || m.VMHow != vmHowMixed:
		t.Errorf("merged VM = %v detected %v (%q); want %v, given, and the mixed note", m.VM, m.VMDetected, m.VMHow, vm)
	}
	other := &Run{VM: netip.MustParseAddr("192.168.56.11"), VMDetected: true}
	if _, err := Merge(a, other); err == nil || !strings.Contains(err.Error(), "different VMs: 192.168.56.10 (run 1) and 192.168.56.11 (run 2)") {
		t.Errorf("Merge of two VMs = %v; want an error naming both", err)
	}
}

// TestMergeAsOneCapture: two captures analysed apart and merged have the
// names, sets of names, unattributed addresses and counts of the two
// analysed as one capture, when no flow crosses from one to the other.
func TestMergeAsOneCapture(t *testing.T) {
	fixtures := filepath.Join("..", "testdata", "fixtures")
	for _, tt := range []struct {
		name string
		a, b string
	}{
		{"tls_and_http", "tls-openssl.pcap", "http-keepalive-three-requests.pcap"},
		{"dns_chain_and_tls", "dns-cname-chain.pcap", "tls-curl.pcap"},
		{"sample_and_tls", filepath.Join("..", "sample", "idle-1909.pcapng"), "tls-go-mlkem-two-segments.pcap"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, b := filepath.Join(fixtures, tt.a), filepath.Join(fixtures, tt.b)
			cfg := Config{VM: netip.MustParseAddr("192.168.56.10")}
			analyze := func(paths ...string) *Run {
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
			whole := analyze(a, b)
			merged := mustMerge(t, analyze(a), analyze(b))
			if len(whole.Names) == 0 {
				t.Fatalf("the two captures name nothing: choose others")
			}
			// The bounded lists are sorted in a merge and in first-seen
			// order in an analysis; Inputs and InputStats name the same
			// files. Compare them sorted.
			for _, r := range []*Run{whole, merged} {
				for _, n := range r.Names {
					slices.Sort(n.Aliases)
					slices.Sort(n.Paths)
					slices.SortFunc(n.Addrs, netip.Addr.Compare)
				}
				for _, a := range r.Ambiguous {
					slices.SortFunc(a.Addrs, netip.Addr.Compare)
				}
				// A merged run keeps the flows at the ends of every
				// run, a whole capture those at its own ends.
				r.OpenAtEnd, r.PickedUp = nil, nil
				slices.Sort(r.Inputs)
				slices.SortFunc(r.InputStats, func(x, y capture.Input) int { return strings.Compare(x.Name, y.Name) })
			}
			if x, y := recordOf(t, merged), recordOf(t, whole); x != y {
				t.Errorf("Merge(analyze(%s), analyze(%s)) != analyze of both:\n%s", tt.a, tt.b, firstDiffLine(x, y))
			}
		})
	}
}

// TestMergeFirstEvidence: the merged name keeps the evidence of the flow
// that started first; at one start, the packet that sorts first
// (CompareEvidence); a run without evidence (an older record) gives way.
func TestMergeFirstEvidence(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	ev := func(file string, frame int64, start time.Time) EvidenceRef {
		return EvidenceRef{File: file, Frame: frame, Time: start, Kind: EvidenceSNI, Proto: "tcp",
			Src: netip.MustParseAddr("192.168.56.10"), SPort: 50000, Dst: netip.MustParseAddr("20.42.65.92"), DPort: 443, Start: start}
	}
	run := func(e EvidenceRef) *Run {
		return &Run{Names: map[string]*NameStat{"a.example": {Name: "a.example", Flows: 1, FirstEvidence: e}}}
	}
	for _, tt := range []struct {
		name string
		a, b EvidenceRef
		want EvidenceRef
	}{
		{"earlier_start_wins", ev("2.pcap", 5, t0.Add(time.Minute)), ev("1.pcap", 900, t0), ev("1.pcap", 900, t0)},
		{"tie_by_file", ev("b.pcap", 1, t0), ev("a.pcap", 7, t0), ev("a.pcap", 7, t0)},
		{"tie_by_frame", ev("a.pcap", 8, t0), ev("a.pcap", 7, t0), ev("a.pcap", 7, t0)},
		{"none_gives_way", EvidenceRef{}, ev("a.pcap", 7, t0), ev("a.pcap", 7, t0)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, m := range []*Run{mustMerge(t, run(tt.a), run(tt.b)), mustMerge(t, run(tt.b), run(tt.a))} {
				if got := m.Names["a.example"].FirstEvidence; got != tt.want {
					t.Errorf("Merge: FirstEvidence = %+v; want %+v", got, tt.want)
				}
			}
		})
	}
}
