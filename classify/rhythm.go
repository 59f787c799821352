package classify

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Rhythm of contact: how often the VM reached one endpoint.
const (
	// MaxStarts is how many flow start times a NameStat keeps for its
	// rhythm (NameStat.Starts): the earliest 256. A rhythm is exact for a
	// name of at most 256 flows; past that it is the rhythm of its first
	// 256 flows (Rhythm.Sampled), a bound of 2 KiB a name (at the default
	// 100 000 names, 205 MB, reached only by 25.6 million flows in scope).
	// The earliest, unlike a random sample, merge exactly: the earliest 256
	// of two runs are the earliest 256 of their union, whatever the order.
	MaxStarts = 256
	// BurstGap joins flows into one contact: a flow that starts within 60 s
	// of the previous flow's start is part of its contact (Windows opens
	// two or three connections at once to one host).
	BurstGap = time.Minute
	// A rhythm is regular when the interquartile range of the intervals
	// between contacts is at most a quarter of their median (a timer of
	// 15 min with a few seconds of jitter is; a name contacted at 5 min,
	// then 2 h, then 20 min is not).
	regularSpread = 4
	// A regular median within 10% of an hour or a day reads "hourly" or
	// "daily".
	roundTolerance = 0.10
)

// addStart adds a flow's start time (Unix nanoseconds) to starts, sorted,
// keeping the earliest MaxStarts. The slice is made with room for 4, then,
// once, for MaxStarts, so a name allocates twice at most: not per flow.
// Flows finish about in the order they start, so the place is looked for
// from the end.
func addStart(starts []int64, t int64) []int64 {
	if len(starts) == MaxStarts {
		if t >= starts[MaxStarts-1] {
			return starts
		}
		starts = starts[:MaxStarts-1]
	}
	if len(starts) == cap(starts) {
		size := 4
		if cap(starts) >= 4 {
			size = MaxStarts
		}
		n := make([]int64, len(starts), size)
		copy(n, starts)
		starts = n
	}
	i := len(starts)
	for i > 0 && starts[i-1] > t {
		i--
	}
	starts = append(starts, 0)
	copy(starts[i+1:], starts[i:])
	starts[i] = t
	return starts
}

// MergeStarts returns the earliest MaxStarts of the sorted start times a
// and b (NameStat.Starts), in a new slice: what Merge keeps of a name seen
// in two runs, and what a report keeps of the names of one pattern. It is
// commutative and associative.
func MergeStarts(a, b []int64) []int64 {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	out := make([]int64, 0, min(len(a)+len(b), MaxStarts))
	for len(out) < MaxStarts && (len(a) > 0 || len(b) > 0) {
		if len(b) == 0 || (len(a) > 0 && a[0] <= b[0]) {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return out
}

// Rhythm is how often flows to one endpoint came: the contacts (flows
// within BurstGap of each other are one), the median interval between the
// starts of consecutive contacts and its spread, and those in words.
type Rhythm struct {
	// Contacts is the number of contacts among the flows whose starts were
	// kept (all of them unless Sampled).
	Contacts int
	// Median is the median interval between consecutive contacts, and
	// Spread its interquartile range (the third quartile less the first);
	// both 0 below 2 contacts. Quantiles are nearest-rank from below: of
	// the n sorted intervals, quantile q is the one at index floor(q(n-1)).
	Median, Spread time.Duration
	// Words says it: "once", "twice", "every 15 min", "hourly", "daily",
	// "every 2 h", "every 3 days", "irregular"; "" for no flow kept.
	Words string
	// Sampled says the name had more flows than MaxStarts: the rhythm is
	// that of its first MaxStarts flows.
	Sampled bool
}

// RhythmOf is the rhythm of a name from its sorted start times (Unix
// nanoseconds, NameStat.Starts) and its count of flows.
//
// Words: one contact is "once", two "twice"; from three on, the rhythm is
// regular when Spread is at most a quarter of Median, and then reads
// "hourly" or "daily" within 10% of an hour or a day, else "every N s"
// below 90 s, "every N min" below 90 min, "every N h" below 36 h, "every N
// days" past that (N rounded); otherwise it is "irregular".
func RhythmOf(starts []int64, flows int) Rhythm {
	r := Rhythm{Sampled: flows > len(starts) && len(starts) == MaxStarts}
	if len(starts) == 0 {
		return r
	}
	var iv []time.Duration
	last := starts[0]
	r.Contacts = 1
	prev := starts[0]
	for _, t := range starts[1:] {
		if t-prev > int64(BurstGap) {
			iv = append(iv, time.Duration(t-last))
			last = t
			r.Contacts++
		}
		prev = t
	}
	switch r.Contacts {
	case 1:
		r.Words = "once"
		return r
	case 2:
		r.Median = iv[0]
		r.Words = "twice"
		return r
	}
	slices.Sort(iv)
	q := func(p float64) time.Duration { return iv[int(p*float64(len(iv)-1))] }
	r.Median, r.Spread = q(0.5), q(0.75)-q(0.25)
	if r.Spread*regularSpread > r.Median {
		r.Words = "irregular"
		return r
	}
	r.Words = periodWords(r.Median)
	return r
}

// periodWords says a regular interval d in words (see RhythmOf).
func periodWords(d time.Duration) string {
	near := func(unit time.Duration) bool {
		return math.Abs(float64(d-unit)) <= roundTolerance*float64(unit)
	}
	round := func(unit time.Duration) int64 { return int64(math.Round(float64(d) / float64(unit))) }
	switch {
	case near(time.Hour):
		return "hourly"
	case near(24 * time.Hour):
		return "daily"
	case d < 90*time.Second:
		return fmt.Sprintf("every %d s", round(time.Second))
	case d < 90*time.Minute:
		return fmt.Sprintf("every %d min", round(time.Minute))
	case d < 36*time.Hour:
		return fmt.Sprintf("every %d h", round(time.Hour))
	}
	return fmt.Sprintf("every %d days", round(24*time.Hour))
}
