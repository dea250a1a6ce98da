#!/bin/bash
# hostile: the catalogue of hostile and broken messages (tests/hostile),
# each delivered through `imi deliver` to a case of its own and checked
# against its NAME.expect:
#   exit=N        imi deliver's exit code (0 committed, 65 only over the size
#                 bound; >= 128 or a sanitizer report is always a failure)
#   verdict=V     the audit line of the message (inbound.V, or the outcome of
#                 inbound.reply), none: no line; a redelivery adds no line
#   changed=yes|no  whether `imi case show` changed (its mail counter aside)
#   sender=K|none|any  the newest outbox item to the sender (Message-ID kind)
#   sign=no       delivered without a DKIM signature
#   repeat=N      delivered N times (the last one is checked)
#   stderr=RE     imi deliver's error output matches RE
#   reason=RE     the message's audit line matches RE
#   grow_kb=N     the home directory grows by at most N kB (nothing inflated)
# Every case runs under a time bound (10 s; 60 s in the sanitizer build) and
# a memory bound (400 MB resident; 2000 MB in the sanitizer build).
# Afterwards: no outgoing message has an injected header, recipient or
# boundary, and no case's canary shows in another case's messages.  The
# large cases (MIME 10,000 deep, 100,000 parts, a 10 MB header line, one
# over max_message_bytes) are written by tools/make-hostile at run time.
set -u
IMI=${IMI:?path of the imi binary}
export IMI_DATADIR=${IMI_DATADIR:-${IMI_SRC:?source top}}
SRC=${IMI_SRC:?source top}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imi-hostile.XXXXXX")
failed=0
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
# The catalogue sends some forty messages from one sender, each expecting
# its reply: a data directory whose rules have no reply cap ([Limits]
# RepliesPerHour, tested in requests-more.sh), the rest of it as installed.
mkdir -p "$tmp/data/policies/rules"
for e in "$IMI_DATADIR"/*; do [ "${e##*/}" = policies ] || ln -s "$e" "$tmp/data/"; done
cp "$IMI_DATADIR"/policies/rules/*.ini "$tmp/data/policies/rules/"
sed -i 's/^RepliesPerHour=.*/RepliesPerHour=0/' "$tmp/data/policies/rules/requests.ini"
export IMI_DATADIR=$tmp/data
ok() { echo "ok - hostile $*"; }
not_ok() { echo "not ok - hostile $*"; failed=1; }
bound=10 rss_mb=400
case "$IMI" in *build-san*) bound=60 rss_mb=2000 ;; esac
command -v /usr/bin/time >/dev/null || { not_ok "/usr/bin/time is not installed (package time)"; exit 1; }

H=$tmp/home
imi() { "$IMI" --home "$H" "$@"; }
mkdir -p "$H"
printf '[service]\ndomain = imi.localhost\n[limits]\nmax_message_bytes = 16000000\n' >"$H/imi.conf"
imi init >/dev/null || { not_ok "imi init"; exit 1; }
cd "$tmp" || exit 1
openssl genrsa -traditional -out dkim.pem 2048 2>/dev/null
pub=$(openssl rsa -in dkim.pem -pubout -outform DER 2>/dev/null | base64 -w0)
for d in cnom.fr aek.de evil.example; do echo "s1._domainkey.$d v=DKIM1; k=rsa; p=$pub"; done >keys.txt
export IMI_DKIM_KEYFILE=$tmp/keys.txt

# Header injection through the fields an operator types: an authority's
# name and a request's subject with CR/LF in them.
INJ=$'\r\nBcc: victim@evil.example\r\nX-Injected: yes'
if imi authority add --id fr-x --country FR --language fr --name "fr=Ordre$INJ" \
	--area professional-qualifications --postbox imi@x.fr --domain x.fr >/dev/null 2>&1; then
	not_ok "cli-authority-name: a name with CR/LF was accepted"
else ok "cli-authority-name: a name with CR/LF is refused"; fi
imi authority add --id fr-cnom --country FR --language fr --name 'fr=Ordre des médecins' \
	--area professional-qualifications --postbox imi@cnom.fr --domain cnom.fr >/dev/null &&
imi authority add --id de-aek --country DE --language de --name 'de=Ärztekammer' \
	--area professional-qualifications --postbox imi@aek.de --domain aek.de >/dev/null &&
imi user add --email anne@cnom.fr --authority fr-cnom --role handler >/dev/null &&
{ { imi user add --email jan@aek.de --authority de-aek --role handler --name "Jan$INJ" >/dev/null 2>&1 &&
	name_taken=1; } || { name_taken=0; imi user add --email jan@aek.de --authority de-aek --role handler >/dev/null; }; } ||
	{ not_ok "registering authorities and users"; exit 1; }

