#!/bin/bash
# deliver-concurrent.sh: many `imi deliver` started at once on one home, as
# Postfix's pipe transport does without a process limit.  Every one must
# commit (exit 0), each message must be in the store exactly once (review
# queue and audit log), the store must pass imi check, and the whole burst
# must end within a bound generous enough for a loaded machine.  While the
# store ran failchk at every open, 60 took 30-76 s here (2 cores, loaded),
# a fifth of them giving up with exit 75; now about 2-4 s.
set -u
. "$(dirname "$0")/lib.sh"
lib_init deliver-concurrent

N=${CONCURRENT_DELIVERIES:-60}
BOUND_S=${CONCURRENT_BOUND_S:-60}
H=$WORK/home
imi_home "$H" "[service]
domain = imi.localhost" || { not_ok "imi init"; exit 1; }
for i in $(seq 1 "$N"); do
	printf 'From: Handler <handler@authority.example>\nTo: imi@imi.localhost\nSubject: Re: request %s\nMessage-ID: <burst%s@authority.example>\n\nQ1: yes\n' \
		"$i" "$i" >"$WORK/m$i.eml"
done

t0=$(date +%s%N)
pids=()
for i in $(seq 1 "$N"); do
	"$IMI" --home "$H" deliver --sender handler@authority.example <"$WORK/m$i.eml" \
		>/dev/null 2>"$WORK/err$i" &
	pids+=($!)
done
failed=0
for i in "${!pids[@]}"; do
	wait "${pids[$i]}" || { failed=$((failed + 1)); echo "# delivery $((i + 1)): $(cat "$WORK/err$((i + 1))")"; }
done
t1=$(date +%s%N)
ms=$(((t1 - t0) / 1000000))
echo "# $N concurrent deliveries took $ms ms"

check "all $N concurrent deliveries exit 0 ($failed did not)" test "$failed" = 0
check "the burst ends within ${BOUND_S} s (took $ms ms)" test "$ms" -le $((BOUND_S * 1000))
# Unsigned and from an unknown sender, each message is held for review.
"$IMI" --home "$H" held list >"$WORK/held"
"$IMI" --home "$H" audit >"$WORK/audit"
dups=0 missing=0
for i in $(seq 1 "$N"); do
	h=$(grep -c "	burst$i@authority.example	" "$WORK/held")
	a=$(grep -c "<burst$i@authority.example>" "$WORK/audit")
	[ "$h" = 1 ] && [ "$a" = 1 ] && continue
	if [ "$h" = 0 ] || [ "$a" = 0 ]; then missing=$((missing + 1)); else dups=$((dups + 1)); fi
	echo "# burst$i: $h in the review queue, $a in the audit log; want 1 and 1"
done
check "each message is in the store: none missing ($missing)" test "$missing" = 0
check "each message is in the store once: no duplicates ($dups)" test "$dups" = 0
check "the review queue holds exactly $N messages (got $(wc -l <"$WORK/held"))" \
	test "$(wc -l <"$WORK/held")" = "$N"
store_consistent() { "$IMI" --home "$H" check >/dev/null; }
check "imi check finds the store consistent" store_consistent
exit "$LIB_FAILED"
