# pcmds - personalised care minimum data-set collector.
#
#   make              build pcmds (client) and pcmdsd (server) into build/
#   make check        build and run every test; ends with "N passed, N failed"
#   make check SAN=1  the same under AddressSanitizer + UBSan (build/san/)
#   make demo         a real server, seven places, a synthetic caseload, impact
#   make demo-cluster the same on PostgreSQL, two servers behind HAProxy
#   make bench        performance figures, each beside its limit
#   make clean
#
# Missing Debian packages (compiler included) are installed by
# packaging/deps.sh the first time, so a newcomer needs no other step.

.DEFAULT_GOAL := all
.SUFFIXES:
.DELETE_ON_ERROR:
SHELL := /bin/bash

SAN ?= 0
FUZZ ?= 0
ifeq ($(FUZZ),1)
# libFuzzer: clang, coverage and sanitizers on every object
B ?= build/fuzz
CC := clang
SAN := 1
SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined \
	-fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_LINK := -fsanitize=fuzzer,address,undefined
else ifeq ($(SAN),1)
B ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=all
else
B ?= build
SANFLAGS :=
endif

PREFIX ?= /usr/local
DESTDIR ?=
VERSION := $(shell sed -n 's/.*PCMDS_VERSION.*"\(.*\)".*/\1/p' common/version.h)
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
# defined before the rules that list them (prerequisites expand on reading)
DEBS = $(B)/deb/pcmds_$(VERSION)_$(DEB_ARCH).deb \
	$(B)/deb/pcmdsd_$(VERSION)_$(DEB_ARCH).deb

WARN := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral \
	-Wno-format-truncation
