#!/bin/bash
# sanitizer: the options every sanitizer-built program carries (util/util.c).
# GCC 12's runtime misreads a dynamic TLS block that starts 16 bytes into a
# page, and LeakSanitizer's tracer then crashes at exit; tests/sanitizer/
# places such a block on purpose.  Run by make check SAN=1.
. "$(dirname "$0")/lib.sh"
lib_init sanitizer

if [ "${SAN:-0}" != 1 ]; then
	ok "# skip sanitizer options: not a sanitizer build (make check SAN=1)"
	exit 0
fi
BUILD_DIR=$(dirname "$IMI")
UTIL_O=$BUILD_DIR/util/util.o
CC=${CC:-gcc}
SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -g"
# The quarantine off: a chunk just freed is the next malloc returns.
PLACE="quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
cd "$WORK" || exit 1

check "util.o of the sanitizer build is there" test -f "$UTIL_O"
check "the module with thread-local storage builds" \
	"$CC" $SANFLAGS -fPIC -shared -o dtls_mod.so "$IMI_SRC/tests/sanitizer/dtls_mod.c"
check "the program builds without imi's options" \
	"$CC" $SANFLAGS -o dtls-bare "$IMI_SRC/tests/sanitizer/dtls.c" -ldl
# shellcheck disable=SC2046
check "the program builds with util.o (imi's options)" \
	"$CC" $SANFLAGS -o dtls-imi "$IMI_SRC/tests/sanitizer/dtls.c" "$UTIL_O" \
	$(pkg-config --libs glib-2.0) -ldl

# Without the options: the runtime's bug shows, unless this runtime is fixed.
ASAN_OPTIONS=$PLACE ./dtls-bare ./dtls_mod.so >bare.out 2>bare.err
rc=$?
if grep -q 'Tracer caught signal' bare.err; then
	ok "without imi's options LeakSanitizer's tracer crashes on the block (exit $rc)"
elif [ "$rc" = 0 ] && grep -q 'page offset 16$' bare.out; then
	ok "# skip this runtime reads a block 16 bytes into a page right"
else
	not_ok "without imi's options: neither the tracer's crash nor a clean run (exit $rc): $(head -c 300 bare.err)"
fi

ASAN_OPTIONS=$PLACE ./dtls-imi ./dtls_mod.so >imi.out 2>imi.err
rc=$?
check "with imi's options the block is 16 bytes into a page" \
	grep -q 'page offset 16$' imi.out
check "with imi's options LeakSanitizer has nothing to say${rc#0}$(head -c 300 imi.err)" \
	test "$rc" = 0 -a ! -s imi.err

# LeakSanitizer still works: a lost chunk is reported, the chunk that only
# the TLS block points to is not.
ASAN_OPTIONS=$PLACE ./dtls-imi ./dtls_mod.so leak >leak.out 2>leak.err
rc=$?
check "a lost chunk is still reported (exit $rc)" grep -q 'Direct leak of 77 byte' leak.err
check "the chunk held by the TLS block is not" test -z "$(grep 'leak of 100 byte' leak.err)"

# Every program of the build carries them.
tls_off() { ASAN_OPTIONS=help=1 "$@" 2>&1 >/dev/null | grep -A1 $'^\tintercept_tls_get_addr$' |
	grep -q 'Current Value: false'; }
check "imi runs without the __tls_get_addr interceptor" tls_off "$IMI" --version
check "imi-net runs without the __tls_get_addr interceptor" tls_off "$BUILD_DIR/imi-net" --help
missing=
for t in "$BUILD_DIR"/tests/test_* "$BUILD_DIR"/fuzz/replay_*; do
	[ -x "$t" ] || continue
	nm "$t" | grep -q ' T __asan_default_options$' || missing="$missing $(basename "$t")"
done
check "every unit test and fuzz replay carries imi's options${missing:+ (not:$missing)}" test -z "$missing"
exit 0
