#!/bin/bash
# alerts: the life of one alert through the real imi binary.
#
# A French authority with alert access (sender anne) and the French alert
# coordinator (cora); alert post-boxes in Germany and Austria; the
# Commission (country EU).  An alert with a criterion not ticked is refused
# with the list of what is missing (by `imi alert new` and by e-mail, in
# the sender's language); the complete one goes to the French coordinator
# only; APPROVE sends it to the post-box of the country of establishment
# (DE) and the Commission, whose copy holds no personal field; a post-box
# forwards it, a recipient flags it, the initiator rectifies it, the close
# reminder comes from `imi tick`, and after WITHDRAW every recipient is told.
# The initiator is acknowledged on submission with a reply address by which
# it rectifies (the coordinator gets the new version, the document kept) or
# withdraws (the coordinator is told) the alert before approval.
set -u
IMI=${IMI:?path of the imi binary}
export IMI_DATADIR=${IMI_DATADIR:-${IMI_SRC:?source top}}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imi-alerts.XXXXXX")
failed=0
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; failed=1; }
expect() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then ok "$1"; else
		not_ok "$1: wanted a line matching /$2/, got:"
		printf '%s\n' "$3" | sed 's/^/#   /' | head -n 30
	fi
}
refute() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		not_ok "$1: unwanted line matching /$2/:"
		printf '%s\n' "$3" | grep -E -- "$2" | sed 's/^/#   /' | head -n 5
	else ok "$1"; fi
}

command -v openssl >/dev/null || { not_ok "openssl is not installed"; exit 1; }
command -v python3 >/dev/null || { not_ok "python3 is not installed"; exit 1; }

H=$tmp/home
imi() { "$IMI" --home "$H" "$@"; }
# Mail leaves only through `imi send` into the outbox Maildir; the tests read
# what arrived there.  The decoded text of a sent message (a Maildir file):
# headers, then every text part decoded.
decoded() {
	python3 -c '
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
for h in ("Subject", "To", "Reply-To", "Message-Id"):
    if m[h] is not None: print("%s: %s" % (h, m[h]))
for part in m.walk():
    if part.get_content_maintype() == "text": print(part.get_content())' "$1"
}
sent() { imi send >/dev/null && python3 "$IMI_SRC/tests/integration/maildir.py" list "$H/outbox"; }
# Newest sent message to a recipient whose Message-ID has the kind.
item() { sent | awk -F'\t' -v to="$1" -v kind="$2" '$2 == to && $3 ~ "(^|\\.)" kind "[.@]" {s = $1} END {print s}'; }
count() { sent | awk -F'\t' -v to="$1" -v kind="$2" '$2 == to && $3 ~ "(^|\\.)" kind "[.@]"' | grep -c .; }
case_field() { imi case show "$1" | sed -n "s/^  $2: //p"; }

CANARY=Canaryprovider9k2
CANARY2=Canarydescription4x7
imi init >/dev/null || { not_ok "imi init"; exit 1; }
cd "$tmp" || exit 1
openssl genrsa -traditional -out dkim.pem 2048 2>/dev/null
pub=$(openssl rsa -in dkim.pem -pubout -outform DER 2>/dev/null | base64 -w0)
for d in dgccrf.fr coord.fr bund.de land.de wko.at ec.europa.eu; do
	echo "s1._domainkey.$d v=DKIM1; k=rsa; p=$pub"
done >keys.txt
export IMI_DKIM_KEYFILE=$tmp/keys.txt

imi authority add --id fr-dgccrf --country FR --language fr --name 'fr=DGCCRF' --area services \
	--postbox alertes@dgccrf.fr --domain dgccrf.fr --alerts >/dev/null &&
imi authority add --id fr-coord --country FR --language fr --name 'fr=Coordination' --area services \
	--postbox imi@coord.fr --domain coord.fr --alerts >/dev/null &&
imi authority add --id de-bund --country DE --language de --name 'de=Bundesamt' --area services \
	--postbox alert@bund.de --domain bund.de --alerts --alert-postbox >/dev/null &&
imi authority add --id de-land --country DE --language de --name 'de=Landesamt' --area services \
	--postbox post@land.de --domain land.de >/dev/null &&
imi authority add --id at-wko --country AT --language de --name 'de=WKO' --area services \
	--postbox alert@wko.at --domain wko.at --alerts --alert-postbox >/dev/null &&
