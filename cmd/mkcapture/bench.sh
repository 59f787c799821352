#!/usr/bin/env bash
# bench.sh: phonehome's benchmarks, run by `make bench` from the repository root.
#
#   1. The Go benchmarks of every package, with -benchmem
#      (go test -run '^$' -bench . -benchmem -count $BENCH_COUNT ./...).
#   2. A whole-process comparison on a synthetic capture of an idle Windows VM
#      made by cmd/mkcapture (BENCH_SIZE, 1 GB by default: about 1.8 M packets,
#      41 k ClientHellos, a week of traffic). Each tool reads the same file from
#      the page cache, in BENCH_RUNS rounds of one run each (median kept), under /usr/bin/time for
#      wall time, CPU time (user + system) and peak RSS:
#        cat F > /dev/null                      the floor: reading the bytes
#        tcpdump -nr F -w /dev/null             a copy: parse records, no decode
#        tshark -r F -T fields -e <SNI, Host, DNS name>   the same job as phonehome
#        ndpiReader -q -i F                     nDPI's demo reader: flows and protocols
#        phonehome analyze F > /dev/null        with every CPU
#        taskset -c N phonehome analyze F       pinned to CPU N (phonehome-cpuN), each of the first four
#        phonehome analyze -o DIR/report.txt F  the report written to a file (phonehome-o), the
#                                               baseline of the outputs' table: each row below
#                                               writes into DIR too, a temp dir (-o /dev/null is
#                                               no regular file, so it skips the temp file, fsync
#                                               and rename that a report written to a file pays)
#        ... -o DIR/report.txt --flows DIR/flows.PID.jsonl F      phonehome-flows, a new
#                                               file each run: truncating the last run's 31 MB
#                                               waits for its writeback (0.43 s against 0.39 s)
#        ... --format FMT -o DIR/report.FMT F   phonehome-FMT, for json, csv, markdown and html
#      The outputs' table gives each of those rows (and phonehome, text to
#      /dev/null) as a ratio to phonehome-o: the median over the rounds of the
#      round's ratio, wall and CPU time.
#      tshark dissects every packet and is slow, so it reads a smaller capture
#      from the same generator and seed (BENCH_TSHARK_SIZE, 100 MB by default);
#      the table says so, and its ratios compare rates (MB/s), which do not
#      depend much on the size.
#   3. Live capture (root, tcpreplay): phonehome capture against tcpdump on a
#      veth pair between two network namespaces: keep-up at tcpreplay
#      --topspeed (drops, names against the truth), CPU and peak RSS at a
#      steady rate, an optional soak. Method and settings: the section's
#      comment below.
#
# To time builds of phonehome against each other on the same capture (a
# change that should make it faster): cmd/mkcapture/ab.sh.
#
# Captures are generated once and kept in $BENCH_DIR (.bench/, which ignores
# itself in git); their names carry a hash of the generator's source and the
# Go version, so a changed generator makes new ones (old ones are removed).
# tcpdump, tshark and ndpiReader are optional: missing ones are installed with apt-get
# when running as root (BENCH_INSTALL=0 to never install), else skipped with
# a note. /usr/bin/time (Debian package "time") is required and installed the
# same way.
#
# Settings (environment):
#   BENCH_SIZE=1GB         size of the main capture (mkcapture -size syntax)
#   BENCH_TSHARK_SIZE=100MB  size of tshark's capture ("full" for the main one)
#   BENCH_SEED=1           mkcapture seed
#   BENCH_RUNS=5           rounds (one run of every tool each); the median is reported
#   BENCH_COUNT=1          -count for the Go benchmarks
#   BENCH_GO=1             0 skips the Go benchmarks
#   BENCH_FILES=1          0 skips the whole-process comparison on files
#   BENCH_LIVE=1           0 skips the live capture (section 3; its settings are there)
#   BENCH_DIR=.bench       cache directory
#   GO=go                  the Go command
set -euo pipefail

cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"

GO=${GO:-go}
BENCH_SIZE=${BENCH_SIZE:-1GB}
BENCH_TSHARK_SIZE=${BENCH_TSHARK_SIZE:-100MB}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_COUNT=${BENCH_COUNT:-1}
BENCH_GO=${BENCH_GO:-1}
BENCH_DIR=${BENCH_DIR:-.bench}
BENCH_INSTALL=${BENCH_INSTALL:-1}
BENCH_FILES=${BENCH_FILES:-1}

log() { printf '%s\n' "$*" >&2; }
die() { log "bench: $*"; exit 1; }

