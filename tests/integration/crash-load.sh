#!/bin/bash
# crash-load.sh: nothing lost, nothing applied twice, while processes die.
#
# A queueing Postfix (front) relays the service domain to a second Postfix
# whose smtpd runs imi milter (milter_default_action=tempfail).  A client
# injects MESSAGES distinct replies into the front, each a DKIM-signed answer
# of the responding authority's handler to one of CASES open requests (made
# with imi request new), sent to the case's reply token.  Meanwhile:
#   - the milter is killed with SIGKILL at random moments and restarted;
#   - imi send (to smtp-sink, dumping every message to a file) and
#     imi tick (reminders, acting eight days ahead) run over and over, each
#     killed with SIGKILL at a random moment of its run.
# Afterwards the front queue must be empty and:
#   - every injected message applied exactly once (audit: inbound.reply
#     "<Message-ID> applied"); a tempfailed one was retried by the front;
#   - every outbox message the store made reached the sink at least once
#     (audit outbox.sent, and no gap in a case's message numbers), and every
#     copy in the sink carries a Message-ID of the outbox (a kill between the
#     final dot and the relay's reply makes a resend: RFC 1047);
#   - imi check and db5.3_verify pass on the store.
# Size: MESSAGES (default 300, LONG=1: 3000), MILTER_KILLS (default 4,
# LONG=1: 40) and CRON_KILLS, the kills of each of imi send and imi tick
# (default 3, LONG=1: 20).  Figures for docs/reliability.md: the "counts:" lines.
set -u
. "$(dirname "$0")/lib.sh"
lib_init crash-load

if [ "${LONG:-0}" = 1 ]; then
	MESSAGES=${MESSAGES:-3000}
	MILTER_KILLS=${MILTER_KILLS:-40}
	CRON_KILLS=${CRON_KILLS:-20}
else
	MESSAGES=${MESSAGES:-300}
	MILTER_KILLS=${MILTER_KILLS:-4}
	CRON_KILLS=${CRON_KILLS:-3}
fi
PER_CASE=10 # answers per case; each is applied (state answered)
CASES=$(((MESSAGES + PER_CASE - 1) / PER_CASE))
start=$SECONDS

H=$WORK/home
SOCK=$WORK/milter.sock
P1=$(lib_free_port)
P2=$(lib_free_port)
SINK_PORT=$(lib_free_port)
DNS_PORT=$(lib_free_port)
imi_home "$H" "[service]
domain = imi.localhost
[inbound]
dns_server = 127.0.0.1:$DNS_PORT
[outbound]
smtp_relay = 127.0.0.1:$SINK_PORT" || { not_ok "imi init"; exit 1; }
imi() { "$IMI" --home "$H" "$@"; }

# The responding authority signs with a key published by dnsmasq.
pub=$(dkim_key "$WORK/aek.key")
dns_start "$WORK/dns" "$DNS_PORT" s1._domainkey.aek.de "v=DKIM1; k=rsa; p=$pub"
imi authority add --id fr-cnom --country FR --language fr --name 'fr=Ordre des médecins' \
	--area professional-qualifications --postbox imi@cnom.fr --domain cnom.fr >/dev/null &&
	imi authority add --id de-aek --country DE --language de --name 'de=Ärztekammer' \
		--area professional-qualifications --postbox imi@aek.de --domain aek.de >/dev/null &&
	imi user add --email anne@cnom.fr --authority fr-cnom --role handler >/dev/null &&
	imi user add --email jan@aek.de --authority de-aek --role handler >/dev/null ||
	{ not_ok "register the authorities and their handlers"; exit 1; }

# The cases, and their requests sent to the sink: the reply tokens.
sink_start "$WORK/sink" "$SINK_PORT"
for i in $(seq 1 "$CASES"); do
	imi request new --from-authority fr-cnom --to-authority de-aek --qset pq-general \
		--subject "Dr. Person $i" --deadline 2099-12-31 --user anne@cnom.fr >/dev/null ||
		{ not_ok "imi request new ($i)"; exit 1; }
