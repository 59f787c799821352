package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/classify"
	"github.com/phonehome/phonehome/classify/extract"
)

const testSize = 2_000_000

func generate(t *testing.T, cfg config) ([]byte, Truth) {
	t.Helper()
	var buf bytes.Buffer
	tr, err := run(cfg, &buf)
	if err != nil {
		t.Fatalf("run(%+v): %v", cfg, err)
	}
	if int64(buf.Len()) != tr.Counts.FileBytes {
		t.Errorf("wrote %d bytes; truth says %d", buf.Len(), tr.Counts.FileBytes)
	}
	return buf.Bytes(), tr
}

func TestDeterministicForSeed(t *testing.T) {
	a, _ := generate(t, config{size: testSize, seed: 1})
	b, _ := generate(t, config{size: testSize, seed: 1})
	if !bytes.Equal(a, b) {
		t.Fatalf("two runs with seed 1 differ (%d and %d bytes)", len(a), len(b))
	}
	c, _ := generate(t, config{size: testSize, seed: 2})
	if bytes.Equal(a, c) {
		t.Fatalf("seeds 1 and 2 gave the same capture")
	}
	if len(a) < testSize || len(a) > testSize+testSize/4 {
		t.Errorf("asked for %d bytes; got %d", testSize, len(a))
	}
}

