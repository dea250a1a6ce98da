#!/bin/bash
# Per-message cost (docs/performance.md, "Per-message cost"): instructions of
# one `imi deliver` of a DKIM-signed (RSA-2048) answer to an open, accepted
# case, counted by valgrind --tool=callgrind (the same count whatever else the
# machine does), beside the floor counted the same way (build/bench/floor:
# libopendkim's verification of the same message, which hashes body and
# headers with SHA-256 and verifies one RSA-2048 signature, plus one GMime
# parse).  Each delivery runs on a fresh copy of the same home, so every run
# does the same work.  Also the commit latency: wall time of `imi deliver`
# with and without the fdatasync of the log (strace -c counts the calls).
# Prints Markdown on stdout; the temporary home is removed at the end.
set -eu
IMI_SRC=${IMI_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
cd "$IMI_SRC"
make --no-print-directory "$BUILD/imi" "$BUILD/bench/floor" >/dev/null
IMI=$IMI_SRC/$BUILD/imi
floor=$IMI_SRC/$BUILD/bench/floor
export IMI_DATADIR=$IMI_SRC
runs=${PERMSG_RUNS:-3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imi-permsg.XXXXXX")
[ -n "${PERMSG_KEEP:-}" ] || trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

. "$IMI_SRC/tools/bench/case-home.sh"
{
	printf 'Q1: Dr. Erika Mustermann\nQ2: 12345\nQ3: 1.3.2010\nQ4: ja\nQ5: nein\n\n'
	printf 'Mit freundlichen Grüßen\nJan Becker\nÄrztekammer, Referat Berufsanerkennung\n\n'
	printf 'Am %s schrieb IMI:\n' "$(date -R)"
	cat quoted.txt
} | mail 2 "AW: Auskunftsersuchen [$case_id]" >answer.eml
cp -a "$H" home.clean

# deliver_once: a fresh copy of the home, then CMD... with the answer on stdin;
# the case must then be answered.
fresh() { rm -rf "$H"; cp -a home.clean "$H"; }
check_answered() {
	[ "$(imi case show "$case_id" | sed -n 's/^  state: //p')" = answered ] ||
		{ echo "permsg: the answer was not applied" >&2; exit 1; }
}
ir() { sed -n 's/^summary: //p' "$1"; }
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

for ((i = 0; i < runs; i++)); do
	fresh
	valgrind --tool=callgrind --callgrind-out-file=cg.deliver.$i \
		"$IMI" --home "$H" deliver --recipient "$reply_to" <answer.eml >/dev/null 2>&1
	check_answered
	ir cg.deliver.$i
done | median >deliver.ir
# A second delivery of the same message: start-up, parse, the duplicate found.
valgrind --tool=callgrind --callgrind-out-file=cg.dup \
	"$IMI" --home "$H" deliver --recipient "$reply_to" <answer.eml >/dev/null 2>&1
for ((i = 0; i < runs; i++)); do
	valgrind --tool=callgrind --callgrind-out-file=cg.floor.$i "$floor" answer.eml keys.txt dkim,gmime >/dev/null 2>&1 ||
		{ echo "permsg: the floor failed on the message" >&2; exit 1; }
	ir cg.floor.$i
done | median >floor.ir
for st in dkim gmime none; do
	valgrind --tool=callgrind --callgrind-out-file=cg.floor.$st "$floor" answer.eml keys.txt $st >/dev/null 2>&1
done

d=$(cat deliver.ir) f=$(cat floor.ir)
mi() { awk -v v="$1" 'BEGIN {printf "%.1f", v / 1e6}'; }
echo "Message: $(wc -c <answer.eml) bytes, text/plain, DKIM rsa-sha256 2048 bits, relaxed/relaxed; an answer to an accepted case."
echo
echo "| what (one process each, callgrind) | instructions (millions) |"
echo "|---|---:|"
echo "| \`imi deliver\`, the answer applied (median of $runs) | $(mi "$d") |"
echo "| \`imi deliver\`, the same message again (duplicate) | $(mi "$(ir cg.dup)") |"
echo "| floor: libopendkim verify + GMime parse (median of $runs) | $(mi "$f") |"
echo "| floor, libopendkim verify only | $(mi "$(ir cg.floor.dkim)") |"
echo "| floor, GMime parse only | $(mi "$(ir cg.floor.gmime)") |"
echo "| floor program reading the file only (start-up) | $(mi "$(ir cg.floor.none)") |"
echo
echo "Ratio deliver / floor: $(awk -v d="$d" -v f="$f" 'BEGIN {printf "%.2f", d / f}')"
[ -z "${BENCH_SUMMARY:-}" ] || echo "(2) \`imi deliver\` within 3x of the floor (instructions)|$(awk -v d="$d" -v f="$f" 'BEGIN {printf "%.2fx", d / f}')" >>"$BENCH_SUMMARY"
echo
echo "Where \`imi deliver\` spends them (callgrind_annotate, inclusive, top entries):"
echo
echo '```'
callgrind_annotate --inclusive=yes cg.deliver.0 2>/dev/null | grep -E '^ *[0-9,]+ \(' | sed -n 1,25p |
	sed -E 's/ \[[^]]*\]$//' | cut -c1-150
echo '```'

# Commit latency: wall time per delivery with the store's own fdatasync, and
# how many fdatasync/fsync calls one delivery makes.
wall() {
	local t0 t1
	fresh
	t0=$(date +%s%N)
	"$IMI" --home "$H" deliver --recipient "$reply_to" <answer.eml >/dev/null 2>&1
	t1=$(date +%s%N)
	check_answered
	echo $(((t1 - t0) / 1000))
}
w=$(for ((i = 0; i < 5; i++)); do wall; done | median)
syncs=-
if command -v strace >/dev/null; then
	fresh
	strace -f -c -e trace=fsync,fdatasync,msync -o strace.out \
		"$IMI" --home "$H" deliver --recipient "$reply_to" <answer.eml >/dev/null 2>&1
	syncs=$(awk '$NF ~ /^(fsync|fdatasync|msync)$/ {printf "%s%s %s", s, $4, $NF; s = ", "}' strace.out)
	sync_us=$(awk '$NF ~ /^(fsync|fdatasync)$/ {t += $2 * 1e6} END {printf "%.0f", t}' strace.out)
	fresh
	strace -f -y -e trace=fsync,fdatasync -o strace.files \
		"$IMI" --home "$H" deliver --recipient "$reply_to" <answer.eml >/dev/null 2>&1
	per_file=$(sed -nE 's/.*(fsync|fdatasync)\([0-9]+<[^>]*\/([^/>]*)>\).*/\2/p' strace.files |
		sed -E 's/^log\.[0-9]+$/log.N (the transaction log)/' | sort | uniq -c |
		awk '{n = $1; $1 = ""; printf "%s%s x%s", s, substr($0, 2), n; s = ", "}')
fi
echo
echo "Commit: one delivery takes $(awk -v w="$w" 'BEGIN {printf "%.1f", w / 1000}') ms wall (median of 5, process start-up included); sync calls in it: ${syncs:-none}${sync_us:+ (strace -c: ${sync_us} µs in them)}."
[ -n "${per_file:-}" ] && echo "By file: $per_file."
