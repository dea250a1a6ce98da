#!/bin/bash
# canary: deletion is real.
#
# On a fresh home on the embedded default (inbox and outbox Maildirs under
# the home), with authorities of France, Germany and the Commission, an
# information request and an alert are made whose every personal field
# carries a canary of its own, random per run: the request's subject, every
# question its set (pq-general) and the alert's set (sd-alert) mark
# Personal=true, the attachment's file name and content, the free texts of
# every party (notes, further questions, flag, rectification, closing
# reason), the display names in the replies.  Replies come through
# `imi deliver` and the inbox (`imi fetch maildir:`) in several encodings
# (quoted-printable, base64, a UTF-16 text part, RFC 2047 subjects and
# names, an RFC 2231 file name); one unsigned copy of the answer is held for
# review; `imi send` writes every outgoing message into the outbox Maildir;
# every imi command runs with -v and its log lines (stderr) are kept;
# syslog is read too where the machine has one.
#
# Before the deletion the scanner (canary_scan.py) must find every canary in
# the input mails, in each encoding, and what was sent to the parties in the
# outbox Maildir, the wrapped case keys in the store, and no canary in the
# store (it is sealed).  Both cases are closed and `imi tick --now` runs past
# the deletion date; then no canary and no wrapped key may be found in any
# file under the home (databases, Berkeley DB region and log files, keys,
# inbox and outbox Maildirs), in the captured log lines, nor in what the
# command line shows (cases, audit, held messages, outbox).
set -u
IMI=${IMI:?path of the imi binary}
export IMI_DATADIR=${IMI_DATADIR:-${IMI_SRC:?source top}}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imi-canary.XXXXXX")
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

command -v openssl >/dev/null || { not_ok "openssl is not installed (tools/deps.sh check)"; exit 1; }
command -v python3 >/dev/null || { not_ok "python3 is not installed"; exit 1; }
SCAN=$IMI_SRC/tests/integration/canary_scan.py
out=$(python3 "$SCAN" --self-test)
expect "the scanner finds a canary in every encoding, and nothing else (self-test)" \
	'^self-test: [0-9]+ encodings, 0 failures$' "$out"

H=$tmp/home
LOG=$tmp/logs/imi-stderr.log
mkdir -p "$tmp/logs" "$tmp/mail"
# Every imi command runs verbose; its log lines (stderr) are kept.
imi() { "$IMI" --home "$H" -v "$@" 2>>"$LOG"; }
imi init >/dev/null || { not_ok "imi init"; exit 1; }
sent() { imi send >/dev/null && python3 "$IMI_SRC/tests/integration/maildir.py" list "$H/outbox"; }
item() { sent | awk -F'\t' -v to="$1" -v kind="$2" '$2 == to && $3 ~ "(^|\\.)" kind "[.@]" {s = $1} END {print s}'; }
reply_to() {
	python3 -c '
import sys, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(m["Reply-To"].addresses[0].addr_spec)' "$1"
}
case_field() { imi case show "$1" | sed -n "s/^  $2: //p"; }

# ---- canaries -------------------------------------------------------------------
# Twelve random letters each; a date for a date question.  The personal
# questions come from the question sets themselves: pq-general for the
# request, sd-alert for the alert.
QSET=pq-general
AQSET=sd-alert
python3 - "$IMI_SRC/templates/sets/$QSET.ini" "$IMI_SRC/templates/sets/$AQSET.ini" >"$tmp/canaries.env" <<'EOF'
import configparser, random, string, sys
rng = random.SystemRandom()
word = lambda: "".join(rng.choice(string.ascii_letters) for _ in range(12))
for var, path in (("ANSWERS", sys.argv[1]), ("ALERT_ANSWERS", sys.argv[2])):
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str
    cp.read(path, encoding="utf-8")
    answers = []
    for code in cp["Set"]["Questions"].split(";"):
        q = cp[code]
        if q.get("Personal", "false") != "true":
            continue
        t = q.get("Type")
        if t == "date":
            answers.append("%s=%04d-%02d-%02d" % (code, rng.randrange(1920, 1990), rng.randrange(1, 13), rng.randrange(1, 29)))
        elif t == "attachment":
            print("%s_ATTACH_Q=%s" % (var, code))
        else:
            answers.append("%s=%s" % (code, word()))
    print("%s='%s'" % (var, " ".join(answers)))