// TestReadsBackAsTruthSays reads the capture with phonehome's own reader and
// classifier: no damage, and the packets, ClientHellos (whole and split),
// flows and names are the truth's. Squeezed by -span, the timeline reuses
// UDP 5-tuples (NTP on ports 123) within phonehome's UDP idle timeout, and
// the truth must fold those flows as phonehome does.
func TestReadsBackAsTruthSays(t *testing.T) {
	tests := []struct {
		name string
		cfg  config
	}{
		{"pcap", config{size: testSize, seed: 3}},
		{"pcapng", config{size: testSize, seed: 3, pcapng: true}},
		{"pcap_squeezed_to_1s", config{size: 10 * testSize, seed: 3, span: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, tr := generate(t, tt.cfg)
			path := filepath.Join(t.TempDir(), "synthetic.cap")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			src, err := capture.OpenFiles([]string{path}, capture.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()

			hellos := 0
			type nameEv struct{ name, ev string }
			names := map[nameEv]uint64{}
			unattributed := map[string]uint64{}
			scopes := map[string]uint64{}
			cfg := classify.Config{
				OnObservation: func(o *classify.Observation) {
					if o.Kind == "tls" {
						hellos++
					}
				},
				OnFlow: func(f *classify.FlowRecord) {
					scopes[f.Scope]++
					switch {
					case f.Scope != classify.ScopeIn:
					case f.Evidence == classify.EvidenceNone:
						unattributed[f.Dst.String()]++
					case f.Evidence == classify.EvidenceDNSAmbiguous:
						var cands []string
						for _, c := range f.DNSCandidates {
							cands = append(cands, c.Name)
						}
						names[nameEv{strings.Join(cands, " "), f.Evidence}]++
					default:
						names[nameEv{f.Name, f.Evidence}]++
					}
				},
			}
			c := classify.New(cfg)
			var p capture.Packet
			var packets uint64
			split := uint64(0)
			for {
				err := src.Next(&p)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				packets++
				if p.L3 == capture.L3IPv4 && p.Proto == 6 && p.DstPort == 443 && startsSplitHello(p.Payload) {
					split++
				}
				c.Add(&p)
			}
			c.Finish()
			if d := src.Damage(); len(d) > 0 {
				t.Fatalf("damage: %v", d)
			}
			want := tr.Counts
			if packets != want.Packets {
				t.Errorf("packets = %d; want %d", packets, want.Packets)
			}
			if uint64(hellos) != want.ClientHellos {
				t.Errorf("ClientHellos = %d; want %d", hellos, want.ClientHellos)
			}
			if split != want.SplitClientHellos {
				t.Errorf("split ClientHellos = %d; want %d", split, want.SplitClientHellos)
			}
			if want.ClientHellos == 0 || want.SplitClientHellos*5 < want.ClientHellos || want.SplitClientHellos*2 > want.ClientHellos {
				t.Errorf("%d of %d ClientHellos split; want about a third", want.SplitClientHellos, want.ClientHellos)
			}
			if scopes[classify.ScopeIn] != want.FlowsInScope {
				t.Errorf("flows in scope = %d; want %d", scopes[classify.ScopeIn], want.FlowsInScope)
			}
			for reason, n := range want.ExcludedFlows {
				if scopes[reason] != n {
					t.Errorf("flows excluded as %s = %d; want %d", reason, scopes[reason], n)
				}
			}
			for _, n := range tr.Names {
				if got := names[nameEv{n.Name, n.Evidence}]; got != n.Flows {
					t.Errorf("flows named %s by %s = %d; want %d", n.Name, n.Evidence, got, n.Flows)
				}
				delete(names, nameEv{n.Name, n.Evidence})
			}
			for k, n := range names {
				t.Errorf("flows named %s by %s = %d; want 0", k.name, k.ev, n)
			}
			for _, u := range tr.Unattributed {
				if got := unattributed[u.Address]; got != u.Flows {
					t.Errorf("unattributed flows to %s = %d; want %d", u.Address, got, u.Flows)
				}
				delete(unattributed, u.Address)
			}
			for a, n := range unattributed {
				t.Errorf("unattributed flows to %s = %d; want 0", a, n)
			}
			for _, kind := range []string{"sni", "dns", "http-host"} {
				if !slices.ContainsFunc(tr.Names, func(n NameCount) bool { return n.Evidence == kind }) {
					t.Errorf("no flow named by %s in %d bytes", kind, tt.cfg.size)
				}
			}
		})
	}
}

// TestSpanSqueezesTimeOnly: -span changes the records' timestamps and
// nothing else, keeps them in order, and the capture spans about the span.
func TestSpanSqueezesTimeOnly(t *testing.T) {
	week, _ := generate(t, config{size: testSize, seed: 1})
	short, tr := generate(t, config{size: testSize, seed: 1, span: 2 * time.Second})
	if len(week) != len(short) {
		t.Fatalf("-span 2s wrote %d bytes; without, %d", len(short), len(week))
	}
	const fileHdr, recHdr = 24, 16
	if !bytes.Equal(week[:fileHdr], short[:fileHdr]) {
		t.Errorf("file headers differ")
	}
	var first, last int64 = -1, 0
	for off := fileHdr; off < len(week); {
		ts := int64(binary.LittleEndian.Uint32(short[off:]))*1e6 + int64(binary.LittleEndian.Uint32(short[off+4:]))
		if ts < last {
			t.Fatalf("record at %d dated %d µs, before the one before it (%d)", off, ts, last)
		}
		if first < 0 {
			first = ts
		}
		last = ts
		n := recHdr + int(binary.LittleEndian.Uint32(week[off+8:]))
		if !bytes.Equal(week[off+8:off+n], short[off+8:off+n]) {
			t.Fatalf("record at %d differs beyond its timestamp", off)
		}
		off += n
	}
	if got := time.Duration(last-first) * time.Microsecond; got < time.Second || got > 3*time.Second {
		t.Errorf("-span 2s: the capture spans %s; want about 2s", got)
	}
	if tr.First != "2026-03-02T08:00:00Z" || !strings.HasPrefix(tr.Last, "2026-03-02T08:00:0") {
		t.Errorf("truth spans %s to %s; want 2 s or so from 2026-03-02T08:00:00Z", tr.First, tr.Last)
	}
}

// startsSplitHello reports whether a segment starts a ClientHello record that
// runs past it.
func startsSplitHello(b []byte) bool {
	return len(b) >= 6 && b[0] == 0x16 && b[1] == 3 && b[5] == 1 && 5+int(binary.BigEndian.Uint16(b[3:])) > len(b)
}

func TestWithSNI(t *testing.T) {
	tests := []struct {
		name     string
		hello    []byte
		sni      string
		wantSize int // 0: any
	}{
		{"curl_padding_absorbs_longer_name", curlHello, "settings-win.data.microsoft.com", len(curlHello)},
		{"curl_padding_absorbs_shorter_name", curlHello, "a.io", len(curlHello)},
		{"openssl_grows", opensslHello, "1storecatalogrevocation.storequality.microsoft.com", len(opensslHello) + len("1storecatalogrevocation.storequality.microsoft.com") - len("openssl.example.test")},
		{"openssl_shrinks", opensslHello, "g.live.com", len(opensslHello) - 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := withSNI(tt.hello, tt.sni)
			if err != nil {
				t.Fatalf("withSNI: %v", err)
			}
			if tt.wantSize != 0 && len(b) != tt.wantSize {
				t.Errorf("len = %d; want %d", len(b), tt.wantSize)
			}
			var ch extract.ClientHello
			if st := extract.ParseClientHello(b, &ch); st != extract.Found {
				t.Fatalf("ParseClientHello = %v; want Found", st)
			}
			if string(ch.ServerName) != tt.sni {
				t.Errorf("SNI = %q; want %q", ch.ServerName, tt.sni)
			}
		})
	}
}

