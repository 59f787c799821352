package match

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		host     string
		path     string
		want     []int
	}{
		{"exact", []string{"arc.msn.com"}, "arc.msn.com", "", []int{0}},
		{"exact_other_name", []string{"arc.msn.com"}, "x.arc.msn.com", "", nil},
		{"exact_upper_case_name", []string{"inference.location.live.net"}, "Inference.Location.LIVE.net", "", []int{0}},
		{"exact_upper_case_pattern", []string{"Inference.location.live.net"}, "inference.location.live.net", "", []int{0}},
		{"exact_trailing_dot_name", []string{"arc.msn.com"}, "arc.msn.com.", "", []int{0}},
		{"exact_trailing_dot_pattern", []string{"arc.msn.com."}, "arc.msn.com", "", []int{0}},
		{"exact_two_trailing_dots", []string{"arc.msn.com"}, "arc.msn.com..", "", nil},
		{"star_dot_subdomain", []string{"*.wns.windows.com"}, "client.wns.windows.com", "", []int{0}},
		{"star_dot_deep_subdomain", []string{"*.wns.windows.com"}, "a.b.wns.windows.com", "", []int{0}},
		{"star_dot_not_bare_suffix", []string{"*.wns.windows.com"}, "wns.windows.com", "", nil},
		{"star_dot_not_label_suffix", []string{"*.wns.windows.com"}, "xwns.windows.com", "", nil},
		{"star_suffix_bare", []string{"*dl.delivery.mp.microsoft.com"}, "dl.delivery.mp.microsoft.com", "", []int{0}},
		{"star_suffix_subdomain", []string{"*dl.delivery.mp.microsoft.com"}, "tlu.dl.delivery.mp.microsoft.com", "", []int{0}},
		{"star_suffix_cuts_label", []string{"*dl.delivery.mp.microsoft.com"}, "xdl.delivery.mp.microsoft.com", "", []int{0}},
		{"star_suffix_other_label", []string{"*dl.delivery.mp.microsoft.com"}, "dlx.delivery.mp.microsoft.com", "", nil},
		{"star_suffix_no_dot", []string{"*soft"}, "microsoft", "", []int{0}},
		{"prefix_star_bare", []string{"watson.telemetry.microsoft.com*"}, "watson.telemetry.microsoft.com", "", []int{0}},
		{"prefix_star_longer_label", []string{"www.bing.com*"}, "www.bing.comx", "", []int{0}},
		{"prefix_star_evil_suffix", []string{"www.bing.com*"}, "www.bing.com.evil.net", "", []int{0}},
		{"prefix_star_not_subdomain", []string{"www.bing.com*"}, "x.www.bing.com", "", nil},
		{"prefix_star_no_dot", []string{"www*"}, "wwwx.example", "", []int{0}},
		{"star_both_ends", []string{"*.aria.microsoft.com*"}, "browser.pipe.aria.microsoft.com", "", []int{0}},
		{"star_both_ends_longer", []string{"*.aria.microsoft.com*"}, "x.aria.microsoft.com.akadns.net", "", []int{0}},
		{"star_both_ends_needs_dot", []string{"*.aria.microsoft.com*"}, "aria.microsoft.com", "", nil},
		{"star_both_ends_label_twice", []string{"*.aria.microsoft.com*"}, "a.aria.x.aria.microsoft.com", "", []int{0}},
		{"inner_star", []string{"watson.*.microsoft.com"}, "watson.telemetry.microsoft.com", "", []int{0}},
		{"inner_star_crosses_dots", []string{"watson.*.microsoft.com"}, "watson.a.b.microsoft.com", "", []int{0}},
		{"inner_star_needs_both_dots", []string{"watson.*.microsoft.com"}, "watson.microsoft.com", "", nil},
		{"two_inner_stars", []string{"*.b.akamai*.net"}, "a1.b.akamai-edge.net", "", []int{0}},
		{"star_only", []string{"*"}, "anything.example", "", []int{0}},
		{"path_no_path_known", []string{"ctldl.windowsupdate.com/*"}, "ctldl.windowsupdate.com", "", []int{0}},
		{"path_any", []string{"ctldl.windowsupdate.com/*"}, "ctldl.windowsupdate.com", "/msdownload/x.cab", []int{0}},
		{"path_prefix", []string{"v10.events.data.microsoft.com/onecollector/1.0/"}, "v10.events.data.microsoft.com", "/OneCollector/1.0/t", []int{0}},
		{"path_prefix_mismatch", []string{"v10.events.data.microsoft.com/onecollector/1.0/"}, "v10.events.data.microsoft.com", "/ping", nil},
		{"path_pattern_host_mismatch", []string{"v10.events.data.microsoft.com/onecollector/1.0/"}, "v20.events.data.microsoft.com", "", nil},
		{"path_query", []string{"cdn.onenote.net/livetile/?Language=en-US"}, "cdn.onenote.net", "/livetile/?language=en-us&x=1", []int{0}},
		// classify keeps paths as sent; the pages write paths in either case, so the case is folded here.
		{"path_mixed_case_both_sides", []string{"arc.msn.com/v3/Delivery/Placement"}, "arc.msn.com", "/V3/delivery/PLACEMENT?lang=en", []int{0}},
		{"path_trailing_dot_kept", []string{"a.com/f.cab"}, "a.com", "/f.cab.", []int{0}},
		{"path_dot_not_dropped_from_pattern", []string{"a.com/f.cab."}, "a.com", "/f.cab", nil},
		{"path_inner_star", []string{"a.com/x/*/y"}, "a.com", "/x/1/2/y", []int{0}},
		{"path_inner_star_mismatch", []string{"a.com/x/*/y"}, "a.com", "/x/1/2/z", nil},
		{"path_star_host_and_path", []string{"*displaycatalog.mp.microsoft.com/*"}, "bigcatalog.displaycatalog.mp.microsoft.com", "/v7.0/products", []int{0}},
		{"host_pattern_any_path", []string{"arc.msn.com"}, "arc.msn.com", "/anything", []int{0}},
		{"empty_name", []string{"*"}, "", "", nil},
		{"dot_name", []string{"*"}, ".", "", nil},
		{"name_too_long", []string{"*"}, strings.Repeat("a", 254), "", nil},
		{"name_max_len", []string{"*"}, strings.Repeat("a", 253) + ".", "", []int{0}},
		{"many_dots_prefix", []string{"a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a*"}, strings.Repeat("a.", 30) + "com", "", []int{0}},
		{"specific_first", []string{"*.microsoft.com", "watson.telemetry.microsoft.com*", "watson.telemetry.microsoft.com", "*microsoft.com", "watson.*.microsoft.com", "watson.telemetry.microsoft.com/telemetry.request"},
			"watson.telemetry.microsoft.com", "", []int{5, 2, 1, 4, 0, 3}},
		{"specific_first_with_path", []string{"v10.events.data.microsoft.com", "v10.events.data.microsoft.com/onecollector/1.0/"},
			"v10.events.data.microsoft.com", "/onecollector/1.0/x", []int{1, 0}},
		// From testdata/fuzz/FuzzMatchDifferential/4abc34098bd59026: the upper
		// case left of the anchor must be known before verifying it.
		{"upper_case_left_of_suffix_anchor", []string{"*A0*.net"}, "A0.net", "0", []int{0}},
		{"duplicate_patterns", []string{"a.com", "a.com"}, "a.com", "", []int{0, 1}},
		// Paths through the index: each anchor kind, and names read in words.
		{"tail_one_byte", []string{"*g.akamaiedge.net"}, "e2g.akamaiedge.net", "", []int{0}},
		{"tail_one_byte_other", []string{"*g.akamaiedge.net"}, "e2h.akamaiedge.net", "", nil},
		{"tail_longer_than_label", []string{"*xdl.delivery.mp.microsoft.com"}, "dl.delivery.mp.microsoft.com", "", nil},
		{"head_after_prefix_node_upper_case", []string{"www.bing.com*"}, "WWW.BING.COMX", "", []int{0}},
		{"prefix_node_needs_dot", []string{"wdcp.microsoft.*"}, "wdcp.microsoft", "", nil},
		{"prefix_node", []string{"wdcp.microsoft.*"}, "wdcp.microsoft.x", "", []int{0}},
		{"window_anchor", []string{"*msedge.net*"}, "a-msedge.network.example", "", []int{0}},
		{"window_anchor_twice", []string{"*ge.ne*"}, "ge.ne.ge.ne", "", []int{0}},
		{"inner_label_mid_not_aligned", []string{"*photos.microsoft.com*"}, "x.microsoft.com.photos", "", nil},
		{"three_segments_anchor_in_middle", []string{"a*.b.*c"}, "ab.b.b.c", "", []int{0}},
		{"three_segments_middle_overlaps_end", []string{"a*.b.*.b"}, "a.b.b", "", nil},
		{"label_over_16_bytes", []string{"*.abcdefghijklmnopqrstuvwxyz.com"}, "x.ABCDEFGHIJKLMNOPQRSTUVWXYZ.com", "", []int{0}},
		{"label_over_16_bytes_one_off", []string{"*.abcdefghijklmnopqrstuvwxyz.com"}, "x.abcdefghijklmnopqrstuvwxyy.com", "", nil},
		{"label_9_bytes_at_end", []string{"abcdefghi"}, "ABCDEFGHI", "", []int{0}},
		{"name_over_64_bytes", []string{"*.c.d"}, strings.Repeat("ab.", 30) + "c.d", "", []int{0}},
		{"dots_in_second_bitmap_word", []string{"*.x.*.y.z"}, strings.Repeat("a", 70) + ".x.b.y.z", "", []int{0}},
		{"empty_labels", []string{"a..b", "*..b"}, "a..b", "", []int{0, 1}},
		{"rest_needs_long_label", []string{"*img-prod-cms-rt-microsoft-com*"}, "img-prod-cms.rt-microsoft-com", "", nil},
		{"rest_long_label", []string{"*img-prod-cms-rt-microsoft-com*"}, "x.img-prod-cms-rt-microsoft-com.net", "", []int{0}},
		// Answers stored for names that are a node's suffix, and what a
		// node decides for the names below it.
		{"whole_name_path_filtered", []string{"a.com/x", "a.com"}, "A.com", "/y", []int{1}},
		{"whole_name_path_kept", []string{"a.com/x", "a.com"}, "a.com", "/X1", []int{0, 1}},
		{"whole_name_too_many_to_store", append([]string{"com"}, slices.Repeat([]string{"*com"}, 33)...), "com", "",
			[]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33}},
		{"window_in_node_elsewhere", []string{"*.akamaiedge.net", "*msedge.net*"}, "x.akamaiedge.net", "", []int{0}},
		{"window_left_of_node", []string{"*.akamaiedge.net", "*msedge.net*"}, "x.a-msedge.net", "", []int{1}},
		{"window_in_node", []string{"*.a-msedge.net", "*msedge.net*"}, "x.a-msedge.net", "", []int{0, 1}},
		{"inner_label_in_node", []string{"*.pipe.aria.microsoft.com", "*.aria.microsoft.com*"}, "x.aria.microsoft.com", "", []int{1}},
		{"inner_label_node_needs_dot", []string{"*.pipe.aria.microsoft.com", "*.aria.microsoft.com*"}, "aria.microsoft.com", "", nil},
		{"tail_resolved_in_node", []string{"*dl.delivery.mp.microsoft.com", "*.tlu.dl.delivery.mp.microsoft.com"}, "x.tlu.dl.delivery.mp.microsoft.com", "", []int{1, 0}},
		{"label_edges_filter", []string{"*.smartscreen*.microsoft.com"}, "a.smartscreen-prod.microsoft.com", "", []int{0}},
		{"label_edges_filter_miss", []string{"*.smartscreen*.microsoft.com"}, "a.xsmartscreen.microsoft.com", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Compile(tt.patterns)
			if err != nil {
				t.Fatalf("Compile(%q) = %v", tt.patterns, err)
			}
			got := m.Match(tt.host, tt.path, nil)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Match(%q, %q) = %v; want %v", tt.host, tt.path, got, tt.want)
			}
			if ref := newReference(tt.patterns).match(tt.host, tt.path); !slices.Equal(ref, tt.want) {
				t.Errorf("reference(%q, %q) = %v; want %v", tt.host, tt.path, ref, tt.want)
			}
		})
	}
}

