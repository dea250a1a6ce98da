#!/bin/bash
# alerts-canary: what the Commission gets of an alert, through the real path.
#
# For each alert set (sd-alert, pq-alert, and a variant of sd-alert whose
# attachment question says Personal=false), an alert sender replies to the
# mailed form by a DKIM-signed e-mail (`imi deliver`) with a random canary
# in every field that can hold one (free text, dates, the attachment
# question), a PDF whose file name and bytes are canaries, and canaries in
# text outside the answers.  The coordinator approves it; `imi send` puts
# every copy in the outbox Maildir.  alertcanary.py decodes every header,
# part and file name of each Commission copy (python3's email module:
# RFC 2047, base64, quoted-printable, RFC 2231) and the set of canaries
# found must be exactly those of the fields the set marks non-personal
# (and the document's when its attachment questions are non-personal).
# The same holds for the rectified version (new canaries everywhere and a
# new document), and the Commission's digest and withdrawal notice hold no
# canary at all.  The post-box copy (and the copy it forwards to another
# authority of its country) shows every field's canary, so the search is
# shown to work.
set -u
IMI=${IMI:?path of the imi binary}
export IMI_DATADIR=${IMI_DATADIR:-${IMI_SRC:?source top}}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imi-alerts-canary.XXXXXX")
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
# same NAME GOT WANT: two sorted lists of canary names.
same() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		not_ok "$1"
		echo "#   got:    $(printf '%s' "$2" | tr '\n' ' ')"
		echo "#   wanted: $(printf '%s' "$3" | tr '\n' ' ')"
	fi
}

command -v openssl >/dev/null || { not_ok "openssl is not installed"; exit 1; }
command -v python3 >/dev/null || { not_ok "python3 is not installed"; exit 1; }

