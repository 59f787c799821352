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
// contain at a known place, and files the pattern under its hash in one of
// five open-addressed tables: label-aligned suffixes (exact hosts, "*.s",
// "a.*.s"), a byte plus dot plus suffix ("*dl.delivery.mp.microsoft.com" under
// "l.delivery.mp.microsoft.com"), prefixes through a dot ("www.bing." for
// "www.bing.com*"), whole labels inside "*...*" patterns (the label fewest
// patterns share), and two-bytes-dot-two-bytes windows for "*msedge.net*".
// Patterns with no anchor at all ("*", "*img-prod-cms-rt-microsoft-com*": 2 of
// the 477 distinct Windows patterns) are tried on every lookup.
//
// Match reads the name once from the right, a label at a time, keeping a
// polynomial hash of the suffix; the hash of every anchor candidate (suffix at
// a dot, byte before a dot, label, prefix, window) follows from it with a
// multiply, so a lookup costs one pass over the bytes plus a few table probes
// per label, skipped when no key of that length exists. Candidates are
// verified with the full glob (plain string comparison when the name is lower
// case, folding otherwise), so hash collisions cost time, never correctness.
// Match allocates nothing when dst has room (TestMatchAllocs).
//
// BenchmarkMatch (bench_test.go) measures the 477 distinct patterns of all
// builds, and 100 000 synthetic patterns plus those, over the same 50 names
// (real Windows names, misses, synthetic-style names; 1.3 and 1.8 matches per
// name). On a shared 2-vCPU AMD EPYC VM at load average 10-15 it reported
// 158-244 cpu-ns/op (thread CPU time; wall ns/op was unusable) for the Windows
// set and 540-562 cpu-ns/op for 100k, 0 allocs/op: above the 50 ns target and
// the 2x growth target. Most of the time goes to verifying candidates (4-8
// true matches for names such as watson.telemetry.microsoft.com), and for
// 100k to cache misses in the 4 MB tables and scattered pattern strings.
//
// A Matcher is immutable after Compile and safe for concurrent use.
package match
