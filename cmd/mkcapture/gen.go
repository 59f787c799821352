package main

import (
	"container/heap"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// Addresses of the lab network (the same as testdata/'s fixtures).
var (
	vm4       = [4]byte{192, 168, 56, 10}
	resolver4 = [4]byte{192, 168, 56, 1}
	lanHost4  = [4]byte{192, 168, 56, 20}
	vm6       = [16]byte{0x20, 0x01, 0x0d, 0xb8, 0x00, 0x56, 15: 0x10}
	server6   = [16]byte{0x26, 0x20, 0x01, 0xec, 0x0c, 0x11, 14: 0x02, 15: 0x00}
	ssdp4     = [4]byte{239, 255, 255, 250}
	llmnr4    = [4]byte{224, 0, 0, 252}
	scanner4  = [4]byte{45, 155, 205, 233}
)

// captureStart is the first moment of every capture: a Monday morning.
var captureStart = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// usPerByte spreads a capture over time so that 1 GB covers a week, as the
// Microsoft pages' method does (604 800 s / 1e9 bytes).
const usPerByte = 604800e6 / 1e9

const poolSize = 1 << 20

// config is what a run is asked for.
type config struct {
	size   int64
	seed   uint64
	pcapng bool
	// span, when set, squeezes (or stretches) the whole timeline so that
	// the capture spans about span instead of a week per GB: every packet's
	// time since the start is multiplied by span / (size × usPerByte), and
	// the truth is worked out on that timeline. The packets, their order
	// and their bytes stay the same (only the record timestamps change);
	// zero leaves the timeline as it is, byte for byte.
	span time.Duration
}

// gen writes one capture.
type gen struct {
	cfg       config
	r         *rand.Rand
	u         *universe
	pool      []byte
	w         *capWriter
	t         *truth
	active    flowHeap
	ids       uint64
	clock     int64 // µs: when the next activity starts
	committed int64 // file bytes of every flow started so far
	port      uint16
	ipid      uint16 // the VM's IPv4 identification counter
	lastNTP   int64
	lastARP   int64
	squeeze   float64 // config.span over the natural span; 0: none
}

// run writes the capture to w and returns its truth.
func run(cfg config, w io.Writer) (Truth, error) {
	g, err := newGen(cfg)
	if err != nil {
		return Truth{}, err
	}
	return g.write(w)
}

// newGen sets up a run: the random pool and the hosts with their hellos
// (about 0.15 s, most of it Go's ClientHellos and ML-KEM keys).
func newGen(cfg config) (*gen, error) {
	r := rand.New(rand.NewPCG(cfg.seed, 0x70686f6e65686f6d))
	g := &gen{cfg: cfg, r: r, port: 49152, lastNTP: -1 << 40, lastARP: -1 << 40}
	g.pool = make([]byte, poolSize)
	fill(r, g.pool)
	u, err := newUniverse(r)
	if err != nil {
		return nil, err
	}
	g.u = u
	g.ipid = uint16(r.Uint32())
	g.t = newTruth(captureStart)
	if cfg.span > 0 {
		g.squeeze = float64(cfg.span.Microseconds()) / (float64(cfg.size) * usPerByte)
	}
	return g, nil
}

// write writes the capture; a gen writes once.
func (g *gen) write(w io.Writer) (Truth, error) {
	var err error
	if g.w, err = newCapWriter(w, g.cfg.pcapng); err != nil {
		return Truth{}, err
	}
	g.committed = g.w.n
	for {
		if g.committed < g.cfg.size && (len(g.active) == 0 || g.clock <= g.active[0].nextTime()) {
			g.activity()
			continue
		}
		if len(g.active) == 0 {
			break
		}
		if err := g.emit(g.active[0]); err != nil {
			return Truth{}, err
		}
	}
	if err := g.w.flush(); err != nil {
		return Truth{}, err
	}
	format := "pcap"
	if g.cfg.pcapng {
		format = "pcapng"
	}
	return g.t.doc(g.cfg.seed, format, g.w.n), nil
}

// emit writes the next packet of f and reschedules f.
func (g *gen) emit(f *flow) error {
	p := &f.pkts[f.next]
	var ipid uint16
	if f.fromVM[p.dir] {
		g.ipid++
		ipid = g.ipid
	} else {
		ipid = uint16(f.id*2654435761) + uint16(f.next) // a per-connection counter
	}
	n := g.w.build(f, p, ipid, g.pool)
	at := g.at(p.t)
	g.t.packet(f, p, at, n, f.next == 0)
	err := g.w.write(captureStart.UnixMicro()+at, n)
	f.next++
	if f.next == len(f.pkts) {
		heap.Pop(&g.active)
	} else {
		heap.Fix(&g.active, 0)
	}
	return err
}

// at is when a packet scripted at t (µs since the start, the week per GB
// timeline) is written: t itself, or t squeezed to config.span. Rounding
// down keeps the packets' order (equal times stay in the order written).
func (g *gen) at(t int64) int64 {
	if g.squeeze == 0 {
		return t
	}
	return int64(float64(t) * g.squeeze)
}

// start schedules a scripted flow.
func (g *gen) start(f *flow) {
	for i := range f.pkts {
		f.fileLen += g.w.recordLen(frameLen(f, &f.pkts[i]))
	}
	g.committed += f.fileLen
	heap.Push(&g.active, f)
}

func (g *gen) newFlow(proto uint8, srv [4]byte, sport uint16) *flow {
	g.ids++
	f := &flow{
		id: g.ids, proto: proto, cli4: vm4, srv4: srv, cport: g.ephemeral(), sport: sport,
		mac: [2][6]byte{macVM, macGateway}, ttl: [2]uint8{128, 52}, fromVM: [2]bool{true, false},
		isn: [2]uint32{g.r.Uint32(), g.r.Uint32()}, scope: scopeIn,
	}
	switch {
	case isMulticast(srv):
		f.scope = scopePrivate
	case srv[0] == 192 && srv[1] == 168:
		f.ttl[1] = 64
		f.scope = scopePrivate
		if srv != resolver4 {
			f.mac[1] = macLAN
		}
	}
	return f
}

// ephemeral is the VM's next client port: Windows hands them out in turn
// from 49152, so a 5-tuple comes back only after 16 384 others.
func (g *gen) ephemeral() uint16 {
	p := g.port
	if g.port++; g.port == 0 {
		g.port = 49152
	}
	return p
}

// activity starts what the VM does next (a burst of connections, a lookup, a
// bit of LAN chatter) at g.clock, and moves the clock on in proportion to the
// bytes it wrote, so that a gigabyte spans about a week.
func (g *gen) activity() {
	before := g.committed
	t := g.clock
	switch x := g.r.Float64(); {
	case x < 0.80:
		g.tlsBurst(t)
	case x < 0.895:
		g.httpFlow(t, g.u.http[g.u.zHTTP.Uint64()])
	case x < 0.94:
		g.dnsNamed(t)
	case x < 0.96:
		g.queryOnly(t)
	case x < 0.97:
		g.unattributed(t)
	case x < 0.99:
		g.lan(t)
	default:
		g.ipv6(t)
	}
	gap := float64(g.committed-before) * usPerByte * g.r.ExpFloat64()
	g.clock += 1000 + int64(min(gap, 6*3600e6))
}

// lookup resolves h if the VM's cache has no answer at t, and returns when the
// connection that wanted it can start.
func (g *gen) lookup(t int64, h *host) int64 {
	if t < h.cacheUntil {
		return t + int64(g.r.IntN(400))
	}
	at := g.dnsExchange(t, h.name, dnsmessage.TypeA, h.cnames, rotate(g.r, h.addrs))
	if g.r.IntN(3) == 0 {
		g.dnsExchange(t+int64(g.r.IntN(300)), h.name, dnsmessage.TypeAAAA, h.cnames, nil)
	}
	h.cacheUntil = at + h.ttl
	return at + 200 + int64(g.r.IntN(3000))
}

func rotate(r *rand.Rand, a [][4]byte) [][4]byte {
	k := r.IntN(len(a))
	return append(append([][4]byte(nil), a[k:]...), a[:k]...)
}

// dnsExchange writes a query from a new VM port to the resolver and its
// answer; it returns when the answer arrives.
func (g *gen) dnsExchange(t int64, name string, qtype dnsmessage.Type, cnames []string, addrs [][4]byte) int64 {
	f := g.newFlow(17, resolver4, 53)
	id := uint16(g.r.Uint32())
	q, resp, ans := dnsMessages(id, name, qtype, cnames, addrs, uint32(60+g.r.IntN(3600)))
	f.data[0].lit(q)
	f.data[1].lit(resp)
	f.dns = ans
	back := t + 1000 + int64(g.r.IntN(30000))
	f.pkts = []pkt{{t: t, dir: 0, n: uint16(len(q))}, {t: back, dir: 1, n: uint16(len(resp))}}
	g.start(f)
	return back
}

// dnsMessages builds a query and its response: the CNAME chain from name, then
// the A records of the chain's last name; no addresses and no chain for
// NXDOMAIN (names under .localdomain).
func dnsMessages(id uint16, name string, qtype dnsmessage.Type, cnames []string, addrs [][4]byte, ttl uint32) (q, resp []byte, ans *dnsAnswer) {
	nx := strings.HasSuffix(name, ".localdomain")
	qn := dnsmessage.MustNewName(name + ".")
	question := dnsmessage.Question{Name: qn, Type: qtype, Class: dnsmessage.ClassINET}

	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: id, RecursionDesired: true})
	b.EnableCompression()
	b.StartQuestions()
	b.Question(question)
	q, _ = b.Finish()

	ans = &dnsAnswer{qname: name, qtype: qtype.String()[4:], rcode: "NOERROR", cnames: cnames, ttl: ttl}
	h := dnsmessage.Header{ID: id, Response: true, RecursionDesired: true, RecursionAvailable: true}
	if nx {
		h.RCode = dnsmessage.RCodeNameError
		ans.rcode = "NXDOMAIN"
		ans.cnames = nil
	}
	b = dnsmessage.NewBuilder(nil, h)
	b.EnableCompression()
	b.StartQuestions()
	b.Question(question)
	b.StartAnswers()
	if !nx {
		owner := qn
		for _, c := range cnames {
			target := dnsmessage.MustNewName(c + ".")
			b.CNAMEResource(dnsmessage.ResourceHeader{Name: owner, Class: dnsmessage.ClassINET, TTL: ttl}, dnsmessage.CNAMEResource{CNAME: target})
			owner = target
		}
		if qtype == dnsmessage.TypeA {
			for _, a := range addrs {
				b.AResource(dnsmessage.ResourceHeader{Name: owner, Class: dnsmessage.ClassINET, TTL: ttl}, dnsmessage.AResource{A: a})
			}
			ans.a = addrs
		} else if len(addrs) == 0 && len(cnames) == 0 && strings.HasPrefix(name, "ipv6.") {
			b.AAAAResource(dnsmessage.ResourceHeader{Name: owner, Class: dnsmessage.ClassINET, TTL: ttl}, dnsmessage.AAAAResource{AAAA: server6})
		}
	}
	resp, err := b.Finish()
	if err != nil {
		panic(fmt.Sprintf("build DNS answer for %s: %v", name, err)) // names are ours: a bug
	}
	return q, resp, ans
}

