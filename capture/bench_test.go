package capture

import (
	"bytes"
	"io"
	"os"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func BenchmarkDecode(b *testing.B) {
	cases := []struct {
		name  string
		lt    uint16
		frame []byte
	}{
		{"ethernet_ipv4_tcp", LinkTypeEthernet, eth(0x0800, ipv4TCP(b, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"))},
		{"vlan_qinq_ipv4_udp", LinkTypeEthernet, eth(0x88a8, cat(tag(100, 0x8100), tag(10, 0x0800), ipv4UDP(b, "dns query")))},
		{"sll2_ipv6", LinkTypeSLL2, sll2(0x86dd, 1, ipv6UDP(b))},
		{"erspan_ii_ipv4_tcp", LinkTypeEthernet, eth(0x0800, outer4(b, 47, cat(gre(0x10, 0, 0x88be, 1),
			[]byte{0x10, 0x17, 0x08, 0x64, 0, 0, 0, 0}, ether(0x0800, ipv4TCP(b, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")))))},
		{"vxlan_ipv4_tcp", LinkTypeEthernet, eth(0x0800, udpOuter(b, portVXLAN, cat(vxlanHdr(0x08),
			ether(0x0800, ipv4TCP(b, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")))))},
		{"radiotap_qos_ipv4_udp", LinkTypeRadiotap, radiotap(0x10, wlanData(true, 0, snap(0x0800, ipv4UDP(b, "dns query"))))},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var p Packet
			b.ReportAllocs()
			b.SetBytes(int64(len(c.frame)))
			for b.Loop() {
				Decode(c.lt, c.frame, &p)
			}
		})
	}
}

func BenchmarkFileSetNext(b *testing.B) {
	dir := b.TempDir()
	pcap, ng := allocFile(b, dir, false, 20000), allocFile(b, dir, true, 20000)
	data, err := os.ReadFile(pcap)
	if err != nil {
		b.Fatal(err)
	}
	var zst bytes.Buffer
	zw, _ := zstd.NewWriter(&zst)
	zw.Write(data)
	zw.Close()
	for _, c := range []struct {
		name  string
		paths []string
	}{
		{"pcap", []string{pcap}},
		{"pcapng", []string{ng}},
		{"zstd", []string{writeFile(b, dir, "bench.pcap.zst", zst.Bytes())}},
		// Two inputs whose packets interleave, none of the same time.
		{"merged", []string{pcap, ng}},
		// The same packets twice: every packet is hashed, every second
		// one dropped (a packet delivered costs two read).
		{"duplicates", []string{pcap, writeFile(b, dir, "copy.pcap", data)}},
	} {
		b.Run(c.name, func(b *testing.B) {
			var p Packet
			var s *FileSet
			reopen := func() {
				if s != nil {
					s.Close()
				}
				var err error
				if s, err = OpenFiles(c.paths, Options{}); err != nil {
					b.Fatal(err)
				}
			}
			reopen()
			b.ReportAllocs()
			var bytes int64
			for b.Loop() {
				err := s.Next(&p)
				if err == io.EOF {
					b.StopTimer()
					reopen()
					b.StartTimer()
					continue
				}
				if err != nil {
					b.Fatal(err)
				}
				bytes += int64(p.CapLen)
			}
			// SetBytes wants bytes per op: the mean frame size read.
			if b.N > 0 {
				b.SetBytes(bytes / int64(b.N))
			}
			s.Close()
		})
	}
}
