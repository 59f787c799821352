#!/usr/bin/env bash
# Splits the sample (testdata/sample/idle-1909.pcapng) in two with tcpdump
# filters, as a DNS-only capture beside a capture of the rest, and records
# the order in which mergecap merges them back, for TestMergeAsMergecap.
# Tools: tcpdump, mergecap and tshark (wireshark-common, tshark), zstd.
# Run from anywhere; the files are rewritten in place.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sample=$here/../../../testdata/sample/idle-1909.pcapng
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$here"

tcpdump -q -r "$sample" -w dns.pcap 'udp port 53' 2>/dev/null
tcpdump -q -r "$sample" -w "$tmp/rest.pcap" 'not udp port 53' 2>/dev/null
# The rest is 161 kB, mostly TLS: committed compressed (97 kB).
zstd -q -19 -f -c "$tmp/rest.pcap" > rest.pcap.zst
# -I none keeps one interface per input file: frame.interface_id then says
# which file each merged frame came from (0: dns.pcap, 1: rest).
mergecap -I none -w "$tmp/merged.pcapng" dns.pcap "$tmp/rest.pcap"
tshark -r "$tmp/merged.pcapng" -T fields -e frame.interface_id > mergecap-order.txt 2>/dev/null