func TestGoHelloSpansTwoSegments(t *testing.T) {
	b, err := goHello("v10.events.data.microsoft.com")
	if err != nil {
		t.Fatal(err)
	}
	if len(b) <= mss {
		t.Errorf("Go ClientHello is %d bytes; want more than one %d-byte segment", len(b), mss)
	}
	var ch extract.ClientHello
	if st := extract.ParseClientHello(b, &ch); st != extract.Found || string(ch.ServerName) != "v10.events.data.microsoft.com" {
		t.Errorf("ParseClientHello = %v, SNI %q", st, ch.ServerName)
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"1GB", 1e9}, {"2MB", 2e6}, {"1GiB", 1 << 30}, {"512KiB", 512 << 10}, {"4096", 4096}, {"1.5GB", 1.5e9}, {"10kB", 10e3},
	}
	for _, tt := range tests {
		if got, err := parseSize(tt.in); err != nil || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "GB", "-1MB", "1TB", "x"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) = nil error; want one", bad)
		}
	}
}

// BenchmarkGenerate measures the generator after set-up, writing to
// io.Discard: bytes/s is its output rate.
func BenchmarkGenerate(b *testing.B) {
	const size = 50_000_000
	b.SetBytes(size)
	for b.Loop() {
		b.StopTimer()
		g, err := newGen(config{size: size, seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := g.write(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPipeline reads a generated 100 MB capture (the week's mix of bulk
// TLS, ClientHellos, DNS and HTTP) from a capture.FileSet through
// classify.Analyze: the per-packet work of `phonehome analyze` without
// process start-up and the report. It reports ns and CPU ns per packet (CPU:
// the process's user and system time, steadier on a shared machine), and
// packets per second from CPU time. The file is read from the page cache.
func BenchmarkPipeline(b *testing.B) {
	path := filepath.Join(b.TempDir(), "week.pcap")
	fh, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	tr, err := run(config{size: 100_000_000, seed: 1}, fh)
	if err != nil {
		b.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		b.Fatal(err)
	}
	packets := tr.Counts.Packets
	b.SetBytes(tr.Counts.FileBytes)
	cpu0 := processCPU()
	for b.Loop() {
		src, err := capture.OpenFiles([]string{path}, capture.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := classify.Analyze(src, classify.Config{}); err != nil {
			b.Fatal(err)
		}
		src.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(uint64(b.N)*packets), "ns/packet")
	if cpu1 := processCPU(); cpu1 > 0 {
		cpu := float64(cpu1-cpu0) / float64(uint64(b.N)*packets)
		b.ReportMetric(cpu, "cpu-ns/packet")
		b.ReportMetric(1e3/cpu, "M-packets/cpu-s")
	}
}