if imi request new --from-authority fr-cnom --to-authority de-aek --qset pq-general \
	--subject "Dr. X$INJ" --deadline 2099-12-31 --user anne@cnom.fr >/dev/null 2>&1; then
	ok "cli-request-subject: a subject with CR/LF was taken (the outbox check below must find no injection)"
else ok "cli-request-subject: a subject with CR/LF is refused"; fi

if imi user add --email $'eve@aek.de\r\nBcc: victim@evil.example' --authority de-aek --role handler >/dev/null 2>&1; then
	not_ok "cli-user-email: an address with CR/LF was accepted"
else ok "cli-user-email: an address with CR/LF is refused"; fi
if [ "$name_taken" = 1 ]; then
	ok "cli-user-name: a display name with CR/LF was taken (the outbox check below must find no injection)"
else ok "cli-user-name: a display name with CR/LF is refused"; fi

sign() { imi auth sign --selector s1 --domain aek.de --key "$tmp/dkim.pem" "$1"; }
# The newest outbox item to an address: "id<TAB>message-id".
newest() { imi outbox list | awk -F'\t' -v to="$1" '$4 == to {s = $1 "\t" $5} END {print s}'; }
kind_of() { printf '%s\n' "$1" | sed -n 's/.*\.\([a-z-]*\)@.*/\1/p'; }
san_report() { grep -Eq 'ERROR: (Address|Leak|Undefined)Sanitizer|runtime error:' "$1"; }