imi authority add --id eu-com --country EU --language en --name 'en=European Commission' --area services \
	--postbox imi@ec.europa.eu --domain ec.europa.eu --alerts >/dev/null &&
imi user add --email anne@dgccrf.fr --authority fr-dgccrf --role alert_sender >/dev/null &&
imi user add --email bob@dgccrf.fr --authority fr-dgccrf --role handler >/dev/null &&
imi user add --email cora@coord.fr --authority fr-coord --role alert_coordinator >/dev/null &&
imi user add --email dirk@bund.de --authority de-bund --role handler >/dev/null &&
imi user add --email ece@ec.europa.eu --authority eu-com --role handler >/dev/null ||
	{ not_ok "registering authorities and users"; exit 1; }
ok "authorities and users registered"

form() {
	cat <<EOT
Q1: yes
Q2: yes
Q3: yes
Q4: ${1:-yes}
Q5: yes
Q6: $CANARY GmbH
Q7: HRB-$CANARY
Q8: DE
Q9: construction
Q10: health
Q11: $CANARY2 used asbestos
Q12: 2026-10-01
EOT
}

# ---- access --------------------------------------------------------------
form >full.txt
out=$(imi alert new --from-authority fr-dgccrf --qset sd-alert --form full.txt --user bob@dgccrf.fr 2>&1)
expect "a user without role alert_sender may not send an alert" 'not an active alert_sender' "$out"
out=$(imi alert new --from-authority de-land --qset sd-alert --form full.txt 2>&1)
expect "an authority without alert access may not send an alert" 'has no alert access' "$out"
out=$(imi alert new --from-authority fr-dgccrf --qset pq-general --form full.txt 2>&1)
expect "a request form is not an alert form" 'not an alert form' "$out"

# ---- check list: refused with the list --------------------------------------
form no >part.txt
out=$(imi alert new --from-authority fr-dgccrf --qset sd-alert --form part.txt --user anne@dgccrf.fr 2>&1)
rc=$?
expect "a criterion not ticked refuses the alert" 'not all criteria of the check list' "$out"
expect "the refusal lists the missing criterion" '^Q4\. Les informations' "$out"
refute "the refusal lists no ticked criterion" '^Q1\.' "$out"
[ $rc -eq 65 ] && ok "refusal exits 65" || not_ok "refusal exits 65 (got $rc)"
expect "nothing was mailed" '^0 0$' "$(imi outbox list | grep -c .) $(sent | grep -c .)"

# ---- complete: to the coordinator of France only ------------------------------
case_id=$(imi alert new --from-authority fr-dgccrf --qset sd-alert --form full.txt --user anne@dgccrf.fr)
expect "alert new prints the case id" '^IMI-[0-9]{4}-[0-9]{6}$' "$case_id"
expect "the alert waits for approval" '^awaiting-approval$' "$(case_field "$case_id" state)"
ap=$(item cora@coord.fr approval)
expect "the French coordinator gets the approval request" '^/.*/outbox/(new|cur)/' "$ap"
out=$(decoded "$ap")
expect "the approval request is in French" "^Subject: Alerte \\[$case_id\\]" "$out"
expect "the approval request offers the approve link" 'imi\+imi-[0-9]{4}-[0-9]{6}\.approve\.' "$out"
expect "the coordinator sees the whole alert" "$CANARY" "$out"
expect "no post-box has it before approval" '^0$' "$(count alert@bund.de alert)"
reply_coord=$(printf '%s\n' "$out" | sed -n 's/^Reply-To: //p')
approve_addr=$(printf '%s\n' "$out" | grep -Eo 'imi\+imi-[0-9]{4}-[0-9]{6}\.approve\.[0-9]+\.[a-z2-7]+@[A-Za-z0-9.-]+' | head -n 1)
refute "the whole alert is not stored in clear" "$CANARY" "$(strings "$H"/db/*.db 2>/dev/null)"

sign() { imi auth sign --selector s1 --domain "$2" --key "$tmp/dkim.pem" "$1"; }
n=0
mail() {
	n=$((n + 1))
	{
		echo "From: $1"
		echo "To: $2"
		echo "Subject: $3"
		echo "Message-ID: <a$n.$RANDOM@${1#*@}>"
		echo "Date: $(date -R)"
		echo "MIME-Version: 1.0"
		echo "Content-Type: text/plain; charset=utf-8"
		echo
		cat
	} >"raw$n.eml"
	sign "raw$n.eml" "${1#*@}" >"msg$n.eml"
	echo "msg$n.eml"
}
inject() { imi deliver --report --recipient "$2" <"$1"; }

