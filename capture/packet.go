package capture

import (
	"net/netip"
	"time"
)

// Layer3 says what a frame carried at the network layer.
type Layer3 uint8

const (
	// L3Unknown: the frame could not be decoded far enough to tell (truncated,
	// unsupported link type, or an EtherType that is not IP).
	L3Unknown Layer3 = iota
	// L3NonIP: a well-formed frame that carries something other than IP (ARP, LLDP, ...).
	L3NonIP
	// L3IPv4: an IPv4 packet; Src, Dst, Proto and the transport fields are set.
	L3IPv4
	// L3IPv6: an IPv6 packet; only Src and Dst are set.
	L3IPv6
)

// Packet is one decoded frame. A reader fills a caller-owned Packet in place so
// that reading allocates nothing per packet.
//
// Ownership: Payload (and Frame) point into the reader's buffer and are valid
// only until the next call to Next on the same reader. Copy what must outlive it.
type Packet struct {
	// Timestamp is the capture time of the frame. A pcapng simple packet
	// block has none and takes the time of the packet before it in the file
	// (the zero time when it is the first).
	Timestamp time.Time
	// Offset is the byte offset of the record in its (decompressed) file.
	Offset int64
	// WireLen is the frame's length on the wire; CapLen the bytes captured.
	WireLen, CapLen int
	// LinkType is the link type of the interface the frame came from
	// (a LINKTYPE_* value from the tcpdump.org registry).
	LinkType uint16
	// Interface is the pcapng interface index (0 for pcap files).
	Interface int
	// Input is the index in Stats.Inputs of the input the frame came from,
	// and Number the frame's number in that input as Wireshark numbers
	// frames (-Y frame.number==N): 1 for its first frame, counting every
	// frame of the input, those dropped as duplicates of another input's
	// too. Inputs merged by time are numbered each on its own. A live
	// capture has Input 0 and numbers the frames of its session (the
	// frames a --write file of that session holds, in order). A
	// reassembled datagram has those of the fragment that completed it.
	// Number is 0 when the source does not number frames.
	Input  int
	Number int64
	// Frame is the whole captured frame.
	Frame []byte

	// L3 says what the frame carried; the fields below are set only for L3IPv4
	// (Src and Dst also for L3IPv6).
	L3       Layer3
	Src, Dst netip.Addr
	// Proto is the IP protocol number (6 TCP, 17 UDP, 1 ICMP, ...).
	Proto uint8
	// Fragment is true for an IPv4 fragment that is not a whole datagram,
	// and for a packet taken out of the first fragment of a tunnelled one
	// (its payload is incomplete until the datagram is reassembled).
	Fragment bool
	// Truncated is true when the frame was cut short by the snap length or
	// damage, so Payload holds fewer bytes than the headers announce.
	Truncated bool
	// Malformed is true when a header field is impossible or contradicts the
	// packet (IPv4 IHL below 5, wrong IP version, total length below the
	// header, TCP data offset below 5, UDP length below 8, a transport length
	// running past a datagram that was captured whole). Decoding stops there.
	Malformed bool

	// Transport fields, set for TCP and UDP (not for non-first fragments).
	SrcPort, DstPort uint16
	// TCP only. Urgent is the urgent pointer, meaningful when TCPFlags has
	// TCPUrg: the urgent data ends Urgent bytes after Seq (RFC 9293 section
	// 3.8.5; RFC 1122 read it as the last urgent byte, one earlier).
	Seq, Ack uint32
	TCPFlags uint8
	Urgent   uint16
	// Payload is the transport payload (TCP or UDP data).
	Payload []byte

	// Tunnel says how the frame arrived encapsulated (GRE, ERSPAN, VXLAN,
	// Geneve, IP in IP, ...): the zero Tunnel when it did not. Decode takes
	// the encapsulations off, so the fields above describe the innermost
	// packet, and Tunnel keeps the outermost encapsulation's kind and
	// addresses.
	Tunnel Tunnel

	// fragAt is 1 + the offset in Frame of the outermost IPv4 header that
	// is a fragment, 0 for none; fragDepth is how many encapsulations lie
	// outside it. Decode sets them for Defragmenter.
	fragAt    int
	fragDepth uint8

	// Reassembled is 0 for a frame as captured. FileSet.Next reassembles
	// IPv4 TCP, UDP and tunnel fragments (see Defragmenter): every fragment comes
	// out as captured, marked Fragment, and the call after the one that
	// returned the last fragment missing returns the whole datagram, with
	// Reassembled the number of fragments it was rebuilt from (a datagram
	// rebuilt outside a tunnel can be such a last fragment inside it). Its bytes
	// were already delivered in those fragments: read its fields and
	// Payload, count neither it as a frame nor its length as bytes. Its
	// Frame is the rebuilt IPv4 datagram (LinkType LinkTypeIPv4, Fragment
	// false), owned like any Frame; Timestamp, Offset and Interface are
	// those of the fragment that completed it.
	Reassembled int
}

// TCP flag bits as they appear in TCPFlags.
const (
	TCPFin = 0x01
	TCPSyn = 0x02
	TCPRst = 0x04
	TCPPsh = 0x08
	TCPAck = 0x10
	TCPUrg = 0x20
)
