package main

import "time"

// Addresses. Inside the namespace everything is loopback; the rewrite step
// maps each loopback address to the address a VM host would see.
const (
	loopVM      = "127.0.0.1"  // the Windows VM (client side of every capture)
	loopDNS     = "127.0.0.53" // the resolver the VM uses
	loopLAN     = "127.0.0.20" // a file server on the VM's LAN
	loopMarker  = "127.0.0.99" // step markers (dropped by the rewrite step)
	loopNoName  = "127.0.9.9"  // a public address that is never resolved
	loopRemote1 = "127.0.3.1"  // remote host that opens a connection to the VM
	loopRemote2 = "127.0.3.2"  // remote host that probes a closed port on the VM

	vmMAC      = "08:00:27:5e:1c:3a" // VirtualBox guest NIC
	gatewayMAC = "0a:00:27:00:00:00" // VirtualBox host-only adapter (192.168.56.1)
	lanMAC     = "08:00:27:c4:91:07" // the LAN file server

	// IPv6: the capture uses ::1 on both ends; the rewrite tells the ends
	// apart by port (443/80 is the server).
	vm6     = "2001:db8:56::10"
	server6 = "2620:1ec:c11::200"
)

// zoneEntry is one name the DNS server answers: a CNAME chain (possibly
// empty) ending in one A record.
type zoneEntry struct {
	name  string
	chain []string
	loop  string // A record served inside the namespace
	pub   string // what that address becomes in the files
}

var zone = []zoneEntry{
	// Documented in the Windows 10 1909 endpoint lists.
	{"settings-win.data.microsoft.com", []string{"settings-win.data.microsoft.com.akadns.net", "atm-settingsfe-prod-geo2.trafficmanager.net"}, "127.0.1.1", "20.54.24.148"},
	{"v10.events.data.microsoft.com", []string{"global.asimov.events.data.trafficmanager.net", "onedscolprdeus04.eastus.cloudapp.azure.com"}, "127.0.1.2", "20.42.65.90"},
	{"login.live.com", []string{"login.msa.msidentity.com", "www.tm.lg.prod.aadmsa.akadns.net"}, "127.0.1.3", "40.126.32.134"},
	{"fe3cr.delivery.mp.microsoft.com", []string{"glb.cws.prod.dcat.dsp.trafficmanager.net"}, "127.0.1.4", "20.12.23.50"},
	{"displaycatalog.mp.microsoft.com", []string{"displaycatalog.md.mp.microsoft.com.akadns.net"}, "127.0.1.5", "20.83.72.99"},
	{"arc.msn.com", []string{"arc.trafficmanager.net", "iris-de-prod-azsc-v2-neu.northeurope.cloudapp.azure.com"}, "127.0.1.6", "20.223.35.26"},
	{"www.bing.com", []string{"www-www.bing.com.trafficmanager.net", "dual-a-0001.a-msedge.net"}, "127.0.1.7", "13.107.21.200"},
	{"slscr.update.microsoft.com", []string{"slscr.update.microsoft.com.akadns.net", "slscr-eus-prod.eastus.cloudapp.azure.com"}, "127.0.1.8", "20.72.205.209"},
	{"licensing.mp.microsoft.com", []string{"licensing.md.mp.microsoft.com.akadns.net"}, "127.0.1.9", "40.91.76.224"},
	{"watson.telemetry.microsoft.com", []string{"umwatsonrouting.trafficmanager.net"}, "127.0.1.10", "20.189.173.3"},
	{"client.wns.windows.com", []string{"wns.notify.trafficmanager.net", "bn3p.wns.notify.windows.com.akadns.net"}, "127.0.1.11", "52.177.166.224"},
	{"ctldl.windowsupdate.com", []string{"wu-bg-shim.trafficmanager.net", "download.windowsupdate.com.edgesuite.net", "a767.dspw65.akamai.net"}, "127.0.1.12", "23.56.3.67"},
	{"www.msftconnecttest.com", []string{"v4ncsi.msedge.net"}, "127.0.1.13", "13.107.4.52"},
	// tlu and 2.tlu share their CNAME tail and so their address: a flow
	// to 23.15.178.27 is named by its Host header, not by DNS.
	{"tlu.dl.delivery.mp.microsoft.com", []string{"wu-fg-shim.trafficmanager.net", "a1961.g2.akamai.net"}, "127.0.1.14", "23.15.178.27"},
	{"2.tlu.dl.delivery.mp.microsoft.com", []string{"wu-fg-shim.trafficmanager.net", "a1961.g2.akamai.net"}, "127.0.1.14", "23.15.178.27"},
	{"dmd.metaservices.microsoft.com", []string{"dmd.metaservices.microsoft.com.akadns.net"}, "127.0.1.16", "40.77.226.250"},
	{"go.microsoft.com", []string{"go.microsoft.com.edgekey.net", "e11290.dspg.akamaiedge.net"}, "127.0.1.17", "23.66.133.162"},
	{"wdcp.microsoft.com", []string{"wd-prod-cp.trafficmanager.net", "wd-prod-cp-us-east-1-fe.eastus.cloudapp.azure.com"}, "127.0.1.18", "52.168.117.170"},
	{"kv801.prod.do.dsp.mp.microsoft.com", []string{"kv801-prod.do.dsp.mp.microsoft.com.akadns.net"}, "127.0.1.19", "20.49.150.241"},
	// Not in the 1909 lists.
	{"self.events.data.microsoft.com", []string{"self-events-data.trafficmanager.net", "onedscolprdweu07.westeurope.cloudapp.azure.com"}, "127.0.2.1", "20.50.201.195"},
	{"edge.microsoft.com", []string{"edge-microsoft-com.dual-a-0036.a-msedge.net", "dual-a-0036.a-msedge.net"}, "127.0.2.2", "13.107.21.239"},
	{"ecs.office.com", []string{"ecs.office.trafficmanager.net", "s-0005.s-msedge.net"}, "127.0.2.3", "52.113.194.132"},
	{"assets.msn.com", []string{"assets.msn.com.edgekey.net", "e28578.d.akamaiedge.net"}, "127.0.2.4", "23.200.143.7"},
	{"ocsp.sectigo.com", []string{"ocsp.comodoca.com.cdn.cloudflare.net"}, "127.0.2.5", "172.64.149.23"},
	{"api.vendor-updater.net", nil, "127.0.2.6", "45.60.12.34"},
	// Only in testdata/compare/new-undocumented.pcapng (make-compare-fixtures.sh).
	{"telemetry.example-vendor.test", []string{"telemetry.example-vendor.test.cdn.example-cdn.test"}, "127.0.2.7", "185.12.64.73"},
}

