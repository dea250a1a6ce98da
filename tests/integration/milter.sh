#!/bin/bash
# milter.sh: a private Postfix with imi milter on a unix socket, driven by
# swaks over SMTP:
#   - an unknown service address is refused at RCPT (550 5.1.1) while a
#     second, valid recipient of the same transaction is accepted;
#   - a message the inbound path commits gets 250, the store changed, and it
#     passes on to a non-service recipient with Authentication-Results added;
#   - a message that fails authentication gets 550 5.7.1;
#   - a message over max_message_bytes gets 552 5.3.4;
#   - with the store read-only (the db directory bind-mounted read-only in
#     the milter's private mount namespace) the milter answers 451, a
#     queueing Postfix in front keeps the message, and once the store is
#     writable again (remounted read-write there) it is delivered, and
#     taken, exactly once.
# Why the milter is restarted for the read-only part: Linux refuses to make a
# mount read-only while files on it are open for writing (EBUSY), and a
# running milter holds the Berkeley DB files open.  So the second milter
# starts on a read-only store, which it cannot open; it keeps answering 451
# and opens the store at the first message after it became writable.
# Which messages inbound commits or rejects is decided by inbound.c.  The
# messages are made so that the real decision and a test build's agree: the
# ones to be accepted come from a registered user of a registered authority
# and carry a DKIM signature of its domain (key published by a real DNS
# server, dnsmasq on 127.0.0.1); the forged one carries none.  A test build
# of inbound reads X-Test-Verdict instead.
set -u
. "$(dirname "$0")/lib.sh"
lib_init milter

H=$WORK/home
SOCK=$WORK/milter.sock
P1=$(lib_free_port)
P2=$(lib_free_port)
SINK_PORT=$(lib_free_port)
DNS_PORT=$(lib_free_port)
imi_home "$H" "[service]
domain = imi.localhost
[limits]
max_message_bytes = 30000
[inbound]
dns_server = 127.0.0.1:$DNS_PORT" || { not_ok "imi init"; exit 1; }

# The authority: its signing key in DNS, itself and a handler registered.
pub=$(dkim_key "$WORK/authority.key")
dns_start "$WORK/dns" "$DNS_PORT" sel._domainkey.authority.example "v=DKIM1; k=rsa; p=$pub"
"$IMI" --home "$H" authority add --id de-behoerde --country DE --name 'de=Behörde' \
	--area services --postbox imi@authority.example --domain authority.example >/dev/null ||
	not_ok "register the authority"
"$IMI" --home "$H" user add --email handler@authority.example --authority de-behoerde \
	--role handler --name Handler >/dev/null || not_ok "register its handler"

milter_start "$H" "$SOCK" || exit 1
check "the socket is group postfix, mode 0660" test "$(stat -c '%G %a' "$SOCK")" = "postfix 660"

sink_start "$WORK/sink" "$SINK_PORT"
pf_start "$WORK/pf1" "$P1" \
	"smtpd_milters=unix:$SOCK" "milter_default_action=tempfail" \
	"relay_domains=imi.localhost example.org" \
	"transport_maps=inline:{imi.localhost=smtp:[127.0.0.1]:$SINK_PORT, example.org=smtp:[127.0.0.1]:$SINK_PORT}" ||
	{ not_ok "Postfix (milter) starts"; exit 1; }
# The queueing Postfix in front: relays the service domain to the first.
pf_start "$WORK/pf2" "$P2" "relay_domains=imi.localhost" \
	"transport_maps=inline:{imi.localhost=smtp:[127.0.0.1]:$P1}" ||
	{ not_ok "Postfix (front) starts"; exit 1; }

