// Package capture reads packet captures (files, standard input, FIFOs,
// directories of rotated files) as one capture merged by time, and decodes
// their frames into Packets, allocating nothing per packet. Writer writes
// packets back out as rotated pcapng files (phonehome capture --write).
//
// # Reading
//
// OpenFiles takes any number of inputs: pcap and pcapng files, each
// uncompressed or compressed by gzip, zstd, xz, bzip2 or lz4; "-" for
// standard input; FIFOs, process substitution (<(zstdcat x.pcap.zst)) and
// character devices; directories, walked for capture files (see OpenFiles).
// Compression and format are told by magic bytes (1f8b gzip, 28b52ffd zstd,
// fd377a585a00 xz, "BZh1"-"BZh9" bzip2, 04224d18 lz4 and 02214c18 its legacy
// frame; then a1b2c3d4 / a1b23c4d in either byte order for pcap, 0a0d0d0a
// for pcapng), never by file name.
//
// The inputs are one capture: FileSet.Next delivers their packets merged by
// timestamp, a k-way merge as mergecap makes, so a DNS-only capture beside
// a TCP-only one, two interfaces captured apart, or rotated files whose
// clocks overlap read as the capture they were split from (see FileSet for
// the order of equal timestamps). A stream is read once, as it comes: it is
// opened by OpenFiles and kept open from its first packet. A regular file
// is probed for its first packet and opened again when the merge reaches
// it, so a week of rotated files holds one file open at a time. A packet
// that another input delivered already (the same time, link type, lengths
// and bytes: the same file given twice, rotations that overlap) is dropped
// and counted in Stats.Duplicates.
//
// The records are parsed by our own readers (pcapSource, ngSource) straight
// out of read chunks of up to 512 KiB (a small, compressed or probed input
// starts with 4 KiB): a frame is a slice of the chunk, and every length is
// checked before it is used, so a lying field becomes damage, not an
// allocation or a panic. gopacket's pcapgo is the reference they are tested
// against. Files are read through os.File, so a read that waits for a
// FIFO's writer or a file server holds up nothing else in the process.
// pcapng files may hold several sections, each with several interfaces of
// different link types and timestamp resolutions; Packet.Interface is the
// interface index within its section.
// Packet.Input and Packet.Number say which input a frame came from and its
// frame number there as Wireshark numbers it (from 1, every frame of the
// input, duplicates dropped by the merge included; each input of a merged
// set on its own), so a report can point at one packet.
//
// # Ownership
//
// Packet.Frame and Packet.Payload point into the buffer of the input's
// reader and are valid only until the next call to Next, which is when that
// reader moves on; copy what must outlive it. A FileSet is not safe for
// concurrent use. Decode is a pure function and may be called from any
// goroutine on distinct Packets.
//
// # Damage
//
// Damage is data, not an error. Each Damage has a Kind:
//
//   - DamageStopped: a record of an input is corrupt (a length over
//     Options.MaxSnap, a captured length that does not fit its pcapng block,
//     leading and trailing block lengths that differ, an impossible option)
//     or the input ends mid-record (a capture still being written), or a read
//     fails. Next has delivered every packet before it, and the other inputs
//     are read on.
//   - DamageReadOn: a record whose framing is intact has an impossible field
//     (a pcap fraction of a second of a second or more: tshark reads it, and
//     so do we, timed at the last nanosecond of its second). The records are
//     delivered and counted, the first offset kept, and reading goes on.
//   - DamageUnreadable: an input that cannot be read at all (missing, not
//     readable, not a capture, a directory without one, a compressed file
//     whose decoder would need more memory than allowed). The other inputs
//     are read.
//
// Offset is the byte offset of the bad record or block in the input's
// stream: the file itself, or its decompressed bytes when Damage.Decompressed
// (the Reason then says "decompressed offset"). An input of no packets at all
// (a file of no bytes, a header alone) is Empty, not damage.
//
// Errors are for what a user must fix: OpenFiles fails only when none of its
// inputs can be read, naming each (ErrUnknownFormat, with the formats
// expected; fs.ErrNotExist...). Next returns nil or io.EOF.
//
// # Bounds
//
// A record can claim at most Options.MaxSnap captured bytes (default 262144,
// tcpdump's and Wireshark's limit) and a pcapng block MaxSnap + 64 KiB. An
// open input holds at most about 1 MiB + MaxSnap of buffers (a read chunk
// of up to 512 KiB, a record or block that spans two chunks, a 64 KiB read
// buffer before a decoder), and a compressed one its decoder's memory: gzip
// 32 KiB, bzip2 about 4 MiB, lz4 at most 8 MiB (two blocks), zstd its
// frame's window (8 MiB at most for levels 1 to 19; a window over 128 MiB,
// the zstd command's own default limit, is refused) and xz its blocks'
// dictionary (8 MiB for xz's default preset, 64 MiB for -9; one over
// 64 MiB is refused before it is allocated). Regular files are open only
// from the merge front's reaching their first packet to their end; streams
// from OpenFiles to their end. Duplicate detection remembers the frames of
// one timestamp, at most 256 (a hash each); IPv4 reassembly at most 8 MiB.
// Reading is linear in the (decompressed) input: every loop steps over at
// least 12 bytes of it. None of the 177 files of the shared corpus's
// malformed set panics, hangs or takes more memory than that
// (TestCorpusMalformed), and the fuzz targets FuzzReadPcap, FuzzReadPcapng,
// FuzzReadCompressed, FuzzMerge and FuzzDecode keep it so.
//
// # Writing
//
// Writer writes one interface's packets to pcapng files in a directory,
// rotated by time (periods aligned to the clock, as tcpdump -G) and by size
// (as tcpdump -C), gzip-compressed or not, each file whole on its own and
// named so that the names sort in the order of the packets; OpenFiles reads
// such a directory back as the capture it was (TestWriterRoundTrip, against
// pcapgo as well). A failure to write (a full disk, a directory removed)
// never stops the caller: it is returned once, and what could not be
// written is counted in WriterStats until a new file can be started.
//
// # Decoding
//
// Decode knows Ethernet (with any stack of 802.1Q, 802.1ad and 0x9100/0x9200
// tags, LLC/SNAP, PPPoE sessions and MPLS), Linux cooked captures v1 and v2,
// raw IP (link types 101, 12, 14, 228, 229), BSD loopback (0 and 108, the
// address family in either byte order), PPP, Cisco HDLC, Linux NFLOG, and
// IEEE 802.11 bare (105), behind radiotap (127) or behind PPI (192): data
// frames through their LLC/SNAP header (QoS, four addresses, HT control,
// radiotap's data padding; of an A-MSDU the first subframe), management and
// control frames as L3NonIP, an encrypted body as L3Unknown, a frame radiotap
// marks as failing its FCS as Malformed. Frames of other link types decode as
// L3Unknown and are counted per link type in Stats.Unsupported.
//
// # Tunnels
//
// Traffic mirrored to a capture host arrives encapsulated, and Decode takes
// the encapsulations off, at most MaxTunnelDepth (4) of them: GRE version 0
// (RFC 2784 and 2890: checksum, key, sequence number) carrying IPv4, IPv6,
// MPLS or Ethernet (0x6558); ERSPAN type I, II and III; GRE in UDP (port
// 4754), VXLAN (4789, and Linux's default 8472 with an exact VXLAN header),
// Geneve (6081, with options) and GTP-U G-PDUs (2152);
// IPv4 and IPv6 in IPv4 (protocols 4 and 41) and in IPv6 (after hop-by-hop,
// routing, destination options and AH headers). A UDP tunnel is recognised
// by its destination port and a header that checks (the VXLAN I flag, Geneve
// version 0, GTP-U version 1 and message 255), never by port alone. The
// Packet is then the innermost packet, the VM's, and Packet.Tunnel keeps the
// outermost encapsulation's kind and addresses, the mirror's. Left on:
// GRE version 1 (PPTP), RFC 1701 routing, protocols Decode does not read
// (Aruba's 802.11 in GRE), IPv6 fragments, and Teredo and AYIYA, which are a
// host's own IPv6 inside an IPv4 flow that is itself to be named. A packet
// still tunnelled at MaxTunnelDepth is left as it is there, with
// Tunnel.TooDeep set.
//
// The first fragment of a tunnelled IPv4 packet is taken through the tunnel
// as far as it goes, marked Fragment (its payload is incomplete) but not
// Truncated; a later one is the outer packet, with no ports. Decode records
// where the outermost fragmented IPv4 header is, and the Defragmenter
// rebuilds that datagram: fragmented outside the tunnel (a mirror's 50 bytes
// on a full-size frame), the rebuilt datagram is decoded through it;
// fragmented inside, it keeps the fragments' Tunnel. A datagram fragmented
// both inside and outside (a DNS answer fragmented by the VM's gateway,
// mirrored over a path of lower MTU) is rebuilt outside, then inside.
//
// IPv4 TCP, UDP and tunnel fragments are reassembled (see Defragmenter: at most 1024
// datagrams and 8 MiB at once, 30 s of capture time each, the first bytes
// winning an overlap). Every fragment still comes out of Next as captured;
// the rebuilt datagram follows the fragment (or the rebuilt datagram) that
// completes it, with Reassembled set, so bytes are counted once and names
// read once.
//
// For IPv4 it sets addresses and protocol, and for TCP and UDP in a first or
// only fragment the ports, TCP sequence numbers and flags, and the payload.
// The payload ends at the IPv4 total length, so Ethernet padding and trailers
// never reach it; a total length of 0 (segmentation offload, seen in captures
// taken on the sending host) means "what was captured". Truncated says the
// payload holds fewer bytes than the headers announce; Malformed says a
// header field is impossible. For IPv6 only the addresses are set.
//
// Measured with make bench on the development machine (2 vCPU, shared) over
// the runs of 2026-11-29, the README's latest among them: Decode of an
// Ethernet/IPv4/TCP frame takes about 10 ns; FileSet.Next, decoding
// and reading included, 55 to 67 ns per packet on pcap and 70 to 86 ns on
// pcapng, depending on the machine's load (frames are slices of the read
// chunk; through pcapgo, pcapng took 1.8 times as long),
// at 0 allocations (BenchmarkDecode, BenchmarkFileSetNext; TestDecodeAllocs
// and TestFileSetNextAllocs hold the 0, on plain, zstd, lz4 and merged
// inputs; xz's decoder allocates per LZMA match). The merge costs nothing
// measurable on one input (the last input left is read straight into the
// caller's Packet); in CPU time per packet delivered (BenchmarkFileSetNext,
// medians of 5 runs of 8 M packets, 2026-12-07, load about 5 on 2 vCPUs),
// two files whose packets interleave cost 1.05 times one file, the same
// file given twice 1.8 times (each packet read and hashed twice, one
// dropped), and zstd input 4.6 times plain (about 1 GB/s of decompression).
// Taking a tunnel off costs about 12 ns: on 2026-12-07 (BenchmarkDecode,
// the fastest of 21 runs alternating with the build before tunnels, load
// average 7 on the 2 vCPUs) the same Ethernet/IPv4/TCP frame took 9.0 ns
// (8.6 ns before), inside ERSPAN II 22.9 ns and inside VXLAN 20.2 ns; an
// 802.11 QoS data frame behind radiotap 16.0 ns.
package capture
