# case-home.sh, sourced by tools/bench/permsg.sh, memory.sh and mta.sh: a home
# at $H (in $tmp, the current directory) with two authorities (fr-cnom
# requests, de-aek answers), their DKIM key (RSA-2048, given to imi through
# IMI_DKIM_KEYFILE), and one request $case_id accepted by jan@aek.de by a
# signed reply.  Sets reply_to (the case's reply address for de-aek) and
# defines mail N SUBJECT [CONTENT-TYPE-HEADERS] < body: reply N of jan@aek.de,
# printed DKIM-signed.  $IMI_CONF, when set, is written as home/imi.conf.
H=$tmp/home
imi() { "$IMI" --home "$H" "$@"; }
mkdir -p "$H"
[ -n "${IMI_CONF:-}" ] && printf '%s\n' "$IMI_CONF" >"$H/imi.conf"
imi init >/dev/null
openssl genrsa -traditional -out dkim.pem 2048 2>/dev/null
pub=$(openssl rsa -in dkim.pem -pubout -outform DER 2>/dev/null | base64 -w0)
for d in cnom.fr aek.de; do echo "s1._domainkey.$d v=DKIM1; k=rsa; p=$pub"; done >keys.txt
export IMI_DKIM_KEYFILE=$tmp/keys.txt
imi authority add --id fr-cnom --country FR --language fr --name 'fr=Ordre des médecins' \
	--area professional-qualifications --postbox imi@cnom.fr --domain cnom.fr >/dev/null
imi authority add --id de-aek --country DE --language de --name 'de=Ärztekammer' \
	--area professional-qualifications --postbox imi@aek.de --domain aek.de >/dev/null
imi user add --email anne@cnom.fr --authority fr-cnom --role handler >/dev/null
imi user add --email jan@aek.de --authority de-aek --role handler >/dev/null
case_id=$(imi request new --from-authority fr-cnom --to-authority de-aek --qset pq-general \
	--subject "Dr. Erika Mustermann" --deadline 2099-12-31 --user anne@cnom.fr)
req=$(imi outbox list | awk -F'\t' '$5 ~ /\.request@/ {print $1}' | tail -n 1)
imi outbox show "$req" >request.eml
reply_to=$(python3 -c '
import sys, email, email.policy
m = email.message_from_binary_file(open("request.eml", "rb"), policy=email.policy.default)
print(m["Reply-To"].addresses[0].addr_spec)')
# The request's text, quoted as a mail client quotes it.
python3 -c '
import email, email.policy
m = email.message_from_binary_file(open("request.eml", "rb"), policy=email.policy.default)
for part in m.walk():
    if part.get_content_type() == "text/plain":
        for line in part.get_content().splitlines(): print("> " + line)
        break' >quoted.txt
# mail N SUBJECT < body: reply N from jan@aek.de, printed signed.
mail() {
	local n=$1
	shift
	{
		echo "From: Jan Becker <jan@aek.de>"
		echo "To: $reply_to"
		echo "Subject: $1"
		echo "Message-ID: <bench$n.$$@aek.de>"
		echo "Date: $(date -R)"
		echo "In-Reply-To: <$case_id.1.request@imi.localhost>"
		echo "MIME-Version: 1.0"
		printf '%s\n' "${2:-Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit}"
		echo
		cat
	} >"m$n.eml"
	imi auth sign --selector s1 --domain aek.de --key "$tmp/dkim.pem" "m$n.eml"
}
echo "" | mail 1 "ACCEPT [$case_id]" >accept.eml
out=$(imi deliver --recipient "$reply_to" <accept.eml 2>&1)
[ "$(imi case show "$case_id" | sed -n 's/^  state: //p')" = accepted ] ||
	{ echo "bench: the case was not accepted: $out" >&2; exit 1; }
