#!/bin/bash
# fetch.sh: imi fetch from a real IMAP/POP3 server (a private dovecot) and
# from a Maildir; the poller is killed at each step of its loop (after
# fetching, after the commit, after marking done: the IMI_FETCH_CRASH_AT test
# hook) and every message is still taken exactly once and removed from the
# mailbox in the end.
#
# "Taken" is read from the audit log: the entries that name the message's
# Message-ID, other than duplicate notices.
# The replies are unsigned: the real inbound path holds them for review on
# this path, which commits them like any other outcome (X-Test-Verdict is
# read only by a test build of inbound).
set -u
. "$(dirname "$0")/lib.sh"
lib_init fetch

H=$WORK/home
D=$WORK/dovecot
IMAP_PORT=$(lib_free_port)
POP_PORT=$(lib_free_port)
imi_home "$H" "[service]
domain = imi.localhost" || { not_ok "imi init"; exit 1; }
dovecot_start "$D" "$IMAP_PORT" "$POP_PORT" authority s3cret || { not_ok "dovecot starts"; exit 1; }
mkdir -p "$D/mail/new" "$D/mail/cur" "$D/mail/tmp"

# put ID DIR: a reply in a Maildir, as the MTA would deliver it.
put() {
	local f="$2/new/$(date +%s).$1.test"
	printf 'From: Handler <handler@authority.example>\nTo: imi@imi.localhost\nSubject: Re: request\nMessage-ID: <%s@authority.example>\nX-Test-Verdict: applied\n\nQ1: yes\n' "$1" >"$f"
	chown -R --reference="$2" "$2/new" 2>/dev/null || true
}
taken() {
	"$IMI" --home "$H" audit | awk -F'\t' '$5 !~ /duplicate/' | grep -c "<$1@authority.example>"
}
on_server() { find "$D/mail/new" "$D/mail/cur" -type f | wc -l; }
chown -R dovenull "$D/mail"
for m in a1 a2 a3; do put "$m" "$D/mail"; done
chown -R dovenull "$D/mail"
URL="imap://authority:s3cret@127.0.0.1:$IMAP_PORT/INBOX"

IMI_FETCH_CRASH_AT=fetched "$IMI" --home "$H" fetch "$URL" >/dev/null 2>&1
rc=$?
check "IMAP: killed after fetching (exit $rc): nothing taken, all still on the server" \
	test "$rc" = 9 -a "$(taken a1)" = 0 -a "$(on_server)" = 3
IMI_FETCH_CRASH_AT=committed "$IMI" --home "$H" fetch "$URL" >/dev/null 2>&1
rc=$?
check "IMAP: killed after the commit (exit $rc): a1 taken once, still on the server" \
	test "$rc" = 9 -a "$(taken a1)" = 1 -a "$(on_server)" = 3
IMI_FETCH_CRASH_AT=marked "$IMI" --home "$H" fetch "$URL" >/dev/null 2>&1
rc=$?
check "IMAP: killed after marking (exit $rc): a1 seen again as a duplicate, still taken once" \
	test "$rc" = 9 -a "$(taken a1)" = 1
check "IMAP: a1 is flagged deleted but not yet expunged" test "$(on_server)" = 3
out=$("$IMI" --home "$H" fetch "$URL")
check "IMAP: the last run takes the two others ($out)" test "$out" = "taken 2, duplicates 0, skipped 0"
check "IMAP: every message taken exactly once" \
	test "$(taken a1)$(taken a2)$(taken a3)" = 111
check "IMAP: the mailbox is empty (expunged)" test "$(on_server)" = 0
out=$("$IMI" --home "$H" fetch "$URL")
check "IMAP: a run on the empty mailbox takes nothing ($out)" test "$out" = "taken 0, duplicates 0, skipped 0"

for m in p1 p2; do put "$m" "$D/mail"; done
chown -R dovenull "$D/mail"
PURL="pop3://authority@127.0.0.1:$POP_PORT"
IMI_FETCH_PASSWORD=s3cret IMI_FETCH_CRASH_AT=committed "$IMI" --home "$H" fetch "$PURL" >/dev/null 2>&1
rc=$?
check "POP3: killed after the commit (exit $rc): p1 taken, nothing deleted" \
	test "$rc" = 9 -a "$(taken p1)" = 1 -a "$(on_server)" = 2
IMI_FETCH_PASSWORD=s3cret IMI_FETCH_CRASH_AT=marked "$IMI" --home "$H" fetch "$PURL" >/dev/null 2>&1
rc=$?
check "POP3: killed after DELE, before QUIT (exit $rc): the server keeps both" \
	test "$rc" = 9 -a "$(on_server)" = 2
out=$(IMI_FETCH_PASSWORD=s3cret "$IMI" --home "$H" fetch "$PURL")
check "POP3: the last run: p1 a duplicate, p2 taken ($out)" test "$out" = "taken 1, duplicates 1, skipped 0"
check "POP3: each taken exactly once, the mailbox empty" \
	test "$(taken p1)$(taken p2)$(on_server)" = 110
"$IMI" --home "$H" fetch "pop3://authority:wrong@127.0.0.1:$POP_PORT" >/dev/null 2>&1
rc=$?
check "POP3: a wrong password is a temporary failure (exit $rc)" test "$rc" = 75

# The embedded default: the home's inbox Maildir.
for m in d1 d2; do put "$m" "$H/inbox"; done
IMI_FETCH_CRASH_AT=committed "$IMI" --home "$H" fetch maildir: >/dev/null 2>&1
out=$("$IMI" --home "$H" fetch maildir:)
check "Maildir: after a crash past the commit, one duplicate and one taken ($out)" \
	test "$out" = "taken 1, duplicates 1, skipped 0"
check "Maildir: each taken exactly once, the Maildir empty" \
	test "$(taken d1)$(taken d2)$(find "$H/inbox/new" "$H/inbox/cur" -type f | wc -l)" = 110

[ "$LIB_FAILED" = 0 ]
