// Package match compiles endpoint patterns, as written on Microsoft's
// "connection endpoints" pages, into a Matcher that looks up host names (and,
// where known, HTTP request paths) without allocating.
//
// # Pattern language
//
// A pattern is HOST or HOST/PATH. HOST is a glob over the whole host name in
// which '*' stands for any run of characters, dots included, possibly empty.
// The pages use these forms; all are the same glob rule, listed here because
// the boundary cases are where readers disagree:
//
//	exact            a.b.c                   a.b.c only
//	*.suffix         *.wns.windows.com       x.wns.windows.com, a.b.wns.windows.com;
//	                                         not wns.windows.com (the bare suffix)
//	*suffix          *dl.delivery.mp.microsoft.com
//	                                         dl.delivery.mp.microsoft.com,
//	                                         tlu.dl.delivery.mp.microsoft.com and also
//	                                         xdl.delivery.mp.microsoft.com: the star
//	                                         crosses label boundaries and may cut a label
//	prefix*          www.bing.com*           www.bing.com, www.bing.com.evil.net,
//	                                         www.bing.comx: a textual prefix; a page
//	                                         author meant "this host and its URLs", but
//	                                         a host name has no URL, so the name-level
//	                                         reading is the literal one
//	*middle*         *.aria.microsoft.com*   any name containing ".aria.microsoft.com"
//	inner star       watson.*.microsoft.com  watson.telemetry.microsoft.com,
//	                                         watson.a.b.microsoft.com
//	                                         (star crosses dots here too)
//
// PATH, when present, starts at the first '/' and is matched as a prefix of the
// request path (origin form, query included): "/onecollector/1.0/" matches
// "/onecollector/1.0/x". A trailing '*' is redundant ("host/*" = "host/" = any
// path starting with '/'); a '*' inside the path is a glob star. When the
// caller knows no path (TLS, QUIC, DNS: path == ""), path patterns match at host
// level, so "ctldl.windowsupdate.com/*" matches a TLS flow to
// ctldl.windowsupdate.com.
//
// Names and patterns are compared ASCII case-insensitively (paths too: the
// pages mix cases such as "?Language=en-US"). One trailing dot is ignored on
// names and on pattern hosts. Names longer than 253 bytes (after the trailing
// dot) never match. Markdown escapes ("\*") must be removed before Compile; a
// backslash in a host is rejected.
//
// # Order of results
//
// Match returns every matching pattern, most specific first: patterns whose
// host has no '*' first, then by decreasing number of literal (non-'*') bytes
// in host and path together, then by pattern index.
//
// # Cost
//
// Compile picks one anchor per pattern, a literal every matching name must
// contain at a known place, and files the pattern under it in one
// open-addressed table of 64-bit keys, each key standing for a record:
//
//   - a node of the suffix trie: a label-aligned suffix, keyed by the hash
//     of its last label and its parent's key ("microsoft.com" below "com").
//     Exact hosts, "*.s" and "a.*.s" hang on the node of s;
//   - a tail list below a suffix node, keyed by the last one or two bytes of
//     the label before it: "*dl.delivery.mp.microsoft.com" is under "dl"
//     below "delivery.mp.microsoft.com", "*soft" under "ft" below the root;
//   - a node of the prefix trie, and head lists below it: "www.bing.com*"
//     is under "co" below "www.bing";
//   - a whole label inside "*...*" patterns, or a window of two bytes, a
//     dot and two bytes ("*msedge.net*" under "ge.ne"): of those a pattern
//     requires, the one fewest catalog patterns contain, a proxy for how
//     many names contain it.
//
// Patterns with none of these ("*", "*img-prod-cms-rt-microsoft-com*": 2 of
// the 477 distinct Windows patterns) are tried on names long enough, with a
// label long enough.
//
// Match reads the name in place, eight bytes at a time (lower-casing them in
// the register), and notes its dots in a bitmap. It then walks the labels
// from the right, following the suffix trie while it has the suffix: one
// hash of at most two words and one probe per label, and a probe for tails
// only below nodes that have some for that byte. Inner labels and windows
// are probed on the way when the catalog has any; then the prefix trie is
// walked from the left. A 16-bit-per-key filter answers most probes that
// miss without touching the table. A hit counts only if the record's kind,
// parent and label bytes agree, so hash collisions cost time, never
// correctness. Most patterns ("*.s", "*t.s", "p.r*", "*mid*") are proved by
// the anchor's own checks; the others run the full glob. Results are sorted
// by a rank computed at Compile. Match allocates nothing when dst has room
// (TestMatchAllocs).
//
// BenchmarkMatch (bench_test.go) measures the 477 distinct patterns of all
// builds, and 100 000 synthetic patterns plus those, over the same 50 names
// (real Windows names, misses, synthetic-style names; 1.28 and 1.78 matches
// per name, 32 and 10 names matching nothing). On a shared 2-vCPU VM
// ("Oxide Virtual Turin-like Processor") at load average 2-8, ten
// interleaved runs against the previous matcher (one hash table per anchor
// kind, glob verification of every candidate) gave medians of 120 against
// 177 cpu-ns/op (thread CPU time; wall ns/op varied by 2x) for the Windows
// set and 159 against 397 for 100k, 0 allocs/op. Instructions per lookup,
// counted with callgrind, which load does not disturb: 2 388 against 3 251
// (Windows), 2 975 against 5 729 (100k). Growth from the Windows set to
// 100k is 1.3x (it was 2.3x); the 50 ns target is not met on that machine:
// the lookup runs about 19 instructions per ns there, and names under
// popular suffixes (microsoft.com: 4-8 matches, several patterns that need
// a glob) take 3 000 to 8 000 instructions. Compile is slower: 0.6 s
// against 0.2 s for 100k patterns, 104 MB allocated against 41.
//
// A Matcher is immutable after Compile and safe for concurrent use.
package match
