package netns

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/internal/testenv"
)

// The servers and clients are those of the tunnel fixtures
// (testdata/gen/make-tunnel-fixtures.sh), reused rather than copied: `gen
// tunnel-serve` (testdata/gen/tunnel.go) is the DNS responder and the HTTP
// server, openssl s_server the HTTPS server, and dig, curl and openssl
// s_client the clients. The names and addresses below are tunnel.go's zone.

// Exchange is one name a client asked for, how the packets show it and the
// address it reached.
type Exchange struct {
	Client   string     // "dig", "curl", "openssl s_client"
	Name     string     // the name asked for: what the report must show
	Evidence string     // "dns" (an answer only), "tls-sni", "http-host"
	Addr     netip.Addr // the address the name resolves to
}

// The zone: names gen tunnel-serve answers and the servers behind them.
var (
	// HTTPSName is served by openssl s_server on HTTPSAddr:443.
	HTTPSName = "slscr.update.microsoft.com"
	HTTPSAddr = netip.MustParseAddr("20.72.205.209")
	// HTTPName is served by gen tunnel-serve's HTTP server on HTTPAddr:80.
	HTTPName = "ctldl.windowsupdate.com"
	HTTPAddr = netip.MustParseAddr("23.56.3.67")
	// DNSName is only resolved: no server listens on DNSAddr.
	DNSName = "settings-win.data.microsoft.com"
	DNSAddr = netip.MustParseAddr("20.54.24.148")
)

// Servers are the servers Serve started in B.
type Servers struct {
	p      *Pair
	DNS    *Proc // gen tunnel-serve: DNS on AddrB:53 (UDP), HTTP on HTTPAddr:80
	HTTPS  *Proc // openssl s_server on HTTPSAddr:443
	Resolv netip.Addr
}

// Serve starts the servers in B (the DNS responder on AddrB, the HTTP and
// HTTPS servers on public-looking addresses on B's lo) and routes exactly
// those addresses from A to B. It returns once the DNS responder answers
// (that probe query happens before it returns: start a capture after). It
// builds testdata/gen with the go command, so it needs go, openssl and dig
// (testenv.Program).
func (p *Pair) Serve() *Servers {
	t := p.B.t
	t.Helper()
	goCmd := programs(t)
	root := repoRoot(t)
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen")
	build := exec.Command(goCmd, "build", "-o", gen, ".")
	build.Dir = filepath.Join(root, "testdata", "gen")
	build.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build testdata/gen: %v\n%s", err, out)
	}
	key, cert := filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem")
	if out, err := exec.Command("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
		"-nodes", "-days", "2", "-subj", "/CN="+HTTPSName, "-keyout", key, "-out", cert).CombinedOutput(); err != nil {
		t.Fatalf("openssl req (the HTTPS server's certificate): %v\n%s", err, out)
	}
	for _, a := range []netip.Addr{HTTPSAddr, HTTPAddr, DNSAddr} {
		p.B.MustRun("ip", "addr", "add", a.String()+"/32", "dev", "lo")
		p.A.MustRun("ip", "route", "add", a.String()+"/32", "via", AddrB.String())
	}
	s := &Servers{p: p, Resolv: AddrB}
	s.DNS = p.B.Start(gen, "tunnel-serve", "-dns", AddrB.String()+":53", "-http", HTTPAddr.String()+":80")
	s.HTTPS = p.B.Start("openssl", "s_server", "-quiet", "-www", "-accept", HTTPSAddr.String()+":443", "-cert", cert, "-key", key)
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := p.A.Run("dig", "+time=1", "+tries=1", "+short", "@"+AddrB.String(), DNSName, "A")
		if err == nil && strings.Contains(out, DNSAddr.String()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the DNS responder in %s did not answer within 10 s: %v\n%s\nserver: %s", p.B.Name, err, out, s.DNS.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for !strings.Contains(p.B.MustRun("ss", "-ltn"), HTTPSAddr.String()+":443") {
		if time.Now().After(deadline) || s.HTTPS.Exited() {
			t.Fatalf("openssl s_server in %s is not listening on %s:443:\n%s", p.B.Name, HTTPSAddr, s.HTTPS.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

// Drive runs the clients in A, one after the other: dig asks for the three
// names, curl fetches http://HTTPName/ and openssl s_client does a TLS
// handshake with HTTPSAddr naming HTTPSName. The clients are given the
// addresses (dig's answers, curl --resolve, s_client -connect ADDR), so no
// client ever consults the system resolver. It fails the test when a client
// fails or gets a wrong answer, and returns what was asked, in order.
func (s *Servers) Drive() []Exchange {
	t := s.p.A.t
	t.Helper()
	var ex []Exchange
	for _, q := range []struct {
		name string
		addr netip.Addr
	}{{DNSName, DNSAddr}, {HTTPName, HTTPAddr}, {HTTPSName, HTTPSAddr}} {
		out := s.p.A.MustRun("dig", "+time=2", "+tries=1", "+notcp", "+short", "@"+s.Resolv.String(), q.name, "A")
		if !strings.Contains(out, q.addr.String()) {
			t.Fatalf("dig @%s %s A = %q; want an answer with %s", s.Resolv, q.name, out, q.addr)
		}
		ex = append(ex, Exchange{Client: "dig", Name: q.name, Evidence: "dns", Addr: q.addr})
	}
	s.p.A.MustRun("curl", "-sS", "--max-time", "5", "-o", "/dev/null", "--resolve", HTTPName+":80:"+HTTPAddr.String(),
		"http://"+HTTPName+"/msdownload/update/v3/static/trustedr/en/authrootstl.cab")
	ex = append(ex, Exchange{Client: "curl", Name: HTTPName, Evidence: "http-host", Addr: HTTPAddr})
	c := s.p.A.Command("openssl", "s_client", "-connect", HTTPSAddr.String()+":443", "-servername", HTTPSName)
	c.Stdin = strings.NewReader("") // end of input: s_client closes after the handshake
	if out, err := c.CombinedOutput(); err != nil || !strings.Contains(string(out), "CN = "+HTTPSName) {
		t.Fatalf("in namespace %s: openssl s_client -connect %s:443 -servername %s: %v\n%s", s.p.A.Name, HTTPSAddr, HTTPSName, err, out)
	}
	ex = append(ex, Exchange{Client: "openssl s_client", Name: HTTPSName, Evidence: "tls-sni", Addr: HTTPSAddr})
	return ex
}

// programs checks for what Serve and Drive run and returns the go command.
func programs(t testing.TB) string {
	t.Helper()
	goCmd := testenv.Program(t, "go", "golang", "it builds testdata/gen, whose tunnel-serve is the DNS and HTTP server")
	testenv.Program(t, "openssl", "openssl", "it is the HTTPS server and client")
	testenv.Program(t, "dig", "dnsutils", "it is the DNS client")
	testenv.Program(t, "curl", "curl", "it is the HTTP client")
	testenv.Program(t, "ss", "iproute2", "it tells when the HTTPS server listens")
	return goCmd
}

// repoRoot is the directory above the working directory that holds
// testdata/gen (go test runs in the package's directory).
func repoRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "testdata", "gen", "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			t.Fatalf("no testdata/gen/go.mod above %s: Serve runs in a test of the phonehome repository", wd)
		}
	}
}
