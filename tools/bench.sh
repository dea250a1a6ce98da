#!/bin/bash
# make bench: the figures of docs/performance.md.
#
# Runs, each printing Markdown:
#   parse_bench   how fast imi reads replies (bench/parse_bench.c), each stage
#                 over the reply corpus and the reply fixtures, BENCH_SECONDS
#                 (default 3) a stage, in one process
#   peers.sh      reply trimming against discourse's and github's trimmers
#                 (their code from PEERS_DIR, default /tmp/peers)
#   scale.sh      imi tick, case show, directory search at 0 to 100k cases
#                 (SCALE_SIZES="0 10000 100000 999990" for ~1M)
#   permsg.sh     one imi deliver against the floor (callgrind)
#   memory.sh     imi deliver's peak RSS on a 25 MB attachment
#   mta.sh        Postfix alone, with OpenDKIM, with imi milter, piping to
#                 imi deliver; the milter's peak RSS (needs root, postfix,
#                 dnsmasq; opendkim for one row)
# then a table of the targets, and writes everything, with the machine, the
# versions and the commands, between the "bench:begin" and "bench:end" marks
# of docs/performance.md (BENCH_DOCS=0: print only).
#
# BENCH_QUICK=1: smaller runs (about 4 minutes instead of about 12; see
# docs/performance.md); BENCH_ONLY="parse peers scale permsg memory mta"
# chooses parts.  Each part's own variables (MTA_N, SCALE_SIZES, ...) still
# apply.
set -eu
IMI_SRC=${IMI_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-build}
cd "$IMI_SRC"
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	: "${BENCH_SECONDS:=1}" "${PEERS_SECONDS:=1}" "${PEERS_ROUNDS:=3}"
	: "${SCALE_SIZES:=0 10000}" "${SCALE_RUNS:=3}" "${PERMSG_RUNS:=1}"
	: "${MTA_N:=300}" "${MTA_ROUNDS:=3}" "${MTA_BIG:=5}"
fi
export BENCH_SECONDS PEERS_SECONDS PEERS_ROUNDS SCALE_SIZES SCALE_RUNS PERMSG_RUNS \
	MTA_N MTA_ROUNDS MTA_BIG 2>/dev/null || true
only=${BENCH_ONLY:-parse peers scale permsg memory mta}
secs=${BENCH_SECONDS:-3}
make --no-print-directory "$BUILD/imi" "$BUILD/bench/parse_bench" "$BUILD/bench/fill_store" \
	"$BUILD/bench/floor" >/dev/null
bench=$IMI_SRC/$BUILD/bench/parse_bench
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imi-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export BENCH_SUMMARY=$tmp/summary
: >"$BENCH_SUMMARY"
report=$tmp/report.md
started=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

corpus=$IMI_SRC/../shared/corpora/replies
[ -d "$corpus" ] || corpus=/work/shared/corpora/replies
fixtures=$IMI_SRC/tests/fixtures/replies
ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"; }
has() { case " $only " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
# section TITLE CMD...: runs a part, its Markdown to the report and stdout.
section() {
	local title=$1
	shift
	{ echo; echo "### $title"; echo; } | tee -a "$report"
	if ! "$@" 2>"$tmp/err" | tee -a "$report"; then
		echo "**failed**: $(tail -n 5 "$tmp/err" | tr '\n' ' ')" | tee -a "$report"
	fi
}

parse_part() {
	echo "Each line: one stage repeated over all its messages for ${secs} s in one process."
	echo
	echo '```'
	if [ -d "$corpus" ]; then
		find "$corpus" -type f \( -name 'input.eml' -o -name 'input.txt' -o -name 'input.html' \) |
			sort >"$tmp/corpus.list"
		for stage in gmime parse trim; do
			printf 'corpus   '
			"$bench" "$stage" "$secs" "@$tmp/corpus.list"
		done
	else
		echo "no reply corpus: skipped"
	fi
	set -- "$fixtures"/*.eml
	for stage in gmime parse trim; do
		printf 'fixtures '
		"$bench" "$stage" "$secs" "$@"
	done
	for stage in answers all; do
		printf 'fixtures '
		"$bench" "$stage" "$secs" --sets templates/sets --catalogs templates/catalogs "$@"
	done
	echo '```'
}
mta_part() {
	if [ "$(id -u)" = 0 ] && command -v postfix >/dev/null && command -v dnsmasq >/dev/null; then
		tools/bench/mta.sh
	else
		echo "skipped: needs root, postfix and dnsmasq"
	fi
}

{
	echo "Run of $(date -u '+%Y-%m-%d %H:%M UTC') by \`make bench\`$([ "${BENCH_QUICK:-0}" = 1 ] && echo " (BENCH_QUICK=1)")."
	echo
	echo "- machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo), Linux $(uname -r); load average at the start: $load_start"
	echo "- versions: gcc $(gcc -dumpfullversion), GLib $(pkg-config --modversion glib-2.0), GMime $(pkg-config --modversion gmime-3.0), Berkeley DB $(ver libdb5.3), libopendkim $(ver libopendkim11), libmilter $(ver libmilter1.0.1), Postfix $(ver postfix), OpenDKIM $(ver opendkim), Ruby $(ver ruby3.1)"
	echo "- build: \`make\` (CFLAGS \`-O2 -g\`), $(git -C "$IMI_SRC" rev-parse --short HEAD 2>/dev/null || echo "no git")"
	echo "- settings: BENCH_SECONDS=$secs PEERS_SECONDS=${PEERS_SECONDS:-3} PEERS_ROUNDS=${PEERS_ROUNDS:-3} SCALE_SIZES=\"${SCALE_SIZES:-0 10000 100000}\" SCALE_RUNS=${SCALE_RUNS:-5} PERMSG_RUNS=${PERMSG_RUNS:-3} MTA_N=${MTA_N:-2000} MTA_ROUNDS=${MTA_ROUNDS:-3} MTA_BIG=${MTA_BIG:-20} PEERS_DIR=${PEERS_DIR:-/tmp/peers}"
} | tee "$report"

has parse && section "Reading replies (\`build/bench/parse_bench STAGE ${secs} FILE...\`)" parse_part
has peers && section "Reply trimming against the peers (\`tools/bench/peers.sh\`)" tools/bench/peers.sh
has scale && section "Scale (\`tools/bench/scale.sh\`)" tools/bench/scale.sh
has permsg && section "Per-message cost against the floor (\`tools/bench/permsg.sh\`)" tools/bench/permsg.sh
has memory && section "Memory of \`imi deliver\` (\`tools/bench/memory.sh\`)" tools/bench/memory.sh
has mta && section "Through Postfix (\`tools/bench/mta.sh\`)" mta_part

{
	echo
	echo "### Targets (issue \"Measured speed\")"
	echo
	echo "| target | measured |"
	echo "|---|---|"
	sort "$BENCH_SUMMARY" | awk -F'|' '{printf "| %s | %s |\n", $1, $2}'
	echo
	echo "\`make bench\` took $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
} | tee -a "$report"

if [ "${BENCH_DOCS:-1}" = 1 ] && grep -q '<!-- bench:begin -->' docs/performance.md; then
	awk -v rep="$report" '
		/<!-- bench:begin -->/ {print; while ((getline l < rep) > 0) print l; skip = 1; next}
		/<!-- bench:end -->/ {skip = 0}
		!skip {print}' docs/performance.md >"$tmp/perf.md"
	cp "$tmp/perf.md" docs/performance.md
	echo
	echo "(written to docs/performance.md)"
fi
