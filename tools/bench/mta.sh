#!/bin/bash
# Through a real MTA (docs/performance.md, "Through Postfix"): a private
# Postfix on 127.0.0.1 takes MTA_N (default 2000) distinct DKIM-signed
# (RSA-2048) replies, SPF-valid for 127.0.0.1, each an ACCEPT of its own
# open case, over MTA_SESSIONS (default 20) concurrent SMTP sessions
# (tools/bench/smtp_load.py), in five set-ups, each on a fresh copy of the
# same home:
#   a  Postfix alone, the service domain to the discard transport
#   b  Postfix with Debian's OpenDKIM verifying (Mode v, unix socket, the key
#      from a TestPublicKeys file, every result but a pass refused), discard
#   c  Postfix with `imi milter` (unix socket): what the store kept ends
#      there (the milter answers DISCARD), the rest to discard
#   p  as c, with [inbound] milter_pass_on = true: Postfix queues every
#      message and delivers it to discard, as it does in a and b
#   d  Postfix piping each message to `imi deliver` (user nobody), at most
#      MTA_PIPE_CONCURRENCY (default 2) at once
# DNS (the DKIM key and SPF record) comes from a private dnsmasq.  A set-up's
# time runs from the first connection until Postfix's queue is empty and, for
# c, p and d, the store holds every message (counted in `imi audit`).  A round
# runs the set-ups in the order a b c p d, the next round d p c b a, and so on;
# the ratios c/a, c/b, p/b, d/c are taken within each round and their median over
# MTA_ROUNDS rounds (default 3) is reported, with each set-up's rates.
# The milter's peak RSS (VmHWM) is read after each round's (c), and once
# more after MTA_BIG (default 20) messages of MTA_BIG_MB (default 10) MB
# each, sent to the milter over as many concurrent sessions.
# Needs root (Postfix), postfix, dnsmasq, python3; opendkim for (b) (that
# row is skipped without it).  Prints Markdown on stdout; servers are
# stopped and files removed at the end.
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
BIG=${MTA_BIG:-20}
BIG_MB=${MTA_BIG_MB:-10}
# Concurrent `imi deliver` processes Postfix runs: the pipe service's maxproc
# (with one recipient a delivery, the destination concurrency limit applies per
# recipient and bounds nothing).
PIPE_CONC=${MTA_PIPE_CONCURRENCY:-2}
for c in postfix postconf dnsmasq python3 ss; do
	command -v $c >/dev/null || { echo "mta: $c is not installed" >&2; exit 1; }
done
OPENDKIM=$(command -v opendkim || true)
MODES=${MTA_MODES:-a b c p d}   # fewer set-ups, e.g. to profile one
[ -n "$OPENDKIM" ] || MODES=$(echo "$MODES" | sed 's/b//')
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
dns_server = 127.0.0.1:$DNS_PORT
[limits]
max_message_bytes = $((BIG_MB * 1048576 * 3 / 2))" || fail "imi init"
imi0() { "$IMI" --home "$H0" "$@"; }
imi0 authority add --id bench-a --country FR --language fr --name 'fr=A' \
	--area professional-qualifications --postbox imi@a.fr --domain a.fr >/dev/null
imi0 authority add --id bench-b --country DE --language de --name 'de=B' \
	--area professional-qualifications --postbox imi@b.de --domain b.de >/dev/null
imi0 user add --email jan@b.de --authority bench-b --role handler >/dev/null
FILL_REPLY_TO=$WORK/cases.tsv "$fill" "$H0" cases "$((N + BIG))" "$(date -u +%Y-%m-%dT%H:%M:%S)" >/dev/null ||
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