for name in ("SUBJECT", "ATTACH_NAME", "ATTACH_BODY", "RESP_TEXT", "RESP_NAME",
             "REQ_TEXT", "REQ_NAME", "FURTHER_TEXT", "ACCEPT_TEXT", "HELD_TEXT",
             "ALERT_APPROVE_TEXT", "ALERT_FLAG_TEXT", "ALERT_RECTIFIED", "ALERT_CLOSE_TEXT",
             "ALERT_NAME"):
    print("%s=%s" % (name, word()))
EOF
. "$tmp/canaries.env"
# All canaries, one a line: the answers' values and the named ones.
for a in $ANSWERS $ALERT_ANSWERS; do echo "${a#*=}"; done >"$tmp/canaries"
printf '%s\n' "$SUBJECT" "$ATTACH_NAME" "$ATTACH_BODY" "$RESP_TEXT" "$RESP_NAME" \
	"$REQ_TEXT" "$REQ_NAME" "$FURTHER_TEXT" "$ACCEPT_TEXT" "$HELD_TEXT" \
	"$ALERT_APPROVE_TEXT" "$ALERT_FLAG_TEXT" "$ALERT_RECTIFIED" "$ALERT_CLOSE_TEXT" \
	"$ALERT_NAME" >>"$tmp/canaries"
ncanary=$(grep -c . "$tmp/canaries")
expect "a canary for every personal question of $QSET and $AQSET and every free field" '^[2-9][0-9]$' "$ncanary"

# ---- directory ---------------------------------------------------------------------
cd "$tmp" || exit 1
openssl genrsa -traditional -out dkim.pem 2048 2>/dev/null
pub=$(openssl rsa -in dkim.pem -pubout -outform DER 2>/dev/null | base64 -w0)
for d in cnom.fr aek.de dgccrf.fr coord.fr bund.de; do echo "s1._domainkey.$d v=DKIM1; k=rsa; p=$pub"; done >keys.txt
export IMI_DKIM_KEYFILE=$tmp/keys.txt
imi authority add --id fr-cnom --country FR --language fr --name 'fr=Ordre des médecins' \
	--area professional-qualifications --postbox imi@cnom.fr --domain cnom.fr >/dev/null &&
imi authority add --id de-aek --country DE --language de --name 'de=Ärztekammer' \
	--area professional-qualifications --postbox imi@aek.de --domain aek.de >/dev/null &&
imi user add --email anne@cnom.fr --authority fr-cnom --role handler >/dev/null &&
imi user add --email jan@aek.de --authority de-aek --role handler >/dev/null &&
imi authority add --id fr-dgccrf --country FR --language fr --name 'fr=DGCCRF' --area services \
	--postbox alertes@dgccrf.fr --domain dgccrf.fr --alerts >/dev/null &&
imi authority add --id fr-coord --country FR --language fr --name 'fr=Coordination' --area services \
	--postbox imi@coord.fr --domain coord.fr --alerts >/dev/null &&
imi authority add --id de-bund --country DE --language de --name 'de=Bundesamt' --area services \
	--postbox alert@bund.de --domain bund.de --alerts --alert-postbox >/dev/null &&
imi authority add --id eu-com --country EU --language en --name 'en=European Commission' --area services \
	--postbox imi@ec.europa.eu --domain ec.europa.eu --alerts >/dev/null &&
imi user add --email sara@dgccrf.fr --authority fr-dgccrf --role alert_sender >/dev/null &&
imi user add --email cora@coord.fr --authority fr-coord --role alert_coordinator >/dev/null &&
imi user add --email dirk@bund.de --authority de-bund --role handler >/dev/null ||
	{ not_ok "registering authorities and users"; exit 1; }
ok "two countries' authorities and users registered"

# ---- the request ---------------------------------------------------------------------
case_id=$(imi request new --from-authority fr-cnom --to-authority de-aek --qset "$QSET" \
	--subject "Dr. $SUBJECT" --deadline 2099-12-31 --user anne@cnom.fr)