// Addresses that are not in DNS answers.
var extraAddrs = map[string]string{
	loopVM:      "192.168.56.10",
	loopDNS:     "192.168.56.1",
	loopLAN:     "192.168.56.20",
	loopNoName:  "51.124.78.146",
	loopRemote1: "45.155.205.233",
	loopRemote2: "193.32.162.18",
}

// documented: the catalog entry (as written in the 1909 lists) that covers a
// name; absent = not documented for 1909.
var documented = map[string]string{
	"settings-win.data.microsoft.com":    "settings-win.data.microsoft.com",
	"v10.events.data.microsoft.com":      "v10.events.data.microsoft.com",
	"login.live.com":                     "login.live.com",
	"fe3cr.delivery.mp.microsoft.com":    "fe3cr.delivery.mp.microsoft.com",
	"displaycatalog.mp.microsoft.com":    "*displaycatalog.mp.microsoft.com/*",
	"arc.msn.com":                        "arc.msn.com",
	"www.bing.com":                       "www.bing.com",
	"slscr.update.microsoft.com":         "slscr.update.microsoft.com",
	"licensing.mp.microsoft.com":         "licensing.mp.microsoft.com",
	"watson.telemetry.microsoft.com":     "watson.telemetry.microsoft.com*",
	"client.wns.windows.com":             "client.wns.windows.com",
	"ctldl.windowsupdate.com":            "ctldl.windowsupdate.com",
	"www.msftconnecttest.com":            "www.msftconnecttest.com",
	"tlu.dl.delivery.mp.microsoft.com":   "*dl.delivery.mp.microsoft.com",
	"2.tlu.dl.delivery.mp.microsoft.com": "*.tlu.dl.delivery.mp.microsoft.com",
	"dmd.metaservices.microsoft.com":     "dmd.metaservices.microsoft.com",
	"go.microsoft.com":                   "go.microsoft.com",
	"wdcp.microsoft.com":                 "wdcp.microsoft.com",
	"kv801.prod.do.dsp.mp.microsoft.com": "*.prod.do.dsp.mp.microsoft.com",
}

