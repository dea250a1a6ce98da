#!/bin/bash
# faults.sh: what breaks around imi, and that nothing is lost meanwhile.
# Each fault must give a temporary failure (exit 75, 451) or a retry, a log
# line that says what to do, no loss, and service again by itself once the
# fault is gone:
#   - the home directory on a small tmpfs that fills up;
#   - the store read-only (a read-only bind mount): imi deliver, imi tick,
#     imi send (the milter: milter.sh);
#   - the DNS server stopped (imi deliver and imi milter behind Postfix);
#   - the SMTP relay refusing connections, and dropping them after DATA
#     before its reply (a resend then carries the same Message-ID).
# The replies are real: DKIM-signed answers of the responding authority to
# an open request, delivered to the case's reply token.
# The whole script runs in a private mount namespace (tests run as root), so
# its mounts are seen by nobody else and vanish with it.
if [ -z "${FAULTS_NS:-}" ]; then
	FAULTS_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
set -u
. "$(dirname "$0")/lib.sh"
lib_init faults

FS=$WORK/fs
H=$FS/home
DNS_PORT=$(lib_free_port)
RELAY_PORT=$(lib_free_port)
mkdir -p "$FS"
mount -t tmpfs -o size=64m tmpfs "$FS" || { not_ok "mount a tmpfs"; exit 1; }
lib_on_exit "umount -l '$FS'"
imi_home "$H" "[service]
domain = imi.localhost
[inbound]
dns_server = 127.0.0.1:$DNS_PORT
[outbound]
smtp_relay = 127.0.0.1:$RELAY_PORT" || { not_ok "imi init"; exit 1; }
imi() { "$IMI" --home "$H" "$@"; }

