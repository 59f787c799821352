package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/phonehome/phonehome/catalog"
)

// host is one name the VM talks to, with everything fixed about it for the
// whole capture: how it is reached, what DNS says about it, and its hellos.
type host struct {
	name       string
	tls, http  bool     // which protocols its flows use (both: mostly TLS)
	paths      []string // HTTP request paths
	cnames     []string // DNS CNAME chain from name
	addrs      [][4]byte
	ttl        int64 // DNS TTL, µs
	rtt        int64 // round trip, µs
	cacheUntil int64 // the VM's DNS cache holds an answer until then (µs)
	hellos     [3]hello
}

// Hello templates, in hello order.
const (
	tmplGo = iota
	tmplCurl
	tmplOpenSSL
)

// catalogBuild is the build whose documented patterns give the documented names.
const catalogBuild = "windows-10-1909"

// undocumentedTLS are hosts an idle Windows 10 VM really contacts that the
// 1909 pages do not list.
var undocumentedTLS = []string{
	"edge.microsoft.com", "self.events.data.microsoft.com", "login.microsoftonline.com", "ecs.office.com",
	"api.msn.com", "assets.msn.com", "www.microsoft.com", "displaycatalog.md.mp.microsoft.com",
	"fs.microsoft.com", "nexusrules.officeapps.live.com", "msedge.api.cdp.microsoft.com",
	"edgeassetservice.azureedge.net", "ntp.msn.com", "c.msn.com", "th.bing.com", "r.bing.com",
	"storeedgefd.dsx.mp.microsoft.com", "purchase.mp.microsoft.com", "collections.mp.microsoft.com",
	"functional.events.data.microsoft.com", "umwatsonc.events.data.microsoft.com",
	"definitionupdates.microsoft.com", "wdcpalt.microsoft.com", "go.trouter.skype.com",
	"smartscreen.microsoft.com", "clients2.google.com", "update.googleapis.com", "www.google.com",
	"array611.prod.do.dsp.mp.microsoft.com", "geover.prod.do.dsp.mp.microsoft.com",
	"kv601.prod.do.dsp.mp.microsoft.com", "emdl.ws.microsoft.com", "sls.update.microsoft.com",
	"v20.events.data.microsoft.com", "watson.events.data.microsoft.com", "licensing.md.mp.microsoft.com",
	"browser.events.data.msn.com", "wns.notify.trafficmanager.net",
}

// undocumentedHTTP are plain-HTTP hosts (certificate status, captive portal
// checks) with the paths Windows asks for.
var undocumentedHTTP = map[string][]string{
	"ocsp.sectigo.com":               {"/MFEwTzBNMEswSTAJBgUrDgMCGgUABBR8sWZUnKvbRO5iJhat9GV793rVlAQU", "/"},
	"ocsp.pki.goog":                  {"/gts1c3/MFIwUDBOMEwwSjAJBgUrDgMCGgUABBTHLnmK3f9hNLO67UdCuLvGwCQHYw"},
	"crl3.digicert.com":              {"/DigiCertGlobalRootG2.crl", "/DigiCertTLSRSASHA2562020CA1-4.crl"},
	"crl.microsoft.com":              {"/pki/crl/products/MicRooCerAut2011_2011_03_22.crl"},
	"www.msftconnecttest.com":        {"/connecttest.txt"},
	"dmd.metaservices.microsoft.com": {"/dms/metadata.svc"},
	"au.download.windowsupdate.com":  {"/c/msdownload/update/software/defu/2026/03/am_delta_patch_1.445.12.0_fd5c8a2b.exe"},
}

// knownPaths are the paths Windows asks documented HTTP hosts for.
var knownPaths = map[string][]string{
	"ctldl.windowsupdate.com":    {"/msdownload/update/v3/static/trustedr/en/authrootstl.cab", "/msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab", "/msdownload/update/v3/static/trustedr/en/pinrulesstl.cab"},
	"www.msftconnecttest.com":    {"/connecttest.txt"},
	"download.windowsupdate.com": {"/c/msdownload/update/others/2026/03/41234567_3f0c2a7d9b5e.cab"},
}

func pathsFor(name, path string) []string {
	if p, ok := knownPaths[name]; ok {
		return p
	}
	return []string{path}
}

// dnsOnly are hosts reached by protocols that carry no name (NTP, Delivery
// Optimization's tcp/7680, a connection opened and left unused): only the DNS
// answer before the flow names them.
var dnsOnly = []string{"time.windows.com", "kv801.prod.do.dsp.mp.microsoft.com", "dns.msftncsi.com", "array503.prod.do.dsp.mp.microsoft.com"}

