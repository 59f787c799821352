package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// The servers of the tunnel fixtures (make-tunnel-fixtures.sh): a DNS
// responder and an HTTP server on the gateway side of a real tunnel, with
// the public addresses they have inside the namespace (the fixtures are not
// rewritten: these are the addresses on the wire).

// tunnelZone is what the tunnel fixtures' DNS responder answers: a CNAME
// chain, then A records. "big" names get n A records in 13.107.4.0/24, so
// that the answer is larger than the tunnel's MTU (fragments inside the
// tunnel) or than the underlay's (fragments outside it).
var tunnelZone = map[string]struct {
	chain []string
	a     []string
	n     int // A records 13.107.4.1 .. n, when a is empty
}{
	"slscr.update.microsoft.com":      {chain: []string{"slscr.update.microsoft.com.akadns.net"}, a: []string{"20.72.205.209"}},
	"ctldl.windowsupdate.com":         {chain: []string{"ctldl.windowsupdate.com.delivery.microsoft.com", "wu-b-net.trafficmanager.net"}, a: []string{"23.56.3.67"}},
	"settings-win.data.microsoft.com": {chain: []string{"settings-win.data.microsoft.com.akadns.net"}, a: []string{"20.54.24.148"}},
	// 120 A records: a 2 KB answer, over the 1450-byte VXLAN MTU.
	"download.windowsupdate.com": {chain: []string{"download.windowsupdate.com.edgesuite.net"}, n: 120},
	// 80 A records: a 1.4 KB answer, under the 1500-byte tunnel MTU but
	// over the underlay's 1400 once encapsulated.
	"tlu.dl.delivery.mp.microsoft.com": {chain: []string{"tlu.dl.delivery.mp.microsoft.com.edgesuite.net"}, n: 80},
}

// tunnelServe runs the DNS responder (UDP) and the HTTP server until killed.
func tunnelServe(args []string) error {
	fs := flag.NewFlagSet("tunnel-serve", flag.ExitOnError)
	dnsAddr := fs.String("dns", "", "UDP address of the DNS responder")
	httpAddr := fs.String("http", "", "TCP address of the HTTP server")
	fs.Parse(args)
	errc := make(chan error, 2)
	udp, err := net.ListenPacket("udp4", *dnsAddr)
	if err != nil {
		return err
	}
	go serveUDP(udp, tunnelAnswer, errc)
	ln, err := net.Listen("tcp4", *httpAddr)
	if err != nil {
		return err
	}
	go func() {
		errc <- http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(blob(r.URL.Path, 3000)) // a few full-size segments back
		}))
	}()
	log.Printf("tunnel-serve: DNS on %s, HTTP on %s", *dnsAddr, *httpAddr)
	return <-errc
}

// tunnelAnswer answers a query from tunnelZone: A queries with the chain and
// the addresses, other types with the chain alone, unknown names NXDOMAIN.
func tunnelAnswer(q []byte) ([]byte, error) {
	m, err := parseDNS(q)
	if err != nil || m.Response {
		return nil, fmt.Errorf("bad query")
	}
	_, qnEnd, _ := readName(q, 12)
	resp := append([]byte(nil), q[:12]...)
	resp[2] = 0x80 | q[2]&0x01
	resp[3] = 0x80
	binary.BigEndian.PutUint16(resp[4:], 1)
	binary.BigEndian.PutUint16(resp[6:], 0)
	binary.BigEndian.PutUint16(resp[8:], 0)
	binary.BigEndian.PutUint16(resp[10:], 0)
	resp = append(resp, q[12:qnEnd+4]...)
	ent, ok := tunnelZone[strings.ToLower(strings.TrimSuffix(m.QName, "."))]
	if !ok {
		resp[3] |= 3
		return resp, nil
	}
	count := 0
	owner := []byte{0xc0, 0x0c}
	rr := func(typ uint16, rdata []byte) {
		resp = append(resp, owner...)
		var f [10]byte
		binary.BigEndian.PutUint16(f[0:], typ)
		binary.BigEndian.PutUint16(f[2:], 1)
		binary.BigEndian.PutUint32(f[4:], 300)
		binary.BigEndian.PutUint16(f[8:], uint16(len(rdata)))
		resp = append(append(resp, f[:]...), rdata...)
		count++
	}
	for _, c := range ent.chain {
		rr(typeCNAME, encodeName(c))
		// The next owner is this CNAME's target: a pointer to its rdata.
		off := len(resp) - len(encodeName(c))
		owner = []byte{0xc0 | byte(off>>8), byte(off)}
	}
	if m.QType == typeA {
		for _, a := range ent.a {
			b := netip.MustParseAddr(a).As4()
			rr(typeA, b[:])
		}
		for i := 1; i <= ent.n; i++ {
			rr(typeA, []byte{13, 107, 4, byte(i)})
		}
	}
	binary.BigEndian.PutUint16(resp[6:], uint16(count))
	return resp, nil
}
