#!/bin/bash
# held.sh: the review queue's own retention ([Retention] Held of the
# retention policy).  A message held for review that nobody releases or
# discards is deleted at the end of the period, like case data: its record,
# its key (destroyed) and its Message-ID entry go, the audit log says
# held.expired, and a message released or discarded before then is left
# alone by the timer.
set -u
. "$(dirname "$0")/lib.sh"
lib_init held

H=$WORK/home
imi_home "$H" "[service]
domain = imi.localhost" || { not_ok "imi init"; exit 1; }
imi() { "$IMI" --home "$H" "$@"; }
msg() { printf 'From: Handler <handler@authority.example>\nTo: imi@imi.localhost\nSubject: Re: request\nMessage-ID: <%s@authority.example>\n\nQ1: yes %s\n' "$1" "$2"; }
held_count() { imi held list | grep -c '@authority.example'; }

now=$(date -u +%s)
at() { date -u -d "@$((now + $1 * 86400))" +%Y-%m-%dT%H:%M:%SZ; }
canary=$(head -c 12 /dev/urandom | base32 | tr -dc A-Z | head -c 12)
msg h1 "$canary" | imi deliver --sender handler@authority.example >/dev/null 2>&1
check "an unsigned message from a stranger is held (exit $?)" test "$(held_count)" = 1
msg h2 other | imi deliver --sender handler@authority.example >/dev/null 2>&1
n2=$(imi held list | awk '/<h2@authority.example>|h2@authority.example/ {print $1; exit}')
imi held discard "$n2" >/dev/null 2>&1
check "a second one is discarded by hand (number $n2)" test "$(held_count)" = 1
n1=$(imi held list | awk '/h1@authority.example/ {print $1; exit}')
check "the held message can be shown before its period ends" sh -c "'$IMI' --home '$H' held show '$n1' | grep -q '$canary'"

imi tick --now "$(at 29)" >/dev/null 2>&1
check "after 29 days it is still held" test "$(held_count)" = 1
imi tick --now "$(at 31)" >"$WORK/tick.out" 2>&1
rc=$?
check "the tick after 31 days succeeds ($rc)" test "$rc" = 0
check "after 31 days it is gone from the queue" test "$(held_count)" = 0
check "imi held show says there is no such message" sh -c "! '$IMI' --home '$H' held show '$n1' >/dev/null 2>&1"
check "the audit log says held.expired" sh -c "'$IMI' --home '$H' audit | grep -q 'held.expired'"
check "the discarded one did not expire again (one held.expired line)" \
	test "$(imi audit | grep -c 'held.expired')" = 1
check "imi check finds every index in agreement" sh -c "'$IMI' --home '$H' check >/dev/null"
check "its canary is in no file under the home, its text in no audit line" \
	sh -c "! grep -rqa '$canary' '$H' && ! '$IMI' --home '$H' audit | grep -q '$canary'"
msg h1 "$canary" | imi deliver --sender handler@authority.example >/dev/null 2>&1
check "the same message delivered again is held again, not a duplicate" test "$(held_count)" = 1
[ "$LIB_FAILED" = 0 ]