// tlsBurst: one to five TLS connections, mostly to one name (a client opening
// parallel connections), each after a DNS lookup when the cache is cold.
func (g *gen) tlsBurst(t int64) {
	h := g.u.tls[g.u.zTLS.Uint64()]
	k := 1
	if g.r.IntN(5) < 2 {
		k = 2 + g.r.IntN(4)
	}
	for i := range k {
		if i > 0 && g.r.IntN(4) == 0 {
			h = g.u.tls[g.u.zTLS.Uint64()]
		}
		g.tlsFlow(g.lookup(t, h), h)
		t += int64(g.r.IntN(300_000))
	}
}

// tmplFor picks a hello: Go's a third of the time (two segments), else
// curl's or OpenSSL's (one segment).
func (g *gen) tmplFor() int {
	switch g.r.IntN(6) {
	case 0, 1:
		return tmplGo
	case 2, 3, 4:
		return tmplCurl
	}
	return tmplOpenSSL
}

// lognormal draws a size with the given median and spread, within [lo, hi].
func (g *gen) lognormal(median, sigma float64, lo, hi int) int {
	v := median * math.Exp(sigma*g.r.NormFloat64())
	return int(max(float64(lo), min(v, float64(hi))))
}

// appData appends a TLS 1.3 message of n plaintext bytes as application-data
// records (each at most 2^14 bytes of plaintext plus 17 of type and tag).
func (g *gen) appData(d *dirData, n int) {
	for n > 0 {
		p := min(n, 16384)
		n -= p
		rec := p + 17
		g.record(d, rec)
	}
}