# The messages: ACCEPT of each case, a short text and the quoted request;
# the last BIG cases' messages also carry an attachment, BIG_MB MB in all.
mkdir -p "$WORK/msg" "$WORK/big"
head -c $((BIG_MB * 1048576 * 3 / 4 - 4096)) /dev/urandom | base64 -w 76 >"$WORK/attachment.b64"
i=0
while IFS=$'\t' read -r case_id rcpt; do
	i=$((i + 1))
	f=$WORK/msg/$i.eml
	[ "$i" -gt "$N" ] && f=$WORK/big/$i.eml
	{
		echo "From: Jan Becker <jan@b.de>"
		echo "To: $rcpt"
		echo "Subject: ACCEPT [$case_id]"
		echo "Message-ID: <load$i.$$@b.de>"
		echo "Date: $(date -R)"
		echo "In-Reply-To: <$case_id.1.request@imi.localhost>"
		echo "MIME-Version: 1.0"
		if [ "$i" -gt "$N" ]; then
			echo 'Content-Type: multipart/mixed; boundary="bench-boundary"'
			echo
			echo "--bench-boundary"
		fi
		echo "Content-Type: text/plain; charset=utf-8"
		echo "Content-Transfer-Encoding: 8bit"
		echo
		printf 'Wir übernehmen das Ersuchen.\n\nMit freundlichen Grüßen\nJan Becker\n\n'
		printf '> Auskunftsersuchen %s\n> Bitte beantworten Sie die folgenden Fragen bis zum Stichtag.\n' "$case_id"
		for q in 1 2 3 4 5 6 7 8 9 10; do printf '> Q%d: Frage %d zur Berufsqualifikation des Antragstellers.\n' $q $q; done
		printf '> \n> Mit freundlichen Grüßen\n> IMI\n'
		if [ "$i" -gt "$N" ]; then
			echo "--bench-boundary"
			echo "Content-Type: application/pdf; name=diploma.pdf"
			echo "Content-Disposition: attachment; filename=diploma.pdf"
			echo "Content-Transfer-Encoding: base64"
			echo
			cat "$WORK/attachment.b64"
			echo "--bench-boundary--"
		fi
	} >"$f.plain"
	if [ "$i" -gt "$N" ]; then
		printf 'jan@b.de\t%s\t%s\n' "$rcpt" "$f" >>"$WORK/big.tsv"
	else
		printf 'jan@b.de\t%s\t%s\n' "$rcpt" "$f" >>"$WORK/list.tsv"
	fi
