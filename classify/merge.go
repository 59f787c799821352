package classify

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/phonehome/phonehome/capture"
)

// How a merged run's VM was chosen, when its runs chose it differently.
const (
	vmHowMixed          = "given with --vm in some of the merged runs and detected in the others: the same address"
	vmHowDetectedInEach = "detected in each of the merged runs: the local address that started the most flows"
)

// Merge is the run of the packets of all of runs, as far as their runs say:
// the parts of a capture resumed after a crash, or captures of one VM taken
// apart. It is commutative and associative, and a run with nothing in it
// (&Run{}) is its identity; nil runs are skipped. The result shares nothing
// with runs.
//
//   - Counts add: packets, bytes, flows in scope and out of it by reason, DNS
//     answers, truncation, anomalies by kind, bounds by limit, frames of
//     unsupported link types, duplicates, the VM's flows.
//   - Names, sets of names and unattributed addresses: the stats of one key
//     add, First is the earliest and Last the latest; their bounded lists
//     (protocols, aliases, paths, addresses, ports) are united, and when the
//     union is longer than the bound the classifier keeps (8 protocols, 32
//     aliases, 64 paths, 32 addresses, 16 ports), the first in byte or
//     address order are kept. A list that only one run has is kept as it is.
//     Past Config's default of 100 000 keys, the first keys in order are
//     kept and the flows of the others are counted under the bound the
//     classifier names for its full table.
//   - Lists (inputs, damage, input stats, sessions, bounds, anomalies): when
//     several runs have one, concatenated and sorted (sessions by Start,
//     the others by their contents), so the result does not depend on the
//     order of runs; when one run has it, as it is.
//   - Flows at the ends of the runs (OpenAtEnd, PickedUp) are all kept, as
//     lists are, and matched: a flow open at the end of one run and picked
//     up mid-stream at the start of another, of the same 5-tuple, before
//     the first would have expired, is one flow cut at the boundary and
//     counted twice. Merge counts them under the bound BoundCutFlows,
//     anew from all the runs' lists (a count the runs hold is dropped),
//     so merging merged runs counts each cut once. It cannot uncount them:
//     a run keeps what flows added to names and addresses, not the flows.
//   - First is the earliest and Last the latest of the runs that saw a
//     packet. The truncation's snap length stays when every run with a cut
//     frame had it, else it is 0 (several lengths).
//   - The VM: runs that name one must name the same, else Merge fails
//     with a *VMMismatchError;
//     a VM given with --vm in one run and detected in another is kept, and
//     VMHow says so. BusiestLocal: when the runs name the same address (a
//     resumed capture: the VM), their counts add; when they name several,
//     it is the one with the most flows (then the lowest address), a guess,
//     since a run does not say how many flows each other local address
//     started. That guess is the one place where Merge is not associative:
//     runs that disagree on the busiest address may give another one
//     merged in another grouping. It only feeds the report's hint for a
//     --vm that started no flow.
func Merge(runs ...*Run) (*Run, error) {
	runs = slices.DeleteFunc(slices.Clone(runs), func(r *Run) bool { return r == nil })
	out := &Run{
		Names:        map[string]*NameStat{},
		Ambiguous:    map[string]*AmbiguousStat{},
		Unattributed: map[netip.Addr]*AddrStat{},
		Excluded:     map[string]*Excluded{},
	}
	if err := mergeVM(out, runs); err != nil {
		return nil, err
	}
	var snapSeen bool
	for _, r := range runs {
		if !r.First.IsZero() && (out.First.IsZero() || r.First.Before(out.First)) {
			out.First = r.First
		}
		if r.Last.After(out.Last) {
			out.Last = r.Last
		}
		out.VMFlows += r.VMFlows
		switch {
		case !r.BusiestLocal.IsValid():
		case r.BusiestLocal == out.BusiestLocal:
			out.BusiestLocalFlows += r.BusiestLocalFlows
		case r.BusiestLocalFlows > out.BusiestLocalFlows ||
			r.BusiestLocalFlows == out.BusiestLocalFlows && (!out.BusiestLocal.IsValid() || r.BusiestLocal.Less(out.BusiestLocal)):
			out.BusiestLocal, out.BusiestLocalFlows = r.BusiestLocal, r.BusiestLocalFlows
		}
		out.Packets += r.Packets
		out.Bytes += r.Bytes
		out.InScope.add(r.InScope)
		for k, e := range r.Excluded {
			if out.Excluded[k] == nil {
				out.Excluded[k] = new(Excluded)
			}
			out.Excluded[k].add(*e)
		}
		out.DNS.Matched += r.DNS.Matched
		out.DNS.OneSided += r.DNS.OneSided
		out.DNS.Unrequested += r.DNS.Unrequested
		t := &out.Truncation
		if r.Truncation.Frames > 0 {
			switch {
			case !snapSeen:
				t.SnapLen, snapSeen = r.Truncation.SnapLen, true
			case t.SnapLen != r.Truncation.SnapLen:
				t.SnapLen = 0
			}
		}
		rt := r.Truncation
		t.Frames += rt.Frames
		t.Flows += rt.Flows
		t.ClientHellos += rt.ClientHellos
		t.RequestHeads += rt.RequestHeads
		t.FirstPayloads += rt.FirstPayloads
		t.NamedByDNS += rt.NamedByDNS
		t.Ambiguous += rt.Ambiguous
		t.Unnamed += rt.Unnamed
		t.DNSResponses += rt.DNSResponses
		t.AnswersLost += rt.AnswersLost
		for k, n := range r.Unsupported {
			if out.Unsupported == nil {
				out.Unsupported = map[string]uint64{}
			}
			out.Unsupported[k] += n
		}
		out.Duplicates += r.Duplicates
	}

	var dropped struct{ names, ambiguous, addrs uint64 }
	out.Names = mergeMap(runs, func(r *Run) map[string]*NameStat { return r.Names }, cloneName, mergeName, strings.Compare,
		func(n *NameStat) { dropped.names += uint64(n.Flows) })
	out.Ambiguous = mergeMap(runs, func(r *Run) map[string]*AmbiguousStat { return r.Ambiguous }, cloneAmbiguous, mergeAmbiguous, strings.Compare,
		func(a *AmbiguousStat) { dropped.ambiguous += uint64(a.Flows) })
	out.Unattributed = mergeMap(runs, func(r *Run) map[netip.Addr]*AddrStat { return r.Unattributed }, cloneAddr, mergeAddr, netip.Addr.Compare,
		func(a *AddrStat) { dropped.addrs += uint64(a.Flows) })

	// Bounds add by limit; a merge that had to drop keys adds its own.
	var extra []capture.Bound
	for _, b := range []struct {
		what  string
		times uint64
	}{
		{boundNames, dropped.names}, {boundAddrs, dropped.addrs}, {boundAmbiguous, dropped.ambiguous},
	} {
		if b.times > 0 {
			extra = append(extra, capture.Bound{What: b.what, Limit: defaultMaxNames, Times: b.times})
		}
	}
	// The flows cut at a boundary are counted anew from every run's flows
	// at its ends (a merged run's count is dropped): a function of those
	// lists as sets, so of no order or grouping of runs.
	out.OpenAtEnd = mergeList(runs, func(r *Run) []BoundaryFlow { return r.OpenAtEnd }, nil, compareBoundary, nil)
	out.PickedUp = mergeList(runs, func(r *Run) []BoundaryFlow { return r.PickedUp }, nil, compareBoundary, nil)
	if n := cutFlows(out.OpenAtEnd, out.PickedUp); n > 0 {
		extra = append(extra, capture.Bound{What: BoundCutFlows, Times: n})
	}
	notCut := func(r *Run) []capture.Bound {
		if !slices.ContainsFunc(r.Bounds, isCutBound) {
			return r.Bounds
		}
		return slices.DeleteFunc(slices.Clone(r.Bounds), isCutBound)
	}
	out.Bounds = mergeList(runs, notCut, extra, func(a, b capture.Bound) int {
		return cmp.Or(strings.Compare(a.What, b.What), cmp.Compare(a.Limit, b.Limit))
	}, func(a, b capture.Bound) (capture.Bound, bool) {
		if a.What != b.What || a.Limit != b.Limit {
			return a, false
		}
		a.Times += b.Times
		return a, true
	})
	out.Anomalies = mergeList(runs, func(r *Run) []Anomaly { return r.Anomalies }, nil, func(a, b Anomaly) int {
		return cmp.Or(cmp.Compare(anomalyOrder(a.Kind), anomalyOrder(b.Kind)), strings.Compare(a.Kind, b.Kind), strings.Compare(a.What, b.What))
	}, func(a, b Anomaly) (Anomaly, bool) {
		if a.Kind != b.Kind || a.What != b.What {
			return a, false
		}
		a.Flows += b.Flows
		a.Names = unionSorted(a.Names, b.Names, maxAnomalyNames, strings.Compare)
		return a, true
	})
	for i := range out.Anomalies {
		out.Anomalies[i].Names = slices.Clone(out.Anomalies[i].Names)
	}
	out.Inputs = mergeList(runs, func(r *Run) []string { return r.Inputs }, nil, strings.Compare, nil)
	out.Damage = mergeList(runs, func(r *Run) []capture.Damage { return r.Damage }, nil, func(a, b capture.Damage) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Offset, b.Offset), cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.Records, b.Records), strings.Compare(a.Reason, b.Reason), boolCompare(a.Decompressed, b.Decompressed))
	}, nil)
	out.InputStats = mergeList(runs, func(r *Run) []capture.Input { return r.InputStats }, nil, func(a, b capture.Input) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), cmp.Compare(a.Bytes, b.Bytes), cmp.Compare(a.Frames, b.Frames),
			cmp.Compare(a.Duplicates, b.Duplicates), strings.Compare(a.Format, b.Format), strings.Compare(a.Compression, b.Compression),
			strings.Compare(a.Skipped, b.Skipped), boolCompare(a.Stream, b.Stream), boolCompare(a.Empty, b.Empty))
	}, nil)
	out.Sessions = mergeList(runs, func(r *Run) []capture.Session { return r.Sessions }, nil, func(a, b capture.Session) int {
		return cmp.Or(a.Start.Compare(b.Start), a.End.Compare(b.End), strings.Compare(a.Interface, b.Interface),
			strings.Compare(a.Filter, b.Filter), strings.Compare(a.Ended, b.Ended), strings.Compare(a.LinkType, b.LinkType),
			cmp.Compare(a.Snaplen, b.Snaplen), cmp.Compare(a.BufferSize, b.BufferSize), boolCompare(a.Promiscuous, b.Promiscuous),
			boolCompare(a.Immediate, b.Immediate), cmp.Compare(a.Received, b.Received), cmp.Compare(a.Dropped, b.Dropped),
			cmp.Compare(a.IfDropped, b.IfDropped))
	}, nil)
	return out, nil
}