# swaks_to PORT TO ID VERDICT [BODY]: one message from the handler, signed
# by the authority unless VERDICT is "reject"; prints the SMTP transcript.
swaks_to() {
	local port=$1 to=$2 id=$3 verdict=$4 body=${5:-Q1: yes} f=$WORK/$3.eml
	printf 'From: Handler <handler@authority.example>\nTo: imi@imi.localhost\nSubject: Re: request\nDate: %s\nMessage-ID: <%s@authority.example>\nX-Test-Verdict: %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n%s\n' \
		"$(date -R)" "$id" "$verdict" "$body" >"$f.plain"
	if [ "$verdict" = reject ]; then
		cp "$f.plain" "$f"
	else
		"$IMI" --home "$H" auth sign --selector sel --domain authority.example \
			--key "$WORK/authority.key" "$f.plain" >"$f"
	fi
	swaks --server 127.0.0.1 --port "$port" --helo client.example.org \
		--from handler@authority.example --to "$to" --data "$f" 2>&1
}
taken() {
	"$IMI" --home "$H" audit | awk -F'\t' '$5 !~ /duplicate/' | grep -c "<$1@authority.example>"
}

# 1. RCPT: the unknown service address refused, the other recipient kept.
out=$(swaks_to "$P1" "bogus@imi.localhost,friend@example.org" r1 applied)
check "an unknown service address is refused at RCPT with 550 5.1.1" \
	grep -q '<\*\* *550 5.1.1' <<<"$out"
check "the valid recipient of the same message is accepted" \
	grep -qE '<- +250 .*queued as' <<<"$out"
sleep 1.5
check "the message reached the other recipient (the sink)" \
	test -n "$(grep -l 'r1@authority.example' "$WORK/sink"/* 2>/dev/null)"

# 2. Committed by inbound: 250, store changed, passes on with A-R added.
out=$(swaks_to "$P1" "imi@imi.localhost,friend@example.org" a1 applied)
check "a message inbound commits gets 250" grep -qE '<- +250 .*queued as' <<<"$out"
check "the store took it (audit names its Message-ID)" test "$(taken a1)" -ge 1
# Naming no case, it is answered: the reply to the handler waits in the outbox.
check "and its reply to the sender is in the outbox" \
	test "$("$IMI" --home "$H" outbox list | grep -c 'handler@authority.example')" -ge 1
