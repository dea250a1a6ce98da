#!/bin/bash
# make fuzz: runs each fuzz target for FUZZ_SECONDS, one after the other
# (the machine's cores are shared), and prints per target the executions,
# the time, the corpus size and libFuzzer's coverage (cov: edges, ft:
# features) from its final statistics.
#   FUZZ_SECONDS=60 FUZZ_BUILD=build-fuzz fuzz/run.sh TARGET...
# New interesting inputs are kept in fuzz/work/<target>/ (not in git; they
# start the next run); crashes, leaks and timeouts are written to
# fuzz/regressions/<target>/, which make check replays, and the run ends
# with status 1.  The log of each target is fuzz/work/<target>.log.
set -u
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
build=${FUZZ_BUILD:-build-fuzz}
export IMI_SRC=$PWD
# Inputs longer than this are cut: enough for a real reply or a set file.
max_len() {
	case $1 in
	mime | template) echo 65536 ;;
	trim | answers) echo 32768 ;;
	token) echo 512 ;;
	*) echo 4096 ;;
	esac
}
status=0
summary=()
for t in "$@"; do
	bin=$build/fuzz/fuzz_$t
	[ -x "$bin" ] || { echo "fuzz: $bin not built (make fuzz-build)" >&2; exit 2; }
	work=fuzz/work/$t
	crashes=fuzz/regressions/$t
	mkdir -p "$work" "$crashes"
	dict=()
	[ -f fuzz/dict/$t.dict ] && dict=(-dict=fuzz/dict/$t.dict)
	before=$(ls "$crashes" | wc -l)
	echo "== fuzz_$t for ${seconds}s"
	start=$(date +%s)
	"$bin" "$work" fuzz/corpus/$t "${dict[@]}" \
		-max_total_time="$seconds" -max_len="$(max_len "$t")" \
		-rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
		-artifact_prefix="$crashes/" >"fuzz/work/$t.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	after=$(ls "$crashes" | wc -l)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "fuzz/work/$t.log")
	last=$(grep -E '^#[0-9]+' "fuzz/work/$t.log" | tail -n 1)
	# A run that stopped at a crash prints no final statistics.
	[ -n "$execs" ] || execs=$(printf '%s\n' "$last" | sed -n 's/^#\([0-9]*\).*/\1/p')
	cov=$(printf '%s\n' "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
	corp=$(printf '%s\n' "$last" | sed -n 's/.*corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p')
	line="fuzz_$t: ${execs:-?} executions in $secs s, corpus ${corp:-?}, cov ${cov:-?}, ft ${ft:-?}, new crashes $((after - before))"
	echo "$line"
	summary+=("$line")
	if [ "$rc" != 0 ] || [ "$after" != "$before" ]; then
		status=1
		grep -E 'ERROR|SUMMARY|fuzz: |^==[0-9]+==' "fuzz/work/$t.log" | head -n 20
	fi
done
echo "== summary"
printf '%s\n' "${summary[@]}"
exit $status
