//go:build cgo || windows

package capture

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/gopacket/pcap"
)

// Interfaces lists the interfaces libpcap can capture on, as libpcap orders
// them (most useful first).
func Interfaces() ([]Interface, error) {
	devs, err := pcap.FindAllDevs()
	if err != nil {
		return nil, err
	}
	kinds := linkKinds()
	out := make([]Interface, 0, len(devs))
	for _, d := range devs {
		in := Interface{
			Name: d.Name, Description: d.Description,
			Loopback: d.Flags&0x1 != 0, Up: d.Flags&0x2 != 0, Running: d.Flags&0x4 != 0,
		}
		for _, a := range d.Addresses {
			ip, ok := netip.AddrFromSlice(a.IP)
			if !ok {
				continue
			}
			ip = ip.Unmap()
			bits := ip.BitLen()
			if a.Netmask != nil {
				if ones, size := (a.Netmask).Size(); size == ip.BitLen() {
					bits = ones
				}
			}
			in.Addrs = append(in.Addrs, netip.PrefixFrom(ip, bits))
		}
		in.LinkType, in.Kind = sysfsKind(d.Name, kinds[d.Name])
		out = append(out, in)
	}
	return out, nil
}

// sysfsKind reads what Linux says of an interface: its link type and
// whether it is a bridge, a tap, a veth or a bridge port (devKind is the
// kernel's name for its kind of device, from linkKinds, or ""). Elsewhere
// (no /sys/class/net) both are empty.
func sysfsKind(name, devKind string) (linkType, kind string) {
	if strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return "", ""
	}
	dir := filepath.Join("/sys/class/net", name)
	read := func(f string) string {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	exists := func(f string) bool {
		_, err := os.Stat(filepath.Join(dir, f))
		return err == nil
	}
	switch read("type") {
	case "1":
		linkType = "ethernet"
	case "772":
		linkType = "loopback"
	case "65534":
		linkType = "raw IP (tun)"
	case "801", "803":
		linkType = "802.11"
	case "":
	default:
		linkType = "ARPHRD " + read("type")
	}
	switch {
	case exists("bridge") || devKind == "bridge":
		kind = "bridge"
		switch {
		case strings.HasPrefix(name, "virbr"):
			kind = "libvirt bridge"
		case strings.HasPrefix(name, "vboxnet"):
			kind = "VirtualBox host-only"
		}
	case strings.HasPrefix(name, "vboxnet"):
		kind = "VirtualBox host-only"
	case exists("tun_flags") || devKind == "tun":
		kind = "tap"
		if strings.HasPrefix(name, "vnet") {
			kind = "libvirt tap"
		}
	case exists("brport"):
		if b, err := os.Readlink(filepath.Join(dir, "brport", "bridge")); err == nil {
			kind = "bridge port of " + filepath.Base(b)
		} else {
			kind = "bridge port"
		}
	case devKind == "veth":
		kind = "veth"
	}
	return linkType, kind
}
