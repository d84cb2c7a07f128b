# troupe — plain GNU Makefile.  `make`, `make run`, `make test` are all a
# newcomer needs: missing Debian packages are installed (as root) or the
# exact apt-get line is printed.

PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
CC       ?= cc
FUZZ_SECONDS ?= 60
CHAOS_SECONDS ?= 60
SOAK_SECONDS ?= 600

# deploy/Dockerfile's build stage installs these too (test_container.py
# checks), so the image build fetches nothing more.
DEB_PKGS := pkg-config cmake libmsgpack-dev libsodium-dev \
	libcriterion-dev libjansson-dev libinih-dev python3 procps mandoc
FUZZ_PKGS := clang libclang-rt-14-dev
PC_PKGS  := msgpack libsodium jansson inih

WARN := -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wno-unused-parameter
OPT  := -O2 -g -D_FORTIFY_SOURCE=2 -fstack-protector-strong
ifeq ($(SAN),1)
OPT  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
SANLD := -fsanitize=address,undefined
endif

# nng: Debian 12's 1.5.2 source with the fix for nng bug 1518 (a
# connection dropped during the handshake stops a listener for good) and
# message bodies allocated without zeroing (issue 16), built static and PIC
# by transport/nng_vendor.py, linked into everything.
NNG_DIR := $(BUILD)/nng
NNG_LIB := $(NNG_DIR)/lib/libnng.a

