#!/bin/bash
# make demo: plays the imi-mail scenario on the embedded default, in a fresh
# home directory (var/demo), and tells what happened: authorities registered,
# a request answered by a reply from a quirky client, a reminder, the case
# closed, and six months later its personal data deleted.
set -eu
cd "$(dirname "$0")/.."
SRC=$PWD
IMI=${IMI:-$SRC/build/imi}
H=${DEMO_HOME:-$SRC/var/demo}
export IMI_DATADIR=$SRC
MAIL="python3 $SRC/tools/demo/mail.py"
OUT=$H/outbox

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }
run() { printf '$ imi %s\n' "$*"; "$IMI" --home "$H" "$@"; }
quiet() { "$IMI" --home "$H" "$@" >/dev/null; }

rm -rf "$H"
mkdir -p "$H"
say "A fresh home directory: store, keys, inbox and outbox Maildirs"
run init | grep -v '^[a-z0-9._]*\._domainkey' || true

say "Authorities of five countries register, with their users"
run authority add --id fr-cnom --country FR --language fr \
	--name "fr=Conseil national de l'ordre des médecins" --name "en=French National Medical Council" \
	--area professional-qualifications --postbox imi@cnom.example.fr --domain cnom.example.fr
run authority add --id de-aekno --country DE --language de \
	--name "de=Ärztekammer Nordrhein" --name "en=North Rhine Medical Association" \
	--area professional-qualifications --postbox imi@aekno.example.de --domain aekno.example.de
run authority add --id pl-nil --country PL --language pl \
	--name "pl=Naczelna Izba Lekarska" --name "en=Supreme Medical Chamber" \
	--area professional-qualifications,services --postbox imi@nil.example.pl --domain nil.example.pl
run authority add --id el-moh --country GR --language el \
	--name "el=Υπουργείο Υγείας" --name "en=Ministry of Health" \
	--area services --postbox imi@moh.example.gr --domain moh.example.gr --spf-aligned
run authority add --id eu-comm --country EU --language en \
	--name "en=European Commission" --area services,professional-qualifications \
	--postbox imi@ec.example.eu --domain ec.example.eu
run user add --email marie.martin@cnom.example.fr --authority fr-cnom --role handler --name "Marie Martin"
run user add --email k.schmidt@aekno.example.de --authority de-aekno --role handler --name "Klaus Schmidt"
run user add --email coordinator@nil.example.pl --authority pl-nil --role coordinator

say "The directory, searched as an authority would (any language, accents optional)"
run directory search arztekammer
run directory search --country GR

say "The question sets, pre-translated into the 24 official languages"
for set in templates/sets/*.ini; do quiet qset load "$set"; done
run qset list

# The authorities' mail servers sign with DKIM.  In this offline demo their
# public keys come from a key file instead of DNS (IMI_DKIM_KEYFILE).
openssl genrsa -traditional -out "$H/authorities-dkim.pem" 2048 2>/dev/null
pub=$(openssl rsa -in "$H/authorities-dkim.pem" -pubout -outform DER 2>/dev/null | base64 -w0)
for d in cnom.example.fr aekno.example.de; do
	echo "mail._domainkey.$d v=DKIM1; k=rsa; p=$pub"
done >"$H/authorities-dkim.txt"
export IMI_DKIM_KEYFILE=$H/authorities-dkim.txt
sign() { "$IMI" --home "$H" auth sign --selector mail --domain "$2" --key "$H/authorities-dkim.pem" "$1"; }
deliver() { # deliver FILE RECIPIENT
	printf '$ imi deliver --recipient %s < %s\n' "$2" "$(basename "$1")"
	"$IMI" --home "$H" deliver --sender "$(sed -n 's/^From: .*<\(.*\)>.*/\1/p;s/^From: \([^<]*@[^>]*\)$/\1/p' "$1" | head -n 1)" \
		--client-ip 192.0.2.10 --recipient "$2" <"$1"
	echo "   exit $? (0: committed)"
}

