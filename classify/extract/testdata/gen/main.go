// Command gen regenerates the real-client fixtures in classify/extract/testdata.
//
// It starts listeners on 127.0.0.1 only, points real clients at them (Go's crypto/tls, openssl s_client, curl)
// and writes the first bytes each client sent. DNS fixtures are cut out of the shared corpus with tshark. Run it
// from the repository root:
//
//	go run ./classify/extract/testdata/gen -out classify/extract/testdata -corpus ../shared/corpus/dev
//
// Each output is described in testdata/README.md; regenerate and update the README together.
package main

import (
	"bytes"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	out := flag.String("out", "classify/extract/testdata", "directory to write fixtures to")
	corpus := flag.String("corpus", "../shared/corpus/dev", "directory of corpus captures (for DNS fixtures)")
	flag.Parse()
	if err := run(*out, *corpus); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out, corpus string) error {
	steps := []struct {
		file string
		f    func() ([]byte, error)
	}{
		{"tls_go_client_hello.bin", goClientHello},
		{"tls_openssl_client_hello.bin", func() ([]byte, error) {
			return capture(nil, func(port string) *exec.Cmd {
				return exec.Command("openssl", "s_client", "-connect", "127.0.0.1:"+port,
					"-servername", "openssl.example.test")
			})
		}},
		{"tls_openssl_client_hello_frag512.bin", func() ([]byte, error) {
			return capture(nil, func(port string) *exec.Cmd {
				return exec.Command("openssl", "s_client", "-connect", "127.0.0.1:"+port,
					"-servername", "fragmented.openssl.example.test", "-max_send_frag", "512",
					// Long ALPN names push the ClientHello past 1 KiB, so 512-byte records split it in three records.
					"-alpn", strings.Join([]string{strings.Repeat("a", 200), strings.Repeat("b", 200),
						strings.Repeat("c", 200), strings.Repeat("d", 200), strings.Repeat("e", 200), "http/1.1"}, ","))
			})
		}},
		{"tls_curl_client_hello.bin", func() ([]byte, error) {
			return capture(nil, func(port string) *exec.Cmd {
				return exec.Command("curl", "-sk", "--max-time", "3",
					"--resolve", "curl.example.test:"+port+":127.0.0.1", "https://curl.example.test:"+port+"/")
			})
		}},
		{"http_curl_get.bin", func() ([]byte, error) {
			return capture([]byte("HTTP/1.1 204 No Content\r\n\r\n"), func(port string) *exec.Cmd {
				return exec.Command("curl", "-s", "--max-time", "3",
					"--resolve", "curl.example.test:"+port+":127.0.0.1",
					"http://curl.example.test:"+port+"/path/to?q=1")
			})
		}},
		{"http_curl_post_chunked.bin", func() ([]byte, error) {
			return capture([]byte("HTTP/1.1 204 No Content\r\n\r\n"), func(port string) *exec.Cmd {
				c := exec.Command("curl", "-s", "--max-time", "3",
					"--resolve", "upload.example.test:"+port+":127.0.0.1",
					"-H", "Transfer-Encoding: chunked", "-H", "Expect:", "--data-binary", "@-",
					"http://upload.example.test:"+port+"/upload")
				c.Stdin = strings.NewReader("hello, chunked world\n")
				return c
			})
		}},
		{"dns_udp_www_github_com.bin", tsharkPayload(corpus, "arkime__dns-udp.pcap", 2, "udp.payload")},
		{"dns_udp_ctldl_windowsupdate_com.bin", tsharkPayload(corpus, "sv__tls__tls-subjectaltname__input.pcap", 34, "udp.payload")},
		{"dns_udp_res_wx_qq_com.bin", tsharkPayload(corpus, "ndpi__wechat.pcap", 938, "udp.payload")},
		{"dns_udp_netflix_aaaa.bin", tsharkPayload(corpus, "ndpi__netflix.pcap", 6, "udp.payload")},
		{"dns_udp_nxdomain.bin", tsharkPayload(corpus, "sv__dns__dns-rcode__input.pcap", 2, "udp.payload")},
		{"dns_tcp_www_tcpdump_org.bin", tsharkPayload(corpus, "tcpdump__dns_tcp.pcap", 6, "tcp.payload")},
		{"dns_query_udp_www_github_com.bin", tsharkPayload(corpus, "arkime__dns-udp.pcap", 1, "udp.payload")},
		{"dns_query_udp_ctldl_windowsupdate_com.bin", tsharkPayload(corpus, "sv__tls__tls-subjectaltname__input.pcap", 33, "udp.payload")},
		{"dns_query_tcp_www_tcpdump_org.bin", tsharkPayload(corpus, "tcpdump__dns_tcp.pcap", 4, "tcp.payload")},
	}
	for _, s := range steps {
		b, err := s.f()
		if err != nil {
			return fmt.Errorf("%s: %w", s.file, err)
		}
		if len(b) == 0 {
			return fmt.Errorf("%s: captured nothing", s.file)
		}
		if err := os.WriteFile(filepath.Join(out, s.file), b, 0o644); err != nil {
			return err
		}
		fmt.Printf("%s: %d bytes\n", s.file, len(b))
	}
	return nil
}

// goClientHello captures what this toolchain's crypto/tls client writes first.
func goClientHello() ([]byte, error) {
	return capture(nil, func(port string) *exec.Cmd { return nil }, "go.example.test")
}

// capture listens on 127.0.0.1, runs the client made by mk (or a Go TLS client for goSNI when mk returns nil),
// records what the client sends until it is idle for 500ms, optionally answers with reply, and returns the bytes.
func capture(reply []byte, mk func(port string) *exec.Cmd, goSNI ...string) ([]byte, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())

	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		var buf bytes.Buffer
		tmp := make([]byte, 4096)
		for {
			c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			n, err := c.Read(tmp)
			buf.Write(tmp[:n])
			if err != nil {
				break
			}
		}
		if reply != nil {
			c.Write(reply)
		}
		got <- buf.Bytes()
	}()

	if cmd := mk(port); cmd != nil {
		if cmd.Stdin == nil {
			cmd.Stdin = strings.NewReader("")
		}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		t := time.AfterFunc(5*time.Second, func() { cmd.Process.Kill() })
		_ = cmd.Wait() // the clients fail once the listener hangs up; that is expected
		t.Stop()
	} else {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return nil, err
		}
		tc := tls.Client(c, &tls.Config{ServerName: goSNI[0]})
		tc.SetDeadline(time.Now().Add(3 * time.Second))
		err = tc.Handshake()
		c.Close()
		if err == nil {
			return nil, errors.New("handshake unexpectedly succeeded")
		}
	}
	select {
	case b := <-got:
		return b, nil
	case <-time.After(5 * time.Second):
		return nil, errors.New("listener got nothing")
	}
}

// tsharkPayload returns the hex-decoded field (udp.payload or tcp.payload) of one frame of a corpus capture.
func tsharkPayload(dir, file string, frame int, field string) func() ([]byte, error) {
	return func() ([]byte, error) {
		cmd := exec.Command("tshark", "-r", filepath.Join(dir, file),
			"-Y", fmt.Sprintf("frame.number==%d", frame), "-T", "fields", "-e", field)
		cmd.Stderr = io.Discard
		o, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("tshark %s: %w", file, err)
		}
		return hex.DecodeString(strings.TrimSpace(string(o)))
	}
}
