package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"time"
)

// Driver runs steps with real clients, from the VM address 127.0.0.1 and a
// fixed local port per connection (Windows' ephemeral range), so that every
// TCP 5-tuple is the same from one run to the next. DNS queries made by the
// system resolvers (glibc for curl/openssl, Go's for the Go clients) keep
// their random ports and IDs.
type Driver struct {
	nextPort int
}

func (d *Driver) port() int { d.nextPort++; return d.nextPort }

func drive(scenario string) error {
	var steps []Step
	d := &Driver{nextPort: 49700}
	switch scenario {
	case "sample":
		steps = sampleSteps()
	case "fixtures":
		steps = fixtureSteps()
		d.nextPort = 50400
	case "compare":
		steps = compareSteps()
		d.nextPort = 51000
	default:
		return fmt.Errorf("unknown scenario %q", scenario)
	}
	mark, err := net.DialUDP("udp4", &net.UDPAddr{IP: net.ParseIP(loopVM)}, &net.UDPAddr{IP: net.ParseIP(loopMarker), Port: 9})
	if err != nil {
		return err
	}
	for _, st := range steps {
		mark.Write([]byte("PHMARK " + st.ID))
		time.Sleep(150 * time.Millisecond)
		log.Printf("step %s", st.ID)
		if err := st.Run(d); err != nil {
			return fmt.Errorf("step %s: %w", st.ID, err)
		}
		time.Sleep(400 * time.Millisecond)
	}
	mark.Write([]byte("PHMARK END"))
	time.Sleep(200 * time.Millisecond)
	return nil
}

func run(stdin []byte, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
	return nil
}

func (d *Driver) curlBase() []string {
	return []string{"-sS", "--max-time", "10", "--local-port", fmt.Sprint(d.port())}
}

// curlHTTPS: curl resolves the name with the system resolver, then TLS with SNI.
func (d *Driver) curlHTTPS(name, path string) error {
	args := append(d.curlBase(), "-k", "-o", "/dev/null", "https://"+name+path)
	return run(nil, "curl", args...)
}

// curlHTTPSResolve: same without DNS (--resolve).
func (d *Driver) curlHTTPSResolve(name string) error {
	args := append(d.curlBase(), "-k", "-o", "/dev/null", "--resolve", name+":443:"+addrOf(name), "https://"+name+"/")
	return run(nil, "curl", args...)
}

func (d *Driver) curlHTTPS6(name string) error {
	args := append(d.curlBase(), "-6", "-k", "-o", "/dev/null", "--resolve", name+":443:[::1]", "https://"+name+"/")
	return run(nil, "curl", args...)
}

func (d *Driver) curlHTTP6(name, path string) error {
	args := append(d.curlBase(), "-6", "--http1.1", "-A", "Microsoft NCSI", "-o", "/dev/null", "--resolve", name+":80:[::1]", "http://"+name+path)
	return run(nil, "curl", args...)
}

var requestBodies = map[string][]byte{
	"dmd.metaservices.microsoft.com": []byte(`<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body><GetDeviceMetadata xmlns="http://schemas.microsoft.com/windowsmetadata/services/2007/09/18/dms"><DeviceInfo><DeviceHardwareId>PCI\VEN_8086&amp;DEV_100E</DeviceHardwareId><Locale>en-US</Locale></DeviceInfo></GetDeviceMetadata></soap:Body></soap:Envelope>`),
	"ocsp.sectigo.com":               append([]byte{0x30, 0x51, 0x30, 0x4f, 0x30, 0x4d, 0x30, 0x4b, 0x30, 0x49, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14}, blob("ocsp-req", 60)...),
}

// curlHTTP fetches one or more paths from host over HTTP/1.1; several paths
// share one keep-alive connection (curl reuses it).
func (d *Driver) curlHTTP(host string, paths []string, ua string, extra []string) error {
	args := append(d.curlBase(), "--http1.1", "-A", ua)
	args = append(args, extra...)
	for _, p := range paths {
		args = append(args, "-o", "/dev/null", "http://"+host+p)
	}
	return run(requestBodies[host], "curl", args...)
}

