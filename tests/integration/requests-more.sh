#!/bin/bash
# requests-more: the rest of a request's life through the real imi binary,
# asserting on every e-mail that leaves (who gets it, in which language,
# what it says):
#   - forward: the German responder forwards the request to another German
#     authority, which accepts and answers; the French requester gets the
#     answer and accepts it, closes, and both sides are offered early
#     deletion; the requester asks for it by DELETE, the other side agrees
#     by its one-click address, and the personal data are gone;
#   - withdraw: a second request withdrawn by the requester;
#   - further questions: answered, asked again, answered again;
#   - state names and refusal reasons in the recipient's language;
#   - the reply rate limit per address.
set -u
IMI=${IMI:?path of the imi binary}
export IMI_DATADIR=${IMI_DATADIR:-${IMI_SRC:?source top}}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imi-requests-more.XXXXXX")
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
command -v openssl >/dev/null || { not_ok "openssl is not installed (tools/deps.sh check)"; exit 1; }
command -v python3 >/dev/null || { not_ok "python3 is not installed"; exit 1; }

H=$tmp/home
imi() { "$IMI" --home "$H" "$@"; }
decoded() {
	[ -f "$1" ] || return 0
	python3 -c '
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
for h in ("Subject", "To", "Reply-To", "Message-Id"):
    if m[h] is not None: print("%s: %s" % (h, m[h]))
for part in m.walk():
    if part.get_content_type() == "text/plain": print(part.get_content())' "$1"
}
# Every message imi send delivered since the last call: "TO<TAB>KIND<TAB>PATH"
# lines, in the order they were queued.
seen=$tmp/seen
: >"$seen"
fresh() {
	imi send >/dev/null
	python3 "$IMI_SRC/tests/integration/maildir.py" list "$tmp/delivered" |
		while IFS=$'\t' read -r path to mid; do
			grep -qxF "$path" "$seen" && continue
			echo "$path" >>"$seen"
			kind=$(printf '%s\n' "$mid" | sed -E 's/^[^.]+\.[0-9]+\.([a-z-]+)@.*/\1/; s/^([a-z-]+)\..*/\1/')
			printf '%s\t%s\t%s\n' "$to" "$kind" "$path" | tee -a "$tmp/all-mail"
		done
}
# mails EXPECTED-SUMMARY: the fresh mail must be exactly these "to kind" pairs
# (sorted, space separated); sets $M to the fresh list.
mails() {
	M=$(fresh)
	local got
	got=$(printf '%s\n' "$M" | awk -F'\t' 'NF {print $1 " " $2}' | sort | paste -sd, -)
	if [ "$got" = "$2" ]; then ok "$1"; else not_ok "$1: mail sent was [$got], wanted [$2]"; fi
}
# body TO KIND: the decoded text of the fresh message to TO of KIND.
body() { decoded "$(printf '%s\n' "$M" | awk -F'\t' -v to="$1" -v k="$2" '$1 == to && $2 == k {p = $3} END {print p}')"; }
replyto() { body "$1" "$2" | sed -n 's/^Reply-To: //p'; }
case_field() { imi case show "$1" | sed -n "s/^  $2: //p"; }

mkdir -p "$H" && printf '[outbound]\noutbox_maildir = %s\n' "$tmp/delivered" >"$H/imi.conf"
imi init >/dev/null || { not_ok "imi init"; exit 1; }
cd "$tmp" || exit 1
openssl genrsa -traditional -out dkim.pem 2048 2>/dev/null
pub=$(openssl rsa -in dkim.pem -pubout -outform DER 2>/dev/null | base64 -w0)
for d in cnom.fr aek.de lak.de; do echo "s1._domainkey.$d v=DKIM1; k=rsa; p=$pub"; done >keys.txt
export IMI_DKIM_KEYFILE=$tmp/keys.txt
imi authority add --id fr-cnom --country FR --language fr --name 'fr=Ordre des médecins' \
	--area professional-qualifications --postbox imi@cnom.fr --domain cnom.fr >/dev/null &&
imi authority add --id de-aek --country DE --language de --name 'de=Ärztekammer' \
	--area professional-qualifications --postbox imi@aek.de --domain aek.de >/dev/null &&
imi authority add --id de-lak --country DE --language de --name 'de=Landesärztekammer' \
	--area professional-qualifications --postbox post@lak.de --domain lak.de >/dev/null &&