func TestMatchAppends(t *testing.T) {
	m, err := Compile([]string{"*.b.c", "a.b.c"})
	if err != nil {
		t.Fatal(err)
	}
	got := m.Match("a.b.c", "", []int{7})
	if want := []int{7, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("Match(a.b.c) onto [7] = %v; want %v", got, want)
	}
}

func TestZeroMatcher(t *testing.T) {
	var m Matcher
	if got := m.Match("a.b", "", nil); got != nil {
		t.Errorf("zero Matcher.Match = %v; want nil", got)
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    string
	}{
		{"empty", "", "empty host"},
		{"path_only", "/x", "empty host"},
		{"markdown_escape_left", `\*displaycatalog.mp.microsoft.com`, `'\\'`},
		{"space_in_host", "a b.com", "' '"},
		{"port", "a.com:443", "':'"},
		{"space_in_path", "a.com/x y", "' '"},
		{"host_too_long", strings.Repeat("a", 254), "longer than 253"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compile([]string{"ok.com", tt.pattern})
			if err == nil {
				t.Fatalf("Compile(%q) = nil error; want one containing %q", tt.pattern, tt.want)
			}
			if !errors.Is(err, ErrPattern) || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "pattern 1 ") {
				t.Errorf("Compile(%q) = %v; want ErrPattern naming pattern 1 and %s", tt.pattern, err, tt.want)
			}
		})
	}
}

