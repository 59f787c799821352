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
#      tshark dissects every packet and is slow, so it reads a smaller capture
#      from the same generator and seed (BENCH_TSHARK_SIZE, 100 MB by default);
#      the table says so, and its ratios compare rates (MB/s), which do not
#      depend much on the size.
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

# capture SIZE: prints the path of the cached capture of SIZE, making it if
# needed. A kept capture is written anew: the page cache holds a file just
# written in large pieces, and one read back from disk in small ones, which
# cost cat twice the time on the 1 GB capture (0.21 s against 0.10 s) and
# every tool more. Written anew, every run reads the same kind of cache.
capture() {
	local f="$BENCH_DIR/synthetic-$1-seed$BENCH_SEED-$hash.pcap"
	if [ ! -s "$f" ] || [ ! -s "$f.truth.json" ]; then
		log "bench: generating $f"
		"$BENCH_DIR/mkcapture" -size "$1" -seed "$BENCH_SEED" -o "$f.tmp" -truth "$f.truth.json" >&2
	else
		cat "$f" >"$f.tmp"
	fi
	mv "$f.tmp" "$f"
	echo "$f"
}
find "$BENCH_DIR" -maxdepth 1 -name 'synthetic-*' ! -name "*-$hash.pcap*" -delete
main=$(capture "$BENCH_SIZE")
small=$main
if [ "$BENCH_TSHARK_SIZE" != full ]; then
	small=$(capture "$BENCH_TSHARK_SIZE")
fi

# packets FILE: the packet count from the capture's truth.
packets() { awk -F'[:,]' '/"packets"/ {gsub(/ /, "", $2); print $2; exit}' "$1.truth.json"; }
bytes_of() { stat -c %s "$1"; }

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
ph=$BENCH_DIR/phonehome
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

# Rounds: every tool runs once per round, so that a busy spell of a shared
# machine falls on all of them rather than on the one running then. Each
# run appends "wall_s rss_kb cpu_s" to $results.runs.I; the medians go to
# $results as "NAME FILE wall_s rss_kb cpu_s".
results=$(mktemp)
trap 'rm -f "$results" "$results".*' EXIT
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
	printf "%-14s %9s %8s %7s %11s %8s %10s %8s %13s\n", "TOOL", "INPUT MB", "TIME s", "CPU s", "PACKETS/s", "MB/s", "PEAK RSS", "VS CAT", "PHONEHOME IS"
	for (i = 1; i <= n; i++) {
		w = wall[i] > 0 ? wall[i] : 0.001
		vs = catw[file[i]] > 0 ? sprintf("%.1fx", w / catw[file[i]]) : "-"
		ratio = "-"
		if (name[i] !~ /^phonehome/ && (base in mbs) && mbs[name[i]] > 0) {
			r = mbs[base] / mbs[name[i]]
			ratio = r >= 1 ? sprintf("%.1fx faster", r) : sprintf("%.1fx slower", 1 / r)
		}
		printf "%-14s %9.0f %8.3f %7.2f %11s %8.0f %7.0f MB %8s %13s\n", name[i], by[file[i]] / 1e6, wall[i], cpu[i], rate(pk[file[i]] / w), mbs[name[i]], rss[i] / 1024, vs, ratio
	}
}' "$results" <(for f in $(cut -d' ' -f2 "$results" | sort -u); do echo "$f $(packets "$f") $(bytes_of "$f")"; done)
echo "(Medians of $BENCH_RUNS rounds. TIME: wall, with process start-up (sh, /usr/bin/time); CPU: user + system;"
echo " PACKETS/s and MB/s (10^6 bytes of capture file) from wall time; PEAK RSS: maximum resident set;"
echo " VS CAT: the tool's wall time over cat's on the same file; PHONEHOME IS: phonehome's MB/s over the tool's,"
echo " phonehome pinned to one CPU (phonehome-cpuN, the faster) where it was measured.)"
for n in "${notes[@]}"; do echo "note: $n"; done
