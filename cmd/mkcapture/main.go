// Command mkcapture writes a synthetic capture of an idle Windows 10 VM of any
// size, and the truth of what is in it, for phonehome's benchmarks and
// whole-capture tests.
//
//	go run ./cmd/mkcapture -size 1GB -seed 1 -o big.pcap -truth big.truth.json
//
// The capture is modelled on a week of the Microsoft pages' method (1 GB spans
// about a week, from 2026-03-02 08:00 UTC): the VM 192.168.56.10 on Ethernet,
// its resolver 192.168.56.1, public servers. About 1.8 M packets and 41 k
// ClientHellos per GB, mostly bulk TLS (application-data records in full-size
// segments both ways); a third of the ClientHellos are Go crypto/tls's (with
// the X25519MLKEM768 key share, two TCP segments), two thirds curl's and
// OpenSSL's (one segment); DNS answers over UDP with CNAME chains before the
// connections, some flows named only by DNS, some by nothing; HTTP/1.1
// requests, some several on one keep-alive connection; a little IPv6, LAN,
// multicast, inbound and ARP traffic that phonehome must leave out.
//
// Client bytes are real: the ClientHellos are made at start-up by Go's
// crypto/tls client over net.Pipe for each name, and taken from the curl and
// OpenSSL hellos in classify/extract/testdata with the SNI rewritten. Random
// fields (client random, session ID, key shares) come from the seed, so the
// same seed and size give the same bytes with the same Go toolchain on the
// same kind of CPU (Go orders its cipher suites by whether the CPU has AES
// instructions). Names are the documented patterns of the 1909 catalog,
// instantiated, plus real undocumented hosts and a long synthetic tail, drawn
// with a Zipf skew.
//
// -span squeezes the whole timeline into a given time (e.g. -span 5s) with the
// same packets and bytes, and works the truth out on that timeline: the live
// benchmark replays such a capture at top speed in about the time it spans, so
// that idle timeouts, DNS TTLs and the DNS query window decide in the replay
// as they do in the file (a week replayed in seconds would keep every DNS
// answer alive, and name flows the file's truth leaves to other names).
//
// -truth writes what phonehome must find: each in-scope flow's name and
// evidence by phonehome's rules, the unattributed addresses, every SNI, Host
// and DNS answer written, and counts. The capture is streamed through one
// 1 MiB buffer; live flows are held as 24-byte packet scripts, never as bytes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := mainErr(); err != nil {
		fmt.Fprintln(os.Stderr, "mkcapture:", err)
		os.Exit(1)
	}
}

func mainErr() error {
	var (
		size   = flag.String("size", "100MB", "capture size: a number with B, kB, MB, GB (powers of 1000) or KiB, MiB, GiB")
		seed   = flag.Uint64("seed", 1, "seed: the same seed and size give the same bytes")
		out    = flag.String("o", "", "capture `file` to write (required)")
		truthF = flag.String("truth", "", "also write the truth as JSON to `file`")
		format = flag.String("format", "pcap", "pcap (microsecond) or pcapng")
		quiet  = flag.Bool("q", false, "do not print the summary line")
		span   = flag.Duration("span", 0, "squeeze the timeline so the capture spans about this `duration` (e.g. 5s); default a week per GB")
	)
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", flag.Arg(0))
	}
	if *out == "" {
		return errors.New("-o FILE is required")
	}
	n, err := parseSize(*size)
	if err != nil {
		return err
	}
	if *span < 0 || *span > 0 && *span < time.Millisecond {
		return fmt.Errorf("-span %s: want a duration of 1ms or more, such as 5s", *span)
	}
	if *format != "pcap" && *format != "pcapng" {
		return fmt.Errorf("-format %q: want pcap or pcapng", *format)
	}
	fh, err := os.Create(*out)
	if err != nil {
		return err
	}
	began := time.Now()
	tr, err := run(config{size: n, seed: *seed, pcapng: *format == "pcapng", span: *span}, fh)
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", *out, err)
	}
	took := time.Since(began)
	if *truthF != "" {
		tf, err := os.Create(*truthF)
		if err != nil {
			return err
		}
		err = writeTruth(tf, tr)
		if cerr := tf.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("write %s: %w", *truthF, err)
		}
	}
	if !*quiet {
		c := tr.Counts
		fmt.Fprintf(os.Stderr, "mkcapture: %s: %d bytes, %d packets, %d ClientHellos (%d split), %d in-scope flows, %s to %s; %.1fs, %.0f MB/s\n",
			*out, c.FileBytes, c.Packets, c.ClientHellos, c.SplitClientHellos, c.FlowsInScope, tr.First, tr.Last,
			took.Seconds(), float64(c.FileBytes)/1e6/took.Seconds())
	}
	return nil
}

// parseSize reads "1GB", "100MB", "2MiB", "1e9" or "4096".
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   float64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
		{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1},
	}
	num, mult := strings.TrimSpace(s), 1.0
	for _, u := range units {
		if v, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(v), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 || v*mult > 1<<50 {
		return 0, fmt.Errorf("-size %q: want a positive size such as 2MB, 1GB or 1GiB", s)
	}
	return int64(v * mult), nil
}
