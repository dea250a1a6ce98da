#!/bin/bash
# held.sh: the review queue's own retention ([Retention] Held of the
# retention policy).  A message held for review that nobody releases or
# discards is deleted at the end of the period, like case data: its record,
# its key (destroyed) and its Message-ID entry go, the audit log says
# held.expired, and a message released or discarded before then is left
# alone by the timer.  When a message is held, the coordinators of its
# sender's country are told in their language; a stranger's is only audited.
set -u
. "$(dirname "$0")/lib.sh"
lib_init held

H=$WORK/home
imi_home "$H" "[service]
domain = imi.localhost" || { not_ok "imi init"; exit 1; }
imi() { "$IMI" --home "$H" "$@"; }
msg() { printf 'From: Handler <handler@authority.example>\nTo: imi@imi.localhost\nSubject: Re: request\nMessage-ID: <%s@authority.example>\n\nQ1: yes %s\n' "$1" "$2"; }
held_count() { imi held list | grep -c '@authority.example'; }

# A French authority whose domain the sender's address is in, and its
# coordinator; a German coordinator, who must hear nothing of French mail.
imi authority add --id fr-x --country FR --language fr --name 'fr=Autorité' \
	--area professional-qualifications --postbox imi@authority.example --domain authority.example >/dev/null &&
imi user add --email coord@authority.example --authority fr-x --role handler,coordinator >/dev/null &&
imi authority add --id de-x --country DE --language de --name 'de=Behörde' \
	--area professional-qualifications --postbox imi@behoerde.example --domain behoerde.example >/dev/null &&
imi user add --email koord@behoerde.example --authority de-x --role handler,coordinator >/dev/null ||
	{ not_ok "registering authorities and coordinators"; exit 1; }

now=$(date -u +%s)
at() { date -u -d "@$((now + $1 * 86400))" +%Y-%m-%dT%H:%M:%SZ; }
canary=$(head -c 12 /dev/urandom | base32 | tr -dc A-Z | head -c 12)
msg h1 "$canary" | imi deliver --sender handler@authority.example >/dev/null 2>&1
check "an unsigned message from a stranger is held (exit $?)" test "$(held_count)" = 1
msg h2 other | imi deliver --sender handler@authority.example >/dev/null 2>&1
n2=$(imi held list | awk '/<h2@authority.example>|h2@authority.example/ {print $1; exit}')
imi held discard "$n2" >/dev/null 2>&1
notices=$(imi outbox list | grep -c 'coord@authority.example')
check "the French coordinator is told of each held message ($notices)" test "$notices" = 2
seq=$(imi outbox list | awk '/coord@authority.example/ {print $1; exit}')
imi outbox show "$seq" >"$WORK/notice.eml"
check "the notice is in French" python3 -c "
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
body = m.get_body(('plain',)).get_content()
sys.exit(0 if 'retenu' in str(m['Subject']) and 'imi held show' in body
            and 'ne mentionne aucun dossier' in body else 1)" "$WORK/notice.eml"
check "the notice carries no text of the held message" sh -c "! grep -q '$canary' '$WORK/notice.eml'"
check "the German coordinator hears nothing of it" sh -c "! '$IMI' --home '$H' outbox list | grep -q koord@behoerde.example"
printf 'From: x@stranger.example\nTo: imi@imi.localhost\nSubject: hi\nMessage-ID: <s1@stranger.example>\n\nhello\n' |
	imi deliver --sender x@stranger.example >/dev/null 2>&1
check "a stranger's held message is audited as told to nobody" sh -c "'$IMI' --home '$H' audit | grep -q held.untold"
imi held discard "$(imi held list | awk '/s1@stranger.example/ {print $1; exit}')" >/dev/null
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