say "Paris asks Düsseldorf about a doctor's diploma (the request goes out in German)"
CASE=$(run request new --from-authority fr-cnom --to-authority de-aekno --qset pq-general \
	--subject "Dr. Anna Beispiel, diplôme de médecine, Universität Köln 2014" \
	--deadline "$(date -u -d '+30 days' +%Y-%m-%d)" --user marie.martin@cnom.example.fr | tail -n 1)
note "case $CASE"
run send
$MAIL show "$OUT" imi@aekno.example.de request 28

say "Düsseldorf answers from Outlook: top-posted, windows-1252, quoted-printable"
$MAIL outlook "$OUT" imi@aekno.example.de request "$H/reply.eml" <<'EOT'
Sehr geehrte Damen und Herren,

anbei unsere Antworten:

Q1: Dr. Anna Beispiel
Q2: NRW-2014-55731
Q3: 12.03.2015
Q4: Ja, das Diplom ist echt.
Q5: ja
Q6: Uneingeschränkt
Q7: nein
Q9: Ja
Q10: ja
EOT
sign "$H/reply.eml" aekno.example.de >"$H/reply-signed.eml"
sed -n '1,3p;/^Content-Transfer/,+12p' "$H/reply-signed.eml" | sed 's/^/   | /' | cut -c1-100
note "[...]"
REPLY_TO=$($MAIL replyto "$OUT" imi@aekno.example.de request)
deliver "$H/reply-signed.eml" "$REPLY_TO"

say "What imi understood: the case moved on, and both sides were told, each in its language"
run case show "$CASE" | grep -E '^  (kind|state|qset|requester|responder):' || true
run send
note "-- to Klaus Schmidt (German), the confirmation:"
$MAIL show "$OUT" k.schmidt@aekno.example.de confirm 16
note "-- to the requester in Paris (French), the answers:"
$MAIL show "$OUT" imi@cnom.example.fr status 24

say "A forged reply (no valid signature) is held for review, never applied"
sed 's/^Q4: Ja, das Diplom ist echt./Q4: nein/' "$H/reply.eml" | sed 's/^Message-ID: .*/Message-ID: <forged@aekno.example.de>/' >"$H/forged.eml"
deliver "$H/forged.eml" "$REPLY_TO"
run held list

say "Paris accepts the answer and closes the case, by replying ACCEPT-ANSWER then CLOSE"
REPLY_FR=$($MAIL replyto "$OUT" imi@cnom.example.fr status)
for cmd in ACCEPT-ANSWER CLOSE; do
	printf 'From: Marie Martin <marie.martin@cnom.example.fr>\nTo: %s\nSubject: %s [%s]\nMessage-ID: <%s.%s@cnom.example.fr>\nDate: %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nMerci.\n' \
		"$REPLY_FR" "$cmd" "$CASE" "$cmd" "$RANDOM" "$(date -R)" >"$H/$cmd.eml"
	sign "$H/$cmd.eml" cnom.example.fr >"$H/$cmd-signed.eml"
	deliver "$H/$cmd-signed.eml" "$REPLY_FR"
done
run case show "$CASE" | grep -E '^  state:' || true

say "A second request nobody accepts: eight days later, a reminder"
CASE2=$(quiet request new --from-authority fr-cnom --to-authority de-aekno --qset pq-general \
	--subject "Dr. Max Mustermann" --user marie.martin@cnom.example.fr; "$IMI" --home "$H" case list | tail -n 1 | cut -f1)
run tick --now "$(date -u -d '+8 days' +%Y-%m-%dT%H:%M:%S)"
run send --now "$(date -u -d '+8 days' +%Y-%m-%dT%H:%M:%S)"
$MAIL show "$OUT" imi@aekno.example.de reminder 8

