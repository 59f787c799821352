package catalog

import (
	"net/netip"
	"strings"
)

// EndpointKey is the key under which a diff (phonehome compare, catalog
// diff) takes a pattern or a name to be one endpoint: lower case, without
// the wildcards at either end and the dot or slash they leave, so that
// "*.wns.windows.com", "wns.windows.com", "arc.msn.com*",
// "*login.live.com" and "ctldl.windowsupdate.com/*" each meet the same host
// written plainly. A path after the host stays: "go.microsoft.com/fwlink/"
// is not "go.microsoft.com".
func EndpointKey(s string) string {
	s = strings.ToLower(s)
	s = strings.TrimLeft(s, "*")
	s = strings.TrimPrefix(s, ".")
	s = strings.TrimRight(s, "*")
	s = strings.TrimSuffix(s, "/")
	return s
}

// NumberedRule names FoldNumbered's rule, for the reports that apply it.
const NumberedRule = `a first label of letters, digits and at most one letter after them is folded to its letters and "#": v10c.events.data.microsoft.com and v20.events.data.microsoft.com are v#.events.data.microsoft.com`

// FoldNumbered folds a load-balanced numbered first label (NumberedRule):
// "v10c.events.data.microsoft.com" and "v20.events.data.microsoft.com"
// become "v#.events.data.microsoft.com", "kv801.prod.do.dsp.mp.microsoft.com"
// "kv#.prod.do.dsp.mp.microsoft.com". Any other key, and an IP address, is
// returned as it is.
// Folding is a choice the caller names in its report: it merges hosts that
// may differ (v10 and v20 are two documented pipelines).
func FoldNumbered(key string) string {
	host, _, _ := strings.Cut(key, "/")
	if _, err := netip.ParseAddr(host); err == nil {
		return key // an address (an HTTP Host may be one): 1.2.3.4 is not 5.2.3.4
	}
	label, rest, ok := strings.Cut(key, ".")
	if !ok || rest == "" {
		return key
	}
	i := 0
	for i < len(label) && label[i] >= 'a' && label[i] <= 'z' {
		i++
	}
	j := i
	for j < len(label) && label[j] >= '0' && label[j] <= '9' {
		j++
	}
	if j == i {
		return key // no digits
	}
	if tail := label[j:]; len(tail) > 1 || (len(tail) == 1 && (tail[0] < 'a' || tail[0] > 'z')) {
		return key
	}
	return label[:i] + "#." + rest
}
