# lib.sh: servers for the integration tests, each a private instance in the
# test's own directory, listening on 127.0.0.1 only.  Source it; call
# lib_init first (it sets WORK and the exit trap that stops everything).
#
#   lib_init NAME            WORK=temp dir, trap cleanup, counters
#   ok / not_ok / check      TAP lines
#   lib_free_port            a TCP port nobody listens on
#   pf_start DIR PORT [postconf settings...]   a private Postfix
#   pf_stop DIR
#   dovecot_start DIR PORT USER PASS          a private dovecot (IMAP+POP3)
#   sink_start DIR PORT [smtp-sink options]   smtp-sink writing to DIR
#   imi_home DIR [conf lines]                 imi init with an imi.conf
#   milter_start HOME SOCK [ro]               imi milter in a mount namespace
#   milter_kill                               SIGKILL it, wait for its end
#   pf_drain DIR SECONDS                      wait for an empty queue
#   dkim_key FILE                             an RSA key; prints the p= value

# Run on its own (tests/run.sh runs every script here) it does nothing.
[[ "${BASH_SOURCE[0]}" == "$0" ]] && exit 0

: "${IMI:?IMI must name the imi binary}"
: "${IMI_SRC:?IMI_SRC must name the source tree}"

LIB_CLEANUP=()
LIB_FAILED=0

lib_init() {
	# Under /tmp, not the source tree: the servers' own users (postfix,
	# dovecot) must reach their files, and a checkout's parents may be
	# closed to them.
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/imi-test-$1-XXXXXX")
	chmod 755 "$WORK" # smtpd (user postfix) must reach sockets inside
	trap lib_cleanup EXIT
}

