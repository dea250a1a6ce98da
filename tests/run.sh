#!/bin/bash
# Runs the test suite and prints one summary line: "N passed, N failed".
#   tests/run.sh [unit|integration|all]
# Unit tests are cmocka programs in $BUILD/tests; integration tests are the
# scripts tests/integration/*.sh, each printing TAP-style "ok"/"not ok" lines.
# LONG=1 also runs the scripts named *.long.sh (make torture).
# VALGRIND=1 runs the unit tests under valgrind's memcheck; UNIT_JOBS=N
# runs N unit test programs at once (default: one per core).
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
what=${1:-all}
passed=0 failed=0
failures=()
export IMI=$PWD/$BUILD/imi
export IMI_SRC=$PWD
export IMI_DATADIR=$PWD
mkdir -p tests/tmp

# One unit test program, its output into $2 and its exit code into $2.rc.
# A test that hangs fails instead of holding the run: its whole process
# group (forked children included) is killed.
run_unit_one() {
	local bin=$1 out=$2 rc
	timeout -k 10 "${UNIT_TIMEOUT:-600}" "${vg[@]}" "$bin" >"$out" 2>&1
	rc=$?
	[ "$rc" = 124 ] && echo "ERROR: $(basename "$bin") did not finish in ${UNIT_TIMEOUT:-600} s" >>"$out"
	echo "$rc" >"$out.rc"
}

# The programs run UNIT_JOBS at a time (one per core by default),
# test_store first as the longest; their results are read in order.
run_unit() {
	local bin out p f rc vg=() jobs=${UNIT_JOBS:-$(nproc)} dir bins=()
	[ "${VALGRIND:-0}" = 1 ] &&
		vg=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99)
	[ -x "$BUILD/tests/test_store" ] && bins+=("$BUILD/tests/test_store")
	for bin in "$BUILD"/tests/test_*; do
		[ -x "$bin" ] && [ "$bin" != "$BUILD/tests/test_store" ] && bins+=("$bin")
	done
	dir=$(mktemp -d tests/tmp/unit-XXXXXX)
	for bin in "${bins[@]}"; do
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
		run_unit_one "$bin" "$dir/$(basename "$bin")" &
	done
	wait
	for bin in "$BUILD"/tests/test_*; do
		[ -x "$bin" ] || continue
		out=$(cat "$dir/$(basename "$bin")")
		rc=$(cat "$dir/$(basename "$bin").rc")
		printf '%s\n' "$out" | grep -E '^\[ *(PASSED|FAILED|  OK|==========) *\]|ERROR|FAIL|==[0-9]+==' | grep -vE '^\[       OK \]' || true
		p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
		f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
			f=1
			printf '%s\n' "$out" | tail -n 20
		fi
		passed=$((passed + p))
		failed=$((failed + f))
		[ "$f" != 0 ] && failures+=("$(basename "$bin")${vg:+ (valgrind)}")
	done
	rm -rf "$dir"
}

run_integration() {
	local t out rc p f name
	for t in tests/integration/*.sh; do
		[ -f "$t" ] || continue
		case "$t" in *.long.sh) [ "${LONG:-0}" = 1 ] || continue ;; esac
		name=$(basename "$t" .sh)
		echo "== $name"
		out=$(timeout 900 bash "$t" 2>&1)
		rc=$?
		printf '%s\n' "$out" | sed 's/^/   /'
		p=$(printf '%s\n' "$out" | grep -c '^ok ')
		f=$(printf '%s\n' "$out" | grep -c '^not ok ')
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
			f=1
			echo "   (exit code $rc)"
		fi
		passed=$((passed + p))
		failed=$((failed + f))
		[ "$f" != 0 ] && failures+=("$name")
	done
}

case "$what" in
unit) run_unit ;;
integration) run_integration ;;
*)
	run_unit
	run_integration
	# The unit tests once more under valgrind's memcheck (leaks, invalid
	# reads), unless built with the sanitizers, which do that job.
	# CHECK_VALGRIND=0 skips it for a quick run.
	if [ "${SAN:-0}" != 1 ] && [ "${CHECK_VALGRIND:-1}" = 1 ]; then
		echo "== unit tests under valgrind"
		VALGRIND=1 run_unit
	fi
	;;
esac

[ ${#failures[@]} -gt 0 ] && echo "failed: ${failures[*]}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
