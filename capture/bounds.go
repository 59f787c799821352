package capture

// Bounds returns the limits of IPv4 reassembly reached so far, and the
// fragments that disagreed with bytes already received, as report lines
// (empty when none was). Like Stats, it may be called at any time between
// calls to Next; the slice is the caller's.
func (s *FileSet) Bounds() []Bound {
	if s.defrag == nil {
		return nil
	}
	return defragBounds(s.defrag.Stats())
}

// defragBounds turns the reassembler's counters into bounds reached, in a
// fixed order.
func defragBounds(d DefragStats) []Bound {
	var out []Bound
	add := func(what string, limit, times int) {
		if times > 0 {
			out = append(out, Bound{What: what, Limit: limit, Times: uint64(times)})
		}
	}
	add("IPv4 reassembly full (datagrams): the oldest incomplete datagram dropped", d.MaxDatagrams, d.EvictedCount)
	add("IPv4 reassembly full (bytes): the oldest incomplete datagram dropped", d.MaxBytes, d.EvictedBytes)
	add("IPv4 reassembly timeout: an incomplete datagram dropped", int(d.Timeout.Seconds()), d.TimedOut)
	add("IPv4 fragments past 65 535 bytes: the datagram dropped", 65535, d.Oversize)
	add("IPv4 fragments overlapping with other bytes (an evasion?): the first bytes kept", 0, d.Conflicts)
	return out
}