lib_cleanup() {
	local i
	for ((i = ${#LIB_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${LIB_CLEANUP[$i]}" >/dev/null 2>&1 || true
	done
	if [ "$LIB_FAILED" = 0 ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$WORK"
	else
		echo "# files kept in $WORK"
	fi
}

lib_on_exit() { LIB_CLEANUP+=("$1"); }

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; LIB_FAILED=1; }
# check "what" COMMAND...: ok when the command succeeds.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

lib_free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((20000 + RANDOM % 30000))
		if ! ss -Htln "sport = :$p" | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# lib_wait_listen PORT|PATH [SECONDS]: waits (10 s unless told) until
# something listens on 127.0.0.1:PORT (or a unix socket path exists).
lib_wait_listen() {
	local what=$1
	for _ in $(seq 1 $((${2:-10} * 10))); do
		case "$what" in
		/*) [ -S "$what" ] && return 0 ;;
		*) ss -Htln "sport = :$what" | grep -q . && return 0 ;;
		esac
		sleep 0.1
	done
	return 1
}

# pf_start DIR PORT [name=value ...]: a Postfix instance of its own (config,
# queue and data in DIR), smtpd on 127.0.0.1:PORT, nothing else listening.
pf_start() {
	local dir=$1 port=$2
	shift 2
	mkdir -p "$dir/queue" "$dir/data"
	cp /etc/postfix/master.cf "$dir/master.cf"
	cp /usr/share/postfix/main.cf.debian "$dir/main.cf"
	postconf -c "$dir" -e \
		"queue_directory=$dir/queue" "data_directory=$dir/data" \
		"maillog_file=$dir/postfix.log" "maillog_file_prefixes=$dir" "syslog_name=postfix-$(basename "$dir")" \
		"inet_interfaces=127.0.0.1" "inet_protocols=ipv4" "mynetworks=127.0.0.0/8" \
		"myhostname=$(basename "$dir").test" "mydestination=" "relayhost=" \
		"smtpd_relay_restrictions=permit_mynetworks,reject" \
		"in_flow_delay=0" "compatibility_level=3.6" "alias_maps=" "alias_database=" \
		"smtp_tls_security_level=none" "smtpd_tls_security_level=none" \
		"queue_run_delay=1s" "minimal_backoff_time=1s" "maximal_backoff_time=2s" \
		"shlib_directory=/usr/lib/postfix" "$@" 2>&1 | grep -v 'ignoring earlier request' >&2
	postconf -c "$dir" -M# smtp/inet
	postconf -c "$dir" -Me "127.0.0.1:$port/inet=127.0.0.1:$port inet n - n - - smtpd"
	postconf -c "$dir" -Me 'postlog/unix-dgram=postlog unix-dgram n - n - 1 postlogd'
	postconf -c "$dir" -F '*/*/chroot = n'
	chown -R postfix "$dir/data"
	postfix -c "$dir" set-permissions >/dev/null 2>&1
	lib_on_exit "postfix -c '$dir' stop"
	# postfix start reports only to syslog; under script(1) it says why.
	if ! script -qc "postfix -c '$dir' start" "$dir/start.log" >/dev/null 2>&1; then
		grep -a fatal "$dir/start.log" >&2
		return 1
	fi
	lib_wait_listen "$port"
}

pf_stop() { postfix -c "$1" stop >/dev/null 2>&1 || true; }

# Messages still in a Postfix instance's queue.
pf_queued() { find "$1/queue/incoming" "$1/queue/active" "$1/queue/deferred" -type f 2>/dev/null | wc -l; }

# lib_cert DIR: a self-signed certificate DIR/cert.pem, key DIR/key.pem.
lib_cert() {
	mkdir -p "$1"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
		-keyout "$1/key.pem" -out "$1/cert.pem" >/dev/null 2>&1
	chmod 644 "$1/key.pem" "$1/cert.pem"
}

# dovecot_start DIR PORT_IMAP PORT_POP3 USER PASS: Maildir in DIR/mail.
# With DOVECOT_TLS=IMAPS_PORT: TLS on (STARTTLS, STLS, and imaps on that
# port), and a SASL socket DIR/base/auth-postfix for Postfix's smtpd.
dovecot_start() {
	local dir=$1 port=$2 pport=$3 user=$4 pass=$5 ssl="ssl = no" imaps=0
	if [ -n "${DOVECOT_TLS:-}" ]; then
		lib_cert "$dir/tls"
		ssl="ssl = yes
ssl_cert = <$dir/tls/cert.pem
ssl_key = <$dir/tls/key.pem"
		imaps=$DOVECOT_TLS
	fi
	mkdir -p "$dir/base" "$dir/mail"
	chmod 755 "$dir" "$dir/base"
	echo "$user:{PLAIN}$pass:$(id -u dovenull):$(id -g dovenull)::$dir/mail" >"$dir/passwd"
	chown -R dovenull "$dir/mail"
	cat >"$dir/dovecot.conf" <<CONF
base_dir = $dir/base
instance_name = imi-test-$(basename "$dir")
protocols = imap pop3
listen = 127.0.0.1
$ssl
first_valid_uid = 1
first_valid_gid = 1
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:$dir/mail
log_path = $dir/dovecot.log
default_login_user = dovenull
default_internal_user = dovenull
default_internal_group = dovenull
passdb {
  driver = passwd-file
  args = $dir/passwd
}
userdb {
  driver = passwd-file
  args = $dir/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $imaps
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $pport
  }
  inet_listener pop3s {
    port = 0
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
CONF
	lib_on_exit "dovecot -c '$dir/dovecot.conf' stop"
	dovecot -c "$dir/dovecot.conf" || return 1
	lib_wait_listen "$port"
}

# sink_start DIR PORT [smtp-sink options]: one file per message in DIR
# (smtp-sink -d: the envelope as X-* lines, then the message).
sink_start() {
	local dir=$1 port=$2
	shift 2
	mkdir -p "$dir"
	chown postfix "$dir"
	smtp-sink -u postfix -d "$dir/%H%M%S." "$@" "127.0.0.1:$port" 100 &
	SINK_PID=$!
	lib_on_exit "kill $SINK_PID"
	lib_wait_listen "$port"
}

# dns_start DIR PORT NAME TEXT: dnsmasq answering one TXT record (split into
# 250-byte strings, as a zone file would) on 127.0.0.1:PORT.
dns_start() {
	local dir=$1 port=$2 name=$3 text=$4 parts=""
	mkdir -p "$dir"
	while [ -n "$text" ]; do
		parts="$parts,${text:0:250}"
		text=${text:250}
	done
	dnsmasq -C /dev/null -k --port="$port" --listen-address=127.0.0.1 --bind-interfaces \
		--no-resolv --no-hosts --pid-file="$dir/dnsmasq.pid" --log-facility="$dir/dnsmasq.log" \
		"--txt-record=$name$parts" &
	DNS_PID=$!
	lib_on_exit "kill $DNS_PID"
	sleep 0.3
}

# imi_home DIR [conf text]: imi init, with imi.conf when given.
imi_home() {
	local dir=$1
	mkdir -p "$dir"
	[ -n "${2:-}" ] && printf '%s\n' "$2" >"$dir/imi.conf"
	"$IMI" --home "$dir" init >"$dir/init.out" || return 1
}

# milter_start HOME SOCK [ro]: imi -v milter on unix:SOCK (log: WORK/milter.log,
# pid in MILTER_PID and WORK/milter.pid), in a mount namespace of its own
# with HOME/db bind-mounted onto itself (read-only with "ro"), so that only
# the milter sees the store change when a test remounts it.
milter_start() {
	local home=$1 sock=$2 ro=""
	[ "${3:-}" = ro ] && ro="&& mount -o remount,bind,ro '$home/db' '$home/db'"
	rm -f "$sock"
	unshare --mount --propagation private sh -c \
		"mount --bind '$home/db' '$home/db' $ro && exec '$IMI' -v --home '$home' milter --socket 'unix:$sock'" \
		>>"$WORK/milter.log" 2>&1 &
	MILTER_PID=$!
	echo "$MILTER_PID" >"$WORK/milter.pid"
	[ -n "${LIB_MILTER_CLEANUP:-}" ] || lib_on_exit 'kill "$(cat "$WORK/milter.pid")"'
	LIB_MILTER_CLEANUP=1
	# Opening the store may first wait for recovery after a killed process.
	if ! lib_wait_listen "$sock" "${MILTER_WAIT:-60}"; then
		# MILTER_QUIET=1: the caller handles a milter that does not come up.
		[ "${MILTER_QUIET:-0}" = 1 ] && return 1
		not_ok "milter socket appears"
		tail -n 5 "$WORK/milter.log"
		# Where it waits, for whoever reads the log.
		command -v gdb >/dev/null && gdb -p "$MILTER_PID" -batch -ex "thread apply all bt 12" 2>/dev/null |
			grep -E '^(#|Thread)' | head -n 40 | sed 's/^/# /'
		return 1
	fi
}

# milter_kill [SIGNAL]: stops the milter of milter_start (SIGKILL unless
# told otherwise) and waits until it is gone; its wait status in
# MILTER_STATUS (128 + the signal that ended it).
milter_kill() {
	kill "-${1:-KILL}" "$MILTER_PID" 2>/dev/null
	wait "$MILTER_PID" 2>/dev/null
	MILTER_STATUS=$?
	return 0
}

# pf_drain DIR SECONDS [postqueue -f]: waits until the Postfix instance's
# queue is empty; fails when it is not after SECONDS.
pf_drain() {
	local dir=$1 end=$((SECONDS + $2))
	[ -n "${3:-}" ] && postqueue -c "$dir" -f 2>/dev/null
	while [ "$(pf_queued "$dir")" != 0 ]; do
		[ "$SECONDS" -ge "$end" ] && return 1
		sleep 0.3
	done
}

# dkim_key FILE: a 2048-bit RSA key in FILE (PEM); prints the public key as
# the p= value of a DKIM TXT record.
dkim_key() {
	openssl genrsa -traditional -out "$1" 2048 2>/dev/null
	openssl rsa -in "$1" -pubout -outform DER 2>/dev/null | base64 -w0
}
