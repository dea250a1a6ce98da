# imi-mail: the one build entry.
#   make            build ./imi
#   make check      run every test (SAN=1: under ASan and UBSan)
#   make demo       play the demo scenario on the embedded default
#   make install    PREFIX=/usr/local DESTDIR=
#   make bench      benchmarks, see docs/performance.md
#   make torture    the integration tests in their long versions (LONG=1:
#                   crash-load with 3000 messages and 40 milter kills, and
#                   any *.long.sh), see docs/reliability.md
#   make fuzz       run each fuzz target FUZZ_SECONDS (fuzz/, docs/reliability.md)

PREFIX    ?= /usr/local
DESTDIR   ?=
SAN       ?= 0
CC        ?= cc

# Every shared library linked into a program is loaded and bound (Debian
# builds them with -z now) by every process, whatever the command.  The imi
# executable links only what opens the home and the store (GLib, json-glib,
# libsodium, Berkeley DB): imi tick with nothing due runs there alone.  The
# commands, and GMime, libopendkim, libspf2, libpsl and libcrypto with them,
# are the module imi-mail.so, opened when a command needs it
# (cli/mail_load.c).  libxml2 and libytnef are compiled against but opened
# at run time on the first HTML body or winmail.dat (util/lib_load.h);
# libetpan (and through it GnuTLS, SASL) and libmilter are linked into
# imi-net only, the program that imi send, fetch and milter run
# (cli/net_exec.c).
PKGS      = gmime-3.0 glib-2.0 json-glib-1.0 opendkim libsodium libpsl libcrypto
PKGS_NET  = libetpan milter
PKGS_LOADED = libxml-2.0 libytnef
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(PKGS_NET) $(PKGS_LOADED) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
PKGS_CORE  = glib-2.0 json-glib-1.0 libsodium
CORE_LIBS  = $(shell pkg-config --libs $(PKGS_CORE) 2>/dev/null) -ldb -lpthread
# libetpan's .pc pulls in dpkg's no-PIE link specs; they clash with the sanitizers.
NET_LIBS   = $(filter-out -specs=%,$(shell pkg-config --libs $(PKGS_NET) 2>/dev/null))

WARN      = -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wno-unused-parameter
CFLAGS    ?= -O2 -g
# -fPIC: the same objects make the executables and the module.
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE -fPIC $(WARN) $(CFLAGS) -I. $(PKG_CFLAGS) \
             -DIMI_DATADIR='"$(DATADIR)"' -DIMI_LIBEXECDIR='"$(LIBEXECDIR)"'
LDLIBS    = $(PKG_LIBS) -lspf2 -ldb -lpthread -lresolv
NET_LDLIBS = $(LDLIBS) $(NET_LIBS)
# Unit tests, fuzz replays and benchmarks take any object of libimi.a.
TEST_LDLIBS = $(NET_LDLIBS) -lcmocka

# The C library, libcrypto and GLib first among the DT_NEEDED of imi-net
# and the module: the dynamic linker looks each symbol up in that order,
# and most of the symbol relocations of the shared libraries (all bound at
# load: Debian builds them with -z now) resolve to libc or GLib, or are
# libcrypto's references to its own exported functions (libcrypto comes
# through libopendkim, far down the order otherwise).  Measured with
# callgrind on `imi --help` when imi linked everything: 27.16 M -> 25.58 M
# instructions for libc and GLib; on `imi tick` with nothing due, once
# libetpan, libxml2, libytnef and libmilter were out, 11.28 M -> 10.34 M
# for libcrypto.  Not with the sanitizers, whose runtime must come first.
IMI_LDFIRST = -Wl,--no-as-needed -lc -lcrypto -lglib-2.0 -lgobject-2.0 -Wl,--as-needed
CORE_LDFIRST = -Wl,--no-as-needed -lc -lglib-2.0 -lgobject-2.0 -Wl,--as-needed

ifeq ($(SAN),1)
IMI_LDFIRST =
CORE_LDFIRST =
BUILD     = build-san
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS   += -fsanitize=address,undefined
else
BUILD     = build
endif
DATADIR   = $(PREFIX)/share/imi
LIBEXECDIR = $(PREFIX)/lib/imi

