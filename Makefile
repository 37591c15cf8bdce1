# lua-ivs: the one entry point. `make help` lists the targets.
#
# Every knob is overridable on the command line or in the environment:
#   make CC=clang CFLAGS='-O0 -g' PREFIX=/opt/ivs DESTDIR=/tmp/stage

PREFIX      ?= /usr/local
DESTDIR     ?=
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
BINDIR      ?= $(PREFIX)/bin
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# LUA names the interpreter whose module install and env use (docs, bench and model name
# their own): lua5.1, luajit, lua5.2, lua5.3 or lua5.4 (the default). LUA_VERSION is its module directory
# version (luajit loads 5.1 modules); giving only LUA_VERSION=5.x picks lua5.x.
ifeq ($(origin LUA),undefined)
LUA := lua$(or $(LUA_VERSION),5.4)
endif
LUA_VERSION ?= $(if $(filter luajit%,$(LUA)),5.1,$(patsubst lua%,%,$(notdir $(LUA))))
LUA_CMODDIR ?= $(LIBDIR)/lua/$(LUA_VERSION)
LUA_LMODDIR ?= $(PREFIX)/share/lua/$(LUA_VERSION)
PKG_CONFIG  ?= pkg-config

CC      ?= cc
CFLAGS  ?= -O2 -g
LDFLAGS ?=
WERROR  ?=
BUILD   ?= build

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings \
        -Wpointer-arith -Wformat=2
ifneq ($(WERROR),)
WARN += -Werror
endif

