#!/usr/bin/env bash
# Makes the compressed fixtures of this folder from the first 40 packets of
# the sample (testdata/sample/idle-1909.pcapng), with the real tools: editcap
# (wireshark-common), gzip, zstd, xz-utils, bzip2, lz4. Run from anywhere;
# the files are rewritten in place. See ../README.md for what each is for.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
sample=$here/../../../testdata/sample/idle-1909.pcapng
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$here"

editcap -r "$sample" "$tmp/part.pcapng" 1-40
part=$tmp/part.pcapng

gzip -9 -n -c "$part" > part.pcapng.gz
zstd -q -19 -c "$part" > part.pcapng.zst
xz -9 -c "$part" > part.pcapng.xz
bzip2 -9 -c "$part" > part.pcapng.bz2
lz4 -q -9 -c "$part" > part.pcapng.lz4
lz4 -q -l -c "$part" > part-legacy.pcapng.lz4

# xz in blocks of 1 KiB with SHA-256 checks: several blocks and LZMA2
# chunks, a 32-byte check after each block.
xz -q -T1 --block-size=1KiB --check=sha256 -c "$part" > part-blocks-sha256.pcapng.xz
# Two streams one after the other, cut in the middle of a block of the
# capture: readers must go on into the second (zstd and xz -d do).
head -c 3000 "$part" > "$tmp/a"
tail -c +3001 "$part" > "$tmp/b"
{ zstd -q -c "$tmp/a"; zstd -q -c "$tmp/b"; } > part-two-frames.pcapng.zst
{ xz -c "$tmp/a"; xz -c "$tmp/b"; } > part-two-streams.pcapng.xz
{ gzip -n -c "$tmp/a"; gzip -n -c "$tmp/b"; } > part-two-members.pcapng.gz
{ bzip2 -c "$tmp/a"; bzip2 -c "$tmp/b"; } > part-two-streams.pcapng.bz2
{ lz4 -q -c "$tmp/a"; lz4 -q -c "$tmp/b"; } > part-two-frames.pcapng.lz4

# Decoder limits: compressed from a pipe, so the size is unknown and the
# header keeps the window or dictionary asked for.
zstd -q --long=30 -c < "$part" > window-1gib.pcapng.zst
xz --lzma2=dict=128MiB -c < "$part" > dict-128mib.pcapng.xz

# Cut short, as a file still being written is: about two thirds of each,
# which is in the second stream or a later block (a decoder gives nothing
# of a block it has not all of: one block of 7 kB cut gives nothing).
for f in part.pcapng.gz part-two-frames.pcapng.zst part-blocks-sha256.pcapng.xz part-two-streams.pcapng.bz2 part-two-frames.pcapng.lz4; do
	n=$(stat -c %s "$f")
	head -c $((n * 2 / 3)) "$f" > "cut-$f"
done
