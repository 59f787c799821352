#!/usr/bin/env bash
# Makes testdata/tunnels: the captures of encapsulated and 802.11 traffic and
# TRUTH.tsv, what tshark reads in each of their frames.
#
#   sudo testdata/gen/make-tunnel-fixtures.sh    capture, rewrap, truth
#   testdata/gen/make-tunnel-fixtures.sh rewrap  rewrap and truth only
#
# Capture (root): real clients (dig, curl, openssl s_client) in one network
# namespace talk to real servers (a DNS responder and an HTTP server from
# `gen tunnel-serve`, openssl s_server) in another, through a real Linux
# VXLAN tunnel over a veth pair, captured with tcpdump on the underlay: what
# a capture host receives from a VXLAN mirror (vxlan*.pcap). Only VXLAN is
# made so: this machine's kernel has no gre, gretap, erspan, geneve, ipip,
# sit or ip6tnl link type ("ip link add ... type gre": "Unknown device
# type").
#
# Rewrap (no root): `gen tunnel-rewrap all` takes the Ethernet frames out of
# vxlan.pcap and puts them in every other encapsulation Decode takes off
# (GRE with and without options, gretap, GRE in GRE, GRE in UDP, ERSPAN I,
# II, III, Geneve, GTP-U, IP in IP, 6in4, 4in6, 6in6, one nested past the
# depth bound), in PPTP's GRE version 1, which Decode leaves on, and in
# 802.11 behind radiotap and PPI (see testdata/tunnels/README.md). Its
# output depends on vxlan.pcap alone: rerun on the committed vxlan.pcap, it
# writes the same bytes; a new capture changes them all.
#
# Truth: tshark's innermost packet per frame, by tunnel_truth.py.
#
# Needs Go and tshark; the capture also root, tcpdump, dig, curl, openssl
# and iproute2. Installs the missing ones with apt-get (as root). No traffic
# leaves the two namespaces it creates; the public addresses below exist
# only inside them.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$(dirname "$here")/tunnels
vm=phtun-vm
gw=phtun-gw

mode=${1:-all}
case "$mode" in
all | rewrap) ;;
*) echo "usage: make-tunnel-fixtures.sh [rewrap]" >&2; exit 2 ;;
esac
[ "$mode" = rewrap ] || [ "$(id -u)" = 0 ] || { echo "make-tunnel-fixtures.sh: capturing needs root (or: make-tunnel-fixtures.sh rewrap)" >&2; exit 1; }