// queryOnly are names the VM resolves without connecting: NXDOMAIN for the
// WPAD and ISATAP probes, and names whose answer goes unused.
var queryOnly = []string{"wpad.localdomain", "isatap.localdomain", "teredo.ipv6.microsoft.com", "ipv6.msftconnecttest.com"}

var wildLabels = []string{"kv801", "fe3cr", "tlu", "geo", "v10", "prod", "eu", "emea", "au", "cy2", "sg", "array512", "us", "tsfe", "disc601"}

// instantiate turns a documented pattern into a host name it matches.
func instantiate(r *rand.Rand, pattern string) string {
	name, _, _ := strings.Cut(pattern, "/")
	label := func() string { return wildLabels[r.IntN(len(wildLabels))] }
	if rest, ok := strings.CutPrefix(name, "*."); ok {
		name = label() + "." + rest
	} else if rest, ok := strings.CutPrefix(name, "*"); ok {
		if r.IntN(2) == 0 {
			name = label() + "." + rest
		} else {
			name = rest
		}
	}
	name = strings.TrimSuffix(name, "*")
	for strings.Contains(name, "*") {
		name = strings.Replace(name, "*", label(), 1)
	}
	return strings.Trim(name, ".")
}

// cnameChain makes the chain of CNAMEs a CDN-hosted name resolves through.
func cnameChain(r *rand.Rand, name string) []string {
	switch r.IntN(6) {
	case 0, 1:
		return nil
	case 2:
		return []string{name + ".akadns.net", fmt.Sprintf("atm-%s-prod-geo%d.trafficmanager.net", firstLabel(name), 1+r.IntN(3))}
	case 3:
		return []string{name + ".edgekey.net", fmt.Sprintf("e%d.dscb.akamaiedge.net", 1000+r.IntN(9000))}
	case 4:
		return []string{fmt.Sprintf("%s-%s.trafficmanager.net", firstLabel(name), []string{"eu", "us", "asia"}[r.IntN(3)]),
			fmt.Sprintf("cs%d.wpc.v0cdn.net", 1+r.IntN(30)), fmt.Sprintf("dual-a-%04d.a-msedge.net", r.IntN(10000))}
	default:
		return []string{fmt.Sprintf("%s.azureedge.net", strings.ReplaceAll(name, ".", "-")), fmt.Sprintf("%s.afd.azureedge.net", firstLabel(name)),
			"star-azureedge-prod.trafficmanager.net", fmt.Sprintf("dual.part-%04d.t-0009.t-msedge.net", r.IntN(10000))}
	}
}

func firstLabel(name string) string {
	l, _, _ := strings.Cut(name, ".")
	return l
}

// publicBlocks are /16s of real CDN and cloud space; every address made here is
// public in the sense of the IANA special-purpose registry.
var publicBlocks = [][2]byte{
	{20, 42}, {20, 54}, {20, 72}, {20, 190}, {13, 107}, {13, 69}, {40, 126}, {40, 79}, {52, 113},
	{52, 168}, {52, 184}, {51, 124}, {204, 79}, {23, 56}, {23, 45}, {104, 18}, {151, 101}, {142, 250}, {93, 184},
}

// universe is every host of a capture, with the draws that pick one.
type universe struct {
	tls, http, dns, query []*host
	cdnPool               [][4]byte // addresses several CDN names share
	hardcoded             [][4]byte // addresses the VM reaches without any name
	zTLS, zHTTP           *rand.Zipf
	used                  map[[4]byte]bool
}

func (u *universe) addr(r *rand.Rand) [4]byte {
	for {
		b := publicBlocks[r.IntN(len(publicBlocks))]
		a := [4]byte{b[0], b[1], byte(r.IntN(256)), byte(1 + r.IntN(254))}
		if !u.used[a] {
			u.used[a] = true
			return a
		}
	}
}

// longTail is how many synthetic undocumented names follow the real ones.
const longTail = 400

