package classify

import (
	"net/netip"

	"github.com/phonehome/phonehome/capture"
)

// Scope reasons: why a packet or flow is left out of the report. ScopeIn means
// the flow is counted. Every packet read gets exactly one of these, so the
// report can account for all traffic.
const (
	ScopeIn                 = "in"
	ScopeNonIP              = "non-ip"
	ScopeUndecodable        = "undecodable"
	ScopeIPv6               = "ipv6"
	ScopeFragment           = "ipv4-fragment"
	ScopeNotFromVM          = "not-started-by-vm"
	ScopePrivateDestination = "private-destination"
)

// IsPublic reports whether a is an IPv4 address outside every special-purpose
// block (capture.SpecialRange): "public" in the sense of the Microsoft pages'
// method ("traffic going to public IP addresses").
func IsPublic(a netip.Addr) bool { return capture.SpecialRange(a) == "" }

// isLocalHost reports whether a could be a VM on a lab network: RFC 1918 or
// shared address space. Only such addresses are candidates for VM detection.
func isLocalHost(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	b := a.As4()
	return a.IsPrivate() || (b[0] == 100 && b[1]&0xc0 == 64)
}
