#!/bin/sh
# Installs the Debian packages that building, testing and the demo need.
# Idempotent and quiet when everything is already installed.
#   tools/deps.sh build    libraries and tools to compile imi
#   tools/deps.sh check    the above plus the servers (and the browser) the integration tests run
set -eu

build="build-essential pkg-config libglib2.0-dev libgmime-3.0-dev libopendkim-dev
libspf2-dev libdb5.3-dev db5.3-util libetpan-dev libmilter-dev libsodium-dev libpsl-dev
libxml2-dev libjson-glib-dev libytnef0-dev libcmocka-dev libssl-dev openssl"
check="postfix dovecot-imapd dovecot-pop3d dnsmasq swaks opendkim-tools libmail-dkim-perl
valgrind chromium"

want=$build
[ "${1:-build}" = check ] && want="$build $check"
# tools/deps.sh fuzz (make fuzz): the build libraries plus clang, whose
# runtime libraries (libclang-rt-14-dev on Debian 12) hold libFuzzer and
# the sanitizers.
[ "${1:-build}" = fuzz ] && want="$build clang libclang-rt-dev"

missing=""
for p in $want; do
	s=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$s" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run 'sudo tools/deps.sh ${1:-build}' or install them yourself" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Postfix asks how to configure itself; the tests bring their own configuration.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
echo "postfix postfix/mailname string localhost" | debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/tmp/imi-deps.log 2>&1 || {
	tail -n 30 /tmp/imi-deps.log >&2
	echo "deps: apt-get install failed; full log in /tmp/imi-deps.log" >&2
	exit 1
}
