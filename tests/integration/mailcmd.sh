#!/bin/bash
# mailcmd: commands by e-mail (docs/mailcommands.md) through the real imi
# binary.  Mail goes in only with `imi deliver` (DKIM-signed, keys from a key
# file through IMI_DKIM_KEYFILE), comes out only through `imi send` into a
# Maildir; every e-mail that leaves is checked for its recipient, language
# and content.  HELP gives a request form whose filled-in reply creates the
# request; STATUS shows only the sender's own cases; FIND searches the
# directory; a coordinator registers an authority and a user of its country
# and releases held mail of its country; a coordinator of another country
# and a user without the role are refused, and the refusals change nothing.
set -u
IMI=${IMI:?path of the imi binary}
export IMI_DATADIR=${IMI_DATADIR:-${IMI_SRC:?source top}}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imi-mailcmd.XXXXXX")
failed=0
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; failed=1; }
expect() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then ok "$1"; else
		not_ok "$1: wanted a line matching /$2/, got:"
		printf '%s\n' "$3" | sed 's/^/#   /' | head -n 40
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
# The decoded text of a sent message: headers, then the text part.
decoded() {
	python3 -c '
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
for h in ("Subject", "To", "Cc", "Bcc", "Reply-To", "In-Reply-To", "Auto-Submitted", "X-IMI-Loop"):
    if m[h] is not None: print("%s: %s" % (h, m[h]))
for part in m.walk():
    if part.get_content_type() == "text/plain": print(part.get_content())' "$1"
}
# The HTML part of a sent message.
html() {
	python3 -c '
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
for part in m.walk():
    if part.get_content_type() == "text/html": print(part.get_content())' "$1"
}
# Every message sent so far, one line each: PATH, To, Message-ID.
sent() { imi send >/dev/null && python3 "$IMI_SRC/tests/integration/maildir.py" list "$tmp/delivered"; }
count_sent() { sent | grep -c .; }
# The newest message to a recipient whose Message-ID has a kind.
item() { sent | awk -F'\t' -v to="$1" -v kind="$2" '$2 == to && $3 ~ "(^|\\.)" kind "[.@]" {s = $1} END {print s}'; }
# The messages sent since a count: "To<TAB>Message-ID" lines.
since() { sent | tail -n +$(($1 + 1)) | cut -f2,3; }

mkdir -p "$H" && printf '[outbound]\noutbox_maildir = %s\n' "$tmp/delivered" >"$H/imi.conf"
imi init >/dev/null || { not_ok "imi init"; exit 1; }

cd "$tmp" || exit 1
openssl genrsa -traditional -out dkim.pem 2048 2>/dev/null
pub=$(openssl rsa -in dkim.pem -pubout -outform DER 2>/dev/null | base64 -w0)
for d in cnom.fr aek.de example.org new.fr; do
	echo "s1._domainkey.$d v=DKIM1; k=rsa; p=$pub"
done >keys.txt
export IMI_DKIM_KEYFILE=$tmp/keys.txt
imi authority add --id fr-cnom --country FR --language fr --name 'fr=Ordre des médecins' \
	--area professional-qualifications --postbox imi@cnom.fr --domain cnom.fr >/dev/null &&
imi authority add --id de-aek --country DE --language de --name 'de=Ärztekammer Nord' \
	--area professional-qualifications --postbox imi@aek.de --domain aek.de >/dev/null &&
imi authority add --id it-x --country IT --language it --name 'it=Ordine dei medici' \
	--area professional-qualifications --postbox imi@example.org --domain example.org >/dev/null &&
imi user add --email anne@cnom.fr --authority fr-cnom --role handler >/dev/null &&
imi user add --email claire@cnom.fr --authority fr-cnom --role handler,coordinator >/dev/null &&
imi user add --email jan@aek.de --authority de-aek --role handler >/dev/null &&
imi user add --email hans@aek.de --authority de-aek --role handler,coordinator >/dev/null &&
imi user add --email olga@example.org --authority it-x --role handler >/dev/null ||
	{ not_ok "registering authorities and users"; exit 1; }
ok "authorities and users registered"

n=0
# mail FROM TO SUBJECT [EXTRA-HEADERS] < body: a message file, prints its name.
mail() {
	n=$((n + 1))
	{
		echo "From: $1"
		echo "To: $2"
		echo "Subject: $3"
		echo "Message-ID: <c$n.$(date +%s%N).$RANDOM@${1#*@}>"
		echo "Date: $(date -R)"
		[ -n "${4:-}" ] && printf '%s\n' "$4"
		echo "MIME-Version: 1.0"
		echo "Content-Type: text/plain; charset=utf-8"
		echo
		cat
	} >"msg$n.eml"
	echo "msg$n.eml"
}
# send_cmd FROM SUBJECT [TO] < body: signs and delivers; prints the report.
send_cmd() {
	local to=${3:-imi@imi.localhost} f
	f=$(mail "$1" "$to" "$2")
	imi auth sign --selector s1 --domain "${1#*@}" --key "$tmp/dkim.pem" "$f" >"s$n.eml"
	imi deliver --report --recipient "$to" <"s$n.eml"
}
# The newest command reply to an address.
answer() { decoded "$(item "$1" mailcmd)"; }