ifeq ($(FUZZ),1)
WARN += -Wno-unknown-warning-option
endif
CFLAGS ?= -O2 -g
# Debian's hardening: stack protector, fortified libc calls, PIE, RELRO.
ifeq ($(SAN),1)
HARDEN :=
HARDEN_LD :=
else
HARDEN := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
HARDEN_LD := -pie -Wl,-z,relro -Wl,-z,now
endif
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) $(HARDEN) $(SANFLAGS) -pthread -D_GNU_SOURCE \
	-Icommon $(EXTRA_CFLAGS) -MMD -MP $(PKG_CFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(HARDEN_LD) $(SANFLAGS) -pthread

# Library lists come from pkg-config once the packages are present; the
# file is made (installing what is missing) before anything compiles.
PKGS_COMMON := libcrypto libcjson
PKGS_CLIENT := libcurl sqlite3 zlib libevent
PKGS_SERVER := libevent libevent_openssl libssl sqlite3 zlib libcurl libpq
PKGS_TEST := cmocka

NODEPS_GOALS := clean help
ifeq ($(filter $(NODEPS_GOALS),$(MAKECMDGOALS)),)
include $(B)/config.mk
endif

$(B)/config.mk: packaging/deps.sh
	@mkdir -p $(B)
	@bash packaging/deps.sh
	@{ echo "PKG_CFLAGS := $$(pkg-config --cflags $(PKGS_COMMON) $(PKGS_CLIENT) $(PKGS_SERVER) $(PKGS_TEST))"; \
	   echo "LIBS_COMMON := $$(pkg-config --libs $(PKGS_COMMON)) -lm"; \
	   echo "LIBS_CLIENT := $$(pkg-config --libs $(PKGS_CLIENT))"; \
	   echo "LIBS_SERVER := $$(pkg-config --libs $(PKGS_SERVER))"; \
	   echo "LIBS_TEST := $$(pkg-config --libs $(PKGS_TEST)) -lutil"; \
	} > $@.tmp && mv $@.tmp $@

COMMON_SRC := $(wildcard common/*.c)
CLIENT_SRC := $(filter-out client/main.c,$(wildcard client/*.c))
SERVER_SRC := $(filter-out server/main.c,$(wildcard server/*.c))
TEST_SRC := $(wildcard tests/test_*.c)
TOOL_SRC := $(wildcard tests/tools/*.c)
FUZZ_NAMES := $(notdir $(basename $(wildcard tests/fuzz/fuzz_*.c)))

COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/%.o)
CLIENT_OBJ := $(CLIENT_SRC:%.c=$(B)/%.o)
SERVER_OBJ := $(SERVER_SRC:%.c=$(B)/%.o)
SERVER_FP_OBJ := $(SERVER_SRC:%.c=$(B)/fp/%.o) $(B)/fp/server/main.o
CLIENT_PLAIN_OBJ := $(CLIENT_SRC:%.c=$(B)/plain/%.o) $(B)/plain/client/main.o
CLIENT_FP_OBJ := $(CLIENT_SRC:%.c=$(B)/fp/%.o) $(B)/fp/client/main.o
TEST_BIN := $(TEST_SRC:tests/%.c=$(B)/tests/%)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(B)/tools/%)
REPLAY_BIN := $(FUZZ_NAMES:%=$(B)/fuzz/%-replay)
FUZZER_BIN := $(FUZZ_NAMES:%=$(B)/fuzz/%)

AXE := $(B)/a11y/node_modules/axe-core/axe.min.js

LIB_COMMON := $(B)/libpcmds-common.a
LIB_CLIENT := $(B)/libpcmds-client.a
LIB_SERVER := $(B)/libpcmds-server.a

PROGS := $(B)/pcmds $(B)/pcmdsd

.PHONY: all check test-bins docs demo demo-cluster demo-serve bench fuzz \
	valgrind install \
	deb clean help

all: $(PROGS)

# Quiet by default; make V=1 shows the full commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif

$(B)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# Both programs again with test-only failpoints compiled in (never
# installed): pcmdsd-fp and pcmds-fp.
$(B)/fp/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC(fp)  $<")
	$(Q)$(CC) $(ALL_CFLAGS) -DPCMDS_FAILPOINTS -c -o $@ $<

# The client again storing records unencrypted, only for make bench to
# measure what encryption costs (never installed; a normal build refuses
# its store).
$(B)/plain/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC(pl)  $<")
	$(Q)$(CC) $(ALL_CFLAGS) -DPCMDS_BENCH_PLAIN -c -o $@ $<

# The default places file is compiled in from the one copy in packaging/.
$(B)/gen/places_nel.inc: packaging/places-nel.csv
	@mkdir -p $(@D)
	$(Q)sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$$/\\n"/' $< > $@.tmp
	$(Q)echo ';' >> $@.tmp && mv $@.tmp $@
$(B)/server/places.o $(B)/fp/server/places.o: $(B)/gen/places_nel.inc
$(B)/server/places.o $(B)/fp/server/places.o: EXTRA_CFLAGS := -I$(B)/gen

# The default population denominators, from the reference tables as they
# were published (packaging/population/), in the import file's shape.
POP_TABLES := $(wildcard packaging/population/population-*.csv)
$(B)/gen/population-nel.csv: packaging/population.awk $(POP_TABLES)
	@mkdir -p $(@D)
	$(Q)awk -f packaging/population.awk $(POP_TABLES) > $@.tmp && mv $@.tmp $@
$(B)/gen/population_nel.inc: $(B)/gen/population-nel.csv
	$(Q)sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$$/\\n"/' $< > $@.tmp
	$(Q)echo ';' >> $@.tmp && mv $@.tmp $@
$(B)/server/pop.o $(B)/fp/server/pop.o: $(B)/gen/population_nel.inc
$(B)/server/pop.o $(B)/fp/server/pop.o: EXTRA_CFLAGS := -I$(B)/gen

# Tests see every module's interface; client and server never see each other.
$(B)/tests/%.o: EXTRA_CFLAGS := -Iclient -Iserver -Itests
$(B)/tests/fuzz/%.o: EXTRA_CFLAGS := -Iclient -Iserver -Itests

$(LIB_COMMON): $(COMMON_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(LIB_CLIENT): $(CLIENT_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(LIB_SERVER): $(SERVER_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(B)/pcmds: $(B)/client/main.o $(LIB_CLIENT) $(LIB_COMMON)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_CLIENT) $(LIBS_COMMON)

$(B)/pcmdsd: $(B)/server/main.o $(LIB_SERVER) $(LIB_COMMON)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_SERVER) $(LIBS_COMMON)

$(B)/bench/pcmds-plain: $(CLIENT_PLAIN_OBJ) $(LIB_COMMON)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_CLIENT) $(LIBS_COMMON)

$(B)/pcmdsd-fp: $(SERVER_FP_OBJ) $(LIB_COMMON)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_SERVER) $(LIBS_COMMON)

$(B)/pcmds-fp: $(CLIENT_FP_OBJ) $(LIB_COMMON)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS_CLIENT) $(LIBS_COMMON)

TEST_LIBS = $(LIB_CLIENT) $(LIB_SERVER) $(LIB_COMMON)
TEST_LDLIBS = $(LIBS_CLIENT) $(LIBS_SERVER) $(LIBS_COMMON) $(LIBS_TEST)

# jtree: the trees of a parser held to cJSON's, for tests and fuzz targets
$(TEST_BIN): $(B)/tests/%: $(B)/tests/%.o $(B)/tests/harness.o \
    $(B)/tests/jtree.o $(TEST_LIBS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LDLIBS)

# Each fuzz target again, replaying files instead of fuzzing (make check).
$(REPLAY_BIN): $(B)/fuzz/%-replay: $(B)/tests/fuzz/%.o $(B)/tests/fuzz/driver.o \
    $(B)/tests/jtree.o $(TEST_LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LDLIBS)

$(FUZZER_BIN): $(B)/fuzz/%: $(B)/tests/fuzz/%.o $(B)/tests/jtree.o $(TEST_LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) $(FUZZ_LINK) -o $@ $^ $(TEST_LDLIBS)

$(TOOL_BIN): $(B)/tools/%: $(B)/tests/tools/%.o $(TEST_LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LDLIBS)

ifeq ($(SAN),1)
test-bins: $(PROGS) $(B)/pcmdsd-fp $(B)/pcmds-fp $(TEST_BIN) $(TOOL_BIN) \
    $(REPLAY_BIN) $(B)/bench/pcmds-bench $(B)/bench/pcmds-plain $(AXE)
else
test-bins: $(PROGS) $(B)/pcmdsd-fp $(B)/pcmds-fp $(TEST_BIN) $(TOOL_BIN) \
    $(REPLAY_BIN) $(B)/bench/pcmds-bench $(B)/bench/pcmds-plain $(DEBS) \
    $(AXE)
endif

# axe-core for the app's accessibility tests, at the version the lockfile
# pins, into the build directory: installed while building, never fetched
# while the tests run. Without npm the tests say the checks are SKIPPED.
$(AXE): tests/a11y/package.json tests/a11y/package-lock.json
	@mkdir -p $(B)/a11y
	@cp tests/a11y/package.json tests/a11y/package-lock.json $(B)/a11y/
	@command -v npm >/dev/null 2>&1 || bash packaging/deps.sh --check || true
	@if command -v npm >/dev/null 2>&1; then \
		echo "  NPM     axe-core (tests/a11y/package-lock.json)"; \
		(cd $(B)/a11y && npm ci --no-audit --no-fund --ignore-scripts \
		    --loglevel=error >/dev/null) || \
		echo "note: npm ci failed: the accessibility checks will be SKIPPED"; \
	else \
		echo "note: npm is missing (packaging/deps.sh --check installs it):" \
		    "the accessibility checks will be SKIPPED"; \
	fi

# make bench: performance figures beside their limits -> docs/benchmarks.md
BENCH_OBJ := $(patsubst %.c,$(B)/%.o,$(wildcard tests/bench/*.c))
$(B)/bench/pcmds-bench: $(BENCH_OBJ) $(B)/tests/harness.o $(TEST_LIBS)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LDLIBS)

$(B)/tests/bench/%.o: EXTRA_CFLAGS := -Iclient -Iserver -Itests

# BENCH_FLAGS="--referrals 200000" for a smaller store (pcmds-bench --help)
BENCH_FLAGS ?=
bench: $(PROGS) $(B)/bench/pcmds-bench $(B)/bench/pcmds-plain
	@bash packaging/deps.sh --all
	PCMDS_BUILD=$(B) $(B)/bench/pcmds-bench --out docs/benchmarks.md \
	    $(BENCH_FLAGS)

# make fuzz [FUZZ_SECONDS=60]: each libFuzzer target for that long, from
# the checked-in corpus; a crash leaves its input in build/fuzz/artifacts/
# (check it in under tests/fuzz/corpus/TARGET/ as a regression test).
FUZZ_SECONDS ?= 60
ifeq ($(FUZZ),1)
fuzz: $(FUZZER_BIN)
	@mkdir -p $(B)/artifacts
	@for t in $(FUZZ_NAMES); do \
		mkdir -p $(B)/corpus/$$t; \
		echo "  FUZZ    $$t for $(FUZZ_SECONDS) s"; \
		$(B)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
		    -rss_limit_mb=2048 -print_final_stats=1 \
		    -artifact_prefix=$(B)/artifacts/$$t- \
		    $(B)/corpus/$$t tests/fuzz/corpus/$$t 2>&1 | \
		    grep -E "^(#[0-9]+ *DONE|Done|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)" ; \
		test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done
else
fuzz:
	@bash packaging/deps.sh --check
	@$(MAKE) --no-print-directory FUZZ=1 fuzz
endif

check: test-bins
	@bash packaging/deps.sh --check || \
		echo "note: test tools missing; tests that need them say SKIPPED"
	@bash tests/run.sh $(B)

# make demo STORE=postgresql (or make demo-cluster): two servers on
# PostgreSQL behind HAProxy, installing those first if they are missing
STORE ?= sqlite
demo: $(PROGS)
ifeq ($(STORE),postgresql)
	@bash packaging/deps.sh --cluster
endif
	@bash packaging/demo.sh --store $(STORE) $(B)

demo-cluster: $(PROGS)
	@$(MAKE) --no-print-directory demo STORE=postgresql

demo-serve: $(PROGS)
	@bash packaging/demo.sh --serve $(B)

valgrind: test-bins
	@bash tests/valgrind.sh $(B)

docs: $(B)/tools/datadict $(B)/tools/exportdoc $(B)/tools/popdoc
	$(B)/tools/datadict > docs/data-set.md
	$(B)/tools/exportdoc > docs/export.md
	$(B)/tools/popdoc > docs/population.md

# make install PREFIX=/usr DESTDIR=/tmp/stage
BINDIR = $(PREFIX)/bin
SBINDIR = $(PREFIX)/sbin
MANDIR = $(PREFIX)/share/man
DATADIR = $(PREFIX)/share/pcmds
DOCDIR = $(PREFIX)/share/doc/pcmds
UNITDIR ?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR = $(PREFIX)/share/bash-completion/completions

install: $(PROGS) $(B)/gen/population-nel.csv
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(SBINDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
	    $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR) $(DESTDIR)$(DOCDIR) \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)$(COMPLETIONDIR)
	install -m 0755 $(B)/pcmds $(DESTDIR)$(BINDIR)/pcmds
	install -m 0755 $(B)/pcmdsd $(DESTDIR)$(SBINDIR)/pcmdsd
	install -m 0644 packaging/pcmds.1 $(DESTDIR)$(MANDIR)/man1/pcmds.1
	install -m 0644 packaging/pcmdsd.conf.5 $(DESTDIR)$(MANDIR)/man5/pcmdsd.conf.5
	install -m 0644 packaging/pcmdsd.8 $(DESTDIR)$(MANDIR)/man8/pcmdsd.8
	install -m 0644 packaging/places-nel.csv $(DESTDIR)$(DATADIR)/places-nel.csv
	install -m 0644 $(B)/gen/population-nel.csv \
	    $(DESTDIR)$(DATADIR)/population-nel.csv
	install -m 0644 packaging/assets-example.csv \
	    $(DESTDIR)$(DATADIR)/assets-example.csv
	install -m 0644 packaging/pcmds.bash-completion $(DESTDIR)$(COMPLETIONDIR)/pcmds
	sed 's|/usr/sbin/pcmdsd|$(SBINDIR)/pcmdsd|' packaging/pcmdsd.service \
	    > $(DESTDIR)$(UNITDIR)/pcmdsd.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/pcmdsd.service
	install -m 0644 README.md docs/data-set.md docs/export.md docs/population.md \
	    docs/openapi.yaml \
	    $(DESTDIR)$(DOCDIR)/

# Debian packages pcmds (client) and pcmdsd (server), built in $(B)/deb.
deb: $(DEBS)

$(DEBS) &: $(PROGS) packaging/mkdeb.sh packaging/pcmdsd.service \
    packaging/pcmds.1 packaging/pcmdsd.8 packaging/pcmdsd.conf.5 \
    packaging/pcmdsd.conf.packaged \
    packaging/pcmds.bash-completion packaging/places-nel.csv \
    $(B)/gen/population-nel.csv packaging/assets-example.csv README.md
	@rm -rf $(B)/deb
	$(Q)$(MAKE) --no-print-directory install PREFIX=/usr \
	    UNITDIR=/lib/systemd/system DESTDIR=$(CURDIR)/$(B)/deb/stage \
	    B=$(B) > /dev/null
	$(Q)bash packaging/mkdeb.sh $(B)/deb $(VERSION) $(DEB_ARCH)

clean:
	rm -rf build

help:
	@sed -n '3,11p' Makefile | sed 's/^# \{0,1\}//'

-include $(shell find $(B) -name '*.d' 2>/dev/null)
