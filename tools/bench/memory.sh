#!/bin/bash
# Memory (docs/performance.md, "Memory"): peak resident set size of one
# `imi deliver` (GNU time, %M) of a DKIM-signed answer to an accepted case
# carrying an attachment of MEMORY_MB megabytes (default 25) of random
# bytes, base64-encoded, beside the same answer without the attachment.
# max_message_bytes is raised to fit.  Prints Markdown on stdout; the
# temporary home is removed at the end.
set -eu
IMI_SRC=${IMI_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
cd "$IMI_SRC"
make --no-print-directory "$BUILD/imi" >/dev/null
IMI=$IMI_SRC/$BUILD/imi
export IMI_DATADIR=$IMI_SRC
mb=${MEMORY_MB:-25}
[ -x /usr/bin/time ] || { echo "memory: /usr/bin/time (GNU time) is not installed" >&2; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imi-memory.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
IMI_CONF="[limits]
max_message_bytes = $((mb * 1048576 * 14 / 10 + 1048576))"
. "$IMI_SRC/tools/bench/case-home.sh"
cp -a "$H" home.clean
head -c $((mb * 1048576)) /dev/urandom >attachment.bin
answer_text() { printf 'Q1: Dr. Erika Mustermann\nQ2: 12345\nQ3: 1.3.2010\nQ4: ja\nQ5: nein\n\nJan Becker\n'; }
answer_text | mail 2 "AW: Auskunftsersuchen [$case_id]" >small.eml
{
	echo "--bench-boundary"
	echo "Content-Type: text/plain; charset=utf-8"
	echo
	answer_text
	echo "--bench-boundary"
	echo "Content-Type: application/pdf; name=diploma.pdf"
	echo "Content-Disposition: attachment; filename=diploma.pdf"
	echo "Content-Transfer-Encoding: base64"
	echo
	base64 -w 76 attachment.bin
	echo "--bench-boundary--"
} | mail 3 "AW: Auskunftsersuchen [$case_id]" 'Content-Type: multipart/mixed; boundary="bench-boundary"' >big.eml
# peak FILE: peak RSS in KB of delivering FILE to a fresh copy of the home;
# the answer must be applied.
peak() {
	rm -rf "$H"
	cp -a home.clean "$H"
	/usr/bin/time -f %M -o rss.out "$IMI" --home "$H" deliver --recipient "$reply_to" <"$1" >/dev/null 2>deliver.err ||
		{ echo "memory: deliver failed on $1: $(cat deliver.err)" >&2; exit 1; }
	[ "$(imi case show "$case_id" | sed -n 's/^  state: //p')" = answered ] ||
		{ echo "memory: the answer in $1 was not applied: $(cat deliver.err)" >&2; exit 1; }
	cat rss.out
}
small_kb=$(peak small.eml)
big_kb=$(peak big.eml)
size=$(wc -c <big.eml)
echo "| \`imi deliver\` of | message (MB) | peak RSS (MB) | peak / attachment |"
echo "|---|---:|---:|---:|"
awk -v s="$(wc -c <small.eml)" -v k="$small_kb" 'BEGIN {printf "| a 2 KB answer | %.3f | %.1f | - |\n", s / 1048576, k / 1024}'
awk -v s="$size" -v k="$big_kb" -v mb="$mb" 'BEGIN {printf "| the answer with a %d MB attachment (base64) | %.1f | %.1f | %.2f |\n", mb, s / 1048576, k / 1024, k / 1024 / mb}'
[ -z "${BENCH_SUMMARY:-}" ] || echo "(5) \`imi deliver\` peak RSS under 3x a ${mb} MB attachment|$(awk -v k="$big_kb" -v mb="$mb" 'BEGIN {printf "%.0f MB, %.1fx", k / 1024, k / 1024 / mb}')" >>"$BENCH_SUMMARY"
