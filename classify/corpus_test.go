package classify_test

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/phonehome/phonehome/capture"
	"github.com/phonehome/phonehome/classify"
)

// corpusDir is the shared corpus of real captures with tshark's truth, found
// beside the repository (see ../shared/corpus/README.md).
const corpusDir = "../../shared/corpus"

type truthFile struct {
	TLS  []truthRecord `json:"tls_client_hellos"`
	HTTP []truthRecord `json:"http_requests"`
	DNS  []truthRecord `json:"dns_responses"`
}

type truthRecord struct {
	Frame       int      `json:"frame"`
	Kind        string   `json:"kind"`
	IPVersion   int      `json:"ip_version"`
	Flow        string   `json:"flow"`
	Tunneled    bool     `json:"tunneled"`
	InICMPError bool     `json:"in_icmp_error"`
	SNI         string   `json:"sni"`
	Host        string   `json:"host"`
	QName       string   `json:"qname"`
	CNAMEChain  []string `json:"cname_chain"`
	A           []string `json:"a"`
}

// corpusExceptions are the records where phonehome and tshark disagree and
// phonehome is right or the difference is out of scope, by file, each with
// the reason proven from the bytes. A key "file" excuses missing records,
// "file+" extra ones.
var corpusExceptions = map[string]string{}

// key says what must agree for one record: kind, flow as "proto src -> dst",
// and the name with its evidence.
func truthKeys(t truthRecord, kind string) (string, bool) {
	if t.IPVersion != 4 || t.InICMPError || t.Tunneled {
		return "", false
	}
	switch kind {
	case "tls":
		if t.Kind != "tls" || t.SNI == "" {
			return "", false
		}
		return "tls " + t.Flow + " " + norm(t.SNI), true
	case "http":
		if t.Kind != "http" {
			return "", false
		}
		return "http " + t.Flow + " " + norm(stripPort(t.Host)), t.Host != ""
	case "dns":
		return "dns " + t.Flow + " " + norm(t.QName) + " cname=" + normList(t.CNAMEChain) + " a=" + sortedList(t.A), t.QName != ""
	}
	return "", false
}

func norm(s string) string { return strings.TrimSuffix(strings.ToLower(s), ".") }

func normList(l []string) string {
	var out []string
	for _, s := range l {
		out = append(out, norm(s))
	}
	return strings.Join(out, ",")
}

func sortedList(l []string) string {
	l = append([]string(nil), l...)
	sort.Strings(l)
	return strings.Join(l, ",")
}

func stripPort(h string) string {
	h = strings.TrimSpace(h)
	if strings.HasPrefix(h, "[") {
		if i := strings.Index(h, "]"); i > 0 {
			return h[1:i]
		}
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.Count(h, ":") == 1 {
		return h[:i]
	}
	return h
}

func observationKey(o *classify.Observation) string {
	flow := fmt.Sprintf("%s %s:%d -> %s:%d", o.Proto, o.Src, o.SPort, o.Dst, o.DPort)
	switch o.Kind {
	case "dns":
		var a []string
		for _, x := range o.A {
			a = append(a, x.String())
		}
		return "dns " + flow + " " + o.Name + " cname=" + strings.Join(o.CNAMEs, ",") + " a=" + sortedList(a)
	}
	return o.Kind + " " + flow + " " + o.Name
}

// TestCorpusAgreement runs every clean capture of the shared corpus through
// capture and classify and checks that every IPv4 DNS response, TLS SNI and
// HTTP Host tshark found (outside ICMP errors and tunnels) is found on the
// same flow with the same name, CNAME chain and A answers.
func TestCorpusAgreement(t *testing.T) {
	dev := filepath.Join(corpusDir, "dev")
	files, _ := filepath.Glob(filepath.Join(dev, "*"))
	if len(files) == 0 {
		t.Skipf("no shared corpus at %s: the agreement test needs ../shared/corpus beside the repository", corpusDir)
	}
	type tally struct{ want, got, extra int }
	perKind := map[string]*tally{"tls": {}, "http": {}, "dns": {}}
	var failures []string
	filesWithRecords := 0
	for _, path := range files {
		name := filepath.Base(path)
		raw, err := os.ReadFile(filepath.Join(corpusDir, "truth", "dev", name+".json"))
		if err != nil {
			continue
		}
		var truth truthFile
		if err := json.Unmarshal(raw, &truth); err != nil {
			t.Fatalf("%s: truth: %v", name, err)
		}
		want := map[string]int{}
		for kind, recs := range map[string][]truthRecord{"tls": truth.TLS, "http": truth.HTTP, "dns": truth.DNS} {
			for _, r := range recs {
				if k, ok := truthKeys(r, kind); ok {
					want[k]++
				}
			}
		}
		got := map[string]int{}
		cfg := classify.Config{OnObservation: func(o *classify.Observation) { got[observationKey(o)]++ }}
		if err := classifyFile(path, cfg); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(want) > 0 {
			filesWithRecords++
		}
		var missing, extra []string
		for k, n := range want {
			kind := k[:strings.IndexByte(k, ' ')]
			perKind[kind].want += n
			m := min(n, got[k])
			perKind[kind].got += m
			if m < n {
				missing = append(missing, k)
			}
		}
		for k, n := range got {
			if n > want[k] {
				perKind[k[:strings.IndexByte(k, ' ')]].extra += n - want[k]
				extra = append(extra, k)
			}
		}
		sort.Strings(missing)
		sort.Strings(extra)
		if len(missing) > 0 && corpusExceptions[name] == "" {
			failures = append(failures, fmt.Sprintf("%s: %d records tshark found that phonehome did not, e.g. %s", name, len(missing), missing[0]))
		}
		if testing.Verbose() && (len(missing) > 0 || len(extra) > 0) {
			for _, m := range missing {
				t.Logf("%s: missing %s", name, m)
			}
			for _, e := range extra {
				t.Logf("%s: extra %s", name, e)
			}
		}
	}
	for _, kind := range []string{"tls", "http", "dns"} {
		k := perKind[kind]
		t.Logf("agreement %-4s %5d of %5d tshark records (%.2f%%), %d found by phonehome only",
			kind, k.got, k.want, 100*float64(k.got)/float64(max(k.want, 1)), k.extra)
	}
	t.Logf("%d captures, %d with IPv4 names in the truth", len(files), filesWithRecords)
	for _, f := range failures {
		t.Error(f)
	}
}

func classifyFile(path string, cfg classify.Config) error {
	src, err := capture.OpenFiles([]string{path}, capture.Options{})
	if err != nil {
		return err
	}
	defer src.Close()
	c := classify.New(cfg)
	var p capture.Packet
	for {
		err := src.Next(&p)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		c.Add(&p)
	}
	c.Finish()
	return nil
}
