#!/bin/bash
# bounces: mail that cannot be delivered, through a real Postfix.
#
# imi send relays through a private Postfix: the domain refused.example is
# refused at RCPT (550); gone.example is accepted, and the next hop (an
# smtp-sink that refuses every RCPT for good) makes Postfix write a real
# DSN to our envelope sender; that DSN and every other message land in a
# second smtp-sink.  The DSN goes
# through `imi deliver` with an empty envelope sender.  Both ways, the
# address is marked failing (imi user list / authority show), audited, and
# the coordinators of the authority's country are told in their language;
# the bounce itself is never answered.
set -u
. "$(dirname "$0")/lib.sh"
lib_init bounces
export IMI_DATADIR=${IMI_DATADIR:-$IMI_SRC}

H=$WORK/home
SINK_PORT=$(lib_free_port)
GONE_PORT=$(lib_free_port)
P=$(lib_free_port)
imi_home "$H" "[service]
domain = imi.localhost
[outbound]
smtp_relay = 127.0.0.1:$P" || { not_ok "imi init"; exit 1; }
imi() { "$IMI" --home "$H" "$@"; }
sink_start "$WORK/sink" "$SINK_PORT"
sink_start "$WORK/gone" "$GONE_PORT" -f rcpt
pf_start "$WORK/pf" "$P" \
	"default_transport=smtp:[127.0.0.1]:$SINK_PORT" \
	"transport_maps=inline:{gone.example=smtp:[127.0.0.1]:$GONE_PORT}" \
	"smtpd_recipient_restrictions=check_recipient_access inline:{{refused.example=550 5.1.1 no such user here}},permit_mynetworks,reject" \
	"smtp_tls_security_level=none" || { not_ok "Postfix starts"; exit 1; }