var allocPatterns = []string{
	"arc.msn.com", "*.wns.windows.com", "*dl.delivery.mp.microsoft.com", "www.bing.com*",
	"*.aria.microsoft.com*", "watson.*.microsoft.com", "ctldl.windowsupdate.com/*", "*",
	"v10.events.data.microsoft.com/onecollector/1.0/",
}

func TestMatchAllocs(t *testing.T) {
	m, err := Compile(allocPatterns)
	if err != nil {
		t.Fatal(err)
	}
	dst := make([]int, 0, len(allocPatterns))
	for _, name := range []string{"arc.msn.com", "tlu.dl.delivery.mp.microsoft.com", "WWW.Bing.com.", "x.aria.microsoft.com.akadns.net", "watson.telemetry.microsoft.com", strings.Repeat("a.", 100) + "b"} {
		allocs := testing.AllocsPerRun(100, func() {
			dst = m.Match(name, "/onecollector/1.0/x", dst[:0])
		})
		if allocs != 0 {
			t.Errorf("Match(%q) allocates %v times per run; want 0", name, allocs)
		}
	}
}

// FuzzMatchDifferential holds Match against the regexp reference. patterns
// holds up to 8 patterns separated by ','.
func FuzzMatchDifferential(f *testing.F) {
	f.Add("arc.msn.com,*.wns.windows.com,*dl.delivery.mp.microsoft.com", "tlu.dl.delivery.mp.microsoft.com", "")
	f.Add("www.bing.com*,*.aria.microsoft.com*,watson.*.microsoft.com", "WWW.bing.com.aria.microsoft.com.", "/x")
	f.Add("ctldl.windowsupdate.com/*,v10.events.data.microsoft.com/onecollector/1.0/", "v10.events.data.microsoft.com", "/onecollector/1.0/")
	f.Add("*.b.akamai*.net,*.login.msa.*.net,*", "x.b.akamai.login.msa.y.net", "")
	f.Add("a*.,*.,a.*.a.*", "a.a.a.a..", "")
	f.Add("*a.a,a.a*,*.a.*", "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a", "")
	f.Add("*msedge.net*,*.aria.microsoft.com*,*g.akamaiedge.net,www*,*soft", "X.ARIA.microsoft.com.a-msedge.net", "")
	f.Add("*.abcdefghijklmnopq.com,abcdefghijklmnopq.r*,*photos.microsoft.com*", "abcdefghijklmnopq.rs.abcdefghijklmnopq.com", "")
	f.Add("*.b.c,a*.b.*c,*img-prod*", strings.Repeat("img-prod.", 8)+"b.c", "")
	f.Fuzz(func(t *testing.T, patterns, name, path string) {
		ps := strings.Split(patterns, ",")
		if len(ps) > 8 {
			ps = ps[:8]
		}
		m, err := Compile(ps)
		if err != nil {
			return
		}
		got := m.Match(name, path, nil)
		want := newReference(ps).match(name, path)
		if !slices.Equal(got, want) {
			t.Fatalf("patterns %q: Match(%q, %q) = %v; want %v", ps, name, path, got, want)
		}
	})
}

func ExampleMatcher_Match() {
	m, err := Compile([]string{"*.delivery.mp.microsoft.com", "*dl.delivery.mp.microsoft.com", "tlu.dl.delivery.mp.microsoft.com"})
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Match("TLU.dl.delivery.mp.microsoft.com.", "", nil))
	// Output: [2 1 0]
}