say "An alert: the French market authority warns of a dangerous construction firm"
run authority add --id fr-dgccrf --country FR --language fr --name "fr=DGCCRF" --name "en=Consumer protection authority" \
	--area services --postbox alertes@dgccrf.example.fr --domain dgccrf.example.fr --alerts
run authority add --id fr-sgae --country FR --language fr --name "fr=Coordination nationale IMI" \
	--area services --postbox imi@sgae.example.fr --domain sgae.example.fr --alerts
run authority update de-aekno --alerts --alert-postbox --area professional-qualifications,services
run authority update eu-comm --alerts
run user add --email anne.durand@dgccrf.example.fr --authority fr-dgccrf --role alert_sender
run user add --email coordination@sgae.example.fr --authority fr-sgae --role alert_coordinator
for d in dgccrf.example.fr sgae.example.fr; do
	echo "mail._domainkey.$d v=DKIM1; k=rsa; p=$pub"
done >>"$H/authorities-dkim.txt"
alert_form() {
	cat <<EOT
Q1: yes
Q2: yes
Q3: yes
Q4: ${1:-yes}
Q5: yes
Q6: Baufirma Rheinblick GmbH
Q7: HRB 98765
Q8: DE
Q9: construction
Q10: health
Q11: Asbestos removed without protection on three sites near schools
Q12: 2026-10-01
EOT
}
alert_form no >"$H/alert-part.txt"
note "-- a form with one criterion of the check list not ticked is refused, with the list:"
run alert new --from-authority fr-dgccrf --qset sd-alert --form "$H/alert-part.txt" --user anne.durand@dgccrf.example.fr || true
alert_form >"$H/alert-full.txt"
ALERT=$(run alert new --from-authority fr-dgccrf --qset sd-alert --form "$H/alert-full.txt" --user anne.durand@dgccrf.example.fr | tail -n 1)
note "alert $ALERT waits for the approval of France's alert coordinator (never straight abroad)"
quiet send
APPROVE=$($MAIL grep "$OUT" coordination@sgae.example.fr approval 'imi\+[a-z0-9.-]*\.approve\.[0-9]+\.[a-z2-7]+@[a-z.]+')
printf 'From: Coordination IMI <coordination@sgae.example.fr>\nTo: %s\nSubject: APPROVE [%s]\nMessage-ID: <approve.%s@sgae.example.fr>\nDate: %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nApprouvé.\n' \
	"$APPROVE" "$ALERT" "$RANDOM" "$(date -R)" >"$H/approve.eml"
sign "$H/approve.eml" sgae.example.fr >"$H/approve-signed.eml"
deliver "$H/approve-signed.eml" "$APPROVE"
run send
note "-- the German alert post-box (country of establishment) gets the whole alert, in German:"
$MAIL show "$OUT" imi@aekno.example.de alert 22
note "-- the Commission's copy: every field marked personal removed:"
$MAIL show "$OUT" imi@ec.example.eu alert 22

say "Six months after closure: the personal data of $CASE are deleted"
run tick --now "$(date -u -d '+6 months +2 days' +%Y-%m-%dT%H:%M:%S)"
run case show "$CASE" | grep -E "^  (state|retention|deleted_at|sealed)" || true
# The case's copies in the outbox Maildir go too (docs/deletion.md); the
# deletion notice asks recipients to delete theirs.
if grep -rqa "NRW-2014-55731" "$H/db" "$H/keys" "$OUT"; then
	note "!! the registration number is still in the store or the outbox Maildir"
else
	note "the registration number NRW-2014-55731 is found nowhere in the store, its logs or the outbox Maildir"
fi

say "The audit trail (no personal data in it)"
run audit | tail -n 12

say "Where to look"
cat <<MSG
   Home directory:  $H
     db/            the Berkeley DB environment ('imi --home $H check' verifies it)
     keys/          master, reply-token and DKIM keys (0600)
     outbox/new/    every e-mail imi sent, one file each
   Cases:           imi --home $H case list
   Manual:          man -l docs/imi.8
MSG