# The sink's files that match a pattern (waits for Postfix's queue).
sunk() {
	local f
	for _ in $(seq 1 40); do
		f=$(grep -lE -- "$1" "$WORK/sink"/* 2>/dev/null)
		[ -n "$f" ] && { printf '%s\n' "$f"; return; }
		sleep 0.25
	done
}
decoded() {
	python3 -c '
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print("Subject: %s" % m["Subject"])
print("To: %s" % m["To"])
for part in m.walk():
    if part.get_content_type() == "text/plain": print(part.get_content())' "$1"
}

imi authority add --id fr-a --country FR --language fr --name 'fr=Ordre A' --area services \
	--postbox imi@gone.example --domain gone.example >/dev/null &&
imi authority add --id de-b --country DE --language de --name 'de=Kammer B' --area services \
	--postbox imi@refused.example --domain refused.example >/dev/null &&
imi authority add --id fr-c --country FR --language fr --name 'fr=Coordination FR' --area services \
	--postbox imi@coord.fr --domain coord.fr >/dev/null &&
imi authority add --id de-d --country DE --language de --name 'de=Koordinierung DE' --area services \
	--postbox imi@coord.de --domain coord.de >/dev/null &&
imi user add --email anne@gone.example --authority fr-a --role handler >/dev/null &&
imi user add --email claire@coord.fr --authority fr-c --role coordinator >/dev/null &&
imi user add --email hans@coord.de --authority de-d --role coordinator >/dev/null ||
	{ not_ok "registering authorities and users"; exit 1; }

# ---- a permanent refusal at RCPT ------------------------------------------------------
c1=$(imi request new --from-authority fr-a --to-authority de-b --qset pq-general \
	--subject "Some person" --deadline 2099-12-31 --user anne@gone.example)
check "request created ($c1)" test -n "$c1"
out=$(imi send)
check "the request to the refused post-box fails, the notice to anne goes ($out)" \
	test "$out" = "sent 1, retry 0, failed 1"
check "the refusal is audited as before (outbox.failed)" test -n "$(imi audit | grep 'outbox.failed.*every recipient refused: imi@refused.example: 550')"
check "the refused post-box is marked failing in the list" \
	test -n "$(imi authority list | grep -P '^de-b\t.*,failing$')"
check "authority show says why and since when" \
	test -n "$(imi authority show de-b | grep -E '^  failing: [0-9]{4}-[0-9]{2}-[0-9]{2}: 550 5\.1\.1 .*no such user here')"
check "the marking is audited" test -n "$(imi audit | grep -P 'address\.failing\timi@refused.example: ')"

# ---- a DSN from Postfix ----------------------------------------------------------------
dsn=$(sunk 'Final-Recipient: rfc822; ?anne@gone.example')
check "Postfix wrote a DSN for anne's notice to our envelope sender" test -n "$dsn"
check "the DSN is a multipart/report" grep -qi 'multipart/report' "$dsn"
out=$(imi deliver --report --sender '' --recipient imi@imi.localhost <"$dsn")
check "the DSN is ignored as a reply and marks one address ($out)" \
	grep -qE "^ignored.*bounce of <$c1\\.[0-9]+\\.status@imi.localhost>: 1 of 1 failed address\\(es\\) newly marked failing" <<<"$out"
check "the user is marked failing in imi user list" \
	test -n "$(imi user list | grep -P '^anne@gone.example\t.*\tfailing: [0-9-]+: 5\.[0-9]\.[0-9]+ ')"
check "the authority whose post-box did not bounce is not marked" \
	test -z "$(imi authority list | grep -P '^fr-a\t.*failing')"
check "the bounce is not answered: nothing in the outbox to its sender" \
	test -z "$(imi outbox list | grep -i 'mailer-daemon\|postmaster')"
out=$(imi deliver --report --sender '' --recipient imi@imi.localhost <"$dsn")
check "the same DSN again marks nothing new ($out)" grep -q '0 of 1 failed' <<<"$out"

# ---- coordinators told ---------------------------------------------------------------------
out=$(imi send)
check "two notices to coordinators go out ($out)" test "$out" = "sent 2, retry 0, failed 0"
f=$(sunk '^To: .*hans@coord.de')
check "the German coordinator is told" test -n "$f"
[ -n "$f" ] && check "in German, naming the authority and the reason" \
	grep -qE 'Nachrichten des Systems an die Behörde Kammer B \(DE\) konnten nicht zugestellt werden: imi@refused.example: 550' \
	<<<"$(decoded "$f" | tr '\n' ' ')"
f=$(sunk '^To: .*claire@coord.fr')
check "the French coordinator is told" test -n "$f"
[ -n "$f" ] && check "in French, naming the authority and anne's address" \
	grep -q 'Ordre A (FR).*anne@gone.example' <<<"$(decoded "$f" | tr '\n' ' ')"
check "the French coordinator is told once, not per DSN delivery" \
	test "$(grep -l '^To: .*claire@coord.fr' "$WORK/sink"/* | wc -l)" = 1

# ---- a post-box bounced ------------------------------------------------------------------
c2=$(imi request new --from-authority de-b --to-authority fr-a --qset pq-general \
	--subject "Other person" --deadline 2099-12-31)
imi send >/dev/null
dsn2=$(sunk 'Final-Recipient: rfc822; ?imi@gone.example')
check "Postfix bounced the request to fr-a's post-box" test -n "$dsn2"
out=$(imi deliver --report --sender '' --recipient imi@imi.localhost <"$dsn2")
check "the post-box is marked ($out)" grep -q "bounce of <$c2\\.1\\.request@imi.localhost>: 1 of 1" <<<"$out"
check "authority show says failing" test -n "$(imi authority show fr-a | grep -E '^  failing: [0-9-]+: 5\.[0-9]\.[0-9]+ ')"
check "the post-box of de-b, refused again, is not reported twice" \
	test "$(imi audit | grep -c 'address.failing.*imi@refused.example')" = 1
imi authority update fr-a --domain new.example --postbox imi@new.example >/dev/null
check "a new post-box address clears the mark" test -z "$(imi authority show fr-a | grep failing)"

# ---- somebody else's bounce ------------------------------------------------------------------
sed "s/$c2\\.1\\.request@imi.localhost/unrelated.1@elsewhere.example/g" "$dsn2" >"$WORK/foreign.eml"
out=$(imi deliver --report --sender '' --recipient imi@imi.localhost <"$WORK/foreign.eml")
check "a bounce of a message that is not ours changes nothing ($out)" \
	grep -q '^ignored.*not a bounce of our mail' <<<"$out"

[ "$LIB_FAILED" = 0 ]