// newUniverse builds the hosts for seed r: the documented patterns of the
// catalog build instantiated, the real undocumented hosts, and a long tail of
// synthetic ones; shuffled so that the seed decides which are frequent.
func newUniverse(r *rand.Rand) (*universe, error) {
	cat, err := catalog.Load(catalogBuild)
	if err != nil {
		return nil, err
	}
	u := &universe{used: map[[4]byte]bool{}}
	for range 48 {
		u.cdnPool = append(u.cdnPool, u.addr(r))
	}
	for range 24 {
		u.hardcoded = append(u.hardcoded, u.addr(r))
	}
	seen := map[string]bool{}
	add := func(list *[]*host, h *host) {
		if seen[h.name] {
			return
		}
		seen[h.name] = true
		h.cnames = cnameChain(r, h.name)
		if len(h.cnames) > 0 && r.IntN(2) == 0 {
			// CDN names share addresses: the latest answer decides which
			// name a bare address means.
			for range 1 + r.IntN(2) {
				h.addrs = append(h.addrs, u.cdnPool[r.IntN(len(u.cdnPool))])
			}
		} else {
			for range 1 + r.IntN(4) {
				h.addrs = append(h.addrs, u.addr(r))
			}
		}
		h.ttl = int64([]int{60, 300, 600, 1800, 3600}[r.IntN(5)]) * 1e6
		h.rtt = int64(8_000 + r.IntN(140_000))
		*list = append(*list, h)
	}

	// Documented: one or two names per pattern, protocols from the pages.
	protos := map[string][]catalog.Protocol{}
	var patterns []string
	for _, e := range cat.Entries {
		if _, ok := protos[e.Pattern]; !ok {
			patterns = append(patterns, e.Pattern)
		}
		protos[e.Pattern] = append(protos[e.Pattern], e.Protocols...)
	}
	for _, p := range patterns {
		n := 1
		if strings.Contains(p, "*") {
			n = 1 + r.IntN(2)
		}
		httpOnly := !slices.ContainsFunc(protos[p], func(x catalog.Protocol) bool { return x != catalog.HTTP }) && len(protos[p]) > 0
		hasHTTP := slices.Contains(protos[p], catalog.HTTP)
		path := "/"
		if _, rest, ok := strings.Cut(p, "/"); ok && rest != "" && rest != "*" {
			path = "/" + strings.ReplaceAll(rest, "*", "")
		}
		for range n {
			name := instantiate(r, p)
			if httpOnly {
				add(&u.http, &host{name: name, http: true, paths: pathsFor(name, path)})
			} else {
				add(&u.tls, &host{name: name, tls: true, http: hasHTTP, paths: pathsFor(name, path)})
			}
		}
	}
	for _, n := range undocumentedTLS {
		add(&u.tls, &host{name: n, tls: true})
	}
	httpNames := make([]string, 0, len(undocumentedHTTP))
	for n := range undocumentedHTTP {
		httpNames = append(httpNames, n)
	}
	slices.Sort(httpNames)
	for _, n := range httpNames {
		add(&u.http, &host{name: n, http: true, paths: undocumentedHTTP[n]})
	}
	for _, n := range dnsOnly {
		add(&u.dns, &host{name: n})
	}
	for _, n := range queryOnly {
		add(&u.query, &host{name: n})
	}
	tails := []string{"%s.blob.core.windows.net", "cdn-%s.azureedge.net", "%s.sharepoint.com", "%s.cloudapp.azure.com", "t-%s.events.data.microsoft.com", "%s.servicebus.windows.net"}
	for i := range longTail {
		id := fmt.Sprintf("%x%03d", r.Uint32()&0xffff, i)
		add(&u.tls, &host{name: fmt.Sprintf(tails[r.IntN(len(tails))], id), tls: true})
	}
	// The HTTP side of the TLS names that also speak HTTP.
	for _, h := range u.tls {
		if h.http {
			u.http = append(u.http, h)
		}
	}
	r.Shuffle(len(u.tls), func(i, j int) { u.tls[i], u.tls[j] = u.tls[j], u.tls[i] })
	r.Shuffle(len(u.http), func(i, j int) { u.http[i], u.http[j] = u.http[j], u.http[i] })
	u.zTLS = rand.NewZipf(r, 1.15, 2, uint64(len(u.tls)-1))
	u.zHTTP = rand.NewZipf(r, 1.3, 1, uint64(len(u.http)-1))

	// Hellos for every TLS name: Go's own, made now, and curl's and
	// OpenSSL's with the SNI rewritten.
	for _, h := range u.tls {
		ks, err := newKeyShares(r)
		if err != nil {
			return nil, err
		}
		g, err := goHello(h.name)
		if err != nil {
			return nil, err
		}
		for i, raw := range [][]byte{g, curlHello, opensslHello} {
			b, err := withSNI(raw, h.name)
			if err != nil {
				return nil, err
			}
			if h.hellos[i], err = prepare(b, ks); err != nil {
				return nil, err
			}
		}
	}
	return u, nil
}