func isCutBound(b capture.Bound) bool { return b.What == BoundCutFlows }

// The classifier's bounds on its tables of names, sets of names and
// addresses (Finish names them so); Merge counts under them what it drops.
const (
	defaultMaxNames = 100_000
	boundNames      = "name table full: flows of new names not kept in the report"
	boundAddrs      = "unattributed address table full: flows to new addresses not kept in the report"
	boundAmbiguous  = "ambiguous name table full: flows of new sets of DNS names not kept in the report"
)

// VMMismatchError is Merge's error for runs of different VMs: Runs are the
// indexes of two of them (among the runs that are not nil, in the order
// given), VMs their VMs.
type VMMismatchError struct {
	Runs [2]int
	VMs  [2]netip.Addr
}

func (e *VMMismatchError) Error() string {
	return fmt.Sprintf("merge: the runs are of different VMs: %s (run %d) and %s (run %d); merge runs of one VM, or give the same --vm to each",
		e.VMs[0], e.Runs[0]+1, e.VMs[1], e.Runs[1]+1)
}

// mergeVM sets out's VM fields from runs (see Merge).
func mergeVM(out *Run, runs []*Run) error {
	var from *Run
	var hows []string
	allDetected, anyMixed := true, false
	for i, r := range runs {
		if !r.VM.IsValid() {
			continue
		}
		if from != nil && r.VM != from.VM {
			return &VMMismatchError{Runs: [2]int{slices.Index(runs, from), i}, VMs: [2]netip.Addr{from.VM, r.VM}}
		}
		from = r
		out.VM = r.VM
		hows = append(hows, r.VMHow)
		allDetected = allDetected && r.VMDetected
		anyMixed = anyMixed || r.VMHow == vmHowMixed
	}
	if from == nil {
		// No run names a VM: the first words any says why, in a fixed order.
		for _, r := range runs {
			if r.VMHow != "" && (out.VMHow == "" || r.VMHow < out.VMHow) {
				out.VMHow = r.VMHow
			}
		}
		return nil
	}
	out.VMDetected = allDetected
	slices.Sort(hows)
	switch {
	case anyMixed || !allDetected && slices.ContainsFunc(runs, func(r *Run) bool { return r.VM.IsValid() && r.VMDetected }):
		out.VMHow = vmHowMixed
	case hows[0] == hows[len(hows)-1]:
		out.VMHow = hows[0]
	default:
		out.VMHow = vmHowDetectedInEach
	}
	return nil
}