imi user add --email anne@cnom.fr --authority fr-cnom --role handler >/dev/null &&
imi user add --email jan@aek.de --authority de-aek --role handler >/dev/null &&
imi user add --email eva@lak.de --authority de-lak --role handler >/dev/null ||
	{ not_ok "registering authorities and users"; exit 1; }

sign() { imi auth sign --selector s1 --domain "${1#*@}" --key "$tmp/dkim.pem" "$2"; }
n=0
# send FROM TO SUBJECT < body: signs and delivers one reply, prints the report.
send() {
	n=$((n + 1))
	{
		echo "From: $1"
		echo "To: $2"
		echo "Subject: $3"
		echo "Message-ID: <m$n.$RANDOM@${1#*@}>"
		echo "Date: $(date -R)"
		echo "MIME-Version: 1.0"
		echo "Content-Type: text/plain; charset=utf-8"
		echo
		cat
	} >"msg$n.eml"
	sign "$1" "msg$n.eml" >"signed$n.eml"
	imi deliver --report --recipient "$2" <"signed$n.eml"
}

# ---- forward -----------------------------------------------------------------------
CANARY=Forwardperson9c1
c1=$(imi request new --from-authority fr-cnom --to-authority de-aek --qset pq-general \
	--subject "Dr. $CANARY" --deadline 2099-12-31 --user anne@cnom.fr)
mails "a new request: the request to the responder, the case id to the requesting user" \
	"anne@cnom.fr status,imi@aek.de request"
expect "the requesting user is told the state in French" "État du dossier $c1 .*: envoyée\\." "$(body anne@cnom.fr status)"
fwd_addr=$(body imi@aek.de request | grep -Eo 'imi\+[^ ]*\.forward\.[^ ]*@[a-z.]+' | head -n 1)
expect "the request offers a one-click forward address" '\.forward\.' "$fwd_addr"

out=$(echo "post@lak.de" | send jan@aek.de "$fwd_addr" "Weiterleitung")
expect "the responder forwards to another German authority" '^applied.*forward applied, state forwarded' "$out"
expect "the case now names the new responder" '^de-lak$' "$(case_field "$c1" responder)"
mails "forward: the request to the new responder, a confirmation to the forwarding user" \
	"jan@aek.de confirm,post@lak.de request"
out=$(body post@lak.de request)
expect "the forwarded request is in German" '^Subject: Auskunftsersuchen \[' "$out"
expect "the forwarded request carries the subject of the case" "$CANARY" "$out"
expect "the forwarded request names the French requester" 'Ordre des médecins \(FR\)' "$out"
expect "the forwarder's confirmation shows the state in German" "Stand des Vorgangs $c1 .*: weitergeleitet\\." "$(body jan@aek.de confirm)"
refute "the forwarder's confirmation does not repeat the subject" "$CANARY" "$(body jan@aek.de confirm)"
reply_lak=$(replyto post@lak.de request)

out=$(echo "" | send jan@aek.de "$(replyto jan@aek.de confirm)" "ACCEPT [$c1]")
expect "the former responder can no longer act" '^answered.*accept refused: not-party' "$out"
mails "the former responder is told, nothing else" "jan@aek.de error"
expect "the former responder's refusal is in German" 'nicht am Vorgang .* beteiligt' "$(body jan@aek.de error)"

out=$(echo "" | send eva@lak.de "$reply_lak" "ACCEPT [$c1]")
expect "the new responder accepts" '^applied.*accept applied, state accepted' "$out"
mails "accept: confirmation to the new responder, status to the requester" \
	"eva@lak.de confirm,imi@cnom.fr status"
expect "the new responder's confirmation says accepted in German" ": angenommen\\." "$(body eva@lak.de confirm)"
expect "the requester learns of the acceptance in French" "$c1 .*: acceptée\\." "$(body imi@cnom.fr status)"

out=$(printf 'Q1: Dr. %s\nQ2: 777\nQ3: 2.4.2011\nQ4: ja\nQ5: nein\nQ6: keine\n' "$CANARY" |
	send eva@lak.de "$reply_lak" "AW: [$c1]")
expect "the new responder answers" '^applied.*answer applied, state answered' "$out"
mails "answer: confirmation to the responder, the answers to the requester" \
	"eva@lak.de confirm,imi@cnom.fr status"
expect "the answer's confirmation is German" '^Vielen Dank' "$(body eva@lak.de confirm)"
st=$(body imi@cnom.fr status)
expect "the requester gets the answers in French" "^Q2\\. Num.ro d'enregistrement" "$st"
expect "the requester gets the values" '^ +777$' "$st"
expect "the requester's notice names the state in French" ": répondue\\." "$st"
reply_fr=$(replyto imi@cnom.fr status)