# have_or_install CMD PACKAGE: true if CMD is (or could be made) available.
have_or_install() {
	command -v "$1" >/dev/null 2>&1 && return 0
	if [ "$BENCH_INSTALL" = 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		log "bench: installing $2 (apt-get)"
		apt-get update -qq >/dev/null 2>&1 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 || true
	fi
	command -v "$1" >/dev/null 2>&1
}

[ -x /usr/bin/time ] || have_or_install /usr/bin/time time || die "/usr/bin/time is missing: apt-get install time"
command -v "$GO" >/dev/null || die "Go not found: install Go or put it in /usr/local/go"

mkdir -p "$BENCH_DIR"
[ -f "$BENCH_DIR/.gitignore" ] || printf '*\n' >"$BENCH_DIR/.gitignore"

# ---------------------------------------------------------------- header
cpu=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
echo "== phonehome bench, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}, $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo)"
echo "kernel:  $(uname -sr); load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
echo "go:      $($GO version | cut -d' ' -f3-)"
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with local changes)')"
echo

# ---------------------------------------------------------------- Go benchmarks
if [ "$BENCH_GO" = 1 ]; then
	echo "== Go benchmarks (go test -run '^\$' -bench . -benchmem -count $BENCH_COUNT ./...)"
	status=0
	"$GO" test -run '^$' -bench . -benchmem -count "$BENCH_COUNT" ./... >"$BENCH_DIR/go-bench.txt" 2>&1 || status=$?
	grep -Ev '^(goos|goarch|cpu): |^PASS$|\[no test files\]' "$BENCH_DIR/go-bench.txt" || true
	[ "$status" = 0 ] || die "go test -bench failed (status $status); output in $BENCH_DIR/go-bench.txt"
	echo
fi

