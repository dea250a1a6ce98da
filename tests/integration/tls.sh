#!/bin/bash
# tls.sh: the encrypted and authenticated paths of imi send and imi fetch:
#   - imi send to a Postfix relay that requires STARTTLS before AUTH and
#     AUTH before relaying (SASL through dovecot): sent, and the relay's log
#     shows the TLS session and the SASL login;
#   - a wrong password, and smtp_starttls against a relay without STARTTLS:
#     kept for a retry, nothing sent;
#   - imi fetch over IMAP with STARTTLS, over imaps, and over POP3 with STLS:
#     dovecot logs each login as TLS.
set -u
. "$(dirname "$0")/lib.sh"
lib_init tls

D=$WORK/dovecot
IMAP_PORT=$(lib_free_port)
POP_PORT=$(lib_free_port)
IMAPS_PORT=$(lib_free_port)
RELAY_PORT=$(lib_free_port)
SINK_PORT=$(lib_free_port)
DOVECOT_TLS=$IMAPS_PORT dovecot_start "$D" "$IMAP_PORT" "$POP_PORT" authority s3cret ||
	{ not_ok "dovecot starts"; exit 1; }
lib_cert "$WORK/relay-tls"
sink_start "$WORK/sink" "$SINK_PORT"
pf_start "$WORK/relay" "$RELAY_PORT" "relay_domains=authority.example" \
	"transport_maps=inline:{authority.example=smtp:[127.0.0.1]:$SINK_PORT}" \
	"smtpd_tls_security_level=may" "smtpd_tls_cert_file=$WORK/relay-tls/cert.pem" \
	"smtpd_tls_key_file=$WORK/relay-tls/key.pem" "smtpd_tls_loglevel=1" \
	"smtpd_sasl_auth_enable=yes" "smtpd_sasl_type=dovecot" "smtpd_sasl_path=$D/base/auth-postfix" \
	"smtpd_tls_auth_only=yes" "mynetworks=127.0.0.2/32" \
	"smtpd_relay_restrictions=permit_sasl_authenticated,reject" \
	"smtpd_recipient_restrictions=check_recipient_access inline:{gone@authority.example=REJECT}" ||
	{ not_ok "Postfix relay starts"; exit 1; }

H=$WORK/home
imi_home "$H" "[service]
domain = imi.localhost
[outbound]
smtp_relay = 127.0.0.1:$RELAY_PORT
smtp_starttls = true
smtp_user = authority
smtp_password_file = relay.pw" || { not_ok "imi init"; exit 1; }
echo s3cret >"$H/relay.pw"
message() {
	printf 'From: imi@imi.localhost\nTo: postbox@authority.example\nSubject: %s\nMessage-ID: <%s@imi.localhost>\n\nbody\n' "$1" "$1" >"$WORK/$1.eml"
	"$IMI" --home "$H" send --put "$WORK/$1.eml" --from imi@imi.localhost --to postbox@authority.example >/dev/null
}

message s1
out=$("$IMI" --home "$H" send)
check "STARTTLS + AUTH: sent ($out)" test "$out" = "sent 1, retry 0, failed 0"
check "the relay logged a TLS session" grep -q 'TLS connection established from' "$WORK/relay/postfix.log"
check "the relay logged the SASL login" grep -q 'sasl_method=PLAIN, sasl_username=authority' "$WORK/relay/postfix.log"
for _ in $(seq 1 30); do grep -qs s1@imi.localhost "$WORK/sink"/* && break; sleep 0.3; done
check "the relay delivered it on" grep -qs s1@imi.localhost "$WORK/sink"/*

# One recipient refused (554), the other takes it: sent, the refusal audited.
printf 'From: imi@imi.localhost\nTo: postbox@authority.example, gone@authority.example\nSubject: two\nMessage-ID: <s3@imi.localhost>\n\nbody\n' >"$WORK/s3.eml"
"$IMI" --home "$H" send --put "$WORK/s3.eml" --from imi@imi.localhost \
	--to postbox@authority.example --to gone@authority.example >/dev/null
out=$("$IMI" --home "$H" send)
check "one recipient refused, the other took it: sent ($out)" test "$out" = "sent 1, retry 0, failed 0"
check "the refused recipient is in the audit log with the relay's 554" \
	grep -q 'outbox.refused.*gone@authority.example: 554' <("$IMI" --home "$H" audit)

echo wrong >"$H/relay.pw"
message s2
out=$("$IMI" --home "$H" send)
check "a wrong AUTH password: kept for a retry ($out)" test "$out" = "sent 0, retry 1, failed 0"

echo s3cret >"$H/relay.pw"
sed -i "s/^smtp_relay = .*/smtp_relay = 127.0.0.1:$SINK_PORT/" "$H/imi.conf"
out=$("$IMI" --home "$H" send --now "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)")
check "smtp_starttls against a relay without STARTTLS: not sent in clear ($out)" \
	test "$out" = "sent 0, retry 1, failed 0"
check "nothing reached the sink directly" test -z "$(grep -ls s2@imi.localhost "$WORK/sink"/*)"

# Fetching over TLS.
mkdir -p "$D/mail/new" "$D/mail/cur" "$D/mail/tmp"
put() {
	printf 'From: handler@authority.example\nTo: imi@imi.localhost\nMessage-ID: <%s@authority.example>\nX-Test-Verdict: applied\n\nQ1: yes\n' "$1" >"$D/mail/new/$(date +%s).$1.test"
	chown -R dovenull "$D/mail"
}
tls_logins() { grep -c "Login: user=<authority>.*TLS" "$D/dovecot.log"; }
before=$(tls_logins)
put f1
out=$("$IMI" --home "$H" fetch "imap://authority:s3cret@127.0.0.1:$IMAP_PORT/INBOX")
check "IMAP with STARTTLS: taken ($out)" test "$out" = "taken 1, duplicates 0, skipped 0"
check "dovecot logged the IMAP login as TLS" test "$(tls_logins)" -gt "$before"
before=$(tls_logins)
put f2
out=$("$IMI" --home "$H" fetch "imaps://authority:s3cret@127.0.0.1:$IMAPS_PORT/INBOX")
check "imaps: taken ($out)" test "$out" = "taken 1, duplicates 0, skipped 0"
check "dovecot logged the imaps login as TLS" test "$(tls_logins)" -gt "$before"
before=$(tls_logins)
put f3
out=$("$IMI" --home "$H" fetch "pop3://authority:s3cret@127.0.0.1:$POP_PORT")
check "POP3 with STLS: taken ($out)" test "$out" = "taken 1, duplicates 0, skipped 0"
check "dovecot logged the POP3 login as TLS" test "$(tls_logins)" -gt "$before"

[ "$LIB_FAILED" = 0 ]
