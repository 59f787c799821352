package classify

import (
	"maps"
	"net/netip"
	"slices"
)

// Snapshot returns the run as Finish would return it if the input ended now,
// and leaves the Classifier as it was, to read on: a live capture's
// checkpoint and interim report. Flows still open are in it as they stand,
// folded in the order Finish would fold them (least recently active first);
// a VM not known yet is decided for the snapshot alone. OnFlow does not see
// them: they are not finished.
//
// It costs a deep copy of the run (names, addresses, their lists) and a
// record of each live flow: O(names + live flows), a few milliseconds for a
// week of an idle VM. It allocates; it is not for every packet.
func (c *Classifier) Snapshot() *Run {
	saved := c.saveAggregate()
	onFlow := c.cfg.OnFlow
	c.cfg.OnFlow = nil
	wasFinished := c.finished
	c.finished = true // the snapshot sees every flow started so far
	open, dropped := c.openAtEnd()
	if !c.vmKnown {
		c.decideVM() // folds the flows held back, then the live ones follow
	}
	c.eachLiveFlow(func(f *flow) {
		c.record(&f.flowFacts, &c.rec)
		c.emit(&c.rec)
	})
	if c.packets > 0 {
		c.run.First, c.run.Last = timeOf(c.first), timeOf(c.last)
	}
	c.summarize(open, dropped)
	snap := c.run // the working maps and lists become the snapshot's
	c.finished = wasFinished
	c.cfg.OnFlow = onFlow
	c.restoreAggregate(saved)
	return &snap
}

// LiveFlows is the number of flows open now.
func (c *Classifier) LiveFlows() int { return c.flows.len() }

// eachLiveFlow calls fn for every live flow, least recently active first (the
// order Finish finishes them in), without taking any out of the table.
func (c *Classifier) eachLiveFlow(fn func(*flow)) {
	var at [numClasses]*flow
	for i := range c.flows.lists {
		at[i] = c.flows.lists[i].tail
	}
	for {
		pick := -1
		for i, f := range at {
			if f != nil && (pick < 0 || f.last < at[pick].last) {
				pick = i
			}
		}
		if pick < 0 {
			return
		}
		f := at[pick]
		at[pick] = f.prev
		fn(f)
	}
}

// aggregate is what folding a flow into the run changes in the Classifier:
// saved before a snapshot folds the live flows, restored after it.
type aggregate struct {
	run                                          Run
	anomalies                                    anomalyCounts
	trunc                                        truncation
	namesDropped, addrsDropped, ambiguousDropped uint64
	vmKnown                                      bool
	vm                                           [4]byte
	pending                                      []flowFacts
}

func (c *Classifier) saveAggregate() aggregate {
	a := aggregate{
		run:              *c.run.Clone(),
		anomalies:        c.anomalies,
		trunc:            c.trunc,
		namesDropped:     c.namesDropped,
		addrsDropped:     c.addrsDropped,
		ambiguousDropped: c.ambiguousDropped,
		vmKnown:          c.vmKnown,
		vm:               c.vm,
		pending:          c.pending, // read, never written, by decideVM
	}
	for i := range a.anomalies.names {
		a.anomalies.names[i] = slices.Clone(a.anomalies.names[i])
	}
	return a
}

func (c *Classifier) restoreAggregate(a aggregate) {
	c.run = a.run
	c.anomalies = a.anomalies
	c.trunc = a.trunc
	c.namesDropped, c.addrsDropped, c.ambiguousDropped = a.namesDropped, a.addrsDropped, a.ambiguousDropped
	c.vmKnown, c.vm, c.pending = a.vmKnown, a.vm, a.pending
}

// Clone returns a deep copy of r: no map, slice or stat of the copy is
// shared with r.
func (r *Run) Clone() *Run {
	out := *r
	out.Names = make(map[string]*NameStat, len(r.Names))
	for k, n := range r.Names {
		out.Names[k] = cloneName(n)
	}
	out.Ambiguous = make(map[string]*AmbiguousStat, len(r.Ambiguous))
	for k, a := range r.Ambiguous {
		out.Ambiguous[k] = cloneAmbiguous(a)
	}
	out.Unattributed = make(map[netip.Addr]*AddrStat, len(r.Unattributed))
	for k, a := range r.Unattributed {
		out.Unattributed[k] = cloneAddr(a)
	}
	out.Excluded = make(map[string]*Excluded, len(r.Excluded))
	for k, e := range r.Excluded {
		f := *e
		out.Excluded[k] = &f
	}
	out.Bounds = slices.Clone(r.Bounds)
	out.Anomalies = slices.Clone(r.Anomalies)
	for i := range out.Anomalies {
		out.Anomalies[i].Names = slices.Clone(out.Anomalies[i].Names)
	}
	out.Inputs = slices.Clone(r.Inputs)
	out.Damage = slices.Clone(r.Damage)
	if r.Unsupported != nil {
		out.Unsupported = maps.Clone(r.Unsupported)
	}
	out.InputStats = slices.Clone(r.InputStats)
	out.Sessions = slices.Clone(r.Sessions)
	out.OpenAtEnd = slices.Clone(r.OpenAtEnd)
	out.PickedUp = slices.Clone(r.PickedUp)
	return &out
}
