package classify

import (
	"net/netip"
	"slices"
	"sort"
)

// finish ends a flow: it names the flow, decides its scope (or holds its
// facts back until the VM is known) and folds it into the run.
func (c *Classifier) finish(f *flow) {
	c.flows.remove(f)
	if c.lastFlow == f {
		c.lastFlow = nil
	}
	c.bufs.release(&f.up)
	c.bufs.release(&f.down)
	if !c.vmKnown {
		if len(c.pending) < c.cfg.DetectWindow {
			// Held back: scope needs the VM. Only the facts are kept (a
			// third of the flow); the flow is reused at once.
			if c.pending == nil {
				// Room for the default window at once: grown by
				// doubling, the copies would touch twice the memory.
				c.pending = make([]flowFacts, 0, min(c.cfg.DetectWindow, 1<<14))
			}
			c.pending = append(c.pending, f.flowFacts)
			p := &c.pending[len(c.pending)-1]
			if len(p.paths) > 0 {
				p.paths = slices.Clone(p.paths) // the flow's slice is reused
			}
			if len(p.dnsAlts) > 0 {
				p.dnsAlts = slices.Clone(p.dnsAlts) // likewise
			}
			c.flows.release(f)
			return
		}
		c.decideVM()
	}
	c.record(&f.flowFacts, &c.rec)
	c.flows.release(f)
	c.emit(&c.rec)
}

// record fills rec from f, giving the flow at most one name: the SNI, else the
// first HTTP Host, else the query name of the DNS answers that led to the
// destination when the flow started (see dnsMap.lookup); when those came from
// several names, the flow has no one name but all of them, as
// EvidenceDNSAmbiguous.
func (c *Classifier) record(f *flowFacts, rec *FlowRecord) {
	*rec = FlowRecord{
		Proto: protoName(f.key.proto()),
		Src:   netip.AddrFrom4(f.client.addr()), SPort: f.client.port(),
		Dst: netip.AddrFrom4(f.server.addr()), DPort: f.server.port(),
		FirstSeen: timeOf(f.first), LastSeen: timeOf(f.last),
		PacketsOut: f.packetsOut, PacketsIn: f.packetsIn,
		BytesOut: f.bytesOut, BytesIn: f.bytesIn,
		SNI: f.sni, HTTPHost: f.host, HTTPPaths: append(rec.HTTPPaths[:0], f.paths...),
		DNSName: f.dnsName, CNAMEs: f.dnsChain,
		Anomalies:     f.anomalies.appendKinds(rec.Anomalies[:0]),
		DNSCandidates: appendCandidates(rec.DNSCandidates[:0], f.dnsAlts),
		Truncated:     f.truncated,
		Cut:           f.cut.String(),
		Tunnel:        f.tunnel.String(),
	}
	if f.tlsVersion != 0 {
		rec.TLSVersion = TLSVersionName(f.tlsVersion)
	}
	var by frameRef
	switch {
	case f.sni != "":
		rec.Name, rec.Evidence, by = f.sni, EvidenceSNI, f.sniAt
	case f.host != "":
		rec.Name, rec.Evidence, by = f.host, EvidenceHTTPHost, f.hostAt
	case f.dnsName != "":
		rec.Name, rec.Evidence, by = f.dnsName, EvidenceDNS, f.dnsAt
	case len(f.dnsAlts) > 0:
		rec.Evidence, by = EvidenceDNSAmbiguous, f.dnsAt
	}
	if rec.Evidence != EvidenceNone {
		rec.Frame, rec.evidenceAt = by.number, timeOf(by.at)
		if c.cfg.InputName != nil && by.number > 0 {
			rec.File = c.cfg.InputName(by.input) // shared, not copied
		}
	}
	if rec.Evidence != EvidenceDNS && rec.Name != f.dnsName {
		// The DNS chain is the flow's only when it resolved the same name.
		rec.CNAMEs = nil
	}
}

// appendCandidates appends a flow's DNS candidates to dst.
func appendCandidates(dst []DNSCandidate, alts []dnsAlt) []DNSCandidate {
	for _, a := range alts {
		dst = append(dst, DNSCandidate{Name: a.name, CNAMEs: a.chain})
	}
	return dst
}

