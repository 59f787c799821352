package match_test

import (
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/phonehome/phonehome/catalog"
	"github.com/phonehome/phonehome/classify/match"
)

// windowsPatterns is the union of every build's patterns (about 800).
func windowsPatterns(tb testing.TB) []string {
	seen := map[string]bool{}
	var out []string
	for _, b := range catalog.Builds() {
		c, err := catalog.Load(b)
		if err != nil {
			tb.Fatal(err)
		}
		for _, e := range c.Entries {
			if !seen[e.Pattern] {
				seen[e.Pattern] = true
				out = append(out, e.Pattern)
			}
		}
	}
	return out
}

// synthetic returns n patterns in the proportions of the pages' forms, over
// random labels, deterministically.
func synthetic(n int) []string {
	r := rand.New(rand.NewPCG(1, 2))
	label := func() string {
		const letters = "abcdefghijklmnopqrstuvwxyz0123456789-"
		b := make([]byte, 3+r.IntN(10))
		for i := range b {
			b[i] = letters[r.IntN(len(letters)-1)] // no '-' first or anywhere: simpler
		}
		return string(b)
	}
	tlds := []string{"com", "net", "org", "io", "microsoft.com", "akamaiedge.net", "windows.com"}
	domain := func() string {
		parts := make([]string, 1+r.IntN(3))
		for i := range parts {
			parts[i] = label()
		}
		return strings.Join(parts, ".") + "." + tlds[r.IntN(len(tlds))]
	}
	out := make([]string, n)
	for i := range out {
		d := domain()
		switch k := r.IntN(100); {
		case k < 55:
			out[i] = d
		case k < 75:
			out[i] = "*." + d
		case k < 83:
			out[i] = "*" + d
		case k < 89:
			out[i] = d + "*"
		case k < 95:
			out[i] = d + "/" + label() + "/*"
		case k < 98:
			out[i] = label() + ".*." + d
		default:
			out[i] = "*." + label() + "." + d + "*"
		}
	}
	return out
}

// lookupNames mixes names the Windows catalog documents, names derived from
// its wildcards, names it does not know, and names in the synthetic set's
// style.
func lookupNames() []string {
	names := []string{
		"tlu.dl.delivery.mp.microsoft.com", "watson.telemetry.microsoft.com", "v10.events.data.microsoft.com",
		"settings-win.data.microsoft.com", "www.bing.com", "ctldl.windowsupdate.com", "arc.msn.com",
		"login.live.com", "displaycatalog.mp.microsoft.com", "a1234.dscd.akamai.net", "client.wns.windows.com",
		"Inference.Location.Live.NET.", "www.google.com", "example.org", "a.b.c.d.e.f.example.org",
		"fe3cr.delivery.mp.microsoft.com", "img-prod-cms-rt-microsoft-com.akamaized.net", "edge.microsoft.com",
	}
	for _, p := range synthetic(32) {
		p = strings.TrimPrefix(strings.TrimPrefix(p, "*"), ".")
		p, _, _ = strings.Cut(p, "/")
		names = append(names, strings.ReplaceAll(strings.TrimSuffix(p, "*"), "*", "x"))
	}
	return names
}

func BenchmarkMatch(b *testing.B) {
	win := windowsPatterns(b)
	sets := []struct {
		name     string
		patterns []string
	}{
		{"windows_catalog", win},
		{"synthetic_100k", append(synthetic(100_000), win...)},
	}
	names := lookupNames()
	for _, s := range sets {
		m, err := match.Compile(s.patterns)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			// cpu-ns/op: thread CPU time, steadier than ns/op on a loaded box.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu0, ok := threadCPU()
			dst := make([]int, 0, 64)
			i := 0
			for b.Loop() {
				dst = m.Match(names[i], "", dst[:0])
				i++
				if i == len(names) {
					i = 0
				}
			}
			if cpu1, ok1 := threadCPU(); ok && ok1 {
				b.ReportMetric(float64(cpu1-cpu0)/float64(b.N), "cpu-ns/op")
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	pats := append(synthetic(100_000), windowsPatterns(b)...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := match.Compile(pats); err != nil {
			b.Fatal(err)
		}
	}
}

func TestWindowsCatalogMatches(t *testing.T) {
	patterns := windowsPatterns(t)
	m, err := match.Compile(patterns)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"tlu.dl.delivery.mp.microsoft.com", "watson.telemetry.microsoft.com", "bigcatalog.displaycatalog.mp.microsoft.com"} {
		got := m.Match(name, "", nil)
		if len(got) == 0 {
			t.Errorf("Match(%q) = none; want some", name)
		}
		var pats []string
		for _, id := range got {
			pats = append(pats, patterns[id])
		}
		t.Logf("%s: %s", name, strings.Join(pats, " "))
	}
}