# ---- HELP ------------------------------------------------------------------------
out=$(echo | send_cmd anne@cnom.fr "HELP")
expect "HELP is answered" '^answered.*HELP answered' "$out"
r=$(answer anne@cnom.fr)
expect "HELP goes to the sender" '^To: .*anne@cnom\.fr' "$r"
expect "HELP is in French (the authority's language)" '^Subject: Réponse à votre commande HELP' "$r"
expect "HELP lists the commands" '^STATUS ?:' "$r"
expect "HELP lists the request forms" '^HELP REQUEST pq-general' "$r"
refute "HELP to a handler lists no coordinator command" 'AUTHORITY ADD' "$r"
refute "HELP to an authority without alert access offers no alert form" 'HELP ALERT pq-alert' "$r"
expect "the reply is marked auto-generated" '^Auto-Submitted: auto-generated' "$r"
expect "the reply answers the command's message" '^In-Reply-To: <c1\.' "$r"
out=$(echo | send_cmd claire@cnom.fr "Re: help")
expect "help in any case, after Re:, is understood" '^answered.*HELP answered' "$out"
expect "HELP to a coordinator lists the coordinator commands" 'AUTHORITY ADD' "$(answer claire@cnom.fr)"
f=$(printf 'STATUS\n' | mail anne@cnom.fr imi@imi.localhost "[EXTERNAL] message")
imi auth sign --selector s1 --domain cnom.fr --key "$tmp/dkim.pem" "$f" >forced.eml
out=$(imi deliver --report --recipient imi@imi.localhost <forced.eml)
expect "a command in the body's first line is understood when the subject is forced" \
	'^answered.*STATUS answered' "$out"

# ---- the request form, filled in, creates the request -----------------------------
before=$(count_sent)
out=$(echo | send_cmd anne@cnom.fr "HELP REQUEST pq-general de-aek")
expect "HELP REQUEST sends a form" '^answered.*request form pq-general sent' "$out"
form=$(decoded "$(item anne@cnom.fr mailcmd)")
expect "the form is in French" "^Subject: Réponse à votre commande HELP" "$form"
expect "the form names the authority asked" '^To authority: de-aek$' "$form"
expect "the form has the About line" '^About: ?$' "$form"
expect "the form lists the questions in French" "^Q2\\. Num.ro d'enregistrement" "$form"
expect "the form's reply address carries a token" '^Reply-To: imi\+imi-[0-9]{4}-[0-9]{6}\.reply\.' "$form"
expect "one e-mail only (the form)" "^$((before + 1))$" "$(count_sent)"
reply=$(printf '%s\n' "$form" | sed -n 's/^Reply-To: //p')
before=$(count_sent)
out=$({ echo "About: Dr. Canary Zwölf"; echo "Deadline: 2099-12-31"; echo;
	printf '%s\n' "$form" | sed 's/^/> /'; } | send_cmd anne@cnom.fr "Re: form" "$reply")
expect "the filled-in form creates the request" '^applied.*request IMI-[0-9]{4}-[0-9]{6} created from form' "$out"
case_id=$(printf '%s\n' "$out" | grep -Eo 'request IMI-[0-9]{4}-[0-9]{6}' | cut -d' ' -f2)
req=$(decoded "$(item imi@aek.de request)")
expect "the request goes to the responder's post-box" '^To: .*imi@aek\.de' "$req"
expect "the request is in German" "^Subject: Auskunftsersuchen \\[$case_id\\]" "$req"
expect "the request carries what it is about" 'Canary Zwölf' "$req"
expect "the request has the deadline of the form" '31\. Dezember 2099' "$req"
st=$(decoded "$(item anne@cnom.fr status)")
expect "the requesting user gets the case id, in French" "^Subject: Dossier \\[$case_id\\]" "$st"
expect "two e-mails: the request and the requester's copy" '^2$' "$(since "$before" | grep -c .)"
expect "the case is sent" '^  state: sent' "$(imi case show "$case_id")"
out=$({ echo "About: someone else"; } | send_cmd anne@cnom.fr "Re: form" "$reply")
expect "a form is used once" '^answered.*already used' "$out"
expect "the second use is told, in French, with the case" "$case_id" "$(answer anne@cnom.fr)"
out=$(echo | send_cmd anne@cnom.fr "HELP REQUEST pq-general")
form=$(decoded "$(item anne@cnom.fr mailcmd)")
reply=$(printf '%s\n' "$form" | sed -n 's/^Reply-To: //p')
out=$(echo "About: Dr. X" | send_cmd anne@cnom.fr "Re: form" "$reply")
expect "a form without an authority is refused" '^answered.*incomplete' "$out"
expect "the sender is told what is missing, with the form again" 'To authority' "$(answer anne@cnom.fr)"
out=$(echo | send_cmd anne@cnom.fr "HELP REQUEST no-such-form")
expect "an unknown form is refused" '^answered.*HELP refused: unknown' "$out"
expect "the refusal names the unknown form, in French" 'no-such-form' "$(answer anne@cnom.fr)"