# ---- further questions loop --------------------------------------------------------
out=$(echo "Merci. Quelle est la date de la dernière inscription ?" |
	send anne@cnom.fr "$reply_fr" "FURTHER-QUESTIONS [$c1]")
expect "further questions by the requester" '^applied.*state accepted' "$out"
mails "further questions: confirmation to the requester, the questions to the responder" \
	"anne@cnom.fr confirm,post@lak.de status"
expect "the requester's confirmation is French" "^Subject: Dossier \\[?$c1" "$(body anne@cnom.fr confirm)"
expect "the requester's confirmation says acceptée" ': acceptée\.' "$(body anne@cnom.fr confirm)"
expect "the responder's notice is German" '^Subject: Vorgang' "$(body post@lak.de status)"
expect "the responder gets the requester's own words" 'dernière inscription' "$(body post@lak.de status)"
expect "the responder sees the state in German" ": angenommen\\." "$(body post@lak.de status)"
out=$(echo "Q3: 5.6.2012" | send eva@lak.de "$reply_lak" "AW: [$c1]")
expect "the further answer is applied" '^applied.*state answered' "$out"
mails "the further answer: confirmation, answers to the requester" \
	"eva@lak.de confirm,imi@cnom.fr status"
expect "the further answer's confirmation is German and lists Q3" '^Q3: 2012-06-05' "$(body eva@lak.de confirm)"
st=$(body imi@cnom.fr status)
expect "the corrected date reaches the requester" '2012' "$st"
expect "the earlier answers are kept" '^ +777$' "$st"

# ---- refusal reasons in the sender's language ---------------------------------------
out=$(echo "" | send anne@cnom.fr "$reply_fr" "CLOSE [$c1]")
expect "CLOSE before the answer is accepted is refused" '^answered.*close refused: wrong-state' "$out"
mails "the refusal goes to the sender only" "anne@cnom.fr error"
err=$(body anne@cnom.fr error)
expect "the refusal reason is French, with the state in French" "tant que le dossier est dans l'état « répondue »" "$err"
refute "no English state name in the French refusal" 'is not possible|answered' "$err"

out=$(echo "" | send anne@cnom.fr "$reply_fr" "DELETE [$c1]")
expect "DELETE of an open case is refused" '^answered.*delete refused: wrong-state' "$out"
mails "the refusal goes to the sender only" "anne@cnom.fr error"
expect "the refusal says why, in French" "effacement anticipé n'est possible qu'une fois le dossier clôturé" "$(body anne@cnom.fr error)"
expect "the case is still answered" '^answered$' "$(case_field "$c1" state)"

out=$(echo "" | send anne@cnom.fr "$reply_fr" "ACCEPT-ANSWER [$c1]")
expect "the requester accepts the answer" '^applied.*state answer-accepted' "$out"
mails "accept-answer: confirmation and status" "anne@cnom.fr confirm,post@lak.de status"
expect "the requester's confirmation says 'réponse acceptée'" ': réponse acceptée\.' "$(body anne@cnom.fr confirm)"
expect "the responder reads 'Antwort angenommen'" ': Antwort angenommen\.' "$(body post@lak.de status)"
out=$(echo "" | send anne@cnom.fr "$reply_fr" "CLOSE [$c1]")
expect "the requester closes" '^applied.*state closed' "$out"
mails "close: confirmation and status" "anne@cnom.fr confirm,post@lak.de status"
conf=$(body anne@cnom.fr confirm)
expect "the closing confirmation says closed in French" ": clôturée\\." "$conf"
expect "the closing confirmation offers early deletion (French)" "effacement anticipé.*imi\\+imi-[0-9-]+\\.delete\\." "$(printf '%s' "$conf" | tr '\n' ' ')"
expect "the other side is offered early deletion (German)" "vorzeitige Löschung.*imi\\+imi-[0-9-]+\\.delete\\." "$(body post@lak.de status | tr '\n' ' ')"
agree_base=$(body post@lak.de status | grep -Eo 'imi\+[^ ]*\.delete\.[^ ]*@[a-z.]+' | head -n 1)

