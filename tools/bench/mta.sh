#!/bin/bash
# Through a real MTA (docs/performance.md, "Through Postfix"): a private
# Postfix on 127.0.0.1 takes MTA_N (default 2000) distinct DKIM-signed
# (RSA-2048) replies, SPF-valid for 127.0.0.1, each an ACCEPT of its own
# open case, over MTA_SESSIONS (default 20) concurrent SMTP sessions
# (tools/bench/smtp_load.py), in three set-ups, each on a fresh copy of the
# same home:
#   a  Postfix alone, the service domain to the discard transport
#   c  Postfix with `imi milter` (unix socket), then discard
#   d  Postfix piping each message to `imi deliver` (user nobody), at most
#      MTA_PIPE_CONCURRENCY (default 2) at once
# DNS (the DKIM key and SPF record) comes from a private dnsmasq.  A set-up's
# time runs from the first connection until Postfix's queue is empty and, for
# c and d, the store holds every message (counted in `imi audit`).  Each
# set-up runs MTA_ROUNDS times (default 3), alternating a, c, d; the median
# is reported.  Needs root (Postfix), postfix, dnsmasq, python3.  Prints
# Markdown on stdout; servers are stopped and files removed at the end.
set -eu
IMI_SRC=${IMI_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
cd "$IMI_SRC"
make --no-print-directory "$BUILD/imi" "$BUILD/bench/fill_store" >/dev/null
export IMI=$IMI_SRC/$BUILD/imi IMI_SRC
export IMI_DATADIR=$IMI_SRC
fill=$IMI_SRC/$BUILD/bench/fill_store
N=${MTA_N:-2000}
SESSIONS=${MTA_SESSIONS:-20}
ROUNDS=${MTA_ROUNDS:-3}
# Concurrent `imi deliver` processes Postfix runs: the pipe service's maxproc
# (with one recipient a delivery, the destination concurrency limit applies per
# recipient and bounds nothing).
PIPE_CONC=${MTA_PIPE_CONCURRENCY:-2}
for c in postfix postconf dnsmasq python3 ss; do
	command -v $c >/dev/null || { echo "mta: $c is not installed" >&2; exit 1; }
done
. "$IMI_SRC/tests/integration/lib.sh"
lib_init bench-mta
exec 3>&1 >"$WORK/log" 2>&1   # the table on fd 3, the rest in the log
trap 'lib_cleanup; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
fail() { echo "mta: $*" >&3; tail -n 20 "$WORK/log" >&3; LIB_FAILED=1; exit 1; }

DNS_PORT=$(lib_free_port)
H0=$WORK/home.clean
imi_home "$H0" "[service]
domain = imi.localhost
[inbound]
dns_server = 127.0.0.1:$DNS_PORT" || fail "imi init"
imi0() { "$IMI" --home "$H0" "$@"; }
imi0 authority add --id bench-a --country FR --language fr --name 'fr=A' \
	--area professional-qualifications --postbox imi@a.fr --domain a.fr >/dev/null
imi0 authority add --id bench-b --country DE --language de --name 'de=B' \
	--area professional-qualifications --postbox imi@b.de --domain b.de >/dev/null
imi0 user add --email jan@b.de --authority bench-b --role handler >/dev/null
FILL_REPLY_TO=$WORK/cases.tsv "$fill" "$H0" cases "$N" "$(date -u +%Y-%m-%dT%H:%M:%S)" >/dev/null ||
	fail "fill_store"

openssl genrsa -traditional -out "$WORK/dkim.pem" 2048 2>/dev/null
pub=$(openssl rsa -in "$WORK/dkim.pem" -pubout -outform DER 2>/dev/null | base64 -w0)
mkdir -p "$WORK/dns"
dnsmasq -C /dev/null -k --port="$DNS_PORT" --listen-address=127.0.0.1 --bind-interfaces \
	--no-resolv --no-hosts --pid-file="$WORK/dns/dnsmasq.pid" --log-facility="$WORK/dns/dnsmasq.log" \
	"--txt-record=s1._domainkey.b.de,v=DKIM1; k=rsa; p=${pub:0:250},${pub:250}" \
	"--txt-record=b.de,v=spf1 ip4:127.0.0.1 -all" &
lib_on_exit "kill $!"
sleep 0.3

# The messages: ACCEPT of each case, a short text and the quoted request.
mkdir -p "$WORK/msg"
i=0
while IFS=$'\t' read -r case_id rcpt; do
	i=$((i + 1))
	f=$WORK/msg/$i.eml
	{
		echo "From: Jan Becker <jan@b.de>"
		echo "To: $rcpt"
		echo "Subject: ACCEPT [$case_id]"
		echo "Message-ID: <load$i.$$@b.de>"
		echo "Date: $(date -R)"
		echo "In-Reply-To: <$case_id.1.request@imi.localhost>"
		echo "MIME-Version: 1.0"
		echo "Content-Type: text/plain; charset=utf-8"
		echo "Content-Transfer-Encoding: 8bit"
		echo
		printf 'Wir übernehmen das Ersuchen.\n\nMit freundlichen Grüßen\nJan Becker\n\n'
		printf '> Auskunftsersuchen %s\n> Bitte beantworten Sie die folgenden Fragen bis zum Stichtag.\n' "$case_id"
		for q in 1 2 3 4 5 6 7 8 9 10; do printf '> Q%d: Frage %d zur Berufsqualifikation des Antragstellers.\n' $q $q; done
		printf '> \n> Mit freundlichen Grüßen\n> IMI\n'
	} >"$f.plain"
	printf 'jan@b.de\t%s\t%s\n' "$rcpt" "$f" >>"$WORK/list.tsv"
done <"$WORK/cases.tsv"
ls "$WORK"/msg/*.plain | xargs -P 2 -n 1 sh -c \
	'"$0" --home "$1" auth sign --selector s1 --domain b.de --key "$2" "$3" >"${3%.plain}"' \
	"$IMI" "$H0" "$WORK/dkim.pem" 2>>"$WORK/log" ||
	true
[ "$(ls "$WORK"/msg/*.eml | wc -l)" = "$N" ] || fail "signing the messages"
size=$(cat "$WORK"/msg/*.eml | wc -c)
chmod -R a+rX "$WORK/msg"

P=$(lib_free_port)
SOCK=$WORK/milter.sock
pf_start "$WORK/pf" "$P" "relay_domains=imi.localhost" \
	"transport_maps=inline:{imi.localhost=discard:}" "imi_destination_recipient_limit=1" \
	"default_process_limit=100" "smtpd_client_connection_count_limit=0" \
	"milter_default_action=tempfail" ||
	fail "Postfix starts"
postconf -c "$WORK/pf" -Me "imi/unix=imi unix - n n - $PIPE_CONC pipe flags=Rq user=nobody argv=$IMI --home $WORK/home deliver --sender \${sender} --client-ip \${client_address} --helo \${client_helo} --recipient \${original_recipient}"

# setup MODE: Postfix configured for MODE, a fresh home.
setup() {
	rm -rf "$WORK/home"
	cp -a "$H0" "$WORK/home"
	case $1 in
	a) postconf -c "$WORK/pf" -e "smtpd_milters=" "transport_maps=inline:{imi.localhost=discard:}" ;;
	c) postconf -c "$WORK/pf" -e "smtpd_milters=unix:$SOCK" "transport_maps=inline:{imi.localhost=discard:}"
	   rm -f "$SOCK"
	   "$IMI" --home "$WORK/home" milter --socket "unix:$SOCK" >>"$WORK/milter.log" 2>&1 &
	   MILTER_PID=$!
	   lib_wait_listen "$SOCK" || fail "milter socket" ;;
	d) chown -R nobody:nogroup "$WORK/home"
	   postconf -c "$WORK/pf" -e "smtpd_milters=" "transport_maps=inline:{imi.localhost=imi:}" ;;
	esac
	postfix -c "$WORK/pf" reload
	sleep 1.5
}
committed() { "$IMI" --home "$WORK/home" audit | grep -c 'inbound\.reply.*<load[0-9]*\.[0-9]*@b\.de>' || true; }
# run MODE: prints the seconds until the queue is empty and the store has N.
run() {
	local t0 t1 k
	setup "$1"
	t0=$(date +%s%N)
	python3 "$IMI_SRC/tools/bench/smtp_load.py" 127.0.0.1 "$P" "$SESSIONS" "$WORK/list.tsv" >&2 ||
		fail "set-up $1: messages refused"
	for ((k = 0; k < 6000; k++)); do
		if [ "$(pf_queued "$WORK/pf")" = 0 ]; then
			[ "$1" = a ] && break
			[ "$(committed)" -ge "$N" ] && break
		fi
		sleep 0.05
	done
	t1=$(date +%s%N)
	if [ "$1" != a ]; then
		got=$(committed)
		[ "$got" = "$N" ] || fail "set-up $1: the store committed $got of $N"
		accepted=$("$IMI" --home "$WORK/home" audit | grep -c 'request\.step.*action=accept' || true)
		[ "$accepted" = "$N" ] || fail "set-up $1: $accepted of $N ACCEPTs applied"
	fi
	[ "$1" = c ] && { kill "$MILTER_PID"; wait "$MILTER_PID" 2>/dev/null || true; }
	awk -v d=$((t1 - t0)) 'BEGIN {printf "%.3f\n", d / 1e9}'
}
for ((r = 0; r < ROUNDS; r++)); do
	for m in a c d; do
		echo "$m $(run $m)" >>"$WORK/times"
	done
done
med() { awk -v m="$1" '$1 == m {print $2}' "$WORK/times" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ta=$(med a) tc=$(med c) td=$(med d)
rate() { awk -v n="$N" -v t="$1" 'BEGIN {printf "%.0f", n / t}'; }
{
	echo "$N messages ($(awk -v s="$size" -v n="$N" 'BEGIN {printf "%.1f", s / n / 1024}') KB on average), $SESSIONS sessions, median of $ROUNDS rounds (a, c, d alternating), at most $PIPE_CONC \`imi deliver\` at once in (d); every message of c and d counted in the store."
	echo
	echo "| set-up | seconds (median) | messages/s | all rounds (s) |"
	echo "|---|---:|---:|---|"
	for m in a c d; do
		case $m in a) name="(a) Postfix alone, discard" ;; c) name="(c) Postfix + \`imi milter\`" ;; d) name="(d) Postfix, pipe to \`imi deliver\`" ;; esac
		echo "| $name | $(med $m) | $(rate "$(med $m)") | $(awk -v m=$m '$1 == m {printf "%s ", $2}' "$WORK/times") |"
	done
	echo
	echo "Ratios: c/a $(awk -v a="$ta" -v c="$tc" 'BEGIN {printf "%.2f", a / c}'), d/c $(awk -v c="$tc" -v d="$td" 'BEGIN {printf "%.2f", c / d}') (of messages per second)."
} >&3