# ---- approval: a stranger cannot, the coordinator can ------------------------
f=$(echo "APPROVE" | mail dirk@bund.de "$approve_addr" "APPROVE [$case_id]")
out=$(inject "$f" "$approve_addr")
refute "a token of another authority approves nothing" '^applied' "$out"
expect "still awaiting approval" '^awaiting-approval$' "$(case_field "$case_id" state)"
f=$(echo "Please also AT." | mail cora@coord.fr "$approve_addr" "APPROVE AT [$case_id]")
out=$(inject "$f" "$approve_addr")
expect "the coordinator's APPROVE is applied" '^applied' "$out"
expect "the alert is sent" '^sent$' "$(case_field "$case_id" state)"
de=$(item alert@bund.de alert)
expect "the post-box of the country of establishment gets it" '^/.*/outbox/(new|cur)/' "$de"
out=$(decoded "$de")
expect "the German copy is in German" "^Subject: Vorwarnung \\[$case_id\\]" "$out"
expect "the German copy has the personal fields" "$CANARY" "$out"
reply_de=$(printf '%s\n' "$out" | sed -n 's/^Reply-To: //p')
expect "the listed country's post-box gets it" '^/.*/outbox/(new|cur)/' "$(item alert@wko.at alert)"
com=$(item imi@ec.europa.eu alert)
expect "the Commission gets a copy" '^/.*/outbox/(new|cur)/' "$com"
out=$(decoded "$com")
expect "the Commission copy says personal data are removed" 'personal data have been removed' "$out"
expect "the Commission copy keeps the non-personal fields" 'construction' "$out"
refute "the Commission copy has no personal canary (decoded)" "$CANARY|$CANARY2" "$out"
refute "the Commission copy has no personal canary (raw)" "$CANARY|$CANARY2|HRB" "$(cat "$com")"
expect "the initiator is told of the approval" '^/.*/outbox/(new|cur)/' "$(item anne@dgccrf.fr approved)"
expect "the German authority without post-box flag gets nothing" '^0$' "$(count post@land.de alert)"

# ---- after broadcast ---------------------------------------------------------------
f=$(echo "de-land" | mail dirk@bund.de "$reply_de" "FORWARD [$case_id]")
out=$(inject "$f" "$reply_de")
expect "the post-box forwards to an authority of its country" '^applied' "$out"
expect "the forwarded authority gets the alert" '^/.*/outbox/(new|cur)/' "$(item post@land.de alert)"
f=$(echo "The registration number looks wrong." | mail dirk@bund.de "$reply_de" "FLAG [$case_id]")
out=$(inject "$f" "$reply_de")
expect "a recipient flags the alert" '^applied' "$out"
out=$(decoded "$(item alertes@dgccrf.fr flagged)")
expect "the initiator is told, with the reason" 'registration number looks wrong' "$out"
f=$(echo "CLOSE" | mail cora@coord.fr "$reply_coord" "CLOSE [$case_id]")
out=$(inject "$f" "$reply_coord")
refute "the coordinator may not close (not the country of establishment)" '^applied' "$out"

out=$(imi tick --now "$(date -u -d '+8 days' +%Y-%m-%dT%H:%M:%S)" 2>&1)
expect "a week later tick runs the digest" '1 timer\(s\) run, 0 failed' "$out"
out=$(decoded "$(item alert@bund.de digest)")
expect "the German post-box gets a digest in German" "^Subject: .*\\(DE\\)" "$out"
expect "the digest lists the new alert" "$case_id" "$out"
refute "the digest has no personal data" "$CANARY" "$out"
out=$(decoded "$(item cora@coord.fr digest)")
expect "the French coordinator gets a digest" "$case_id" "$out"
out=$(imi check 2>&1) && rc=0 || rc=$?
expect "imi check passes with the digest timer pending" "^exit 0$" "$out
exit $rc"
out=$(imi tick --now "$(date -u -d '+31 days' +%Y-%m-%dT%H:%M:%S)" 2>&1)
expect "tick runs the close reminder (and the next digest)" '2 timer\(s\) run, 0 failed' "$out"
out=$(decoded "$(item alert@bund.de reminder)")
expect "the close reminder goes to the country of establishment" "close\.|schließen|Alert $case_id|$case_id" "$out"