# ---- subject access ----------------------------------------------------------------
sa=$(imi subject-access "$(printf '%s' "$CANARY" | tr 'A-Z' 'a-z')")
expect "subject-access finds the case by the subject's name (any letter case)" "^case $c1 \\(request, closed, personal data held\\)" "$sa"
expect "subject-access shows the field that holds it" "^  subject: Dr\\. $CANARY" "$sa"
expect "subject-access shows the answers that hold it" "^  answers: .*$CANARY" "$sa"
expect "subject-access lists the stored message that holds it" '^  message <m[0-9]+\.[0-9]+@lak\.de> received [0-9-]+ \(applied\)' "$sa"
refute "subject-access does not list the other cases" "IMI-[0-9]+-[0-9]+ .*" "$(printf '%s\n' "$sa" | grep '^case' | grep -v "$c1")"
js=$(imi subject-access --json --by "DPO file 2026/17" 777)
expect "--json: the case found by an id number in an answer" "\"id\" : \"$c1\"" "$js"
expect "--json is valid JSON with the answers field" '^ok$' "$(printf '%s' "$js" | python3 -c 'import sys, json; d = json.load(sys.stdin); print("ok" if "777" in d["cases"][0]["fields"]["answers"] else "no")')"
au=$(imi audit | grep subject-access)
expect "each search is audited with who asked" 'subject-access.*DPO file 2026/17' "$au"
refute "the audit holds neither the query nor what was found" "$CANARY|777|forwardperson" "$au"
expect "a user of the directory is found by e-mail address" '^user .*<eva@lak.de> of de-lak' "$(imi subject-access eva@lak.de)"
out=$(imi subject-access ab 2>&1); rc=$?
expect "a query shorter than 3 characters is refused" '^64 .*at least 3' "$rc $out"

# ---- early deletion by e-mail -------------------------------------------------------
out=$(echo "" | send eva@lak.de "$reply_lak" "DELETE [$c1]")
expect "the responder asks for early deletion by DELETE on its reply address" '^applied' "$out"
mails "the responder's DELETE: the requester is asked to agree, the responder told" \
	"eva@lak.de confirm,imi@cnom.fr deletion"
ask=$(body imi@cnom.fr deletion)
expect "the requester is asked in French, naming the asking authority" "Landesärztekammer \\(DE\\) demande.*$c1" "$(printf '%s' "$ask" | tr '\n' ' ')"
expect "the request carries a one-click agree address" 'imi\+imi-[0-9-]+\.agree\.' "$ask"
expect "the responder is told that the other side must agree (German)" 'Zustimmung der anderen Behörde ausstehend' "$(body eva@lak.de confirm)"
expect "personal data are still there while the other side has not agreed" '^  sealed_subject: ' "$(imi case show "$c1")"
agree=$(printf '%s\n' "$ask" | grep -Eo 'imi\+[^ ]*\.agree\.[^ ]*@[a-z.]+' | head -n 1)
out=$(echo "" | send anne@cnom.fr "$agree" "Re: [$c1]")
expect "the requester agrees by the one-click address" '^applied.*delete|^applied.*agree' "$out"
mails "the deletion is notified to both parties" "imi@cnom.fr deletion,post@lak.de deletion"
expect "the requester is told in French" 'ont été définitivement effacées' "$(body imi@cnom.fr deletion | tr '\n' ' ')"
expect "the responder is told in German" 'endgültig aus dem System gelöscht' "$(body post@lak.de deletion | tr '\n' ' ')"
show=$(imi case show "$c1")
refute "no sealed member remains after early deletion" 'sealed_' "$show"
expect "the case says deleted" '^  retention: deleted' "$show"
expect "the early deletion is audited as retention deletion" 'retention\.delete.*early: asked by de-lak, agreed by fr-cnom' "$(imi audit --case "$c1")"
expect "after deletion subject-access finds nothing" '^nothing held$' "$(imi subject-access "$CANARY")"
if grep -ra -- "$CANARY" "$H" >/dev/null; then not_ok "the subject of the early-deleted case is still under the home directory"
else ok "the subject of the early-deleted case is found nowhere under the home directory"; fi
out=$(imi tick --now "$(date -u -d '+7 months' +%Y-%m-%dT%H:%M:%S)")
mails "no retention timer of the deleted case is left to run" ""

# ---- withdraw ----------------------------------------------------------------------
c2=$(imi request new --from-authority fr-cnom --to-authority de-aek --qset pq-general \
	--subject "Withdrawn person" --deadline 2099-12-31 --user anne@cnom.fr)
mails "the second request goes out" "anne@cnom.fr status,imi@aek.de request"
reply_fr2=$(replyto anne@cnom.fr status)
out=$(echo "Erreur de destinataire." | send anne@cnom.fr "$reply_fr2" "WITHDRAW [$c2]")
expect "the requester withdraws" '^applied.*withdraw applied, state withdrawn' "$out"
mails "withdraw: confirmation to the requester, notice to the responder" \
	"anne@cnom.fr confirm,imi@aek.de status"
