package classify

import (
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// bigRun is a run of n names, each with every bounded list full, and n
// unattributed addresses: the size a week of many names comes to.
func bigRun(n int) *Run {
	t0 := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	run := &Run{Names: map[string]*NameStat{}, Unattributed: map[netip.Addr]*AddrStat{}, Ambiguous: map[string]*AmbiguousStat{},
		Excluded: map[string]*Excluded{ScopeIPv6: {Packets: 1}}, VM: netip.MustParseAddr("192.168.56.10"), First: t0, Last: t0.Add(7 * 24 * time.Hour)}
	for i := range n {
		name := "host-" + strconv.Itoa(i) + ".telemetry.example.com"
		s := &NameStat{Name: name, Evidence: map[string]int{EvidenceSNI: 3, EvidenceDNS: 1}, Flows: 4, BytesOut: 1e5, BytesIn: 2e5,
			First: t0, Last: t0.Add(time.Duration(i) * time.Second), Protocols: []string{"TLS 1.2", "TLS 1.3"}, HostLevel: true}
		for j := range 4 {
			s.Aliases = append(s.Aliases, "alias-"+strconv.Itoa(j)+"."+name)
			s.Addrs = append(s.Addrs, netip.AddrFrom4([4]byte{20, byte(i >> 8), byte(i), byte(j)}))
		}
		run.Names[name] = s
		a := netip.AddrFrom4([4]byte{40, byte(i >> 16), byte(i >> 8), byte(i)})
		run.Unattributed[a] = &AddrStat{Addr: a, Flows: 1, First: t0, Last: t0, Ports: []string{"tcp/443"}}
	}
	return run
}

// BenchmarkSaveLoadRecord saves and loads a checkpoint of 10 000 names and
// 10 000 unattributed addresses (gzipped, fsynced), and reports its size.
func BenchmarkSaveLoadRecord(b *testing.B) {
	run := bigRun(10_000)
	path := filepath.Join(b.TempDir(), CheckpointName)
	b.Run("save", func(b *testing.B) {
		for b.Loop() {
			if err := SaveRecord(path, run, RecordMeta{Tool: "bench"}); err != nil {
				b.Fatal(err)
			}
		}
		fi, _ := os.Stat(path)
		b.ReportMetric(float64(fi.Size()), "bytes")
	})
	b.Run("load", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := LoadRecord(path); err != nil {
				b.Fatal(err)
			}
		}
	})
}
