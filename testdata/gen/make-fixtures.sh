#!/usr/bin/env bash
# Rebuilds every capture under testdata/ (sample/, fixtures/ and compare/) from real
# clients talking to local servers inside a throw-away network namespace.
#
#   sudo testdata/gen/make-fixtures.sh
#
# Needs root (ip netns, tcpdump) and Go. Installs tcpdump, dnsutils, curl,
# openssl, iproute2 and wireshark-common (editcap) with apt-get when they are
# missing. No traffic leaves
# the namespace: every client talks to 127.0.0.x on the namespace's own lo.
# Timestamps, addresses and TCP ports are fixed, so reruns give the same
# flows; TLS randoms, key shares, DNS IDs/ports and TCP sequence numbers differ.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
testdata=$(dirname "$here")
ns=phfix

[ "$(id -u)" = 0 ] || { echo "make-fixtures.sh: needs root" >&2; exit 1; }

missing=()
for t in tcpdump:tcpdump dig:dnsutils curl:curl openssl:openssl ip:iproute2 tc:iproute2 editcap:wireshark-common; do
	command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
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
in_ns ip link set lo mtu 1500        # a ~1.8 KB ClientHello takes two segments
in_ns ip link set lo gso_max_segs 1  # no GSO super-packets: capture sees wire-sized segments
# netem (reorder/duplicate) would be the natural way to make the out-of-order
# and retransmission fixtures; this kernel has no sch_netem, so the build step
# reorders/duplicates segments of a real capture instead.
if in_ns tc qdisc add dev lo root netem delay 0ms 2>/dev/null; then
	in_ns tc qdisc del dev lo root
	echo "   (netem is available but not needed)"
fi
[ -d /etc/netns ] || made_netns_dir=1
mkdir -p "/etc/netns/$ns"
# ip netns exec bind-mounts these over /etc/resolv.conf and /etc/hosts.
echo "nameserver 127.0.0.53" > "/etc/netns/$ns/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "/etc/netns/$ns/hosts"

echo "== servers"
ip netns exec "$ns" "$gen" serve > "$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	in_ns dig +time=1 +tries=1 @127.0.0.53 www.bing.com >/dev/null 2>&1 && break
	sleep 0.2
done
# The probe query above happens before any capture starts.

captures=()
capture() { # name iface [tcpdump args]
	local name=$1 iface=$2; shift 2
	# not through the in_ns function: $! must be tcpdump itself (ip netns exec
	# execs it) so that SIGINT reaches it
	ip netns exec "$ns" tcpdump -i "$iface" -U -s 0 "$@" -w "$work/$name.pcap" >"$work/$name.tcpdump.log" 2>&1 &
	pids+=($!)
	captures+=($!)
}
stop_captures() {
	for p in "${captures[@]}"; do kill -INT "$p"; done
	for p in "${captures[@]}"; do wait "$p" || true; done
	captures=()
}

echo "== sample scenario (takes ~30 s)"
capture sample lo
sleep 1.5
in_ns "$gen" drive sample
sleep 1
stop_captures

echo "== fixture scenario"
capture fx-eth lo
capture fx-sll any -y LINUX_SLL
capture fx-sll2 any -y LINUX_SLL2
sleep 1.5
in_ns "$gen" drive fixtures
sleep 1
stop_captures

echo "== rewrite"
mkdir -p "$testdata/sample" "$testdata/fixtures"
"$gen" build -sample "$work/sample.pcap" -fixtures "$work/fx-eth.pcap" -sll "$work/fx-sll.pcap" -sll2 "$work/fx-sll2.pcap" -out "$testdata"

echo "== verify"
"$gen" verify "$testdata/sample/idle-1909.pcapng" "$testdata"/fixtures/*.pcap "$testdata"/fixtures/*.pcapng
# tcpdump must read them too (libpcap 1.10 refuses a pcapng whose interfaces
# have different link types, so two-interfaces.pcapng is left out here).
for f in "$testdata/sample/idle-1909.pcapng" "$testdata"/fixtures/*.pcap; do
	tcpdump -nn -r "$f" >/dev/null 2>"$work/tcpdump-read.log" || { cat "$work/tcpdump-read.log"; exit 1; }
done
echo "== cut the sample to short snap lengths"
"$here/snaplen.sh"
echo "== the captures of testdata/compare, from the new sample"
"$here/make-compare-fixtures.sh"
ls -l "$testdata/sample" "$testdata/fixtures"
echo "== done"
