#!/usr/bin/env bash
# ab.sh: time phonehome builds against each other on the capture of `make bench`,
# in interleaved rounds, from the repository root:
#
#   bash cmd/mkcapture/ab.sh REV_OR_BINARY...
#
# Each argument is a git revision (built from a clean export of it into
# $BENCH_DIR/ab-<commit>) or the path of a phonehome binary. Every round runs
# each build once on the same capture, the order turning by one each round, so
# that a busy spell of a shared machine falls on all of them. It prints, for
# each build, the median wall time, CPU time (user + system) and peak RSS, and
# the medians over rounds of its wall and CPU time over the first build's and
# over the previous build's (the one listed before it) in the same round.
#
# The capture is the newest $BENCH_DIR/synthetic-$BENCH_SIZE-*.pcap that `make
# bench` made (run it first); like bench.sh, it is written anew before the
# rounds, so that every run reads the same kind of page cache.
#
# Settings (environment):
#   BENCH_SIZE=1GB     the capture's size, as given to make bench
#   AB_RUNS=15         rounds
#   BENCH_DIR=.bench   cache directory
#   GO=go              the Go command
set -euo pipefail

cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"
GO=${GO:-go}
BENCH_SIZE=${BENCH_SIZE:-1GB}
AB_RUNS=${AB_RUNS:-15}
BENCH_DIR=${BENCH_DIR:-.bench}

die() { printf 'ab: %s\n' "$*" >&2; exit 1; }
[ $# -ge 2 ] || die "usage: bash cmd/mkcapture/ab.sh REV_OR_BINARY REV_OR_BINARY..."
[ -x /usr/bin/time ] || die "/usr/bin/time is missing: apt-get install time"

capture=$(ls -t "$BENCH_DIR"/synthetic-"$BENCH_SIZE"-*.pcap 2>/dev/null | head -1 || true)
[ -n "$capture" ] || die "no $BENCH_SIZE capture in $BENCH_DIR: run make bench (BENCH_SIZE=$BENCH_SIZE) first"

# The builds.
bins=() names=()
for a in "$@"; do
	if [ -f "$a" ] && [ -x "$a" ]; then
		bins+=("$a") names+=("$(basename "$a")")
		continue
	fi
	c=$(git rev-parse --short "$a^{commit}" 2>/dev/null) || die "$a: neither a binary nor a git revision"
	bin=$BENCH_DIR/ab-$c
	if [ ! -x "$bin" ]; then
		src=$(mktemp -d)
		git archive "$c" | tar -x -C "$src"
		(cd "$src" && "$GO" build -o "$OLDPWD/$bin.tmp" ./cmd/phonehome) || { rm -rf "$src"; die "cannot build $a"; }
		rm -rf "$src"
		mv "$bin.tmp" "$bin"
	fi
	bins+=("$bin") names+=("$a ($c)")
done

cat "$capture" >"$capture.tmp" && mv "$capture.tmp" "$capture"
cat "$capture" >/dev/null
out=$(mktemp)
trap 'rm -f "$out" "$out".*' EXIT
n=${#bins[@]}
# cpu sets CPU to the CPU seconds (user + system) of the shell's children so
# far, to the millisecond (time's %U and %S have 10 ms steps). It must run in
# this shell, not in $(...).
cpu() {
	times >"$out.t"
	CPU=$(awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$out.t")
}
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); $(basename "$capture"), $AB_RUNS rounds"
for r in $(seq 0 $((AB_RUNS - 1))); do
	for k in $(seq 0 $((n - 1))); do
		i=$(((r + k) % n))
		cpu
		c0=$CPU
		t0=$(date +%s%N)
		/usr/bin/time -f '%M' -o "$out.one" "${bins[$i]}" analyze "$capture" >/dev/null 2>"$out.err" ||
			die "${names[$i]} failed: $(tail -3 "$out.err")"
		t1=$(date +%s%N)
		cpu
		echo "$r $i $(( (t1 - t0) / 1000 )) $CPU $c0 $(tail -1 "$out.one")" >>"$out"
	done
done
# Lines: round build wall_us cpu_after_s cpu_before_s rss_kb.
awk -v n="$n" -v names="$(printf '%s\n' "${names[@]}")" '
function median(a, k,   i, j, t) {
	for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
BEGIN { split(names, name, "\n") }
{ wall[$1, $2] = $3 / 1e6; cpu[$1, $2] = $4 - $5; rss[$1, $2] = $6 / 1024; if ($1 + 1 > rounds) rounds = $1 + 1 }
END {
	printf "%-24s %7s %7s %7s %13s %12s %12s %11s\n", "BUILD", "WALL s", "CPU s", "RSS MB", "WALL / FIRST", "CPU / FIRST", "WALL / PREV", "CPU / PREV"
	for (i = 0; i < n; i++) {
		delete w; delete c; delete m; delete q; delete p; delete qp; delete pp
		j = i > 0 ? i - 1 : 0
		for (r = 0; r < rounds; r++) {
			w[r + 1] = wall[r, i]; c[r + 1] = cpu[r, i]; m[r + 1] = rss[r, i]
			q[r + 1] = wall[r, i] / wall[r, 0]; p[r + 1] = cpu[r, 0] > 0 ? cpu[r, i] / cpu[r, 0] : 1
			qp[r + 1] = wall[r, i] / wall[r, j]; pp[r + 1] = cpu[r, j] > 0 ? cpu[r, i] / cpu[r, j] : 1
		}
		printf "%-24s %7.3f %7.3f %7.1f %13.3f %12.3f %12.3f %11.3f\n", name[i + 1], median(w, rounds), median(c, rounds), median(m, rounds), median(q, rounds), median(p, rounds), median(qp, rounds), median(pp, rounds)
	}
	printf "(medians of %d rounds; X / FIRST and X / PREV: the medians of the per-round ratios to the first build and\n", rounds
	printf " to the one listed before)\n"
}' "$out"
