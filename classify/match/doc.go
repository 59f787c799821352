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
// Names and patterns are compared ASCII case-insensitively. Paths too, on
// purpose: the pages mix cases ("?Language=en-US",
// "/v3/Delivery/Placement") where clients may not, and a page author writing
// a path meant the resource, not its spelling. The caller passes a path as
// sent (classify keeps paths byte for byte, since paths are case-sensitive),
// so the folding happens here and only for matching. One trailing dot is
// ignored on names and on pattern hosts, not on paths. Names longer than 253 bytes (after the trailing
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
//   - a node of the suffix trie: a label-aligned suffix, keyed by its
//     parent's key stepped by its label, one multiply per 8 bytes
//     ("microsoft.com" below "com"). Exact hosts, "*.s" and "a.*.s" hang on
//     the node of s;
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
// A suffix node also carries what its own labels decide for the names below
// it: the tails of its parent that its first label ends with, and the inner
// labels and windows inside it, checked against its suffix at Compile
// ("*msedge.net*" is not on "akamaiedge.net", where "ge.ne" is but
// "msedge.net" is not). And for each suffix node Compile works out, with the
// lookup itself, the answer for a name equal to its suffix, and files it
// under a key of the whole name.
//
// Match lowers the name into a buffer eight bytes at a time (SWAR), noting
// its dots in a bitmap and keying the whole name as it goes. One probe then
// answers a name that is a node's suffix, most names a catalog documents,
// with a copy. Other names walk the suffix trie from the right, a multiply
// and a probe per label, to the deepest node they have; take the patterns
// of that node and its ancestors; then probe the tails below that node, the
// inner labels and windows left of it, the prefix trie, and try the
// patterns without anchor, each behind a cheap filter (a byte of the label,
// its length and first byte, the bytes around a dot, a 16-bit-per-key
// filter of the table). A hit counts only if the record's kind, parent and
// label bytes agree, so hash collisions cost time, never correctness. A
// pattern its anchor does not prove runs its glob, after a look at the
// name's first word and at its labels' first and last two bytes
// (".smartscreen" needs a label starting "sm"). Results are sorted by a
// rank computed at Compile; stored answers are sorted already. Match
// allocates nothing when dst has room (TestMatchAllocs).
//
// BenchmarkMatch (bench_test.go) measures the 477 distinct patterns of all
// builds, and 100 000 synthetic patterns plus those, over the same 50 names
// (real Windows names, misses, synthetic-style names; 14 and 38 of them
// have a stored answer). On 2026-11-29, on a shared 2-vCPU VM ("Oxide
// Virtual Turin-like Processor"), ten interleaved runs against the previous
// matcher (the same tries, tails, inner labels and windows probed label by
// label, no stored answers) gave medians of 47 against 116 cpu-ns/op (thread CPU time) for
// the Windows set and 41 against 155 for 100k, 0 allocs/op; in the runs
// that shared the CPU with the machine's other load, both took 1.75 times
// as long. Instructions per lookup, counted with callgrind: 1 032 against
// 2 417 (Windows), 876 against 3 004 (100k). A name with a stored answer
// takes about 25 ns, one without about 50: of its 1 000 or so
// instructions, a fifth lowers the name, a fifth walks the suffix trie, and
// the rest looks left of the deepest node. Compile is slower: for 100k
// patterns 1.13 s against 0.63 s (medians of 3 interleaved runs), 182 MB
// allocated against 104.
//
// A Matcher is immutable after Compile and safe for concurrent use.
package match
