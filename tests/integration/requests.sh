#!/bin/bash
# requests: the life of one information request through the real imi binary.
#
# Two authorities (French requester, German responder) and a stranger
# register; a request goes out in German; replies signed with DKIM (keys
# from a key file through IMI_DKIM_KEYFILE) are fed to the inbound path with
# `imi deliver`: an unsigned one is held, a stranger is refused, the
# responder accepts and answers (confirmation in German, the answers to the
# requester in French), a redelivery is a duplicate, an auto-reply is
# ignored, a reply without token gets a confirmation request, the requester
# accepts the answer and closes; reminders come from `imi tick --now`, and
# six months after closure the personal data are gone from the whole home
# directory.
set -u
IMI=${IMI:?path of the imi binary}
export IMI_DATADIR=${IMI_DATADIR:-${IMI_SRC:?source top}}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imi-requests.XXXXXX")
failed=0
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; failed=1; }
# expect NAME PATTERN OUTPUT: OUTPUT must contain a line matching PATTERN.
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

command -v openssl >/dev/null || { not_ok "openssl is not installed (tools/deps.sh check)"; exit 1; }
command -v python3 >/dev/null || { not_ok "python3 is not installed"; exit 1; }

H=$tmp/home
imi() { "$IMI" --home "$H" "$@"; }
# Mail leaves only through `imi send`, into the outbox Maildir; here that
# Maildir lies outside the home, as the recipients' side would, so that the
# home directory holds only what imi keeps.  The decoded text of a sent
# message (a Maildir file): headers decoded, body parts decoded.
decoded() {
	python3 -c '
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
for h in ("Subject", "To", "Reply-To", "In-Reply-To", "Message-Id", "Auto-Submitted", "X-IMI-Loop"):
    if m[h] is not None: print("%s: %s" % (h, m[h]))
for part in m.walk():
    if part.get_content_type() == "text/plain": print(part.get_content())' "$1"
}
sent() { imi send >/dev/null && python3 "$IMI_SRC/tests/integration/maildir.py" list "$tmp/delivered"; }
# The newest sent message to a recipient with a Message-ID kind.
item() { sent | awk -F'\t' -v to="$1" -v kind="$2" '$2 == to && $3 ~ "(^|\\.)" kind "[.@]" {s = $1} END {print s}'; }
case_field() { imi case show "$1" | sed -n "s/^  $2: //p"; }

CANARY=Canarywoman7f3a
mkdir -p "$H" && printf '[outbound]\noutbox_maildir = %s\n' "$tmp/delivered" >"$H/imi.conf"
imi init >/dev/null || { not_ok "imi init"; exit 1; }

# ---- directory --------------------------------------------------------------
cd "$tmp" || exit 1
openssl genrsa -traditional -out dkim.pem 2048 2>/dev/null
pub=$(openssl rsa -in dkim.pem -pubout -outform DER 2>/dev/null | base64 -w0)
for d in cnom.fr aek.de lak.de example.org; do
	echo "s1._domainkey.$d v=DKIM1; k=rsa; p=$pub"
done >keys.txt
export IMI_DKIM_KEYFILE=$tmp/keys.txt
imi authority add --id fr-cnom --country FR --language fr --name 'fr=Ordre des médecins' \
	--area professional-qualifications --postbox imi@cnom.fr --domain cnom.fr >/dev/null &&
imi authority add --id de-aek --country DE --language de --name 'de=Ärztekammer' \
	--area professional-qualifications --postbox imi@aek.de --domain aek.de >/dev/null &&
imi authority add --id de-lak --country DE --language de --name 'de=Landesärztekammer' \
	--area professional-qualifications --postbox post@lak.de --domain lak.de >/dev/null &&
imi authority add --id it-x --country IT --language it --name 'it=Estranea' \
	--area professional-qualifications --postbox imi@example.org --domain example.org >/dev/null &&
imi user add --email anne@cnom.fr --authority fr-cnom --role handler >/dev/null &&
imi user add --email jan@aek.de --authority de-aek --role handler >/dev/null &&
imi user add --email eva@lak.de --authority de-lak --role handler >/dev/null &&
imi user add --email olga@example.org --authority it-x --role handler >/dev/null ||
	{ not_ok "registering authorities and users"; exit 1; }
ok "authorities and users registered"

# ---- the request --------------------------------------------------------------
case_id=$(imi request new --from-authority fr-cnom --to-authority de-aek --qset pq-general \
	--subject "Dr. $CANARY Zwölf" --deadline 2099-12-31 --user anne@cnom.fr)