// scope says why a finished flow is left out, or ScopeIn.
func (c *Classifier) scope(rec *FlowRecord) string {
	switch {
	case rec.Src.As4() != c.vm || rec.PacketsOut == 0:
		// Only packets towards the VM: it did not start this flow.
		return ScopeNotFromVM
	case !IsPublic(rec.Dst):
		return ScopePrivateDestination
	}
	return ScopeIn
}

// emit decides the scope of a finished flow, hands it to OnFlow and folds it
// into the run.
func (c *Classifier) emit(rec *FlowRecord) {
	rec.Scope = c.scope(rec)
	if c.cfg.OnFlow != nil {
		c.cfg.OnFlow(rec)
	}
	if len(rec.Anomalies) > 0 {
		c.anomalies.add(rec)
	}
	packets := rec.PacketsOut + rec.PacketsIn
	bytes := rec.BytesOut + rec.BytesIn
	if rec.Scope != ScopeIn {
		e := c.run.Excluded[rec.Scope]
		if e == nil {
			e = new(Excluded)
			c.run.Excluded[rec.Scope] = e
		}
		e.Flows++
		e.Packets += packets
		e.Bytes += bytes
		return
	}
	c.run.InScope.Flows++
	c.trunc.flow(rec)
	c.run.InScope.Packets += packets
	c.run.InScope.Bytes += bytes
	if rec.Evidence == EvidenceDNSAmbiguous {
		c.ambiguous(rec)
		return
	}
	if rec.Name == "" {
		c.unattributed(rec)
		return
	}
	n := c.run.Names[rec.Name]
	if n == nil {
		if len(c.run.Names) >= c.cfg.MaxNames {
			c.namesDropped++
			return
		}
		n = &NameStat{Name: rec.Name, Evidence: make(map[string]int), First: rec.FirstSeen, Last: rec.LastSeen,
			FirstEvidence: evidenceOf(rec)}
		c.run.Names[rec.Name] = n
	} else if e := evidenceOf(rec); CompareEvidence(e, n.FirstEvidence) < 0 {
		n.FirstEvidence = e
	}
	n.Evidence[rec.Evidence]++
	n.Flows++
	n.Starts = addStart(n.Starts, nanos(rec.FirstSeen))
	n.BytesOut += rec.BytesOut
	n.BytesIn += rec.BytesIn
	if rec.FirstSeen.Before(n.First) {
		n.First = rec.FirstSeen
	}
	if rec.LastSeen.After(n.Last) {
		n.Last = rec.LastSeen
	}
	n.Protocols = addSorted(n.Protocols, c.flowProtocol(rec), maxProtocols)
	for _, a := range rec.CNAMEs {
		n.Aliases = addBounded(n.Aliases, a, maxAliasesPerName)
	}
	if rec.Evidence == EvidenceHTTPHost {
		for _, p := range rec.HTTPPaths {
			n.Paths = addBounded(n.Paths, p, maxPathsPerName)
		}
	} else {
		n.HostLevel = true
	}
	n.Addrs = addBounded(n.Addrs, rec.Dst, maxAddrsPerName)
}

// ambiguous folds a flow named by several DNS names into the run, by its set
// of names. Its key is made in a buffer kept between flows, so a set seen
// before costs no allocation. Each name is put in the key behind its length:
// names come from packets and may hold any byte, so a separator could be
// forged to make two sets one ({"a\nb", "c"} and {"a", "b", "c"}).
func (c *Classifier) ambiguous(rec *FlowRecord) {
	c.keyBuf = c.keyBuf[:0]
	for _, n := range rec.DNSCandidates {
		c.keyBuf = appendAmbiguousKey(c.keyBuf, n.Name)
	}
	a := c.run.Ambiguous[string(c.keyBuf)]
	if a == nil {
		if len(c.run.Ambiguous) >= c.cfg.MaxNames {
			c.ambiguousDropped++
			return
		}
		a = &AmbiguousStat{First: rec.FirstSeen, Last: rec.LastSeen, FirstEvidence: evidenceOf(rec)}
		for _, n := range rec.DNSCandidates {
			a.Names = append(a.Names, n.Name)
		}
		a.Aliases = make([][]string, len(a.Names))
		c.run.Ambiguous[string(c.keyBuf)] = a
	}
	a.Flows++
	a.BytesOut += rec.BytesOut
	a.BytesIn += rec.BytesIn
	if rec.FirstSeen.Before(a.First) {
		a.First = rec.FirstSeen
	}
	if rec.LastSeen.After(a.Last) {
		a.Last = rec.LastSeen
	}
	if e := evidenceOf(rec); CompareEvidence(e, a.FirstEvidence) < 0 {
		a.FirstEvidence = e
	}
	a.Protocols = addSorted(a.Protocols, c.flowProtocol(rec), maxProtocols)
	for i, n := range rec.DNSCandidates {
		if i >= len(a.Aliases) {
			break // cannot be: the key holds the set; kept so a broken invariant is no crash
		}
		for _, alias := range n.CNAMEs {
			a.Aliases[i] = addBounded(a.Aliases[i], alias, maxAliasesPerName)
		}
	}
	a.Addrs = addBounded(a.Addrs, rec.Dst, maxAddrsPerName)
}