done
imi send >/dev/null
sleep 0.5
grep -l -a '^Message-Id: <IMI-[0-9-]*\.1\.request@' "$WORK/sink"/* 2>/dev/null |
	xargs -r sed -n 's/^Reply-To: \([^\r]*\)\r\?$/\1/p' | sort -u >"$WORK/tokens"
check "$CASES requests made, each with a reply token" test "$(wc -l <"$WORK/tokens")" = "$CASES"

# The messages: PER_CASE answers to each token, signed by aek.de.
mkdir -p "$WORK/msgs"
n=0
while read -r token; do
	case_id=$(sed 's/^imi+\(imi-[0-9]*-[0-9]*\)\..*/\1/' <<<"$token" | tr a-z A-Z)
	for k in $(seq 1 "$PER_CASE"); do
		n=$((n + 1))
		[ "$n" -le "$MESSAGES" ] || break
		printf 'From: Jan <jan@aek.de>\nTo: %s\nSubject: AW: [%s]\nDate: %s\nMessage-ID: <load%d.%s@aek.de>\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nQ1: Person %d\nQ2: %d\n' \
			"$token" "$case_id" "$(date -R)" "$n" "$case_id" "$k" "$n" >"$WORK/msgs/$n.plain"
	done
done <"$WORK/tokens"
ls "$WORK/msgs" | sed -n 's/\.plain$//p' |
	xargs -P 2 -I{} sh -c "'$IMI' --home '$H' auth sign --selector s1 --domain aek.de --key '$WORK/aek.key' '$WORK/msgs/{}.plain' >'$WORK/msgs/{}.eml'"
check "$MESSAGES distinct signed replies made" test "$(ls "$WORK/msgs" | grep -c '\.eml$')" = "$MESSAGES"
echo "# setup took $((SECONDS - start)) s"

# Two Postfix instances: the one with the milter discards what it accepts
# for the service domain (the store is where it goes).
milter_start "$H" "$SOCK" || exit 1
pf_start "$WORK/pf1" "$P1" \
	"smtpd_milters=unix:$SOCK" "milter_default_action=tempfail" \
	"relay_domains=imi.localhost" "transport_maps=inline:{imi.localhost=discard:}" ||
	{ not_ok "Postfix (milter) starts"; exit 1; }
# One SMTP session per delivery: smtpd gives up a milter that failed for the
# rest of its session (451 to every later MAIL), and a cached session would
# carry that on; nor may a few 4xx in a row mark the destination dead.
pf_start "$WORK/pf2" "$P2" "relay_domains=imi.localhost" \
	"transport_maps=inline:{imi.localhost=smtp:[127.0.0.1]:$P1}" \
	"smtp_connection_cache_on_demand=no" "default_destination_concurrency_failed_cohort_limit=1000" ||
	{ not_ok "Postfix (front) starts"; exit 1; }

# The client: every message over a few SMTP sessions to the front, paced
# so that the load lasts while the milter is killed MILTER_KILLS times
# (about 2.5 s a kill): unpaced, a fast milter could take every message
# before the first kill.
pace=$(awk -v k="$MILTER_KILLS" -v n="$MESSAGES" 'BEGIN {printf "%.4f", k * 2.5 / n}')
python3 - "$P2" "$WORK/msgs" "$pace" >"$WORK/inject.out" 2>&1 <<'EOF' &
import os, smtplib, sys, time
port, folder, pace = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
files = sorted(f for f in os.listdir(folder) if f.endswith(".eml"))
sent = 0
for i in range(0, len(files), 100):
    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    for f in files[i:i + 100]:
        with open(os.path.join(folder, f), "rb") as fh:
            data = fh.read()
        to = data.split(b"\nTo: ", 1)[1].split(b"\n", 1)[0].decode()
        s.sendmail("jan@aek.de", [to], data)
        sent += 1
        time.sleep(pace)
    s.quit()
print("injected", sent)
EOF
INJECT_PID=$!
lib_on_exit "kill $INJECT_PID"

# bounded_wait PID: waits for an imi send or tick at most 60 s, as its timer
# unit's TimeoutStartSec would, then kills it (WORK/stuck counts those);
# returns its status (the kill's, 137, is not counted as one of ours).
bounded_wait() {
	local i
	for i in $(seq 1 600); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1"
		wait "$1"
		echo "$1" >>"$WORK/stuck"
		return 124
	fi
	wait "$1"
}
# bounded COMMAND...: runs it with bounded_wait.
bounded() { "$@" & bounded_wait $!; }