expect "request new prints the case id" '^IMI-[0-9]{4}-[0-9]{6}$' "$case_id"
req_id=$case_id
reply_de=$(reply_to "$(item imi@aek.de request)")
reply_fr=$(reply_to "$(item anne@cnom.fr status)")

# mail KIND TO: writes an input message $tmp/mail/KIND.eml, prints its name.
# Each kind uses other encodings, as real clients do.
mail() {
	python3 - "$@" >"$tmp/mail/$1${MAIL_N:-}.eml" <<'EOF'
import base64, email.charset, email.header, os, quopri, random, sys, time, email.utils
kind, to = sys.argv[1], sys.argv[2]
env = os.environ
case = env["case_id"]
mid = "<m%d.%d@%s>" % (random.randrange(10**9), int(time.time()), "x")
date = email.utils.formatdate()
def words_b(text):
    # RFC 2047 B, split in two encoded-words in the middle of the text.
    raw = text.encode("utf-8"); h = len(raw) // 2
    return "=?utf-8?B?%s?=\n =?utf-8?B?%s?=" % (base64.b64encode(raw[:h]).decode(), base64.b64encode(raw[h:]).decode())
def words_q(text):
    return "=?utf-8?Q?%s?=" % "".join(c if c.isalnum() else "=%02X" % ord(c) for c in text)
answers = [a.split("=", 1) for a in env["ANSWERS"].split()]
if kind == "accept":
    # ACCEPT with a note, text in base64.
    body = base64.encodebytes(("Wir bearbeiten das. %s\n" % env["ACCEPT_TEXT"]).encode()).decode()
    print("From: %s <jan@aek.de>\nTo: %s\nSubject: ACCEPT [%s]\nMessage-ID: %s\nDate: %s\n"
          "In-Reply-To: <%s.1.request@imi.localhost>\nMIME-Version: 1.0\n"
          "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n%s"
          % (words_q("Jan " + env["RESP_NAME"]), to, case, mid, date, case, body))
elif kind in ("answer", "held"):
    # The answers in quoted-printable, the subject and the sender's name in
    # RFC 2047, the attachment named in RFC 2231 and carried in base64.
    text = "".join("%s: %s\n" % (c, v) for c, v in answers)
    text += "\n%s\nMit freundlichen Grüßen\nJan %s\n" % (
        env["RESP_TEXT"] if kind == "answer" else env["HELD_TEXT"], env["RESP_NAME"])
    qp = quopri.encodestring(text.encode("utf-8")).decode()
    att = base64.encodebytes(("%%PDF-1.4\nBescheinigung %s\n" % env["ATTACH_BODY"]).encode()).decode()
    fname = "%s.pdf" % env["ATTACH_NAME"]
    print("From: %s <jan@aek.de>\nTo: %s\nSubject: %s\nMessage-ID: %s\nDate: %s\n"
          "In-Reply-To: <%s.1.request@imi.localhost>\nMIME-Version: 1.0\n"
          "Content-Type: multipart/mixed; boundary=\"b1\"\n\n"
          "--b1\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n%s\n"
          "--b1\nContent-Type: application/pdf; name=\"%s\"\n"
          "Content-Disposition: attachment; filename*=utf-8''%s\nContent-Transfer-Encoding: base64\n\n%s"
          "--b1--\n"
          % (words_q("Jan " + env["RESP_NAME"]), to, words_b("AW: Auskunftsersuchen [%s] Dr. %s" % (case, env["SUBJECT"])),
             mid, date, case, qp, words_b(fname), "".join("%%%02X" % b for b in fname.encode()), att))
elif kind == "further":
    # The requester's further questions: plain 8-bit UTF-8.
    print("From: Anne %s <anne@cnom.fr>\nTo: %s\nSubject: FURTHER-QUESTIONS [%s]\nMessage-ID: %s\nDate: %s\n"
          "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
          "Merci. Pourriez-vous préciser le statut actuel (Q6) de %s ?\n"
          % (env["REQ_NAME"], to, case, mid, date, env["REQ_TEXT"]))
elif kind == "further-answer":
    # The further answer in a UTF-16 text part (base64, as it must be).
    body = base64.encodebytes(("Q6: eingeschränkt\n\n%s\n" % env["FURTHER_TEXT"]).encode("utf-16")).decode()
    print("From: %s <jan@aek.de>\nTo: %s\nSubject: AW: [%s]\nMessage-ID: %s\nDate: %s\nMIME-Version: 1.0\n"
          "Content-Type: text/plain; charset=utf-16\nContent-Transfer-Encoding: base64\n\n%s"
          % (words_b("Jan " + env["RESP_NAME"]), to, case, mid, date, body))
elif kind == "text":
    # A plain reply: MAIL_FROM, MAIL_SUBJECT, MAIL_BODY, in MAIL_CTE
    # (quoted-printable, base64, or utf-16 in base64).
    body, cte, cs = env["MAIL_BODY"] + "\n", env["MAIL_CTE"], "utf-8"
    if cte == "quoted-printable":
        body = quopri.encodestring(body.encode()).decode()
    elif cte == "base64":
        body = base64.encodebytes(body.encode()).decode()
    elif cte == "utf-16":
        body, cte, cs = base64.encodebytes(body.encode("utf-16")).decode(), "base64", "utf-16"
    print("From: %s\nTo: %s\nSubject: %s\nMessage-ID: %s\nDate: %s\nMIME-Version: 1.0\n"
          "Content-Type: text/plain; charset=%s\nContent-Transfer-Encoding: %s\n\n%s"
          % (env["MAIL_FROM"], to, words_b(env["MAIL_SUBJECT"]), mid, date, cs, cte, body))
else:  # a bare command of the requester
    print("From: Anne %s <anne@cnom.fr>\nTo: %s\nSubject: %s [%s]\nMessage-ID: %s\nDate: %s\n"
          "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
          % (env["REQ_NAME"], to, kind, case, mid, date))
EOF
	echo "$tmp/mail/$1${MAIL_N:-}.eml"
}
export case_id ANSWERS ALERT_ANSWERS SUBJECT ATTACH_NAME ATTACH_BODY RESP_TEXT RESP_NAME REQ_TEXT REQ_NAME \
	FURTHER_TEXT ACCEPT_TEXT HELD_TEXT
