package classify_test

import (
	"slices"
	"testing"

	"github.com/phonehome/phonehome/classify"
)

// TestSnapLengthNeverGuessesAWrongName reads the sample cut to 262 and to 128
// bytes a frame (testdata/gen/snaplen.sh, editcap -s) and holds every flow in
// scope against the same flow of the whole sample: a cut flow may lose its
// name, or be named by DNS instead, but never by another name than the whole
// capture gives it (an ambiguous flow must have that name among its
// candidates); a flow whose name changed must be marked truncated. The run
// says what was cut and what it cost, in figures pinned here: they change
// only when the sample is made anew (make fixtures), which remakes the cut
// copies too.
func TestSnapLengthNeverGuessesAWrongName(t *testing.T) {
	whole := inScopeFlows(t, "../testdata/sample/idle-1909.pcapng")
	for _, tt := range []struct {
		file string
		want classify.Truncation
	}{
		{"sample-snap262.pcapng.gz", classify.Truncation{Frames: 120, SnapLen: 262, Flows: 36, ClientHellos: 30, RequestHeads: 3,
			NamedByDNS: 19, Unnamed: 14, DNSResponses: 17, AnswersLost: 17}},
		{"sample-snap128.pcapng.gz", classify.Truncation{Frames: 292, SnapLen: 128, Flows: 40, ClientHellos: 30, RequestHeads: 9,
			NamedByDNS: 1, Unnamed: 38, DNSResponses: 72, AnswersLost: 72}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			var run *classify.Run
			cut := inScopeFlows(t, "../testdata/fixtures/"+tt.file, &run)
			if len(cut) != len(whole) {
				t.Errorf("%d flows in scope; the whole sample has %d", len(cut), len(whole))
			}
			kept, byDNS, lost := 0, 0, 0
			for k, w := range whole {
				c, ok := cut[k]
				switch {
				case !ok:
					t.Errorf("%s: not in the cut capture", k)
					continue
				case c.Name == w.Name && c.Evidence == w.Evidence:
					kept++
					continue
				case !c.Truncated:
					t.Errorf("%s: named %q by %q, whole %q by %q, and not marked truncated", k, c.Name, c.Evidence, w.Name, w.Evidence)
				}
				switch c.Evidence {
				case classify.EvidenceNone:
					lost++
				case classify.EvidenceDNS:
					byDNS++
					if c.Name != w.Name {
						t.Errorf("%s: named %q by DNS; the whole capture names it %q", k, c.Name, w.Name)
					}
				case classify.EvidenceDNSAmbiguous:
					byDNS++
					if !slices.ContainsFunc(c.DNSCandidates, func(d classify.DNSCandidate) bool { return d.Name == w.Name }) {
						t.Errorf("%s: ambiguous %v; the whole capture names it %q", k, c.DNSCandidates, w.Name)
					}
				default:
					t.Errorf("%s: named %q by %s; the whole capture names it %q by %s", k, c.Name, c.Evidence, w.Name, w.Evidence)
				}
			}
			t.Logf("%d flows in scope: %d named as in the whole sample, %d named by DNS instead of SNI or Host, %d lost their name",
				len(whole), kept, byDNS, lost)
			if run.Truncation != tt.want {
				t.Errorf("Truncation = %+v; want %+v", run.Truncation, tt.want)
			}
			for _, b := range run.Bounds {
				t.Errorf("bound reached: %+v; a cut stream is not a bound", b)
			}
		})
	}
}

// inScopeFlows classifies a capture and returns its flows in scope by
// 5-tuple and start; the run goes to *run when given.
func inScopeFlows(t *testing.T, path string, run ...**classify.Run) map[string]classify.FlowRecord {
	t.Helper()
	flows := map[string]classify.FlowRecord{}
	r, err := classifyFile(path, classify.Config{OnFlow: func(rec *classify.FlowRecord) {
		if rec.Scope != classify.ScopeIn {
			return
		}
		c := *rec
		c.DNSCandidates = slices.Clone(rec.DNSCandidates)
		flows[rec.Proto+" "+rec.Src.String()+":"+itoa(rec.SPort)+" -> "+rec.Dst.String()+":"+itoa(rec.DPort)+" "+
			rec.FirstSeen.String()] = c
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(run) > 0 {
		*run[0] = r
	}
	return flows
}

func itoa(n uint16) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}