func (g *gen) record(d *dirData, rec int) {
	d.synth([]byte{0x17, 3, 3, byte(rec >> 8), byte(rec)}, 5+rec, g.r.IntN(poolSize))
}

// rate is a per-connection spacing of full-size segments, µs: 10 to 200 Mbit/s.
func (g *gen) rate() int64 { return int64(60 + g.r.IntN(1100)) }

func (g *gen) tlsFlow(t int64, h *host) {
	f := g.newFlow(6, h.addrs[0], 443)
	s := &tcpScript{f: f, rtt: h.rtt + int64(g.r.IntN(int(h.rtt/4+1)))}
	t = s.handshake(t)

	tm := g.tmplFor()
	hl := &h.hellos[tm]
	ch := hl.stamp(g.r)
	f.sni, f.hellos = h.name, 1
	if hl.split {
		f.splitHellos = 1
	}
	up, down := &f.data[0], &f.data[1]
	up.lit(ch)
	t = s.send(t+int64(100+g.r.IntN(900)), 0, up.size, 15)

	// The server's flight: ServerHello, ChangeCipherSpec, then the encrypted
	// extensions, certificate chain, CertificateVerify and Finished.
	down.lit(serverFlight(g.r, ch, hl.l, hl.groups[0], 2400+g.r.IntN(2600)))
	gap := g.rate()
	t = s.send(t+s.rtt+int64(200+g.r.IntN(4000)), 1, down.size, gap)
	// The client's ChangeCipherSpec and Finished, with its first request.
	up.lit([]byte{0x14, 3, 3, 0, 1, 1})
	g.record(up, 53)

	// The server's NewSessionTickets, two records in one segment.
	t = s.send(t+int64(80+g.r.IntN(400)), 0, up.size, 15)
	g.record(down, 250+g.r.IntN(30))
	g.record(down, 250+g.r.IntN(30))
	t = s.send(t+s.rtt, 1, down.size, gap)

	if g.r.IntN(5) < 3 {
		// HTTP/2: the client's preface and SETTINGS in a record of their own,
		// and the server's SETTINGS in one of its own.
		g.record(up, 60+g.r.IntN(40))
		t = s.send(t+int64(50+g.r.IntN(200)), 0, up.size, 15)
		g.record(down, 40+g.r.IntN(20))
		t = s.send(t+s.rtt, 1, down.size, gap)
	}

	rounds := 1 + min(int(g.r.ExpFloat64()*0.8), 7)
	for i := range rounds {
		if i > 0 {
			t += 2000 + int64(g.r.ExpFloat64()*400_000)
		}
		req := g.lognormal(700, 1.0, 120, 60_000)
		if g.r.IntN(300) == 0 {
			req = g.lognormal(100_000, 1.0, 20_000, 4<<20) // an upload: telemetry, a crash dump
		}
		g.appData(up, req)
		t = s.send(t+int64(80+g.r.IntN(400)), 0, up.size, g.rate())
		resp := g.lognormal(2500, 1.4, 60, 24<<20)
		if g.r.IntN(600) == 0 {
			resp = g.lognormal(500_000, 1.0, 100_000, 24<<20) // a download: an update, a definition file
		}
		// The response's headers go out in a record of their own, then the body.
		g.record(down, 120+g.r.IntN(400))
		t = s.send(t+s.rtt+int64(300+g.r.IntN(20_000)), 1, down.size, gap)
		g.appData(down, resp)
		t = s.send(t+int64(100+g.r.IntN(3000)), 1, down.size, gap)
	}
	switch x := g.r.IntN(10); {
	case x < 6:
		s.closeBy(t+int64(g.r.IntN(2_000_000)), 0, false)
	case x < 8:
		s.closeBy(t+int64(g.r.IntN(5_000_000)), 1, false)
	default:
		s.closeBy(t+int64(g.r.IntN(30_000_000)), 0, true) // Windows often resets idle connections
	}
	s.finish()
	g.start(f)
}