expect "request new prints the case id" '^IMI-[0-9]{4}-[0-9]{6}$' "$case_id"
expect "case starts in state sent" '^sent$' "$(case_field "$case_id" state)"
req=$(item imi@aek.de request)
out=$(decoded "$req")
expect "request goes to the responder's post-box" '^To: .*<imi@aek.de>' "$out"
expect "request is in German (the responder's language)" '^Subject: Auskunftsersuchen \[' "$out"
expect "request carries the subject of the case" "$CANARY" "$out"
expect "request has a token reply address" '^Reply-To: imi\+imi-[0-9]{4}-[0-9]{6}\.reply\.[0-9]+\.[a-z2-7]{16}@' "$out"
expect "request is marked auto-generated" '^Auto-Submitted: auto-generated' "$out"
expect "request has a stable Message-ID" "^Message-Id: <$case_id\\.1\\.request@" "$out"
expect "request shows the deadline in German" '31\. Dezember 2099' "$out"
reply_de=$(printf '%s\n' "$out" | sed -n 's/^Reply-To: //p')
out=$(decoded "$(item anne@cnom.fr status)")
expect "the requesting user gets the case id and a reply address, in French" \
	"^Subject: Dossier \\[$case_id\\]" "$out"
expect "the requesting user's copy has its own token" '^Reply-To: imi\+' "$out"
refute "subject is not in the outbox record in clear" "$CANARY" "$(strings "$H"/db/*.db 2>/dev/null)"

# ---- reminders ------------------------------------------------------------------
# Two ticks at once: the reminder goes out once.
when=$(date -u -d '+8 days' +%Y-%m-%dT%H:%M:%S)
imi tick --now "$when" >tick1.out 2>&1 &
t1=$!
imi tick --now "$when" >tick2.out 2>&1 &
t2=$!
wait $t1; rc1=$?
wait $t2; rc2=$?
expect "two ticks at once both succeed" '^0 0$' "$rc1 $rc2"
expect "two ticks at once send the not-accepted reminder once" '^1$' \
	"$(sent | grep -c '\.reminder@')"
rem=$(item imi@aek.de reminder)
out=$(decoded "$rem")
expect "reminder goes to the responder in German" '^Subject: Erinnerung' "$out"
out=$(imi tick --now "$(date -u -d '+8 days' +%Y-%m-%dT%H:%M:%S)")
expect "a second tick at the same time runs nothing" '0 timer\(s\) run' "$out"

# sign FILE FROM-DOMAIN: prints the signed message.
sign() { imi auth sign --selector s1 --domain "$2" --key "$tmp/dkim.pem" "$1"; }
n=0
# mail FROM TO SUBJECT [EXTRA-HEADERS] < body: a message file, prints its name.
mail() {
	n=$((n + 1))
	{
		echo "From: $1"
		echo "To: $2"
		echo "Subject: $3"
		echo "Message-ID: <m$n.$RANDOM@${1#*@}>"
		echo "Date: $(date -R)"
		[ -n "${4:-}" ] && printf '%s\n' "$4"
		echo "MIME-Version: 1.0"
		echo "Content-Type: text/plain; charset=utf-8"
		echo
		cat
	} >"msg$n.eml"
	echo "msg$n.eml"
}
inject() { imi deliver --report --recipient "$2" <"$1"; }

# ---- unauthenticated: held --------------------------------------------------------
f=$(echo "Q1: forged" | mail jan@aek.de "$reply_de" "AW: [$case_id]")
out=$(inject "$f" "$reply_de")
expect "an unsigned reply is held" '^held' "$out"
expect "held reply changed nothing" '^sent$' "$(case_field "$case_id" state)"
held=$(imi held list)
expect "the held message is in the review queue" "^[0-9]+[[:space:]].*dkim-missing" "$held"
hn=$(printf '%s\n' "$held" | cut -f1 | head -n 1)
expect "imi held show prints it as received" '^Q1: forged' "$(imi held show "$hn")"
out=$(imi held release "$hn")
expect "released again without a signature, it is held again" '^held' "$out"
held=$(imi held list)
expect "still exactly one message in the queue" '^1$' "$(printf '%s\n' "$held" | grep -c .)"
hn=$(printf '%s\n' "$held" | cut -f1 | head -n 1)
imi held discard "$hn" >/dev/null
expect "after discard the queue is empty" '^0$' "$(imi held list | grep -c .)"
expect "the discard is audited" 'held\.discard' "$(imi audit)"

