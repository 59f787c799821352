package classify

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// every returns n start times from t0, one each interval, each moved by up
// to jitter either way (from a fixed seed), and a burst of extra flows
// within BurstGap after each.
func every(t0 time.Time, n int, interval, jitter time.Duration, burst int) []time.Time {
	rnd := rand.New(rand.NewPCG(1, 2))
	var out []time.Time
	for i := range n {
		t := t0.Add(time.Duration(i) * interval)
		if jitter > 0 {
			t = t.Add(time.Duration(rnd.Int64N(int64(2*jitter))) - jitter)
		}
		out = append(out, t)
		for j := range burst {
			out = append(out, t.Add(time.Duration(j+1)*5*time.Second))
		}
	}
	return out
}

// startsOf adds times to a name's start times in the order given, as the
// classifier does when its flows finish.
func startsOf(times []time.Time) []int64 {
	var s []int64
	for _, t := range times {
		s = addStart(s, nanos(t))
	}
	return s
}

func TestRhythm(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	shuffled := every(t0, 20, 15*time.Minute, 0, 0)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, tt := range []struct {
		name     string
		times    []time.Time
		words    string
		contacts int
		median   time.Duration
		sampled  bool
	}{
		{"no_flow", nil, "", 0, 0, false},
		{"once", []time.Time{t0}, "once", 1, 0, false},
		{"one_burst_is_once", every(t0, 1, 0, 0, 2), "once", 1, 0, false},
		{"twice", []time.Time{t0, t0.Add(3 * time.Hour)}, "twice", 2, 3 * time.Hour, false},
		{"every_15_min_for_a_day", every(t0, 96, 15*time.Minute, 0, 0), "every 15 min", 96, 15 * time.Minute, false},
		{"every_15_min_jittered", every(t0, 96, 15*time.Minute, 20*time.Second, 0), "every 15 min", 96, 0, false},
		{"every_15_min_in_bursts", every(t0, 60, 15*time.Minute, 0, 2), "every 15 min", 60, 15 * time.Minute, false},
		{"every_15_min_out_of_order", shuffled, "every 15 min", 20, 15 * time.Minute, false},
		{"hourly", every(t0, 24, time.Hour, time.Minute, 0), "hourly", 24, 0, false},
		{"hourly_within_ten_percent", every(t0, 10, 57*time.Minute, 0, 0), "hourly", 10, 57 * time.Minute, false},
		{"daily_for_a_week", every(t0, 7, 24*time.Hour, 10*time.Minute, 0), "daily", 7, 0, false},
		{"every_4_h", every(t0, 6, 4*time.Hour, 0, 0), "every 4 h", 6, 4 * time.Hour, false},
		{"every_3_days", every(t0, 4, 72*time.Hour, 0, 0), "every 3 days", 4, 72 * time.Hour, false},
		{"every_90_s", every(t0, 30, 75*time.Second, 0, 0), "every 75 s", 30, 75 * time.Second, false},
		{"irregular", []time.Time{t0, t0.Add(5 * time.Minute), t0.Add(2 * time.Hour), t0.Add(2*time.Hour + 20*time.Minute), t0.Add(9 * time.Hour)},
			"irregular", 5, 20 * time.Minute, false},
		// Every 5 min for two days: 576 flows, of which the first 256 are
		// kept: the rhythm of those, and Sampled.
		{"sampled", every(t0, 576, 5*time.Minute, 0, 0), "every 5 min", MaxStarts, 5 * time.Minute, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := RhythmOf(startsOf(tt.times), len(tt.times))
			if r.Words != tt.words || r.Contacts != tt.contacts || r.Sampled != tt.sampled {
				t.Errorf("RhythmOf = %q, %d contacts, sampled %v; want %q, %d, %v", r.Words, r.Contacts, r.Sampled, tt.words, tt.contacts, tt.sampled)
			}
			if tt.median != 0 && r.Median != tt.median {
				t.Errorf("RhythmOf: median %v; want %v", r.Median, tt.median)
			}
		})
	}
}

// TestRhythmMerged: a day of contacts every 15 min, split into two runs
// (halves, or every other contact), merged, has the rhythm of the day; past
// MaxStarts, the merge keeps the earliest, as one run would.
func TestRhythmMerged(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	day := every(t0, 96, 15*time.Minute, 0, 0)
	week := every(t0, 672, 15*time.Minute, 0, 0)
	name := func(times []time.Time) *Run {
		return &Run{Names: map[string]*NameStat{"a.example": {Name: "a.example", Flows: len(times), Starts: startsOf(times)}}}
	}
	var odd, even []time.Time
	for i, tm := range week {
		if i%2 == 0 {
			even = append(even, tm)
		} else {
			odd = append(odd, tm)
		}
	}
	for _, tt := range []struct {
		name  string
		parts [][]time.Time
		whole []time.Time
	}{
		{"halves_of_a_day", [][]time.Time{day[:40], day[40:]}, day},
		{"interleaved_week", [][]time.Time{odd, even}, week},
		{"three_parts", [][]time.Time{week[300:], week[:10], week[10:300]}, week},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var runs []*Run
			for _, p := range tt.parts {
				runs = append(runs, name(p))
			}
			m := mustMerge(t, runs...).Names["a.example"]
			want := name(tt.whole).Names["a.example"]
			if !slices.Equal(m.Starts, want.Starts) {
				t.Errorf("merged starts differ from the whole's: %d and %d kept", len(m.Starts), len(want.Starts))
			}
			if got, w := m.Rhythm(), want.Rhythm(); got != w {
				t.Errorf("Rhythm of the merge = %+v; want %+v", got, w)
			}
			if w := "every 15 min"; m.Rhythm().Words != w {
				t.Errorf("Rhythm().Words = %q; want %q", m.Rhythm().Words, w)
			}
		})
	}
}

// TestRhythmFromClassifier: flows to one name every 15 min, through the
// classifier, read as "every 15 min".
func TestRhythmFromClassifier(t *testing.T) {
	vm := netip.MustParseAddr("192.168.56.10")
	c := New(Config{VM: vm})
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i := range 8 {
		rec := &FlowRecord{Proto: "tcp", Src: vm, SPort: uint16(50000 + i), Dst: netip.MustParseAddr("20.42.65.92"), DPort: 443,
			FirstSeen: t0.Add(time.Duration(i) * 15 * time.Minute), LastSeen: t0.Add(time.Duration(i)*15*time.Minute + time.Second),
			PacketsOut: 3, Name: "a.example", Evidence: EvidenceSNI}
		c.emit(rec)
	}
	n := c.Finish().Names["a.example"]
	if r := n.Rhythm(); r.Words != "every 15 min" || r.Contacts != 8 {
		t.Errorf("Rhythm() = %+v; want every 15 min, 8 contacts", r)
	}
}