# ---- STATUS: own cases only -------------------------------------------------------
out=$(echo | send_cmd anne@cnom.fr "STATUS")
r=$(answer anne@cnom.fr)
expect "STATUS lists the requester's case, its state in French" "^$case_id  .*  envoyée  " "$r"
expect "STATUS is in French" '^Subject: Réponse à votre commande STATUS' "$r"
out=$(echo | send_cmd jan@aek.de "STATUS")
expect "STATUS lists the case to the responder, in German" "^$case_id  " "$(answer jan@aek.de)"
out=$(echo | send_cmd olga@example.org "STATUS")
r=$(answer olga@example.org)
refute "STATUS never shows another authority's case" "$case_id" "$r"
expect "STATUS to a stranger counts none, in Italian" '\(0\)' "$r"

# ---- FIND ------------------------------------------------------------------------
out=$(echo | send_cmd olga@example.org "FIND ärztekammer")
r=$(answer olga@example.org)
expect "FIND is answered" '^answered.*FIND answered \(1\)' "$out"
expect "FIND lists the matching authority" '^de-aek  Ärztekammer Nord  \(DE\)  imi@aek\.de' "$r"
refute "FIND lists only matches" '^fr-cnom' "$r"

# ---- coordinators: their own country only --------------------------------------------
before=$(count_sent)
out=$(send_cmd claire@cnom.fr "AUTHORITY ADD" <<'EOT'
id: fr-new
name: fr=Nouvelle <b>autorité</b>
name: en=New authority
language: fr
area: professional-qualifications
postbox: imi@new.fr
domain: new.fr

--
Claire, coordinatrice
Tel: +33 1 23 45 67 89
EOT
)
expect "a coordinator registers an authority of its country" '^applied.*AUTHORITY ADD done' "$out"
expect "the authority is in the directory" '^fr-new	FR	imi@new\.fr	active' "$(imi authority list)"
r=$(answer claire@cnom.fr)
expect "the coordinator is told, in French" 'AUTHORITY ADD.*added fr-new' "$r"
expect "only the coordinator is written to" "^claire@cnom\\.fr	" "$(since "$before")"
out=$(send_cmd claire@cnom.fr "USER ADD" <<'EOT'
email: paul@new.fr
authority: fr-new
role: handler, alert_sender
name: Paul
EOT
)
expect "a coordinator registers a user of its country" '^applied.*USER ADD done' "$out"
expect "the user is registered with its roles" '^paul@new\.fr	fr-new	handler,alert_sender	active' "$(imi user list)"
out=$(echo | send_cmd anne@cnom.fr "FIND nouvelle")
f=$(item anne@cnom.fr mailcmd)
expect "a registered name reaches another's mail as text" '^fr-new  Nouvelle <b>autorité</b>  \(FR\)' "$(decoded "$f")"
refute "no markup from a name in an HTML part" '<b>autorit' "$(html "$f")"
refute "no header added by the command's text" '^(Cc|Bcc): ' "$(decoded "$f")"

