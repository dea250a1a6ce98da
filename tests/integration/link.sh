#!/bin/bash
# link.sh: what imi loads at start-up, and the ways around what it no
# longer links.  Every shared library in imi's DT_NEEDED is loaded and bound
# by every imi process (Debian builds them with -z now): libetpan and
# GnuTLS (SMTP, IMAP, POP3), libmilter, libxml2 and libytnef must stay out
# of it, and GMime, libopendkim, libspf2, libpsl and libcrypto are in its
# mail module imi-mail.so, opened when a command needs it:
#   - imi tick with nothing due, and --help, do not open the module; every
#     other command does, and without it answers 69 naming where it looked;
#   - the DKIM key cache of the module still stands in for libcrypto's
#     d2i_PUBKEY_bio in libopendkim (parser/dkim_keycache.c);
#   - imi send, fetch and milter run imi-net, found next to imi, with the
#     whole command line (global options included) and its exit code;
#   - libxml2 is opened on the first HTML body: an HTML-only reply is read
#     to text and applied, and on a host without libxml2 imi deliver answers
#     75 (the MTA keeps the message) instead of storing it without its text;
#     libytnef likewise on the first winmail.dat.
set -u
. "$(dirname "$0")/lib.sh"
lib_init link

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
IMI_NET=$(dirname "$IMI")/imi-net

# ---- DT_NEEDED -------------------------------------------------------------
imi_needed=$(needed "$IMI")
check "readelf lists imi's libraries (libglib among them)" grep -q '^libglib-2\.0\.so' <<<"$imi_needed"
for lib in libetpan libgnutls libxml2 libytnef libmilter libsasl2 libicuuc; do
	if grep -q "^$lib\." <<<"$imi_needed"; then
		not_ok "imi does not link $lib: got $(grep "^$lib\." <<<"$imi_needed")"
	else
		ok "imi does not link $lib"
	fi
done
for lib in libgmime-3 libopendkim libspf2 libpsl libcrypto; do
	if grep -q "^$lib\." <<<"$imi_needed"; then
		not_ok "imi does not link $lib (the module does): got $(grep "^$lib\." <<<"$imi_needed")"
	else
		ok "imi does not link $lib (the module does)"
	fi
done
IMI_MAIL=$(dirname "$IMI")/imi-mail.so
check "imi-mail.so is built next to imi" test -f "$IMI_MAIL"
mail_needed=$(needed "$IMI_MAIL")
check "imi-mail.so links GMime and libopendkim" \
	test "$(grep -cE '^(libgmime-3\.0|libopendkim)\.' <<<"$mail_needed")" = 2
check "imi-mail.so does not link libetpan or libmilter either" \
	test -z "$(grep -E '^(libetpan|libmilter)\.' <<<"$mail_needed")"
# LeakSanitizer reads its suppressions from the executable before imi
# opens its module (util/util.c).
if [ "${SAN:-0}" = 1 ]; then
	check "imi itself holds the LeakSanitizer suppressions" \
		grep -q ' T __lsan_default_suppressions$' <(nm "$IMI")
fi
check "imi-net is built next to imi" test -x "$IMI_NET"
net_needed=$(needed "$IMI_NET")
check "imi-net links libetpan" grep -q '^libetpan\.' <<<"$net_needed"
check "imi-net links libmilter" grep -q '^libmilter\.' <<<"$net_needed"
check "imi-net does not link libxml2 either" test -z "$(grep '^libxml2\.' <<<"$net_needed")"
# No symbol of the SMTP/IMAP client in imi: the objects that use libetpan
# are not pulled from libimi.a.
syms=$(nm "$IMI" | grep -cE ' (mailsmtp|mailesmtp|mailimap|mailpop3|gnutls|smfi)_' || true)
check "no libetpan, GnuTLS or libmilter symbol in imi (got $syms)" test "$syms" = 0

# ---- imi tick with nothing due stays out of the module ----------------------
H=$WORK/home
imi_home "$H" || { not_ok "imi init"; exit 1; }
# (The first tick of a home writes when the urgency lists are next due.)
"$IMI" --home "$H" tick --now 2030-01-01T00:00:00 >/dev/null 2>&1
loaded() { LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -c 'file=.*imi-mail\.so.*dynamically loaded'; }
out=$("$IMI" --home "$H" tick --now 2030-01-01T00:01:00)
rc=$?
check "imi tick with nothing due: exit 0 ($rc), '$out'" test "$rc:$out" = "0:imi: 0 timer(s) run, 0 failed"
check "and it did not open imi-mail.so" test "$(loaded "$IMI" --home "$H" tick --now 2030-01-01T00:01:00)" = 0
check "imi --help does not open it either" test "$(loaded "$IMI" --help)" = 0
check "imi tick --help does: it is the module's tick" grep -q -- '--now' <("$IMI" tick --help)
check "imi case list opens it" test "$(loaded "$IMI" --home "$H" case list)" = 1
# Thirteen months on, the urgency lists are due again: the module's tick runs.
check "imi tick with the urgency lists due opens it" \
	test "$(loaded "$IMI" --home "$H" tick --now 2031-02-01T00:00:00)" = 1