// userAgents are the request heads the HTTP flows use: Windows' own
// (CryptoAPI, NCSI, Delivery Optimization), Go net/http's and curl's.
var userAgents = []string{"Microsoft-CryptoAPI/10.0", "Microsoft-Delivery-Optimization/10.0", "Go-http-client/1.1", "curl/7.88.1", "Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.0"}

func (g *gen) requestHead(h *host, path, method string, body int) []byte {
	var sb strings.Builder
	ua := userAgents[g.r.IntN(len(userAgents))]
	if path == "/connecttest.txt" {
		ua = "Microsoft NCSI"
	}
	fmt.Fprintf(&sb, "%s %s HTTP/1.1\r\n", method, path)
	switch {
	case strings.HasPrefix(ua, "Go-"):
		fmt.Fprintf(&sb, "Host: %s\r\nUser-Agent: %s\r\n", h.name, ua)
		if body > 0 {
			fmt.Fprintf(&sb, "Content-Length: %d\r\nContent-Type: application/octet-stream\r\n", body)
		}
		sb.WriteString("Accept-Encoding: gzip\r\n\r\n")
	case strings.HasPrefix(ua, "curl"):
		fmt.Fprintf(&sb, "Host: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n", h.name, ua)
		if body > 0 {
			fmt.Fprintf(&sb, "Content-Length: %d\r\nContent-Type: application/x-www-form-urlencoded\r\n", body)
		}
		sb.WriteString("\r\n")
	default: // WinINet/WinHTTP order: Host last
		sb.WriteString("Connection: Keep-Alive\r\nAccept: */*\r\n")
		if g.r.IntN(2) == 0 {
			sb.WriteString("If-Modified-Since: Tue, 10 Feb 2026 18:13:38 GMT\r\n")
		}
		if body > 0 {
			fmt.Fprintf(&sb, "Content-Length: %d\r\n", body)
		}
		fmt.Fprintf(&sb, "User-Agent: %s\r\nHost: %s\r\n\r\n", ua, h.name)
	}
	return []byte(sb.String())
}

