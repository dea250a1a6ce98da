#!/bin/bash
# deliver.sh: imi deliver's exit codes (0 committed, 75 try again, 65 only
# over the size bound), once on its own and once as a Postfix pipe(8)
# transport as docs/postfix.md describes it; and imi tls-policy's table.
# The replies are unsigned: the real inbound path holds them for review on
# this path, which commits them like any other outcome (X-Test-Verdict is
# read only by a test build of inbound).
set -u
. "$(dirname "$0")/lib.sh"
lib_init deliver

H=$WORK/home
imi_home "$H" "[service]
domain = imi.localhost
[limits]
max_message_bytes = 20000" || { not_ok "imi init"; exit 1; }
audit_has() { "$IMI" --home "$H" audit | grep -c "$1"; }
msg() { printf 'From: Handler <handler@authority.example>\nTo: imi@imi.localhost\nSubject: Re: request\nMessage-ID: <%s@authority.example>\nX-Test-Verdict: applied\n\nQ1: yes\n' "$1"; }

msg d1 | "$IMI" --home "$H" deliver --sender handler@authority.example --client-ip 192.0.2.7 --helo mx.authority.example
rc=$?
check "a message is committed: exit 0 ($rc)" test "$rc" = 0
check "the store has it" test "$(audit_has '<d1@authority.example>')" -ge 1
msg d1 | "$IMI" --home "$H" deliver
rc=$?
check "the same message again is a duplicate: exit 0 ($rc)" test "$rc" = 0
{ msg d2; head -c 30000 /dev/zero | tr '\0' x | fold -w 70; } | "$IMI" --home "$H" deliver 2>"$WORK/err"
rc=$?
check "over max_message_bytes: exit 65 ($rc)" test "$rc" = 65
check "and says 552 5.3.4 on stderr" grep -q '552 5.3.4' "$WORK/err"
check "nothing of it is stored" test "$(audit_has '<d2@authority.example>')" = 0
# A read-only store (bind mount in a private mount namespace): exit 75.
msg d3 | unshare --mount --propagation private sh -c \
	"mount --bind '$H/db' '$H/db' && mount -o remount,bind,ro '$H/db' && exec '$IMI' --home '$H' deliver" 2>"$WORK/err"
rc=$?
check "store read-only: exit 75, the MTA retries ($rc)" test "$rc" = 75
check "nothing of it is stored" test "$(audit_has '<d3@authority.example>')" = 0
"$IMI" --home "$WORK/nowhere" deliver </dev/null >/dev/null 2>&1
rc=$?
check "no store at all: exit 75, the MTA keeps the message ($rc)" test "$rc" = 75

# Postfix pipe(8): the transport line of docs/postfix.md.  pipe(8) refuses
# to run a command as root: the home belongs to an unprivileged user, as it
# would to the imi user of a deployment (here: nobody).
chown -R nobody:nogroup "$H"
P=$(lib_free_port)
pf_start "$WORK/pf" "$P" "relay_domains=imi.localhost" \
	"transport_maps=inline:{imi.localhost=imi:}" "imi_destination_recipient_limit=1" ||
	{ not_ok "Postfix starts"; exit 1; }
postconf -c "$WORK/pf" -Me "imi/unix=imi unix - n n - - pipe flags=Rq user=nobody argv=$IMI --home $H deliver --sender \${sender} --client-ip \${client_address} --helo \${client_helo} --recipient \${original_recipient}"
postfix -c "$WORK/pf" reload >/dev/null 2>&1
sleep 1
out=$(msg p1 | swaks --server 127.0.0.1 --port "$P" --from handler@authority.example --to imi@imi.localhost --data - 2>&1)
check "Postfix accepts the message for the pipe transport" grep -qE '<- +250 .*queued as' <<<"$out"
for _ in $(seq 1 30); do
	[ "$(audit_has '<p1@authority.example>')" -ge 1 ] && break
	sleep 0.3
done
check "the pipe transport delivered it into the store" test "$(audit_has '<p1@authority.example>')" -ge 1
check "Postfix logged the delivery as sent" grep -q 'relay=imi.*status=sent' "$WORK/pf/postfix.log"

# imi tls-policy: every authority domain once, sorted, level encrypt.
"$IMI" --home "$H" authority add --id de-a --country DE --name 'de=Amt A' --area services \
	--postbox imi@amt-a.example.de --domain amt-a.example.de --domain Mail.Amt-A.example.de >/dev/null
"$IMI" --home "$H" authority add --id fr-b --country FR --language fr --name 'fr=Office B' \
	--area services --postbox contact@office-b.example.fr --domain office-b.example.fr >/dev/null
"$IMI" --home "$H" authority add --id at-c --country AT --name 'de=Amt C' --area services \
	--postbox post@amt-c.example.at >/dev/null
got=$("$IMI" --home "$H" tls-policy | tr '\n' '|')
want="amt-a.example.de encrypt|amt-c.example.at encrypt|mail.amt-a.example.de encrypt|office-b.example.fr encrypt|"
check "tls-policy lists each domain once, sorted, encrypt (got $got)" test "$got" = "$want"
got=$("$IMI" --home "$H" tls-policy --level dane-only | head -1)
check "tls-policy --level dane-only ($got)" test "$got" = "amt-a.example.de dane-only"
"$IMI" --home "$H" tls-policy --level none >/dev/null 2>&1
rc=$?
check "tls-policy refuses a level that would allow clear text (exit $rc)" test "$rc" = 65
"$IMI" --home "$H" tls-policy >"$WORK/tls_policy"
postmap -c "$WORK/pf" "hash:$WORK/tls_policy"
check "postmap takes the table and finds a domain" \
	test "$(postmap -c "$WORK/pf" -q office-b.example.fr "hash:$WORK/tls_policy")" = encrypt

[ "$LIB_FAILED" = 0 ]