# Modules are libraries; cli/ holds the imi command (main.c), the entry of
# its mail module (mail_module.c) and imi-net (main_net.c: imi send, fetch
# and milter, see cli/net_exec.c).  New .c files are picked up by wildcard,
# so adding a file needs no edit here; a file the imi executable itself
# needs (it opens the store, nothing that reads mail) goes into CORE_SRCS.
MODULES   = util conf store templates parser policies mta-hooks cli
MAINS     = cli/main.c cli/main_net.c
LIB_SRCS  = $(filter-out $(MAINS),$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
LIB_OBJS  = $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
CORE_SRCS = $(wildcard util/*.c conf/*.c store/*.c) cli/cli.c cli/net_exec.c \
            cli/mail_load.c cli/tick_idle.c policies/due.c
CORE_OBJS = $(patsubst %.c,$(BUILD)/%.o,$(CORE_SRCS))
MAIL_OBJS = $(filter-out $(CORE_OBJS),$(LIB_OBJS))
HEADERS   = $(foreach m,$(MODULES),$(wildcard $(m)/*.h))
UNIT_SRCS = $(wildcard tests/unit/test_*.c)
UNIT_BINS = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
IMI       = $(BUILD)/imi
IMI_NET   = $(BUILD)/imi-net
IMI_MAIL  = $(BUILD)/imi-mail.so

.PHONY: all deps deps-check check unit integration corpus demo install bench clean format torture \
	fuzz fuzz-build

all: deps $(IMI)
	@ln -sf $(IMI) imi

deps:
	@tools/deps.sh build

deps-check:
	@tools/deps.sh check

$(BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libimi.a: $(LIB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/libimi-mail.a: $(MAIL_OBJS)
	@rm -f $@
	@ar rcs $@ $^

# The module: its table of commands pulls what they need from
# libimi-mail.a; the core functions it calls stay undefined here and
# resolve to the executable's when imi opens it.  -Bsymbolic: its calls to
# its own functions are bound at link time, not looked up at load.
$(IMI_MAIL): $(BUILD)/cli/mail_module.o $(BUILD)/libimi-mail.a
	@echo "  LD      $@"
	@$(CC) -shared $(LDFLAGS) -Wl,-Bsymbolic $(IMI_LDFIRST) -o $@ $^ $(LDLIBS)

# What imi exports to its module: the module's undefined symbols (those
# the executable does not define are not exported).
$(BUILD)/imi.dynamic: $(IMI_MAIL)
	@{ echo '{'; nm -D --undefined-only --format=just-symbols $< | sed 's/@.*//; s/$$/;/'; \
		echo '};'; } >$@

# imi-net and imi-mail.so come with imi (order-only: imi runs the one and
# opens the other from its own directory).
$(IMI): $(BUILD)/cli/main.o $(CORE_OBJS) $(BUILD)/imi.dynamic | $(IMI_NET)
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) $(CORE_LDFIRST) -Wl,--dynamic-list=$(BUILD)/imi.dynamic -o $@ \
		$(BUILD)/cli/main.o $(CORE_OBJS) $(CORE_LIBS)

$(IMI_NET): $(BUILD)/cli/main_net.o $(BUILD)/libimi.a
	@echo "  LD      $@"
	@$(CC) $(LDFLAGS) $(IMI_LDFIRST) -o $@ $^ $(NET_LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/testutil.h $(BUILD)/libimi.a $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  TEST    $@"
	@$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libimi.a $(TEST_LDLIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libimi.a $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  BENCH   $@"
	@$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libimi.a $(TEST_LDLIBS)

# Fuzz targets (fuzz/fuzz_<target>.c).  make check links each with
# fuzz/replay.c and replays the seed corpora and past crashes
# (tests/integration/fuzz-replay.sh); make fuzz links them with libFuzzer
# (clang) against a build of the library in build-fuzz/.
FUZZ_TARGETS = mime trim answers token template
FUZZ_REPLAY  = $(patsubst %,$(BUILD)/fuzz/replay_%,$(FUZZ_TARGETS))
FUZZ_CFLAGS  = -DFUZZ_SRCDIR='"$(CURDIR)"'

$(BUILD)/fuzz/replay_%: fuzz/fuzz_%.c fuzz/replay.c fuzz/fuzz.h $(BUILD)/libimi.a $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(CC) $(ALL_CFLAGS) $(FUZZ_CFLAGS) $(LDFLAGS) -o $@ fuzz/fuzz_$*.c fuzz/replay.c \
		$(BUILD)/libimi.a $(TEST_LDLIBS)

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_BUILD   = build-fuzz
FUZZ_SAN     = -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARN) -O1 -g -fno-omit-frame-pointer -I. \
	$(PKG_CFLAGS) -DIMI_DATADIR='"$(DATADIR)"' -DIMI_LIBEXECDIR='"$(LIBEXECDIR)"' $(FUZZ_SAN)
FUZZ_LIB_OBJS = $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(LIB_SRCS))
FUZZ_BINS    = $(patsubst %,$(FUZZ_BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))