sleep 1.5
f=$(grep -l 'a1@authority.example' "$WORK/sink"/* 2>/dev/null | head -1)
check "the copy for the other recipient passed on, with Authentication-Results" \
	grep -q '^Authentication-Results: imi.localhost' "$f"
# What a real inbound needs to accept it: the signature verifies against the
# key in DNS, before and after passing through Postfix and the milter.
check "the authority's DKIM signature verifies (imi auth check, DNS)" \
	grep -q '^dkim: pass d=authority.example' \
	<("$IMI" --home "$H" auth check --dns-server "127.0.0.1:$DNS_PORT" "$WORK/a1.eml")
check "and still verifies in the copy that passed through (Mail::DKIM)" \
	test "$(perl "$IMI_SRC/tests/integration/dkim_verify.pl" "$DNS_PORT" "$f" | cut -d' ' -f1)" = pass

check "the service recipient was dropped from the copy that passed on" \
	test "$(grep -c '^X-Rcpt-Args: .*imi@imi.localhost' "$f")" = 0
check "the copy went to the other recipient" grep -q '^X-Rcpt-Args: .*friend@example.org' "$f"

# 2b. Stored and for the service alone: it ends in the store (DISCARD: the
# client gets 250, Postfix queues nothing); noise is not stored and goes on.
out=$(swaks_to "$P1" "imi@imi.localhost" s1 applied)
check "a message for the service alone gets 250" grep -qE '<- +250 ' <<<"$out"
check "the store took it" test "$(taken s1)" -ge 1
printf 'From: Handler <handler@authority.example>\nTo: imi@imi.localhost\nSubject: Out of office\nDate: %s\nMessage-ID: <n1@authority.example>\nAuto-Submitted: auto-replied\n\nAway until Monday.\n' \
	"$(date -R)" >"$WORK/n1.eml"
out=$(swaks --server 127.0.0.1 --port "$P1" --helo client.example.org \
	--from handler@authority.example --to imi@imi.localhost --data "$WORK/n1.eml" 2>&1)
check "an auto-reply gets 250" grep -qE '<- +250 ' <<<"$out"
sleep 1.5
check "Postfix discarded the stored one (milter-discard)" \
	grep -q 'milter-discard' "$WORK/pf1/postfix.log"
check "no copy of the stored one left Postfix" \
	test -z "$(grep -l 's1@authority.example' "$WORK/sink"/* 2>/dev/null)"
check "the auto-reply, recorded and not stored, went on to the service's transport" \
	test -n "$(grep -l 'n1@authority.example' "$WORK/sink"/* 2>/dev/null)"
check "Postfix's queue is empty" test "$(pf_queued "$WORK/pf1")" = 0

# 3. Failed authentication: refused in the SMTP session.
out=$(swaks_to "$P1" "imi@imi.localhost" f1 reject)
check "a message failing authentication gets 550 5.7.1 with the reason" \
	grep -qE '<\*\* +550 5.7.1 ' <<<"$out"
check "nothing of it is in the store" test "$(taken f1)" = 0

# 4. Over max_message_bytes: 552 5.3.4.
big=$(head -c 40000 /dev/zero | tr '\0' 'x' | fold -w 70)
out=$(swaks_to "$P1" "imi@imi.localhost" b1 applied "$big")
check "a message over max_message_bytes gets 552 5.3.4" grep -qE '<\*\* +552 5.3.4' <<<"$out"

# 5. Store read-only: 451, queued in front, delivered once afterwards.
milter_kill TERM
milter_start "$H" "$SOCK" ro || exit 1
out=$(swaks_to "$P1" "imi@imi.localhost" t0 applied)
check "read-only store: the milter answers 451 4.3.0" grep -qE '<\*\* +451 4.3.0' <<<"$out"
out=$(swaks_to "$P2" "imi@imi.localhost" t1 applied)
check "the front Postfix accepts the message for queueing" grep -qE '<- +250 .*queued as' <<<"$out"
sleep 3
check "it stays queued in front while the store is read-only" test "$(pf_queued "$WORK/pf2")" = 1
check "and is not in the store" test "$(taken t1)" = 0
check "the front Postfix logged the 4xx" grep -q 'said: 451 4.3.0' "$WORK/pf2/postfix.log"
check "the milter still runs on a store it cannot write" test -e "/proc/$MILTER_PID"
nsenter --target "$MILTER_PID" --mount mount -o remount,bind,rw "$H/db" ||
	not_ok "remount the store read-write in the milter's namespace"
postqueue -c "$WORK/pf2" -f
pf_drain "$WORK/pf2" 15
check "after the store is back, the front queue drains" test "$(pf_queued "$WORK/pf2")" = 0
check "and the message was taken exactly once" test "$(taken t1)" = 1

# 6. [inbound] milter_pass_on = true: a stored message also goes on.
milter_kill TERM
printf 'milter_pass_on = true\n' >>"$H/imi.conf"   # [inbound] is the last group
milter_start "$H" "$SOCK" || exit 1
out=$(swaks_to "$P1" "imi@imi.localhost" p1 applied)
check "with milter_pass_on, a stored message gets 250" grep -qE '<- +250 .*queued as' <<<"$out"
check "the store took it" test "$(taken p1)" -ge 1
sleep 1.5
f=$(grep -l 'p1@authority.example' "$WORK/sink"/* 2>/dev/null | head -1)
check "and its copy went on to the service's transport, with Authentication-Results" \
	grep -q '^Authentication-Results: imi.localhost' "${f:-/dev/null}"

milter_kill TERM
check "the milter stops on SIGTERM" test ! -e "/proc/$MILTER_PID"
[ "$LIB_FAILED" = 0 ]