# open_case SUBJECT: a request from fr-cnom to de-aek, accepted by the
# responder; sets CASE and REPLY.
open_case() {
	CASE=$(imi request new --from-authority fr-cnom --to-authority de-aek --qset pq-general \
		--subject "$1" --deadline 2099-12-31 --user anne@cnom.fr) || return 1
	local it
	it=$(newest imi@aek.de | cut -f1)
	REPLY=$(imi outbox show "$it" | sed -n 's/^Reply-To: *//p' | tr -d '\r' | head -n 1)
	REPLY=${REPLY##*<}
	REPLY=${REPLY%%>*}
	printf 'From: jan@aek.de\nTo: %s\nSubject: ACCEPT [%s]\nMessage-ID: <acc.%s@aek.de>\n\n\n' \
		"$REPLY" "$CASE" "$CASE" >acc.eml
	sign acc.eml >acc.s.eml && imi deliver --recipient "$REPLY" <acc.s.eml
}

"$SRC/tools/make-hostile" large "$tmp/large" || { not_ok "tools/make-hostile large"; exit 1; }
declare -A CANARY_CASE
seq=0
for expect in "$SRC"/tests/hostile/*.expect; do
	name=$(basename "$expect" .expect)
	src=$SRC/tests/hostile/$name.eml
	[ -f "$src" ] || src=$tmp/large/$name.eml
	[ -f "$src" ] || { not_ok "$name: no message ($name.eml)"; continue; }
	want() { sed -n "s/^$1=//p" "$expect"; }
	seq=$((seq + 1))
	canary=Hcanary${seq}x$RANDOM
	open_case "Dr. $canary" || { not_ok "$name: opening its case"; continue; }
	CANARY_CASE[$canary]=$CASE
	# One character of the token changed (the last one, a..z <-> 2..7).
	last=${REPLY%@*}; last=${last: -1}
	if [ "$last" = a ]; then t=b; else t=a; fi
	tampered="${REPLY%?@*}$t@${REPLY#*@}"
	msgid="h$seq.$name.$RANDOM@aek.de"
	LC_ALL=C sed -e "s|@FROM@|jan@aek.de|g; s|@TO@|$REPLY|g; s|@CASE@|$CASE|g" \
		-e "s|@MSGID@|$msgid|g; s|@CANARY@|$canary|g; s|@TAMPERED@|$tampered|g" "$src" >m.eml
	if [ "$(want sign)" = no ]; then cp m.eml s.eml; else
		sign m.eml >s.eml 2>sign.err || { not_ok "$name: imi auth sign failed: $(head -c 300 sign.err)"; continue; }
	fi
	rcpt=$REPLY
	[ "$name" = token-tampered ] && rcpt=$tampered
	repeat=$(want repeat); repeat=${repeat:-1}
	for ((i = 1; i <= repeat; i++)); do
		before=$(imi case show "$CASE" | grep -v '^  mail_seq:')
		sent_before=$(newest jan@aek.de)
		others_before=$(imi case list | grep -v "$CASE")
		du_before=$(du -sk "$H" | cut -f1)
		start=$(date +%s%N)
		/usr/bin/time -f %M -o rss.txt timeout $((bound + 5)) "$IMI" --home "$H" deliver --sender jan@aek.de --recipient "$rcpt" <s.eml >out.txt 2>err.txt
		rc=$?
		ms=$((($(date +%s%N) - start) / 1000000))
	done
	after=$(imi case show "$CASE" | grep -v '^  mail_seq:')
	bad=""
	[ "$rc" -ge 124 ] && bad="$bad; exit got $rc (crash or hang)"
	san_report err.txt && bad="$bad; sanitizer: $(grep -Em1 'Sanitizer|runtime error' err.txt)"
	[ "$ms" -gt $((bound * 1000)) ] && bad="$bad; time got ${ms} ms want < ${bound} s"
	kb=$(tail -n 1 rss.txt)
	[ "${kb:-0}" -gt $((rss_mb * 1024)) ] && bad="$bad; memory got $((kb / 1024)) MB want < $rss_mb MB"
	[ "$rc" = "$(want exit)" ] || bad="$bad; exit got $rc want $(want exit)"
	grow=$(($(du -sk "$H" | cut -f1) - du_before))
	[ "$(imi case list | grep -v "$CASE")" = "$others_before" ] || bad="$bad; another case changed"
	wg=$(want grow_kb)
	[ -z "$wg" ] || [ "$grow" -le "$wg" ] || bad="$bad; home grew by ${grow} kB want <= ${wg} kB"
	ws=$(want stderr)
	[ -z "$ws" ] || grep -Eq -- "$ws" err.txt || bad="$bad; stderr got '$(head -c 200 err.txt)' want /$ws/"
	imi audit | grep -F "<$msgid>" >audit.txt
	v=$(awk -F'[\t ]' -v id="<$msgid>" 'index($0, id) {split($5, a, "."); s = a[2]; if (s == "reply") s = $NF} END {print (s == "" ? "none" : s)}' audit.txt)
	[ "$v" = "$(want verdict)" ] || bad="$bad; verdict got $v want $(want verdict)"
	wr=$(want reason)
	if [ -n "$wr" ]; then
		line=$(tail -n 1 audit.txt)
		grep -Eq -- "$wr" <<<"$line" || bad="$bad; audit line got '$line' want /$wr/"
	fi
	if [ "$before" = "$after" ]; then ch=no; else ch=yes; fi
	[ "$ch" = "$(want changed)" ] || bad="$bad; changed got $ch want $(want changed)"
	sent_after=$(newest jan@aek.de)
	if [ "$sent_after" = "$sent_before" ]; then got=none; else got=$(kind_of "$sent_after"); fi
	ws=$(want sender)
	if [ "$ws" = any ]; then [ "$got" != none ] || bad="$bad; sender got none want a reply"
	elif [ "$got" != "$ws" ]; then bad="$bad; sender got $got want $ws"; fi
	if [ -z "$bad" ]; then ok "$name (exit $rc, $v, changed $ch, sender $got, ${ms} ms, $((kb / 1024)) MB, home +${grow} kB)"
	else not_ok "$name: ${bad#; }"; sed 's/^/#   /' err.txt | head -n 5; fi
done

# ---- the large ones past the bounds: a home whose limits let them through
# to GMime and the MIME walk (10,000 levels, 100,000 parts, a 10 MB header
# line); unsigned, so each is held.  Under the sanitizer build this is the
# sanitizer run of the large cases.
H2=$tmp/home2
mkdir -p "$H2"
printf '[service]\ndomain = imi.localhost\n[limits]\nmax_message_bytes = 16000000\nmax_mime_parts = 200000\nmax_mime_depth = 20000\nmax_header_bytes = 12000000\n' >"$H2/imi.conf"
"$IMI" --home "$H2" init >/dev/null || not_ok "imi init (raised limits)"
for name in mime-nested-10000 mime-100000-parts header-line-10mb; do
	sed -e 's/@FROM@/stranger@unknown.example/; s/@TO@/imi@imi.localhost/' \
		-e "s/@MSGID@/big.$name@unknown.example/" "$tmp/large/$name.eml" >big.eml
	start=$(date +%s%N)
	/usr/bin/time -f %M -o rss.txt timeout $((bound + 5)) "$IMI" --home "$H2" deliver --recipient imi@imi.localhost <big.eml >out.txt 2>err.txt
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	kb=$(tail -n 1 rss.txt)
	v=$("$IMI" --home "$H2" audit | awk -F'[\t ]' -v id="<big.$name@" 'index($0, id) {split($5, a, "."); s = a[2]} END {print (s == "" ? "none" : s)}')
	bad=""
	[ "$rc" = 0 ] || bad="$bad; exit got $rc want 0"
	san_report err.txt && bad="$bad; sanitizer: $(grep -Em1 'Sanitizer|runtime error' err.txt)"
	[ "$v" = held ] || bad="$bad; verdict got $v want held"
	[ "$ms" -gt $((bound * 1000)) ] && bad="$bad; time got ${ms} ms want < ${bound} s"
	[ "${kb:-0}" -gt $((rss_mb * 1024)) ] && bad="$bad; memory got $((kb / 1024)) MB want < $rss_mb MB"
	if [ -z "$bad" ]; then ok "$name, limits raised (exit $rc, $v, ${ms} ms, $((kb / 1024)) MB)"
	else not_ok "$name, limits raised: ${bad#; }"; sed 's/^/#   /' err.txt | head -n 5; fi
done

# ---- the outbox: no injected header, recipient or boundary, no NUL byte or
# control character in a header; no canary out of its case
imi outbox list >outbox.txt
python3 - "$IMI" "$H" outbox.txt "$(for c in "${!CANARY_CASE[@]}"; do echo "$c=${CANARY_CASE[$c]}"; done)" >outbox.check <<'PY'
import email, email.policy, subprocess, sys
imi, home, listing, canaries = sys.argv[1:]
canary = dict(l.split("=", 1) for l in canaries.split())
allowed = {"imi@aek.de", "imi@cnom.fr", "jan@aek.de", "anne@cnom.fr"}
for line in open(listing):
    f = line.rstrip("\n").split("\t")
    raw = subprocess.run([imi, "--home", home, "outbox", "show", f[0]], capture_output=True).stdout
    m = email.message_from_bytes(raw, policy=email.policy.default)
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    problems = []
    for h in ("Bcc", "X-Injected"):
        if m[h] is not None: problems.append("header " + h)
    for h in ("To", "Cc", "Reply-To", "From", "Sender"):
        for v in m.get_all(h) or []:
            if b"evil.example" in str(v).encode(): problems.append("%s names evil.example" % h)
    rcpts = [a.addr_spec for h in ("To", "Cc") for v in (m.get_all(h) or []) for a in v.addresses]
    if any(r not in allowed for r in rcpts): problems.append("recipients %s" % rcpts)
    parts = sum(1 for p in m.walk())
    if m.is_multipart() and any(p.get_content_type() == "text/html" and b"<b>evil</b>" in p.get_payload(decode=True) for p in m.walk()):
        problems.append("a boundary from the input opened a part")
    if any(b"\r" in l.rstrip(b"\r") for l in head.split(b"\n")): problems.append("bare CR in the header")
    if b"\0" in raw: problems.append("NUL byte")
    if any(c < 32 and c not in (9, 10, 13) or c == 127 for c in head): problems.append("control character in the header")
    text = raw.decode("utf-8", "replace")
    for p in m.walk():
        if not p.is_multipart():
            try: text += p.get_content()
            except Exception: pass
    for c, case in canary.items():
        if c in text and case not in f[4] and case not in text:
            problems.append("canary of %s in a message of another case" % case)
    if "%{" in text: problems.append("a placeholder left unfilled: " + text[text.index("%{"):][:20])
    carried = "carried" if "victim@evil.example" in text[len(raw):] else ""
    print("%s\t%s\t%s\t%s" % (f[0], f[4], "; ".join(problems), carried))
PY
bad=$(awk -F'\t' '$3 != ""' outbox.check)
n=$(wc -l <outbox.check)
if [ "$n" -gt 0 ] && [ -z "$bad" ]; then ok "outbox: $n messages, none with an injected header, recipient or boundary, no canary out of its case"
else not_ok "outbox: $(printf '%s' "$bad" | head -n 5 | tr '\n' '|') ($n messages)"; fi
# The hostile text did reach outgoing messages (as text, not as headers).
n=$(awk -F'\t' '$4 == "carried"' outbox.check | wc -l)
if [ "$n" -gt 0 ]; then ok "outbox: $n messages carry the injected text in their body, harmlessly"
else not_ok "outbox: no message carries the injected text (the injection check above proves nothing)"; fi
# Attachments never land on disk under their own name, and are never inflated.
if find "$H" -name passwd -o -name 'bomb*' | grep -q .; then not_ok "attachment names reached the file system"
else ok "no attachment name reached the file system"; fi
du=$(du -sm "$H" | cut -f1)
if [ "$du" -lt 200 ]; then ok "home directory stays small (${du} MB: nothing inflated)"; else not_ok "home directory got ${du} MB want < 200"; fi
exit $failed