func (e *Excluded) add(o Excluded) {
	e.Packets += o.Packets
	e.Bytes += o.Bytes
	e.Flows += o.Flows
}

func boolCompare(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// anomalyOrder is a kind's place in the classifier's order of kinds; unknown
// kinds come after.
func anomalyOrder(kind string) int {
	for i, k := range anomalyKinds {
		if k.kind == kind {
			return i
		}
	}
	return len(anomalyKinds)
}

// mergeList is the list of several runs: as it is when one run has one (with
// extra appended), else all of them concatenated and sorted by compare,
// neighbours that combine says are one made one.
func mergeList[T any](runs []*Run, get func(*Run) []T, extra []T, compare func(a, b T) int, combine func(a, b T) (T, bool)) []T {
	var out []T
	have := 0
	for _, r := range runs {
		if l := get(r); len(l) > 0 {
			have++
			out = append(out, l...)
		}
	}
	if have+len(extra) == 0 {
		return nil
	}
	out = append(out, extra...)
	out = slices.Clone(out)
	if have+min(len(extra), 1) < 2 {
		return out
	}
	slices.SortStableFunc(out, compare)
	if combine == nil {
		return out
	}
	merged := out[:1]
	for _, v := range out[1:] {
		if c, ok := combine(merged[len(merged)-1], v); ok {
			merged[len(merged)-1] = c
		} else {
			merged = append(merged, v)
		}
	}
	return merged
}

// mergeMap unites the maps of runs: a key one run has is cloned, one several
// have is merged. Past defaultMaxNames keys, the first in compare's order are
// kept and drop is called with each of the others.
func mergeMap[K comparable, V any](runs []*Run, get func(*Run) map[K]V, clone func(V) V, merge func(a, b V) V,
	compare func(a, b K) int, drop func(V)) map[K]V {
	out := map[K]V{}
	for _, r := range runs {
		for k, v := range get(r) {
			if have, ok := out[k]; ok {
				out[k] = merge(have, v)
			} else {
				out[k] = clone(v)
			}
		}
	}
	if len(out) > defaultMaxNames {
		keys := slices.SortedFunc(maps.Keys(out), compare)
		for _, k := range keys[defaultMaxNames:] {
			drop(out[k])
			delete(out, k)
		}
	}
	return out
}

// unionSorted is the first limit of the union of a and b in compare's order.
func unionSorted[T comparable](a, b []T, limit int, compare func(x, y T) int) []T {
	out := append(slices.Clone(a), b...)
	slices.SortFunc(out, compare)
	out = slices.Compact(out)
	return slices.Clip(out[:min(len(out), limit)])
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func cloneName(n *NameStat) *NameStat {
	c := *n
	c.Evidence = maps.Clone(n.Evidence)
	c.Protocols = slices.Clone(n.Protocols)
	c.Aliases = slices.Clone(n.Aliases)
	c.Paths = slices.Clone(n.Paths)
	c.Addrs = slices.Clone(n.Addrs)
	c.Starts = slices.Clone(n.Starts)
	return &c
}

// mergeName merges b into a, a clone Merge owns.
func mergeName(a, b *NameStat) *NameStat {
	if a.Evidence == nil {
		a.Evidence = map[string]int{}
	}
	for k, v := range b.Evidence {
		a.Evidence[k] += v
	}
	a.Flows += b.Flows
	a.BytesOut += b.BytesOut
	a.BytesIn += b.BytesIn
	a.First, a.Last = earliest(a.First, b.First), latest(a.Last, b.Last)
	a.Protocols = unionSorted(a.Protocols, b.Protocols, maxProtocols, strings.Compare)
	a.Aliases = unionSorted(a.Aliases, b.Aliases, maxAliasesPerName, strings.Compare)
	a.Paths = unionSorted(a.Paths, b.Paths, maxPathsPerName, strings.Compare)
	a.HostLevel = a.HostLevel || b.HostLevel
	a.Addrs = unionSorted(a.Addrs, b.Addrs, maxAddrsPerName, netip.Addr.Compare)
	a.FirstEvidence = firstEvidence(a.FirstEvidence, b.FirstEvidence)
	a.Starts = MergeStarts(a.Starts, b.Starts)
	return a
}

func cloneAmbiguous(s *AmbiguousStat) *AmbiguousStat {
	c := *s
	c.Names = slices.Clone(s.Names)
	c.Aliases = make([][]string, len(s.Aliases))
	for i, l := range s.Aliases {
		c.Aliases[i] = slices.Clone(l)
	}
	c.Protocols = slices.Clone(s.Protocols)
	c.Addrs = slices.Clone(s.Addrs)
	return &c
}

// mergeAmbiguous merges b into a, a clone Merge owns; their keys, so their
// names, are the same.
func mergeAmbiguous(a, b *AmbiguousStat) *AmbiguousStat {
	for i := range a.Aliases {
		if i < len(b.Aliases) {
			a.Aliases[i] = unionSorted(a.Aliases[i], b.Aliases[i], maxAliasesPerName, strings.Compare)
		}
	}
	a.Flows += b.Flows
	a.BytesOut += b.BytesOut
	a.BytesIn += b.BytesIn
	a.First, a.Last = earliest(a.First, b.First), latest(a.Last, b.Last)
	a.Protocols = unionSorted(a.Protocols, b.Protocols, maxProtocols, strings.Compare)
	a.Addrs = unionSorted(a.Addrs, b.Addrs, maxAddrsPerName, netip.Addr.Compare)
	a.FirstEvidence = firstEvidence(a.FirstEvidence, b.FirstEvidence)
	return a
}

func cloneAddr(s *AddrStat) *AddrStat {
	c := *s
	c.Ports = slices.Clone(s.Ports)
	return &c
}

func mergeAddr(a, b *AddrStat) *AddrStat {
	a.Flows += b.Flows
	a.BytesOut += b.BytesOut
	a.BytesIn += b.BytesIn
	a.First, a.Last = earliest(a.First, b.First), latest(a.Last, b.Last)
	a.Ports = unionSorted(a.Ports, b.Ports, maxPortsPerAddr, strings.Compare)
	return a
}