out=$(send_cmd claire@cnom.fr "AUTHORITY ADD" <<'EOT'
id: de-new
country: DE
name: de=Neue Behörde
area: professional-qualifications
postbox: imi@neu.de
EOT
)
expect "an authority of another country is refused" '^answered.*AUTHORITY ADD refused: country' "$out"
expect "the refusal says which country, in French" "de votre pays \\(FR\\)" "$(answer claire@cnom.fr)"
refute "the refused authority does not exist" '^de-new' "$(imi authority list)"
out=$(echo | send_cmd hans@aek.de "AUTHORITY DISABLE fr-new")
expect "a coordinator of another country is refused" '^answered.*AUTHORITY DISABLE refused: country' "$out"
expect "the refusal is in German" '^Subject: Antwort auf Ihren Befehl AUTHORITY DISABLE' "$(answer hans@aek.de)"
expect "the refused disable changed nothing" '^fr-new	FR	imi@new\.fr	active' "$(imi authority list)"
out=$(echo | send_cmd hans@aek.de "USER DISABLE anne@cnom.fr")
expect "a user of another country cannot be disabled" '^answered.*USER DISABLE refused: country' "$out"
expect "the user is still active" '^anne@cnom\.fr	fr-cnom	handler	active' "$(imi user list)"
out=$(echo | send_cmd anne@cnom.fr "ALERTS GRANT fr-cnom")
expect "a handler is not a coordinator" '^answered.*ALERTS GRANT refused: role' "$out"
expect "the refusal names the role wanted, in French" 'coordinator' "$(answer anne@cnom.fr)"
refute "no alert access was granted" '^fr-cnom.*alerts' "$(imi authority list)"
out=$(echo | send_cmd claire@cnom.fr "AUTHORITY")
expect "a group word without its command is refused with the syntax" '^answered.*refused: malformed' "$out"
expect "the syntax is shown" 'AUTHORITY UPDATE <authority>' "$(answer claire@cnom.fr)"
out=$(echo | send_cmd claire@cnom.fr "SPF-ALIGNED fr-new maybe")
expect "SPF-ALIGNED wants on or off" '^answered.*refused: malformed' "$out"
out=$(echo | send_cmd claire@cnom.fr "SPF-ALIGNED fr-new on")
expect "a coordinator sets SPF alignment" '^applied.*SPF-ALIGNED done' "$out"
expect "the authority accepts aligned SPF" 'authentication: DKIM or aligned SPF' "$(imi authority show fr-new)"
out=$(echo | send_cmd claire@cnom.fr "ALERTS GRANT fr-new")
expect "a coordinator grants alert access" '^applied.*ALERTS GRANT done' "$out"
expect "the authority has alert access" '^fr-new	.*,alerts' "$(imi authority list)"
out=$(echo | send_cmd paul@new.fr "HELP ALERT pq-alert")
expect "an alert sender gets the alert form" '^answered.*alert form pq-alert sent' "$out"
expect "the alert form reaches the alert sender with a token" '^Reply-To: imi\+imi-' \
	"$(decoded "$(item paul@new.fr form)")"
out=$(echo | send_cmd anne@cnom.fr "HELP ALERT pq-alert")
expect "without alert access HELP ALERT is refused" '^answered.*HELP refused: alerts' "$out"
expect "the audit names the refusing sender's user" 'anne@cnom\.fr.*mailcmd\.refused' "$(imi audit)"

# ---- held mail ------------------------------------------------------------------------
out=$(echo | send_cmd zoe@new.fr "STATUS")
expect "a sender not yet registered is held, not answered" '^held' "$out"
hn=$(imi held list | cut -f1 | head -n 1)
out=$(echo | send_cmd hans@aek.de "HELD LIST")
expect "another country's coordinator does not see the held message" '\(0\)' "$(answer hans@aek.de)"
out=$(echo | send_cmd hans@aek.de "HELD RELEASE $hn")
expect "another country's coordinator cannot release it" '^answered.*HELD RELEASE refused: country' "$out"
out=$(echo | send_cmd claire@cnom.fr "HELD LIST")
expect "the coordinator of the sender's country sees it" "^$hn  .*sender-unknown" "$(answer claire@cnom.fr)"
out=$(printf 'email: zoe@new.fr\nauthority: fr-new\nrole: handler\n' | send_cmd claire@cnom.fr "USER ADD")
expect "the coordinator registers the sender" '^applied.*USER ADD done' "$out"
out=$(echo | send_cmd claire@cnom.fr "HELD RELEASE $hn")
expect "the coordinator releases the held message" '^applied.*HELD RELEASE [0-9]+ scheduled' "$out"
expect "the release is announced, in French" "$hn" "$(answer claire@cnom.fr)"
out=$(imi tick --now "$(date -u -d '+1 minute' +%Y-%m-%dT%H:%M:%S)")
expect "the next tick runs the release" '1 timer\(s\) run, 0 failed' "$out"
expect "the queue is empty" '^0$' "$(imi held list | grep -c .)"
r=$(answer zoe@new.fr)
expect "the released message ran again: the sender's STATUS is answered in French" \
	'^Subject: Réponse à votre commande STATUS' "$r"
expect "the release is audited" 'held\.release' "$(imi audit)"

# ---- the store afterwards ------------------------------------------------------------
expect "the store is consistent (forms, held mail, timers)" '^store is consistent' "$(imi check 2>&1)"
# ---- nothing else left: every reply went to the sender only ------------------------
expect "no command reply went to anyone but its sender" '^0$' \
	"$(sent | awk -F'\t' '$3 ~ /^mailcmd\./ && $2 ~ /,/' | grep -c .)"
exit $failed