check "libopendkim's d2i_PUBKEY_bio is the module's key cache" \
	grep -q "binding file .*libopendkim.* to .*imi-mail\.so.*d2i_PUBKEY_bio" \
	<(LD_DEBUG=bindings "$IMI" --home "$H" case list 2>&1)
"$IMI" --home "$H" tick --now 2030-01-01T00:00:00 >/dev/null 2>&1

# ---- imi send / fetch / milter through imi-net -------------------------------
check "imi send --help is imi-net's send" grep -q -- '--put' <("$IMI" send --help)
check "imi milter --help is imi-net's milter" grep -q -- '--socket' <("$IMI" milter --help)
printf 'From: imi@imi.localhost\nTo: someone@example.org\nSubject: link\nMessage-ID: <link.1@imi.localhost>\n\nhello\n' >"$WORK/put.eml"
seq=$("$IMI" --home "$H" send --put "$WORK/put.eml" --from imi@imi.localhost --to someone@example.org)
check "imi --home DIR send --put queues a message (seq '$seq')" grep -qE '^[0-9]+$' <<<"$seq"
out=$("$IMI" --home "$H" -v send 2>"$WORK/err")
rc=$?
check "imi --home DIR -v send drains it: exit 0 ($rc)" test "$rc" = 0
check "and prints its counts" test "$out" = "sent 1, retry 0, failed 0"
check "-v reached imi-net: its log line is on stderr" grep -q 'sent (written to the outbox Maildir' "$WORK/err"
check "the message is in the home's outbox Maildir" test "$(ls "$H/outbox/new" | wc -l)" = 1
out=$(IMI_HOME=$H "$IMI" fetch maildir: 2>&1)
rc=$?
check "IMI_HOME=DIR imi fetch maildir: takes the inbox Maildir: exit 0 ($rc)" test "$rc" = 0
check "and prints its counts" grep -q '^taken 0, duplicates 0, skipped 0' <<<"$out"
"$IMI" --home "$H" fetch >/dev/null 2>&1
rc=$?
check "imi fetch without a URL: imi-net's exit code 64 comes back ($rc)" test "$rc" = 64
"$IMI" --home "$WORK/nowhere" send >/dev/null 2>"$WORK/err"
rc=$?
check "imi send on a home without a store: exit 66 ($rc)" test "$rc" = 66
check "and names that home" grep -q "$WORK/nowhere" "$WORK/err"
"$IMI_NET" tick >/dev/null 2>&1
rc=$?
check "imi-net runs only its own commands: imi-net tick is 64 ($rc)" test "$rc" = 64
# A copy of imi with no imi-net beside it (and none installed in the
# test's prefix): it says where it looked and exits 69.
mkdir -p "$WORK/alone"
cp "$IMI" "$WORK/alone/imi"
"$WORK/alone/imi" --home "$H" send 2>"$WORK/err" >/dev/null
rc=$?
if [ -x /usr/local/lib/imi/imi-net ]; then
	ok "# skip imi without imi-net: one is installed in /usr/local/lib/imi"
else
	check "imi without imi-net: exit 69 ($rc)" test "$rc" = 69
	check "and names where it looked" grep -q "alone/imi-net" "$WORK/err"
fi
"$WORK/alone/imi" --home "$H" deliver </dev/null 2>"$WORK/err" >/dev/null
rc=$?
if [ -f /usr/local/lib/imi/imi-mail.so ]; then
	ok "# skip imi without imi-mail.so: one is installed in /usr/local/lib/imi"
else
	check "imi deliver without imi-mail.so: exit 69, the MTA keeps the message ($rc)" test "$rc" = 69
	check "and names where it looked" grep -q "alone/imi-mail.so" "$WORK/err"
	out=$("$WORK/alone/imi" --home "$H" tick --now 2030-01-01T00:01:00 2>&1)
	rc=$?
	check "while imi tick with nothing due still runs: exit 0 ($rc)" test "$rc" = 0