// httpFlow: one connection with one to four requests (keep-alive), each
// answered with a body.
func (g *gen) httpFlow(t int64, h *host) {
	t = g.lookup(t, h)
	f := g.newFlow(6, h.addrs[0], 80)
	s := &tcpScript{f: f, rtt: h.rtt}
	t = s.handshake(t)
	f.host = h.name
	up, down := &f.data[0], &f.data[1]
	k := 1
	if g.r.IntN(3) == 0 {
		k = 2 + g.r.IntN(3)
	}
	gap := g.rate()
	for i := range k {
		if i > 0 {
			t += 1000 + int64(g.r.ExpFloat64()*200_000)
		}
		method, body := "GET", 0
		if g.r.IntN(12) == 0 {
			method, body = "POST", g.lognormal(900, 1.0, 20, 100_000)
		}
		up.lit(g.requestHead(h, h.paths[g.r.IntN(len(h.paths))], method, body))
		if body > 0 {
			up.synth(nil, body, g.r.IntN(poolSize))
		}
		f.requests++
		t = s.send(t+int64(100+g.r.IntN(500)), 0, up.size, g.rate())
		n := g.lognormal(2000, 1.5, 0, 24<<20)
		if strings.HasSuffix(h.paths[0], ".exe") && g.r.IntN(4) == 0 || g.r.IntN(200) == 0 {
			n = g.lognormal(500_000, 1.0, 100_000, 24<<20)
		}
		status := "200 OK"
		if g.r.IntN(5) == 0 {
			status, n = "304 Not Modified", 0
		}
		down.lit([]byte(fmt.Sprintf("HTTP/1.1 %s\r\nContent-Type: application/octet-stream\r\nLast-Modified: Tue, 10 Feb 2026 18:13:38 GMT\r\nAccept-Ranges: bytes\r\nETag: \"%x\"\r\nServer: ECAcc (dcd/7D5A)\r\nContent-Length: %d\r\n\r\n", status, g.r.Uint32(), n)))
		if n > 0 {
			down.synth(nil, n, g.r.IntN(poolSize))
		}
		t = s.send(t+s.rtt+int64(300+g.r.IntN(10_000)), 1, down.size, gap)
	}
	s.closeBy(t+int64(g.r.IntN(3_000_000)), uint8(g.r.IntN(2)), false)
	s.finish()
	g.start(f)
}

