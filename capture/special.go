package capture

import "net/netip"

// specialRange is one entry of the IANA IPv4 Special-Purpose Address Registry
// (RFC 6890 and its updates), plus the multicast block, which has a registry of
// its own. The report names the range a destination fell in.
type specialRange struct {
	prefix netip.Prefix
	name   string
}

// specialRanges lists every block that is not "public" in the sense of the
// Microsoft pages' method ("traffic going to public IP addresses"). Blocks the
// registry marks globally reachable (192.31.196.0/24 AS112, 192.52.193.0/24 AMT,
// 192.175.48.0/24, 192.0.0.9 and .10) are still special-purpose, so still out.
var specialRanges = [...]specialRange{
	{netip.MustParsePrefix("0.0.0.0/8"), "this network (RFC 791)"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private-use (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space (RFC 6598)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback (RFC 1122)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local (RFC 3927)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private-use (RFC 1918)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments (RFC 6890)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation TEST-NET-1 (RFC 5737)"},
	{netip.MustParsePrefix("192.31.196.0/24"), "AS112-v4 (RFC 7535)"},
	{netip.MustParsePrefix("192.52.193.0/24"), "AMT (RFC 7450)"},
	{netip.MustParsePrefix("192.88.99.0/24"), "deprecated 6to4 relay anycast (RFC 7526)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private-use (RFC 1918)"},
	{netip.MustParsePrefix("192.175.48.0/24"), "direct delegation AS112 service (RFC 7534)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking (RFC 2544)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation TEST-NET-2 (RFC 5737)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation TEST-NET-3 (RFC 5737)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast (RFC 5771)"},
	{netip.MustParsePrefix("255.255.255.255/32"), "limited broadcast (RFC 919)"}, // before the /4 that holds it
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (RFC 1112)"},
}

// SpecialRange returns the name of the special-purpose block that holds a, or
// "" when a is a public IPv4 address.
func SpecialRange(a netip.Addr) string {
	if !a.Is4() {
		return "not IPv4"
	}
	// Most destinations are public: the first byte rules them out.
	switch b := a.As4(); {
	case b[0] >= 224:
	case b[0] == 0, b[0] == 10, b[0] == 100, b[0] == 127, b[0] == 169, b[0] == 172, b[0] == 192, b[0] == 198, b[0] == 203:
	default:
		return ""
	}
	for i := range specialRanges {
		if specialRanges[i].prefix.Contains(a) {
			return specialRanges[i].name
		}
	}
	return ""
}