reply_fr=$(decoded "$(item anne@dgccrf.fr approved)" | sed -n 's/^Reply-To: //p')
f=$(printf 'Q11: Rectified %s description\n' "$CANARY2" | mail anne@dgccrf.fr "$reply_fr" "RECTIFY [$case_id]")
out=$(inject "$f" "$reply_fr")
expect "the initiator rectifies" '^applied' "$out"
expect "the new version goes to the recipients" '^2$' "$(count alert@bund.de alert)"
out=$(decoded "$(item imi@ec.europa.eu alert)")
refute "the Commission's rectified copy has no personal canary" "$CANARY" "$out"

f=$(echo "Unfounded after all." | mail anne@dgccrf.fr "$reply_fr" "WITHDRAW [$case_id]")
out=$(inject "$f" "$reply_fr")
expect "the initiator withdraws" '^applied' "$out"
expect "the alert is withdrawn" '^withdrawn$' "$(case_field "$case_id" state)"
for to in alert@bund.de alert@wko.at imi@ec.europa.eu post@land.de; do
	expect "recipient $to is told of the withdrawal" '^/.*/outbox/(new|cur)/' "$(item "$to" notice)"
done
out=$(decoded "$(item alert@bund.de notice)")
expect "the withdrawal notice gives the reason" 'Unfounded after all' "$out"
refute "the Commission's withdrawal notice has no free-text reason" 'Unfounded' "$(decoded "$(item imi@ec.europa.eu notice)")"

# ---- by e-mail: the form, a missing criterion, then complete ---------------------------
case2=$(imi alert form --from-authority fr-dgccrf --qset sd-alert --user anne@dgccrf.fr)
expect "alert form prints the draft's case id" '^IMI-[0-9]{4}-[0-9]{6}$' "$case2"
out=$(decoded "$(item anne@dgccrf.fr form)")
expect "the form is in French" 'Q1\.' "$out"
reply_form=$(printf '%s\n' "$out" | sed -n 's/^Reply-To: //p')
f=$(form no | mail anne@dgccrf.fr "$reply_form" "Re: [$case2]")
out=$(inject "$f" "$reply_form")
expect "the reply with a criterion missing is answered, not applied" '^answered' "$out"
out=$(decoded "$(item anne@dgccrf.fr checklist)")
expect "the refusal lists the missing criterion (in French)" '^Q4\. Les informations' "$out"
expect "the draft stays a draft" '^draft$' "$(case_field "$case2" state)"
f=$(form | mail anne@dgccrf.fr "$reply_form" "Re: [$case2]")
out=$(inject "$f" "$reply_form")
expect "the complete reply submits the alert" '^applied' "$out"
expect "the e-mailed alert waits for approval" '^awaiting-approval$' "$(case_field "$case2" state)"
expect "the coordinator has a second approval request" '^2$' "$(count cora@coord.fr approval)"
f=$(echo "Not proportionate." | mail cora@coord.fr "$reply_coord" "REJECT [$case2]")
out=$(inject "$f" "$(decoded "$(item cora@coord.fr approval)" | sed -n 's/^Reply-To: //p')")
expect "the coordinator rejects" '^applied' "$out"
out=$(decoded "$(item anne@dgccrf.fr rejected)")
expect "the initiator gets the reason of the rejection" 'Not proportionate' "$out"

# ---- before approval: the acknowledgement's reply address rectifies and withdraws ----
printf 'a report\n' >report-Canarydoc3.pdf
case4=$(imi alert new --from-authority fr-dgccrf --qset sd-alert --form full.txt --user anne@dgccrf.fr \
	--attach report-Canarydoc3.pdf)
