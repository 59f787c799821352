#!/usr/bin/env bash
# Cuts the sample capture to the snap lengths long captures are often taken
# with, as `tcpdump -s 262` or `-s 128` would have kept it:
#
#   testdata/gen/snaplen.sh
#
# writes testdata/fixtures/sample-snap262.pcapng.gz and sample-snap128.pcapng.gz
# (editcap, then gzip -9n: the same input gives the same bytes). Needs editcap
# (Debian package wireshark-common). make-fixtures.sh runs it after it has
# rebuilt the sample; classify/snaplen_test.go holds the result against the
# sample.
set -euo pipefail

testdata=$(cd "$(dirname "$0")/.." && pwd)
command -v editcap >/dev/null 2>&1 || { echo "snaplen.sh: needs editcap (apt-get install wireshark-common)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for n in 262 128; do
	editcap -s "$n" "$testdata/sample/idle-1909.pcapng" "$work/snap$n.pcapng"
	gzip -9n < "$work/snap$n.pcapng" > "$testdata/fixtures/sample-snap$n.pcapng.gz"
done
ls -l "$testdata"/fixtures/sample-snap*.pcapng.gz