# broker/ is grouped into rooms (broker/core, actor, route, durable,
# cluster, ctl: docs/ARCHITECTURE.md); headers are included by name.
BR_ROOMS := $(sort $(patsubst %/,%,$(dir $(wildcard broker/*/*.h))))
INC := -I$(NNG_DIR)/include -Itransport -Iactors -Ibroker \
	$(addprefix -I,$(BR_ROOMS)) -Icli
PKG_CFLAGS = $(shell pkg-config --cflags $(PC_PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PC_PKGS) 2>/dev/null)
NNG_LIBS := $(NNG_LIB) -lpthread

CFLAGS  ?=
CFLAGS  += -std=gnu11 -fPIC $(OPT) $(WARN) $(INC) $(PKG_CFLAGS) -MMD -MP
LDFLAGS += $(SANLD)
LDLIBS  = $(PKG_LIBS) $(NNG_LIBS)

OBJ := $(BUILD)/obj
TP_SRC  := $(wildcard transport/*.c)
LIB_SRC := $(filter-out actors/actor_%.c,$(wildcard actors/*.c))
BR_SRC  := $(wildcard broker/*.c broker/*/*.c)
CLI_SRC := $(wildcard cli/*.c)
ACTOR_SRC := $(wildcard actors/actor_*.c)
EX_SRC    := $(wildcard actors/examples/*.c)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_LIBSRC := $(wildcard bench/bn_*.c)

TP_OBJ  := $(TP_SRC:%.c=$(OBJ)/%.o)
LIB_OBJ := $(LIB_SRC:%.c=$(OBJ)/%.o)
BR_OBJ  := $(BR_SRC:%.c=$(OBJ)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(OBJ)/%.o)
BR_LIBOBJ := $(filter-out $(OBJ)/broker/trouped.o,$(BR_OBJ))
CLI_LIBOBJ := $(filter-out $(OBJ)/cli/troupe.o,$(CLI_OBJ))

ACTOR_BIN := $(ACTOR_SRC:actors/actor_%.c=$(BUILD)/bin/troupe-%)
# the example programs, built here with the tree's warnings so that they
# follow the API; installed as source only (SHAREDIR/examples)
EX_BIN    := $(EX_SRC:actors/examples/%.c=$(BUILD)/examples/%)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# test-only actors (tests/actors/X.c -> BUILD/tests/bin/X), never installed
TACTOR_BIN := $(patsubst tests/actors/%.c,$(BUILD)/tests/bin/%,\
	$(wildcard tests/actors/*.c))
BINS := $(BUILD)/bin/trouped $(BUILD)/bin/troupe $(ACTOR_BIN)
LIBS := $(BUILD)/lib/libtroupe.a $(BUILD)/lib/libtroupe.so
DEPS_OK := $(BUILD)/.deps-ok

BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
BENCH_OBJ := $(BENCH_LIBSRC:%.c=$(OBJ)/%.o)
BENCH_ARGS ?=

.SECONDARY:
.PHONY: all deps run test unit proc sanitize fuzz clean install uninstall \
	bench bench-zmq check-arch FORCE
all: $(DEPS_OK) $(LIBS) $(BINS) $(EX_BIN)

# Installs what is missing when root, else prints the line to run.  The
# stamp keeps the check off the normal edit-build loop.
$(DEPS_OK):
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
	    || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing \
	      >/dev/null || exit 1; \
	  else echo "missing packages; run: sudo apt-get install -y$$missing"; \
	    exit 1; fi; fi
	@mkdir -p $(@D) && touch $@

$(NNG_LIB): transport/nng_vendor.py | $(DEPS_OK)
	@echo "  NNG $@ (Debian 1.5.2 source + fix for nng bug 1518, bodies not zeroed)"
	@python3 transport/nng_vendor.py $(BUILD)

$(OBJ)/%.o: %.c | $(DEPS_OK) $(NNG_LIB)
	@mkdir -p $(@D)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) -c $< -o $@

# libtroupe.a carries nng's objects too, so that an actor linked against
# it statically needs no nng of its own (ar's MRI script keeps the
# members whose names repeat, like pair0's and pair1's pair.c.o).
$(BUILD)/lib/libtroupe.a: $(LIB_OBJ) $(TP_OBJ) $(NNG_LIB)
	@mkdir -p $(@D)
	rm -f $@ && { echo "CREATE $@"; echo "ADDLIB $(NNG_LIB)"; \
	  for o in $(LIB_OBJ) $(TP_OBJ); do echo "ADDMOD $$o"; done; \
	  echo SAVE; echo END; } | ar -M

$(BUILD)/lib/libtroupe.so: $(LIB_OBJ) $(TP_OBJ) $(NNG_LIB)
	@mkdir -p $(@D)
	$(CC) -shared -Wl,-soname,libtroupe.so.1 $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/bin/trouped: $(BR_OBJ) $(BUILD)/lib/libtroupe.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(BR_OBJ) $(BUILD)/lib/libtroupe.a $(LDLIBS)

$(BUILD)/bin/troupe: $(CLI_OBJ) $(BUILD)/lib/libtroupe.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/lib/libtroupe.a $(LDLIBS)

$(BUILD)/bin/troupe-%: $(OBJ)/actors/actor_%.o $(BUILD)/lib/libtroupe.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/lib/libtroupe.a $(LDLIBS)

$(BUILD)/examples/%: $(OBJ)/actors/examples/%.o $(BUILD)/lib/libtroupe.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/lib/libtroupe.a $(LDLIBS)

$(BUILD)/tests/test_%: $(OBJ)/tests/unit/test_%.o $(BR_LIBOBJ) $(CLI_LIBOBJ) \
		$(BUILD)/lib/libtroupe.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(BR_LIBOBJ) $(CLI_LIBOBJ) \
		$(BUILD)/lib/libtroupe.a -lcriterion $(LDLIBS)

# These unit tests link their module's objects and nothing else of the
# broker: the proof that the module stands behind its door.
$(BUILD)/tests/test_pend: $(OBJ)/tests/unit/test_pend.o $(OBJ)/broker/route/br_pend.o
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lcriterion

# test_sup links supervision's core and what it needs, not the broker:
# the proof that br_supfsm's ops are its only way out.
SUP_UNIT_OBJ := $(addprefix $(OBJ)/broker/,actor/br_supfsm.o \
	actor/br_supgrp.o core/br_conf.o core/br_confval.o core/br_log.o \
	core/br_daemon.o) $(OBJ)/transport/tp_topic.o
$(BUILD)/tests/test_sup: $(OBJ)/tests/unit/test_sup.o $(SUP_UNIT_OBJ)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ -lcriterion $(PKG_LIBS)

run: all
	$(BUILD)/bin/trouped

# bench/bench_X.c is a program, bench/bn_*.c its shared helpers; one
# driver runs every row (docs/PERFORMANCE.md).  BENCH_ARGS=--quick for a
# smoke run, BENCH_ARGS="--only B1,B2" for some rows.
# The helpers are an archive, so that a program takes only the objects
# it calls (bench_actor no ZeroMQ peer, below).
BENCH_LIB := $(BUILD)/bench/libbn.a
$(BENCH_LIB): $(BENCH_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bench/bench_%: $(OBJ)/bench/bench_%.o $(BENCH_LIB) \
		$(BUILD)/lib/libtroupe.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(BENCH_LIB) $(BUILD)/lib/libtroupe.a \
		$(BENCH_LDLIBS) $(LDLIBS)

# B0z (ZeroMQ, the peer row) is built in when libzmq is there: the
# bench's objects get -DBN_HAVE_ZMQ and bench_main -lzmq (not
# bench_actor: B6 times its restarts).  `make bench` installs
# libzmq3-dev first when it is missing and we are root; `make all` and
# `make test` never need it.  The stamp holds the flags the bench's
# objects were built with and changes only when they do, so the objects
# are rebuilt when libzmq comes or goes.
ZMQ_PKG    := libzmq3-dev
ZMQ_CFLAGS  = $(shell pkg-config --exists libzmq 2>/dev/null && \
	echo -DBN_HAVE_ZMQ $$(pkg-config --cflags libzmq))
ZMQ_LIBS    = $(shell pkg-config --exists libzmq 2>/dev/null && \
	pkg-config --libs libzmq)
ZMQ_STAMP  := $(BUILD)/bench/zmq.flags
BENCH_MAIN_OBJ := $(BENCH_SRC:%.c=$(OBJ)/%.o)
$(BENCH_OBJ) $(BENCH_MAIN_OBJ): CFLAGS += $(ZMQ_CFLAGS)
$(BENCH_OBJ) $(BENCH_MAIN_OBJ): $(ZMQ_STAMP)
$(BUILD)/bench/bench_main: BENCH_LDLIBS = $(ZMQ_LIBS)

$(ZMQ_STAMP): FORCE $(if $(filter bench,$(MAKECMDGOALS)),bench-zmq)
	@mkdir -p $(@D)
	@echo '$(ZMQ_CFLAGS)' | cmp -s - $@ 2>/dev/null || \
	  echo '$(ZMQ_CFLAGS)' >$@

FORCE:

# Never fails the bench: without libzmq B0z prints as skipped.
bench-zmq:
	@pkg-config --exists libzmq 2>/dev/null && exit 0; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "bench: no libzmq, B0z skipped; for it: sudo apt-get" \
	    "install -y $(ZMQ_PKG)"; exit 0; fi; \
	echo "installing: $(ZMQ_PKG) (B0z)"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y -qq $(ZMQ_PKG) >/dev/null 2>&1 || \
	  { apt-get update -qq && apt-get install -y -qq $(ZMQ_PKG) \
	    >/dev/null; } || \
	  echo "bench: apt-get install $(ZMQ_PKG) failed, B0z skipped"

bench: all $(BENCH_BIN)
	$(BUILD)/bench/bench_main --bin $(BUILD)/bin \
		--out $(BUILD)/bench/results.txt $(BENCH_ARGS)

# Unit tests (Criterion, one binary per module) then the process-level
# tests that start real trouped daemons; tests/proc/run.py fails the run
# when a process the tests started outlives them.
$(BUILD)/tests/bin/%: $(OBJ)/tests/actors/%.o $(BUILD)/lib/libtroupe.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/lib/libtroupe.a $(LDLIBS)

# The map (docs/ARCHITECTURE.md "Modules") against the code: files in
# modules, real calls (nm) and includes within "may call", no cycle, no
# file over 800 lines, a header per module.  It reads the objects, the
# bench's too.  CHECK_ARCH_ARGS=--report prints without failing.
CHECK_ARCH_ARGS ?=
check-arch: all $(BENCH_OBJ) $(BENCH_MAIN_OBJ)
	@python3 tools/check_arch.py --obj $(OBJ) $(CHECK_ARCH_ARGS)

# `make test` holds the code to its map first.
test: all check-arch $(UNIT_BIN) $(TACTOR_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; \
	  $$t --jobs 2 --short-filename; done
	@TROUPE_BIN=$(abspath $(BUILD)/bin) sh tests/conf/run.sh
	@TROUPE_BIN=$(abspath $(BUILD)/bin) python3 tests/proc/run.py

# A local cluster of N zero-config daemons of this user: `troupe cluster
# up N` (troupe(1)), what a user has after `make install` too.  Run dirs
# $XDG_RUNTIME_DIR/troupe/nK, free ports on 127.0.0.1, multicast on lo.
N ?= 3
.PHONY: cluster cluster-down
cluster: all
	@$(BUILD)/bin/troupe cluster up $(N)

cluster-down:
	@$(BUILD)/bin/troupe cluster down

# Chaos (kill -9 of actors under confirmed load) and soak (steady load,
# RSS and fds of every process each minute): tests/chaos/, docs/RELIABILITY.md
.PHONY: chaos soak
# chaos's slow consumers are the test actor crashy (BUILD/tests/bin)
chaos: all $(TACTOR_BIN)
	python3 tests/chaos/chaos.py --bin $(BUILD)/bin --seconds $(CHAOS_SECONDS)

soak: all
	cd tests/chaos && python3 soak.py --bin $(abspath $(BUILD)/bin) \
		--seconds $(SOAK_SECONDS)

sanitize:
	TROUPE_SANITIZE=1 $(MAKE) BUILD=build/san SAN=1 test

# libFuzzer needs clang; the harness links the transport objects built
# with coverage instrumentation into their own directory.  RSS limit 1 GiB:
# ASan's quarantine and the corpus alone reach ~520 MB in 10 minutes; a
# real leak still shows (LeakSanitizer), and each malloc stays <= 256 MB.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	$(INC) $(PKG_CFLAGS) $(WARN)
# Every tests/fuzz/fuzz_NAME.c runs in turn, seeded from
# tests/fuzz/corpus_NAME/ (fuzz_env: tests/fuzz/corpus/).  FUZZ_EXTRA:
# broker sources a harness needs besides transport/ (self-contained ones:
# br_dlog* for fuzz_dlog, br_conf* for fuzz_conf, br_beacon for fuzz_disc).
FUZZ_HARNESS := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_EXTRA := $(wildcard broker/durable/br_dlog.c \
	broker/durable/br_dlogscan.c broker/core/br_conf.c \
	broker/core/br_confval.c broker/cluster/br_beacon.c)
fuzz: $(DEPS_OK)
	@command -v clang >/dev/null && [ -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] \
	  || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq $(FUZZ_PKGS) >/dev/null; } \
	  || { echo "run: sudo apt-get install -y $(FUZZ_PKGS)"; exit 1; }
	@set -e; mkdir -p $(BUILD)/fuzz; for h in $(FUZZ_HARNESS); do \
	  seed=tests/fuzz/corpus_$${h#fuzz_}; \
	  [ -d $$seed ] || seed=tests/fuzz/corpus; \
	  echo "== $$h: $(FUZZ_SECONDS)s, seeds $$seed"; \
	  clang $(FUZZ_CFLAGS) -o $(BUILD)/fuzz/$$h tests/fuzz/$$h.c \
	    $(TP_SRC) $(FUZZ_EXTRA) $(PKG_LIBS) $(NNG_LIBS); \
	  mkdir -p $(BUILD)/fuzz/corpus_$$h; \
	  cp $$seed/* $(BUILD)/fuzz/corpus_$$h/; \
	  $(BUILD)/fuzz/$$h -max_total_time=$(FUZZ_SECONDS) \
	    -rss_limit_mb=1024 -malloc_limit_mb=256 -max_len=4096 \
	    -print_final_stats=1 $(BUILD)/fuzz/corpus_$$h; done

# Install layout: every program in bin/ (trouped finds its actors next to
# itself), libtroupe .a and .so with soname libtroupe.so.1, the header and
# the one transport header it includes under include/troupe/, troupe.pc,
# man pages, the example config, the Python actor and the example clients
# (C, Python) under share/troupe/, and the systemd unit (paths rewritten to
# PREFIX).
VERSION  := 0.6.0
BINDIR   := $(DESTDIR)$(PREFIX)/bin
LIBDIR   := $(DESTDIR)$(PREFIX)/lib
INCDIR   := $(DESTDIR)$(PREFIX)/include/troupe
MANDIR   := $(DESTDIR)$(PREFIX)/share/man
SHAREDIR := $(DESTDIR)$(PREFIX)/share/troupe
UNITDIR  := $(DESTDIR)$(PREFIX)/lib/systemd/system
MANS     := docs/troupe.1 docs/troupe.3 docs/troupe.conf.5 docs/trouped.8
EXAMPLES := actors/examples/upper.py actors/examples/client.c \
	actors/examples/client.py

install: all
	install -d $(BINDIR) $(LIBDIR)/pkgconfig $(INCDIR) $(MANDIR)/man1 \
	  $(MANDIR)/man3 $(MANDIR)/man5 $(MANDIR)/man8 $(SHAREDIR)/examples \
	  $(UNITDIR)
	install -m 755 $(BINS) $(BINDIR)/
	install -m 644 $(BUILD)/lib/libtroupe.a $(LIBDIR)/
	install -m 755 $(BUILD)/lib/libtroupe.so $(LIBDIR)/libtroupe.so.1
	ln -sf libtroupe.so.1 $(LIBDIR)/libtroupe.so
	install -m 644 actors/troupe.h transport/tp_err.h $(INCDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
	  deploy/troupe.pc.in >$(LIBDIR)/pkgconfig/troupe.pc
	install -m 644 docs/troupe.1 $(MANDIR)/man1/
	install -m 644 docs/troupe.3 $(MANDIR)/man3/
	install -m 644 docs/troupe.conf.5 $(MANDIR)/man5/
	install -m 644 docs/trouped.8 $(MANDIR)/man8/
	install -m 644 deploy/troupe.conf.example $(SHAREDIR)/
	install -m 644 $(EXAMPLES) $(SHAREDIR)/examples/
	sed -e 's|/usr/local|$(PREFIX)|g' deploy/trouped.service \
	  >$(UNITDIR)/trouped.service

uninstall:
	rm -f $(addprefix $(BINDIR)/,$(notdir $(BINS))) \
	  $(LIBDIR)/libtroupe.a $(LIBDIR)/libtroupe.so.1 \
	  $(LIBDIR)/libtroupe.so $(LIBDIR)/pkgconfig/troupe.pc \
	  $(INCDIR)/troupe.h $(INCDIR)/tp_err.h \
	  $(MANDIR)/man1/troupe.1 $(MANDIR)/man3/troupe.3 \
	  $(MANDIR)/man5/troupe.conf.5 \
	  $(MANDIR)/man8/trouped.8 $(SHAREDIR)/troupe.conf.example \
	  $(addprefix $(SHAREDIR)/examples/,$(notdir $(EXAMPLES))) \
	  $(UNITDIR)/trouped.service
	-rmdir $(INCDIR) $(SHAREDIR)/examples $(SHAREDIR) 2>/dev/null

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