# imi send and imi tick, over and over, each killed at a random moment.
later=$(date -u -d '+8 days' +%Y-%m-%dT%H:%M:%S)
(
	runs=0 kills=0
	while [ ! -e "$WORK/stop" ]; do
		for what in send tick; do
			if [ "$what" = send ]; then
				"$IMI" --home "$H" send >>"$WORK/send.log" 2>&1 &
			else
				# A week later each run: every case's reminder is due
				# again, so each tick has work to be killed in.
				later=$(date -u -d "+$((8 + 7 * runs)) days" +%Y-%m-%dT%H:%M:%S)
				"$IMI" --home "$H" tick --now "$later" >>"$WORK/tick.log" 2>&1 &
			fi
			p=$!
			if [ "$(cat "$WORK/killed" 2>/dev/null | grep -c "$what")" -lt "$CRON_KILLS" ]; then
				if [ "$what" = tick ]; then
					sleep "0.0$((RANDOM % 10))"
				else
					sleep "0.$((RANDOM % 10))$((RANDOM % 10))"
				fi
				kill -KILL "$p" 2>/dev/null
			fi
			if bounded_wait "$p"; then
				rc=0
			else
				rc=$?
			fi
			runs=$((runs + 1))
			[ "$rc" = 137 ] && kills=$((kills + 1)) && echo "$what" >>"$WORK/killed"
			# Another signal: it crashed by itself (counted, see below).
			[ "$rc" -gt 128 ] && [ "$rc" != 137 ] && echo "$what $rc" >>"$WORK/crashed"
		done
	done
	echo "$runs $kills" >"$WORK/cron.count"
) &
CRON_PID=$!
lib_on_exit "touch '$WORK/stop'; kill $CRON_PID"

# The milter killed at random moments while the front still has mail.
# Ended otherwise than by our SIGKILL: by a signal of its own it crashed;
# with an exit status it stopped to be restarted (a wedged store).
kills=0 crashes=0 stops=0 hung=0
# milter_up: starts the milter; one that does not listen within 30 s (it
# hangs opening the store) is killed and started again, at most 5 times.
milter_up() {
	local n
	for n in 1 2 3 4 5; do
		MILTER_QUIET=1 MILTER_WAIT=30 milter_start "$H" "$SOCK" && return 0
		hung=$((hung + 1))
		echo "# the milter did not come up in 30 s (try $n): killed, started again"
		milter_kill KILL
	done
	not_ok "the milter comes up"
	return 1
}
ended_by_itself() {
	if [ "$MILTER_STATUS" -gt 128 ]; then crashes=$((crashes + 1)); else stops=$((stops + 1)); fi
	echo "# the milter had ended by itself, status $MILTER_STATUS"
}
while [ "$kills" -lt "$MILTER_KILLS" ]; do
	sleep "$((RANDOM % 2)).$((RANDOM % 10))"
	if ! kill -0 "$INJECT_PID" 2>/dev/null && [ "$(pf_queued "$WORK/pf2")" = 0 ]; then
		break
	fi
	milter_kill KILL
	kills=$((kills + 1))
	[ "$MILTER_STATUS" = 137 ] || ended_by_itself
	sleep "0.$((RANDOM % 5))"
	milter_up || exit 1
done
wait "$INJECT_PID"
injected=$(sed -n 's/^injected //p' "$WORK/inject.out")
check "the client injected every message (${injected:-0} of $MESSAGES)" test "${injected:-0}" = "$MESSAGES"
# The front drains; a milter that crashes meanwhile is counted and started
# again, as its service manager would.
postqueue -c "$WORK/pf2" -f 2>/dev/null
end=$((SECONDS + 60 + MESSAGES / 5))
while [ "$(pf_queued "$WORK/pf2")" != 0 ] && [ "$SECONDS" -lt "$end" ]; do
	if ! kill -0 "$MILTER_PID" 2>/dev/null; then
		milter_kill KILL
		ended_by_itself
		milter_up || exit 1
	fi
	sleep 0.3
done
check "the front queue drained" test "$(pf_queued "$WORK/pf2")" = 0
check "the milter never crashed ($crashes times)" test "$crashes" = 0
touch "$WORK/stop"
wait "$CRON_PID"
read -r cron_runs cron_kills <"$WORK/cron.count"
send_kills=$(grep -c send "$WORK/killed" 2>/dev/null)
tick_kills=$(grep -c tick "$WORK/killed" 2>/dev/null)
cron_crashes=$(cat "$WORK/crashed" 2>/dev/null | wc -l)

# What the front was told and retried.
tempfailed=$(grep -c 'said: 4[0-9][0-9]\|status=deferred' "$WORK/pf2/postfix.log")
# Let the last outbox items go (the backoff of an interrupted one skipped).
for _ in 1 2 3 4 5; do
	bounded "$IMI" --home "$H" tick --now "$later" >/dev/null 2>&1
	bounded "$IMI" --home "$H" send --now "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)" >>"$WORK/send.log" 2>&1
	[ -z "$(imi outbox list)" ] && break
done
stuck=$(cat "$WORK/stuck" 2>/dev/null | wc -l)
sleep 1
milter_kill TERM
echo "# load and kills took $((SECONDS - start)) s"