$(FUZZ_BUILD)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  CLANG   $<"
	@$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/libimi.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(FUZZ_BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(FUZZ_BUILD)/libimi.a $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(FUZZ_CC) $(FUZZ_ALL_CFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_BUILD)/libimi.a $(TEST_LDLIBS)

fuzz-build:
	@tools/deps.sh fuzz
	@$(MAKE) --no-print-directory $(FUZZ_BINS)

# make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="mime trim"]: one target after
# the other; crashes land in fuzz/regressions/<target>/.
fuzz: fuzz-build
	@FUZZ_BUILD=$(FUZZ_BUILD) FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ_TARGETS)

# make check: unit tests (cmocka), then the integration scripts, each
# printing its own summary; tests/run.sh adds the totals.
check: deps-check $(IMI) $(UNIT_BINS) $(FUZZ_REPLAY)
	@ln -sf $(IMI) imi
	@BUILD=$(BUILD) SAN=$(SAN) tests/run.sh

unit: deps $(IMI) $(UNIT_BINS)
	@BUILD=$(BUILD) SAN=$(SAN) tests/run.sh unit

integration: deps-check $(IMI) $(FUZZ_REPLAY)
	@BUILD=$(BUILD) SAN=$(SAN) tests/run.sh integration

valgrind: deps-check $(UNIT_BINS)
	@BUILD=$(BUILD) VALGRIND=1 tests/run.sh unit

demo: all
	@tools/demo.sh

bench: all
	@tools/bench.sh

torture: deps-check $(IMI)
	@BUILD=$(BUILD) LONG=1 tests/run.sh integration

install: $(IMI) $(IMI_NET) $(IMI_MAIL)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(PREFIX)/share/man/man8 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(DATADIR)/templates/sets \
		$(DESTDIR)$(DATADIR)/templates/catalogs $(DESTDIR)$(DATADIR)/policies/rules
	install -m 0755 $(IMI) $(DESTDIR)$(PREFIX)/bin/imi
	install -m 0755 $(IMI_NET) $(DESTDIR)$(LIBEXECDIR)/imi-net
	install -m 0644 $(IMI_MAIL) $(DESTDIR)$(LIBEXECDIR)/imi-mail.so
	install -m 0644 docs/imi.8 $(DESTDIR)$(PREFIX)/share/man/man8/imi.8
	install -m 0644 docs/imi.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/imi.conf.5
	install -m 0644 templates/sets/*.ini $(DESTDIR)$(DATADIR)/templates/sets/
	install -m 0644 templates/catalogs/*.ini $(DESTDIR)$(DATADIR)/templates/catalogs/
	if ls policies/rules/*.ini >/dev/null 2>&1; then \
		install -m 0644 policies/rules/*.ini $(DESTDIR)$(DATADIR)/policies/rules/; fi
	if [ -d docs/systemd ]; then install -d $(DESTDIR)$(PREFIX)/lib/systemd/system && \
		install -m 0644 docs/systemd/* $(DESTDIR)$(PREFIX)/lib/systemd/system/; fi

format:
	clang-format -i $(LIB_SRCS) $(MAINS) $(HEADERS) $(UNIT_SRCS)

clean:
	rm -rf build build-san build-fuzz imi