// Expect says what the TCP flow(s) of a step towards Server must classify as.
type Expect struct {
	Server   string // responder endpoint inside the namespace, "ip:port" or "[::1]:port"
	Count    int    // number of such flows in the step (0 = 1)
	Name     string // expected name ("" = none)
	Evidence string // sni | http-host | dns | none
	Exclude  string // reason the flow must be excluded ("" = attributable)
	Client   string // which real client made it
	Note     string
}

// Step is one scripted action. At is the offset from the session start that
// the rewrite step gives to the step's first packet.
type Step struct {
	ID     string
	At     time.Duration
	Run    func(d *Driver) error
	Expect []Expect
}

func sni(server, name, client string) Expect {
	return Expect{Server: server, Name: name, Evidence: "sni", Client: client}
}
func httpHost(server, name, client, note string) Expect {
	return Expect{Server: server, Name: name, Evidence: "http-host", Client: client, Note: note}
}

func addrOf(name string) string {
	for _, z := range zone {
		if z.name == name {
			return z.loop
		}
	}
	panic("no zone entry for " + name)
}

const (
	cliCurl    = "curl"
	cliOpenSSL = "openssl s_client"
	cliGoTLS   = "Go crypto/tls"
	cliGoHTTP  = "Go net/http"
	cliGoTCP   = "Go net (plain TCP)"
	cliDig     = "dig"
)

// TLS flows by client.
func curlTLS(id string, at time.Duration, name string) Step {
	return Step{ID: id, At: at, Run: func(d *Driver) error { return d.curlHTTPS(name, "/") },
		Expect: []Expect{sni(addrOf(name)+":443", name, cliCurl)}}
}
func opensslTLS(id string, at time.Duration, name string) Step {
	return Step{ID: id, At: at, Run: func(d *Driver) error { return d.openssl(name, name, true) },
		Expect: []Expect{sni(addrOf(name)+":443", name, cliOpenSSL)}}
}
func goTLS(id string, at time.Duration, name, path string) Step {
	return Step{ID: id, At: at, Run: func(d *Driver) error { return d.goTLS(name, name, path) },
		Expect: []Expect{sni(addrOf(name)+":443", name, cliGoTLS)}}
}

func h(x float64) time.Duration { return time.Duration(x * float64(time.Hour)) }
func s(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }

// sampleSteps is the idle-Windows-like session of testdata/sample.
func sampleSteps() []Step {
	ncsi := func(id string, at time.Duration) Step {
		return Step{ID: id, At: at, Run: func(d *Driver) error {
			return d.curlHTTP("www.msftconnecttest.com", []string{"/connecttest.txt"}, "Microsoft NCSI", nil)
		}, Expect: []Expect{httpHost(addrOf("www.msftconnecttest.com")+":80", "www.msftconnecttest.com", cliCurl, "GET /connecttest.txt")}}
	}
	steps := []Step{
		{ID: "wpad-nxdomain", At: s(1), Run: func(d *Driver) error { return d.dig("wpad.localdomain", false) }},
		ncsi("ncsi-1", s(2)),
		curlTLS("settings-win-1", s(4), "settings-win.data.microsoft.com"),
		goTLS("v10-events-1", s(9), "v10.events.data.microsoft.com", "/OneCollector/1.0/"),
		curlTLS("login-live-1", s(13), "login.live.com"),
		goTLS("wns-1", s(21), "client.wns.windows.com", "/"),
		{ID: "ctldl-1", At: s(26), Run: func(d *Driver) error {
			return d.goHTTP("ctldl.windowsupdate.com", "Microsoft-CryptoAPI/10.0", []string{
				"/msdownload/update/v3/static/trustedr/en/authrootstl.cab?f0b8b5c1d7e4a6f2",
				"/msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab?5d2a1f6b3c8e9d70",
			})
		}, Expect: []Expect{httpHost(addrOf("ctldl.windowsupdate.com")+":80", "ctldl.windowsupdate.com", cliGoHTTP, "keep-alive, 2 GETs (authrootstl.cab, disallowedcertstl.cab)")}},
		opensslTLS("slscr-1", s(32), "slscr.update.microsoft.com"),
		goTLS("fe3cr-1", s(41), "fe3cr.delivery.mp.microsoft.com", "/ClientWebService/client.asmx"),
		opensslTLS("displaycatalog-1", s(49), "displaycatalog.mp.microsoft.com"),
		curlTLS("licensing-1", s(56), "licensing.mp.microsoft.com"),
		{ID: "tlu-1", At: s(63), Run: func(d *Driver) error {
			return d.goHTTP("tlu.dl.delivery.mp.microsoft.com", "Microsoft-Delivery-Optimization/10.0", []string{
				"/filestreamingservice/files/7d5e2b0c-3f1a-4e8b-9c6d-2a4f8e1b3c5d?P1=1772440000&P2=404&P3=2&P4=Zm9v",
				"/filestreamingservice/files/7d5e2b0c-3f1a-4e8b-9c6d-2a4f8e1b3c5d?P1=1772440000&P2=404&P3=2&P4=YmFy",
				"/filestreamingservice/files/0b9c8a7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d?P1=1772440001&P2=404&P3=2&P4=YmF6",
			})
		}, Expect: []Expect{httpHost(addrOf("tlu.dl.delivery.mp.microsoft.com")+":80", "tlu.dl.delivery.mp.microsoft.com", cliGoHTTP, "keep-alive, 3 GETs")}},
		curlTLS("arc-msn-1", s(71), "arc.msn.com"),
		curlTLS("bing-1", s(81), "www.bing.com"),
		curlTLS("edge-1", s(96), "edge.microsoft.com"),
		curlTLS("assets-msn-1", s(111), "assets.msn.com"),
		opensslTLS("ecs-office-1", s(131), "ecs.office.com"),
		goTLS("self-events-1", s(151), "self.events.data.microsoft.com", "/OneCollector/1.0/"),
		{ID: "dmd-1", At: s(171), Run: func(d *Driver) error {
			return d.curlHTTP("dmd.metaservices.microsoft.com", []string{"/metadata.svc"}, "MICROSOFT_DEVICE_METADATA_RETRIEVAL_CLIENT", []string{"--data-binary", "@-"})
		}, Expect: []Expect{httpHost(addrOf("dmd.metaservices.microsoft.com")+":80", "dmd.metaservices.microsoft.com", cliCurl, "POST /metadata.svc")}},
		{ID: "go-fwlink-1", At: s(201), Run: func(d *Driver) error {
			return d.curlHTTP("go.microsoft.com", []string{"/fwlink/?LinkID=121721&arch=x64"}, "MpCommunication", nil)
		}, Expect: []Expect{httpHost(addrOf("go.microsoft.com")+":80", "go.microsoft.com", cliCurl, "GET /fwlink/ (302)")}},
		{ID: "ocsp-sectigo-1", At: s(231), Run: func(d *Driver) error {
			return d.curlHTTP("ocsp.sectigo.com", []string{"/"}, "Microsoft-CryptoAPI/10.0", []string{"-H", "Content-Type: application/ocsp-request", "--data-binary", "@-"})
		}, Expect: []Expect{httpHost(addrOf("ocsp.sectigo.com")+":80", "ocsp.sectigo.com", cliCurl, "POST / (OCSP); address 172.64.149.23 is public, not RFC 1918")}},
		goTLS("vendor-updater-1", s(261), "api.vendor-updater.net", "/v2/check"),
		{ID: "wdcp-nosni-1", At: s(301), Run: func(d *Driver) error { return d.openssl("wdcp.microsoft.com", "", false) },
			Expect: []Expect{{Server: addrOf("wdcp.microsoft.com") + ":443", Name: "wdcp.microsoft.com", Evidence: "dns", Client: cliOpenSSL, Note: "resolved first, TLS ClientHello without SNI (-noservername)"}}},
		{ID: "do-plain-1", At: s(331), Run: func(d *Driver) error {
			return d.plainTCP(loopVM, 0, "kv801.prod.do.dsp.mp.microsoft.com", 7680, doHello)
		}, Expect: []Expect{{Server: addrOf("kv801.prod.do.dsp.mp.microsoft.com") + ":7680", Name: "kv801.prod.do.dsp.mp.microsoft.com", Evidence: "dns", Client: cliGoTCP, Note: "resolved first; binary payload, neither TLS nor HTTP"}}},
		{ID: "unattributed-1", At: s(361), Run: func(d *Driver) error { return d.openssl(loopNoName, "", false) },
			Expect: []Expect{{Server: loopNoName + ":443", Evidence: "none", Client: cliOpenSSL, Note: "address never resolved, ClientHello without SNI"}}},
		{ID: "lan-http", At: s(401), Run: func(d *Driver) error {
			return d.curlHTTPAddr(loopLAN, "nas.lan", "/share/index.html")
		}, Expect: []Expect{{Server: loopLAN + ":80", Name: "nas.lan", Evidence: "http-host", Exclude: "private destination", Client: cliCurl, Note: "LAN web server, Host: nas.lan"}}},
		{ID: "lan-smb", At: s(411), Run: func(d *Driver) error { return d.plainTCP(loopVM, 0, loopLAN, 445, smbNegotiate) },
			Expect: []Expect{{Server: loopLAN + ":445", Exclude: "private destination", Evidence: "none", Client: cliGoTCP, Note: "SMB negotiate to the LAN file server"}}},
		{ID: "inbound-rdp", At: s(451), Run: func(d *Driver) error { return d.plainTCP(loopRemote1, 50123, loopVM, 3389, rdpCR) },
			Expect: []Expect{{Server: loopVM + ":3389", Exclude: "not started by the VM", Evidence: "none", Client: cliGoTCP, Note: "remote host opens RDP to the VM"}}},
		{ID: "inbound-telnet-probe", At: s(456), Run: func(d *Driver) error { d.plainTCP(loopRemote2, 41234, loopVM, 23, nil); return nil },
			Expect: []Expect{{Server: loopVM + ":23", Exclude: "not started by the VM", Evidence: "none", Client: cliGoTCP, Note: "SYN to a closed port, RST"}}},
		{ID: "ipv6-bing", At: s(501), Run: func(d *Driver) error { return d.curlHTTPS6("www.bing.com") },
			Expect: []Expect{{Server: "[::1]:443", Name: "www.bing.com", Evidence: "sni", Exclude: "ipv6", Client: cliCurl, Note: "SNI www.bing.com over IPv6"}}},
		{ID: "ipv6-ncsi", At: s(511), Run: func(d *Driver) error { return d.curlHTTP6("www.msftconnecttest.com", "/connecttest.txt") },
			Expect: []Expect{{Server: "[::1]:80", Name: "www.msftconnecttest.com", Evidence: "http-host", Exclude: "ipv6", Client: cliCurl, Note: "NCSI over IPv6"}}},
		opensslTLS("watson-1", s(601), "watson.telemetry.microsoft.com"),
		// Repeated contacts over the following hours.
		goTLS("v10-events-2", h(0.5), "v10.events.data.microsoft.com", "/OneCollector/1.0/"),
		curlTLS("settings-win-2", h(0.5)+s(600), "settings-win.data.microsoft.com"),
		ncsi("ncsi-2", h(1)),
		curlTLS("bing-2", h(1)+s(100), "www.bing.com"),
		goTLS("v10-events-3", h(1.5), "v10.events.data.microsoft.com", "/OneCollector/1.0/"),
		goTLS("wns-2", h(2), "client.wns.windows.com", "/"),
		curlTLS("login-live-2", h(2)+s(60), "login.live.com"),
		{ID: "ctldl-2", At: h(2.5), Run: func(d *Driver) error {
			return d.curlHTTP("ctldl.windowsupdate.com", []string{
				"/msdownload/update/v3/static/trustedr/en/authrootstl.cab?0c4a9e2f71b3d568",
				"/msdownload/update/v3/static/trustedr/en/pinrulesstl.cab?9a3e5c7b1d2f4a68",
			}, "Microsoft-CryptoAPI/10.0", nil)
		}, Expect: []Expect{httpHost(addrOf("ctldl.windowsupdate.com")+":80", "ctldl.windowsupdate.com", cliCurl, "keep-alive, 2 GETs on one connection (curl reuse)")}},
		curlTLS("settings-win-3", h(3), "settings-win.data.microsoft.com"),
		goTLS("v10-events-4", h(3)+s(45), "v10.events.data.microsoft.com", "/OneCollector/1.0/"),
		opensslTLS("watson-2", h(3.5), "watson.telemetry.microsoft.com"),
		{ID: "tlu2-1", At: h(4), Run: func(d *Driver) error {
			return d.goHTTP("2.tlu.dl.delivery.mp.microsoft.com", "Microsoft-Delivery-Optimization/10.0", []string{
				"/filestreamingservice/files/3e1d5c7a-9b2f-4d8e-a6c4-1f0e3d5b7a9c?P1=1772454400&P2=404&P3=2&P4=cXV4",
				"/filestreamingservice/files/3e1d5c7a-9b2f-4d8e-a6c4-1f0e3d5b7a9c?P1=1772454400&P2=404&P3=2&P4=cXV1",
			})
		}, Expect: []Expect{httpHost(addrOf("2.tlu.dl.delivery.mp.microsoft.com")+":80", "2.tlu.dl.delivery.mp.microsoft.com", cliGoHTTP, "keep-alive, 2 GETs; same address as tlu.dl.delivery.mp.microsoft.com (shared CNAME tail)")}},
		curlTLS("licensing-2", h(4)+s(30), "licensing.mp.microsoft.com"),
		goTLS("v10-events-5", h(4.5), "v10.events.data.microsoft.com", "/OneCollector/1.0/"),
		curlTLS("settings-win-4", h(4.5)+s(20), "settings-win.data.microsoft.com"),
	}
	return steps
}

