# troupe — plain GNU Makefile.  `make`, `make run`, `make test` are all a
# newcomer needs: missing Debian packages are installed (as root) or the
# exact apt-get line is printed.

PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
CC       ?= cc
FUZZ_SECONDS ?= 60

DEB_PKGS := pkg-config libnng-dev libmsgpack-dev libsodium-dev \
	libcriterion-dev libjansson-dev libinih-dev python3 procps
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

INC := -Itransport -Iactors -Ibroker -Icli
PKG_CFLAGS = $(shell pkg-config --cflags $(PC_PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PC_PKGS) 2>/dev/null)
# nng 1.5.2 in Debian ships no .pc file, only a CMake package.
NNG_LIBS := -lnng -lpthread

CFLAGS  ?=
CFLAGS  += -std=gnu11 -fPIC $(OPT) $(WARN) $(INC) $(PKG_CFLAGS) -MMD -MP
LDFLAGS += $(SANLD)
LDLIBS  = $(PKG_LIBS) $(NNG_LIBS)

OBJ := $(BUILD)/obj
TP_SRC  := $(wildcard transport/*.c)
LIB_SRC := $(filter-out actors/actor_%.c,$(wildcard actors/*.c))
BR_SRC  := $(wildcard broker/*.c)
CLI_SRC := $(wildcard cli/*.c)
ACTOR_SRC := $(wildcard actors/actor_*.c)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)

TP_OBJ  := $(TP_SRC:%.c=$(OBJ)/%.o)
LIB_OBJ := $(LIB_SRC:%.c=$(OBJ)/%.o)
BR_OBJ  := $(BR_SRC:%.c=$(OBJ)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(OBJ)/%.o)
BR_LIBOBJ := $(filter-out $(OBJ)/broker/trouped.o,$(BR_OBJ))
CLI_LIBOBJ := $(filter-out $(OBJ)/cli/troupe.o,$(CLI_OBJ))

ACTOR_BIN := $(ACTOR_SRC:actors/actor_%.c=$(BUILD)/bin/troupe-%)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BINS := $(BUILD)/bin/trouped $(BUILD)/bin/troupe $(ACTOR_BIN)
LIBS := $(BUILD)/lib/libtroupe.a $(BUILD)/lib/libtroupe.so
DEPS_OK := $(BUILD)/.deps-ok

.SECONDARY:
.PHONY: all deps run test unit proc sanitize fuzz clean install uninstall
all: $(DEPS_OK) $(LIBS) $(BINS)

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

$(OBJ)/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(@D)
	@echo "  CC $<"
	@$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/lib/libtroupe.a: $(LIB_OBJ) $(TP_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/lib/libtroupe.so: $(LIB_OBJ) $(TP_OBJ)
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

$(BUILD)/tests/test_%: $(OBJ)/tests/unit/test_%.o $(BR_LIBOBJ) $(CLI_LIBOBJ) \
		$(BUILD)/lib/libtroupe.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $< $(BR_LIBOBJ) $(CLI_LIBOBJ) \
		$(BUILD)/lib/libtroupe.a -lcriterion $(LDLIBS)

run: all
	$(BUILD)/bin/trouped

# Unit tests (Criterion, one binary per module) then the process-level
# tests that start real trouped daemons.
test: all $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; \
	  $$t --jobs 2 --short-filename; done
	@TROUPE_BIN=$(abspath $(BUILD)/bin) sh tests/conf/run.sh
	@if ls tests/proc/test_*.py >/dev/null 2>&1; then \
	  TROUPE_BIN=$(abspath $(BUILD)/bin) python3 -m unittest discover \
	    -s tests/proc -p 'test_*.py' -v; fi

sanitize:
	TROUPE_SANITIZE=1 $(MAKE) BUILD=build/san SAN=1 test

# libFuzzer needs clang; the harness links the transport objects built
# with coverage instrumentation into their own directory.
FUZZ_CFLAGS := -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	$(INC) $(PKG_CFLAGS) $(WARN)
fuzz: $(DEPS_OK)
	@command -v clang >/dev/null && [ -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] \
	  || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq $(FUZZ_PKGS) >/dev/null; } \
	  || { echo "run: sudo apt-get install -y $(FUZZ_PKGS)"; exit 1; }
	@mkdir -p $(BUILD)/fuzz $(BUILD)/fuzz/corpus
	clang $(FUZZ_CFLAGS) -o $(BUILD)/fuzz/fuzz_env tests/fuzz/fuzz_env.c \
		$(TP_SRC) $(PKG_LIBS) $(NNG_LIBS)
	cp tests/fuzz/corpus/* $(BUILD)/fuzz/corpus/
	$(BUILD)/fuzz/fuzz_env -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=512 \
		-malloc_limit_mb=256 -max_len=4096 -print_final_stats=1 \
		$(BUILD)/fuzz/corpus

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
