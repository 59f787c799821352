#!/usr/bin/env bash
# Makes the captures of testdata/compare/ (the golden tests of `phonehome
# compare`) from the sample testdata/sample/idle-1909.pcapng, which it reads
# and never changes:
#
#   sudo testdata/gen/make-compare-fixtures.sh
#
#   removed.pcapng.gz        the sample without the TCP flows of
#                            licensing.mp.microsoft.com (40.91.76.224:443)
#   new-undocumented.pcapng.gz the sample plus openssl s_client with SNI
#                            telemetry.example-vendor.test (185.12.64.73:443)
#                            and its DNS lookups
#   tls-to-http.pcapng.gz    the sample with arc.msn.com's TLS flow
#                            (20.223.35.26:443) replaced by a curl http://
#                            request to arc.msn.com (20.223.35.26:80) and its
#                            DNS lookups
#
# Frames are removed with tcpdump (which picks their numbers by an address and
# port filter) and editcap (which deletes those numbers, keeping the sample's
# pcapng blocks); new traffic comes from real clients run by `gen drive
# compare` in a throw-away network namespace, exactly as make-fixtures.sh makes
# the sample, rewritten by `gen build -compare`, and is merged by time with
# mergecap. Needs root (ip netns, tcpdump) and Go; installs tcpdump, curl,
# openssl, dnsutils, iproute2 and wireshark-common (editcap, mergecap) with
# apt-get when missing. No traffic leaves the namespace. TLS randoms, DNS IDs
# and ports, TCP sequence numbers and sub-millisecond timing differ between
# runs; addresses, ports, names and step times do not.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
testdata=$(dirname "$here")
sample=$testdata/sample/idle-1909.pcapng
out=$testdata/compare
ns=phcmp

[ "$(id -u)" = 0 ] || { echo "make-compare-fixtures.sh: needs root" >&2; exit 1; }
[ -f "$sample" ] || { echo "make-compare-fixtures.sh: no sample at $sample" >&2; exit 1; }

missing=()
for t in tcpdump:tcpdump dig:dnsutils curl:curl openssl:openssl ip:iproute2 editcap:wireshark-common mergecap:wireshark-common capinfos:wireshark-common; do
	command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(printf '%s\n' "${missing[@]}" | sort -u)
fi

work=$(mktemp -d)
pids=()
made_netns_dir=0
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "/etc/netns/$ns"
	[ "$made_netns_dir" = 1 ] && rmdir /etc/netns 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "== build the generator"
(cd "$here" && GOWORK=off GOFLAGS= go build -o "$work/gen" .)
gen=$work/gen

echo "== namespace $ns"
ip netns del "$ns" 2>/dev/null || true
ip netns add "$ns"
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up
in_ns ip link set lo mtu 1500
in_ns ip link set lo gso_max_segs 1
[ -d /etc/netns ] || made_netns_dir=1
mkdir -p "/etc/netns/$ns"
echo "nameserver 127.0.0.53" > "/etc/netns/$ns/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "/etc/netns/$ns/hosts"

echo "== servers"
ip netns exec "$ns" "$gen" serve > "$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	in_ns dig +time=1 +tries=1 @127.0.0.53 www.bing.com >/dev/null 2>&1 && break
	sleep 0.2
done

echo "== compare scenario"
# not through in_ns: $! must be tcpdump itself so that SIGINT reaches it
ip netns exec "$ns" tcpdump -i lo -U -s 0 -w "$work/compare.pcap" >"$work/tcpdump.log" 2>&1 &
tcpdump_pid=$!
pids+=($tcpdump_pid)
sleep 1.5
in_ns "$gen" drive compare
sleep 1
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true

echo "== rewrite"
"$gen" build -compare "$work/compare.pcap" -compare-out "$work"

# without FILTER IN OUT: IN less the frames tcpdump matches with FILTER.
# tcpdump --number counts the frames that pass the filter, so the numbers of
# the whole file are found by matching each filtered line (time to the
# microsecond and the decoded packet) against the lines of the whole file.
without() {
	local nums want
	tcpdump -nn -tt -r "$2" "$1" 2>/dev/null > "$work/match.txt"
	want=$(wc -l < "$work/match.txt")
	[ "$want" -gt 0 ] || { echo "make-compare-fixtures.sh: no frame matches '$1'" >&2; exit 1; }
	nums=$(tcpdump -nn -tt --number -r "$2" 2>/dev/null | awk 'NR == FNR { m[$0]; next } { n = $1; sub(/^ *[0-9]+  /, ""); if ($0 in m) print n }' "$work/match.txt" -)
	[ "$(echo "$nums" | wc -l)" = "$want" ] || { echo "make-compare-fixtures.sh: '$1': $want frames match, $(echo "$nums" | wc -l) found by number" >&2; exit 1; }
	echo "   removing $want frames matching '$1'"
	# shellcheck disable=SC2086 # one frame number per word
	editcap "$2" "$3" $nums
	[ "$(tcpdump -nn -r "$3" "$1" 2>/dev/null | wc -l)" = 0 ] || { echo "make-compare-fixtures.sh: '$1' still matches in $3" >&2; exit 1; }
}

mkdir -p "$work/out" "$out"
echo "== removed: licensing.mp.microsoft.com's flows out, its DNS answers kept"
without 'tcp and host 40.91.76.224 and port 443' "$sample" "$work/out/removed.pcapng"

echo "== new-undocumented: telemetry.example-vendor.test over TLS, with DNS"
mergecap -w "$work/out/new-undocumented.pcapng" "$sample" "$work/cmp-new-undocumented.pcapng"

echo "== tls-to-http: arc.msn.com over HTTP instead of TLS"
without 'tcp and host 20.223.35.26 and port 443' "$sample" "$work/no-arc-tls.pcapng"
mergecap -w "$work/out/tls-to-http.pcapng" "$work/no-arc-tls.pcapng" "$work/cmp-arc-http.pcapng"

echo "== verify"
"$gen" verify "$work"/out/*.pcapng
for f in "$work"/out/*.pcapng; do
	tcpdump -nn -r "$f" >/dev/null 2>"$work/tcpdump-read.log" || { cat "$work/tcpdump-read.log"; exit 1; }
	# one interface, as in the sample: mergecap merged the identical IDBs
	n=$(capinfos -I "$f" | grep -c 'Interface #') || true
	[ "$n" = 1 ] || { echo "make-compare-fixtures.sh: $f has $n interfaces" >&2; exit 1; }
	# each is about as big as the sample (~200 KB): gzip -9n, the same bytes for the same input
	gzip -9n < "$f" > "$out/$(basename "$f").gz"
done
ls -l "$out"
echo "== done"