fi
check "make install puts imi-net into PREFIX/lib/imi" \
	grep -q "imi-net .*/usr/local/lib/imi/imi-net" <(make -s -n -C "$IMI_SRC" install)
check "make install puts imi-mail.so into PREFIX/lib/imi" \
	grep -q "imi-mail.so .*/usr/local/lib/imi/imi-mail.so" <(make -s -n -C "$IMI_SRC" install)

# ---- libxml2 on demand: an HTML-only reply ---------------------------------
# The home of tools/bench/case-home.sh (sets H, case_id, reply_to; mail N
# SUBJECT HEADERS prints a reply of jan@aek.de, DKIM-signed): a request to
# de-aek, accepted.
tmp=$WORK/case
mkdir -p "$tmp"
cd "$tmp" || exit 1
. "$IMI_SRC/tools/bench/case-home.sh" >/dev/null
state() { imi case show "$case_id" | sed -n 's/^  state: //p'; }
check "the case is accepted before the reply" test "$(state)" = accepted
{
	printf '<html><head><style>p {margin: 0}</style></head><body>\n'
	printf '<p>Q1: Dr. Erika Mustermann</p><p>Q2: 12345</p><p>Q3: 1.3.2010</p>\n'
	printf '<p>Q4: ja</p><p>Q5: nein</p>\n'
	printf '<p>Mit freundlichen Gr&uuml;&szlig;en<br>Jan Becker</p>\n'
	printf '<blockquote type="cite">Auskunftsersuchen [%s]</blockquote></body></html>\n' "$case_id"
} | mail 2 "AW: Auskunftsersuchen [$case_id]" "Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: 8bit" >answer.eml
text=$(imi parse trim answer.eml)
check "imi parse trim reads the HTML-only reply as text" \
	grep -q '^Q2: 12345$' <<<"$text"
check "markup, style and quoted history are not in it" \
	test -z "$(grep -E '<p>|margin|Auskunftsersuchen' <<<"$text")"
IMI_LIBXML2=libimi-test-absent.so.2 "$IMI" --home "$H" -v deliver --recipient "$reply_to" \
	<answer.eml >/dev/null 2>err
rc=$?
check "without libxml2 imi deliver answers 75, the MTA keeps the reply ($rc)" test "$rc" = 75
check "and says why" grep -q 'cannot load libimi-test-absent.so.2' err
check "the case is still accepted, nothing was stored" test "$(state)" = accepted
IMI_LIBXML2=libimi-test-absent.so.2 imi parse trim answer.eml >/dev/null 2>&1
rc=$?
check "imi parse trim without libxml2: 75 too ($rc)" test "$rc" = 75
imi deliver --recipient "$reply_to" <answer.eml >/dev/null 2>err
rc=$?
check "with libxml2 back, the same reply is taken: exit 0 ($rc)" test "$rc" = 0
check "its answers are applied: the case is answered" test "$(state)" = answered
cd "$IMI_SRC" || exit 1

# ---- libytnef on demand: a message with a winmail.dat ----------------------
# The smallest TNEF stream libytnef reads: signature, key, attTnefVersion.
tnef=$(python3 -c '
import base64, struct
v = struct.pack("<I", 0x00010000)
attr = bytes([1]) + struct.pack("<II", 0x00089006, len(v)) + v + struct.pack("<H", sum(v) & 0xFFFF)
print(base64.b64encode(struct.pack("<IH", 0x223E9F78, 1) + attr).decode())')
printf 'From: a@example.org\nSubject: tnef\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nQ1: yes\n--b\nContent-Type: application/ms-tnef\nContent-Disposition: attachment; filename=winmail.dat\nContent-Transfer-Encoding: base64\n\n%s\n--b--\n' "$tnef" >"$WORK/tnef.eml"
out=$(IMI_LIBYTNEF=libimi-test-absent.so.0 "$IMI" --home "$WORK/nowhere" parse trim "$WORK/tnef.eml" 2>&1)
rc=$?
check "without libytnef a message with a winmail.dat is 75 ($rc)" test "$rc" = 75
check "and says why" grep -q 'winmail.dat: cannot load libimi-test-absent.so.0' <<<"$out"
out=$("$IMI" --home "$WORK/nowhere" parse trim "$WORK/tnef.eml" 2>&1)
rc=$?
check "with libytnef it is read: exit 0 ($rc), text '$out'" test "$rc:$out" = "0:Q1: yes"

[ "$LIB_FAILED" = 0 ]
