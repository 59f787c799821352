package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"sort"
	"strings"
	"time"
)

// Flow is one row of the truth table.
type Flow struct {
	N          int       `json:"n"`
	Proto      string    `json:"proto"`
	Src        string    `json:"src"` // initiator ip:port (after rewrite)
	Dst        string    `json:"dst"` // responder ip:port
	First      time.Time `json:"first"`
	Last       time.Time `json:"last"`
	Packets    int       `json:"packets"`
	Bytes      int       `json:"bytes"` // IP bytes
	Step       string    `json:"step"`
	Client     string    `json:"client,omitempty"`
	Name       string    `json:"expected_name,omitempty"`
	Evidence   string    `json:"evidence"`                // sni | http-host | dns | none
	Documented string    `json:"documented_as,omitempty"` // 1909 catalog entry covering the name
	Exclude    string    `json:"excluded,omitempty"`
	Note       string    `json:"note,omitempty"`
	// What the packets show (checked against the expectation).
	SNI       string   `json:"seen_sni,omitempty"`
	HTTPHosts []string `json:"seen_http_hosts,omitempty"`
	Requests  int      `json:"seen_http_requests,omitempty"`
	DNSNames  []string `json:"dns_names_for_dst,omitempty"`
	CHSegs    int      `json:"clienthello_segments,omitempty"`

	key       string
	initiator netip.AddrPort
	origResp  netip.AddrPort
	segs      []seg
	dnsMsgs   []*dnsMsg
}

type seg struct {
	seq  uint32
	data []byte
}

// Lookup is one DNS answer seen by the VM.
type Lookup struct {
	Time  time.Time `json:"time"`
	Flow  string    `json:"flow"`
	QName string    `json:"qname"`
	QType string    `json:"qtype"`
	Rcode string    `json:"rcode"`
	Chain []string  `json:"cname_chain,omitempty"`
	Addrs []string  `json:"addresses,omitempty"`
}

type Truth struct {
	File    string   `json:"file"`
	Start   string   `json:"start"`
	VM      string   `json:"vm"`
	Flows   []*Flow  `json:"flows"`
	Lookups []Lookup `json:"dns_answers"`
	NonIP   []string `json:"non_ip_frames"`
}

func qtypeName(t uint16) string {
	switch t {
	case typeA:
		return "A"
	case typeAAAA:
		return "AAAA"
	case typeCNAME:
		return "CNAME"
	}
	return fmt.Sprint(t)
}

func isPrivate(a netip.Addr) bool { return a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() }