// fixtureSteps are the single-purpose exchanges of testdata/fixtures. They do
// not use DNS (addresses given directly) unless DNS is their point.
func fixtureSteps() []Step {
	v10 := addrOf("v10.events.data.microsoft.com")
	return []Step{
		{ID: "fx-go-tls", Run: func(d *Driver) error { return d.goTLS(v10, "v10.events.data.microsoft.com", "/OneCollector/1.0/") },
			Expect: []Expect{sni(v10+":443", "v10.events.data.microsoft.com", cliGoTLS)}},
		{ID: "fx-curl-tls", Run: func(d *Driver) error { return d.curlHTTPSResolve("settings-win.data.microsoft.com") },
			Expect: []Expect{sni(addrOf("settings-win.data.microsoft.com")+":443", "settings-win.data.microsoft.com", cliCurl)}},
		{ID: "fx-openssl-tls", Run: func(d *Driver) error {
			return d.openssl(addrOf("slscr.update.microsoft.com"), "slscr.update.microsoft.com", true)
		}, Expect: []Expect{sni(addrOf("slscr.update.microsoft.com")+":443", "slscr.update.microsoft.com", cliOpenSSL)}},
		{ID: "fx-http-keepalive", Run: func(d *Driver) error {
			return d.goHTTPAddr(addrOf("ctldl.windowsupdate.com"), "ctldl.windowsupdate.com", "Microsoft-CryptoAPI/10.0", []string{
				"/msdownload/update/v3/static/trustedr/en/authrootstl.cab?f0b8b5c1d7e4a6f2",
				"/msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab?5d2a1f6b3c8e9d70",
				"/msdownload/update/v3/static/trustedr/en/pinrulesstl.cab?9a3e5c7b1d2f4a68",
			})
		}, Expect: []Expect{httpHost(addrOf("ctldl.windowsupdate.com")+":80", "ctldl.windowsupdate.com", cliGoHTTP, "keep-alive, 3 GETs")}},
		{ID: "fx-dns-udp", Run: func(d *Driver) error { return d.dig("settings-win.data.microsoft.com", false) }},
		{ID: "fx-dns-tcp", Run: func(d *Driver) error { return d.dig("www.bing.com", true) }},
		// One real TLS+DNS exchange for the link-type variants: curl resolves
		// www.bing.com (A and AAAA over UDP) then connects with SNI.
		curlTLS("fx-linktypes", 0, "www.bing.com"),
	}
}

// compareSteps are the exchanges that make-compare-fixtures.sh adds to the
// sample for testdata/compare: one TLS connection to a name no 1909 page
// documents, and arc.msn.com over plain HTTP in place of the sample's TLS
// flow to it (arc-msn-1, at the same offset). Both resolve their name first
// (glibc: A and AAAA). Local ports 51001+ (no clash with the sample's 49701+).
func compareSteps() []Step {
	const vendor = "telemetry.example-vendor.test"
	return []Step{
		opensslTLS("cmp-new-undocumented", h(2)+s(300), vendor),
		{ID: "cmp-arc-http", At: s(71), Run: func(d *Driver) error {
			return d.curlHTTP("arc.msn.com", []string{"/v3/Delivery/Placement?pid=338387&fmt=json"}, "Microsoft-WNS/10.0", nil)
		}, Expect: []Expect{httpHost(addrOf("arc.msn.com")+":80", "arc.msn.com", cliCurl, "GET /v3/Delivery/Placement (in place of arc-msn-1's TLS)")}},
	}
}
