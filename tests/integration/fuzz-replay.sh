#!/bin/bash
# The fuzz targets (fuzz/fuzz_<target>.c) replayed on their seed corpora
# (fuzz/corpus/<target>/) and on every input that once made them fail
# (fuzz/regressions/<target>/): each input once, in name order, so the run
# is deterministic.  Built into $BUILD/fuzz/replay_<target> by make check
# (with the sanitizers under SAN=1).  One "ok" line per directory.
set -u
IMI_SRC=${IMI_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
IMI=${IMI:-$IMI_SRC/build/imi}
build=$(dirname "$IMI")
export IMI_SRC
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for t in mime trim answers token template; do
	bin=$build/fuzz/replay_$t
	if [ ! -x "$bin" ]; then
		echo "not ok - fuzz replay $t: $bin not built"
		failed=1
		continue
	fi
	start=$(date +%s%N)
	out=$(timeout 120 "$bin" "$IMI_SRC/fuzz/corpus/$t" "$IMI_SRC/fuzz/regressions/$t" 2>&1)
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	if [ "$rc" = 0 ]; then
		printf '%s\n' "$out" | sed "s|$IMI_SRC/||g"
	else
		printf '%s\n' "$out" | tail -n 30 | sed 's/^/# /'
		echo "not ok - fuzz replay $t: exit code $rc after $ms ms (the input is named above)"
		failed=1
	fi
done

# The replay itself fails when it cannot read what it is given.
"$build/fuzz/replay_token" "$tmp/no-such-dir" >/dev/null 2>&1
if [ $? != 0 ]; then
	echo "ok - fuzz replay: a missing corpus directory fails the replay"
else
	echo "not ok - fuzz replay: a missing corpus directory passed"
	failed=1
fi
exit $failed
