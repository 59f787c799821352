package classify

import (
	"errors"
	"io"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
)

// replay is a Source that serves n packets of one TLS connection from the
// VM (a SYN, then bulk data both ways), then io.EOF or err, and says
// whatever damage, bounds and stats it is given.
type replay struct {
	n, i    int
	err     error
	now     time.Time
	seq     uint32
	bulk    []byte
	damage  []capture.Damage
	bounds  []capture.Bound
	stats   capture.Stats
	linkTyp uint16
}

func newReplay(n int) *replay {
	bulk := make([]byte, 1448)
	bulk[0] = 0x17 // TLS application data: not a ClientHello, not HTTP
	return &replay{n: n, now: t0, seq: 1, bulk: bulk, linkTyp: capture.LinkTypeEthernet}
}

func (r *replay) Next(p *capture.Packet) error {
	if r.i >= r.n {
		if r.err != nil {
			return r.err
		}
		return io.EOF
	}
	r.now = r.now.Add(time.Millisecond)
	*p = capture.Packet{Timestamp: r.now, WireLen: 1502, LinkType: r.linkTyp, L3: capture.L3IPv4, Proto: 6,
		Src: vm, Dst: pub, SrcPort: 50001, DstPort: 443, TCPFlags: capture.TCPAck, Seq: r.seq, Payload: r.bulk}
	switch {
	case r.i == 0:
		p.TCPFlags, p.Payload = capture.TCPSyn, nil
	case r.i%2 == 0:
		p.Src, p.Dst, p.SrcPort, p.DstPort, p.Seq = pub, vm, 443, 50001, 1
	default:
		r.seq += uint32(len(r.bulk))
	}
	r.i++
	return nil
}

func (r *replay) Damage() []capture.Damage { return r.damage }
func (r *replay) Stats() capture.Stats     { return r.stats }
func (r *replay) Bounds() []capture.Bound  { return r.bounds }

var pub = netip.MustParseAddr("20.42.65.92")