// appendAmbiguousKey appends one name of a set of DNS names to the set's key
// in Run.Ambiguous: its length in two bytes, then its bytes. The classifier,
// the run record's reader and Merge all build keys with it, so a set read
// back from a record or merged from two runs has the key the classifier gave
// it. A name is at most 255 bytes (the classifier clips names), well within
// the two bytes.
func appendAmbiguousKey(key []byte, name string) []byte {
	key = append(key, byte(len(name)>>8), byte(len(name)))
	return append(key, name...)
}

// ambiguousKey is the key of a set of names in Run.Ambiguous.
func ambiguousKey(names []string) string {
	var key []byte
	for _, n := range names {
		key = appendAmbiguousKey(key, n)
	}
	return string(key)
}

func (c *Classifier) unattributed(rec *FlowRecord) {
	a := c.run.Unattributed[rec.Dst]
	if a == nil {
		if len(c.run.Unattributed) >= c.cfg.MaxNames {
			c.addrsDropped++
			return
		}
		a = &AddrStat{Addr: rec.Dst, First: rec.FirstSeen, Last: rec.LastSeen}
		c.run.Unattributed[rec.Dst] = a
	}
	a.Flows++
	a.BytesOut += rec.BytesOut
	a.BytesIn += rec.BytesIn
	if rec.FirstSeen.Before(a.First) {
		a.First = rec.FirstSeen
	}
	if rec.LastSeen.After(a.Last) {
		a.Last = rec.LastSeen
	}
	a.Ports = addSorted(a.Ports, c.portName(rec.Proto, rec.DPort), maxPortsPerAddr)
}

// flowProtocol names what a flow spoke, in the pages' vocabulary where it can:
// "HTTP", "TLS 1.2", "TLS 1.3"; else the transport and port ("tcp/443").
func (c *Classifier) flowProtocol(rec *FlowRecord) string {
	switch {
	case rec.TLSVersion != "":
		return rec.TLSVersion
	case rec.HTTPHost != "":
		return "HTTP"
	}
	return c.portName(rec.Proto, rec.DPort)
}

// maxPortNames bounds the "tcp/443" strings kept for reuse; a week of an idle
// VM's flows has a few dozen.
const maxPortNames = 4096

type portKey struct {
	proto string
	port  uint16
}

// portName is proto and port as "tcp/443", made once for each pair (up to
// maxPortNames) rather than for every flow.
func (c *Classifier) portName(proto string, port uint16) string {
	k := portKey{proto, port}
	if s, ok := c.portNames[k]; ok {
		return s
	}
	s := proto + "/" + itoa(int(port))
	if len(c.portNames) < maxPortNames {
		c.portNames[k] = s
	}
	return s
}

// TLSVersionName names a TLS protocol version number.
func TLSVersionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSL 3.0"
	case 0x0301:
		return "TLS 1.0"
	case 0x0302:
		return "TLS 1.1"
	case 0x0303:
		return "TLS 1.2"
	case 0x0304:
		return "TLS 1.3"
	}
	return "TLS"
}

func addSorted(list []string, s string, limit int) []string {
	i := sort.SearchStrings(list, s)
	if i < len(list) && list[i] == s {
		return list
	}
	if len(list) >= limit {
		return list
	}
	list = append(list, "")
	copy(list[i+1:], list[i:])
	list[i] = s
	return list
}
