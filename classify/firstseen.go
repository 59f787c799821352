package classify

import (
	"cmp"
	"net/netip"
	"strings"
	"time"

	"github.com/phonehome/phonehome/capture"
)

// frameRef is where one packet is: its input (capture.Packet.Input), its
// frame number there as Wireshark numbers frames (capture.Packet.Number) and
// its capture time in Unix nanoseconds. The zero frameRef is no packet.
type frameRef struct {
	number int64
	at     int64
	input  int
}

func refOf(p *capture.Packet) frameRef {
	return frameRef{number: p.Number, at: nanos(p.Timestamp), input: p.Input}
}

// EvidenceRef says where to find the packet that first named a name, and
// the flow it named: enough to open exactly that packet in Wireshark
// (wireshark -r File -Y frame.number==Frame). It is part of the JSON report
// as it is.
//
// The packet is the one that carried the evidence, not the flow's first:
// for EvidenceSNI the segment that completed the ClientHello (its last, when
// it spans several), for EvidenceHTTPHost the segment that completed the
// request head, for EvidenceDNS the DNS response whose answer led to the
// destination (for EvidenceDNSAmbiguous, the latest of the candidates'
// answers). A DNS response comes before the flow and is not one of its
// packets.
//
// The first flow is the one that started first (Start); of flows that
// started at the same instant, the one whose EvidenceRef sorts first by
// Time, File, Frame, Kind and the 5-tuple (CompareEvidence), so that Merge
// picks the same one whatever the order of its runs.
type EvidenceRef struct {
	// File is the input the packet was read from, as Run.InputStats names
	// it: a capture file, or the interface of a live capture. Frame is the
	// packet's frame number in File, counted from 1 over every frame of
	// the file, as Wireshark counts (a live capture counts the frames of
	// its session: the frames of its --write file, in order). Frame is 0
	// when the source did not number frames.
	File  string `json:"file"`
	Frame int64  `json:"frame"`
	// Time is the packet's capture time.
	Time time.Time `json:"time"`
	// Kind is the evidence: EvidenceSNI, EvidenceHTTPHost, EvidenceDNS or
	// EvidenceDNSAmbiguous.
	Kind string `json:"kind"`
	// The flow: its protocol, its client (the side that started it) and
	// server, and when its first packet came.
	Proto string     `json:"proto"`
	Src   netip.Addr `json:"src"`
	SPort uint16     `json:"sport"`
	Dst   netip.Addr `json:"dst"`
	DPort uint16     `json:"dport"`
	Start time.Time  `json:"flow_start"`
}

// CompareEvidence orders evidence of one name, the first flow's first: by
// Start, then by Time, File, Frame, Kind, Proto, Src, SPort, Dst and DPort.
// The zero EvidenceRef (none, as in a record written before evidence was
// kept) comes after every other.
func CompareEvidence(a, b EvidenceRef) int {
	if az, bz := a.Start.IsZero() && a.Kind == "", b.Start.IsZero() && b.Kind == ""; az || bz {
		switch {
		case az && bz:
			return 0
		case az:
			return 1
		}
		return -1
	}
	if c := a.Start.Compare(b.Start); c != 0 {
		return c
	}
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	if c := strings.Compare(a.File, b.File); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Frame, b.Frame); c != 0 {
		return c
	}
	if c := strings.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.Proto, b.Proto); c != 0 {
		return c
	}
	if c := a.Src.Compare(b.Src); c != 0 {
		return c
	}
	if c := cmp.Compare(a.SPort, b.SPort); c != 0 {
		return c
	}
	if c := a.Dst.Compare(b.Dst); c != 0 {
		return c
	}
	return cmp.Compare(a.DPort, b.DPort)
}

// firstEvidence returns the first of a and b (CompareEvidence).
func firstEvidence(a, b EvidenceRef) EvidenceRef {
	if CompareEvidence(b, a) < 0 {
		return b
	}
	return a
}

// evidenceOf is the EvidenceRef of a finished flow, named by its evidence.
func evidenceOf(rec *FlowRecord) EvidenceRef {
	return EvidenceRef{
		File: rec.File, Frame: rec.Frame, Time: rec.evidenceAt, Kind: rec.Evidence,
		Proto: rec.Proto, Src: rec.Src, SPort: rec.SPort, Dst: rec.Dst, DPort: rec.DPort, Start: rec.FirstSeen,
	}
}