# The relay: a small SMTP server that keeps every message whose final dot it
# read (RELAY/N.eml) and then, as RELAY_MODE says: ok (250), drop-rcpt
# (closes at RCPT), drop-data (closes after the final dot, no reply).
RELAY=$WORK/relay
mkdir -p "$RELAY"
echo ok >"$WORK/relay.mode"
relay_start() {
	python3 - "$RELAY_PORT" "$RELAY" "$WORK/relay.mode" >>"$WORK/relay.log" 2>&1 <<'EOF' &
import os, socket, sys
port, folder, modefile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(5)
while True:
    conn, _ = srv.accept()
    mode = open(modefile).read().strip()
    f = conn.makefile("rwb")
    def say(text):
        f.write(text.encode() + b"\r\n")
        f.flush()
    say("220 relay.test ESMTP")
    try:
        while True:
            line = f.readline()
            if not line:
                break
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                say("250 relay.test")
            elif verb == b"RCPT" and mode == "drop-rcpt":
                break
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                say("250 2.0.0 ok")
            elif verb == b"DATA":
                say("354 go ahead")
                data = b""
                while True:
                    l = f.readline()
                    if not l or l == b".\r\n":
                        break
                    data += l
                n = len(os.listdir(folder)) + 1
                with open(os.path.join(folder, "%d.eml" % n), "wb") as out:
                    out.write(data)
                if mode == "drop-data":
                    break
                say("250 2.0.0 queued as %d" % n)
            elif verb == b"QUIT":
                say("221 bye")
                break
            else:
                say("502 5.5.2 no")
    except OSError:
        pass
    try:
        f.close()
        conn.close()
    except OSError:
        pass
EOF
	RELAY_PID=$!
	lib_on_exit "kill $RELAY_PID"
	lib_wait_listen "$RELAY_PORT"
}
relay_stop() { kill "$RELAY_PID"; wait "$RELAY_PID" 2>/dev/null; }
# relay_got MESSAGE-ID-PART: copies of it the relay kept.
relay_got() { grep -l -- "$1" "$RELAY"/*.eml 2>/dev/null | wc -l; }

# The authorities; the responder's DKIM key published by dnsmasq.
pub=$(dkim_key "$WORK/aek.key")
DKIM_TXT="v=DKIM1; k=rsa; p=$pub"
dns_start "$WORK/dns" "$DNS_PORT" s1._domainkey.aek.de "$DKIM_TXT"
imi authority add --id fr-cnom --country FR --language fr --name 'fr=Ordre des médecins' \
	--area professional-qualifications --postbox imi@cnom.fr --domain cnom.fr >/dev/null &&
	imi authority add --id de-aek --country DE --language de --name 'de=Ärztekammer' \
		--area professional-qualifications --postbox imi@aek.de --domain aek.de >/dev/null &&
	imi user add --email anne@cnom.fr --authority fr-cnom --role handler >/dev/null &&
	imi user add --email jan@aek.de --authority de-aek --role handler >/dev/null ||
	{ not_ok "register the authorities and their handlers"; exit 1; }
case_id=$(imi request new --from-authority fr-cnom --to-authority de-aek --qset pq-general \
	--subject "Dr. Person" --deadline 2099-12-31 --user anne@cnom.fr)
relay_start
imi send >/dev/null
TOKEN=$(sed -n 's/^Reply-To: \([^\r]*\)\r\?$/\1/p' $(grep -l '\.1\.request@' "$RELAY"/*.eml) | head -1)
check "a request is open, its reply token known" test -n "$TOKEN"
# Without it every step below would send to no one: nothing more to learn.
[ -n "$TOKEN" ] || exit 1

# reply N: the handler's answer N, signed by aek.de (WORK/rN.eml).
reply() {
	printf 'From: Jan <jan@aek.de>\nTo: %s\nSubject: AW: [%s]\nDate: %s\nMessage-ID: <f%s.%s@aek.de>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nQ1: Person %s\nQ2: %s\n' \
		"$TOKEN" "$case_id" "$(date -R)" "$1" "$case_id" "$1" "$1" >"$WORK/r$1.plain"
	imi auth sign --selector s1 --domain aek.de --key "$WORK/aek.key" "$WORK/r$1.plain" >"$WORK/r$1.eml"
}
# deliver N: imi deliver of reply N as a Postfix pipe would run it; the exit
# code in RC, its log (stderr, -v) in WORK/err.
deliver() {
	"$IMI" -v --home "$H" deliver --sender jan@aek.de --client-ip 127.0.0.1 \
		--helo mx.aek.de --recipient "$TOKEN" <"$WORK/r$1.eml" >/dev/null 2>"$WORK/err"
	RC=$?
}
applied() { imi audit | awk -F'\t' -v m="<f$1.$case_id@aek.de> applied" '$5 == "inbound.reply" && $6 == m' | wc -l; }
# says PATTERN: the last command's log names the problem and what to do.
says() { grep -Eiq -- "$1" "$WORK/err"; }
errtext() { head -c 240 "$WORK/err" | tr '\n' ' '; }
# The Message-ID of the newest confirmation waiting in the outbox.
last_confirm() { imi outbox list | awk -F'\t' '$5 ~ /\.confirm@/ {m = $5} END {print m}'; }
later() { date -u -d "+$1" +%Y-%m-%dT%H:%M:%SZ; }

# ---- 1. the file system full ------------------------------------------------
reply 1
dd if=/dev/zero of="$FS/filler" bs=1M 2>/dev/null
deliver 1
check "disk full: imi deliver exits 75, the MTA keeps the message ($RC)" test "$RC" = 75
check "and says the disk is full and to free space ($(errtext))" \
	says 'disk full.*free space'
"$IMI" -v --home "$H" tick --now "$(later '8 days')" >/dev/null 2>"$WORK/err"
RC=$?
check "disk full: imi tick exits 75 ($RC)" test "$RC" = 75
check "and says the disk is full ($(errtext))" says 'disk full.*free space'
rm -f "$FS/filler"
deliver 1
check "space freed: the same message is delivered ($RC)" test "$RC" = 0
deliver 1
check "a second delivery of it is a duplicate ($RC)" test "$RC" = 0
check "it was applied exactly once ($(applied 1))" test "$(applied 1)" = 1
check "imi check passes after the disk was full" imi check

# ---- 2. the store read-only ----------------------------------------------------
queued=$(imi outbox list | wc -l)
mount --bind "$H/db" "$H/db" && mount -o remount,bind,ro "$H/db" ||
	not_ok "bind-mount the store read-only"
reply 2
deliver 2
check "read-only store: imi deliver exits 75 ($RC)" test "$RC" = 75
check "and says the store is read-only and what to do ($(errtext))" \
	says 'read-only.*(writable|remount|permission)'
"$IMI" -v --home "$H" tick --now "$(later '8 days')" >/dev/null 2>"$WORK/err"
RC=$?
check "read-only store: imi tick exits 75 ($RC)" test "$RC" = 75
check "and says why ($(errtext))" says 'read-only'
before=$(ls "$RELAY" | wc -l)
"$IMI" -v --home "$H" send >/dev/null 2>"$WORK/err"
RC=$?
check "read-only store: imi send exits 75 ($RC)" test "$RC" = 75
check "and says why ($(errtext))" says 'read-only'
check "nothing was sent meanwhile" test "$(ls "$RELAY" | wc -l)" = "$before"
mount -o remount,bind,rw "$H/db" || not_ok "remount the store read-write"
deliver 2
check "writable again: the message is delivered ($RC)" test "$RC" = 0
check "and applied once ($(applied 2))" test "$(applied 2)" = 1
out=$(imi send)
check "the outbox kept while read-only goes out ($out)" grep -q "^sent $((queued + 2)), retry 0, failed 0" <<<"$out"

# ---- 3. the DNS server stopped ---------------------------------------------------
kill "$DNS_PID"
wait "$DNS_PID" 2>/dev/null
reply 3
deliver 3
check "DNS down: imi deliver exits 75 ($RC)" test "$RC" = 75
check "and says the DNS server does not answer ($(errtext))" \
	says "DNS lookups .* fail \\(resolver 127.0.0.1:$DNS_PORT\\): check that it answers.*dns_server"
check "nothing of it is applied" test "$(applied 3)" = 0
# The milter behind Postfix: 451, and the operator told what to do.
SOCK=$WORK/milter.sock
P1=$(lib_free_port)
milter_start "$H" "$SOCK" || exit 1
pf_start "$WORK/pf1" "$P1" "smtpd_milters=unix:$SOCK" "milter_default_action=tempfail" \
	"relay_domains=imi.localhost" "transport_maps=inline:{imi.localhost=discard:}" ||
	{ not_ok "Postfix (milter) starts"; exit 1; }
reply 6
swaks6() { swaks --server 127.0.0.1 --port "$P1" --from jan@aek.de --to "$TOKEN" --data "$WORK/r6.eml" 2>&1; }
out=$(swaks6)
check "DNS down: the milter answers 451" grep -qE '<\*\* +451 4\.' <<<"$out"
check "and logs what to do" grep -q "DNS lookups .* fail (resolver 127.0.0.1:$DNS_PORT): check that it answers" "$WORK/milter.log"
dns_start "$WORK/dns" "$DNS_PORT" s1._domainkey.aek.de "$DKIM_TXT"
deliver 3
check "DNS back: the message is delivered ($RC)" test "$RC" = 0
check "and applied once ($(applied 3))" test "$(applied 3)" = 1
out=$(swaks6)
check "and the milter accepts its message (250)" grep -qE '<- +250 ' <<<"$out"
check "applied once ($(applied 6))" test "$(applied 6)" = 1
milter_kill TERM
pf_stop "$WORK/pf1"

# ---- 4. the relay refusing connections -------------------------------------------
relay_stop
reply 4
deliver 4
confirm4=$(last_confirm)
queued=$(imi outbox list | wc -l)
out=$("$IMI" -v --home "$H" send 2>"$WORK/err")
check "relay down: every item kept for a retry ($out)" test "$out" = "sent 0, retry $queued, failed 0"
check "and the log says the relay cannot be reached and where it is set ($(errtext))" \
	says "retry later \\(relay 127.0.0.1:$RELAY_PORT unreachable: .*check that it runs.*smtp_relay"
check "the outbox still holds them" test "$(imi outbox list | grep -c queued)" = "$queued"
relay_start
out=$(imi send --now "$(later '10 minutes')")
check "relay back: after the backoff every item is sent ($out)" test "$out" = "sent $queued, retry 0, failed 0"
check "the confirmation of reply 4 reached the relay once" test "$(relay_got "$confirm4")" = 1

# ---- 5. the relay dropping the connection ---------------------------------------
echo drop-rcpt >"$WORK/relay.mode"
reply 5
deliver 5
confirm5=$(last_confirm)
out=$("$IMI" -v --home "$H" send 2>"$WORK/err")
check "connection dropped at RCPT: retry ($out)" test "$out" = "sent 0, retry 2, failed 0"
check "and the log says so ($(errtext))" says 'retry later \(connection lost at RCPT\)'
echo drop-data >"$WORK/relay.mode"
out=$("$IMI" -v --home "$H" send --now "$(later '10 minutes')" 2>"$WORK/err")
check "connection dropped after the final dot: retry ($out)" test "$out" = "sent 0, retry 2, failed 0"
check "and the log says so ($(errtext))" says 'retry later \(connection lost at DATA.*same Message-ID'
got=$(relay_got "$confirm5")
check "the relay had read the message before it dropped ($got)" test "$got" = 1
echo ok >"$WORK/relay.mode"
out=$(imi send --now "$(later '1 hour')")
check "the relay well again: sent ($out)" test "$out" = "sent 2, retry 0, failed 0"
check "the resend carries the same Message-ID (2 copies)" test "$(relay_got "$confirm5")" = 2
check "the outbox is empty" test -z "$(imi outbox list)"
check "every reply applied exactly once" test "$(applied 1)$(applied 2)$(applied 3)$(applied 4)$(applied 5)$(applied 6)" = 111111
check "imi check passes at the end" imi check
relay_stop
[ "$LIB_FAILED" = 0 ]