H=$tmp/home
imi() { "$IMI" --home "$H" "$@"; }
canary() { python3 "$IMI_SRC/tests/integration/alertcanary.py" "$@"; }
sent() { imi send >/dev/null && python3 "$IMI_SRC/tests/integration/maildir.py" list "$H/outbox"; }
# Newest sent message to a recipient whose Message-ID has the kind.
item() { sent | awk -F'\t' -v to="$1" -v kind="$2" '$2 == to && $3 ~ "(^|\\.)" kind "[.@]" {s = $1} END {print s}'; }
header() { python3 -c '
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(m[sys.argv[2]] or "")' "$1" "$2"; }
case_field() { imi case show "$1" | sed -n "s/^  $2: //p"; }

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
imi user add --email cora@coord.fr --authority fr-coord --role alert_coordinator >/dev/null &&
imi user add --email dirk@bund.de --authority de-bund --role handler >/dev/null ||
	{ not_ok "registering authorities and users"; exit 1; }

# The variant: sd-alert with its attachment question (Q14) non-personal.
sed -e 's/^Id=sd-alert$/Id=sd-alert-open/' \
	-e '/^\[Q14\]$/,/^\[/ s/^Personal=true$/Personal=false/' \
	"$IMI_SRC/templates/sets/sd-alert.ini" >sd-alert-open.ini
grep -q '^Personal=false$' <(sed -n '/^\[Q14\]$/,$p' sd-alert-open.ini) &&
	imi qset load sd-alert-open.ini >/dev/null && ok "a set with non-personal attachments is loaded" ||
	not_ok "loading the variant set"

sign() { imi auth sign --selector s1 --domain "${2#*@}" --key "$tmp/dkim.pem" "$1"; }
deliver() { imi deliver --report --recipient "$2" <"$1"; }
n=0
# A plain signed mail: from, to, subject; the body on stdin.
mail() {
	n=$((n + 1))
	{
		echo "From: $1"
		echo "To: $2"
		echo "Subject: $3"
		echo "Message-ID: <c$n.$RANDOM@${1#*@}>"
		echo "Date: $(date -R)"
		echo "MIME-Version: 1.0"
		echo "Content-Type: text/plain; charset=utf-8"
		echo
		cat
	} >"raw$n.eml"
	sign "raw$n.eml" "$1" >"msg$n.eml"
	echo "msg$n.eml"
}
# A reply with canaries in every field and a document: round directory.
planted() {
	mkdir -p "$1"
	canary plant "$2" "$1" anne@dgccrf.fr "$3" "$4" && sign "$1/reply.eml" anne@dgccrf.fr >"$1/signed.eml"
}

for set in sd-alert pq-alert sd-alert-open; do
	file=$IMI_SRC/templates/sets/$set.ini
	[ "$set" = sd-alert-open ] && file=$tmp/sd-alert-open.ini
	r1=$tmp/$set-r1 r2=$tmp/$set-r2

	# ---- submission by reply to the mailed form, with a document ----
	id=$(imi alert form --from-authority fr-dgccrf --qset "$set" --user anne@dgccrf.fr)
	form_reply=$(header "$(item anne@dgccrf.fr form)" Reply-To)
	planted "$r1" "$file" "$form_reply" "Re: [$id]"
	expect "$set: the filled form with a document is applied" '^applied' \
		"$(deliver "$r1/signed.eml" "$form_reply")"
	if [ "$set" = sd-alert-open ]; then
		expect "$set: the document counts as non-personal" ':document-body$' "$(canary public "$r1/canaries.tsv")"
	else
		expect "$set: the document counts as personal" ':document-body	.*	personal$' "$(cat "$r1/canaries.tsv")"
	fi
	expect "$set: the alert waits for approval" '^awaiting-approval$' "$(case_field "$id" state)"
	ack=$(item anne@dgccrf.fr submitted)
	ack_reply=$(header "$ack" Reply-To)
	expect "$set: the initiator is acknowledged with a reply address" "${id,,}\\.reply\\." "$ack_reply"

	# ---- approval and broadcast ----
	approve=$(python3 "$IMI_SRC/tests/integration/alertcanary.py" find "$(item cora@coord.fr approval)" "$r1/canaries.tsv")
	same "$set: the coordinator gets every field and the document" "$approve" "$(canary fields "$r1/canaries.tsv")"
	approve_addr=$(grep -aEo "imi\+${id,,}\.approve\.[0-9]+\.[a-z2-7]+@[A-Za-z0-9.-]+" "$(item cora@coord.fr approval)" | head -n 1)
	f=$(echo "ok" | mail cora@coord.fr "$approve_addr" "APPROVE DE [$id]")
	expect "$set: the coordinator approves" '^applied' "$(deliver "$f" "$approve_addr")"
	com=$(item imi@ec.europa.eu alert)
	expect "$set: the Commission gets a copy" '^/.*/outbox/(new|cur)/' "$com"
	same "$set: the Commission copy has exactly the non-personal canaries" \
		"$(canary find "$com" "$r1/canaries.tsv")" "$(canary public "$r1/canaries.tsv")"
	de=$(item alert@bund.de alert)
	same "$set: the post-box copy has every field's canary (the search works)" \
		"$(canary find "$de" "$r1/canaries.tsv" | grep -v outside)" "$(canary fields "$r1/canaries.tsv")"

	de_reply=$(header "$de" Reply-To)
	f=$(echo "de-land" | mail dirk@bund.de "$de_reply" "FORWARD [$id]")
	expect "$set: the post-box forwards the alert" '^applied' "$(deliver "$f" "$de_reply")"
	same "$set: the forwarded copy has every field's canary and the document" \
		"$(canary find "$(item post@land.de alert)" "$r1/canaries.tsv" | grep -v outside)" \
		"$(canary fields "$r1/canaries.tsv")"

	# ---- rectification: new canaries everywhere, a new document ----
	planted "$r2" "$file" "$ack_reply" "RECTIFY [$id]"
	expect "$set: the initiator rectifies" '^applied' "$(deliver "$r2/signed.eml" "$ack_reply")"
	com2=$(item imi@ec.europa.eu alert)
	[ "$com2" != "$com" ] && ok "$set: the Commission gets the rectified version" ||
		not_ok "$set: the Commission gets the rectified version"
	same "$set: the rectified Commission copy has exactly the new non-personal canaries" \
		"$(canary find "$com2" "$r1/canaries.tsv" "$r2/canaries.tsv")" "$(canary public "$r2/canaries.tsv")"
	same "$set: the rectified post-box copy has the new fields and document" \
		"$(canary find "$(item alert@bund.de alert)" "$r2/canaries.tsv" | grep -v outside)" \
		"$(canary fields "$r2/canaries.tsv")"
done

# ---- later mail to the Commission: digests, withdrawal ----
out=$(imi tick --now "$(date -u -d '+8 days' +%Y-%m-%dT%H:%M:%S)" 2>&1)
expect "a week later tick runs the digest" 'timer\(s\) run, 0 failed' "$out"
dig=$(item imi@ec.europa.eu digest)
expect "the Commission gets a digest" '^/.*/outbox/(new|cur)/' "$dig"
same "the Commission's digest has no canary" "$(canary find "$dig" "$tmp"/*-r?/canaries.tsv)" ""
reason=Cnywithdrawreason$RANDOM
f=$(echo "Unfounded: $reason" | mail anne@dgccrf.fr "$ack_reply" "WITHDRAW [$id]")
expect "the initiator withdraws" '^applied' "$(deliver "$f" "$ack_reply")"
wd=$(item imi@ec.europa.eu notice)
expect "the Commission is told of the withdrawal" '^/.*/outbox/(new|cur)/' "$wd"
expect "the withdrawal reason reaches the post-box" "$reason" "$(cat "$(item alert@bund.de notice)")"
printf 'reason\t%s\tpersonal\n' "$reason" >reason.tsv
same "the Commission's withdrawal notice has no canary" \
	"$(canary find "$wd" "$tmp"/*-r?/canaries.tsv reason.tsv)" ""

# ---- every message the Commission got: only non-personal canaries ----
public=$(for f in "$tmp"/*-r?/canaries.tsv; do canary public "$f"; done | sort)
bad=""
total=0
for m in $(sent | awk -F'\t' '$2 == "imi@ec.europa.eu" {print $1}'); do
	total=$((total + 1))
	for c in $(canary find "$m" "$tmp"/*-r?/canaries.tsv reason.tsv); do
		printf '%s\n' "$public" | grep -qxF "$c" || bad="$bad $c"
	done
done
[ "$total" -ge 8 ] && ok "the Commission got $total messages" || not_ok "the Commission got only $total messages"
same "no message to the Commission holds a personal canary" "$bad" ""

exit $failed
