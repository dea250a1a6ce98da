#!/bin/bash
# Scale (docs/performance.md, "Scale"): fills a fresh home with N cases
# through the store API (build/bench/fill_store clones: the first case
# through request_create as `imi request new` does, the others with their
# own key, sealed subject, record, mails, timers and audit entry), 1,000 of
# them with a reminder due at one time and the others due two months later,
# and measures wall time of
#   imi tick (nothing due), imi tick (1,000 due), imi case show,
#   imi directory search (with as many authorities as cases, at most
#   SCALE_AUTHORITIES, default 100000)
# and the data files' size per case.  SCALE_SIZES (default "0 10000
# 100000"; add 999990 for the ~1M run, about 6 minutes more: case ids
# IMI-YYYY-NNNNNN number all cases, so 999,999 is the most a store can hold)
# chooses N.  Each timing is the median of SCALE_RUNS (default 5) runs except
# the 1,000-due tick, which changes the store and is run once.
# Prints a Markdown table on stdout.  Everything stays in a temporary
# directory removed at the end; no server is started.
set -eu
IMI_SRC=${IMI_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
cd "$IMI_SRC"
make --no-print-directory "$BUILD/imi" "$BUILD/bench/fill_store" >/dev/null
IMI=$IMI_SRC/$BUILD/imi
fill=$IMI_SRC/$BUILD/bench/fill_store
export IMI_DATADIR=$IMI_SRC
sizes=${SCALE_SIZES:-0 10000 100000}
idle_all=""
first_all=""
max_auth=${SCALE_AUTHORITIES:-100000}
runs=${SCALE_RUNS:-5}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imi-scale.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# ms CMD...: wall milliseconds of one run (output discarded, must succeed).
# (bash's clock, read without starting a process: date's own start-up is
# not counted).
ms() {
	local t0 t1
	t0=${EPOCHREALTIME/./}
	"$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; echo "scale: failed: $*" >&2; exit 1; }
	t1=${EPOCHREALTIME/./}
	echo $((t1 - t0))
}
# median CMD...: median of $runs runs, in ms with one decimal.
median() {
	local i
	for ((i = 0; i < runs; i++)); do ms "$@"; done | sort -n |
		awk '{v[NR] = $1} END {printf "%.1f", v[int((NR + 1) / 2)] / 1000}'
}

echo "| cases | fill cases (s) | tick, nothing due (ms) | tick, 1,000 due (ms) | case show (ms) | authorities (fill s) | directory search, 1 hit (ms) | directory search --country SE, 1/10 hit (ms) | data files per case (KB) |"
echo "|------:|---------:|-----------------------:|---------------------:|---------------:|------------:|----------------------------:|--------------------------------:|-------------------------:|"
for n in $sizes; do
	H=$tmp/home-$n
	imi() { "$IMI" --home "$H" "$@"; }
	# no match is exit 1 with a message: still a search
	search() { "$IMI" --home "$H" directory search "$@" || true; }
	imi init >/dev/null
	imi authority add --id bench-a --country FR --language fr --name 'fr=A' \
		--area professional-qualifications --postbox imi@a.fr --domain a.fr >/dev/null
	imi authority add --id bench-b --country DE --language de --name 'de=B' \
		--area professional-qualifications --postbox imi@b.de --domain b.de >/dev/null
	t0=$(date +%s%N)
	due=0
	if [ "$n" -gt 0 ]; then
		due=$((n < 1000 ? n : 1000))
		"$fill" "$H" clones "$due" 2030-01-01T00:00:00 >/dev/null
		[ "$n" -gt "$due" ] && "$fill" "$H" clones $((n - due)) 2030-03-01T00:00:00 >/dev/null
	fi
	t1=$(date +%s%N)
	n_auth=$((n < max_auth ? n : max_auth))
	[ "$n_auth" -gt 0 ] && "$fill" "$H" authorities "$n_auth" 5000 >/dev/null
	t2=$(date +%s%N)
	fill_s=$(awk -v d=$((t1 - t0)) 'BEGIN {printf "%.0f", d / 1e9}')
	fill_auth_s=$(awk -v d=$((t2 - t1)) 'BEGIN {printf "%.0f", d / 1e9}')
	# the case data: every data file but the directory's
	data=$(find "$H/db" -name '*.db' ! -name authorities.db -printf '%s\n' | awk '{s += $1} END {print s}')
	per_case=-
	[ "$n" -gt 0 ] && per_case=$(awk -v s="$data" -v n="$n" 'BEGIN {printf "%.1f", s / n / 1024}')
	# The first process to open the store after the fill pays once for
	# what the fill left (at ~1M cases about 2.4 s, 16,000 page reads and
	# waits in Berkeley DB; 18 ms the second time): timed apart, then the
	# steady state.
	first=$(ms imi tick --now 2029-12-31T00:00:00)
	first_all="$first_all${first_all:+, }$(awk -v u="$first" 'BEGIN {printf "%.0f", u / 1000}') ms at $n"
	idle=$(median imi tick --now 2029-12-31T00:00:00)
	show=-
	[ "$n" -gt 0 ] && show=$(median imi case show IMI-2030-000500)
	hit=$(median search bench-004242)
	country=$(median search --country SE)
	# The due tick: run once, and it must run exactly the 1,000 due timers.
	t0=$(date +%s%N)
	out=$(imi tick --now 2030-01-09T00:00:00 2>&1)
	t1=$(date +%s%N)
	case $out in *" $due timer(s) run, 0 failed"*) ;; *) echo "scale: tick ran other than $due timers: $out" >&2; exit 1 ;; esac
	due_ms=$(awk -v d=$((t1 - t0)) 'BEGIN {printf "%.1f", d / 1e6}')
	[ "$n" -gt 0 ] || due_ms=-
	echo "| $n | $fill_s | $idle | $due_ms | $show | $((n_auth + 2)) ($fill_auth_s) | $hit | $country | $per_case |"
	idle_all="$idle_all${idle_all:+, }$idle ms at $n"
	rm -rf "$H"
done
echo
echo "The first \`imi tick\` after each fill (not in the medians): $first_all."
[ -z "${BENCH_SUMMARY:-}" ] || echo "(4) \`imi tick\` nothing due under 10 ms at 1M cases, flat|$idle_all" >>"$BENCH_SUMMARY"