// dnsNamed: a flow that carries no name, after a lookup: NTP with
// time.windows.com, Delivery Optimization on tcp/7680, or a TLS name's
// connection opened and closed unused.
func (g *gen) dnsNamed(t int64) {
	h := g.u.dns[g.r.IntN(len(g.u.dns))]
	if g.r.IntN(2) == 0 {
		h = g.u.tls[g.u.zTLS.Uint64()]
	}
	switch {
	case h.name == "time.windows.com":
		if t-g.lastNTP < 10*60e6 {
			return // a 5-tuple on fixed ports: keep NTP exchanges apart, as w32time does
		}
		t = g.lookup(t, h)
		f := g.newFlow(17, h.addrs[0], 123)
		f.cport = 123
		msg := make([]byte, 48)
		msg[0] = 0x23 // NTPv4, client
		fill(g.r, msg[40:])
		f.data[0].lit(msg)
		rsp := make([]byte, 48)
		rsp[0], rsp[1] = 0x24, 3
		fill(g.r, rsp[4:])
		f.data[1].lit(rsp)
		f.pkts = []pkt{{t: t, dir: 0, n: 48}, {t: t + h.rtt, dir: 1, seq: 0, n: 48}}
		g.lastNTP = t + h.rtt
		g.start(f)
	case strings.Contains(h.name, ".prod.do.dsp."):
		t = g.lookup(t, h)
		f := g.newFlow(6, h.addrs[0], 7680)
		s := &tcpScript{f: f, rtt: h.rtt}
		t = s.handshake(t)
		// A binary handshake that is neither TLS nor HTTP, then pieces.
		f.data[0].synth([]byte{0, 0, 0, 0x44, 0x13}, 0x48, g.r.IntN(poolSize))
		t = s.send(t+300, 0, f.data[0].size, 20)
		f.data[1].synth([]byte{0, 0, 0, 0x44, 0x13}, 0x48, g.r.IntN(poolSize))
		t = s.send(t+s.rtt, 1, f.data[1].size, 20)
		f.data[1].synth([]byte{0, 0, 0x40, 0x05, 0x07}, g.lognormal(40_000, 1.0, 1000, 2<<20), g.r.IntN(poolSize))
		t = s.send(t+s.rtt, 1, f.data[1].size, g.rate())
		s.closeBy(t+200_000, 0, false)
		s.finish()
		g.start(f)
	default:
		t = g.lookup(t, h)
		f := g.newFlow(6, h.addrs[0], 443)
		s := &tcpScript{f: f, rtt: h.rtt}
		t = s.handshake(t)
		s.closeBy(t+int64(1_000_000+g.r.IntN(20_000_000)), 0, g.r.IntN(2) == 0)
		s.finish()
		g.start(f)
	}
}