# text FROM SUBJECT CTE BODY TO N: a plain reply in the given encoding.
text() { MAIL_FROM=$1 MAIL_SUBJECT=$2 MAIL_CTE=$3 MAIL_BODY=$4 MAIL_N=$6 mail text "$5"; }
# signed FILE DOMAIN: the message signed with DKIM, as the sender's host would.
signed() { imi auth sign --selector s1 --domain "$2" --key "$tmp/dkim.pem" "$1" >"$1.signed" && echo "$1.signed"; }
deliver() { imi deliver --report --recipient "$2" <"$1"; }

out=$(deliver "$(signed "$(mail accept "$reply_de")" aek.de)" "$reply_de")
expect "ACCEPT (base64 text) is applied" '^applied.*state accepted' "$out"
out=$(deliver "$(mail held "$reply_de")" "$reply_de")
expect "an unsigned copy of the answer is held for review" '^held' "$out"
out=$(deliver "$(signed "$(mail answer "$reply_de")" aek.de)" "$reply_de")
expect "the answer (quoted-printable, RFC 2047 subject, attachment) is applied" '^applied.*state answered' "$out"
sent >/dev/null
reply_fr=$(reply_to "$(item imi@cnom.fr status)")
out=$(deliver "$(signed "$(mail further "$reply_fr")" cnom.fr)" "$reply_fr")
expect "FURTHER-QUESTIONS (8-bit) is applied" '^applied.*state accepted' "$out"
out=$(deliver "$(signed "$(mail further-answer "$reply_de")" aek.de)" "$reply_de")
expect "the further answer (UTF-16 text part) is applied" '^applied.*state answered' "$out"
sent >/dev/null
reply_fr=$(reply_to "$(item imi@cnom.fr status)")
# This one comes through the inbox Maildir of the embedded default.
cp "$(signed "$(mail ACCEPT-ANSWER "$reply_fr")" cnom.fr)" "$H/inbox/new/1.accept-answer.canary"
out=$(imi fetch maildir:)
expect "ACCEPT-ANSWER, fetched from the inbox Maildir, is applied" '^answer-accepted$' "$(case_field "$case_id" state)"
out=$(deliver "$(signed "$(mail CLOSE "$reply_fr")" cnom.fr)" "$reply_fr")
expect "CLOSE is applied" '^applied.*state closed' "$out"
sent >/dev/null