# ---- a stranger: refused with a clear reply ------------------------------------------
f=$(echo "ACCEPT" | mail olga@example.org "$reply_de" "ACCEPT [$case_id]")
sign "$f" example.org >s.eml
out=$(inject s.eml "$reply_de")
expect "another authority's reply with a token not issued to it is answered" '^answered.*not a party' "$out"
err=$(decoded "$(item olga@example.org notice)")
expect "the stranger is told it is no party, in Italian" "non è parte della pratica $case_id" "$err"
refute "the stranger gets no reply token of the case" '^Reply-To: imi\+' "$err"
expect "stranger changed nothing" '^sent$' "$(case_field "$case_id" state)"

# ---- the responder accepts --------------------------------------------------------
f=$(echo "" | mail jan@aek.de "$reply_de" "ACCEPT [$case_id]" "In-Reply-To: <$case_id.1.request@imi.localhost>")
sign "$f" aek.de >s.eml
out=$(inject s.eml "$reply_de")
expect "ACCEPT by the responder is applied" '^applied.*accept applied, state accepted' "$out"
expect "case is accepted" '^accepted$' "$(case_field "$case_id" state)"

# ---- the requester may not accept for the responder -------------------------------
reply_fr=$(decoded "$(item imi@cnom.fr status)" | sed -n 's/^Reply-To: //p')
f=$(echo "" | mail anne@cnom.fr "$reply_fr" "ACCEPT [$case_id]")
sign "$f" cnom.fr >s.eml
out=$(inject s.eml "$reply_fr")
expect "ACCEPT by the requester is refused" '^answered.*accept refused: wrong-role' "$out"
err=$(decoded "$(item anne@cnom.fr error)")
expect "refusal goes to the sender in French" "^Subject: .*(message|traité)" "$err"
expect "refusal names the case" "$case_id" "$err"

# ---- the answer --------------------------------------------------------------------
f=$(mail jan@aek.de "$reply_de" "AW: Auskunftsersuchen [$case_id]" \
	"In-Reply-To: <$case_id.1.request@imi.localhost>" <<EOT
Q1: Dr. $CANARY Zwölf
Q2: 12345
Q3: 1.3.2010
Q4: ja
Q5: nein

Mit freundlichen Grüßen
Jan
EOT
)
sign "$f" aek.de >answer.eml
out=$(inject answer.eml "$reply_de")
expect "the answer is applied" '^applied.*answer applied, state answered' "$out"
conf=$(decoded "$(item jan@aek.de confirm)")
expect "confirmation is in German" '^Vielen Dank' "$conf"
expect "confirmation lists what was understood (date normalized)" '^Q3: 2010-03-01' "$conf"
expect "confirmation says what is missing" 'Pflichtfragen.*Q6' "$conf"
st=$(decoded "$(item imi@cnom.fr status)")
expect "requester gets the answers in French" "^Q2\\. Num.ro d'enregistrement" "$st"
expect "requester gets the answer values" '^ +12345$' "$st"
expect "dates in notices are written as French writes them" 'au [0-9]+ [a-zéû]+ [0-9]{4}' "$st"
expect "yes/no answers are shown in the responder's words" '^Q4: ja$' "$conf"
expect "yes/no answers are shown in the requester's words" '^ +non$' "$st"
out=$(inject answer.eml "$reply_de")
expect "redelivery is a duplicate with the first outcome" '^duplicate.*first outcome applied' "$out"

# ---- noise and lost tokens -----------------------------------------------------------
f=$(echo "Ich bin nicht im Büro." | mail jan@aek.de "$reply_de" "Abwesenheit: [$case_id]" "Auto-Submitted: auto-replied")
sign "$f" aek.de >s.eml
out=$(inject s.eml "$reply_de")
expect "an auto-reply is ignored" '^ignored' "$out"
f=$(echo "Q6: full" | mail jan@aek.de "imi@imi.localhost" "AW: [$case_id]" "In-Reply-To: <$case_id.1.request@imi.localhost>")
sign "$f" aek.de >s.eml
out=$(imi deliver --report --recipient imi@imi.localhost <s.eml)
expect "a reply without token gets a confirmation request" '^answered.*confirmation requested' "$out"
expect "nothing applied without the token" '^answered$' "$(case_field "$case_id" state)"