tools=(tshark:tshark)
[ "$mode" = rewrap ] || tools+=(tcpdump:tcpdump dig:dnsutils curl:curl openssl:openssl ip:iproute2)
missing=()
for t in "${tools[@]}"; do
	command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
	[ "$(id -u)" = 0 ] || { echo "make-tunnel-fixtures.sh: missing ${missing[*]}" >&2; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

work=$(mktemp -d)
pids=()
made_netns_dir=0
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del "$vm" 2>/dev/null || true
	ip netns del "$gw" 2>/dev/null || true
	rm -rf "/etc/netns/$vm"
	[ "$made_netns_dir" = 1 ] && rmdir /etc/netns 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "== build the generator"
(cd "$here" && GOWORK=off GOFLAGS= go build -o "$work/gen" .)

in_vm() { ip netns exec "$vm" "$@"; }
in_gw() { ip netns exec "$gw" "$@"; }

# network UNDERLAY_MTU TUNNEL_MTU [PORT]: the VM side (192.168.56.10, the VM's MAC)
# and the gateway side (192.168.56.1, also the servers' public addresses on
# its lo) of VXLAN 42 over veth 10.99.0.1 <-> 10.99.0.2, to UDP port PORT
# (4789; "linux": no dstport given, the kernel's default 8472). The VXLAN devices
# are not bound to the veth (no "dev"): Linux caps a bound one's MTU at the
# veth's less 50, and the second capture needs a tunnel MTU over it.
network() {
	ip netns del "$vm" 2>/dev/null || true
	ip netns del "$gw" 2>/dev/null || true
	ip netns add "$vm"
	ip netns add "$gw"
	for ns in "$vm" "$gw"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
		ip netns exec "$ns" ip link set lo up
	done
	ip link add veth-vm netns "$vm" type veth peer name veth-gw netns "$gw"
	in_vm ip link set veth-vm address 02:99:00:00:00:01 mtu "$1" up
	in_gw ip link set veth-gw address 02:99:00:00:00:02 mtu "$1" up
	in_vm ip addr add 10.99.0.1/24 dev veth-vm
	in_gw ip addr add 10.99.0.2/24 dev veth-gw
	local port="dstport 4789"
	[ "${3:-}" = linux ] && port=""
	in_vm ip link add vxlan0 type vxlan id 42 $port local 10.99.0.1 remote 10.99.0.2
	in_gw ip link add vxlan0 type vxlan id 42 $port local 10.99.0.2 remote 10.99.0.1
	in_vm ip link set vxlan0 address 08:00:27:5e:1c:3a mtu "$2" up
	in_gw ip link set vxlan0 address 0a:00:27:00:00:00 mtu "$2" up
	# no GSO super-packets: the capture sees wire-sized frames
	for d in veth-vm vxlan0; do in_vm ip link set "$d" gso_max_segs 1; done
	for d in veth-gw vxlan0; do in_gw ip link set "$d" gso_max_segs 1; done
	in_vm ip addr add 192.168.56.10/24 dev vxlan0
	in_gw ip addr add 192.168.56.1/24 dev vxlan0
	in_vm ip route add default via 192.168.56.1
	for a in 20.72.205.209 23.56.3.67 20.54.24.148; do in_gw ip addr add "$a/32" dev lo; done
	in_vm ip -d link show vxlan0 | sed -n '3p'
}

servers() {
	ip netns exec "$gw" "$work/gen" tunnel-serve -dns 192.168.56.1:53 -http 23.56.3.67:80 >"$work/serve.log" 2>&1 &
	pids+=($!)
	ip netns exec "$gw" openssl s_server -quiet -www -accept 20.72.205.209:443 -cert "$work/cert.pem" -key "$work/key.pem" \
		>"$work/s_server.log" 2>&1 </dev/null &
	pids+=($!)
	for _ in $(seq 50); do
		in_vm dig +time=1 +tries=1 @192.168.56.1 slscr.update.microsoft.com >/dev/null 2>&1 && break
		sleep 0.2
	done
}

capture_start() { # file
	ip netns exec "$vm" tcpdump -i veth-vm -U -s 0 -w "$1" >"$work/tcpdump.log" 2>&1 &
	cap=$!
	pids+=($cap)
	sleep 1.5
}
capture_stop() {
	sleep 1
	kill -INT "$cap"
	wait "$cap" || true
}

# capture makes vxlan.pcap, vxlan-outer-fragments.pcap and vxlan-linux-port.pcap.
capture() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=slscr.update.microsoft.com -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
	[ -d /etc/netns ] || made_netns_dir=1
	mkdir -p "/etc/netns/$vm"
	echo "nameserver 192.168.56.1" >"/etc/netns/$vm/resolv.conf"
	mkdir -p "$out"

	echo "== vxlan.pcap: underlay MTU 1500, tunnel MTU 1450"
	network 1500 1450
	servers
	capture_start "$work/vxlan.pcap"
	in_vm dig +notcp +bufsize=1232 settings-win.data.microsoft.com A >/dev/null
	in_vm sh -c 'echo | openssl s_client -connect slscr.update.microsoft.com:443 -servername slscr.update.microsoft.com' >/dev/null 2>&1
	in_vm curl -s -o /dev/null http://ctldl.windowsupdate.com/msdownload/update/v3/static/trustedr/en/authrootstl.cab
	# a 2 KB answer: the gateway fragments it inside the tunnel (MTU 1450)
	in_vm dig +notcp +bufsize=4096 download.windowsupdate.com A >/dev/null
	capture_stop
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()

	echo "== vxlan-outer-fragments.pcap: underlay MTU 1400, tunnel MTU 1500"
	network 1400 1500
	servers
	capture_start "$work/vxlan-outer-fragments.pcap"
	# a 1.4 KB answer, whole inside the tunnel, fragmented outside it
	in_vm dig +notcp +bufsize=4096 tlu.dl.delivery.mp.microsoft.com A >/dev/null
	# 3000 bytes back in full-size segments, each fragmented outside the tunnel
	in_vm curl -s -o /dev/null http://ctldl.windowsupdate.com/msdownload/update/v3/static/trustedr/en/disallowedcertstl.cab
	capture_stop
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()

	echo "== vxlan-linux-port.pcap: no dstport given, so Linux's default UDP port 8472"
	network 1500 1450 linux
	servers
	capture_start "$work/vxlan-linux-port.pcap"
	in_vm curl -s -o /dev/null http://ctldl.windowsupdate.com/msdownload/update/v3/static/trustedr/en/pinrulesstl.cab
	capture_stop

	cp "$work/vxlan.pcap" "$work/vxlan-outer-fragments.pcap" "$work/vxlan-linux-port.pcap" "$out/"
}

[ "$mode" = rewrap ] || capture

echo "== the other encapsulations and 802.11: vxlan.pcap's frames rewrapped (no kernel here makes them)"
"$work/gen" tunnel-rewrap all "$out/vxlan.pcap" "$out"

echo "== TRUTH.tsv (tshark, IP reassembly off: one line per frame, as captured; UDP 8472 read as VXLAN)"
{
	printf 'file\tframe\tprotocols\tip_version\tsrc\tdst\ttransport\tsport\tdport\n'
	for f in "$out"/*.pcap; do
		tshark -r "$f" -o ip.defragment:FALSE -o ipv6.defragment:FALSE -d udp.port==8472,vxlan -T fields -E separator=/t -E occurrence=a -E aggregator=, \
			-e frame.number -e frame.protocols -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst \
			-e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport 2>/dev/null |
			python3 "$here/tunnel_truth.py" "$(basename "$f")"
	done
} >"$out/TRUTH.tsv"
ls -l "$out"
echo "== done"
