package reports

import (
	"sort"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/phonehome/phonehome/classify"
)

// nothingInScopeTitle starts the warning of a run in which nothing was in
// scope.
const nothingInScopeTitle = "nothing in scope: no IPv4 flow started by the VM towards a public address"

// nothingInScope says, for a run with no flow in scope, why, from what was
// read: no packet at all, only frames of link types phonehome cannot decode,
// a VM (given or found) that started no flow or none in scope, and what the
// packets read were instead. It is "" when some flow was in scope.
func nothingInScope(run *classify.Run) string {
	if run.InScope.Flows > 0 {
		return ""
	}
	var why string
	var undecodable uint64
	for _, n := range run.Unsupported {
		undecodable += n
	}
	switch {
	case run.Packets == 0 && len(run.Damage) > 0:
		why = "no packet could be read (see the damaged input)"
	case run.Packets == 0:
		why = "the input holds no packets"
	case undecodable == run.Packets:
		return nothingInScopeTitle + ": none of the " + count(run.Packets, "frame") +
			" read could be decoded, being of link types phonehome cannot read: " + unsupportedList(run)
	case run.VM.IsValid() && !run.VMDetected && run.VMFlows == 0:
		why = run.VM.String() + ", given with --vm, started no flow"
		switch {
		case run.BusiestLocal.IsValid():
			why += "; the local address that started the most is " + run.BusiestLocal.String() +
				" (" + count(uint64(run.BusiestLocalFlows), "flow") + "): try --vm " + run.BusiestLocal.String()
		default:
			why += ", nor did any other local address"
		}
	case !run.VM.IsValid():
		why = "no local address started an IPv4 flow"
	default:
		why = "the VM, " + run.VM.String() + ", started " + count(uint64(run.VMFlows), "flow") + ", none to a public IPv4 address"
	}
	if run.Packets > 0 {
		were := " read were excluded as "
		if run.Packets == 1 {
			were = " read was excluded as "
		}
		why += "; the " + count(run.Packets, "packet") + were + excludedList(run)
		if undecodable > 0 {
			why += "; link types not decoded: " + unsupportedList(run)
		}
	}
	return nothingInScopeTitle + ": " + why
}

// excludedList is "ipv6 (30), non-ip (2)": packets excluded by reason, most
// first.
func excludedList(run *classify.Run) string {
	type kv struct {
		reason  string
		packets uint64
	}
	var list []kv
	for reason, e := range run.Excluded {
		if e.Packets > 0 {
			list = append(list, kv{reason, e.Packets})
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].packets != list[j].packets {
			return list[i].packets > list[j].packets
		}
		return list[i].reason < list[j].reason
	})
	parts := make([]string, len(list))
	for i, e := range list {
		parts[i] = e.reason + " (" + humanize.Comma(int64(e.packets)) + ")"
	}
	return strings.Join(parts, ", ")
}

// unsupportedList is "LINKTYPE 220 (20 frames)", by name.
func unsupportedList(run *classify.Run) string {
	names := make([]string, 0, len(run.Unsupported))
	for name := range run.Unsupported {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		names[i] = name + " (" + count(run.Unsupported[name], "frame") + ")"
	}
	return strings.Join(names, ", ")
}