CURL_CFLAGS   ?= $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)
CURL_LIBS     ?= $(shell $(PKG_CONFIG) --libs libcurl 2>/dev/null || echo -lcurl)
CRYPTO_CFLAGS ?= $(shell $(PKG_CONFIG) --cflags libcrypto 2>/dev/null)
CRYPTO_LIBS   ?= $(shell $(PKG_CONFIG) --libs libcrypto 2>/dev/null || echo -lcrypto)
CJSON_CFLAGS  ?= $(shell $(PKG_CONFIG) --cflags libcjson 2>/dev/null || echo -I/usr/include/cjson)
CJSON_LIBS    ?= $(shell $(PKG_CONFIG) --libs libcjson 2>/dev/null || echo -lcjson)
# One Lua module per interpreter whose headers are installed (LUA_INCDIR_<name> overrides
# where they are looked for): $(BUILD)/<name>/ivs/core.so, except Lua 5.4's, which stays at
# $(BUILD)/lua/ivs/core.so. The C sources are the same for all (lua_binding/compat.h).
LUA_ALL := lua5.1 luajit lua5.2 lua5.3 lua5.4
LUA_INCDIR_lua5.1 ?= /usr/include/lua5.1
LUA_INCDIR_luajit ?= /usr/include/luajit-2.1
LUA_INCDIR_lua5.2 ?= /usr/include/lua5.2
LUA_INCDIR_lua5.3 ?= /usr/include/lua5.3
LUA_INCDIR_lua5.4 ?= /usr/include/lua5.4
LUA_BUILT := $(foreach l,$(LUA_ALL),$(if $(wildcard $(LUA_INCDIR_$(l))/lua.h),$(l)))
lua_dir = $(BUILD)/$(if $(filter lua5.4,$(1)),lua,$(1))
EXPAT_CFLAGS  ?= $(shell $(PKG_CONFIG) --cflags expat 2>/dev/null)
EXPAT_LIBS    ?= $(shell $(PKG_CONFIG) --libs expat 2>/dev/null || echo -lexpat)
MHD_CFLAGS    ?= $(shell $(PKG_CONFIG) --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS      ?= $(shell $(PKG_CONFIG) --libs libmicrohttpd 2>/dev/null || echo -lmicrohttpd)

BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -fvisibility=hidden -MMD -MP $(WARN)
CORE_CPPFLAGS := -Icore/include -Icore/src $(CURL_CFLAGS) $(CRYPTO_CFLAGS) $(CJSON_CFLAGS) $(EXPAT_CFLAGS)
CORE_LIBS := $(CURL_LIBS) $(CRYPTO_LIBS) $(CJSON_LIBS) $(EXPAT_LIBS) -lpthread -lm

ALL_CFLAGS = $(BASE_CFLAGS) $(CORE_CPPFLAGS) $(CPPFLAGS) $(CFLAGS)

IVS_SOVERSION := 0
CORE_SRCS := $(sort $(wildcard core/src/*.c))
CORE_OBJS := $(CORE_SRCS:core/src/%.c=$(BUILD)/core/%.o)
LIB_STATIC := $(BUILD)/libivs.a
LIB_SHARED := $(BUILD)/libivs.so.$(IVS_SOVERSION)

LUA_SRCS := $(sort $(wildcard lua_binding/*.c))
LUA_OBJS := $(foreach l,$(LUA_ALL),$(LUA_SRCS:lua_binding/%.c=$(BUILD)/lua_binding/$(l)/%.o))
LUA_MODULES := $(foreach l,$(LUA_BUILT),$(call lua_dir,$(l))/ivs/core.so)
# The module of $(LUA): what install and env use.
LUA_MODULE := $(call lua_dir,$(notdir $(LUA)))/ivs/core.so

EMU_SRCS := $(sort $(wildcard emulator/*.c))
EMU_OBJS := $(EMU_SRCS:emulator/%.c=$(BUILD)/emulator/%.o)
EMULATOR := $(BUILD)/ivs-emulator

TEST_SUPPORT_SRCS := $(sort $(wildcard tests/c/support/*.c))
TEST_SUPPORT_OBJS := $(TEST_SUPPORT_SRCS:tests/c/support/%.c=$(BUILD)/tests/support/%.o)
TEST_SRCS := $(sort $(wildcard tests/c/test_*.c))
TEST_BINS := $(TEST_SRCS:tests/c/%.c=$(BUILD)/tests/%)
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

# Keep intermediate objects: make would otherwise delete them after `make test` and print
# that as the last line, after the test summary CI reads.
.SECONDARY:

.PHONY: all deps lib lua emulator tools tests test check clang-check asan valgrind install \
        uninstall clean env model partitions demo bench docs lint format-check help

# `make` only builds: it never installs packages. The targets that install what is missing
# first (scripts/install-deps: apt-get as root, otherwise the command to run) are `deps`,
# `test` and `demo`, as the README's quick start says.
all: lib lua $(if $(EMU_SRCS),emulator)

help:
	@echo "make            build libivs, the Lua module (one per installed Lua) and ivs-emulator"
	@echo "make deps       install the missing Debian packages (as root; otherwise print the command)"
	@echo "make test       deps, build, check every C file with clang too, run every test"
	@echo "                (ends with 'N passed, N failed')"
	@echo "make demo       deps, then run the example provisioning script against a local emulator"
	@echo "make asan       run the C suites and the hostile Lua specs under AddressSanitizer and UBSan"
	@echo "make fuzz       libFuzzer on every harness, FUZZ_TIME seconds each (default 600)"
	@echo "make valgrind   run the Lua specs under valgrind (leak check)"
	@echo "make bench      benchmarks against boto3 and the AWS CLI"
	@echo "make model      regenerate the C model tables from models/ (every service)"
	@echo "make partitions regenerate core/src/partitions_gen.c from models/partitions.json"
	@echo "make docs       API reference with LDoc"
	@echo "make install    install into \$$(DESTDIR)\$$(PREFIX) (default $(PREFIX)); LUA=luajit (or lua5.1..lua5.4)"
	@echo "                picks the Lua module installed (luajit: the 5.1 directories, as OBS Studio needs)"
	@echo "eval \"\$$(make -s env)\"   use the built module and tools from this checkout (LUA=luajit...)"

deps:
	@scripts/install-deps

lib: $(LIB_STATIC) $(LIB_SHARED)
lua: $(LUA_MODULES)
emulator: $(EMULATOR)
tools: $(TOOL_BINS)

$(BUILD)/core/%.o: core/src/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB_STATIC): $(CORE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(LIB_SHARED): $(CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,libivs.so.$(IVS_SOVERSION) -o $@ $^ $(LDFLAGS) $(CORE_LIBS)
	ln -sf libivs.so.$(IVS_SOVERSION) $(BUILD)/libivs.so

# The Lua module carries the core inside it, so a rock or a copied .so needs no libivs at run time.
define LUA_MODULE_RULES
$(BUILD)/lua_binding/$(1)/%.o: lua_binding/%.c
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) -I$$(LUA_INCDIR_$(1)) -c $$< -o $$@

$(call lua_dir,$(1))/ivs/core.so: $(LUA_SRCS:lua_binding/%.c=$(BUILD)/lua_binding/$(1)/%.o) $$(CORE_OBJS)
	@mkdir -p $$(dir $$@)
	$$(CC) -shared -o $$@ $$^ $$(LDFLAGS) $$(CORE_LIBS)
endef
$(foreach l,$(LUA_ALL),$(eval $(call LUA_MODULE_RULES,$(l))))

$(BUILD)/emulator/%.o: emulator/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(MHD_CFLAGS) -c $< -o $@

$(EMULATOR): $(EMU_OBJS) $(LIB_STATIC)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $(EMU_OBJS) $(LIB_STATIC) $(LDFLAGS) $(MHD_LIBS) $(CORE_LIBS)

$(BUILD)/tests/support/%.o: tests/c/support/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/c -c $< -o $@

# The request parser is the emulator's (emulator/request.c), not libivs's: the tests that
# round-trip through it link its object.
TEST_EMU_OBJS :=
$(BUILD)/tests/test_serialize: TEST_EMU_OBJS := $(BUILD)/emulator/request.o
$(BUILD)/tests/test_serialize: $(BUILD)/emulator/request.o

$(BUILD)/tests/%: tests/c/%.c $(TEST_SUPPORT_OBJS) $(LIB_STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/c -Iemulator -o $@ $< $(TEST_SUPPORT_OBJS) $(TEST_EMU_OBJS) \
	  $(LIB_STATIC) $(LDFLAGS) $(CORE_LIBS)

$(BUILD)/tools/%: tests/tools/%.c $(LIB_STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests/c -o $@ $< $(LIB_STATIC) $(LDFLAGS) $(CORE_LIBS)

# ---- Fuzzing (tests/fuzz) --------------------------------------------------------------------
# Each tests/fuzz/fuzz_NAME.c is a libFuzzer harness over one parser or router, with seeds in
# tests/fuzz/corpus/NAME/. `make test` builds every harness as a plain program (any compiler,
# tests/fuzz/replay.c supplies main) and replays its corpus. `make fuzz` builds them with
# clang's libFuzzer under ASan and UBSan in build-fuzz/ and runs each for FUZZ_TIME seconds
# (FUZZ_JOBS at a time, FUZZ_TARGETS to pick some: "profile sigv4"); a crash is saved to
# tests/fuzz/crashes/ and makes the run fail. See tests/fuzz/README.md.
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES := $(FUZZ_SRCS:tests/fuzz/%.c=%)
FUZZ_REPLAY_BINS := $(FUZZ_NAMES:%=$(BUILD)/fuzz-replay/%)
FUZZ_BINS := $(FUZZ_NAMES:%=$(BUILD)/fuzz/%)
FUZZ_LUA_LIB := $(BUILD)/fuzz-libs/libivs_lua.a
FUZZ_EMU_LIB := $(BUILD)/fuzz-libs/libivs_emu.a
# fuzz_lua_json embeds Lua 5.4 and links the binding built for it.
FUZZ_LUA_LIBS ?= $(shell $(PKG_CONFIG) --libs lua5.4 2>/dev/null || echo -llua5.4)
FUZZ_CPPFLAGS = -Itests/fuzz -Ilua_binding -Iemulator -I$(LUA_INCDIR_lua5.4) $(MHD_CFLAGS)
FUZZ_LINK = $(FUZZ_LUA_LIB) $(FUZZ_EMU_LIB) $(LIB_STATIC) $(LDFLAGS) $(FUZZ_LUA_LIBS) $(MHD_LIBS) \
            $(CORE_LIBS) -ldl
FUZZ_DEPS = tests/fuzz/fuzz.h $(FUZZ_LUA_LIB) $(FUZZ_EMU_LIB) $(LIB_STATIC)
FUZZ_TIME ?= 600
FUZZ_JOBS ?= 1
FUZZ_TARGETS ?=
# Library objects get coverage instrumentation and the sanitizers; only the harness links
# libFuzzer's main.
FUZZ_CFLAGS ?= -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
               -fno-sanitize-recover=undefined

.PHONY: fuzz fuzz-build fuzz-replay

$(FUZZ_LUA_LIB): $(LUA_SRCS:lua_binding/%.c=$(BUILD)/lua_binding/lua5.4/%.o)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_EMU_LIB): $(filter-out $(BUILD)/emulator/main.o,$(EMU_OBJS))
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/fuzz-replay/%: tests/fuzz/%.c tests/fuzz/replay.c $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"$*"' -o $@ $< tests/fuzz/replay.c \
	  $(FUZZ_LINK)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_DEPS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(FUZZ_CPPFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LINK)

fuzz-replay: $(FUZZ_REPLAY_BINS)
fuzz-build: $(FUZZ_BINS)

fuzz:
	@command -v clang >/dev/null 2>&1 || { echo "make fuzz: clang not found (Debian package clang)" >&2; exit 1; }
	$(MAKE) BUILD=build-fuzz CC=clang CFLAGS='$(FUZZ_CFLAGS)' \
	  LDFLAGS='-fsanitize=address,undefined' fuzz-build
	BUILD=build-fuzz FUZZ_TIME=$(FUZZ_TIME) FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run-fuzz $(FUZZ_TARGETS)
# ---- end of fuzzing ---------------------------------------------------------------------------


# Every C file of the tree (library, binding for each Lua, emulator, tests, tools, bench) also
# goes through clang's front end, so a warning only clang sees (-Wformat-nonliteral,
# -Wstring-concatenation...) fails `make tests WERROR=1` as gcc's do. -fsyntax-only keeps it to
# seconds; the stamps and their .d files make it incremental. Skipped when clang is missing.
CLANG ?= clang
CLANG_OK := $(shell command -v $(CLANG) 2>/dev/null)
CLANG_FLAGS = -std=c11 -D_GNU_SOURCE -fsyntax-only -MMD -MP -MF $@.d -MT $@ $(WARN) $(CORE_CPPFLAGS)
CLANG_STAMPS := $(CORE_SRCS:core/src/%.c=$(BUILD)/clang/core/%.ok) \
  $(EMU_SRCS:emulator/%.c=$(BUILD)/clang/emulator/%.ok) \
  $(foreach l,$(LUA_BUILT),$(LUA_SRCS:lua_binding/%.c=$(BUILD)/clang/lua_binding/$(l)/%.ok)) \
  $(TEST_SRCS:tests/c/%.c=$(BUILD)/clang/tests/%.ok) \
  $(TEST_SUPPORT_SRCS:tests/c/%.c=$(BUILD)/clang/tests/%.ok) \
  $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/clang/tools/%.ok) \
  $(patsubst bench/%.c,$(BUILD)/clang/bench/%.ok,$(wildcard bench/*.c)) \
  $(patsubst scripts/examples/%.c,$(BUILD)/clang/examples/%.ok,$(wildcard scripts/examples/*.c))

clang-check: $(CLANG_STAMPS)

$(BUILD)/clang/core/%.ok: core/src/%.c
	@mkdir -p $(dir $@)
	$(CLANG) $(CLANG_FLAGS) $<
	@touch $@
$(BUILD)/clang/emulator/%.ok: emulator/%.c
	@mkdir -p $(dir $@)
	$(CLANG) $(CLANG_FLAGS) $(MHD_CFLAGS) $<
	@touch $@
$(BUILD)/clang/tests/%.ok: tests/c/%.c
	@mkdir -p $(dir $@)
	$(CLANG) $(CLANG_FLAGS) -Itests/c -Iemulator $<
	@touch $@
$(BUILD)/clang/tools/%.ok: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CLANG) $(CLANG_FLAGS) -Itests/c $<
	@touch $@
$(BUILD)/clang/examples/%.ok: scripts/examples/%.c
	@mkdir -p $(dir $@)
	$(CLANG) $(CLANG_FLAGS) $<
	@touch $@
$(BUILD)/clang/bench/%.ok: bench/%.c
	@mkdir -p $(dir $@)
	$(CLANG) $(CLANG_FLAGS) $<
	@touch $@
define CLANG_LUA_RULES
$(BUILD)/clang/lua_binding/$(1)/%.ok: lua_binding/%.c
	@mkdir -p $$(dir $$@)
	$$(CLANG) $$(CLANG_FLAGS) -I$$(LUA_INCDIR_$(1)) $$<
	@touch $$@
endef
$(foreach l,$(LUA_ALL),$(eval $(call CLANG_LUA_RULES,$(l))))

tests: all $(TEST_BINS) $(TOOL_BINS) $(FUZZ_REPLAY_BINS) $(if $(CLANG_OK),clang-check)

# The whole suite: C unit tests, Lua specs, integration specs, lint. The last line is
# "N passed, N failed" (CI reads it). The missing packages are installed first (scripts/
# install-deps), before anything is compiled, so it runs alone and not beside a -j build.
test:
	@scripts/install-deps
	@$(MAKE) --no-print-directory tests
	@scripts/run-tests

check: test

asan:
	$(MAKE) BUILD=build-asan CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined' \
	  LDFLAGS='-fsanitize=address,undefined' tests
	BUILD=build-asan IVS_TEST_SANITIZER=asan scripts/run-tests --c-only --emulator

valgrind: tests
	IVS_TEST_VALGRIND=1 scripts/run-tests --lua-only

# Benchmarks against boto3 and the AWS CLI (not part of `make test`): prints one table and
# writes bench/results/latest.json. BENCH_QUICK=1 scales the counts down for a fast check.
BENCH_TOOLS := $(BUILD)/bench/sign_bench $(BUILD)/bench/spawn $(BUILD)/bench/floor \
               $(BUILD)/bench/malloc_count.so \
               $(if $(wildcard core/src/client.c),$(BUILD)/bench/conc_bench)

$(BUILD)/bench/%: bench/%.c $(LIB_STATIC)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB_STATIC) $(LDFLAGS) $(CORE_LIBS)

# The allocation counter is an LD_PRELOAD shim (bench/malloc_count.c), not a program.
$(BUILD)/bench/malloc_count.so: bench/malloc_count.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -shared -fPIC -o $@ $< -ldl

bench: all $(BENCH_TOOLS)
	BUILD=$(BUILD) lua5.4 bench/run.lua

# A newcomer's first run: scripts/examples/provision.lua against a throwaway ivs-emulator on a
# free loopback port (scripts/demo always stops it, also on failure or Ctrl-C).
demo:
	@scripts/install-deps
	@$(MAKE) --no-print-directory all
	@scripts/demo

# Every service of models/*/ (botocore's files, copied unchanged) into core/src/model_<prefix>.c,
# core/src/services.c and core/src/model_unicode.c; tests/c/test_model.c fails when the
# committed files differ from what this produces.
MODELS := $(sort $(wildcard models/*/*.model.json))
model:
	lua5.4 scripts/gen-model.lua core/src $(MODELS)

partitions:
	lua5.4 scripts/gen-partitions.lua models/partitions.json > core/src/partitions_gen.c.tmp && mv core/src/partitions_gen.c.tmp core/src/partitions_gen.c

# `make env LUA=luajit` gives the paths of LuaJIT's module (the default is Lua 5.4's).
env:
	@echo 'export LUA_PATH="$(CURDIR)/lua_binding/?.lua;$(CURDIR)/lua_binding/?/init.lua;$${LUA_PATH:-;}"'
	@echo 'export LUA_CPATH="$(CURDIR)/$(patsubst %/ivs/core.so,%,$(LUA_MODULE))/?.so;$${LUA_CPATH:-;}"'
	@echo 'export PATH="$(CURDIR)/$(BUILD):$(CURDIR)/scripts:$$PATH"'

# ivs.pc names libdir and includedir relative to ${prefix} when they lie under PREFIX, so that
# `pkg-config --define-variable=prefix=...` relocates a staged (DESTDIR) or moved install.
PC_LIBDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))
PC_INCLUDEDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(PKGCONFIGDIR) \
	  $(DESTDIR)$(LUA_CMODDIR)/ivs $(DESTDIR)$(LUA_LMODDIR)
	install -m 644 $(LIB_STATIC) $(DESTDIR)$(LIBDIR)/libivs.a
	install -m 755 $(LIB_SHARED) $(DESTDIR)$(LIBDIR)/libivs.so.$(IVS_SOVERSION)
	ln -sf libivs.so.$(IVS_SOVERSION) $(DESTDIR)$(LIBDIR)/libivs.so
	install -m 644 core/include/ivs.h $(DESTDIR)$(INCLUDEDIR)/ivs.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(PC_LIBDIR)|g' -e 's|@INCLUDEDIR@|$(PC_INCLUDEDIR)|g' \
	  -e 's|@VERSION@|$(shell sed -n 's/^#define IVS_VERSION "\(.*\)"/\1/p' core/include/ivs.h)|g' \
	  core/ivs.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/ivs.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/ivs.pc
	install -m 755 $(LUA_MODULE) $(DESTDIR)$(LUA_CMODDIR)/ivs/core.so
	install -m 644 lua_binding/ivs.lua $(DESTDIR)$(LUA_LMODDIR)/ivs.lua
	install -d $(DESTDIR)$(LUA_LMODDIR)/ivs
	install -m 644 $(wildcard lua_binding/ivs/*.lua) $(DESTDIR)$(LUA_LMODDIR)/ivs/
	$(if $(EMU_SRCS),install -m 755 $(EMULATOR) $(DESTDIR)$(BINDIR)/ivs-emulator)
	# The CLI runs under the interpreter whose module was installed.
	sed '1s|^#!.*|#!/usr/bin/env $(notdir $(LUA))|' scripts/ivs > $(DESTDIR)$(BINDIR)/ivs
	chmod 755 $(DESTDIR)$(BINDIR)/ivs

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libivs.a $(DESTDIR)$(LIBDIR)/libivs.so $(DESTDIR)$(LIBDIR)/libivs.so.$(IVS_SOVERSION) \
	  $(DESTDIR)$(INCLUDEDIR)/ivs.h $(DESTDIR)$(PKGCONFIGDIR)/ivs.pc $(DESTDIR)$(LUA_CMODDIR)/ivs/core.so \
	  $(DESTDIR)$(LUA_LMODDIR)/ivs.lua $(DESTDIR)$(BINDIR)/ivs-emulator $(DESTDIR)$(BINDIR)/ivs \
	  $(patsubst lua_binding/ivs/%,$(DESTDIR)$(LUA_LMODDIR)/ivs/%,$(wildcard lua_binding/ivs/*.lua))
	rmdir $(DESTDIR)$(LUA_LMODDIR)/ivs 2>/dev/null || true
	rmdir $(DESTDIR)$(LUA_CMODDIR)/ivs 2>/dev/null || true

# The Lua API reference (LDoc) in docs/api/: the module pages (ivs, ivs.chat, ivs.realtime) and
# one operations page per service that scripts/gen-ops-doc.lua writes from the built modules'
# describe(). Each step names its interpreter, never `lua`: LDoc runs under lua5.1 (Debian's
# lua-ldoc and markdown.lua are 5.1 modules; under a Lua without markdown.lua LDoc writes raw
# text and exits 0), and scripts/check-docs.lua fails the target when a page came out
# unformatted.
DOCS_GEN := build/docs

docs: lua
	@command -v ldoc >/dev/null 2>&1 || { echo "make docs: ldoc not found (Debian package lua-ldoc)" >&2; exit 1; }
	LUA_PATH='$(CURDIR)/lua_binding/?.lua;;' LUA_CPATH='$(abspath $(BUILD))/lua/?.so;;' \
	  lua5.4 scripts/gen-ops-doc.lua $(DOCS_GEN)
	rm -rf docs/api
	lua5.1 $$(command -v ldoc) .
	@test -f docs/api/index.html || { echo "make docs: ldoc wrote no docs/api/index.html" >&2; exit 1; }
	lua5.4 scripts/check-docs.lua docs/api

# clang-format --dry-run over the C sources (scripts/check-format lists the files to fix).
format-check:
	scripts/check-format

lint: format-check
	@if [ -f .luacheckrc ]; then luacheck -q lua_binding scripts tests/lua; fi

clean:
	rm -rf build build-asan build-fuzz

# Header dependencies of every object, test, tool and bench program (gcc writes <binary>.d
# beside a program compiled and linked in one step) and of the clang stamps.
-include $(CORE_OBJS:.o=.d) $(LUA_OBJS:.o=.d) $(EMU_OBJS:.o=.d) $(TEST_SUPPORT_OBJS:.o=.d) \
         $(TEST_BINS:=.d) $(TOOL_BINS:=.d) $(BENCH_TOOLS:=.d) $(CLANG_STAMPS:=.d)