// TestAnalyzeAllocatesNothingPerPacket: Analyze of 41 000 packets allocates
// what Analyze of 1 000 does (the classifier, the run), with progress
// reported: nothing per packet.
func TestAnalyzeAllocatesNothingPerPacket(t *testing.T) {
	allocs := func(n int) float64 {
		return testing.AllocsPerRun(5, func() {
			calls := 0
			cfg := Config{VM: vm, Progress: func(uint64) { calls++ }}
			if _, err := Analyze(newReplay(n), cfg); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := allocs(1000), allocs(41000)
	if large != small {
		t.Errorf("allocations of Analyze over 1 000 packets = %v, over 41 000 = %v; want the same (none per packet)", small, large)
	}
}

// TestAnalyzeTakesTheSourcesFacts: the run carries the inputs named in the
// config, the source's damage, its bounds (after the classifier's) and its
// frames of link types that cannot be decoded, by name; progress is called
// every ProgressEvery packets.
func TestAnalyzeTakesTheSourcesFacts(t *testing.T) {
	src := newReplay(2*ProgressEvery + 5)
	src.damage = []capture.Damage{{File: "a.pcap", Offset: 24, Reason: "cut"}}
	src.bounds = []capture.Bound{{What: "IPv4 reassembly timeout", Limit: 30, Times: 2}}
	src.stats = capture.Stats{Unsupported: map[uint16]int{105: 7}}
	var progress []uint64
	cfg := Config{VM: vm, Inputs: []string{"a.pcap", "b.pcap"}, Progress: func(n uint64) { progress = append(progress, n) }}
	run, err := Analyze(src, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.pcap", "b.pcap"}; !reflect.DeepEqual(run.Inputs, want) {
		t.Errorf("Run.Inputs = %q; want %q", run.Inputs, want)
	}
	cfg.Inputs[0] = "changed"
	if run.Inputs[0] != "a.pcap" {
		t.Errorf("Run.Inputs shares its array with Config.Inputs")
	}
	if !reflect.DeepEqual(run.Damage, src.damage) {
		t.Errorf("Run.Damage = %+v; want %+v", run.Damage, src.damage)
	}
	if !reflect.DeepEqual(run.Bounds, src.bounds) {
		t.Errorf("Run.Bounds = %+v; want the source's, %+v (the classifier reached none)", run.Bounds, src.bounds)
	}
	if want := map[string]uint64{capture.LinkTypeName(105): 7}; !reflect.DeepEqual(run.Unsupported, want) {
		t.Errorf("Run.Unsupported = %v; want %v", run.Unsupported, want)
	}
	if want := []uint64{ProgressEvery, 2 * ProgressEvery}; !reflect.DeepEqual(progress, want) {
		t.Errorf("progress calls = %v; want %v", progress, want)
	}
	if run.Packets != uint64(src.n) || run.InScope.Flows != 1 {
		t.Errorf("Run.Packets, InScope.Flows = %d, %d; want %d, 1", run.Packets, run.InScope.Flows, src.n)
	}
}

// TestAnalyzeSourceError: an error from Next other than io.EOF ends the
// analysis and is returned as it is.
func TestAnalyzeSourceError(t *testing.T) {
	src := newReplay(10)
	src.err = errors.New("read b.pcap: input/output error")
	run, err := Analyze(src, Config{})
	if err != src.err || run != nil {
		t.Errorf("Analyze = %v, %v; want nil, %v", run, err, src.err)
	}
}

// TestRunBusiestLocal: with a --vm that starts no flow, the run still names
// the local address that started the most, for the report to suggest.
func TestRunBusiestLocal(t *testing.T) {
	other := netip.MustParseAddr("192.168.56.99")
	run, err := Analyze(newReplay(10), Config{VM: other})
	if err != nil {
		t.Fatal(err)
	}
	if run.VM != other || run.VMFlows != 0 || run.BusiestLocal != vm || run.BusiestLocalFlows != 1 {
		t.Errorf("VM, VMFlows, BusiestLocal, BusiestLocalFlows = %v, %d, %v, %d; want %v, 0, %v, 1",
			run.VM, run.VMFlows, run.BusiestLocal, run.BusiestLocalFlows, other, vm)
	}
	run, err = Analyze(newReplay(0), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if run.BusiestLocal.IsValid() || run.BusiestLocalFlows != 0 {
		t.Errorf("no packets: BusiestLocal, BusiestLocalFlows = %v, %d; want none", run.BusiestLocal, run.BusiestLocalFlows)
	}
}

// idling is a Source that says capture.ErrIdle before every packet of the
// source it wraps, and stops the wrapped source early when told to.
type idling struct {
	Source
	idle  bool
	stopN int
	n     int
}

func (s *idling) Next(p *capture.Packet) error {
	if s.idle = !s.idle; s.idle {
		return capture.ErrIdle
	}
	if s.stopN > 0 && s.n >= s.stopN {
		return io.EOF
	}
	s.n++
	return s.Source.Next(p)
}

// TestAnalyzePollsWhenIdle checks that a source's ErrIdle reaches
// Config.Poll with a view of the run so far, and changes nothing in the run.
func TestAnalyzePollsWhenIdle(t *testing.T) {
	want, err := Analyze(newReplay(40), Config{})
	if err != nil {
		t.Fatal(err)
	}
	var polls int
	var last *Run
	got, err := Analyze(&idling{Source: newReplay(40)}, Config{Poll: func(v *View) {
		polls++
		if v.Packets() != uint64(polls-1) {
			t.Errorf("poll %d: Packets() = %d; want %d", polls, v.Packets(), polls-1)
		}
		last = v.Snapshot()
	}})
	if err != nil {
		t.Fatal(err)
	}
	if polls != 41 {
		t.Errorf("Poll called %d times; want 41 (once before each packet and before the end)", polls)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("run with polls = %+v; want %+v", got, want)
	}
	if !reflect.DeepEqual(last, want) {
		t.Errorf("last snapshot (all packets read) = %+v; want the final run %+v", last, want)
	}
}