// analyze builds the truth table from the rewritten packets and checks every
// flow against the steps' expectations and against what its packets show.
func analyze(ps []pkt, steps []Step, file string, start time.Time) (*Truth, error) {
	exp := map[string]map[string]*Expect{} // step -> orig responder -> expect
	seen := map[string]int{}
	for _, st := range steps {
		exp[st.ID] = map[string]*Expect{}
		for i := range st.Expect {
			exp[st.ID][st.Expect[i].Server] = &st.Expect[i]
		}
	}
	flows := map[string]*Flow{}
	var order []*Flow
	t := &Truth{File: file, Start: start.Format(time.RFC3339), VM: "192.168.56.10 (08:00:27:5e:1c:3a); IPv6 " + vm6}
	for _, p := range ps {
		if p.IP == nil {
			t.NonIP = append(t.NonIP, fmt.Sprintf("%s ARP (EtherType 0x0806), %d bytes: excluded, non-IP", p.TS.Format(time.RFC3339Nano), len(p.NonIP)))
			continue
		}
		in, _ := decodeIP(p.IP)
		proto := map[byte]string{6: "tcp", 17: "udp"}[in.Proto]
		a, b := netip.AddrPortFrom(in.Src, in.SP), netip.AddrPortFrom(in.Dst, in.DP)
		k := a.String() + b.String()
		if b.String() < a.String() {
			k = b.String() + a.String()
		}
		k = proto + k
		f := flows[k]
		if f == nil {
			f = &Flow{key: k, Proto: proto, First: p.TS, Step: p.Step, initiator: a, origResp: p.OrigDst,
				Src: a.String(), Dst: b.String()}
			flows[k] = f
			order = append(order, f)
		}
		f.Last = p.TS
		f.Packets++
		f.Bytes += len(p.IP)
		if in.Proto == 6 {
			flags := in.L4[13]
			if flags&0x02 != 0 && flags&0x10 == 0 && a != f.initiator {
				return nil, fmt.Errorf("flow %s: SYN from the second endpoint", k)
			}
			if pl := in.tcpPayload(); len(pl) > 0 {
				if a == f.initiator {
					f.segs = append(f.segs, seg{binary.BigEndian.Uint32(in.L4[4:]), pl})
				} else if in.SP == 53 && len(pl) > 2 {
					if m, err := parseDNS(pl[2:]); err == nil {
						f.dnsMsgs = append(f.dnsMsgs, m)
					}
				}
			}
		} else if in.Proto == 17 && in.SP == 53 {
			if m, err := parseDNS(in.L4[8:]); err == nil {
				f.dnsMsgs = append(f.dnsMsgs, m)
			}
		}
	}
	// DNS answers first: they are evidence for the flows.
	addrNames := map[string][]string{}
	addrFirst := map[string]time.Time{}
	for _, f := range order {
		for _, m := range f.dnsMsgs {
			l := Lookup{Time: f.First, Flow: f.Src + " > " + f.Dst, QName: m.QName, QType: qtypeName(m.QType), Rcode: map[int]string{0: "NOERROR", 3: "NXDOMAIN"}[m.Rcode]}
			for _, rr := range m.Answers {
				switch rr.Type {
				case typeCNAME:
					l.Chain = append(l.Chain, rr.Data)
				case typeA, typeAAAA:
					l.Addrs = append(l.Addrs, rr.Data)
					if !contains(addrNames[rr.Data], m.QName) {
						addrNames[rr.Data] = append(addrNames[rr.Data], m.QName)
					}
					if _, ok := addrFirst[rr.Data+" "+m.QName]; !ok {
						addrFirst[rr.Data+" "+m.QName] = f.Last
					}
				}
			}
			t.Lookups = append(t.Lookups, l)
		}
	}
	var errs []string
	for i, f := range order {
		f.N = i + 1
		resp, _ := netip.ParseAddrPort(f.Dst)
		f.DNSNames = addrNames[resp.Addr().String()]
		if f.Proto == "udp" || resp.Port() == 53 && f.origResp.Addr().String() == loopDNS {
			f.Evidence, f.Exclude = "none", "private destination (the LAN resolver; its answers are evidence)"
			f.Client = "system resolver"
			var qs []string
			for _, m := range f.dnsMsgs {
				qs = append(qs, qtypeName(m.QType)+" "+m.QName)
			}
			f.Note = "DNS answers: " + strings.Join(qs, ", ")
			if f.Proto == "tcp" {
				f.Note += " (DNS over TCP)"
			}
			if f.origResp.Addr().String() != loopDNS || resp.Port() != 53 {
				errs = append(errs, fmt.Sprintf("flow %d: unexpected non-DNS UDP/TCP flow %s > %s", f.N, f.Src, f.Dst))
			}
			continue
		}
		// Client stream: SNI / HTTP Host.
		f.inspectClientStream()
		key := f.origResp.String()
		e := exp[f.Step][key]
		if e == nil {
			errs = append(errs, fmt.Sprintf("flow %d (%s %s > %s, step %s, responder %s): no expectation", f.N, f.Proto, f.Src, f.Dst, f.Step, key))
			continue
		}
		seen[f.Step+" "+key]++
		f.Name, f.Evidence, f.Exclude, f.Client, f.Note = e.Name, e.Evidence, e.Exclude, e.Client, e.Note
		if f.Exclude == "" {
			f.Documented = documented[f.Name]
			if f.Name != "" && f.Documented == "" {
				f.Documented = "" // undocumented: stated in the tables
			}
		}
		// Cross-check the evidence against the packets.
		chk := func(ok bool, what string) {
			if !ok {
				errs = append(errs, fmt.Sprintf("flow %d (%s, step %s): %s", f.N, f.Dst, f.Step, what))
			}
		}
		switch e.Evidence {
		case "sni":
			chk(f.SNI == e.Name, "SNI "+f.SNI+" != "+e.Name)
		case "http-host":
			chk(len(f.HTTPHosts) > 0, "no HTTP request")
			for _, h := range f.HTTPHosts {
				chk(h == e.Name, "Host "+h+" != "+e.Name)
			}
		case "dns":
			chk(f.SNI == "" && len(f.HTTPHosts) == 0, "has SNI/Host")
			chk(len(f.DNSNames) == 1 && f.DNSNames[0] == e.Name, fmt.Sprintf("DNS names for address: %v", f.DNSNames))
			at, ok := addrFirst[resp.Addr().String()+" "+e.Name]
			chk(ok && at.Before(f.First), "not resolved before the flow")
		case "none":
			chk(f.SNI == "" && len(f.HTTPHosts) == 0, "has SNI/Host")
			if e.Exclude == "" {
				chk(len(f.DNSNames) == 0, "address appears in DNS answers")
			}
		}
		init, _ := netip.ParseAddrPort(f.Src)
		switch e.Exclude {
		case "ipv6":
			chk(resp.Addr().Is6(), "not IPv6")
		case "private destination":
			chk(resp.Addr().IsPrivate(), "destination not private")
		case "not started by the VM":
			chk(init.Addr().String() != "192.168.56.10" && resp.Addr().String() == "192.168.56.10", "initiator is the VM")
		case "":
			chk(init.Addr().String() == "192.168.56.10" && !isPrivate(resp.Addr()) && resp.Addr().Is4(), "not VM > public IPv4")
		}
	}
	for _, st := range steps {
		for _, e := range st.Expect {
			n := e.Count
			if n == 0 {
				n = 1
			}
			if _, ok := exp[st.ID]; ok && seen[st.ID+" "+e.Server] != n && stepPresent(order, st.ID) {
				errs = append(errs, fmt.Sprintf("step %s: %d flows to %s, want %d", st.ID, seen[st.ID+" "+e.Server], e.Server, n))
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("truth check failed:\n  %s", strings.Join(errs, "\n  "))
	}
	t.Flows = order
	return t, nil
}

func stepPresent(fs []*Flow, id string) bool {
	for _, f := range fs {
		if f.Step == id {
			return true
		}
	}
	return false
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// inspectClientStream reassembles the initiator's bytes (by sequence
// number, duplicates dropped) and reads the SNI or the HTTP Host headers.
func (f *Flow) inspectClientStream() {
	if len(f.segs) == 0 {
		return
	}
	sort.SliceStable(f.segs, func(i, j int) bool { return int32(f.segs[i].seq-f.segs[j].seq) < 0 })
	next := f.segs[0].seq
	var stream []byte
	for _, s := range f.segs {
		if s.seq != next {
			if int32(s.seq-next) < 0 {
				continue // retransmission
			}
			break // gap
		}
		stream = append(stream, s.data...)
		next += uint32(len(s.data))
	}
	if len(stream) > 5 && stream[0] == 0x16 {
		// TLS: handshake bytes from consecutive records.
		var hs []byte
		for b := stream; len(b) >= 5 && b[0] == 0x16; {
			l := int(binary.BigEndian.Uint16(b[3:]))
			if len(b) < 5+l {
				break
			}
			hs = append(hs, b[5:5+l]...)
			b = b[5+l:]
		}
		f.SNI = clientHelloSNI(hs)
		// how many segments carried the first record
		if len(stream) >= 5 {
			need := 5 + int(binary.BigEndian.Uint16(stream[3:]))
			got := 0
			for _, s := range f.segs {
				if got >= need {
					break
				}
				if int32(s.seq-f.segs[0].seq) < int32(got) {
					continue
				}
				got += len(s.data)
				f.CHSegs++
			}
		}
		return
	}
	for _, line := range bytes.Split(stream, []byte("\r\n")) {
		l := string(line)
		for _, m := range []string{"GET ", "POST ", "HEAD ", "PUT "} {
			if strings.HasPrefix(l, m) {
				f.Requests++
			}
		}
		if len(l) > 5 && strings.EqualFold(l[:5], "host:") {
			h := strings.ToLower(strings.TrimSpace(l[5:]))
			if i := strings.LastIndex(h, ":"); i > 0 && !strings.Contains(h, "]") {
				h = h[:i]
			}
			f.HTTPHosts = append(f.HTTPHosts, h)
		}
	}
}

func clientHelloSNI(hs []byte) string {
	if len(hs) < 4 || hs[0] != 1 {
		return ""
	}
	b := hs[4:]
	if len(b) < 35 {
		return ""
	}
	b = b[34:]
	b = b[1+int(b[0]):] // session id
	if len(b) < 2 {
		return ""
	}
	b = b[2+int(binary.BigEndian.Uint16(b)):] // cipher suites
	if len(b) < 1 {
		return ""
	}
	b = b[1+int(b[0]):] // compression
	if len(b) < 2 {
		return ""
	}
	b = b[2:]
	for len(b) >= 4 {
		typ, l := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if len(b) < 4+l {
			return ""
		}
		if typ == 0 && l > 5 {
			e := b[4 : 4+l]
			nl := int(binary.BigEndian.Uint16(e[3:]))
			if e[2] == 0 && 5+nl <= len(e) {
				return string(e[5 : 5+nl])
			}
		}
		b = b[4+l:]
	}
	return ""
}

func writeTruthJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func writeTruthMD(path string, t *Truth) error {
	var w bytes.Buffer
	p := func(format string, a ...any) { fmt.Fprintf(&w, format, a...) }
	p("# Ground truth for `%s`\n\n", t.File)
	p("Generated by `testdata/gen/make-fixtures.sh` (do not edit by hand; TRUTH.json holds the same data).\n\n")
	p("- The VM is **%s**; it starts most flows, so it should be auto-detected.\n", t.VM)
	p("- Session start %s; contacts repeat over ~4.5 hours.\n", t.Start)
	p("- Link type Ethernet (1), pcapng with one interface, microsecond timestamps. Frames from the VM shorter than 60 bytes are zero-padded to the Ethernet minimum.\n")
	p("- Every flow was made by a real client inside a network namespace on loopback, then rewritten: addresses, DNS A records, MACs, checksums, times. Payload bytes are as the clients wrote them.\n")
	p("- `evidence` is what names the flow: `sni` (TLS ClientHello server_name), `http-host` (HTTP Host header), `dns` (the destination address came from an earlier DNS answer; no SNI, no Host), `none`.\n")
	p("- `documented` is the entry of the Windows 10 1909 lists (windows-endpoints-1909-non-enterprise-editions.md / manage-windows-1909-endpoints.md) that covers the name; `-` means not in those lists.\n\n")

	var inc, exc []*Flow
	for _, f := range t.Flows {
		if f.Exclude == "" {
			inc = append(inc, f)
		} else {
			exc = append(exc, f)
		}
	}
	p("## Flows to classify (%d)\n\n", len(inc))
	p("| # | first seen (UTC) | proto | VM endpoint | destination | expected name | evidence | documented | client | packets | notes |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, f := range inc {
		name, doc := f.Name, f.Documented
		if name == "" {
			name = "(unattributed)"
		}
		if doc == "" {
			doc = "-"
		}
		notes := f.Note
		if f.CHSegs > 1 {
			notes = strings.TrimPrefix(notes+fmt.Sprintf("; ClientHello in %d TCP segments", f.CHSegs), "; ")
		}
		p("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s |\n", f.N, f.First.Format("15:04:05.000"), f.Proto, f.Src, f.Dst, name, f.Evidence, doc, f.Client, f.Packets, notes)
	}
	// Summary per name.
	type agg struct {
		n   int
		ev  map[string]bool
		doc string
	}
	names := map[string]*agg{}
	for _, f := range inc {
		n := f.Name
		if n == "" {
			n = "(unattributed)"
		}
		a := names[n]
		if a == nil {
			a = &agg{ev: map[string]bool{}, doc: f.Documented}
			names[n] = a
		}
		a.n++
		a.ev[f.Evidence] = true
	}
	var keys []string
	for k := range names {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	p("\n## Per name\n\n| name | flows | evidence | documented for 1909 |\n|---|---|---|---|\n")
	for _, k := range keys {
		a := names[k]
		var ev []string
		for e := range a.ev {
			ev = append(ev, e)
		}
		sort.Strings(ev)
		doc := a.doc
		if doc == "" {
			doc = "no"
		} else {
			doc = "yes (`" + doc + "`)"
		}
		p("| %s | %d | %s | %s |\n", k, a.n, strings.Join(ev, ", "), doc)
	}
	p("\n## Excluded flows (%d)\n\n", len(exc))
	p("| # | first seen (UTC) | proto | initiator | responder | reason | what it carries |\n|---|---|---|---|---|---|---|\n")
	for _, f := range exc {
		what := f.Note
		if f.Name != "" {
			what = strings.TrimPrefix(f.Evidence+" "+f.Name+"; "+what, "; ")
		}
		p("| %d | %s | %s | %s | %s | %s | %s |\n", f.N, f.First.Format("15:04:05.000"), f.Proto, f.Src, f.Dst, f.Exclude, what)
	}
	for _, s := range t.NonIP {
		p("\nNon-IP: %s\n", s)
	}
	p("\n## DNS answers seen by the VM (%d)\n\n| time (UTC) | query | type | rcode | CNAME chain | addresses |\n|---|---|---|---|---|---|\n", len(t.Lookups))
	for _, l := range t.Lookups {
		p("| %s | %s | %s | %s | %s | %s |\n", l.Time.Format("15:04:05.000"), l.QName, l.QType, l.Rcode, strings.Join(l.Chain, " → "), strings.Join(l.Addrs, ", "))
	}
	return os.WriteFile(path, w.Bytes(), 0o644)
}
