package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"strings"
	"time"
)

// serve runs every server of the namespace: HTTPS on :443 (any SNI, a
// self-signed certificate made at start), HTTP on :80, DNS on 127.0.0.53:53
// (UDP and TCP), plain TCP services on :445, :3389 and :7680, and a UDP sink
// for the step markers. It runs until killed.
func serve() error {
	cert, err := selfSigned()
	if err != nil {
		return err
	}
	mux := http.HandlerFunc(handleHTTP)
	errc := make(chan error, 8)

	tlsLn, err := net.Listen("tcp", ":443")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: mux, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { errc <- hs.ServeTLS(tlsLn, "", "") }()

	httpLn, err := net.Listen("tcp", ":80")
	if err != nil {
		return err
	}
	go func() { errc <- (&http.Server{Handler: mux}).Serve(httpLn) }()

	for port, reply := range map[int][]byte{445: smbNegotiateResp, 3389: rdpCC, 7680: doReply} {
		ln, err := net.Listen("tcp4", fmt.Sprintf(":%d", port))
		if err != nil {
			return err
		}
		go servePlain(ln, reply)
	}

	udp, err := net.ListenPacket("udp4", loopDNS+":53")
	if err != nil {
		return err
	}
	go serveUDP(udp, answerQuery, errc)
	tcpDNS, err := net.Listen("tcp4", loopDNS+":53")
	if err != nil {
		return err
	}
	go func() {
		for {
			c, err := tcpDNS.Accept()
			if err != nil {
				errc <- err
				return
			}
			go serveDNSConn(c)
		}
	}()

	mark, err := net.ListenPacket("udp4", loopMarker+":9")
	if err != nil {
		return err
	}
	go func() {
		buf := make([]byte, 512)
		for {
			if _, _, err := mark.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	log.Printf("serving")
	return <-errc
}

func serveDNSConn(c net.Conn) {
	defer c.Close()
	for {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return
		}
		q := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, q); err != nil {
			return
		}
		resp, err := answerQuery(q)
		if err != nil {
			return
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
		c.Write(append(out, resp...))
	}
}

func servePlain(ln net.Listener, reply []byte) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			buf := make([]byte, 4096)
			if _, err := c.Read(buf); err != nil {
				return
			}
			c.Write(reply)
			// wait for the client to close first, as these clients do
			io.Copy(io.Discard, c)
		}()
	}
}

// blob returns n deterministic pseudo-random bytes.
func blob(seed string, n int) []byte {
	var out []byte
	for i := 0; len(out) < n; i++ {
		sum := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", seed, i)))
		out = append(out, sum[:]...)
	}
	return out[:n]
}

func handleHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Server", "Microsoft-IIS/10.0")
	p := r.URL.Path
	switch {
	case p == "/connecttest.txt":
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "Microsoft Connect Test")
	case strings.HasSuffix(p, ".cab"):
		w.Header().Set("Content-Type", "application/vnd.ms-cab-compressed")
		w.Write(append([]byte("MSCF\x00\x00\x00\x00"), blob(p, 1400)...))
	case strings.HasPrefix(p, "/filestreamingservice/"):
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(blob(r.URL.String(), 2000))
	case strings.HasPrefix(p, "/fwlink"):
		w.Header().Set("Location", "https://definitionupdates.microsoft.com/download/DefinitionUpdates/")
		w.WriteHeader(http.StatusFound)
	case r.Host == "ocsp.sectigo.com":
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(append([]byte{0x30, 0x82, 0x01, 0xd3, 0x0a, 0x01, 0x00}, blob("ocsp", 460)...))
	case p == "/metadata.svc":
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>`)
	default:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`)
	}
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "phonehome test server"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     []string{"*"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// Payloads of the plain TCP exchanges (shapes of the real protocols, short).
var (
	// NetBIOS session header + SMB2 NEGOTIATE (truncated dialect list).
	smbNegotiate     = append([]byte{0x00, 0x00, 0x00, 0x6c, 0xfe, 'S', 'M', 'B', 0x40, 0x00}, blob("smb-neg", 98)...)
	smbNegotiateResp = append([]byte{0x00, 0x00, 0x00, 0x80, 0xfe, 'S', 'M', 'B', 0x40, 0x00}, blob("smb-neg-resp", 118)...)
	// TPKT + X.224 Connection Request with an mstshash cookie.
	rdpCR = []byte("\x03\x00\x00\x2b\x26\xe0\x00\x00\x00\x00\x00Cookie: mstshash=Administr\r\n\x01\x00\x08\x00\x03\x00\x00\x00")
	rdpCC = []byte("\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x1f\x08\x00\x02\x00\x00\x00")
	// Delivery Optimization peer protocol look-alike: binary, not TLS, not HTTP.
	doHello = append([]byte{0x0e, 'S', 'w', 'a', 'r', 'm', ' ', 'p', 'r', 'o', 't', 'o', 'c', 'o', 'l'}, blob("do-hello", 53)...)
	doReply = append([]byte{0x0e, 'S', 'w', 'a', 'r', 'm', ' ', 'p', 'r', 'o', 't', 'o', 'c', 'o', 'l'}, blob("do-reply", 61)...)
)

// serveUDP answers each datagram that arrives on conn with what answer makes
// of it (nothing when it fails), until a read fails: that error goes to errc.
func serveUDP(conn net.PacketConn, answer func([]byte) ([]byte, error), errc chan<- error) {
	buf := make([]byte, 4096)
	for {
		n, addr, err := conn.ReadFrom(buf)
		if err != nil {
			errc <- err
			return
		}
		if resp, err := answer(buf[:n]); err == nil {
			conn.WriteTo(resp, addr)
		}
	}
}