# ---------------------------------------------------------------- captures and binaries
# The capture depends on the generator's source and on the Go toolchain
# (its crypto/tls writes the Go ClientHellos).
hash=$({ cat $(ls cmd/mkcapture/*.go | grep -v _test.go) cmd/mkcapture/hellos/*.bin; "$GO" version; } | sha256sum | cut -c1-10)
"$GO" build -o "$BENCH_DIR/mkcapture" ./cmd/mkcapture || die "cannot build cmd/mkcapture (errors above)"
"$GO" build -o "$BENCH_DIR/phonehome" ./cmd/phonehome || die "cannot build cmd/phonehome (errors above)"
ph=$BENCH_DIR/phonehome

# capture SIZE [SPAN]: prints the path of the cached capture of SIZE (its
# timeline squeezed into SPAN with mkcapture -span when given), making it if
# needed. A kept capture is written anew: the page cache holds a file just
# written in large pieces, and one read back from disk in small ones, which
# cost cat twice the time on the 1 GB capture (0.21 s against 0.10 s) and
# every tool more. Written anew, every run reads the same kind of cache.
capture() {
	local f="$BENCH_DIR/synthetic-$1-seed$BENCH_SEED${2:+-span$2}-$hash.pcap"
	if [ ! -s "$f" ] || [ ! -s "$f.truth.json" ]; then
		log "bench: generating $f"
		"$BENCH_DIR/mkcapture" -size "$1" -seed "$BENCH_SEED" ${2:+-span "$2"} -o "$f.tmp" -truth "$f.truth.json" >&2
	else
		cat "$f" >"$f.tmp"
	fi
	mv "$f.tmp" "$f"
	echo "$f"
}
# packets FILE: the packet count from the capture's truth.
packets() { awk -F'[:,]' '/"packets"/ {gsub(/ /, "", $2); print $2; exit}' "$1.truth.json"; }
bytes_of() { stat -c %s "$1"; }
find "$BENCH_DIR" -maxdepth 1 -name 'synthetic-*' ! -name "*-$hash.pcap*" -delete
if [ "$BENCH_FILES" = 1 ]; then
	main=$(capture "$BENCH_SIZE")
	small=$main
	if [ "$BENCH_TSHARK_SIZE" != full ]; then
		small=$(capture "$BENCH_TSHARK_SIZE")
	fi


	# tool NAME FILE CMD: adds a tool to measure; CMD is a shell command that
	# reads the capture named by $F.
	names=() files=() cmds=()
	tool() { names+=("$1"); files+=("$2"); cmds+=("$3"); }

	notes=()
	tool cat "$main" 'cat "$F" >/dev/null'
	if [ "$small" != "$main" ]; then
		tool cat-small "$small" 'cat "$F" >/dev/null'
	fi
	if have_or_install tcpdump tcpdump; then
		tool tcpdump "$main" 'tcpdump -nr "$F" -w /dev/null'
	else
		notes+=("tcpdump: not installed, skipped (apt-get install tcpdump)")
	fi
	if have_or_install tshark tshark; then
		tool tshark "$small" 'tshark -r "$F" -T fields -e tls.handshake.extensions_server_name -e http.host -e dns.qry.name'
		[ "$small" = "$main" ] || notes+=("tshark read $(basename "$small") ($(bytes_of "$small") bytes, same generator and seed) instead of the full capture: it is slow; its 'vs cat' is against cat on that file, and the ratios compare MB/s")
	else
		notes+=("tshark: not installed, skipped (apt-get install tshark)")
	fi
	if have_or_install ndpiReader libndpi-bin; then
		tool ndpiReader "$main" 'ndpiReader -q -i "$F"'
	else
		notes+=("ndpiReader: not installed, skipped (apt-get install libndpi-bin)")
	fi
	tool phonehome "$main" "'$ph' analyze \"\$F\" >/dev/null"
	if command -v taskset >/dev/null && [ "$(nproc)" -gt 1 ]; then
		# One core: a row for each of the first four CPUs. On a shared VM one
		# core can run at two thirds of another's speed for minutes at a time
		# (its host core is busy), and the rows show it; the ratios use the
		# faster core.
		for cpu in $(seq 0 $(( $(nproc) > 4 ? 3 : $(nproc) - 1 ))); do
			tool phonehome-cpu$cpu "$main" "taskset -c $cpu '$ph' analyze \"\$F\" >/dev/null"
		done
	fi
	# The outputs: see the header. The text report of phonehome-o is the
	# baseline; every row writes a file in $outdir.
	outdir=$(mktemp -d)
	tool phonehome-o "$main" "'$ph' analyze -o '$outdir/report.txt' \"\$F\""
	tool phonehome-flows "$main" "'$ph' analyze -o '$outdir/report-flows.txt' --flows '$outdir/flows.'\$\$'.jsonl' \"\$F\""
	for fmt in json csv markdown html; do
		tool "phonehome-$fmt" "$main" "'$ph' analyze --format $fmt -o '$outdir/report.$fmt' \"\$F\""
	done

	# Rounds: every tool runs once per round, so that a busy spell of a shared
	# machine falls on all of them rather than on the one running then. Each
	# run appends "wall_s rss_kb cpu_s" to $results.runs.I; the medians go to
	# $results as "NAME FILE wall_s rss_kb cpu_s".
	results=$(mktemp)
	trap 'rm -f "$results" "$results".*; rm -rf "$outdir"' EXIT
	failed=()
	cat "$main" "$small" >/dev/null # into the page cache: every tool reads from memory
	echo "== whole process: $(basename "$main") ($(bytes_of "$main") bytes, $(packets "$main") packets), $BENCH_RUNS rounds, median"
	for _ in $(seq "$BENCH_RUNS"); do
		for i in "${!names[@]}"; do
			[ -z "${failed[$i]:-}" ] || continue
			t0=$(date +%s%N)
			if ! F=${files[$i]} /usr/bin/time -f '%M %U %S' -o "$results.one" sh -c "${cmds[$i]}" >/dev/null 2>"$results.err"; then
				log "bench: ${names[$i]} failed: $(tail -3 "$results.err")"
				failed[$i]=1
				notes+=("${names[$i]} failed: see above")
				continue
			fi
			t1=$(date +%s%N)
			# Wall time from the clock in ns (time's %e has 10 ms steps; cat
			# of a cached file takes a few of them), peak RSS from time's %M.
			echo "$(( (t1 - t0) / 1000000 )) $(tail -1 "$results.one")" |
				awk '{printf "%.3f %s %.2f\n", $1 / 1000, $2, $3 + $4}' >>"$results.runs.$i"
		done
	done
	median() { cut -d' ' -f"$1" "$2" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
	for i in "${!names[@]}"; do
		[ -z "${failed[$i]:-}" ] || continue
		r=$results.runs.$i
		echo "${names[$i]} ${files[$i]} $(median 1 "$r") $(median 2 "$r") $(median 3 "$r")" >>"$results"
		log "bench: ${names[$i]}: $(tr '\n' ',' <"$r" | sed 's/,$//') (per run: wall s, peak RSS KB, CPU s)"
	done
	[ -z "${failed[0]:-}" ] || die "cat failed"

	# ---------------------------------------------------------------- table
	awk -v runs="$BENCH_RUNS" '
	function rate(x) { return x >= 1e6 ? sprintf("%.2f M", x / 1e6) : sprintf("%.0f k", x / 1e3) }
	NR == FNR { name[NR] = $1; file[NR] = $2; wall[NR] = $3; rss[NR] = $4; cpu[NR] = $5; n = NR; next }
	{ pk[$1] = $2; by[$1] = $3 }
	END {
		for (i = 1; i <= n; i++) { w = wall[i] > 0 ? wall[i] : 0.001; mbs[name[i]] = by[file[i]] / 1e6 / w; catw[file[i]] = name[i] ~ /^cat/ ? w : catw[file[i]] }
		# Ratios are against phonehome on one CPU, the faster one, when measured.
		base = "phonehome"
		for (k in mbs) if (k ~ /^phonehome-cpu/ && (base !~ /^phonehome-cpu/ || mbs[k] > mbs[base])) base = k
		printf "%-18s %9s %8s %7s %11s %8s %10s %8s %13s\n", "TOOL", "INPUT MB", "TIME s", "CPU s", "PACKETS/s", "MB/s", "PEAK RSS", "VS CAT", "PHONEHOME IS"
		for (i = 1; i <= n; i++) {
			w = wall[i] > 0 ? wall[i] : 0.001
			vs = catw[file[i]] > 0 ? sprintf("%.1fx", w / catw[file[i]]) : "-"
			ratio = "-"
			if (name[i] !~ /^phonehome/ && (base in mbs) && mbs[name[i]] > 0) {
				r = mbs[base] / mbs[name[i]]
				ratio = r >= 1 ? sprintf("%.1fx faster", r) : sprintf("%.1fx slower", 1 / r)
			}
			printf "%-18s %9.0f %8.3f %7.2f %11s %8.0f %7.0f MB %8s %13s\n", name[i], by[file[i]] / 1e6, wall[i], cpu[i], rate(pk[file[i]] / w), mbs[name[i]], rss[i] / 1024, vs, ratio
		}
	}' "$results" <(for f in $(cut -d' ' -f2 "$results" | sort -u); do echo "$f $(packets "$f") $(bytes_of "$f")"; done)
	echo "(Medians of $BENCH_RUNS rounds. TIME: wall, with process start-up (sh, /usr/bin/time); CPU: user + system;"
	echo " PACKETS/s and MB/s (10^6 bytes of capture file) from wall time; PEAK RSS: maximum resident set;"
	echo " VS CAT: the tool's wall time over cat's on the same file; PHONEHOME IS: phonehome's MB/s over the tool's,"
	echo " phonehome pinned to one CPU (phonehome-cpuN, the faster) where it was measured.)"
	for n in "${notes[@]}"; do echo "note: $n"; done

	# ------------------------------------------------------------ outputs
	# Each output row against phonehome-o, round by round (a busy spell
	# falls on both runs of a round), the median of the rounds' ratios.
	base=""
	for i in "${!names[@]}"; do [ "${names[$i]}" = phonehome-o ] && base=$i; done
	if [ -n "$base" ] && [ -z "${failed[$base]:-}" ]; then
		echo
		echo "== outputs: against phonehome-o (analyze -o FILE, the text report), median of $BENCH_RUNS rounds' ratios"
		printf '%-18s %8s %7s %10s %9s  %s\n' OUTPUT "TIME s" "CPU s" "TIME x" "CPU x" COMMAND
		for i in "${!names[@]}"; do
			case ${names[$i]} in phonehome | phonehome-o | phonehome-flows | phonehome-json | phonehome-csv | phonehome-markdown | phonehome-html) ;; *) continue ;; esac
			[ -z "${failed[$i]:-}" ] || continue
			cmd=$(sed -e "s|'[^']*phonehome'|phonehome|" -e "s|'[^']*/\([^']*\)'|DIR/\1|g" <<<"${cmds[$i]}")
			paste -d' ' "$results.runs.$i" "$results.runs.$base" | awk -v name="${names[$i]}" -v cmd="$cmd" '
				{ w[NR] = $1; c[NR] = $3; rw[NR] = $1 / ($4 > 0 ? $4 : 0.001); rc[NR] = $3 / ($6 > 0 ? $6 : 0.01) }
				function med(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t } return a[int((n + 1) / 2)] }
				END { printf "%-18s %8.3f %7.2f %9.3fx %8.3fx  %s\n", name, med(w, NR), med(c, NR), med(rw, NR), med(rc, NR), cmd }'
		done
		echo "(TIME x, CPU x: the row's wall and CPU time over phonehome-o's in the same round, median over rounds.)"
	fi
fi

# ---------------------------------------------------------------- live capture
# phonehome capture against tcpdump on a veth pair between two network
# namespaces (root and tcpreplay needed; else this section says it skipped).
#
# Set-up: namespaces phbench-a and phbench-b (leftovers of a killed run are
# deleted first), veth phbenchA (in a) <-> phbenchB (in b), 10.56.0.10/24 and
# 10.56.0.1/24, IPv6 off, gso_max_segs 1 (as internal/netns: the same
# layout, in shell), MTU 9000 (below). The frames replayed carry the capture's own addresses
# and MACs (VM 192.168.56.10, gateway MAC 0a:00:27:00:00:00), not b's, so
# b's stack drops them unanswered: the capture on phbenchB holds exactly the
# frames replayed. Neither namespace has a route out: nothing leaves them.
#
# The capture replayed is mkcapture's (BENCH_LIVE_SIZE, same seed) with its
# timeline squeezed into BENCH_LIVE_SPAN (mkcapture -span), and its truth
# worked out on that timeline. tcpreplay --topspeed sends it in about that
# time or less, so every idle timeout, DNS TTL and the 15 s DNS query window
# decide in the replay as in the file: the live names must equal the truth
# exactly, and so must phonehome analyze over the same file. (A week
# replayed in a second would keep every DNS answer alive, and name flows
# otherwise than the file's truth.)
#
# Method: tcpreplay runs in a, pinned to CPU 0 (with the veth's softirq work,
# which runs on the sender's CPU); the listener runs in b, pinned to CPU 1
# (taskset), alone: each listener gets its own replay of the same frames, one
# after the other, in the same bench run. Three listeners:
#   tcpdump            tcpdump -i IF -n -w /dev/null (libpcap's default
#                      buffer, 2 MiB)
#   tcpdump -B 32768   the same with phonehome's buffer (32 MiB), so that
#                      neither side has the larger one
#   phonehome          phonehome capture -i IF --vm 192.168.56.10 --quiet
#                      --format json -o REPORT (defaults otherwise: 32 MiB
#                      buffer, whole frames, promiscuous)
# tcpdump is stopped with SIGINT, phonehome with SIGTERM (it then writes its
# report), BENCH_LIVE_SETTLE seconds after the replay ends.
#   (i)   keep-up: the capture once with tcpreplay --topspeed --preload-pcap.
#         Drops: tcpdump's own "dropped by kernel" line; phonehome's libpcap
#         counts from its report (capture_sessions[]: received, dropped,
#         if_dropped; capture_warnings[] printed). Names: the report's
#         against mkcapture's truth (the names of flows, by evidence;
#         ambiguous candidate sets; unattributed addresses), as
#         TestReadsBackAsTruthSays checks them offline, and phonehome analyze
#         of the same file against the truth too; flows in scope of all three.
#   (ii)  cost: tcpreplay --pps BENCH_LIVE_PPS --loop 0 --duration
#         BENCH_LIVE_SECONDS, each listener in turn. CPU: utime + stime from
#         /proc/PID/stat at the replay's start and end (the process's own
#         time, start-up and report writing left out); peak RSS: VmHWM from
#         /proc/PID/status at the end. Ratios: phonehome over each tcpdump.
#   (iii) soak (BENCH_SOAK=10m, off by default): phonehome alone through
#         BENCH_SOAK of the same steady replay in a loop, its RSS (VmRSS)
#         sampled every 10 s; max, and "flat" when the last third's maximum
#         is within 10 % of the first third's.
#
# Settings: BENCH_LIVE=1 (0 skips), BENCH_LIVE_SIZE=300MB, BENCH_LIVE_SPAN=5s,
# BENCH_LIVE_PPS=100000, BENCH_LIVE_SECONDS=60, BENCH_LIVE_SETTLE=2,
# BENCH_SOAK= (e.g. 10m).
BENCH_LIVE=${BENCH_LIVE:-1}
BENCH_LIVE_SIZE=${BENCH_LIVE_SIZE:-300MB}
BENCH_LIVE_SPAN=${BENCH_LIVE_SPAN:-5s}
BENCH_LIVE_PPS=${BENCH_LIVE_PPS:-100000}
BENCH_LIVE_SECONDS=${BENCH_LIVE_SECONDS:-60}
BENCH_LIVE_SETTLE=${BENCH_LIVE_SETTLE:-2}
BENCH_SOAK=${BENCH_SOAK:-}

live_skip=""
if [ "$BENCH_LIVE" != 1 ]; then
	live_skip="BENCH_LIVE=$BENCH_LIVE"
elif [ "$(id -u)" != 0 ]; then
	live_skip="not root (network namespaces need it)"
elif ! have_or_install tcpreplay tcpreplay; then
	live_skip="tcpreplay is not installed (apt-get install tcpreplay)"
elif ! have_or_install tcpdump tcpdump; then
	live_skip="tcpdump is not installed (apt-get install tcpdump)"
elif ! command -v ip >/dev/null || ! command -v python3 >/dev/null; then
	live_skip="ip (iproute2) or python3 is missing"
fi
echo
if [ -n "$live_skip" ]; then
	echo "== live capture: skipped: $live_skip"
	exit 0
fi

nsa=phbench-a nsb=phbench-b ifa=phbenchA ifb=phbenchB
live=$(mktemp -d)
live_pids=()
live_cleanup() {
	for p in "${live_pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	for p in "${live_pids[@]}"; do wait "$p" 2>/dev/null || true; done
	ip netns del "$nsa" 2>/dev/null || true
	ip netns del "$nsb" 2>/dev/null || true
	rm -rf "$live"
	# Never a bare ".*": results is unset when BENCH_FILES=0.
	if [ -n "${results:-}" ]; then rm -f "$results" "$results".*; fi
	if [ -n "${outdir:-}" ]; then rm -rf "$outdir"; fi
}
trap live_cleanup EXIT
ip netns del "$nsa" 2>/dev/null || true
ip netns del "$nsb" 2>/dev/null || true
ip netns add "$nsa"
ip netns add "$nsb"
for ns in "$nsa" "$nsb"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	ip -n "$ns" link set lo up
done
ip link add "$ifa" netns "$nsa" type veth peer name "$ifb" netns "$nsb"
# MTU 9000: mkcapture's IPv6 segments carry 1460 bytes (1534-byte frames),
# which tcpreplay cannot send through a 1500-byte MTU ("Message too long").
ip -n "$nsa" link set "$ifa" address 02:00:0a:38:00:0a mtu 9000 gso_max_segs 1 up
ip -n "$nsb" link set "$ifb" address 02:00:0a:38:00:01 mtu 9000 gso_max_segs 1 up
ip -n "$nsa" addr add 10.56.0.10/24 dev "$ifa"
ip -n "$nsb" addr add 10.56.0.1/24 dev "$ifb"

cpu_send="" cpu_listen=""
if command -v taskset >/dev/null && [ "$(nproc)" -gt 1 ]; then
	cpu_send="taskset -c 0" cpu_listen="taskset -c 1"
fi
tick=$(getconf CLK_TCK)
livecap=$(capture "$BENCH_LIVE_SIZE" "$BENCH_LIVE_SPAN")
vm=192.168.56.10

# The listeners, by name: the command and the signal that stops it.
td=(tcpdump -i "$ifb" -n -w /dev/null)
tdB=(tcpdump -i "$ifb" -n -B 32768 -w /dev/null)
# phcap NAME: phonehome's command, its report in $live/NAME.json, in $phc.
phcap() { phc=("$ph" capture -i "$ifb" --vm "$vm" --quiet --format json -o "$live/$1.json"); }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# listen NAME CMD...: starts CMD in b pinned to the listening CPU, waits
# until it has a packet socket open (b has none before) and a little more
# for libpcap to map its ring. Sets $lpid (ip netns exec and taskset exec
# the command, so it is the listener's own pid).
listen() {
	local name=$1; shift
	ip netns exec "$nsb" $cpu_listen "$@" >"$live/$name.out" 2>"$live/$name.err" &
	lpid=$!
	live_pids+=("$lpid")
	for _ in $(seq 100); do
		[ "$(ip netns exec "$nsb" cat /proc/net/packet | wc -l)" -gt 1 ] && break
		kill -0 "$lpid" 2>/dev/null || die "$name ended at start: $(tail -3 "$live/$name.err")"
		sleep 0.1
	done
	sleep 0.5
}
# stop SIGNAL: settles, signals $lpid and waits for it.
stop() {
	sleep "$BENCH_LIVE_SETTLE"
	kill -"$1" "$lpid"
	wait "$lpid" || log "bench: listener exited with status $?"
}
replay() { ip netns exec "$nsa" $cpu_send tcpreplay -i "$ifa" "$@" 2>&1; }
# rate OUTPUT: "PACKETS PPS MBPS FAILED" from tcpreplay's summary.
rate() {
	awk '/Actual: [0-9]+ packets/ {p = $2} /Failed packets:/ {f = $3}
		/Rated:/ {gsub(/[(),]/, ""); for (i = 1; i <= NF; i++) {if ($(i+1) == "Bps") mbps = $i * 8 / 1e6; if ($(i+1) == "pps") pps = $i}}
		END {printf "%d %.0f %.0f %d\n", p, pps, mbps, f}' <<<"$1"
}
# tdcounts NAME: "RECEIVED DROPPED IFDROPPED" from tcpdump's closing lines.
tdcounts() {
	awk '/packets received by filter/ {r = $1} /packets dropped by kernel/ {d = $1} /packets dropped by interface/ {i = $1}
		END {printf "%s %s %s\n", r == "" ? "?" : r, d == "" ? "?" : d, i == "" ? "-" : i}' "$live/$1.err"
}
# phcounts REPORT: "RECEIVED DROPPED IFDROPPED" summed over the report's
# capture sessions.
phcounts() {
	python3 -c 'import json, sys
s = json.load(open(sys.argv[1])).get("capture_sessions") or []
print(*(sum(x[k] for x in s) if s else "?" for k in ("received", "dropped", "if_dropped")))' "$1" 2>/dev/null || echo "? ? ?"
}

# check REPORT: the report's names against the truth: "equal" or "DIFFER",
# then what each holds.
check() {
	python3 - "$1" "$livecap.truth.json" <<'PY'
import json, sys
rep, truth = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
got, amb, unat = set(), set(), set()
for e in rep["editions"][:1]:
    for d in e["documented_seen"]:
        got.update(d["names"])
    got.update(u["name"] for u in e["undocumented"])
    amb.update(" ".join(sorted(n["name"] for n in a["names"])) for a in e["ambiguous"])
    unat.update(u["address"] for u in e["unattributed"])
want = {n["name"] for n in truth["names"] if n["evidence"] != "dns-ambiguous"}
wamb = {n["name"] for n in truth["names"] if n["evidence"] == "dns-ambiguous"}
wunat = {u["address"] for u in truth["unattributed"]}
ok = got == want and amb == wamb and unat == wunat
print("equal" if ok else "DIFFER",
      f"{len(got)} names ({len(want)} in the truth), {len(amb)} ambiguous sets ({len(wamb)}), {len(unat)} unattributed addresses ({len(wunat)})"
      + ("" if ok else f"; names missing {sorted(want - got)[:5]}, extra {sorted(got - want)[:5]}; ambiguous missing {sorted(wamb - amb)[:3]}, extra {sorted(amb - wamb)[:3]}; unattributed missing {sorted(wunat - unat)[:5]}, extra {sorted(unat - wunat)[:5]}")
      + f"; {rep['totals']['packets']} packets, {rep['totals']['flows_in_scope']} flows in scope ({truth['counts']['flows_in_scope']})")
for w in rep.get("capture_warnings") or []:
    print("  warning:", w)
PY
}

echo "== live capture: veth $ifa ($nsa) -> $ifb ($nsb); tcpreplay on CPU 0, listener on CPU 1${cpu_listen:+ (taskset)}"
echo "capture: $(basename "$livecap") ($(bytes_of "$livecap") bytes, $(packets "$livecap") packets, timeline squeezed into $BENCH_LIVE_SPAN)"
echo "listeners: tcpdump = tcpdump -i $ifb -n -w /dev/null (libpcap's default 2 MiB buffer); tcpdump -B 32768 = the same with 32 MiB;"
echo "           phonehome = phonehome capture -i $ifb --vm $vm --quiet --format json -o REPORT (its default 32 MiB buffer)"

# (i) keep-up
keepup() { # NAME SIGNAL CMD...: one listener through one topspeed replay; "SENT PPS MBPS FAILED" in $live/NAME.rate
	local name=$1 sig=$2; shift 2
	listen "$name" "$@"
	local out; out=$(replay --topspeed --preload-pcap "$livecap")
	stop "$sig"
	rate "$out" >"$live/$name.rate"
	read -r _ _ _ failed <"$live/$name.rate"
	[ "$failed" = 0 ] || log "bench: tcpreplay could not send $failed packets: $(grep -m1 'Unable to send' <<<"$out")"
}
keepup tcpdump INT "${td[@]}"
keepup tcpdumpB INT "${tdB[@]}"
phcap phonehome
keepup phonehome TERM "${phc[@]}"
read -r _ k1_pps k1_mbps _ <"$live/tcpdump.rate"
read -r _ k2_pps k2_mbps _ <"$live/tcpdumpB.rate"
read -r k3_sent k3_pps k3_mbps k3_failed <"$live/phonehome.rate"
[ -s "$live/phonehome.json" ] || die "phonehome wrote no report: $(tail -3 "$live/phonehome.err")"
"$ph" analyze --vm "$vm" --format json -o "$live/analyze.json" "$livecap" 2>"$live/analyze.err" ||
	[ -s "$live/analyze.json" ] || die "phonehome analyze failed: $(tail -3 "$live/analyze.err")"
live_check=$(check "$live/phonehome.json")
file_check=$(check "$live/analyze.json")
echo
echo "-- (i) keep-up: tcpreplay --topspeed, $(packets "$livecap") packets once per listener"
printf '%-22s %11s %10s %9s %9s %9s %s\n' LISTENER "SENT pps" "Mbit/s" RECEIVED DROPPED IFDROP NAMES
printf '%-22s %11s %10s %9s %9s %9s %s\n' "tcpdump" "$k1_pps" "$k1_mbps" $(tdcounts tcpdump) "-"
printf '%-22s %11s %10s %9s %9s %9s %s\n' "tcpdump -B 32768" "$k2_pps" "$k2_mbps" $(tdcounts tcpdumpB) "-"
printf '%-22s %11s %10s %9s %9s %9s %s\n' "phonehome" "$k3_pps" "$k3_mbps" $(phcounts "$live/phonehome.json") "$(head -1 <<<"$live_check" | cut -d' ' -f1)"
echo "phonehome capture's names against the truth: $(head -1 <<<"$live_check")"
tail -n +2 <<<"$live_check"
echo "phonehome analyze of the same file:          $(head -1 <<<"$file_check")"
tail -n +2 <<<"$file_check"
echo "(sent $k3_sent to phonehome, $k3_failed failed)"

# (ii) cost at a steady rate
cost() { # NAME SIGNAL CMD...: "CPU_s PEAK_RSS_KB SENT PPS" for the replay window in $live/NAME.cost
	local name=$1 sig=$2; shift 2
	listen "$name" "$@"
	local c0; c0=$(cpu_ticks "$lpid")
	local out; out=$(replay --pps "$BENCH_LIVE_PPS" --loop 0 --duration "$BENCH_LIVE_SECONDS" --preload-pcap "$livecap")
	local c1; c1=$(cpu_ticks "$lpid")
	local hwm; hwm=$(status_kb "$lpid" VmHWM)
	stop "$sig"
	echo "$(awk -v a="$c0" -v b="$c1" -v t="$tick" 'BEGIN {printf "%.2f", (b - a) / t}') $hwm $(rate "$out" | cut -d' ' -f1,2)" >"$live/$name.cost"
}
echo
echo "-- (ii) cost: tcpreplay --pps $BENCH_LIVE_PPS for $BENCH_LIVE_SECONDS s, each listener in turn"
cost tcpdump2 INT "${td[@]}"
cost tcpdumpB2 INT "${tdB[@]}"
phcap phonehome2
cost phonehome2 TERM "${phc[@]}"
read -r c1_cpu c1_rss _ c1_rate <"$live/tcpdump2.cost"
read -r c2_cpu c2_rss _ c2_rate <"$live/tcpdumpB2.cost"
read -r c3_cpu c3_rss _ c3_rate <"$live/phonehome2.cost"
printf '%-22s %10s %9s %11s %9s %13s %13s\n' LISTENER "SENT pps" "CPU s" "PEAK RSS" DROPPED "PHONEHOME CPU" "PHONEHOME RSS"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {print (b > 0 ? sprintf("%.2fx", a / b) : "-")}'; }
printf '%-22s %10s %9s %8.0f MB %9s %13s %13s\n' "tcpdump" "$c1_rate" "$c1_cpu" "$((c1_rss / 1024))" "$(tdcounts tcpdump2 | cut -d' ' -f2)" "$(ratio "$c3_cpu" "$c1_cpu")" "$(ratio "$c3_rss" "$c1_rss")"
printf '%-22s %10s %9s %8.0f MB %9s %13s %13s\n' "tcpdump -B 32768" "$c2_rate" "$c2_cpu" "$((c2_rss / 1024))" "$(tdcounts tcpdumpB2 | cut -d' ' -f2)" "$(ratio "$c3_cpu" "$c2_cpu")" "$(ratio "$c3_rss" "$c2_rss")"
printf '%-22s %10s %9s %8.0f MB %9s %13s %13s\n' "phonehome" "$c3_rate" "$c3_cpu" "$((c3_rss / 1024))" "$(phcounts "$live/phonehome2.json" | cut -d' ' -f2)" "-" "-"
echo "(CPU: user + system of the listener during the replay; PEAK RSS: VmHWM; PHONEHOME CPU/RSS: phonehome's over the row's)"

# (iii) soak
if [ -n "$BENCH_SOAK" ]; then
	secs=$(awk -v d="$BENCH_SOAK" 'BEGIN {n = d + 0; u = substr(d, length(d)); print (u == "m" ? n * 60 : u == "h" ? n * 3600 : n)}')
	echo
	echo "-- (iii) soak: phonehome through $BENCH_SOAK (${secs} s) of tcpreplay --pps $BENCH_LIVE_PPS in a loop, RSS every 10 s"
	phcap soak
	listen soak "${phc[@]}"
	replay --pps "$BENCH_LIVE_PPS" --loop 0 --duration "$secs" --preload-pcap "$livecap" >"$live/soak.replay" &
	rp=$!
	live_pids+=("$rp")
	: >"$live/soak.rss"
	while kill -0 "$rp" 2>/dev/null; do
		status_kb "$lpid" VmRSS >>"$live/soak.rss"
		sleep 10
	done
	wait "$rp" || true
	stop TERM
	read -r _ s_rate _ <<<"$(rate "$(cat "$live/soak.replay")")"
	echo "sent $s_rate pps; phonehome's libpcap counts (received dropped if_dropped): $(phcounts "$live/soak.json")"
	echo "RSS samples (MB): $(awk '{printf "%s%.0f", (NR > 1 ? " " : ""), $1 / 1024}' "$live/soak.rss")"
	awk '{v[NR] = $1; if ($1 > m) m = $1} END {
		t = int(NR / 3); if (t < 1) t = 1
		for (i = 1; i <= t; i++) if (v[i] > a) a = v[i]
		for (i = NR - t + 1; i <= NR; i++) if (v[i] > b) b = v[i]
		printf "%d samples, RSS max %.0f MB, first third max %.0f MB, last third max %.0f MB: %s\n", NR, m / 1024, a / 1024, b / 1024, (b <= a * 1.1 ? "flat" : "GROWING") }' "$live/soak.rss"
fi