# ---- inbound: each injected message applied exactly once ----------------
imi audit >"$WORK/audit"
awk -F'\t' '$5 == "inbound.reply" && $6 ~ / applied$/ {sub(/ applied$/, "", $6); print $6}' \
	"$WORK/audit" | sort | uniq -c | awk '{print $2, $1}' >"$WORK/applied"
ls "$WORK/msgs" | sed -n 's/^\([0-9]*\)\.eml$/\1/p' | while read -r i; do
	sed -n 's/^Message-ID: \(<.*>\)$/\1/p' "$WORK/msgs/$i.plain"
done | sort >"$WORK/injected"
applied=$(wc -l <"$WORK/applied")
twice=$(awk '$2 > 1' "$WORK/applied" | wc -l)
lost=$(cut -d' ' -f1 "$WORK/applied" | comm -23 "$WORK/injected" - | wc -l)
stray=$(cut -d' ' -f1 "$WORK/applied" | comm -13 "$WORK/injected" - | grep -c load)

# ---- outbound: each outbox message reached the relay at least once --------
awk -F'\t' '$5 == "outbox.sent" {split($6, w, " "); print w[1]}' "$WORK/audit" | sort >"$WORK/sent"
for f in "$WORK/sink"/*; do
	tr -d '\r' <"$f" | sed -n 's/^Message-I[dD]: <\(.*\)>$/\1/Ip' | head -1
done | sort >"$WORK/received"
out_total=$(sort -u "$WORK/sent" | wc -l)
out_sent=$(sort -u "$WORK/received" | comm -12 - <(sort -u "$WORK/sent") | wc -l)
out_resent=$(($(wc -l <"$WORK/received") - $(sort -u "$WORK/received" | wc -l)))
out_left=$(imi outbox list | wc -l)
out_lost=$(($(sort -u "$WORK/sent" | comm -23 - <(sort -u "$WORK/received") | wc -l) + out_left))
unknown=$(sort -u "$WORK/received" | comm -23 - <(sort -u "$WORK/sent") | wc -l)
# Every outbox item of a case is numbered CASE.N.kind from 1 on: a gap would
# be an item that vanished unsent and unrecorded.
gaps=$(sed -n 's/^\(IMI-[0-9]*-[0-9]*\)\.\([0-9]*\)\..*/\1 \2/p' "$WORK/sent" | sort -k1,1 -k2,2n |
	awk '$1 != c {c = $1; want = 1} $2 != want {g++} {want = $2 + 1} END {print g + 0}')

echo "counts: injected $MESSAGES, applied $applied, applied twice $twice, lost $lost; outbox sent $out_sent, resent $out_resent, lost $out_lost"
echo "# kills: milter $kills, imi send $send_kills, imi tick $tick_kills (of $cron_runs runs); milter exits by itself: $stops; imi send/tick crashed by themselves: $cron_crashes; imi send/tick stuck and killed after 60 s: $stuck; milter starts that hung: $hung; deferrals logged by the front: $tempfailed; outbox items $out_total"
check "every injected message applied ($applied of $MESSAGES, lost $lost)" test "$lost" = 0 -a "$applied" = "$MESSAGES"
check "none applied twice ($twice)" test "$twice" = 0
check "nothing applied that was not injected ($stray)" test "$stray" = 0
check "the milter was killed under load ($kills times)" test "$kills" -ge 1
check "imi send and imi tick were killed mid-run ($send_kills, $tick_kills)" \
	test "$send_kills" -ge 1 -a "$tick_kills" -ge 1
check "every outbox message reached the relay ($out_sent of $out_total, lost $out_lost)" \
	test "$out_lost" = 0 -a "$out_sent" = "$out_total"
check "the outbox is empty at the end ($out_left left)" test "$out_left" = 0
check "no gap in any case's outbox numbering ($gaps)" test "$gaps" = 0
check "every copy the relay got is an outbox message, duplicates by Message-ID ($unknown unknown)" \
	test "$unknown" = 0
check "each case is answered" test "$(imi case list | awk -F'\t' '$3 == "answered"' | wc -l)" = "$CASES"

# ---- the store ---------------------------------------------------------------
out=$(imi check 2>&1)
check "imi check: every index agrees with its database" grep -q '^store is consistent' <<<"$out"
grep -q '^store is consistent' <<<"$out" || printf '# %s\n' "$out" | head -n 20
bad=0
for db in "$H"/db/*.db; do
	db5.3_verify -q -h "$H/db" "$db" >>"$WORK/verify.log" 2>&1 || { bad=$((bad + 1)); echo "# db_verify: $db"; }
done
check "db5.3_verify passes on every database ($bad failed)" test "$bad" = 0
echo "# took $((SECONDS - start)) s"
[ "$LIB_FAILED" = 0 ]
