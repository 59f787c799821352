package capture

import (
	"encoding/binary"
	"syscall"
)

// linkKinds asks the kernel (rtnetlink, RTM_GETLINK) what kind of device
// each interface is: "veth", "bridge", "tun", "vxlan", ... by name; nil
// when it cannot. A dump is a question to the kernel, not a packet on any
// network.
func linkKinds() map[string]string {
	rib, err := syscall.NetlinkRIB(syscall.RTM_GETLINK, syscall.AF_UNSPEC)
	if err != nil {
		return nil
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil
	}
	kinds := map[string]string{}
	for _, m := range msgs {
		if m.Header.Type != syscall.RTM_NEWLINK {
			continue
		}
		attrs, err := syscall.ParseNetlinkRouteAttr(&m)
		if err != nil {
			continue
		}
		var name, kind string
		for _, a := range attrs {
			switch a.Attr.Type {
			case syscall.IFLA_IFNAME:
				name = cString(a.Value)
			case syscall.IFLA_LINKINFO:
				kind = linkInfoKind(a.Value)
			}
		}
		if name != "" && kind != "" {
			kinds[name] = kind
		}
	}
	return kinds
}

// linkInfoKind reads IFLA_INFO_KIND out of an IFLA_LINKINFO attribute's
// nested attributes.
func linkInfoKind(b []byte) string {
	const iflaInfoKind = 1
	for len(b) >= 4 {
		l := int(binary.NativeEndian.Uint16(b[0:2]))
		typ := binary.NativeEndian.Uint16(b[2:4]) &^ 0x8000 // NLA_F_NESTED
		if l < 4 || l > len(b) {
			return ""
		}
		if typ == iflaInfoKind {
			return cString(b[4:l])
		}
		b = b[min((l+3)&^3, len(b)):]
	}
	return ""
}

// cString is b up to its first NUL.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