// queryOnly: names resolved and never contacted; WPAD and ISATAP get NXDOMAIN.
func (g *gen) queryOnly(t int64) {
	h := g.u.query[g.r.IntN(len(g.u.query))]
	qt := dnsmessage.TypeA
	var addrs [][4]byte
	if strings.HasPrefix(h.name, "ipv6.") {
		qt = dnsmessage.TypeAAAA
	} else if !strings.HasSuffix(h.name, ".localdomain") {
		addrs = h.addrs
	}
	g.dnsExchange(t, h.name, qt, h.cnames, addrs)
}

// unattributed: a connection to an address no name was given for, carrying
// something that is neither TLS nor HTTP.
func (g *gen) unattributed(t int64) {
	f := g.newFlow(6, g.u.hardcoded[g.r.IntN(len(g.u.hardcoded))], []uint16{443, 5228, 8443}[g.r.IntN(3)])
	s := &tcpScript{f: f, rtt: int64(20_000 + g.r.IntN(100_000))}
	t = s.handshake(t)
	f.data[0].synth([]byte{0, 0, 0, 0x20, 0x01}, 0x20+g.r.IntN(400), g.r.IntN(poolSize))
	t = s.send(t+500, 0, f.data[0].size, 20)
	f.data[1].synth([]byte{0, 0, 0x01, 0x00, 0x02}, g.lognormal(2000, 1, 100, 100_000), g.r.IntN(poolSize))
	t = s.send(t+s.rtt, 1, f.data[1].size, g.rate())
	s.closeBy(t+int64(g.r.IntN(1_000_000)), 0, false)
	s.finish()
	g.start(f)
}