# ---- further questions, and their answer ---------------------------------------------
reply_fr=$(decoded "$(item imi@cnom.fr status)" | sed -n 's/^Reply-To: //p')
f=$(echo "Merci. Pourriez-vous aussi indiquer le statut actuel (Q6) ?" |
	mail anne@cnom.fr "$reply_fr" "FURTHER-QUESTIONS [$case_id]")
sign "$f" cnom.fr >s.eml
out=$(inject s.eml "$reply_fr")
expect "FURTHER-QUESTIONS by the requester is applied" '^applied.*state accepted' "$out"
st=$(decoded "$(item imi@aek.de status)")
expect "the responder gets the requester's further questions" 'statut actuel \(Q6\)' "$st"
f=$(echo "Q6: eingeschränkt" | mail jan@aek.de "$reply_de" "AW: [$case_id]")
sign "$f" aek.de >s.eml
out=$(inject s.eml "$reply_de")
expect "the further answer is applied" '^applied.*state answered' "$out"
st=$(decoded "$(item imi@cnom.fr status)")
expect "the requester sees the choice in French with the earlier answers" '^ +Restreint' "$st"
expect "earlier answers are kept" '^ +12345$' "$st"

# ---- the requester accepts the answer and closes -------------------------------------
reply_fr=$(decoded "$(item imi@cnom.fr status)" | sed -n 's/^Reply-To: //p')
f=$(echo "" | mail anne@cnom.fr "$reply_fr" "ACCEPT-ANSWER [$case_id]")
sign "$f" cnom.fr >s.eml
out=$(inject s.eml "$reply_fr")
expect "ACCEPT-ANSWER by the requester is applied" '^applied.*state answer-accepted' "$out"
f=$(echo "" | mail anne@cnom.fr "$reply_fr" "Re: CLOSE [$case_id]")
sign "$f" cnom.fr >s.eml
out=$(inject s.eml "$reply_fr")
expect "CLOSE by the requester is applied" '^applied.*state closed' "$out"
f=$(echo "Q7: more" | mail jan@aek.de "$reply_de" "AW: [$case_id]")
sign "$f" aek.de >s.eml
out=$(inject s.eml "$reply_de")
expect "an answer to a closed case is refused" '^answered.*refused: closed' "$out"

# ---- retention ------------------------------------------------------------------------
out=$(imi tick --now "$(date -u -d '+5 months' +%Y-%m-%dT%H:%M:%S)")
expect "five months after closure nothing is deleted" '^  sealed_subject: ' "$(imi case show "$case_id")"
out=$(imi tick --now "$(date -u -d '+6 months -7 days' +%Y-%m-%dT%H:%M:%S)")
expect "two weeks before deletion the notice timer runs" '1 timer\(s\) run, 0 failed' "$out"
expect "the requester is told of the coming deletion, in French" "$case_id.*effacées du système le [0-9]+ [a-zéû]+ [0-9]{4}" \
	"$(decoded "$(item imi@cnom.fr deletion)" | tr '\n' ' ')"
expect "the responder is told of the coming deletion, in German" "$case_id.*gelöscht" \
	"$(decoded "$(item imi@aek.de deletion)" | tr '\n' ' ')"
expect "personal data still there before the deletion date" '^  sealed_subject: ' "$(imi case show "$case_id")"
out=$(imi tick --now "$(date -u -d '+6 months +2 days' +%Y-%m-%dT%H:%M:%S)")
expect "six months after closure the retention timer runs" '[1-9][0-9]* timer\(s\) run, 0 failed' "$out"
show=$(imi case show "$case_id")
refute "no sealed member remains in the case" 'sealed_' "$show"
expect "case says its data were deleted" '^  retention: deleted' "$show"
refute "no outbox item sealed with the case key remains" "^[0-9]+[[:space:]]$case_id" "$(imi outbox list)"
expect "both parties are told before and after: four deletion notices" '^4$' \
	"$(sent | awk -F'\t' '$3 ~ /(^|[.])deletion[.@]/' | grep -c .)"
expect "the requester is told the data were deleted, in French" "ont été définitivement effacées" \
	"$(decoded "$(item imi@cnom.fr deletion)" | tr '\n' ' ')"
expect "the deletion is audited" 'retention\.delete' "$(imi audit --case "$case_id")"
if grep -ra -- "$CANARY" "$H" >/dev/null; then not_ok "subject canary still found under the home directory"
else ok "subject canary found nowhere under the home directory"; fi

expect "imi check passes after the deletion (the Message-ID index keeps no link to a deleted message)" \
	'^store is consistent' "$(imi check 2>&1)"

exit $failed