// curlHTTPAddr: HTTP to an address literal with an explicit Host header.
func (d *Driver) curlHTTPAddr(addr, host, path string) error {
	args := append(d.curlBase(), "--http1.1", "-H", "Host: "+host, "-o", "/dev/null", "http://"+addr+path)
	return run(nil, "curl", args...)
}

// openssl: s_client to target:443 (a name it resolves, or an address), with
// -servername sni or -noservername; sends one HTTP request inside TLS and
// waits for the server to close.
func (d *Driver) openssl(target, sni string, withSNI bool) error {
	args := []string{"s_client", "-connect", target + ":443", "-bind", fmt.Sprintf("%s:%d", loopVM, d.port()), "-ign_eof"}
	host := sni
	if withSNI {
		args = append(args, "-servername", sni)
	} else {
		args = append(args, "-noservername")
		host = target
		if pub, ok := extraAddrs[target]; ok {
			host = pub
		}
	}
	req := "GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"
	return run([]byte(req), "openssl", args...)
}

func (d *Driver) dialer() *net.Dialer {
	return &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(loopVM), Port: d.port()}}
}

// goTLS: Go crypto/tls (X25519MLKEM768 key share: a ~1.8 KB ClientHello, two
// segments at MTU 1500), one HTTP/1.1 request inside, then close.
func (d *Driver) goTLS(dialHost, sni, path string) error {
	conn, err := tls.DialWithDialer(d.dialer(), "tcp", dialHost+":443", &tls.Config{ServerName: sni, InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	if err != nil {
		return err
	}
	defer conn.Close()
	body := `{"ver":"4.0","name":"Microsoft.Windows.Inventory.Core","time":"2026-03-02T08:00:00Z"}`
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-json-stream\r\nClient-Id: NO_AUTH\r\nContent-Length: %d\r\n\r\n%s", path, sni, len(body), body)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// goHTTP: Go net/http, several GETs on one keep-alive connection.
func (d *Driver) goHTTP(host, ua string, paths []string) error {
	return d.goHTTPAddr("", host, ua, paths)
}

func (d *Driver) goHTTPAddr(addr, host, ua string, paths []string) error {
	dl := d.dialer()
	tr := &http.Transport{MaxConnsPerHost: 1, DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
		if addr != "" {
			a = addr + ":80"
		}
		return dl.DialContext(ctx, network, a)
	}}
	cl := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	for i, p := range paths {
		if i > 0 {
			time.Sleep(250 * time.Millisecond)
		}
		req, _ := http.NewRequest("GET", "http://"+host+p, nil)
		req.Header.Set("User-Agent", ua)
		resp, err := cl.Do(req)
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	tr.CloseIdleConnections()
	return nil
}

// plainTCP: connect from localIP:localPort (0 = next fixed port) to target
// (a name resolved with Go's resolver, or an address), send payload, read the
// reply, close. A nil payload only connects (a probe).
func (d *Driver) plainTCP(localIP string, localPort int, target string, port int, payload []byte) error {
	if localPort == 0 {
		localPort = d.port()
	}
	dl := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(localIP), Port: localPort}}
	c, err := dl.Dial("tcp4", net.JoinHostPort(target, fmt.Sprint(port)))
	if err != nil {
		return err
	}
	defer c.Close()
	c.Write(payload)
	c.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 4096)
	_, err = c.Read(buf)
	return err
}

// dig: a query to the namespace resolver from a fixed port, over UDP or TCP.
func (d *Driver) dig(name string, tcp bool) error {
	args := []string{"@" + loopDNS, "-b", fmt.Sprintf("%s#%d", loopVM, d.port()), name, "A"}
	if tcp {
		args = append(args, "+tcp")
	}
	return run(nil, "dig", args...)
}
