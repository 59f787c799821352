package capture

import (
	"net/netip"
	"testing"
)

func TestSpecialRanges(t *testing.T) {
	for _, tt := range []struct {
		addr   string
		public bool
	}{
		{"8.8.8.8", true}, {"20.42.65.92", true}, {"10.1.2.3", false}, {"172.31.255.255", false},
		{"172.32.0.1", true}, {"192.168.1.1", false}, {"100.64.0.1", false}, {"100.128.0.1", true},
		{"127.0.0.1", false}, {"169.254.1.1", false}, {"192.0.2.1", false}, {"198.18.0.1", false},
		{"198.51.100.1", false}, {"203.0.113.1", false}, {"224.0.0.251", false}, {"239.255.255.250", false},
		{"240.0.0.1", false}, {"255.255.255.255", false}, {"0.1.2.3", false}, {"192.88.99.1", false},
	} {
		if g := SpecialRange(netip.MustParseAddr(tt.addr)) == ""; g != tt.public {
			t.Errorf("SpecialRange(%s) == \"\" is %v; want %v", tt.addr, g, tt.public)
		}
	}
	// The first-byte shortcut must let every block through to the list:
	// its first address is named by it, its last by it or a block inside it
	// (255.255.255.255 in 240.0.0.0/4).
	for _, r := range specialRanges {
		first := r.prefix.Masked().Addr()
		b := first.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		v |= 1<<(32-r.prefix.Bits()) - 1
		last := netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
		if got := SpecialRange(first); got != r.name {
			t.Errorf("SpecialRange(%s) = %q; want %q", first, got, r.name)
		}
		if SpecialRange(last) == "" {
			t.Errorf("SpecialRange(%s) = \"\"; want a name (in %s)", last, r.prefix)
		}
	}
}