expect "alert new --attach creates the alert" '^IMI-[0-9]{4}-[0-9]{6}$' "$case4"
raw=$(cat "$(item cora@coord.fr approval)")
expect "the approval request carries the document" 'filename="?report-Canarydoc3\.pdf' "$raw"
ack=$(item anne@dgccrf.fr submitted)
out=$(decoded "$ack")
expect "the initiator is acknowledged in French" "en attente|approbation" "$out"
expect "the acknowledgement names the case" "$case4" "$out"
expect "the acknowledgement explains WITHDRAW and RECTIFY" 'WITHDRAW.*RECTIFY' "$out"
refute "the acknowledgement repeats no field" "$CANARY" "$out"
reply_ack=$(printf '%s\n' "$out" | sed -n 's/^Reply-To: //p')
expect "the acknowledgement's reply address carries the case" "^imi\+${case4,,}\.reply\." "$reply_ack"
before=$(count cora@coord.fr approval)
f=$(printf 'Q9: scaffolding\n' | mail anne@dgccrf.fr "$reply_ack" "RECTIFY [$case4]")
expect "the initiator rectifies before approval" '^applied' "$(inject "$f" "$reply_ack")"
expect "the coordinator gets the new version" "^$((before + 1))\$" "$(count cora@coord.fr approval)"
out=$(decoded "$(item cora@coord.fr approval)")
expect "the new version has the corrected field" 'scaffolding' "$out"
expect "the new version keeps the document" 'filename="?report-Canarydoc3\.pdf' "$(cat "$(item cora@coord.fr approval)")"
expect "still awaiting approval after the rectification" '^awaiting-approval$' "$(case_field "$case4" state)"
f=$(echo "Sent by mistake." | mail anne@dgccrf.fr "$reply_ack" "WITHDRAW [$case4]")
expect "the initiator withdraws before approval" '^applied' "$(inject "$f" "$reply_ack")"
expect "the alert is withdrawn before approval" '^withdrawn$' "$(case_field "$case4" state)"
out=$(decoded "$(item cora@coord.fr notice)")
expect "the coordinator is told of the withdrawal" "$case4" "$out"
approve4=$(decoded "$(item cora@coord.fr approval)" | grep -Eo "imi\+${case4,,}\.approve\.[0-9]+\.[a-z2-7]+@[A-Za-z0-9.-]+" | head -n 1)
f=$(echo "ok" | mail cora@coord.fr "$approve4" "APPROVE [$case4]")
refute "a withdrawn alert can no longer be approved" '^applied' "$(inject "$f" "$approve4")"
refute "nothing of the withdrawn alert reached a post-box" "$case4" "$(decoded "$(item alert@bund.de alert)")"

# ---- close by the country of establishment -------------------------------------------
case3=$(imi alert new --from-authority fr-dgccrf --qset sd-alert --form full.txt --user anne@dgccrf.fr)
ap=$(decoded "$(item cora@coord.fr approval)")
approve3=$(printf '%s\n' "$ap" | grep -Eo "imi\+${case3,,}\.approve\.[0-9]+\.[a-z2-7]+@[A-Za-z0-9.-]+" | head -n 1)
f=$(echo "ok" | mail cora@coord.fr "$approve3" "APPROVE [$case3]")
expect "a third alert is approved" '^applied' "$(inject "$f" "$approve3")"
reply_de3=$(decoded "$(item alert@bund.de alert)" | sed -n 's/^Reply-To: //p')
expect "the German post-box has the third alert" "${case3,,}" "$reply_de3"
f=$(echo "Risk is gone." | mail dirk@bund.de "$reply_de3" "CLOSE [$case3]")
expect "the country of establishment closes the alert" '^applied' "$(inject "$f" "$reply_de3")"
expect "the alert is closed" '^closed$' "$(case_field "$case3" state)"
out=$(decoded "$(item imi@ec.europa.eu notice)")
expect "the Commission is told of the closure" "$case3" "$out"
out=$(decoded "$(item alertes@dgccrf.fr closed)")
expect "the initiator is told of the closure" "$case3" "$out"
before=$(imi audit | grep -c "alert\.close-reminder")
expect "the close reminder was audited" '^[1-9]' "$before"
imi tick --now "$(date -u -d '+400 days' +%Y-%m-%dT%H:%M:%S)" >/dev/null 2>&1
expect "no close reminder after closure and withdrawal" "^$before\$" "$(imi audit | grep -c "alert\.close-reminder")"
for c in "$case_id" "$case2" "$case3" "$case4"; do
	expect "retention deleted what was left of $c (closed, withdrawn or rejected)" '^deleted$' "$(case_field "$c" retention)"
done
expect "no copy of an ended alert is left in the outbox" '^0$' "$(imi outbox list | grep -c "$case3")"

exit $failed
