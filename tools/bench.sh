#!/bin/bash
# make bench: how fast imi reads replies (docs/performance.md).
# Builds bench/parse_bench, then runs each stage over the reply corpus
# (/work/shared/corpora/replies, found as tests/integration/corpus.sh finds
# it) and over the reply fixtures (tests/fixtures/replies), each for
# BENCH_SECONDS (default 3) in one process (about a minute), then the
# scale, per-message, memory and Postfix benchmarks of tools/bench/ (about
# 15 minutes more; BENCH_ONLY=parse skips them).
set -eu
IMI_SRC=${IMI_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-build}
secs=${BENCH_SECONDS:-3}
cd "$IMI_SRC"
make --no-print-directory "$BUILD/bench/parse_bench" >/dev/null
bench=$IMI_SRC/$BUILD/bench/parse_bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

corpus=$IMI_SRC/../shared/corpora/replies
[ -d "$corpus" ] || corpus=/work/shared/corpora/replies
fixtures=$IMI_SRC/tests/fixtures/replies

echo "# machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
echo "# each line: one stage repeated over all its messages for ${secs}s in one process"
if [ -d "$corpus" ]; then
	find "$corpus" -type f \( -name 'input.eml' -o -name 'input.txt' -o -name 'input.html' \) |
		sort >"$tmp/corpus.list"
	echo "# reply corpus: $corpus ($(wc -l <"$tmp/corpus.list") messages)"
	for stage in gmime parse trim; do
		printf 'corpus   '
		"$bench" "$stage" "$secs" "@$tmp/corpus.list"
	done
else
	echo "# no reply corpus at \$IMI_SRC/../shared/corpora/replies or /work/shared/corpora/replies: skipped"
fi
set -- "$fixtures"/*.eml
echo "# reply fixtures: $fixtures ($# messages)"
for stage in gmime parse trim; do
	printf 'fixtures '
	"$bench" "$stage" "$secs" "$@"
done
for stage in answers all; do
	printf 'fixtures '
	"$bench" "$stage" "$secs" --sets templates/sets --catalogs templates/catalogs "$@"
done

# The other benchmarks (docs/performance.md), each its own script, each
# printing Markdown.  BENCH_ONLY=parse skips them; SCALE_SIZES, PERMSG_RUNS,
# MEMORY_MB, MTA_N, MTA_ROUNDS tune them.
[ "${BENCH_ONLY:-}" = parse ] && exit 0
echo
echo "## Scale (tools/bench/scale.sh)"
tools/bench/scale.sh
echo
echo "## Per-message cost (tools/bench/permsg.sh)"
tools/bench/permsg.sh
echo
echo "## Memory (tools/bench/memory.sh)"
tools/bench/memory.sh
echo
echo "## Through Postfix (tools/bench/mta.sh)"
if [ "$(id -u)" = 0 ] && command -v postfix >/dev/null && command -v dnsmasq >/dev/null; then
	tools/bench/mta.sh
else
	echo "skipped: needs root, postfix and dnsmasq"
fi
