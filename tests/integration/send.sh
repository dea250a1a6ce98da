#!/bin/bash
# send.sh: imi send to an SMTP relay (Postfix's smtp-sink) and to the outbox
# Maildir; the DKIM signature of what arrived is verified by Mail::DKIM
# (perl, independent of libopendkim) with the key published by a real DNS
# server (dnsmasq on 127.0.0.1); a relay that refuses (5xx) makes the item
# failed, a relay that is down or answers 4xx makes it retried later.
set -u
. "$(dirname "$0")/lib.sh"
lib_init send

H=$WORK/home
SINK_PORT=$(lib_free_port)
DNS_PORT=$(lib_free_port)
imi_home "$H" "[service]
domain = imi.localhost
[outbound]
smtp_relay = 127.0.0.1:$SINK_PORT" || { not_ok "imi init"; exit 1; }
record=$(sed -n 's/^imi._domainkey.imi.localhost. IN TXT "\(.*\)"$/\1/p' "$H/init.out")
check "imi init prints the DKIM TXT record" test -n "$record"
dns_start "$WORK/dns" "$DNS_PORT" imi._domainkey.imi.localhost "$record"
sink_start "$WORK/sink" "$SINK_PORT"

# message N [extra header]: a message of the service with a stable Message-ID.
message() {
	printf 'From: IMI mail <imi@imi.localhost>\nTo: <postbox@authority.example>\nSubject: Request %s\nDate: Tue, 24 Nov 2026 10:00:00 +0000\nMessage-ID: <%s@imi.localhost>\nAuto-Submitted: auto-generated\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nQ1: Is the professional registered?\n.\n..a line that needs dot-stuffing\nÄnderung – ç\n' "$1" "$1" >"$WORK/$1.eml"
	"$IMI" --home "$H" send --put "$WORK/$1.eml" --from imi@imi.localhost --to postbox@authority.example >/dev/null
}
audit_count() { "$IMI" --home "$H" audit | awk -F'\t' -v e="$1" '$5 == e' | grep -c "$2"; }

# 1. Sent to the relay, signed, and the signature verifies independently.
message m1
out=$("$IMI" --home "$H" send)
check "send reports one message sent ($out)" test "$out" = "sent 1, retry 0, failed 0"
sleep 0.5
file=$(grep -l "m1@imi.localhost" "$WORK/sink"/* 2>/dev/null | head -1)
check "the relay received the message" test -n "$file"
if [ -n "$file" ]; then
	got=$(perl "$IMI_SRC/tests/integration/dkim_verify.pl" "$DNS_PORT" "$file")
	check "Mail::DKIM verifies the signature with the key from DNS ($got)" test "${got%% *}" = pass
	check "lines starting with a dot arrive unchanged (dot-stuffing)" \
		test "$(tr -d '\r' <"$file" | grep -cxE '\.|\.\.a line that needs dot-stuffing')" = 2
	sed 's/registered?/registered!/' "$file" >"$WORK/tampered"
	got=$(perl "$IMI_SRC/tests/integration/dkim_verify.pl" "$DNS_PORT" "$WORK/tampered")
	check "a changed body fails verification ($got)" test "${got%% *}" = fail
fi
check "the sent item left an audit entry" test "$(audit_count outbox.sent m1@imi.localhost)" = 1
out=$("$IMI" --home "$H" send)
check "a second drain sends nothing again ($out)" test "$out" = "sent 0, retry 0, failed 0"

# 2. Relay down: retried later with backoff, then sent when it is back.
kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null
message m2
out=$("$IMI" --home "$H" send)
check "relay down: the message is kept for a retry ($out)" test "$out" = "sent 0, retry 1, failed 0"
out=$("$IMI" --home "$H" send)
check "not retried before its backoff has passed ($out)" test "$out" = "sent 0, retry 0, failed 0"
sink_start "$WORK/sink" "$SINK_PORT"
later=$(date -u -d '+10 minutes' +%Y-%m-%dT%H:%M:%SZ)
out=$("$IMI" --home "$H" send --now "$later")
check "after the backoff it is sent ($out)" test "$out" = "sent 1, retry 0, failed 0"
sleep 0.5
check "the relay received it once" test "$(grep -l "m2@imi.localhost" "$WORK/sink"/* | wc -l)" = 1

# 3. 4xx at RCPT: retried.
kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null
sink_start "$WORK/sink" "$SINK_PORT" -r RCPT
message m3
out=$("$IMI" --home "$H" send)
check "4xx from the relay: retry ($out)" test "$out" = "sent 0, retry 1, failed 0"

# 4. 5xx: failed for good, with an audit entry.
kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null
sink_start "$WORK/sink" "$SINK_PORT" -f RCPT
message m4
out=$("$IMI" --home "$H" send)
check "5xx from the relay: failed ($out)" test "$out" = "sent 0, retry 0, failed 1"
check "the failure is in the audit log with the relay's answer" \
	test "$(audit_count outbox.failed '5[0-9][0-9]')" -ge 1
out=$("$IMI" --home "$H" send --now "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)")
check "a failed item is never retried; the 4xx one is, and fails now ($out)" \
	test "$out" = "sent 0, retry 0, failed 1"

# 5. The embedded default: no relay, the outbox Maildir.
M=$WORK/maildir-home
imi_home "$M" "[service]
domain = imi.localhost" || not_ok "imi init (Maildir home)"
H=$M message m5
out=$("$IMI" --home "$M" send)
check "no relay: written to the outbox Maildir ($out)" test "$out" = "sent 1, retry 0, failed 0"
file=$(ls "$M"/outbox/new/* 2>/dev/null | head -1)
check "the message is in outbox/new, nothing left in tmp" test -n "$file" -a -z "$(ls "$M/outbox/tmp")"
record=$(sed -n 's/^imi._domainkey.imi.localhost. IN TXT "\(.*\)"$/\1/p' "$M/init.out")
kill "$DNS_PID"; wait "$DNS_PID" 2>/dev/null
dns_start "$WORK/dns2" "$DNS_PORT" imi._domainkey.imi.localhost "$record"
if [ -n "$file" ]; then
	got=$(perl "$IMI_SRC/tests/integration/dkim_verify.pl" "$DNS_PORT" "$file")
	check "Mail::DKIM verifies the Maildir copy ($got)" test "${got%% *}" = pass
fi

# 6. No DKIM key: nothing goes out unsigned.
mv "$M/keys/dkim.key" "$WORK/dkim.key.saved"
H=$M message m6
"$IMI" --home "$M" send >/dev/null 2>&1
rc=$?
check "without a DKIM key send refuses (exit $rc) and sends nothing" test "$rc" != 0 -a "$(ls "$M/outbox/new" | wc -l)" = 1

[ "$LIB_FAILED" = 0 ]