done <"$WORK/cases.tsv"
ls "$WORK"/msg/*.plain "$WORK"/big/*.plain | xargs -P 2 -n 1 sh -c \
	'"$0" --home "$1" auth sign --selector s1 --domain b.de --key "$2" "$3" >"${3%.plain}"' \
	"$IMI" "$H0" "$WORK/dkim.pem" 2>>"$WORK/log" ||
	true
rm -f "$WORK"/msg/*.plain "$WORK"/big/*.plain "$WORK/attachment.b64"
[ "$(ls "$WORK"/msg/*.eml | wc -l)" = "$N" ] || fail "signing the messages"
[ "$(ls "$WORK"/big/*.eml | wc -l)" = "$BIG" ] || fail "signing the big messages"
size=$(cat "$WORK"/msg/*.eml | wc -c)
big_size=$(cat "$WORK"/big/*.eml | wc -c)
chmod -R a+rX "$WORK/msg" "$WORK/big"

# OpenDKIM for (b): a configuration of its own, verifying only, the public
# key from a file (Debian's opendkim resolves with libunbound, not through
# the private dnsmasq); anything but a pass is refused, so that a message it
# did not verify fails the run instead of passing unnoticed.
ODKIM_SOCK=$WORK/opendkim/opendkim.sock
if [ -n "$OPENDKIM" ]; then
	mkdir -p "$WORK/opendkim"
	printf 's1._domainkey.b.de v=DKIM1; k=rsa; p=%s\n' "$pub" >"$WORK/opendkim/keys"
	cat >"$WORK/opendkim/opendkim.conf" <<EOF
Mode v
Socket local:$ODKIM_SOCK
UMask 000
PidFile $WORK/opendkim/opendkim.pid
Syslog no
Background no
TestPublicKeys $WORK/opendkim/keys
InternalHosts 192.0.2.1
On-BadSignature reject
On-KeyNotFound reject
On-NoSignature reject
On-SignatureError reject
On-DNSError tempfail
On-InternalError tempfail
EOF
	chmod -R a+rX "$WORK/opendkim"
fi

P=$(lib_free_port)
SOCK=$WORK/milter.sock
pf_start "$WORK/pf" "$P" "relay_domains=imi.localhost" \
	"transport_maps=inline:{imi.localhost=discard:}" "imi_destination_recipient_limit=1" \
	"default_process_limit=100" "smtpd_client_connection_count_limit=0" \
	"milter_default_action=tempfail" "message_size_limit=$((BIG_MB * 1048576 * 3 / 2))" ||
	fail "Postfix starts"
postconf -c "$WORK/pf" -Me "imi/unix=imi unix - n n - $PIPE_CONC pipe flags=Rq user=nobody argv=$IMI --home $WORK/home deliver --sender \${sender} --client-ip \${client_address} --helo \${client_helo} --recipient \${original_recipient}"

# setup MODE: Postfix configured for MODE, a fresh home.
setup() {
	rm -rf "$WORK/home"
	cp -a "$H0" "$WORK/home"
	case $1 in
	a) postconf -c "$WORK/pf" -e "smtpd_milters=" "transport_maps=inline:{imi.localhost=discard:}" ;;
	b) postconf -c "$WORK/pf" -e "smtpd_milters=unix:$ODKIM_SOCK" "transport_maps=inline:{imi.localhost=discard:}"
	   rm -f "$ODKIM_SOCK"
	   "$OPENDKIM" -x "$WORK/opendkim/opendkim.conf" -f >>"$WORK/opendkim.log" 2>&1 &
	   ODKIM_PID=$!
	   lib_on_exit "kill $ODKIM_PID 2>/dev/null"
	   lib_wait_listen "$ODKIM_SOCK" || fail "opendkim socket" ;;
	c|p) postconf -c "$WORK/pf" -e "smtpd_milters=unix:$SOCK" "transport_maps=inline:{imi.localhost=discard:}"
	   [ "$1" = p ] && printf '[inbound]\nmilter_pass_on = true\n' >>"$WORK/home/imi.conf"
	   rm -f "$SOCK"
	   # MTA_MILTER_WRAP: a command the milter runs under, e.g.
	   # "perf record -g -o /tmp/milter.perf --" (then the peak RSS is perf's).
	   ${MTA_MILTER_WRAP:-} "$IMI" --home "$WORK/home" milter --socket "unix:$SOCK" >>"$WORK/milter.log" 2>&1 &
	   MILTER_PID=$!
	   lib_on_exit "kill $MILTER_PID 2>/dev/null"
	   lib_wait_listen "$SOCK" || fail "milter socket" ;;
	d) chown -R nobody:nogroup "$WORK/home"
	   postconf -c "$WORK/pf" -e "smtpd_milters=" "transport_maps=inline:{imi.localhost=imi:}" ;;
	esac
	postfix -c "$WORK/pf" reload
	sleep 1.5
}
# cpu_ms PID N FILE: appends to FILE the process's CPU time (user + system)
# per message, in ms, over its life (it serves one set-up's N messages), and
# the system part of it to FILE.sys.
cpu_ms() { awk -v n="$2" -v hz="$(getconf CLK_TCK)" -v sys="$3.sys" '{sub(/^.*\) /, ""); printf "%.2f\n", $13 * 1000 / hz / n >>sys; printf "%.2f\n", ($12 + $13) * 1000 / hz / n}' "/proc/$1/stat" >>"$3"; }
committed() { "$IMI" --home "$WORK/home" audit | grep -c 'inbound\.reply.*<load[0-9]*\.[0-9]*@b\.de>' || true; }
# peak_kb PID: the peak resident set size of a running process, in KB.
peak_kb() { grep -E "^(VmHWM|VmRSS|RssAnon|RssFile|RssShmem)" "/proc/$1/status" | tr -s " \t" " " | tr "\n" ";" >>"$WORK/milter_rss.log"; echo >>"$WORK/milter_rss.log"; sed -n "s/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"; }
# busy: the machine's busy and idle clock ticks since boot, all CPUs
# (/proc/stat: user, nice, system, irq, softirq; idle, iowait).
busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8, $5 + $6}' /proc/stat; }
# run MODE [LIST COUNT]: prints the seconds from the first connection until
# the queue is empty and, for c and d, the store has COUNT (default N)
# messages of LIST (default list.tsv).
run() {
	local t0 t1 b0 k list=${2:-$WORK/list.tsv} n=${3:-$N}
	setup "$1"
	b0=$(busy)
	t0=$(date +%s%N)
	python3 "$IMI_SRC/tools/bench/smtp_load.py" 127.0.0.1 "$P" "$SESSIONS" "$list" >&2 ||
		fail "set-up $1: messages refused"
	for ((k = 0; k < 12000; k++)); do
		if [ "$(pf_queued "$WORK/pf")" = 0 ]; then
			{ [ "$1" = a ] || [ "$1" = b ]; } && break
			[ "$(committed)" -ge "$n" ] && break
		fi
		sleep 0.05
	done
	t1=$(date +%s%N)
	# Every process's CPU over the set-up's load, per message: Postfix,
	# the filter, the kernel (the disk's journal among it), the client.
	echo "$b0 $(busy)" | awk -v n="$n" -v hz="$(getconf CLK_TCK)" \
		'{printf "%.2f %.0f\n", ($3 - $1) * 1000 / hz / n, 100 * ($4 - $2) / ($3 - $1 + $4 - $2)}' \
		>>"$WORK/machine.$1.$n"
	if [ "$1" = c ] || [ "$1" = p ] || [ "$1" = d ]; then
		got=$(committed)
		[ "$got" = "$n" ] || fail "set-up $1: the store committed $got of $n"
		accepted=$("$IMI" --home "$WORK/home" audit | grep -c 'request\.step.*action=accept' || true)
		[ "$accepted" = "$n" ] || fail "set-up $1: $accepted of $n ACCEPTs applied"
	fi
	if [ "$1" = b ]; then
		cpu_ms "$ODKIM_PID" "$n" "$WORK/cpu.b.$n"
		kill "$ODKIM_PID"
		wait "$ODKIM_PID" 2>/dev/null || true
	fi
	if [ "$1" = c ] || [ "$1" = p ]; then
		[ "$1" = c ] && peak_kb "$MILTER_PID" >>"$WORK/milter_peak.$n"
		cpu_ms "$MILTER_PID" "$n" "$WORK/cpu.$1.$n"
		kill "$MILTER_PID"
		wait "$MILTER_PID" 2>/dev/null || true
	fi
	awk -v d=$((t1 - t0)) 'BEGIN {printf "%.3f\n", d / 1e9}'
}
reverse=$(echo "$MODES" | tr ' ' '\n' | tac | tr '\n' ' ')
for ((r = 0; r < ROUNDS; r++)); do
	if [ $((r % 2)) = 0 ]; then order=$MODES; else order=$reverse; fi
	for m in $order; do
		echo "$r $m $(run $m)" >>"$WORK/times"
	done
done
# The big messages, once, to the milter: its peak memory.
if [ "$BIG" -gt 0 ]; then
	SESSIONS=$BIG run c "$WORK/big.tsv" "$BIG" >"$WORK/big.time"
fi

t() { awk -v r="$1" -v m="$2" '$1 == r && $2 == m {print $3}' "$WORK/times"; }
median() { sort -n | awk '{v[NR] = $1} END {if (NR) print v[int((NR + 1) / 2)]; else print "-"}'; }
# ratio X Y: rate(X)/rate(Y) = time(Y)/time(X) within each round; the median.
ratio() {
	for ((r = 0; r < ROUNDS; r++)); do
		awk -v x="$(t $r "$1")" -v y="$(t $r "$2")" 'BEGIN {if (x > 0 && y > 0) printf "%.3f\n", y / x}'
	done | median | awk '{printf ($1 == "-" ? "-" : "%.2f"), $1}'
}
rates() { for ((r = 0; r < ROUNDS; r++)); do t $r "$1"; done | awk -v n="$N" '{printf "%.0f ", n / $1}'; }
medrate() { for ((r = 0; r < ROUNDS; r++)); do t $r "$1"; done | median | awk -v n="$N" '{printf "%.0f", n / $1}'; }
{
	echo "$N messages ($(awk -v s="$size" -v n="$N" 'BEGIN {printf "%.1f", s / n / 1024}') KB on average), $SESSIONS sessions, $ROUNDS rounds ($MODES, then the reverse, ...), at most $PIPE_CONC \`imi deliver\` at once in (d). Every message of (c), (p) and (d) was counted committed in the store and its ACCEPT applied; every message of (b) passed OpenDKIM's verification (it refuses anything else)."
	echo
	echo "| set-up | messages/s (median) | each round |"
	echo "|---|---:|---|"
	for m in $MODES; do
		case $m in a) name="(a) Postfix alone, discard" ;; b) name="(b) Postfix + OpenDKIM verifying" ;;
		c) name="(c) Postfix + \`imi milter\`" ;;
		p) name="(p) as (c), milter_pass_on = true: Postfix queues and discards each message" ;; d) name="(d) Postfix, pipe to \`imi deliver\`" ;; esac
		echo "| $name | $(medrate $m) | $(rates $m)|"
	done
	[ -n "$OPENDKIM" ] || echo "| (b) Postfix + OpenDKIM | skipped: opendkim is not installed (apt-get install opendkim) | |"
	echo
	echo "| ratio of messages/s, per round, median | value | target |"
	echo "|---|---:|---|"
	echo "| c/a | $(ratio c a) | |"
	if [ -n "$OPENDKIM" ]; then echo "| c/b | $(ratio c b) | ≥ 1.0 |"; fi
	if [ -n "$OPENDKIM" ] && [[ " $MODES " == *" p "* ]]; then echo "| p/b (the filter alone, Postfix queueing as in b) | $(ratio p b) | |"; fi
	echo "| d/c | $(ratio d c) | |"
	echo
	echo "| the whole machine's CPU time per message (ms; % idle), each round | (a) | (b) | (c) | (p) | (d) |"
	echo "|---|---:|---:|---:|---:|---:|"
	echo "| all processes and the kernel, from /proc/stat |$(for m in a b c p d; do printf ' %s |' "$(awk '{printf "%s (%s%%) ", $1, $2}' "$WORK/machine.$m.$N" 2>/dev/null)"; done)"
	echo
	if [ -s "$WORK/cpu.b.$N" ] || [ -s "$WORK/cpu.c.$N" ]; then
		# The filter's own CPU per message: what a set-up costs beside
		# Postfix, whatever else the machine runs at the time.
		echo "| CPU time of the filter process per message (ms), each round | (b) opendkim | (c) \`imi milter\` | (p) \`imi milter\` |"
		echo "|---|---:|---:|---:|"
		echo "| user + system, from /proc/PID/stat | $(tr '\n' ' ' <"$WORK/cpu.b.$N" 2>/dev/null)| $(tr '\n' ' ' <"$WORK/cpu.c.$N" 2>/dev/null)| $(tr '\n' ' ' <"$WORK/cpu.p.$N" 2>/dev/null)|"
		echo "| of which system | $(tr '\n' ' ' <"$WORK/cpu.b.$N.sys" 2>/dev/null)| $(tr '\n' ' ' <"$WORK/cpu.c.$N.sys" 2>/dev/null)| $(tr '\n' ' ' <"$WORK/cpu.p.$N.sys" 2>/dev/null)|"
		echo
	fi
	echo "| \`imi milter\` peak RSS (VmHWM) | MB | target |"
	echo "|---|---:|---|"
	echo "| after the load above (each round's (c)) | $(awk '{printf "%.1f ", $1 / 1024}' "$WORK/milter_peak.$N")| < 64 |"
	if [ "$BIG" -gt 0 ]; then
		echo "| $BIG messages of $(awk -v s="$big_size" -v n="$BIG" 'BEGIN {printf "%.1f", s / n / 1048576}') MB over $BIG concurrent sessions ($(cat "$WORK/big.time") s, all committed) | $(awk '{printf "%.1f", $1 / 1024}' "$WORK/milter_peak.$BIG") | < 400 |"
	fi
} >&3
if [ -n "${BENCH_SUMMARY:-}" ]; then
	[ -n "$OPENDKIM" ] && echo "(1) (c) Postfix + imi milter ≥ 1.0 of (b) Postfix + OpenDKIM ($N messages)|c/b $(ratio c b) (c $(medrate c)/s, b $(medrate b)/s, a $(medrate a)/s)" >>"$BENCH_SUMMARY"
	[ -s "$WORK/cpu.c.$N" ] && echo "(1) CPU per message of the filter process, (b) opendkim / (c) imi milter (median of the rounds)|$(sort -n "$WORK/cpu.b.$N" 2>/dev/null | awk '{v[NR]=$1} END {if (NR) printf "%.2f", v[int((NR+1)/2)]; else printf "-"}') ms / $(sort -n "$WORK/cpu.c.$N" | awk '{v[NR]=$1} END {printf "%.2f", v[int((NR+1)/2)]}') ms" >>"$BENCH_SUMMARY"
	echo "(5) milter peak RSS under 64 MB at the load of (1)|$(sort -n "$WORK/milter_peak.$N" | tail -1 | awk '{printf "%.1f MB", $1 / 1024}')" >>"$BENCH_SUMMARY"
	[ "$BIG" -gt 0 ] && echo "(5) milter peak RSS under 400 MB, $BIG concurrent ${BIG_MB} MB messages|$(awk '{printf "%.1f MB", $1 / 1024}' "$WORK/milter_peak.$BIG")" >>"$BENCH_SUMMARY"
fi
