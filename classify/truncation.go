package classify

import "github.com/phonehome/phonehome/capture"

// Truncation says what the capture cut and what that cost the names. A frame
// is cut when it holds fewer bytes than its headers announce
// (capture.Packet.Truncated): a snap length below the frame's size, usually
// (tcpdump -s 262 keeps 208 bytes of a TCP segment's payload). The bytes a
// cut frame lost are a hole in its TCP stream: the stream is read up to the
// hole and no further, so a ClientHello or request head across it names
// nothing, and the flow falls back on its DNS evidence. A cut DNS response is
// read as far as its records are whole.
type Truncation struct {
	// Frames are the frames cut. SnapLen is the length every one of them
	// was cut to, when that is one length, shorter than each was on the
	// wire, and no frame of the capture is longer: the capture's snap
	// length. Otherwise it is 0 (several lengths, a frame cut shorter than
	// others were kept, or headers that announce more bytes than the frame
	// had).
	Frames  uint64 `json:"frames"`
	SnapLen int    `json:"snap_len,omitempty"`
	// Flows are the flows in scope with a frame cut.
	Flows uint64 `json:"flows"`
	// ClientHellos, RequestHeads and FirstPayloads are the flows in scope
	// whose first ClientHello, first HTTP request head, or first bytes to
	// the server before they showed which they were, the capture cut, so
	// that no SNI or Host was read (FlowRecord.Cut). NamedByDNS, Ambiguous
	// and Unnamed say how those flows were named instead: by one DNS name,
	// by several (EvidenceDNSAmbiguous), or not at all.
	ClientHellos  uint64 `json:"client_hellos"`
	RequestHeads  uint64 `json:"http_request_heads"`
	FirstPayloads uint64 `json:"first_payloads"`
	NamedByDNS    uint64 `json:"named_by_dns"`
	Ambiguous     uint64 `json:"named_ambiguously"`
	Unnamed       uint64 `json:"unattributed"`
	// DNSResponses are the DNS responses cut (over UDP, or a DNS over TCP
	// stream cut by a hole); AnswersLost, those of them cut inside their
	// question or answer section, which lost answers.
	DNSResponses uint64 `json:"dns_responses"`
	AnswersLost  uint64 `json:"dns_responses_lost_answers"`
}

// truncation counts what the capture cut, over a run.
type truncation struct {
	Truncation
	minLen, maxLen int  // capture lengths of the frames cut
	longest        int  // capture length of the longest frame, cut or not
	lying          bool // a frame announced more bytes than it had on the wire
}

// frame counts a frame the capture cut.
func (t *truncation) frame(p *capture.Packet) {
	t.Frames++
	if p.CapLen >= p.WireLen {
		t.lying = true
	}
	if t.Frames == 1 || p.CapLen < t.minLen {
		t.minLen = p.CapLen
	}
	t.maxLen = max(t.maxLen, p.CapLen)
}

// flow counts a finished flow in scope.
func (t *truncation) flow(rec *FlowRecord) {
	if !rec.Truncated {
		return
	}
	t.Flows++
	switch rec.Cut {
	case CutClientHello:
		t.ClientHellos++
	case CutRequestHead:
		t.RequestHeads++
	case CutFirstPayload:
		t.FirstPayloads++
	default:
		return
	}
	switch rec.Evidence {
	case EvidenceDNS:
		t.NamedByDNS++
	case EvidenceDNSAmbiguous:
		t.Ambiguous++
	case EvidenceNone:
		t.Unnamed++
	}
}

// result is the run's Truncation.
func (t *truncation) result() Truncation {
	r := t.Truncation
	if t.Frames > 0 && t.minLen == t.maxLen && t.maxLen == t.longest && !t.lying && t.minLen > 0 {
		r.SnapLen = t.minLen
	}
	return r
}

// cutKind is what a hole hid, as a flow keeps it: a FlowRecord.Cut value.
type cutKind uint8

const (
	cutNone cutKind = iota
	cutClientHello
	cutRequestHead
	cutFirstPayload
)

func (k cutKind) String() string {
	switch k {
	case cutClientHello:
		return CutClientHello
	case cutRequestHead:
		return CutRequestHead
	case cutFirstPayload:
		return CutFirstPayload
	}
	return ""
}

// cutStream stops reading a direction at a hole the capture left in it,
// marking the flow when the hole hid the first ClientHello or request head,
// or the client's first bytes: the flow is then named by what else it has,
// its DNS evidence.
func (c *Classifier) cutStream(f *flow, st *stream, toServer bool) {
	if st.state == streamDone {
		return
	}
	switch {
	case st.state == streamTLS && st.found == 0:
		f.cut = cutClientHello
	case (st.state == streamHTTP || st.state == streamProxy) && st.found == 0:
		f.cut = cutRequestHead
	case st.state == streamUndecided && toServer && !dnsPort(f.server.port()):
		f.cut = cutFirstPayload
	case st.state == streamDNS:
		// Responses over TCP: the one across the hole, and any after it.
		c.trunc.DNSResponses++
		c.trunc.AnswersLost++
	}
	st.finish()
}