# ---- an alert, from form to closure ---------------------------------------------------
# The form carries a canary in each personal field; the coordinator's
# approval note, a recipient's flag, the rectification and the closing
# reason carry theirs, in quoted-printable, base64 and UTF-16.
alert_field() { for a in $ALERT_ANSWERS; do [ "${a%%=*}" = "$1" ] && echo "${a#*=}"; done; }
{
	for q in Q1 Q2 Q3 Q4 Q5; do echo "$q: yes"; done
	echo "Q8: DE"
	echo "Q9: construction"
	echo "Q10: health"
	echo "Q12: 2026-10-01"
	for a in $ALERT_ANSWERS; do echo "${a%%=*}: ${a#*=}"; done
} >"$tmp/alert-form.txt"
alert_id=$(imi alert new --from-authority fr-dgccrf --qset "$AQSET" --form "$tmp/alert-form.txt" --user sara@dgccrf.fr)
expect "alert new prints the case id" '^IMI-[0-9]{4}-[0-9]{6}$' "$alert_id"
export case_id=$alert_id
approve_addr=$(python3 -c '
import sys, re, email, email.policy
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
t = "".join(p.get_content() for p in m.walk() if p.get_content_maintype() == "text")
print(re.search(r"imi\+imi-[0-9]{4}-[0-9]{6}\.approve\.[0-9]+\.[a-z2-7]+@[A-Za-z0-9.-]+", t).group(0))' \
	"$(item cora@coord.fr approval)")
out=$(deliver "$(signed "$(text "Cora <cora@coord.fr>" "APPROVE [$alert_id]" quoted-printable \
	"Approved. $ALERT_APPROVE_TEXT" "$approve_addr" 1)" coord.fr)" "$approve_addr")
expect "the coordinator approves (quoted-printable note)" '^applied' "$out"
reply_bund=$(reply_to "$(item alert@bund.de alert)")
out=$(deliver "$(signed "$(text "=?utf-8?Q?Dirk_$ALERT_NAME?= <dirk@bund.de>" "FLAG [$alert_id]" base64 \
	"The registration of $ALERT_FLAG_TEXT looks wrong." "$reply_bund" 2)" bund.de)" "$reply_bund")
expect "the German post-box flags it (base64 text, RFC 2047 name)" '^applied' "$out"
reply_sara=$(reply_to "$(item sara@dgccrf.fr approved)")
rect=$(alert_field Q11)
[ -n "$rect" ] || rect=Q11
out=$(deliver "$(signed "$(text "Sara <sara@dgccrf.fr>" "RECTIFY [$alert_id]" utf-16 \
	"Q11: $ALERT_RECTIFIED" "$reply_sara" 3)" dgccrf.fr)" "$reply_sara")
expect "the initiator rectifies (UTF-16 text part)" '^applied' "$out"
reply_bund=$(reply_to "$(item alert@bund.de alert)")
out=$(deliver "$(signed "$(text "Dirk <dirk@bund.de>" "CLOSE [$alert_id]" quoted-printable \
	"Risk is gone: $ALERT_CLOSE_TEXT" "$reply_bund" 4)" bund.de)" "$reply_bund")
expect "the country of establishment closes the alert" '^applied' "$out"
expect "the alert is closed" '^closed$' "$(case_field "$alert_id" state)"
sent >/dev/null
export case_id=$req_id

# What the command line shows of the home: the case, its audit, the held
# messages and the outbox.
views() {
	{
		imi case show "$req_id"
		imi case show "$alert_id"
		imi audit
		imi held list
		for h in $(imi held list | cut -f1); do imi held show "$h"; done
		imi outbox list
	} 2>&1
}

# ---- before the deletion: the scanner finds what is there ---------------------------------
scan() { python3 "$SCAN" --canaries "$tmp/canaries" "$@"; }
summary() { printf '%s\n' "$1" | tail -n 1; }
hits() { summary "$1" | sed -n 's/.* hits \([0-9]*\)$/\1/p'; }
out=$(scan "$tmp/mail" "$tmp/alert-form.txt")
for c in $(cat "$tmp/canaries"); do
	printf '%s\n' "$out" | grep -q "	$c	" || not_ok "canary $c not found in the input mails and form"
done
ok "every canary is found in the input mails and the alert form ($(summary "$out"))"
for enc in plain qp rfc2047 'b64-utf8-a[012]' 'b64-utf16(le|be)-a[012]|mime' mime; do
	expect "the scanner reads the input mails' $enc" "	($enc)\$" "$out"
done
out=$(scan "$H/outbox")
expect "before deletion the canaries are in the outbox Maildir" '^HIT	' "$out"
echo "# before deletion, outbox Maildir: $(summary "$out")"
# What the parties are sent: the subject, every answer and alert field, the
# further questions, the flag and the rectification.
for c in "$SUBJECT" $(for a in $ANSWERS $ALERT_ANSWERS; do echo "${a#*=}"; done) \
	"$REQ_TEXT" "$ALERT_FLAG_TEXT" "$ALERT_RECTIFIED"; do
	printf '%s\n' "$out" | grep -q "	$c	" || not_ok "canary $c was not sent to a party"
done
echo "# canaries in the outbox Maildir before deletion: $(printf '%s\n' "$out" | grep '^HIT' | cut -f3 | sort -u | grep -c .) of $ncanary"
out=$(scan "$H/db" "$H/keys")
if [ "$(hits "$out")" = 0 ]; then ok "the sealed store holds no canary in any encoding ($(summary "$out"))"
else not_ok "canaries in the store in the clear:"; printf '%s\n' "$out" | sed 's/^/#   /' | head -n 20; fi
# The wrapped keys of the case and of its held message, as the store holds
# them (keys.db names a slot of keyslots.db; both read through the
# environment, so that pages not yet written back count): after the
# deletion no copy may remain in any file, Berkeley DB log files included.
keyhex=
if command -v db5.3_dump >/dev/null; then
	db5.3_dump -h "$H/db" keys.db >"$tmp/keys.dump" 2>/dev/null
	db5.3_dump -k -h "$H/db" keyslots.db >"$tmp/keyslots.dump" 2>/dev/null
	keyhex=$(python3 - "$req_id,$alert_id" "$tmp/keys.dump" "$tmp/keyslots.dump" <<'EOF'
import sys
def records(path):
    lines = [l.strip() for l in open(path)]
    data = lines[lines.index("HEADER=END") + 1:lines.index("DATA=END")]
    return list(zip(data[0::2], data[1::2]))
slots = {int(bytes.fromhex(k).decode()): v for k, v in records(sys.argv[3])}
for k, v in records(sys.argv[2]):
    name = bytes.fromhex(k).decode("utf-8", "replace")
    if name in ["case:" + c for c in sys.argv[1].split(",")] or name.startswith("held:"):
        print(slots[int(v, 16)] if len(v) == 8 else v)
EOF
)
	expect "the store holds the request's, the alert's and the held message's keys" '^[0-9a-f]{144}
[0-9a-f]{144}
[0-9a-f]{144}$' "$keyhex"
	keyargs=()
	for k in $keyhex; do keyargs+=(--canary-hex "$k"); done
	out=$(python3 "$SCAN" "${keyargs[@]}" "$H/db")
	expect "before deletion the scanner finds the wrapped keys in the store" ' hits [1-9]' "$(summary "$out")"
else
	echo "# db5.3_dump (db5.3-util) is missing: the wrapped keys are not looked for"
fi
# A hot backup taken now holds the keys that the deletion will destroy
# (docs/deletion.md says what a backup must do about it).
if command -v db5.3_hotbackup >/dev/null && [ -n "$keyhex" ]; then
	db5.3_hotbackup -h "$H/db" -b "$tmp/backup-before" >/dev/null 2>&1
	out=$(python3 "$SCAN" "${keyargs[@]}" "$tmp/backup-before")
	expect "a hot backup taken before the deletion holds the case keys" ' hits [1-9]' "$(summary "$out")"
fi
views >"$tmp/views-before.txt"
expect "before deletion imi held show shows the held reply" "	$HELD_TEXT	" "$(scan "$tmp/views-before.txt")"

# ---- retention ------------------------------------------------------------------------------
# The raw messages lie in blobs.db, each named by its message record.
# (imi check's verdict is not asserted: it also names the alert digest's
# timer, whose case part is no case.)
out=$(imi check 2>&1)
expect "before the deletion imi check counts the messages' blobs" '^blobs: [1-9][0-9]* checked' "$out"
expect "before the deletion imi check finds every blob whole and named" '^0$' \
	"$(printf '%s\n' "$out" | grep -cE '^blob [0-9]|its blob|^blobs\.db:')"
imi tick --now "$(date -u -d '+6 months -7 days' +%Y-%m-%dT%H:%M:%S)" >/dev/null
out=$(imi tick --now "$(date -u -d '+6 months +2 days' +%Y-%m-%dT%H:%M:%S)")
expect "the retention timer runs past the deletion date" '[1-9][0-9]* timer\(s\) run, 0 failed' "$out"
expect "the request says its data were deleted" '^deleted$' "$(case_field "$req_id" retention)"
expect "the alert says its data were deleted" '^deleted$' "$(case_field "$alert_id" retention)"
imi send --now "$(date -u -d '+6 months +2 days' +%Y-%m-%dT%H:%M:%S)" >/dev/null
expect "the parties were told of the deletion" 'deletion' "$(python3 "$IMI_SRC/tests/integration/maildir.py" list "$H/outbox")"

# ---- after the deletion: nothing anywhere -------------------------------------------------
if [ -n "$keyhex" ]; then
	out=$(python3 "$SCAN" "${keyargs[@]}" "$H")
	echo "# wrapped keys after deletion: $(summary "$out")"
	if [ "$(hits "$out")" = 0 ]; then ok "the destroyed keys survive in no file under the home (databases, region and log files)"
	else not_ok "a destroyed key survives:"; printf '%s\n' "$out" | sed 's/^/#   /' | head -n 20; fi
fi
expect "the held copy of the reply went with the case" '^0$' "$(imi held list | grep -c .)"
out=$(imi check 2>&1)
expect "after the deletion no blob of a deleted message is left" '^blobs: 0 checked' "$out"
expect "after the deletion imi check finds no blob problem" '^0$' \
	"$(printf '%s\n' "$out" | grep -cE '^blob [0-9]|its blob|^blobs\.db:')"
if command -v db5.3_hotbackup >/dev/null && [ -n "$keyhex" ]; then
	db5.3_hotbackup -h "$H/db" -b "$tmp/backup-after" >/dev/null 2>&1
	out=$(python3 "$SCAN" "${keyargs[@]}" --canaries "$tmp/canaries" "$tmp/backup-after")
	expect "a hot backup taken after the deletion was made" ' files [1-9]' "$(summary "$out")"
	if [ "$(hits "$out")" = 0 ]; then ok "a hot backup taken after the deletion holds no key and no canary ($(summary "$out"))"
	else not_ok "a hot backup taken after the deletion holds deleted data:"; printf '%s\n' "$out" | sed 's/^/#   /' | head -n 10; fi
fi
views >"$tmp/logs/views.txt"
# Syslog: where the machine keeps one, the lines of this run are scanned too.
syslog=none
if [ -r /var/log/syslog ] && [ -S /dev/log ]; then
	cp /var/log/syslog "$tmp/logs/syslog" && syslog=/var/log/syslog
elif [ -S /dev/log ] && journalctl -q -n 1 >/dev/null 2>&1; then
	journalctl -q -t imi --since "-1 hour" >"$tmp/logs/journal" 2>/dev/null && syslog=journal
fi
echo "# log lines: $(grep -c . "$LOG") from imi -v stderr; syslog: $syslog"
expect "log lines were captured" '^[1-9]' "$(grep -c . "$LOG")"
find "$H" -type f | sed "s|^$H/||" | sort | awk '{printf "%s ", $0} END {print ""}' | sed 's/^/# files under the home: /'
expect "the home has Berkeley DB log files" 'log\.[0-9]+' "$(ls "$H/db")"
out=$(scan "$H" "$tmp/logs")
echo "# after deletion: $(summary "$out")"
if [ "$(hits "$out")" = 0 ]; then ok "no canary of the deleted case anywhere under the home, in the logs or in what imi shows"
else not_ok "canaries survive the deletion:"; printf '%s\n' "$out" | sed 's/^/#   /' | head -n 40; fi

exit $failed