expect "the responder is told in German that it was withdrawn" ": zurückgezogen\\." "$(body imi@aek.de status)"
expect "the responder gets the requester's reason" 'Erreur de destinataire' "$(body imi@aek.de status)"
expect "the requester's confirmation says retirée" ": retirée\\." "$(body anne@cnom.fr confirm)"
out=$(printf 'Q1: x\n' | send jan@aek.de "$(replyto imi@aek.de status)" "AW: [$c2]")
expect "an answer to a withdrawn request is refused" '^answered.*refused' "$out"
mails "only the sender is told" "jan@aek.de error"
expect "the refusal of an answer to a withdrawn request is German" 'Vorgang .*'"$c2" "$(body jan@aek.de error)"

# ---- reply rate limit ----------------------------------------------------------------
# requests.ini allows 30 automatic replies per address and hour; what jan
# got so far in this hour counts.  Flood with replies to the withdrawn case.
reply_c2=$(replyto jan@aek.de error)
before=$(grep -Ec '^jan@aek.de	(confirm|error|notice)	' "$tmp/all-mail")
for i in $(seq 1 34); do
	echo "Q1: $i" | send jan@aek.de "$reply_c2" "AW: [$c2] $i" >/dev/null
done
fresh >/dev/null
expect "replies to one address stop at the hourly cap of 30" '^30$' \
	"$(grep -Ec '^jan@aek.de	(confirm|error|notice)	' "$tmp/all-mail")"
expect "the flood had replies before the cap ($before earlier)" '^[1-9]' "$((30 - before))"
out=$(echo "Q1: late" | send jan@aek.de "$reply_c2" "AW: [$c2] late")
expect "a message over the cap is still processed and recorded" '^answered.*answer refused' "$out"
mails "and not answered" ""
expect "the unanswered replies are audited" 'request\.rate-limited.*to=jan@aek.de' "$(imi audit)"
# ---- urgency lists ---------------------------------------------------------------------
# requests.ini: every 7d, requests open longer than 60d.  The ticks above
# (seven months on) already set the next list; the clock goes on from there.
imi user add --email claire@cnom.fr --authority fr-cnom --role coordinator >/dev/null &&
imi user add --email hans@lak.de --authority de-lak --role coordinator >/dev/null ||
	not_ok "registering coordinators"
c3=$(imi request new --from-authority fr-cnom --to-authority de-aek --qset pq-general \
	--subject "Late person" --deadline 2099-12-31 --user anne@cnom.fr)
mails "a third request goes out" "anne@cnom.fr status,imi@aek.de request"
out=$(imi tick --now "$(date -u -d '+8 months' +%Y-%m-%dT%H:%M:%S)")
expect "tick reports the urgency lists" '2 urgency list\(s\) sent' "$out"
mails "each country's coordinator gets the list (besides: a reminder, the withdrawn case's deletion)" \
	"claire@cnom.fr urgency,hans@lak.de urgency,imi@aek.de deletion,imi@aek.de deletion,imi@aek.de reminder,imi@cnom.fr deletion,imi@cnom.fr deletion"
fr=$(body claire@cnom.fr urgency)
expect "the French coordinator's list is in French" "^Subject: Liste d'urgence" "$fr"
expect "the list names the late request with its state in French" "$c3 : .*Ordre des médecins → Ärztekammer \\(FR → DE\\) ; état : envoyée ; ouvert depuis le [0-9]+ [a-zéû]+ [0-9]{4}" "$fr"
refute "closed, withdrawn and deleted requests are not listed" "$c1|$c2" "$fr"
refute "the list carries no personal data" 'Late person' "$fr"
de=$(body hans@lak.de urgency)
expect "the German coordinator's list is in German" '^Subject: Dringlichkeitsliste' "$de"
expect "the German list names the request (the responder is German)" "$c3: .*Stand: versandt; offen seit" "$de"
expect "the lists are audited" 'request\.urgency-list.*country=DE requests=1' "$(imi audit)"
out=$(imi tick --now "$(date -u -d '+8 months +1 day' +%Y-%m-%dT%H:%M:%S)")
refute "a day later no list" 'urgency' "$out"
mails "a day later only the reminder that catches up is sent" "imi@aek.de reminder"
out=$(imi tick --now "$(date -u -d '+8 months +8 days' +%Y-%m-%dT%H:%M:%S)")
expect "a period later the list comes again" '2 urgency list\(s\) sent' "$out"

exit $failed
