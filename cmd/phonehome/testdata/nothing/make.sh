#!/bin/sh
# make.sh cuts, from the sample capture, the captures in which nothing is in
# scope (see README.md in the folder above). It needs tcpdump and editcap
# (Wireshark's); run it from anywhere. The output is the same on every run.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sample="$here/../../../../testdata/sample/idle-1909.pcapng"
cd "$here"
# The sample's IPv6 flow (30 packets) and its ARP exchange (2 frames).
tcpdump -r "$sample" -w ipv6-only.pcap ip6 2>/dev/null
tcpdump -r "$sample" -w arp-only.pcap arp 2>/dev/null
# A filter nothing matches: a pcap header and no record.
tcpdump -r "$sample" -w no-packets.pcap 'host 203.0.113.77' 2>/dev/null
# The sample's first 20 frames relabelled as Linux USB (link type 220), a
# link type phonehome does not decode: what capturing on usbmon0 by mistake
# gives.
editcap -F pcap -r -T usb-linux-mmap "$sample" unsupported-link-type.pcap 1-20
# A file of no bytes at all.
: >empty.pcap