// lan: traffic the pages' method leaves out: SMB to a LAN host, SSDP and
// LLMNR to multicast groups, the LAN host and an Internet scanner connecting
// to the VM, and ARP.
func (g *gen) lan(t int64) {
	switch g.r.IntN(5) {
	case 0:
		f := g.newFlow(6, lanHost4, 445)
		s := &tcpScript{f: f, rtt: 400}
		t = s.handshake(t)
		for range 1 + g.r.IntN(4) {
			f.data[0].synth([]byte{0, 0, 0, 0x9a, 0xfe}, 0x9a+4, g.r.IntN(poolSize))
			t = s.send(t+2000, 0, f.data[0].size, 20)
			f.data[1].synth([]byte{0, 0, 0x10, 0x00, 0xfe}, g.lognormal(3000, 1, 100, 500_000), g.r.IntN(poolSize))
			t = s.send(t+s.rtt, 1, f.data[1].size, 15)
		}
		s.closeBy(t+5_000_000, 0, false)
		s.finish()
		g.start(f)
	case 1:
		f := g.newFlow(17, ssdp4, 1900)
		f.ttl[0] = 2
		msg := []byte("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: urn:dial-multiscreen-org:service:dial:1\r\n\r\n")
		for i := range 4 {
			f.data[0].lit(msg)
			f.pkts = append(f.pkts, pkt{t: t + int64(i)*1_000_000, seq: uint32(i * len(msg)), n: uint16(len(msg))})
		}
		g.start(f)
	case 2:
		f := g.newFlow(17, llmnr4, 5355)
		f.ttl[0] = 1
		q, _, _ := dnsMessages(uint16(g.r.Uint32()), "wpad", dnsmessage.TypeA, nil, nil, 0)
		f.data[0].lit(q)
		f.data[0].lit(q)
		f.pkts = []pkt{{t: t, n: uint16(len(q))}, {t: t + 100_000, seq: uint32(len(q)), n: uint16(len(q))}}
		g.start(f)
	case 3:
		// The LAN host opens SMB to the VM: not started by the VM.
		f := g.newFlow(6, lanHost4, 445)
		f.scope = scopeNotFromVM
		f.cli4, f.srv4 = lanHost4, vm4
		f.cport, f.sport = 50000+uint16(g.r.IntN(10000)), 445
		f.mac = [2][6]byte{macLAN, macVM}
		f.ttl = [2]uint8{64, 128}
		f.fromVM = [2]bool{false, true}
		s := &tcpScript{f: f, rtt: 300}
		t = s.handshake(t)
		f.data[0].synth([]byte{0, 0, 0, 0x9a, 0xfe}, 0x9a+4, g.r.IntN(poolSize))
		t = s.send(t+1000, 0, f.data[0].size, 20)
		f.data[1].synth([]byte{0, 0, 0x01, 0x30, 0xfe}, 0x130+4, g.r.IntN(poolSize))
		t = s.send(t+s.rtt, 1, f.data[1].size, 20)
		s.closeBy(t+3_000_000, 0, false)
		s.finish()
		g.start(f)
	default:
		if t-g.lastARP > 60e6 && g.r.IntN(2) == 0 {
			f := &flow{id: g.ids + 1, cli4: vm4, srv4: resolver4, scope: scopeNonIP, fromVM: [2]bool{false, true}}
			g.ids++
			f.pkts = []pkt{{t: t}, {t: t + 300, dir: 1}}
			g.lastARP = t
			g.start(f)
			return
		}
		// An Internet scanner tries RDP; the VM resets.
		f := g.newFlow(6, scanner4, 3389)
		f.scope = scopeNotFromVM
		f.cli4, f.srv4 = scanner4, vm4
		f.cport, f.sport = 40000+uint16(g.r.IntN(20000)), 3389
		f.mac = [2][6]byte{macGateway, macVM}
		f.ttl = [2]uint8{52, 128}
		f.fromVM = [2]bool{false, true}
		f.pkts = []pkt{{t: t, dir: 0, fl: fSYN}, {t: t + 150, dir: 1, fl: fRST | fACK, ack: 1}}
		g.start(f)
	}
}

// ipv6: a TLS connection over IPv6, which the pages' method leaves out.
func (g *gen) ipv6(t int64) {
	h := g.u.tls[g.u.zTLS.Uint64()]
	f := g.newFlow(6, [4]byte{}, 443)
	f.v6, f.cli6, f.srv6, f.scope = true, vm6, server6, scopeIPv6
	f.srv6[15] = byte(g.r.IntN(4))
	f.ttl = [2]uint8{128, 52}
	s := &tcpScript{f: f, rtt: h.rtt}
	t = s.handshake(t)
	hl := &h.hellos[tmplCurl]
	ch := hl.stamp(g.r)
	f.sni, f.hellos = h.name, 1
	f.data[0].lit(ch)
	t = s.send(t+300, 0, f.data[0].size, 15)
	f.data[1].lit(serverFlight(g.r, ch, hl.l, hl.groups[0], 3000))
	g.appData(&f.data[1], g.lognormal(3000, 1, 100, 200_000))
	t = s.send(t+s.rtt, 1, f.data[1].size, g.rate())
	s.closeBy(t+1_000_000, 0, false)
	s.finish()
	g.start(f)
}

// flowHeap orders active flows by their next packet's time, then by flow id,
// so the output is the same on every run.
type flowHeap []*flow

func (h flowHeap) Len() int { return len(h) }
func (h flowHeap) Less(i, j int) bool {
	a, b := h[i].nextTime(), h[j].nextTime()
	return a < b || a == b && h[i].id < h[j].id
}
func (h flowHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *flowHeap) Push(x any)   { *h = append(*h, x.(*flow)) }
func (h *flowHeap) Pop() any {
	old := *h
	f := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return f
}
